/* ingest_tx.c - one report's transaction (ingest_tx), in the steps its
 * comments number:
 *   1. upsert the device row, reading it back (RETURNING; in PostgreSQL
 *      this row lock serialises two reports of the same device; SQLite has
 *      a single writer anyway)
 *   2+3. record the report in the history; a duplicate (device, report_id)
 *      inserts nothing: roll back, answer "duplicate"
 *   4. if it is not older than the current state, replace findings /
 *      processes / errors as its command says (a device's first report has
 *      nothing to replace); append attempts.  Findings go in as multi-row
 *      INSERTs (SQLite, with the archive ids the writer keeps: struct
 *      pathmap) or one INSERT of arrays (PostgreSQL), their archives
 *      (sha256) into `archives` first.
 *   5. update the device counters, and hand the aggregates' deltas (between
 *      the device's findings before and after) and today's trend row's back
 *      to the caller: SQLite applies the summed deltas of a whole group
 *      commit at once; PostgreSQL appends them to agg_batch, merged by
 *      store_merge() (no hot rows locked by concurrent ingests).
 * A report older (by "created") than the device's current state of the
 * same kind is kept in the history but does not replace newer state. */
#include "ingest_internal.h"
#include "regdomain.h"
#include "webhook.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dev_state {
	long long id, scan_created, ps_created, last_created, n_reports;
	long long n_vulnerable, n_mitigated, n_safe, n_processes, n_restart, n_attempts, n_errors, exposed, attacked;
	long long n_critical, critical_exposed;
	long long retired;           /* when it was retired (0: active) */
	char findings_hash[65];
	char *tags_json;             /* the device's tags (owned) */
	bool found;
};

static int dev_cb(void *ctx, const struct dbrow *r)
{
	struct dev_state *d = ctx;
	long long *f[] = {&d->id, &d->scan_created, &d->ps_created, &d->last_created, &d->n_reports,
			  &d->n_vulnerable, &d->n_mitigated, &d->n_safe, &d->n_processes, &d->n_restart,
			  &d->n_attempts, &d->n_errors, &d->exposed, &d->attacked, &d->n_critical, &d->critical_exposed};
	int n = (int)(sizeof f / sizeof f[0]);
	for (int i = 0; i < n; i++)
		*f[i] = dbrow_int(r, i);
	snprintf(d->findings_hash, sizeof d->findings_hash, "%s", dbrow_text(r, n));
	free(d->tags_json);
	d->tags_json = xstrdup(dbrow_text(r, n + 1) ? dbrow_text(r, n + 1) : "[]");
	d->retired = dbrow_int(r, n + 2);
	d->found = true;
	return 1;
}

static struct dbv opt_int(bool has, long long v) { return has ? dv_int(v) : dv_null(); }

/* INSERT of n rows of np parameters each, as few statements as possible:
 * chunks of 16, 4 and 1 rows (three statement texts to prepare, and on
 * PostgreSQL one round trip per chunk instead of per row).  head ends
 * before VALUES, row is "(?, ...)". */
static int insert_rows(struct dbc *c, const char *head, const char *row, const char *tail, int np,
		       const struct dbv *p, size_t n)
{
	static const size_t chunks[] = {16, 4, 1};
	struct buf sql = BUF_INIT;
	size_t done = 0;
	int rc = DB_OK;
	for (int k = 0; k < 3 && rc == DB_OK; k++) {
		if (n - done < chunks[k])
			continue;
		buf_reset(&sql);
		buf_adds(&sql, head);
		buf_adds(&sql, " VALUES ");
		for (size_t i = 0; i < chunks[k]; i++) {
			if (i)
				buf_addc(&sql, ',');
			buf_adds(&sql, row);
		}
		buf_adds(&sql, tail);
		while (rc == DB_OK && n - done >= chunks[k]) {
			rc = dbc_exec(c, buf_cstr(&sql), p + done * (size_t)np, (int)chunks[k] * np, NULL, NULL);
			done += chunks[k];
		}
	}
	buf_free(&sql);
	return rc;
}

/* PostgreSQL: the archives rows of shas[0..n) (sorted, distinct), one
 * INSERT.  Sorted: concurrent transactions adding the same new archives
 * take them in one order. */
int ingest_insert_archives(struct dbc *c, const char *const *shas, size_t n)
{
	if (!n)
		return DB_OK;
	struct buf sh = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		ingest_pg_array_add(&sh, shas[i]);
	struct dbv p[1] = {dv_text(ingest_pg_array_end(&sh))};
	int rc = dbc_exec(c, "INSERT INTO archives(sha256) SELECT unnest(?::text[]) ON CONFLICT(sha256) DO NOTHING",
			  p, 1, NULL, NULL);
	buf_free(&sh);
	return rc;
}

