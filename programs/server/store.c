/* store.c - the store's life cycle, plain queries and accounts (see
 * store.h).  The schema is in store_schema.c, report ingest in
 * store_ingest.c. */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

struct store *store_open(const char *url, int pool_size, struct buf *err)
{
	struct db *db = db_open(url, pool_size, err);
	if (!db)
		return NULL;
	struct store *st = xcalloc(1, sizeof *st);
	st->db = db;
	store_ingest_open(st);
	if (store_schema_migrate(st, err) || cve_info_load(st, err)) {
		store_close(st);
		return NULL;
	}
	return st;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->rules_close)   /* first: it stops a re-judging that uses the database */
		st->rules_close(st);
	store_merge_stop(st);
	ingest_audit_flush(st, 0);
	db_close(st->db);
	store_ingest_close(st);
	if (st->rules_close)
		st->rules_close(st);
	free(st);
}

int store_query(struct store *st, const char *sql, const struct dbv *p, int np, db_row_fn fn, void *ctx,
		struct buf *err)
{
	/* PostgreSQL: pending aggregate deltas first (see store_merge) */
	if (db_kind(st->db) == DB_PG && (strstr(sql, "FROM agg") || strstr(sql, "FROM trend")) &&
	    store_merge(st, err))
		return DB_ERR;
	struct dbc *c = db_acquire(st->db);
	int rc;
	for (int attempt = 0;; attempt++) {
		rc = dbc_exec(c, sql, p, np, fn, ctx);
		if (rc != DB_RETRY || attempt >= 3)
			break;
	}
	if (rc)
		buf_printf(err, "%s", dbc_error(c));
	db_release(st->db, c);
	return rc ? DB_ERR : DB_OK;
}

int store_query_planned(struct store *st, const char *plan, const char *sql, const struct dbv *p, int np,
			db_row_fn fn, void *ctx, struct buf *err)
{
	if (!plan || db_kind(st->db) != DB_PG)
		return store_query(st, sql, p, np, fn, ctx, err);
	struct dbc *c = db_acquire(st->db);
	struct buf s = BUF_INIT;
	buf_printf(&s, "BEGIN READ ONLY; %s", plan);
	int rc = dbc_script(c, buf_cstr(&s));
	if (rc == DB_OK)
		rc = dbc_exec(c, sql, p, np, fn, ctx);
	if (rc == DB_OK)
		rc = dbc_script(c, "COMMIT");
	if (rc) {
		buf_printf(err, "%s", dbc_error(c));
		dbc_rollback(c);
	}
	buf_free(&s);
	db_release(st->db, c);
	return rc ? DB_ERR : DB_OK;
}

int store_tx(struct store *st, store_tx_fn fn, void *ctx, struct buf *err)
{
	struct dbc *c = db_acquire_writer(st->db);
	int rc = DB_ERR;
	for (int attempt = 0; attempt < 8; attempt++) {
		size_t mark = err->len;
		rc = dbc_begin(c);
		if (rc == DB_OK)
			rc = fn(c, ctx, err);
		if (rc == DB_OK)
			rc = dbc_commit(c);
		if (rc == DB_OK)
			break;
		dbc_rollback(c);
		if (rc != DB_RETRY)
			break;
		err->len = mark;
		if (err->data)
			err->data[mark] = 0;
		usleep(1000u << attempt);
	}
	if (rc && !err->len)
		buf_printf(err, "%s", dbc_error(c));
	db_release(st->db, c);
	return rc ? DB_ERR : DB_OK;
}

/* ---- accounts ---- */

static int simple(struct store *st, const char *sql, const struct dbv *p, int np, struct buf *err)
{
	return store_query(st, sql, p, np, NULL, NULL, err);
}

struct user_row { long long id; struct buf *hash; bool found; };
static int user_cb(void *ctx, const struct dbrow *r)
{
	struct user_row *u = ctx;
	u->id = dbrow_int(r, 0);
	buf_reset(u->hash);
	buf_adds(u->hash, dbrow_text(r, 1));
	u->found = true;
	return 1;
}

