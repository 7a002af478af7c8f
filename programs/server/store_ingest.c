/* store_ingest.c - report ingest (store_ingest, see store.h): each
 * report's plan (ingest_plan.c), then its transaction (ingest_tx.c) inside a
 * group commit.
 *
 * Ingest of one report is atomic: its own SAVEPOINT inside a group commit
 * (see ingest_grouped; on PostgreSQL a report that meets a deadlock or
 * serialization failure there is re-run in a transaction of its own,
 * ingest_single); it is acknowledged only after the COMMIT.  Busy /
 * deadlock / serialization failures re-run the transaction.  What needs no
 * database (device identity, counts, findings hash, the aggregate keys of
 * the new findings, archives, attempt fingerprints) is worked out first by
 * the request's own thread (struct plan), so SQLite's one writer does only
 * the SQL; it also keeps the archive ids it has seen (a struct pathmap)
 * instead of looking each finding's up.  The fleet-wide deltas of a batch
 * are summed and applied once (store_merge.c). */
#include "ingest_internal.h"
#include "metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One report in its own transaction (PostgreSQL: concurrent writers, row
 * locks, retries on deadlock / serialization failure). */
static int ingest_single(struct store *st, const struct report *r, const struct plan *pl, long long token_id,
			 long long now, struct ingest_result *res, struct buf *err)
{
	struct dbc *c = db_acquire(st->db);
	int rc = DB_ERR;
	for (int attempt = 0; attempt < 8; attempt++) {
		if ((rc = dbc_begin(c)) == DB_OK) {
			struct deltas dl = {0};
			rc = ingest_tx(c, r, pl, token_id, now, res, &dl, NULL, false);
			if (rc == DB_OK && res->duplicate) {
				ingest_deltas_free(&dl);
				dbc_rollback(c);
				break;
			}
			if (rc == DB_OK)
				rc = store_merge_append(c, &dl, now);
			ingest_deltas_free(&dl);
			if (rc == DB_OK)
				rc = dbc_commit(c);
			if (rc == DB_OK) {
				ingest_audit_note(st, token_id, 1, now);
				break;
			}
			dbc_rollback(c);
		}
		if (rc != DB_RETRY)
			break;
		usleep(1000u << attempt);
	}
	if (rc)
		buf_printf(err, "%s", dbc_error(c));
	db_release(st->db, c);
	return rc ? DB_ERR : DB_OK;
}

/* Group commit.  Every commit costs a WAL flush (and on PostgreSQL its
 * round trips and an agg_batch row), so reports that arrive together are
 * written in one transaction: each in its own SAVEPOINT (a report that
 * fails is rolled back alone), answered only after the COMMIT, and the
 * batch's aggregate deltas are summed once.  A request whose report is
 * still queued and that finds a free writer slot becomes a leader: it takes
 * its own report and the queue's first ones (up to GC_MAX_BATCH, or
 * GC_PG_BATCH), writes them, wakes each request of the batch and hands the
 * lead to the first one still queued.  Each request
 * waits on its own condition variable, so a commit wakes only the requests
 * it answers.  A crash loses only the batches in flight, none of which was
 * acknowledged.
 *
 * SQLite has one writer: one leader at a time.  PostgreSQL takes
 * GC_PG_LEADERS batches at once, which cannot deadlock with each other (or
 * with another server's): the only shared rows a batch writes are device
 * rows, taken in ident order, and archive rows, inserted and committed
 * before the batch in sha256 order (a row of `archives` is content-addressed
 * and never changes, so one whose report then fails is harmless).  A report
 * that still meets a deadlock or serialization failure is rolled back to its
 * savepoint and re-run by itself after the batch (ingest_single).  Batches
 * stay under 64 reports there: past 64 subtransactions PostgreSQL's
 * snapshots overflow to pg_subtrans and every session slows down. */
struct gc_item {
	const struct report *r;
	const struct plan *pl;
	long long token_id, now;
	struct ingest_result *res;
	struct buf *err;
	int rc;
	bool done, solo;
	bool queued;          /* in st->ing->gc_head's list, not yet taken by a leader */
	pthread_cond_t cv;
	struct gc_item *next;
};

#define GC_MAX_BATCH 64
#define GC_PG_BATCH 32
#define GC_PG_LEADERS 2