/* PostgreSQL: the report's findings (with ps_only: those with a pid) in one
 * INSERT of arrays (unnest; one round trip whatever their number), their
 * archives in one before it: the distinct sha256 values in sorted order
 * (concurrent transactions adding the same new archives take them in one
 * order and cannot deadlock; an existing one is not locked). */
static int insert_findings(struct dbc *c, const struct report *r, const struct plan *pl, const bool *shadow,
			   const char *const *spath, long long device_id, bool ps_only, bool archives_known)
{
	enum { NCOL = 23 };
	struct buf col[NCOL];
	for (int k = 0; k < NCOL; k++)
		col[k] = (struct buf)BUF_INIT;
	size_t n = 0;
	char num[32], judge[32], pathid[32];
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct rp_finding *f = &r->findings[i];
		if (ps_only && !f->has_pid)
			continue;   /* a ps report speaks only for running processes */
		snprintf(num, sizeof num, "%lld", f->pid);
		snprintf(judge, sizeof judge, "%lld", f->judged_by);
		/* a JVM's copy known by another path on disk: stored at that path */
		char *note = spath[i] ? ingest_loaded_as_note(f->path, f->note) : NULL;
		long long path_id = ingest_plan_path_id(pl, spath[i] ? spath[i] : f->path);
		snprintf(pathid, sizeof pathid, "%lld", path_id);
		const char *v[NCOL] = {spath[i] ? spath[i] : f->path, spath[i] ? NULL : f->path_b64,
				       f->component ? f->component : "", f->version ? f->version : "",
				       f->version_source, f->status, f->severity, f->fixed_in, f->sha256, f->cves_json,
				       f->evidence_json, f->has_pid ? num : NULL, shadow[i] ? "1" : "0", f->image, f->tag,
				       f->layer, f->has_in_final ? (f->in_final_image ? "1" : "0") : NULL,
				       note ? note : f->note, f->cd_sha256,
				       *f->archive_key ? f->archive_key : NULL, f->facts, f->judged ? judge : NULL,
				       path_id ? pathid : NULL};
		for (int k = 0; k < NCOL; k++)
			ingest_pg_array_add(&col[k], v[k]);
		free(note);
		n++;
	}
	int rc = archives_known ? DB_OK : ingest_insert_archives(c, pl->shas, pl->n_shas);
	if (rc == DB_OK && !archives_known)
		rc = ingest_insert_paths(c, pl->paths, pl->n_paths);
	if (rc == DB_OK && n) {
		struct dbv p[2 + NCOL] = {dv_int(device_id), dv_text(r->report_id)};
		for (int k = 0; k < NCOL; k++)
			p[2 + k] = dv_text(ingest_pg_array_end(&col[k]));
		rc = dbc_exec(c, "INSERT INTO findings(device_id, report_id, path, path_b64, component, version,"
				 " version_source, status, severity, fixed_in, sha256, cves_json, evidence_json, pid,"
				 " shadowed, image, image_tag, layer, in_final_image, note, cd_sha256, archive_id, facts, judged_by,"
				 " path_id)"
				 " SELECT ?, ?, u.path, u.path_b64, u.component, u.version, u.vs, u.status, u.severity,"
				 " u.fixed_in, u.sha256, u.cves, u.evidence, u.pid, u.shadowed, u.image, u.tag, u.layer,"
				 " u.in_final, u.note, u.cd_sha256, (SELECT a.id FROM archives a WHERE a.sha256 = u.akey),"
				 " u.facts, u.judged_by,"
				 " COALESCE(u.path_id, (SELECT p.id FROM paths p WHERE md5(p.path) = md5(u.path) AND p.path = u.path))"
				 " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],"
				 " ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::text[],"
				 " ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[])"
				 " WITH ORDINALITY AS u(path, path_b64, component, version, vs, status, severity, fixed_in, sha256,"
				 " cves, evidence, pid, shadowed, image, tag, layer, in_final, note, cd_sha256, akey, facts,"
				 " judged_by, path_id, ord)"
				 " ORDER BY u.ord",
			      p, 2 + NCOL, NULL, NULL);
	}
	for (int k = 0; k < NCOL; k++)
		buf_free(&col[k]);
	return rc;
}

/* ---- SQLite: the writer's archive ids ----
 *
 * archives rows are never changed or deleted, so sha256 -> id, once
 * committed, stays true.  The single SQLite writer keeps those it has seen
 * in a hash table (bounded: past ARCHMAP_MAX it asks the database), and
 * binds archive_id directly instead of a subquery per finding.  Ids it
 * learns inside a group commit are kept aside (struct arch_new) and enter
 * the table only after the COMMIT, those of a report rolled back to its
 * savepoint are dropped: the table never holds an id that is not in the
 * database. */


