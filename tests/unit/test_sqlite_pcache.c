/* test_sqlite_pcache.c - the collector's SQLite page-cache wrapper
 * (programs/server/sqlite_pcache.c) skips only truncates that drop nothing.
 *
 * Layers, bottom up: SQLite's own cache; a counting layer (truncates that
 * reach it); the wrapper under test; a checking layer on top, which tracks
 * every key the wrapper handed out and, after each truncate(limit), looks up
 * every such key at or above limit: finding one means the wrapper skipped a
 * truncate it must not have.  The workload, on two connections to one WAL
 * database and a temp and an in-memory one, makes B-tree balances (pages
 * swapped through the temporary key past the lock byte), commits, rollbacks,
 * savepoint rollbacks that shrink the database, incremental vacuums, VACUUM,
 * checkpoints and shrink_memory, and compares both connections' view of the
 * data after every step.  It also checks the wrapper is exercised: pages
 * went through the temporary key and truncates were skipped. */
#include "unit.h"

#include "../../programs/server/sqlite_pcache.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- bottom: count the truncates that get through ---- */

static sqlite3_pcache_methods2 base;
static long truncates_below;

static void below_truncate(sqlite3_pcache *p, unsigned limit)
{
	truncates_below++;
	base.xTruncate(p, limit);
}

/* ---- top: check that nothing at or above a truncate's limit is left ---- */

#define KEY_BITS (1u << 22) /* covers the temporary key down to 512-byte pages */

struct shadow {
	sqlite3_pcache *inner;
	uint64_t *seen;     /* keys handed out since their last truncate */
	unsigned max_seen;
};

static sqlite3_pcache_methods2 wrapped;
static long truncates_above, leftovers, temp_rekeys;
static unsigned temp_key;

static void seen_set(struct shadow *s, unsigned k, bool on)
{
	if (k >= KEY_BITS)
		return;
	if (on) {
		s->seen[k >> 6] |= 1ull << (k & 63);
		if (k > s->max_seen)
			s->max_seen = k;
	} else {
		s->seen[k >> 6] &= ~(1ull << (k & 63));
	}
}

static int top_init(void *arg) { (void)arg; return wrapped.xInit ? wrapped.xInit(wrapped.pArg) : SQLITE_OK; }
static void top_shutdown(void *arg) { (void)arg; if (wrapped.xShutdown) wrapped.xShutdown(wrapped.pArg); }

static sqlite3_pcache *top_create(int page_size, int extra, int purgeable)
{
	struct shadow *s = calloc(1, sizeof *s);
	if (!s || !(s->seen = calloc(KEY_BITS / 64, sizeof *s->seen)) ||
	    !(s->inner = wrapped.xCreate(page_size, extra, purgeable))) {
		if (s)
			free(s->seen);
		free(s);
		return NULL;
	}
	return (sqlite3_pcache *)s;
}

static void top_cachesize(sqlite3_pcache *p, int n) { wrapped.xCachesize(((struct shadow *)p)->inner, n); }
static int top_pagecount(sqlite3_pcache *p) { return wrapped.xPagecount(((struct shadow *)p)->inner); }

static sqlite3_pcache_page *top_fetch(sqlite3_pcache *p, unsigned key, int create)
{
	struct shadow *s = (struct shadow *)p;
	sqlite3_pcache_page *pg = wrapped.xFetch(s->inner, key, create);
	if (pg)
		seen_set(s, key, true);
	return pg;
}

static void top_unpin(sqlite3_pcache *p, sqlite3_pcache_page *pg, int discard)
{
	wrapped.xUnpin(((struct shadow *)p)->inner, pg, discard);
}

static void top_rekey(sqlite3_pcache *p, sqlite3_pcache_page *pg, unsigned old_key, unsigned new_key)
{
	struct shadow *s = (struct shadow *)p;
	wrapped.xRekey(s->inner, pg, old_key, new_key);
	seen_set(s, old_key, false);
	seen_set(s, new_key, true);
	if (new_key == temp_key)
		temp_rekeys++;
}

static void top_truncate(sqlite3_pcache *p, unsigned limit)
{
	struct shadow *s = (struct shadow *)p;
	truncates_above++;
	wrapped.xTruncate(s->inner, limit);
	for (unsigned k = limit; k <= s->max_seen && k < KEY_BITS; k++) {
		if (!(s->seen[k >> 6] >> (k & 63) & 1))
			continue;
		sqlite3_pcache_page *pg = wrapped.xFetch(s->inner, k, 0);
		if (pg) {
			if (leftovers++ < 5)
				printf("# page %u left after truncate(%u)\n", k, limit);
			wrapped.xUnpin(s->inner, pg, 1);
		}
		seen_set(s, k, false);
	}
	if (limit <= s->max_seen)
		s->max_seen = limit ? limit - 1 : 0;
}

static void top_destroy(sqlite3_pcache *p)
{
	struct shadow *s = (struct shadow *)p;
	wrapped.xDestroy(s->inner);
	free(s->seen);
	free(s);
}