int store_user_get(struct store *st, const char *name, long long *id, struct buf *pwhash, struct buf *err)
{
	struct dbv p[1] = {dv_text(name)};
	struct user_row u = {0, pwhash, false};
	if (store_query(st, "SELECT id, pwhash FROM users WHERE name = ?", p, 1, user_cb, &u, err))
		return -1;
	*id = u.id;
	return u.found;
}

struct tok_row { long long id, last_used; char *role; bool found; };
static int tok_cb(void *ctx, const struct dbrow *r)
{
	struct tok_row *t = ctx;
	t->id = dbrow_int(r, 0);
	snprintf(t->role, 16, "%s", dbrow_text(r, 1));
	t->last_used = dbrow_int(r, 2);
	t->found = true;
	return 1;
}

/* The token's last use is written at most once a minute (a lookup happens
 * when the token cache, http_limit.c, has not seen it for 10 s): `token
 * list` shows it to the minute, and ingest pays one small UPDATE per token
 * per minute at most. */
#define LAST_USED_STEP 60

int store_token_lookup(struct store *st, const char *hash_hex, long long *id, char role[16], struct buf *err)
{
	struct dbv p[1] = {dv_text(hash_hex)};
	struct tok_row t = {0, 0, role, false};
	role[0] = 0;
	if (store_query(st, "SELECT id, role, last_used FROM tokens WHERE hash = ? AND revoked = 0", p, 1, tok_cb, &t,
			err))
		return -1;
	*id = t.id;
	long long now = (long long)time(NULL);
	if (t.found && t.last_used <= now - LAST_USED_STEP) {
		struct dbv u[3] = {dv_int(now), dv_int(t.id), dv_int(now - LAST_USED_STEP)};
		struct buf ignored = BUF_INIT;
		/* best effort: a busy database does not refuse the request */
		store_query(st, "UPDATE tokens SET last_used = ? WHERE id = ? AND last_used <= ?", u, 3, NULL, NULL,
			    &ignored);
		buf_free(&ignored);
	}
	return t.found;
}

int store_session_add(struct store *st, const char *hash_hex, long long user_id, const char *csrf,
		      long long now, long long expires, struct buf *err)
{
	struct dbv gc[1] = {dv_int(now)};
	simple(st, "DELETE FROM sessions WHERE expires < ?", gc, 1, err);
	buf_reset(err);
	struct dbv p[5] = {dv_text(hash_hex), dv_int(user_id), dv_text(csrf), dv_int(now), dv_int(expires)};
	return simple(st, "INSERT INTO sessions(hash, user_id, csrf, created, expires) VALUES(?, ?, ?, ?, ?)", p, 5, err);
}

struct sess_row { long long uid; struct buf *user, *csrf; char *role; bool found; };
static int sess_cb(void *ctx, const struct dbrow *r)
{
	struct sess_row *s = ctx;
	s->uid = dbrow_int(r, 0);
	buf_reset(s->user);
	buf_adds(s->user, dbrow_text(r, 1));
	buf_reset(s->csrf);
	buf_adds(s->csrf, dbrow_text(r, 2));
	snprintf(s->role, 16, "%s", dbrow_text(r, 3));
	s->found = true;
	return 1;
}

int store_session_get(struct store *st, const char *hash_hex, long long now, long long *user_id,
		      struct buf *user, struct buf *csrf, char role[16], struct buf *err)
{
	struct dbv p[2] = {dv_text(hash_hex), dv_int(now)};
	struct sess_row s = {0, user, csrf, role, false};
	role[0] = 0;
	if (store_query(st, "SELECT s.user_id, u.name, s.csrf, u.role FROM sessions s JOIN users u ON u.id = s.user_id"
			    " WHERE s.hash = ? AND s.expires >= ?", p, 2, sess_cb, &s, err))
		return -1;
	*user_id = s.uid;
	return s.found;
}

int store_session_del(struct store *st, const char *hash_hex, struct buf *err)
{
	struct dbv p[1] = {dv_text(hash_hex)};
	return simple(st, "DELETE FROM sessions WHERE hash = ?", p, 1, err);
}