static int archive_id(struct dbc *c, struct arch_new *an, const char *sha, long long *id)
{
	*id = ingest_pathmap_get(an->map, sha);
	if (*id)
		return DB_OK;
	struct dbv p[1] = {dv_text(sha)};
	int rc = dbc_int(c, "SELECT id FROM archives WHERE sha256 = ?", p, 1, 0, id);
	if (rc == DB_OK && !*id)
		rc = dbc_int(c, "INSERT INTO archives(sha256) VALUES(?) RETURNING id", p, 1, 0, id);
	if (rc == DB_OK && !*id)
		rc = DB_ERR;
	if (rc == DB_OK) {
		if (an->n == an->cap) {
			an->cap = an->cap ? 2 * an->cap : 64;
			an->v = xrealloc(an->v, an->cap * sizeof *an->v);
		}
		an->v[an->n].sha = sha;
		an->v[an->n++].id = *id;
	}
	return rc;
}

/* SQLite: the findings with their archive ids bound (see above). */
static int insert_findings_sqlite(struct dbc *c, const struct report *r, const struct plan *pl,
				  const bool *shadow, const char *const *spath, long long device_id, bool ps_only,
				  struct arch_new *an)
{
	int rc = DB_OK;
	char **notes = xcalloc(r->n_findings + 1, sizeof *notes);   /* "loaded as": live until the INSERT */
	long long *ids = xcalloc(pl->n_shas + 1, sizeof *ids);
	for (size_t i = 0; i < pl->n_shas && rc == DB_OK; i++)
		rc = archive_id(c, an, pl->shas[i], &ids[i]);
	enum { NP = 25 };
	struct dbv *q = xcalloc(NP * (r->n_findings + 1), sizeof *q);
	size_t n = 0;
	for (size_t i = 0; i < r->n_findings && rc == DB_OK; i++) {
		const struct rp_finding *f = &r->findings[i];
		if (ps_only && !f->has_pid)
			continue;   /* a ps report speaks only for running processes */
		struct dbv aid = dv_null();
		if (*f->archive_key) {
			const char *key = f->archive_key;
			const char **k = bsearch(&key, pl->shas, pl->n_shas, sizeof *pl->shas, ingest_str_cmp);
			if (!k) {
				rc = DB_ERR;
				break;
			}
			aid = dv_int(ids[k - pl->shas]);
		}
		long long pid = 0;   /* paths.id (ingest_paths.c) */
		if ((rc = ingest_path_id(c, an, spath[i] ? spath[i] : f->path, &pid)))
			break;
		if (spath[i])
			notes[i] = ingest_loaded_as_note(f->path, f->note);
		struct dbv row[NP] = {dv_int(device_id), dv_text(r->report_id), dv_text(spath[i] ? spath[i] : f->path),
				      dv_text(spath[i] ? NULL : f->path_b64),
				      dv_text(f->component ? f->component : ""), dv_text(f->version ? f->version : ""),
				      dv_text(f->version_source), dv_text(f->status), dv_text(f->severity),
				      dv_text(f->fixed_in), dv_text(f->sha256), dv_text(f->cves_json),
				      dv_text(f->evidence_json), opt_int(f->has_pid, f->pid), aid, dv_int(shadow[i]),
				      dv_text(f->image), dv_text(f->tag), dv_text(f->layer),
				      opt_int(f->has_in_final, f->in_final_image), dv_text(notes[i] ? notes[i] : f->note),
				      dv_text(f->cd_sha256), dv_text(f->facts), opt_int(f->judged, f->judged_by),
				      dv_int(pid)};
		memcpy(q + NP * n++, row, sizeof row);
	}
	if (rc == DB_OK && n)
		rc = insert_rows(c, "INSERT INTO findings(device_id, report_id, path, path_b64, component, version,"
				    " version_source, status, severity, fixed_in, sha256, cves_json, evidence_json, pid,"
				    " archive_id, shadowed, image, image_tag, layer, in_final_image, note, cd_sha256, facts,"
				    " judged_by, path_id)",
				 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "", NP, q, n);
	for (size_t i = 0; i < r->n_findings; i++)
		free(notes[i]);
	free(notes);
	free(ids);
	free(q);
	return rc;
}

/* One report's transaction as it goes: what it was given, the device row
 * before it, what it replaces, and the device's counters after it. */
struct tx {
	struct dbc *c;
	const struct report *r;
	const struct plan *pl;
	long long token_id, now;
	struct ingest_result *res;
	struct deltas *dl;
	struct arch_new *an;         /* SQLite: the writer's archive ids; NULL on PostgreSQL */
	bool archives_known;
	struct dev_state d;          /* the device row before this report */
	/* what this report replaces */
	bool repl_findings_all, repl_findings_pid, repl_processes, repl_errors;
	bool store_findings;         /* its findings become the current state */
	bool fresh;                  /* the device's first report: nothing to replace */
	struct fkeys before;         /* the device's findings it replaces */
	struct akeys ak;             /* their aggregate keys, and those of the new state */
	/* the device after this report */
	long long nv, nm, ns, nproc, nrestart, exposed, nerr, natt, ncrit, crit_exposed;
	bool *shadow;                /* the report's findings that are a JVM's copy of a disk finding (owned) */
	const char **shadow_path;    /* ... stored at this disk path instead of their own (owned array) */
	char fhash[65];
	char *tags;                  /* the device's tags after this report (owned) */
	bool *att_new;               /* the report's attempts this report stored (owned) */
};

