/* store_merge.c - the fleet-wide deltas of ingested reports (per CVE /
 * version / archive / callback host aggregates, today's trend row) into
 * agg and trend: on SQLite applied in the batch's own transaction
 * (store_merge_apply), on PostgreSQL appended (store_merge_append) and
 * merged by store_merge(). */
#include "ingest_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* SQLite: upsert the summed entries in key order, then today's trend row
 * (PostgreSQL: so does the merge). */
int store_merge_apply(struct dbc *c, struct deltas *dl, long long now)
{
	ingest_deltas_sum(dl);
	for (size_t i = 0; i < dl->agg.n; i++) {
		const struct akey *k = &dl->agg.v[i];
		struct dbv p[7] = {dv_text(k->kind), dv_text(k->key), dv_text(k->sub), dv_text(k->status),
				   dv_int(k->dfiles), dv_int(k->ddev), dv_text(k->label)};
		int rc = dbc_exec(c, "INSERT INTO agg(kind, akey, sub, status, files, devices, label)"
				     " VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind, akey, sub, status) DO UPDATE"
				     " SET files = agg.files + excluded.files, devices = agg.devices + excluded.devices",
				  p, 7, NULL, NULL);
		if (rc)
			return rc;
	}
	bool any = false;
	for (int k = 0; k < 9; k++)
		any |= dl->trend[k] != 0;
	if (!any)
		return DB_OK;
	char day[11];
	ingest_utc_day(now, day);
	struct dbv dp[1] = {dv_text(day)};
	int rc;
	if ((rc = dbc_exec(c, "INSERT INTO trend(day, devices, devices_vulnerable, exposed, attacked, vulnerable,"
			      " mitigated, safe, restart, attempts) SELECT ?, devices, devices_vulnerable, exposed,"
			      " attacked, vulnerable, mitigated, safe, restart, attempts FROM trend WHERE 1 = 1"
			      " ORDER BY day DESC LIMIT 1 ON CONFLICT(day) DO NOTHING", dp, 1, NULL, NULL)) ||
	    (rc = dbc_exec(c, "INSERT INTO trend(day) VALUES(?) ON CONFLICT(day) DO NOTHING", dp, 1, NULL, NULL)))
		return rc;
	struct dbv tp[10];
	for (int k = 0; k < 9; k++)
		tp[k] = dv_int(dl->trend[k]);
	tp[9] = dv_text(day);
	return dbc_exec(c, "UPDATE trend SET devices = devices + ?, devices_vulnerable = devices_vulnerable + ?,"
			   " exposed = exposed + ?, attacked = attacked + ?, vulnerable = vulnerable + ?,"
			   " mitigated = mitigated + ?, safe = safe + ?, restart = restart + ?,"
			   " attempts = attempts + ? WHERE day = ?", tp, 10, NULL, NULL);
}

/* ---- PostgreSQL: aggregate deltas without hot rows ----
 *
 * Every report changes a few shared rows (per CVE / version / archive
 * aggregates, today's trend row).  Updating them in the report's own
 * transaction serialises all concurrent ingests on those row locks.
 * Instead each transaction (a batch of reports, see store_ingest.c)
 * appends its summed deltas as one agg_batch row of parallel arrays (an
 * INSERT of a new row locks nothing shared), so an acknowledged report's
 * deltas are durable with it.  store_merge() folds the pending rows (and any
 * agg_delta rows, the per-key form written before schema 5) into agg and
 * trend in one transaction (merges are
 * serialised by an advisory lock; the rows it deletes are exactly the ones
 * it adds up).  It runs from a background thread every MERGE_MS and before
 * any read of agg or trend (store_query), so readers always see every
 * committed report. */

#define MERGE_MS 1000

int store_merge_append(struct dbc *c, struct deltas *dl, long long now)
{
	struct buf col[7] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
	char num[32], day[11];
	size_t n = 0;
	ingest_deltas_sum(dl);   /* a batch's: one row per key */
	for (size_t i = 0; i < dl->agg.n; i++) {
		const struct akey *a = &dl->agg.v[i];
		ingest_pg_array_add(&col[0], a->kind);
		ingest_pg_array_add(&col[1], a->key);
		ingest_pg_array_add(&col[2], a->sub);
		ingest_pg_array_add(&col[3], a->status);
		snprintf(num, sizeof num, "%lld", a->dfiles);
		ingest_pg_array_add(&col[4], num);
		snprintf(num, sizeof num, "%lld", a->ddev);
		ingest_pg_array_add(&col[5], num);
		ingest_pg_array_add(&col[6], a->label);
		n++;
	}
	ingest_utc_day(now, day);
	for (int k = 0; k < 9; k++) {
		if (!dl->trend[k])
			continue;
		char sub[12];
		snprintf(sub, sizeof sub, "%d", k);
		ingest_pg_array_add(&col[0], "trend");
		ingest_pg_array_add(&col[1], day);
		ingest_pg_array_add(&col[2], sub);
		ingest_pg_array_add(&col[3], "");
		snprintf(num, sizeof num, "%lld", dl->trend[k]);
		ingest_pg_array_add(&col[4], num);
		ingest_pg_array_add(&col[5], "0");
		ingest_pg_array_add(&col[6], "");
		n++;
	}
	int rc = DB_OK;
	if (n) {
		struct dbv p[7];
		for (int k = 0; k < 7; k++) {
			buf_addc(&col[k], '}');
			p[k] = dv_text(buf_cstr(&col[k]));
		}
		/* gen: see migrations 7 and the one of issue 20 (9 or more) */
		rc = dbc_exec(c, "INSERT INTO agg_batch(gen, kinds, akeys, subs, statuses, files, devices, labels)"
				 " VALUES(9, ?, ?, ?, ?, ?, ?, ?)", p, 7, NULL, NULL);
	}
	for (int k = 0; k < 7; k++)
		buf_free(&col[k]);
	return rc;
}

