/* ingest_device.c - one device's whole share of the fleet-wide counters,
 * and the count of reports each token sends (issue 20 point 9).
 *
 * A retired device is out of every aggregate (agg) and of the trend's
 * totals, a deleted one too: ingest_device_contrib() works out what the
 * device adds to them from its stored rows (its findings' keys, as ingest
 * counts them, its attempts per callback host, its counters) and adds it
 * to a struct deltas with a sign: -1 when it is retired or deleted, +1 when
 * it comes back (unretired by hand, or by a report of its own, which
 * ingest_tx() sees).  The caller applies the deltas as ingest does
 * (store_merge_apply on SQLite, store_merge_append on PostgreSQL), in the
 * transaction that changes the device, after locking its row.
 *
 * ingest_audit_count(): the audit log's row of reports taken per token and
 * UTC day; the counts of committed batches are summed in memory
 * (ingest_audit_note) and written at most once a second
 * (ingest_audit_flush), so that ingest neither shares a row between
 * concurrent batches (PostgreSQL) nor rewrites one in every commit. */
#include "ingest_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

struct dev_counts { long long n_reports, nv, nm, ns, restart, attempts, exposed, attacked; bool found; };

static int counts_cb(void *ctx, const struct dbrow *r)
{
	struct dev_counts *d = ctx;
	long long *f[] = {&d->n_reports, &d->nv, &d->nm, &d->ns, &d->restart, &d->attempts, &d->exposed, &d->attacked};
	for (int i = 0; i < 8; i++)
		*f[i] = dbrow_int(r, i);
	d->found = true;
	return 1;
}

struct host_ctx { struct akeys *ak; int sign; };
static int host_cb(void *ctx, const struct dbrow *r)
{
	struct host_ctx *h = ctx;
	long long n = dbrow_int(r, 1);
	if (n <= 0)
		return 0;
	/* n attempts and one device for the host, as tx_attempts counted them */
	struct akey e = {"callback", dbrow_text(r, 0), "", "", "", h->sign > 0 ? 0 : n, h->sign > 0 ? n : 0, 0, 0};
	ingest_akeys_copy(h->ak, &e);
	return 0;
}

int ingest_device_contrib(struct dbc *c, long long device_id, int sign, struct deltas *dl)
{
	struct dbv p[1] = {dv_int(device_id)};
	struct dev_counts d = {0};
	int rc = dbc_exec(c, "SELECT n_reports, n_vulnerable, n_mitigated, n_safe, n_restart, n_attempts, exposed,"
			     " attacked FROM devices WHERE id = ?", p, 1, counts_cb, &d);
	if (rc || !d.found)
		return rc ? rc : DB_ERR;
	struct fkeys fk = {0};
	struct akeys ak = {0};
	rc = dbc_exec(c, "SELECT status, component, version, COALESCE(sha256, 'cd:' || cd_sha256), cves_json,"
			 " CASE WHEN pid IS NULL THEN 0 ELSE 1 END, severity, path, shadowed"
			 " FROM findings WHERE device_id = ? AND shadowed = 0", p, 1, ingest_fkeys_row, &fk);
	for (size_t i = 0; rc == DB_OK && i < fk.n; i++)
		ingest_akeys_from(&ak, &fk.v[i], sign > 0);
	struct host_ctx h = {&ak, sign};
	if (rc == DB_OK)
		rc = dbc_exec(c, "SELECT host, COUNT(*) FROM attempts WHERE device_id = ? AND host <> '' GROUP BY host",
			      p, 1, host_cb, &h);
	if (rc == DB_OK) {
		ingest_akeys_reduce(&ak, &dl->agg);
		long long s = sign > 0 ? 1 : -1;
		long long t[9] = {d.n_reports > 0, d.nv > 0, d.exposed, d.attacked, d.nv, d.nm, d.ns, d.restart,
				  d.attempts};
		for (int k = 0; k < 9; k++)
			dl->trend[k] += s * t[k];
	}
	ingest_akeys_free(&ak);
	ingest_fkeys_free(&fk);
	return rc;
}

int ingest_audit_count(struct dbc *c, long long token_id, long long n, long long now)
{
	char day[11], key[64];
	ingest_utc_day(now, day);
	snprintf(key, sizeof key, "ingest:%lld:%s", token_id, day);
	struct dbv p[5] = {dv_int(now), dv_int(token_id), dv_text(day), dv_int(n), dv_text(key)};
	/* the token's name as it is now (a deleted token's id stays) */
	return dbc_exec(c, "INSERT INTO audit(at, kind, actor, subject, detail, count, akey)"
			   " SELECT ?, 'ingest', COALESCE((SELECT name FROM tokens WHERE id = t.id), CASE WHEN t.id = 0"
			   "  THEN 'import' ELSE '' END), CAST(t.id AS TEXT), t.day, t.n, t.k"
			   " FROM (SELECT CAST(? AS BIGINT) AS id, CAST(? AS TEXT) AS day, CAST(? AS BIGINT) AS n,"
			   "  CAST(? AS TEXT) AS k) t WHERE 1 = 1"
			   " ON CONFLICT(akey) DO UPDATE SET count = audit.count + excluded.count, at = excluded.at",
			p, 5, NULL, NULL);
}

/* The reports of committed batches per token and day, for the audit log,
 * summed here and written by ingest_audit_flush(): on PostgreSQL by the
 * merger every second (no audit row is shared by concurrent batches), on
 * SQLite after a batch at most once a second (one small commit a second
 * instead of an audit row and its indexes rewritten in every batch's
 * commit); both at close.  A kill -9 loses at most a second of these
 * counts (never a report). */
void ingest_audit_note(struct store *st, long long token_id, long long n, long long now)
{
	struct ingest_state *g = st->ing;
	pthread_mutex_lock(&g->audit_mu);
	size_t i = 0;
	while (i < g->audit_n && (g->audit_v[i].token_id != token_id || g->audit_v[i].at / 86400 != now / 86400))
		i++;
	if (i == g->audit_n) {
		if (g->audit_n == g->audit_cap) {
			g->audit_cap = g->audit_cap ? 2 * g->audit_cap : 8;
			g->audit_v = xrealloc(g->audit_v, g->audit_cap * sizeof *g->audit_v);
		}
		g->audit_v[g->audit_n++] = (struct audit_pending){token_id, 0, now};
	}
	g->audit_v[i].n += n;
	if (now > g->audit_v[i].at)
		g->audit_v[i].at = now;
	pthread_mutex_unlock(&g->audit_mu);
}

void ingest_audit_flush(struct store *st, long long min_gap)
{
	struct ingest_state *g = st->ing;
	long long now = (long long)time(NULL);
	pthread_mutex_lock(&g->audit_mu);
	if (!g->audit_n || now - g->audit_flushed < min_gap) {
		pthread_mutex_unlock(&g->audit_mu);
		return;
	}
	g->audit_flushed = now;
	struct audit_pending *v = g->audit_v;
	size_t n = g->audit_n;
	g->audit_v = NULL;
	g->audit_n = g->audit_cap = 0;
	pthread_mutex_unlock(&g->audit_mu);
	if (!n)
		return;
	/* SQLite: the writer's connection (a reader's write would wait for it) */
	struct dbc *c = db_acquire_writer(st->db);
	for (size_t i = 0; i < n; i++)
		if (ingest_audit_count(c, v[i].token_id, v[i].n, v[i].at))   /* kept for the next flush */
			ingest_audit_note(st, v[i].token_id, v[i].n, v[i].at);
	db_release(st->db, c);
	free(v);
}