static const char DEVICE_UPSERT[] =
	"INSERT INTO devices(ident, first_seen, last_seen) VALUES(?, ?, ?)"
	" ON CONFLICT(ident) DO UPDATE SET ident = excluded.ident"
	" RETURNING id, scan_created, ps_created, last_created, n_reports, n_vulnerable,"
	" n_mitigated, n_safe, n_processes, n_restart, n_attempts, n_errors, exposed, attacked,"
	" n_critical, critical_exposed, findings_hash, tags_json, retired";

/* The first report of an agent id from a machine whose device was made by
 * agents without one: that device becomes this install's (its history and
 * state go on), and the row just made is dropped.  A second install of the
 * same machine id (a clone) then gets a device of its own. */
static int adopt_legacy(struct tx *t)
{
	struct buf legacy = BUF_INIT;
	report_device_legacy_ident(t->r, &legacy);
	long long old = 0;
	struct dbv q[1] = {dv_text(buf_cstr(&legacy))};
	int rc = dbc_int(t->c, "SELECT id FROM devices WHERE ident = ? AND agent_id = ''", q, 1, 0, &old);
	buf_free(&legacy);
	if (rc || !old)
		return rc;
	struct dbv del[1] = {dv_int(t->d.id)};
	struct dbv up[2] = {dv_text(buf_cstr((struct buf *)&t->pl->ident)), dv_int(old)};
	struct dbv p[3] = {dv_text(buf_cstr((struct buf *)&t->pl->ident)), dv_int(t->now), dv_int(t->now)};
	if ((rc = dbc_exec(t->c, "DELETE FROM devices WHERE id = ?", del, 1, NULL, NULL)) ||
	    (rc = dbc_exec(t->c, "UPDATE devices SET ident = ? WHERE id = ?", up, 2, NULL, NULL)))
		return rc;
	t->d.found = false;
	if ((rc = dbc_exec(t->c, DEVICE_UPSERT, p, 3, dev_cb, &t->d)))
		return rc;
	return t->d.found ? DB_OK : DB_ERR;
}

/* A retired device reports again (issue 20 point 9): it comes back, flagged
 * (devices.reappeared, an audit row) so that a machine thought gone is
 * noticed; its stored rows count again before this report changes them.
 * (A duplicate report rolls this back with the rest.) */
static int tx_reappear(struct tx *t)
{
	int rc = ingest_device_contrib(t->c, t->d.id, +1, t->dl);
	struct dbv p[2] = {dv_int(t->now), dv_int(t->d.id)};
	struct dbv a[3] = {dv_int(t->now), dv_text(buf_cstr((struct buf *)&t->pl->ident)), dv_int(t->token_id)};
	if (rc == DB_OK)
		rc = dbc_exec(t->c, "UPDATE devices SET retired = 0, reappeared = ? WHERE id = ?", p, 2, NULL, NULL);
	if (rc == DB_OK)
		rc = dbc_exec(t->c, "INSERT INTO audit(at, kind, actor, subject, detail)"
				    " VALUES(?, 'device_reappeared', '', ?, 'reported again after being retired (token ' ||"
				    " CAST(? AS TEXT) || ')')", a, 3, NULL, NULL);
	t->d.retired = 0;
	return rc;
}

/* 1. the device row, locked; then what this report replaces */
static int tx_device(struct tx *t)
{
	const struct report *r = t->r;
	struct dev_state *d = &t->d;
	struct dbv p[3] = {dv_text(buf_cstr((struct buf *)&t->pl->ident)), dv_int(t->now), dv_int(t->now)};
	int rc = dbc_exec(t->c, DEVICE_UPSERT, p, 3, dev_cb, d);
	if (rc)
		return rc;
	if (!d->found)
		return DB_ERR;
	if (d->n_reports == 0 && r->agent_id[0] && (rc = adopt_legacy(t)))
		return rc;
	t->res->device_id = d->id;
	if (d->retired && (rc = tx_reappear(t)))
		return rc;
	bool is_scan = t->pl->is_scan, is_ps = t->pl->is_ps;
	t->repl_findings_all = is_scan && r->created_epoch >= d->scan_created;
	t->repl_findings_pid = is_ps && r->created_epoch >= d->ps_created;
	t->repl_processes = (is_scan && r->created_epoch >= d->scan_created) || t->repl_findings_pid;
	t->repl_errors = t->repl_findings_all;
	/* findings in a report of another command (or an older one) are not current state */
	t->store_findings = t->repl_findings_all || t->repl_findings_pid;
	t->res->applied = t->repl_findings_all || t->repl_processes || r->n_attempts;
	return DB_OK;
}

