/* store_sqlite.c - the SQLite driver behind db.h.
 *
 * One sqlite3 handle per pooled connection, in WAL mode so that dashboard
 * reads never wait for an ingest.  synchronous=NORMAL: in WAL mode a commit
 * survives the server process being killed (the data is in the OS), only an
 * OS crash or power loss can lose the last transactions.
 *
 * Prepared statements are cached per connection, keyed by the SQL text, so
 * the hot ingest statements are parsed once.
 *
 * SQLite's own page cache is wrapped (SQLITE_CONFIG_PCACHE2) for one reason:
 * a B-tree balance swaps two pages through a temporary page number just past
 * the 1 GiB lock byte (PENDING_BYTE / page size + 1), which leaves the cache's
 * highest key there, so every COMMIT's truncate-to-database-size then walks
 * the whole hash table: about 2 ms per commit on the writer's 64 MiB cache,
 * 5-10% of the collector's CPU under ingest, all of it in the one writer.
 * The wrapper keeps its own bound on the keys present (the temporary one
 * tracked apart) and skips a truncate that provably drops nothing. */
#include "db.h"

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

/* ---- the page cache wrapper ---- */

#define PENDING_BYTE_OFFSET 0x40000000u /* SQLite's default lock-byte offset */

struct pc_wrap {
	sqlite3_pcache *inner;
	unsigned max_key;   /* >= every key present but temp_key */
	unsigned temp_key;  /* the balance's swap key for this page size */
	bool temp_present;  /* temp_key may be present */
};

static sqlite3_pcache_methods2 pc_inner;

static void pc_note(struct pc_wrap *w, unsigned key)
{
	if (key == w->temp_key)
		w->temp_present = true;
	else if (key > w->max_key)
		w->max_key = key;
}

static int pc_init(void *arg) { (void)arg; return pc_inner.xInit ? pc_inner.xInit(pc_inner.pArg) : SQLITE_OK; }
static void pc_shutdown(void *arg)
{
	(void)arg;
	if (pc_inner.xShutdown)
		pc_inner.xShutdown(pc_inner.pArg);
}

static sqlite3_pcache *pc_create(int page_size, int extra, int purgeable)
{
	struct pc_wrap *w = sqlite3_malloc(sizeof *w);
	if (!w)
		return NULL;
	if (!(w->inner = pc_inner.xCreate(page_size, extra, purgeable))) {
		sqlite3_free(w);
		return NULL;
	}
	w->max_key = 0;
	w->temp_key = page_size > 0 ? PENDING_BYTE_OFFSET / (unsigned)page_size + 1 : 0;
	w->temp_present = false;
	return (sqlite3_pcache *)w;
}

static void pc_cachesize(sqlite3_pcache *p, int n) { pc_inner.xCachesize(((struct pc_wrap *)p)->inner, n); }
static int pc_pagecount(sqlite3_pcache *p) { return pc_inner.xPagecount(((struct pc_wrap *)p)->inner); }

static sqlite3_pcache_page *pc_fetch(sqlite3_pcache *p, unsigned key, int create)
{
	struct pc_wrap *w = (struct pc_wrap *)p;
	sqlite3_pcache_page *pg = pc_inner.xFetch(w->inner, key, create);
	if (pg)
		pc_note(w, key);
	return pg;
}

static void pc_unpin(sqlite3_pcache *p, sqlite3_pcache_page *pg, int discard)
{
	pc_inner.xUnpin(((struct pc_wrap *)p)->inner, pg, discard);
}

static void pc_rekey(sqlite3_pcache *p, sqlite3_pcache_page *pg, unsigned old_key, unsigned new_key)
{
	struct pc_wrap *w = (struct pc_wrap *)p;
	pc_inner.xRekey(w->inner, pg, old_key, new_key);
	if (old_key == w->temp_key)
		w->temp_present = false;
	pc_note(w, new_key);
}

/* Drops the pages whose key is >= limit (limit >= 1). */
static void pc_truncate(sqlite3_pcache *p, unsigned limit)
{
	struct pc_wrap *w = (struct pc_wrap *)p;
	if (w->max_key < limit && !(w->temp_present && w->temp_key >= limit))
		return; /* nothing at or above limit: nothing to drop */
	pc_inner.xTruncate(w->inner, limit);
	if (w->max_key >= limit)
		w->max_key = limit ? limit - 1 : 0;
	if (w->temp_key >= limit)
		w->temp_present = false;
}

static void pc_destroy(sqlite3_pcache *p)
{
	struct pc_wrap *w = (struct pc_wrap *)p;
	pc_inner.xDestroy(w->inner);
	sqlite3_free(w);
}

static void pc_shrink(sqlite3_pcache *p) { pc_inner.xShrink(((struct pc_wrap *)p)->inner); }

/* Before SQLite initialises (the first open); if that fails, SQLite keeps
 * its own cache unwrapped. */
static void pc_install(void)
{
	if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &pc_inner) != SQLITE_OK || !pc_inner.xCreate)
		return;
	static sqlite3_pcache_methods2 wrap = {
		1, NULL, pc_init, pc_shutdown, pc_create, pc_cachesize, pc_pagecount,
		pc_fetch, pc_unpin, pc_rekey, pc_truncate, pc_destroy, pc_shrink,
	};
	sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrap);
}

/* ---- connections ---- */

static void *sq_open(const char *url, struct buf *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, pc_install);
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