static void top_shrink(sqlite3_pcache *p) { wrapped.xShrink(((struct shadow *)p)->inner); }

static bool install_layers(void)
{
	if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &base) != SQLITE_OK)
		return false;
	sqlite3_pcache_methods2 below = base;
	below.xTruncate = below_truncate;
	if (sqlite3_config(SQLITE_CONFIG_PCACHE2, &below) != SQLITE_OK)
		return false;
	sqlite_pcache_install();
	if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &wrapped) != SQLITE_OK || wrapped.xTruncate == below_truncate)
		return false; /* the wrapper did not install itself */
	static sqlite3_pcache_methods2 top = {
		1, NULL, top_init, top_shutdown, top_create, top_cachesize, top_pagecount,
		top_fetch, top_unpin, top_rekey, top_truncate, top_destroy, top_shrink,
	};
	return sqlite3_config(SQLITE_CONFIG_PCACHE2, &top) == SQLITE_OK;
}

/* ---- the workload ---- */

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static bool sql_ok = true;

static void run(sqlite3 *db, const char *sql, bool must)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		if (must) {
			printf("# %s: %s\n", sql, msg ? msg : sqlite3_errstr(rc));
			sql_ok = false;
		}
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	sqlite3_free(msg);
}

static uint64_t digest(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	uint64_t h = 1469598103934665603ull;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sql_ok = false;
		return 0;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			for (const unsigned char *t = sqlite3_column_text(st, i); t && *t; t++)
				h = (h ^ *t) * 1099511628211ull;
			h = (h ^ 0xff) * 1099511628211ull;
		}
	if (rc != SQLITE_DONE)
		sql_ok = false;
	sqlite3_finalize(st);
	return h;
}

static bool intact(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool ok = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
		  sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	return ok;
}

/* One database: page size, cache size (PRAGMA cache_size), steps.
 * Returns the number of steps where the two connections disagreed. */