/* 3. history; 2. idempotency: a report id the device already sent inserts
 * nothing (res->duplicate) */
static int tx_history(struct tx *t)
{
	const struct report *r = t->r;
	struct dbv q[15] = {dv_int(t->d.id), dv_text(r->report_id), dv_text(r->command), dv_int(r->created_epoch),
			    dv_int(t->now), dv_int(t->token_id), dv_text(r->agent_version ? r->agent_version : ""),
			    dv_int((long long)r->n_findings), dv_int(t->pl->vuln), dv_int((long long)r->n_processes),
			    dv_int((long long)r->n_attempts), dv_int((long long)r->n_errors),
			    dv_int(t->res->applied ? 1 : 0), dv_text(r->summary_json),
			    dv_text(t->pl->is_scan ? t->pl->coverage : NULL)};
	long long id = 0;
	int rc = dbc_int(t->c, "INSERT INTO reports(device_id, report_id, command, created, received, token_id,"
			       " agent_version, n_findings, n_vulnerable, n_processes, n_attempts, n_errors, applied,"
			       " summary_json, coverage) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
			       " ON CONFLICT(device_id, report_id) DO NOTHING RETURNING id", q, 15, 0, &id);
	if (rc)
		return rc;
	if (!id) {
		memset(t->res, 0, sizeof *t->res);
		t->res->device_id = t->d.id;
		t->res->duplicate = true;
	}
	/* a device's first report: it has no findings, processes or errors yet */
	t->fresh = t->d.n_reports == 0;
	return DB_OK;
}

/* The device's rows of one table that this report replaces, out: sql is a
 * DELETE with the device id as its one parameter (a first report has none) */
static int tx_clear(struct tx *t, const char *sql)
{
	struct dbv p[1] = {dv_int(t->d.id)};
	return t->fresh ? DB_OK : dbc_exec(t->c, sql, p, 1, NULL, NULL);
}

/* A ps report's copies of files the device's disk scan lists (kept, not
 * replaced): shadowed, and their keys and counts taken back out of what
 * ingest_plan_make() counted for them */
static void tx_shadow_ps(struct tx *t)
{
	const struct report *r = t->r;
	struct disk_copies disk = {0};
	for (size_t i = 0; i < t->before.n; i++)
		if (!t->before.v[i].has_pid)
			ingest_disk_add(&disk, t->before.v[i].path, t->before.v[i].sha256);
	ingest_disk_sort(&disk);
	for (size_t i = 0; disk.n && i < r->n_findings; i++) {
		const struct rp_finding *f = &r->findings[i];
		const char *at = f->has_pid ? ingest_disk_match(&disk, f->path, f->archive_key) : NULL;
		if (!at)
			continue;
		t->shadow[i] = true;
		if (strcmp(at, f->path))
			t->shadow_path[i] = at;   /* a string of t->before: lives until the INSERT */
		struct fkey fk = {(char *)f->status, (char *)(f->component ? f->component : ""),
				  (char *)(f->version ? f->version : ""), (char *)(*f->archive_key ? f->archive_key : NULL),
				  f->cves_json, (char *)f->severity, (char *)f->path, true, false};
		size_t mark = t->ak.n;
		ingest_akeys_from(&t->ak, &fk, true);
		for (size_t k = mark; k < t->ak.n; k++)
			t->ak.v[k].after = -1;
		bool v = !strcmp(f->status, "vulnerable"), m = !strcmp(f->status, "mitigated");
		t->nv -= v;
		t->nm -= m;
		t->ns -= !v && !m;
		t->ncrit -= v && f->severity && !strcmp(f->severity, "critical");
	}
	ingest_disk_free(&disk);
}

/* 4a. findings: those the report replaces out (their keys counted before),
 * its own in (keyed by ingest_plan_make()); a running JVM's copy of a file
 * the disk scan lists is stored shadowed, counted once on the disk row */