static int trend_sum_cb(void *ctx, const struct dbrow *r)
{
	struct deltas *dl = ctx;
	long long k = dbrow_int(r, 0);
	if (k >= 0 && k < 9)
		dl->trend[k] += dbrow_int(r, 1);
	return 0;
}

static int merge_tx(struct dbc *c, long long now)
{
	long long pending = 0;
	int rc = dbc_int(c, "SELECT CASE WHEN EXISTS(SELECT 1 FROM agg_batch) OR EXISTS(SELECT 1 FROM agg_delta)"
			    " THEN 1 ELSE 0 END", NULL, 0, 0, &pending);
	if (rc || !pending)
		return rc;
	struct deltas dl = {0};
	if ((rc = dbc_begin(c)))
		return rc;
	rc = dbc_exec(c, "SELECT pg_advisory_xact_lock(7444002)", NULL, 0, NULL, NULL);
	/* the agg rows in key order (ORDER BY in the INSERT's SELECT): the same
	 * lock order as any other writer of agg */
	if (rc == DB_OK)
		rc = dbc_exec(c, "WITH b AS (DELETE FROM agg_batch RETURNING kinds, akeys, subs, statuses, files, devices, labels),"
				 " o AS (DELETE FROM agg_delta RETURNING kind, akey, sub, status, files, devices, label),"
				 " d AS (SELECT u.* FROM b, unnest(b.kinds::text[], b.akeys::text[], b.subs::text[],"
				 "   b.statuses::text[], b.files::bigint[], b.devices::bigint[], b.labels::text[])"
				 "   AS u(kind, akey, sub, status, files, devices, label)"
				 "  UNION ALL SELECT * FROM o),"
				 " a AS (INSERT INTO agg(kind, akey, sub, status, files, devices, label)"
				 "  SELECT kind, akey, sub, status, SUM(files), SUM(devices), MAX(label) FROM d"
				 "  WHERE kind <> 'trend' GROUP BY kind, akey, sub, status ORDER BY kind, akey, sub, status"
				 "  ON CONFLICT(kind, akey, sub, status) DO UPDATE"
				 "  SET files = agg.files + excluded.files, devices = agg.devices + excluded.devices)"
				 " SELECT CAST(sub AS BIGINT), SUM(files) FROM d WHERE kind = 'trend' GROUP BY sub",
			      NULL, 0, trend_sum_cb, &dl);
	if (rc == DB_OK)
		rc = store_merge_apply(c, &dl, now);
	ingest_deltas_free(&dl);
	if (rc == DB_OK)
		rc = dbc_commit(c);
	if (rc)
		dbc_rollback(c);
	return rc;
}

int store_merge(struct store *st, struct buf *err)
{
	if (db_kind(st->db) != DB_PG)
		return DB_OK;
	struct dbc *c = db_acquire(st->db);
	int rc = DB_ERR;
	for (int attempt = 0; attempt < 8; attempt++) {
		rc = merge_tx(c, (long long)time(NULL));
		if (rc != DB_RETRY)
			break;
		usleep(1000u << attempt);
	}
	if (rc && err)
		buf_printf(err, "%s", dbc_error(c));
	db_release(st->db, c);
	return rc ? DB_ERR : DB_OK;
}

static void *merger(void *arg)
{
	struct store *st = arg;
	pthread_mutex_lock(&st->ing->gc_mu);
	while (!st->ing->merge_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += MERGE_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&st->ing->merge_cv, &st->ing->gc_mu, &ts);
		if (st->ing->merge_stop)
			break;
		pthread_mutex_unlock(&st->ing->gc_mu);
		store_merge(st, NULL);
		ingest_audit_flush(st, 0);
		pthread_mutex_lock(&st->ing->gc_mu);
	}
	pthread_mutex_unlock(&st->ing->gc_mu);
	return NULL;
}

void store_start_merger(struct store *st)
{
	if (db_kind(st->db) != DB_PG || st->ing->merge_running)
		return;
	st->ing->merge_running = pthread_create(&st->ing->merge_thread, NULL, merger, st) == 0;
}

void store_merge_stop(struct store *st)
{
	if (!st->ing->merge_running)
		return;
	pthread_mutex_lock(&st->ing->gc_mu);
	st->ing->merge_stop = true;
	pthread_cond_signal(&st->ing->merge_cv);
	pthread_mutex_unlock(&st->ing->gc_mu);
	pthread_join(st->ing->merge_thread, NULL);
	store_merge(st, NULL);
}