static int workload(const char *path, int page_size, int cache_size, int steps, bool *integrity)
{
	char sql[2048], f[600];
	unlink(path);
	snprintf(f, sizeof f, "%s-wal", path);
	unlink(f);
	snprintf(f, sizeof f, "%s-shm", path);
	unlink(f);
	sqlite3 *a = NULL, *b = NULL;
	sqlite3_open_v2(path, &a, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	snprintf(sql, sizeof sql,
		 "PRAGMA page_size=%d; PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; PRAGMA cache_size=%d;"
		 " PRAGMA temp_store=MEMORY; PRAGMA synchronous=OFF;"
		 " CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB, s TEXT); CREATE INDEX ts ON t(s);"
		 " ATTACH ':memory:' AS m; CREATE TABLE m.mt(k INTEGER PRIMARY KEY, v BLOB);"
		 " CREATE TEMP TABLE tt(k INTEGER PRIMARY KEY, v BLOB);",
		 page_size, cache_size);
	run(a, sql, true);
	sqlite3_open_v2(path, &b, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	snprintf(sql, sizeof sql, "PRAGMA cache_size=%d; PRAGMA synchronous=OFF;", cache_size);
	run(b, sql, true);
	sqlite3_busy_timeout(a, 5000);
	sqlite3_busy_timeout(b, 5000);
	int mismatches = 0;
	for (int step = 0; step < steps; step++) {
		int n = 1 + (int)(rnd() % 300), len = 1 + (int)(rnd() % 2500);
		long long lo = (long long)(rnd() % 200000);
		sqlite3 *w = rnd() % 4 ? a : b;
		switch (rnd() % 12) {
		case 0: case 1: case 2: case 3: /* inserts all over the key space: balances */
			snprintf(sql, sizeof sql,
				 "BEGIN; WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<%d)"
				 " INSERT OR REPLACE INTO t SELECT abs(random()%%400000), randomblob(%d), hex(randomblob(8))"
				 " FROM c; COMMIT;", n, len);
			run(w, sql, true);
			break;
		case 4: /* the database grows, then the transaction is rolled back */
			snprintf(sql, sizeof sql,
				 "BEGIN; WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<%d)"
				 " INSERT INTO t SELECT 1000000+i, randomblob(%d), hex(randomblob(8)) FROM c;"
				 " DELETE FROM t WHERE k BETWEEN %lld AND %lld; ROLLBACK;", 4 * n, len, lo, lo + 20000);
			run(w, sql, true);
			break;
		case 5: /* savepoints rolled back after growing and shrinking */
			snprintf(sql, sizeof sql,
				 "BEGIN; INSERT OR REPLACE INTO t VALUES(%lld+5000000, randomblob(%d), 'x'); SAVEPOINT s1;"
				 " WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<%d)"
				 " INSERT OR REPLACE INTO t SELECT 2000000+abs(random()%%400000), randomblob(%d), 'y' FROM c;"
				 " SAVEPOINT s2; DELETE FROM t WHERE k < %lld; PRAGMA incremental_vacuum; ROLLBACK TO s2;"
				 " DELETE FROM t WHERE k %% 7 = %d; PRAGMA incremental_vacuum(50); ROLLBACK TO s1; %s",
				 lo, len, 3 * n, len, lo, (int)(rnd() % 7), rnd() % 2 ? "COMMIT;" : "ROLLBACK;");
			run(w, sql, true);
			break;
		case 6: /* the database shrinks, committed */
			snprintf(sql, sizeof sql, "DELETE FROM t WHERE k BETWEEN %lld AND %lld; PRAGMA incremental_vacuum;",
				 lo, lo + (long long)(rnd() % 150000));
			run(w, sql, true);
			break;
		case 7: /* ... and rolled back */
			snprintf(sql, sizeof sql, "BEGIN; DELETE FROM t WHERE k > %lld; PRAGMA incremental_vacuum; ROLLBACK;", lo);
			run(w, sql, true);
			break;
		case 8:
			run(w, rnd() % 8 ? "PRAGMA wal_checkpoint(PASSIVE)" : "VACUUM", false);
			break;
		case 9:
			run(w, rnd() % 2 ? "PRAGMA shrink_memory" : "PRAGMA wal_checkpoint(TRUNCATE)", false);
			break;
		case 10: /* temp and in-memory databases, savepoint rolled back */
			snprintf(sql, sizeof sql,
				 "BEGIN; WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<%d)"
				 " INSERT OR REPLACE INTO %s SELECT abs(random()%%100000), randomblob(%d) FROM c; SAVEPOINT q;"
				 " DELETE FROM %s WHERE k > %lld; ROLLBACK TO q; %s", 2 * n, rnd() % 2 ? "tt" : "m.mt", len,
				 "tt", lo % 100000, rnd() % 2 ? "COMMIT;" : "ROLLBACK;");
			run(a, sql, true);
			break;
		default: /* a reader's snapshot held across the other's write */
			run(b, "BEGIN; SELECT count(*) FROM t;", true);
			snprintf(sql, sizeof sql,
				 "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM c WHERE i<%d)"
				 " INSERT OR REPLACE INTO t SELECT abs(random()%%400000), randomblob(%d), 'r' FROM c;", n, len);
			run(a, sql, true);
			digest(b, "SELECT count(*), sum(length(v)) FROM t");
			run(b, "COMMIT", true);
			break;
		}
		const char *all = "SELECT k, hex(substr(v, 1, 8)), length(v), s FROM t ORDER BY k";
		if (digest(a, all) != digest(b, all) ||
		    digest(a, "SELECT s, k FROM t INDEXED BY ts ORDER BY s, k") != digest(a, "SELECT s, k FROM t NOT INDEXED ORDER BY s, k"))
			mismatches++;
	}
	*integrity = intact(a) && intact(b);
	sqlite3_close(b);
	sqlite3_close(a);
	unlink(path);
	snprintf(f, sizeof f, "%s-wal", path);
	unlink(f);
	snprintf(f, sizeof f, "%s-shm", path);
	unlink(f);
	return mismatches;
}

int main(void)
{
	CHECK("the wrapper installs between two layers", install_layers());
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[512];
	snprintf(path, sizeof path, "%s/test_sqlite_pcache.%d.db", dir, (int)getpid());
	static const struct { int page_size, cache_size; } cfg[] = {
		{4096, -65536},  /* the collector's */
		{1024, -256},    /* small pages, a cache far smaller than the data */
	};
	for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
		char name[200];
		bool integrity = false;
		temp_key = 0x40000000u / (unsigned)cfg[i].page_size + 1;
		long rekeys0 = temp_rekeys, above0 = truncates_above, below0 = truncates_below;
		int mismatches = workload(path, cfg[i].page_size, cfg[i].cache_size, 160, &integrity);
		snprintf(name, sizeof name, "page size %d: every statement ran", cfg[i].page_size);
		CHECK(name, sql_ok);
		snprintf(name, sizeof name, "page size %d: both connections always read the same data",
			 cfg[i].page_size);
		CHECK(name, mismatches == 0);
		snprintf(name, sizeof name, "page size %d: PRAGMA integrity_check", cfg[i].page_size);
		CHECK(name, integrity);
		snprintf(name, sizeof name, "page size %d: no page left at or above a truncate's limit",
			 cfg[i].page_size);
		CHECK(name, leftovers == 0);
		printf("# page size %d: %ld rekeys through page %u, %ld truncates, %ld passed to SQLite's cache\n",
		       cfg[i].page_size, temp_rekeys - rekeys0, temp_key, truncates_above - above0,
		       truncates_below - below0);
		snprintf(name, sizeof name, "page size %d: balances swapped pages through the key past the lock byte",
			 cfg[i].page_size);
		CHECK(name, temp_rekeys > rekeys0);
		snprintf(name, sizeof name, "page size %d: truncates that drop nothing were skipped", cfg[i].page_size);
		CHECK(name, truncates_below - below0 < truncates_above - above0);
	}
	UNIT_EXIT();
}