static int tx_findings(struct tx *t)
{
	const struct dev_state *d = &t->d;
	int rc;
	t->nv = d->n_vulnerable;
	t->nm = d->n_mitigated;
	t->ns = d->n_safe;
	t->ncrit = d->n_critical;
	t->shadow = xcalloc(t->r->n_findings + 1, sizeof *t->shadow);
	memcpy(t->shadow, t->pl->shadow, t->r->n_findings * sizeof *t->shadow);
	t->shadow_path = xcalloc(t->r->n_findings + 1, sizeof *t->shadow_path);
	memcpy(t->shadow_path, t->pl->shadow_path, t->r->n_findings * sizeof *t->shadow_path);
	snprintf(t->fhash, sizeof t->fhash, "%s", d->findings_hash);
	if (t->repl_findings_all) {
		memcpy(t->fhash, t->pl->fhash, sizeof t->fhash);
		if (!strcmp(t->fhash, d->findings_hash) && d->n_reports > 0)
			t->store_findings = false;   /* the same findings as now: nothing to rewrite */
	} else if (t->repl_findings_pid) {
		t->fhash[0] = 0;                 /* changed in part: no longer the hash of a scan */
	}
	if (!t->store_findings)
		return DB_OK;
	struct dbv p[1] = {dv_int(d->id)};
	if (!t->fresh && (rc = dbc_exec(t->c, "SELECT status, component, version, COALESCE(sha256, 'cd:' || cd_sha256),"
					      " cves_json,"
					      " CASE WHEN pid IS NULL THEN 0 ELSE 1 END, severity, path, shadowed"
					      " FROM findings WHERE device_id = ?",
					   p, 1, ingest_fkeys_row, &t->before)))
		return rc;
	if ((rc = tx_clear(t, t->repl_findings_all ? "DELETE FROM findings WHERE device_id = ?"
					: "DELETE FROM findings WHERE device_id = ? AND pid IS NOT NULL")))
		return rc;
	t->nv = t->nm = t->ns = t->ncrit = 0;
	for (size_t i = 0; i < t->before.n; i++) {
		const struct fkey *f = &t->before.v[i];
		if (f->shadowed)
			continue;   /* never counted */
		ingest_akeys_from(&t->ak, f, false);
		bool kept = !t->repl_findings_all && !f->has_pid;
		if (kept) {
			ingest_akeys_from(&t->ak, f, true);
			bool v = !strcmp(f->status, "vulnerable");
			t->nv += v;
			t->nm += !strcmp(f->status, "mitigated");
			t->ns += !strcmp(f->status, "safe");
			t->ncrit += v && f->severity && !strcmp(f->severity, "critical");
		}
	}
	if (t->repl_findings_pid)
		tx_shadow_ps(t);
	if ((rc = t->an ? insert_findings_sqlite(t->c, t->r, t->pl, t->shadow, t->shadow_path, d->id,
						 t->repl_findings_pid, t->an)
			: insert_findings(t->c, t->r, t->pl, t->shadow, t->shadow_path, d->id, t->repl_findings_pid,
					  t->archives_known)))
		return rc;
	for (size_t i = 0; i < t->pl->after.n; i++)
		*ingest_akeys_add(&t->ak, "", "", "", "", "", true) = t->pl->after.v[i];
	t->nv += t->pl->nv;
	t->nm += t->pl->nm;
	t->ns += t->pl->ns;
	t->ncrit += t->pl->ncrit;
	return DB_OK;
}

static int ll_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* 4b. processes */
static int tx_processes(struct tx *t)
{
	const struct report *r = t->r;
	int rc;
	t->nproc = t->d.n_processes;
	t->nrestart = t->d.n_restart;
	t->exposed = t->d.exposed;
	t->crit_exposed = t->d.critical_exposed;
	if (!t->repl_processes)
		return DB_OK;
	if ((rc = tx_clear(t, "DELETE FROM processes WHERE device_id = ?")))
		return rc;
	t->nproc = (long long)r->n_processes;
	t->nrestart = t->exposed = t->crit_exposed = 0;
	/* the pids with a critical vulnerable copy loaded, sorted */
	long long *crit = xcalloc(r->n_findings + 1, sizeof *crit);
	size_t ncrit = 0;
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct rp_finding *f = &r->findings[i];
		if (f->has_pid && !strcmp(f->status, "vulnerable") && f->severity && !strcmp(f->severity, "critical"))
			crit[ncrit++] = f->pid;
	}
	if (ncrit)
		qsort(crit, ncrit, sizeof *crit, ll_cmp);
	for (size_t i = 0; i < r->n_processes && rc == DB_OK; i++) {
		const struct rp_process *pr = &r->processes[i];
		struct dbv q[13] = {dv_int(t->d.id), dv_int(pr->pid), dv_text(pr->user), dv_text(pr->command),
				    dv_text(pr->start_time), dv_text(pr->container), dv_text(pr->status),
				    dv_int(pr->restart_required), dv_text(pr->listening_json),
				    dv_int(pr->n_listening), dv_text(pr->jars_json), dv_text(pr->mitigations_json),
				    dv_int(pr->n_public)};
		if ((rc = dbc_exec(t->c, "INSERT INTO processes(device_id, pid, username, command, start_time, container,"
					 " status, restart_required, listening_json, n_listening, jars_json, mitigations_json,"
					 " n_public) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", q, 13, NULL, NULL)))
			break;
		t->nrestart += pr->restart_required;
		/* exposed: reachable, a listener on an address other than loopback */
		if (!strcmp(pr->status, "vulnerable") && pr->n_public > 0) {
			t->exposed = 1;
			if (ncrit && bsearch(&pr->pid, crit, ncrit, sizeof *crit, ll_cmp))
				t->crit_exposed = 1;
		}
	}
	free(crit);
	return rc;
}