static int item_ident_cmp(const void *a, const void *b)
{
	const struct gc_item *x = *(struct gc_item *const *)a, *y = *(struct gc_item *const *)b;
	return strcmp(buf_cstr((struct buf *)&x->pl->ident), buf_cstr((struct buf *)&y->pl->ident));
}

/* PostgreSQL: the batch's archives and paths (ingest_paths.c), each
 * sorted, in their own transaction. */
static int pg_insert_keys(struct dbc *c, struct gc_item **v, size_t n, bool paths)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += paths ? v[i]->pl->n_paths : v[i]->pl->n_shas;
	if (!total)
		return DB_OK;
	const char **all = xcalloc(total, sizeof *all);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < (paths ? v[i]->pl->n_paths : v[i]->pl->n_shas); j++)
			all[k++] = paths ? v[i]->pl->paths[j] : v[i]->pl->shas[j];
	qsort(all, total, sizeof *all, ingest_str_cmp);
	size_t u = 0;
	for (size_t i = 0; i < total; i++)
		if (!u || strcmp(all[u - 1], all[i]))
			all[u++] = all[i];
	int rc = paths ? ingest_insert_paths(c, all, u) : ingest_insert_archives(c, all, u);
	free(all);
	return rc;
}

/* PostgreSQL: the batch's archives, then its paths with their ids
 * (plan.path_ids; ingest_paths.c), each in their own transaction. */
static int pg_insert_archives(struct store *st, struct dbc *c, struct gc_item **v, size_t n)
{
	int rc = pg_insert_keys(c, v, n, false);
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i]->pl->n_paths;
	if (rc || !total)
		return rc;
	const char **all = xcalloc(total, sizeof *all);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < v[i]->pl->n_paths; j++)
			all[k++] = v[i]->pl->paths[j];
	qsort(all, total, sizeof *all, ingest_str_cmp);
	size_t u = 0;
	for (size_t i = 0; i < total; i++)
		if (!u || strcmp(all[u - 1], all[i]))
			all[u++] = all[i];
	long long *ids = xcalloc(u, sizeof *ids);
	pthread_mutex_lock(&st->ing->path_mu);
	if (!st->ing->pg_pathmap)
		st->ing->pg_pathmap = ingest_pathmap_new(0);
	pthread_mutex_unlock(&st->ing->path_mu);
	rc = ingest_pg_path_ids(c, st->ing->pg_pathmap, &st->ing->path_mu, all, u, ids);
	for (size_t i = 0; rc == DB_OK && i < n; i++)
		for (size_t j = 0; j < v[i]->pl->n_paths; j++) {
			const char *const *f = bsearch(&v[i]->pl->paths[j], all, u, sizeof *all, ingest_str_cmp);
			v[i]->pl->path_ids[j] = f ? ids[f - all] : 0;
		}
	free(ids);
	free(all);
	return rc;
}

/* One attempt at writing the batch v[0..n) in one transaction.  Returns the
 * batch's status; each item's own is in it->rc (it->solo: re-run alone). */
static int gc_write(struct store *st, struct dbc *c, struct gc_item **v, size_t n, struct arch_new *an)
{
	bool pg = db_kind(st->db) == DB_PG;
	struct deltas all = {0};
	for (size_t i = 0; i < n; i++) {
		v[i]->rc = DB_ERR;
		v[i]->solo = false;
		buf_reset(v[i]->err);
	}
	int rc = pg ? pg_insert_archives(st, c, v, n) : DB_OK;
	if (rc)
		return rc;
	if ((rc = dbc_begin(c)))
		return rc;
	for (size_t i = 0; i < n && rc == DB_OK; i++) {
		struct gc_item *it = v[i];
		struct deltas dl = {0};
		size_t mark = an->n, pmark = an->pn;
		it->rc = dbc_exec(c, "SAVEPOINT report", NULL, 0, NULL, NULL);
		if (it->rc == DB_OK)
			it->rc = ingest_tx(c, it->r, it->pl, it->token_id, it->now, it->res, &dl, pg ? NULL : an, pg);
		if (it->rc == DB_OK && !it->res->duplicate)
			it->rc = dbc_exec(c, "RELEASE report", NULL, 0, NULL, NULL);
		if (it->rc == DB_OK && !it->res->duplicate) {
			/* this report is in: its fleet-wide deltas join the batch's */
			for (size_t k = 0; k < dl.agg.n; k++)
				ingest_akeys_copy(&all.agg, &dl.agg.v[k]);
			for (int k = 0; k < 9; k++)
				all.trend[k] += dl.trend[k];
		} else {
			if (it->rc)
				buf_printf(it->err, "%s", dbc_error(c));
			int rb = dbc_exec(c, "ROLLBACK TO report", NULL, 0, NULL, NULL);
			if (!rb)
				rb = dbc_exec(c, "RELEASE report", NULL, 0, NULL, NULL);
			if (rb)   /* the transaction itself is gone: re-run the batch if either failure says so */
				rc = it->rc == DB_RETRY || rb == DB_RETRY ? DB_RETRY : DB_ERR;
			else if (pg && it->rc == DB_RETRY)
				it->solo = true;
			an->n = mark;   /* archives it added are gone again */
			ingest_paths_rollback(an, pmark);
		}
		ingest_deltas_free(&dl);
	}
	if (rc == DB_OK)
		rc = pg ? store_merge_append(c, &all, v[0]->now) : store_merge_apply(c, &all, v[0]->now);
	ingest_deltas_free(&all);
	if (rc == DB_OK)
		rc = dbc_commit(c);
	if (rc)
		dbc_rollback(c);
	return rc;
}

