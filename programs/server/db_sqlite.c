/* db_sqlite.c - the SQLite driver behind db.h.
 *
 * One sqlite3 handle per pooled connection, in WAL mode so that dashboard
 * reads never wait for an ingest.  synchronous=NORMAL: in WAL mode a commit
 * survives the server process being killed (the data is in the OS), only an
 * OS crash or power loss can lose the last transactions.
 *
 * Prepared statements are cached per connection, keyed by the SQL text, so
 * the hot ingest statements are parsed once.  SQLite's page cache is
 * wrapped (sqlite_pcache.c) before the first open. */
#include "db_internal.h"
#include "sqlite_pcache.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STMT_CACHE 256

struct sq_conn {
	sqlite3 *db;
	struct { char *sql; uint32_t hash; sqlite3_stmt *st; } cache[STMT_CACHE];
};

static uint32_t fnv(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void *sq_open(const char *url, struct buf *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_pcache_install);
	struct sq_conn *c = xcalloc(1, sizeof *c);
	int rc = sqlite3_open_v2(url, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		buf_printf(err, "cannot open SQLite database %s: %s", url, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->db, 15000);
	char *msg = NULL;
	rc = sqlite3_exec(c->db,
		"PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;"
		"PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;",
		NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		buf_printf(err, "cannot set up SQLite database %s: %s", url, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	return c;
}

static void sq_close(void *p)
{
	struct sq_conn *c = p;
	if (!c)
		return;
	for (int i = 0; i < STMT_CACHE; i++) {
		if (c->cache[i].st)
			sqlite3_finalize(c->cache[i].st);
		free(c->cache[i].sql);
	}
	sqlite3_close(c->db);
	free(c);
}

static const char *sq_name(const struct dbrow *r, int col) { return sqlite3_column_name((sqlite3_stmt *)r->impl, col); }
static enum dbt sq_type(const struct dbrow *r, int col)
{
	switch (sqlite3_column_type((sqlite3_stmt *)r->impl, col)) {
	case SQLITE_NULL: return DBV_NULL;
	case SQLITE_INTEGER: return DBV_INT;
	case SQLITE_FLOAT: return DBV_INT;
	default: return DBV_TEXT;
	}
}
static long long sq_int(const struct dbrow *r, int col) { return sqlite3_column_int64((sqlite3_stmt *)r->impl, col); }
static const char *sq_text(const struct dbrow *r, int col)
{
	const unsigned char *t = sqlite3_column_text((sqlite3_stmt *)r->impl, col);
	return t ? (const char *)t : "";
}

static int sq_status(sqlite3 *db, int rc, struct buf *err)
{
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return buf_printf(err, "database busy"), DB_RETRY;
	buf_printf(err, "%s", sqlite3_errmsg(db));
	return DB_ERR;
}

static sqlite3_stmt *sq_prepare(struct sq_conn *c, const char *sql, bool *cached, struct buf *err, int *rc_out)
{
	uint32_t h = fnv(sql);
	unsigned slot = h % STMT_CACHE;
	for (unsigned k = 0; k < 8; k++) {
		unsigned i = (slot + k) % STMT_CACHE;
		if (c->cache[i].st && c->cache[i].hash == h && !strcmp(c->cache[i].sql, sql)) {
			*cached = true;
			return c->cache[i].st;
		}
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		*rc_out = sq_status(c->db, rc, err);
		return NULL;
	}
	*cached = false;
	for (unsigned k = 0; k < 8; k++) {
		unsigned i = (slot + k) % STMT_CACHE;
		if (!c->cache[i].st) {
			c->cache[i].st = st;
			c->cache[i].hash = h;
			c->cache[i].sql = xstrdup(sql);
			*cached = true;
			break;
		}
	}
	return st;
}

static int sq_exec(void *p, const char *sql, const struct dbv *v, int np, db_row_fn fn, void *ctx, struct buf *err)
{
	struct sq_conn *c = p;
	bool cached = false;
	int rc = DB_ERR;
	sqlite3_stmt *st = sq_prepare(c, sql, &cached, err, &rc);
	if (!st)
		return rc;
	for (int i = 0; i < np; i++) {
		switch (v[i].t) {
		case DBV_NULL: sqlite3_bind_null(st, i + 1); break;
		case DBV_INT: sqlite3_bind_int64(st, i + 1, v[i].i); break;
		case DBV_TEXT: sqlite3_bind_text(st, i + 1, v[i].s, -1, SQLITE_STATIC); break;
		}
	}
	struct dbrow row = {st, sqlite3_column_count(st), sq_name, sq_type, sq_int, sq_text, 0};
	int result = DB_OK;
	for (;;) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			result = sq_status(c->db, s, err);
			break;
		}
		if (fn && fn(ctx, &row))
			break;
		row.rowno++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (!cached)
		sqlite3_finalize(st);
	return result;
}

static int sq_script(void *p, const char *sql, struct buf *err)
{
	struct sq_conn *c = p;
	char *msg = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		buf_printf(err, "%s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return rc == SQLITE_BUSY ? DB_RETRY : DB_ERR;
	}
	return DB_OK;
}

const struct db_driver db_sqlite_driver = {
	sq_open, sq_close, sq_exec, sq_script, "BEGIN IMMEDIATE",
};
