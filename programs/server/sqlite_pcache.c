/* sqlite_pcache.c - SQLite's own page cache, wrapped to skip a truncate that
 * drops nothing (see sqlite_pcache.h).
 *
 * Why: a B-tree balance swaps two pages through a temporary page number just
 * past the 1 GiB lock byte (PENDING_BYTE / page size + 1).  That leaves the
 * cache's highest key there, so the truncate-to-database-size that ends every
 * COMMIT walks the whole hash table: about 2 ms per commit on the collector
 * writer's 64 MiB cache, 5-10% of its CPU under ingest, all of it in the one
 * writer.  How: every method is passed through to the cache SQLite had; the
 * wrapper keeps an upper bound on the keys present (max_key: every key that
 * was fetched or rekeyed to, lowered only by a real truncate) with the
 * temporary key tracked apart (temp_present: set when a page is fetched or
 * rekeyed to it, cleared when it is rekeyed away or truncated), and skips a
 * truncate only when neither says a key at or above its limit may be there.
 * The inner cache may drop pages on its own (recycling, shrink); that only
 * makes the bound loose, never wrong.  (SQLite rekeys the temporary page back
 * within the balance, so temp_present is a safety net no workload has been
 * seen to need.)  tests/unit/test_sqlite_pcache.c checks
 * after every truncate that nothing at or above the limit is left. */
#include "sqlite_pcache.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

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

void sqlite_pcache_install(void)
{
	if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &pc_inner) != SQLITE_OK || !pc_inner.xCreate)
		return;
	static sqlite3_pcache_methods2 wrap = {
		1, NULL, pc_init, pc_shutdown, pc_create, pc_cachesize, pc_pagecount,
		pc_fetch, pc_unpin, pc_rekey, pc_truncate, pc_destroy, pc_shrink,
	};
	sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrap);
}