static void gc_run(struct store *st, struct gc_item **v, size_t n)
{
	bool pg = db_kind(st->db) == DB_PG;
	if (pg)
		qsort(v, n, sizeof *v, item_ident_cmp);   /* device rows in one order */
	struct dbc *c = db_acquire_writer(st->db);
	if (!pg && !st->ing->archmap)
		st->ing->archmap = ingest_pathmap_new(1u << 17);
	if (!pg && !st->ing->pathmap)
		st->ing->pathmap = ingest_pathmap_new(0);
	struct arch_new an = {st->ing->archmap, NULL, 0, 0, st->ing->pathmap, NULL, 0, 0};
	int rc = DB_ERR;
	for (int attempt = 0; attempt < 8; attempt++) {
		an.n = 0;
		ingest_paths_commit(&an, false);
		rc = gc_write(st, c, v, n, &an);
		if (rc != DB_RETRY)
			break;
		usleep(1000u << attempt);
	}
	if (rc == DB_OK)
		for (size_t i = 0; i < an.n; i++)
			ingest_pathmap_add(st->ing->archmap, an.v[i].sha, an.v[i].id);
	ingest_paths_commit(&an, rc == DB_OK);
	free(an.pv);
	for (size_t i = 0; rc == DB_OK && i < n; i++)
		if (v[i]->rc == DB_OK && !v[i]->res->duplicate)
			ingest_audit_note(st, v[i]->token_id, 1, v[i]->now);
	free(an.v);
	for (size_t i = 0; i < n; i++) {
		if (rc && !v[i]->rc) {
			v[i]->rc = rc;
			buf_printf(v[i]->err, "%s", dbc_error(c));
		}
	}
	db_release(st->db, c);
	/* SQLite: the audit's ingest counts, at most once a second (PostgreSQL:
	 * the merger writes them) */
	if (!pg)
		ingest_audit_flush(st, 1);
	for (size_t i = 0; i < n; i++)
		v[i]->solo &= rc == DB_OK;   /* re-run alone only what a committed batch left out */
}

/* Mark v[0..n) done and wake them.  Items live on their own threads'
 * stacks: once one is done and the lock released it may be gone, so the
 * leader splits its batch into arrays before the first wake and never
 * touches a woken item again. */
static void gc_wake(struct store *st, struct gc_item **v, size_t n, const struct gc_item *me)
{
	pthread_mutex_lock(&st->ing->gc_mu);
	for (size_t i = 0; i < n; i++) {
		v[i]->done = true;
		if (v[i] != me)
			pthread_cond_signal(&v[i]->cv);
	}
	pthread_mutex_unlock(&st->ing->gc_mu);
}