/* 4c. errors (the first 1,000 stored, all counted) */
static int tx_errors(struct tx *t)
{
	const struct report *r = t->r;
	int rc;
	t->nerr = t->d.n_errors;
	if (!t->repl_errors)
		return DB_OK;
	if ((rc = tx_clear(t, "DELETE FROM scan_errors WHERE device_id = ?")))
		return rc;
	t->nerr = (long long)r->n_errors;
	for (size_t i = 0; i < r->n_errors && i < 1000; i++) {
		struct dbv q[3] = {dv_int(t->d.id), dv_text(r->errors[i].path), dv_text(r->errors[i].error)};
		if ((rc = dbc_exec(t->c, "INSERT INTO scan_errors(device_id, path, error) VALUES(?, ?, ?)", q, 3,
				   NULL, NULL)))
			return rc;
	}
	return DB_OK;
}

/* seen[i]: the device already had an attempt calling back to the host of
 * attempt i before this report */
static int attempts_seen(struct tx *t, bool *seen)
{
	for (size_t i = 0; i < t->r->n_attempts; i++) {
		const struct rp_attempt *a = &t->r->attempts[i];
		long long n = 0;
		struct dbv hp[2] = {dv_text(a->host ? a->host : ""), dv_int(t->d.id)};
		if (!a->host)
			continue;
		int rc = dbc_int(t->c, "SELECT COUNT(*) FROM (SELECT 1 FROM attempts WHERE host = ? AND device_id = ?"
				       " LIMIT 1) t", hp, 2, 0, &n);
		if (rc)
			return rc;
		seen[i] = n > 0;
	}
	return DB_OK;
}

/* 4d. attempts (appended, de-duplicated); each new one counts for its
 * callback host, and its device too unless seen before */
static int tx_attempts(struct tx *t)
{
	const struct report *r = t->r;
	t->natt = t->d.n_attempts;
	bool *seen = xcalloc(r->n_attempts ? r->n_attempts : 1, sizeof *seen);
	t->att_new = xcalloc(r->n_attempts ? r->n_attempts : 1, sizeof *t->att_new);
	int rc = attempts_seen(t, seen);
	for (size_t i = 0; i < r->n_attempts && rc == DB_OK; i++) {
		const struct rp_attempt *a = &r->attempts[i];
		char dom[256];
		bool has_dom = a->host && regdomain_of(a->host, dom, sizeof dom);
		struct dbv q[18] = {dv_int(t->d.id), dv_text(r->report_id), dv_text(t->pl->fps[i]), dv_text(a->path),
				    opt_int(a->has_line, a->line), opt_int(a->has_offset, a->offset), dv_text(a->timestamp),
				    dv_text(a->raw), dv_text(a->decoded), dv_text(a->protocol),
				    dv_text(a->host ? a->host : ""), opt_int(a->has_port, a->port), dv_text(a->client),
				    dv_text(a->exfil_json), dv_int(t->now), dv_text(a->payload), dv_text(a->payload_b64),
				    dv_text(has_dom ? dom : NULL)};
		long long inserted = 0;
		if ((rc = dbc_int(t->c, "INSERT INTO attempts(device_id, report_id, fp, path, line, byte_offset, ts, raw,"
					" decoded, protocol, host, port, client, exfil_json, received, payload, payload_b64, domain)"
					" VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
					" ON CONFLICT(device_id, fp) DO NOTHING RETURNING id", q, 18, 0, &inserted)))
			break;
		if (!inserted)
			continue;
		t->att_new[i] = true;
		t->natt++;
		t->res->attempts_new++;
		if (a->host) {
			/* one more attempt for the host; one more device unless seen before */
			ingest_akeys_add(&t->ak, "callback", a->host, "", "", "", true);
			if (seen[i]) {
				ingest_akeys_add(&t->ak, "callback", a->host, "", "", "", true);
				t->ak.v[t->ak.n - 1].before = 1;
			}
		}
	}
	free(seen);
	return rc;
}

