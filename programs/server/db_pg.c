/* db_pg.c - the PostgreSQL (libpq) driver behind db.h.
 *
 * The collector's SQL uses `?` placeholders; they are rewritten to $1..$n
 * here.  Each connection prepares a statement the first time it sees a SQL
 * text (types inferred by the server, values sent as text) and reuses it,
 * so the ingest path costs one round trip per statement and no parsing.
 * Serialization failures and deadlocks come back as DB_RETRY; a lost
 * connection is reset and also reported as DB_RETRY so the caller re-runs
 * its transaction on the fresh connection. */
#include "db_internal.h"

#include <postgresql/libpq-fe.h>   /* Debian: /usr/include/postgresql */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_CACHE 256

struct pg_conn {
	PGconn *pg;
	struct { char *sql; uint32_t hash; } cache[PG_CACHE];
};

static uint32_t fnv(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void quiet(void *arg, const char *msg) { (void)arg; (void)msg; }

static void *pg_open(const char *url, struct buf *err)
{
	struct pg_conn *c = xcalloc(1, sizeof *c);
	c->pg = PQconnectdb(url);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		buf_printf(err, "cannot connect to PostgreSQL: %s", PQerrorMessage(c->pg));
		while (err->len && (err->data[err->len - 1] == '\n'))
			err->data[--err->len] = 0;
		PQfinish(c->pg);
		free(c);
		return NULL;
	}
	PQsetNoticeProcessor(c->pg, quiet, NULL);
	PGresult *r = PQexec(c->pg, "SET client_min_messages=warning; SET TIME ZONE 'UTC'");
	PQclear(r);
	return c;
}

static void clear_cache(struct pg_conn *c)
{
	for (int i = 0; i < PG_CACHE; i++) {
		free(c->cache[i].sql);
		c->cache[i].sql = NULL;
	}
}

static void pg_close(void *p)
{
	struct pg_conn *c = p;
	if (!c)
		return;
	clear_cache(c);
	PQfinish(c->pg);
	free(c);
}

static const char *pg_name(const struct dbrow *r, int col) { return PQfname((PGresult *)r->impl, col); }
static enum dbt pg_type(const struct dbrow *r, int col)
{
	const PGresult *res = r->impl;
	if (PQgetisnull(res, r->rowno, col))
		return DBV_NULL;
	switch (PQftype(res, col)) {
	case 20: case 21: case 23: case 1700: case 700: case 701: return DBV_INT;
	default: return DBV_TEXT;
	}
}
static long long pg_int(const struct dbrow *r, int col)
{
	const char *v = PQgetvalue((PGresult *)r->impl, r->rowno, col);
	if (!strcmp(v, "t"))
		return 1;
	return strtoll(v, NULL, 10);
}
static const char *pg_text(const struct dbrow *r, int col) { return PQgetvalue((PGresult *)r->impl, r->rowno, col); }

/* `?` -> `$n`, outside of quoted literals */
static void rewrite(struct buf *out, const char *sql)
{
	int n = 0;
	char q = 0;
	for (const char *s = sql; *s; s++) {
		if (q) {
			if (*s == q)
				q = 0;
			buf_addc(out, *s);
		} else if (*s == '\'' || *s == '"') {
			q = *s;
			buf_addc(out, *s);
		} else if (*s == '?') {
			buf_printf(out, "$%d", ++n);
		} else {
			buf_addc(out, *s);
		}
	}
}

static int pg_fail(struct pg_conn *c, PGresult *res, struct buf *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : "";
	if (!msg || !*msg)
		msg = PQerrorMessage(c->pg);
	buf_printf(err, "%s", msg);
	while (err->len && err->data[err->len - 1] == '\n')
		err->data[--err->len] = 0;
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		clear_cache(c);
		PQreset(c->pg);
		return DB_RETRY;
	}
	if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01")))
		return DB_RETRY;
	return DB_ERR;
}

static int pg_exec1(struct pg_conn *c, const char *sql, const struct dbv *v, int np, db_row_fn fn, void *ctx,
		    struct buf *err, char (*nums)[24], const char **vals);

static int pg_exec(void *p, const char *sql, const struct dbv *v, int np, db_row_fn fn, void *ctx, struct buf *err)
{
	struct pg_conn *c = p;
	/* multi-row INSERTs (ingest_tx.c insert_rows) bind up to 16 rows at once */
	char snums[64][24], (*nums)[24] = snums;
	const char *svals[64], **vals = svals;
	if (np > 1024) {
		buf_printf(err, "too many parameters");
		return DB_ERR;
	}
	if (np > 64) {
		nums = xmalloc((size_t)np * sizeof *nums);
		vals = xmalloc((size_t)np * sizeof *vals);
	}
	int rc = pg_exec1(c, sql, v, np, fn, ctx, err, nums, vals);
	if (nums != snums) {
		free(nums);
		free(vals);
	}
	return rc;
}

static int pg_exec1(struct pg_conn *c, const char *sql, const struct dbv *v, int np, db_row_fn fn, void *ctx,
		    struct buf *err, char (*nums)[24], const char **vals)
{
	for (int i = 0; i < np; i++) {
		switch (v[i].t) {
		case DBV_NULL: vals[i] = NULL; break;
		case DBV_INT: snprintf(nums[i], 24, "%lld", v[i].i); vals[i] = nums[i]; break;
		case DBV_TEXT: vals[i] = v[i].s; break;
		}
	}
	/* find or create the prepared statement */
	uint32_t h = fnv(sql);
	unsigned slot = h % PG_CACHE, found = PG_CACHE, empty = PG_CACHE;
	for (unsigned k = 0; k < 8; k++) {
		unsigned i = (slot + k) % PG_CACHE;
		if (c->cache[i].sql && c->cache[i].hash == h && !strcmp(c->cache[i].sql, sql)) {
			found = i;
			break;
		}
		if (!c->cache[i].sql && empty == PG_CACHE)
			empty = i;
	}
	struct buf q = BUF_INIT;
	rewrite(&q, sql);
	PGresult *res;
	char name[16];
	if (found == PG_CACHE && empty != PG_CACHE) {
		snprintf(name, sizeof name, "s%u", empty);
		res = PQprepare(c->pg, name, buf_cstr(&q), np, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			int rc = pg_fail(c, res, err);
			PQclear(res);
			buf_free(&q);
			return rc;
		}
		PQclear(res);
		c->cache[empty].sql = xstrdup(sql);
		c->cache[empty].hash = h;
		found = empty;
	}
	if (found != PG_CACHE) {
		snprintf(name, sizeof name, "s%u", found);
		res = PQexecPrepared(c->pg, name, np, vals, NULL, NULL, 0);
	} else {
		res = PQexecParams(c->pg, buf_cstr(&q), np, NULL, vals, NULL, NULL, 0);
	}
	buf_free(&q);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		int rc = pg_fail(c, res, err);
		PQclear(res);
		return rc;
	}
	if (fn && st == PGRES_TUPLES_OK) {
		struct dbrow row = {res, PQnfields(res), pg_name, pg_type, pg_int, pg_text, 0};
		int n = PQntuples(res);
		for (row.rowno = 0; row.rowno < n; row.rowno++)
			if (fn(ctx, &row))
				break;
	}
	PQclear(res);
	return DB_OK;
}

static int pg_script(void *p, const char *sql, struct buf *err)
{
	struct pg_conn *c = p;
	PGresult *res = PQexec(c->pg, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = DB_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pg_fail(c, res, err);
	PQclear(res);
	return rc;
}

const struct db_driver db_pg_driver = {
	pg_open, pg_close, pg_exec, pg_script, "BEGIN",
};