static int ingest_grouped(struct store *st, const struct report *r, const struct plan *pl, long long token_id,
			  long long now, struct ingest_result *res, struct buf *err)
{
	bool pg = db_kind(st->db) == DB_PG;
	int max_batch = pg ? GC_PG_BATCH : GC_MAX_BATCH, max_leaders = pg ? GC_PG_LEADERS : 1;
	struct gc_item me = {r, pl, token_id, now, res, err, DB_ERR, false, false, true, PTHREAD_COND_INITIALIZER,
			     NULL};
	pthread_mutex_lock(&st->ing->gc_mu);
	*st->ing->gc_tail = &me;
	st->ing->gc_tail = &me.next;
	metrics_queue_add(1);
	while (!me.done) {
		/* lead only while this report is still queued: a leader's own report
		 * is always in its batch, so a wake-up sent to the queue's head never
		 * reaches a thread busy leading */
		if (!me.queued || st->ing->gc_leaders >= max_leaders) {
			pthread_cond_wait(&me.cv, &st->ing->gc_mu);
			continue;
		}
		st->ing->gc_leaders++;
		struct gc_item **pp = &st->ing->gc_head;
		while (*pp != &me)
			pp = &(*pp)->next;
		*pp = me.next;
		if (st->ing->gc_tail == &me.next)
			st->ing->gc_tail = pp;
		/* this report, then up to max_batch - 1 from the head */
		struct gc_item *v[GC_MAX_BATCH] = {&me};
		size_t n = 1;
		while (st->ing->gc_head && n < (size_t)max_batch) {
			v[n++] = st->ing->gc_head;
			st->ing->gc_head = st->ing->gc_head->next;
		}
		if (!st->ing->gc_head)
			st->ing->gc_tail = &st->ing->gc_head;
		for (size_t i = 0; i < n; i++)
			v[i]->queued = false;
		metrics_queue_add(-(int)n);
		if (st->ing->gc_head && st->ing->gc_leaders < max_leaders)
			pthread_cond_signal(&st->ing->gc_head->cv);   /* another writer slot is free */
		pthread_mutex_unlock(&st->ing->gc_mu);
		metrics_writers_add(1);
		uint64_t t0 = metrics_now_ns();
		gc_run(st, v, n);
		metrics_batch((unsigned)n, metrics_now_ns() - t0);
		metrics_writers_add(-1);
		/* the committed reports are answered first; a report the batch left
		 * out (a deadlock) then runs alone */
		struct gc_item *done[GC_MAX_BATCH], *solo[GC_MAX_BATCH];
		size_t nd = 0, ns = 0;
		for (size_t i = 0; i < n; i++) {
			if (v[i]->solo)
				solo[ns++] = v[i];
			else
				done[nd++] = v[i];
		}
		gc_wake(st, done, nd, &me);
		for (size_t i = 0; i < ns; i++) {
			buf_reset(solo[i]->err);
			solo[i]->rc = ingest_single(st, solo[i]->r, solo[i]->pl, solo[i]->token_id, solo[i]->now,
						    solo[i]->res, solo[i]->err);
		}
		gc_wake(st, solo, ns, &me);
		pthread_mutex_lock(&st->ing->gc_mu);
		st->ing->gc_leaders--;
		if (st->ing->gc_head)
			pthread_cond_signal(&st->ing->gc_head->cv);   /* the next leader */
	}
	pthread_mutex_unlock(&st->ing->gc_mu);
	pthread_cond_destroy(&me.cv);
	return me.rc ? DB_ERR : DB_OK;
}

int store_ingest(struct store *st, const struct report *r, long long token_id, long long now,
		 struct ingest_result *res, struct buf *err)
{
	struct plan pl;
	ingest_plan_make(&pl, r);
	memset(res, 0, sizeof *res);
	int rc = ingest_grouped(st, r, &pl, token_id, now, res, err);
	ingest_plan_free(&pl);
	return rc;
}

void store_ingest_open(struct store *st)
{
	st->ing = xcalloc(1, sizeof *st->ing);
	pthread_mutex_init(&st->ing->audit_mu, NULL);
	pthread_mutex_init(&st->ing->gc_mu, NULL);
	pthread_mutex_init(&st->ing->path_mu, NULL);
	pthread_cond_init(&st->ing->merge_cv, NULL);
	st->ing->gc_tail = &st->ing->gc_head;
}

void store_ingest_close(struct store *st)
{
	ingest_pathmap_free(st->ing->archmap);
	st->ing->archmap = NULL;
	ingest_pathmap_free(st->ing->pathmap);
	st->ing->pathmap = NULL;
	ingest_pathmap_free(st->ing->pg_pathmap);
	st->ing->pg_pathmap = NULL;
	pthread_mutex_destroy(&st->ing->path_mu);
	pthread_cond_destroy(&st->ing->merge_cv);
	pthread_mutex_destroy(&st->ing->gc_mu);
	pthread_mutex_destroy(&st->ing->audit_mu);
	free(st->ing->audit_v);
	free(st->ing);
	st->ing = NULL;
}