/* 5. the device's counters; the aggregates' and trend's deltas to dl */
static int tx_counters(struct tx *t)
{
	const struct report *r = t->r;
	const struct dev_state *d = &t->d;
	/* tags belong to the device: a report adds its own unless it says
	 * they replace them (--replace-tags) */
	free(t->tags);
	t->tags = ingest_tags_merge(d->tags_json, r->tags_json, r->replace_tags);
	long long attacked = t->natt > 0;
	long long priority = t->crit_exposed * 4 + t->exposed * 2 + attacked;
	/* what the last scan covered: replaced with the findings */
	bool cov = t->repl_findings_all && t->pl->coverage;
	bool newer = r->created_epoch >= d->last_created;
	struct dbv p[] = {
		dv_int(t->now), dv_text(r->report_id), dv_int(d->n_reports + 1),
		dv_int(t->repl_findings_all ? r->created_epoch : d->scan_created),
		dv_int(t->repl_processes && t->pl->is_ps ? r->created_epoch : d->ps_created),
		dv_int(t->nv), dv_int(t->nm), dv_int(t->ns), dv_int(t->nproc), dv_int(t->nrestart), dv_int(t->natt),
		dv_int(t->nerr), dv_int(t->exposed), dv_int(attacked), dv_int(priority),
		dv_int(newer), dv_text(r->hostname ? r->hostname : ""), dv_text(r->machine_id),
		dv_text(r->os ? r->os : ""), dv_text(r->kernel ? r->kernel : ""), dv_text(r->ips_json),
		dv_text(t->tags), dv_text(r->agent_version ? r->agent_version : ""),
		dv_int(r->created_epoch), dv_text(t->fhash), dv_int(d->id), dv_text(r->agent_id)};
	int rc = dbc_exec(t->c, "UPDATE devices SET last_seen = ?, last_report_id = ?, n_reports = ?,"
				" scan_created = ?, ps_created = ?, n_vulnerable = ?, n_mitigated = ?, n_safe = ?,"
				" n_processes = ?, n_restart = ?, n_attempts = ?, n_errors = ?, exposed = ?,"
				" attacked = ?, priority = ?,"
				" hostname = CASE WHEN ? = 1 THEN ? ELSE hostname END, machine_id = ?,"
				" os = ?, kernel = ?, ips_json = ?, tags_json = ?, agent_version = ?, agent_id = ?,"
				" last_created = CASE WHEN last_created > ? THEN last_created ELSE ? END,"
				" findings_hash = ?, n_critical = ?, critical_exposed = ?,"
				" coverage = CASE WHEN ? = 1 THEN ? ELSE coverage END,"
				" coverage_json = CASE WHEN ? = 1 THEN ? ELSE coverage_json END WHERE id = ?",
			  (struct dbv[]){p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11],
					 p[12], p[13], p[14], p[15], p[16], p[17], p[18], p[19], p[20], p[21],
					 p[22], p[26], p[23], p[23], p[24], dv_int(t->ncrit), dv_int(t->crit_exposed),
					 dv_int(cov), dv_text(t->pl->coverage), dv_int(cov), dv_text(t->pl->coverage_json),
					 p[25]},
			  34, NULL, NULL);

	if (rc)
		return rc;
	ingest_akeys_reduce(&t->ak, &t->dl->agg);
	long long dv[9] = {
		d->n_reports == 0, (t->nv > 0) - (d->n_vulnerable > 0), t->exposed - d->exposed, attacked - d->attacked,
		t->nv - d->n_vulnerable, t->nm - d->n_mitigated, t->ns - d->n_safe, t->nrestart - d->n_restart,
		t->natt - d->n_attempts};
	for (int i = 0; i < 9; i++)
		t->dl->trend[i] += dv[i];
	return DB_OK;
}

/* 6. webhook events (webhook.h), queued in this transaction */
static int tx_webhooks(struct tx *t)
{
	/* SQLite ingest always has the writer's archive ids (an), PostgreSQL never */
	struct webhook_tx w = {.c = t->c, .pg = !t->an, .r = t->r, .ident = buf_cstr((struct buf *)&t->pl->ident),
			       .tags_json = t->tags,
			       .device_id = t->d.id, .now = t->now,
			       .became_critical_exposed = t->crit_exposed && !t->d.critical_exposed,
			       .n_critical = t->ncrit, .attempt_new = t->att_new, .attempts_new = t->res->attempts_new,
			       .findings_stored = t->store_findings,
			       .ps_only = t->repl_findings_pid};
	return webhook_events_tx(&w);
}

int ingest_tx(struct dbc *c, const struct report *r, const struct plan *pl, long long token_id, long long now,
	      struct ingest_result *res, struct deltas *dl, struct arch_new *an, bool archives_known)
{
	static int (*const step[])(struct tx *) = {
		tx_device, tx_history, tx_findings, tx_processes, tx_errors, tx_attempts, tx_counters, tx_webhooks,
	};
	struct tx t = {.c = c, .r = r, .pl = pl, .token_id = token_id, .now = now, .res = res, .dl = dl, .an = an,
		       .archives_known = archives_known};
	int rc = DB_OK;
	memset(res, 0, sizeof *res);
	for (size_t i = 0; i < sizeof step / sizeof step[0] && rc == DB_OK && !res->duplicate; i++)
		rc = step[i](&t);
	ingest_fkeys_free(&t.before);
	ingest_akeys_free(&t.ak);
	free(t.shadow);
	free(t.shadow_path);
	free(t.att_new);
	free(t.tags);
	free(t.d.tags_json);
	return rc;
}
