/* webhook_events.c - the webhook events a report makes, queued in the
 * report's own transaction (see webhook.h): the device became critically
 * exposed, it was attacked (new attempts), an archive was stored as
 * vulnerable for the first time in the fleet (table vuln_archives: one
 * INSERT that does nothing for an archive already seen, so a known archive
 * costs no write).  Most reports make no event and cost one comparison.
 * And, in the transaction that ends the re-judging of a change of rules,
 * its one rules_changed event and the archive_vulnerable and
 * device_critical_exposed events of what it made so. */
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonw.h"

int webhook_event_queue(struct dbc *c, const char *kind, long long now, long long device_id, const char *data_json,
			long long only_hook, long long *event_id)
{
	struct dbv p[4] = {dv_text(kind), dv_int(now), device_id ? dv_int(device_id) : dv_null(), dv_text(data_json)};
	long long id = 0;
	int rc = dbc_int(c, "INSERT INTO webhook_events(kind, created, device_id, data_json) VALUES(?, ?, ?, ?)"
			    " RETURNING id", p, 4, 0, &id);
	if (rc)
		return rc;
	if (!id)
		return DB_ERR;
	if (event_id)
		*event_id = id;
	if (only_hook > 0) {
		struct dbv q[3] = {dv_int(id), dv_int(now), dv_int(only_hook)};
		return dbc_exec(c, "INSERT INTO webhook_deliveries(event_id, webhook_id, next_at) SELECT ?, id, ?"
				   " FROM webhooks WHERE id = ?", q, 3, NULL, NULL);
	}
	char pat[64];
	snprintf(pat, sizeof pat, "%%,%s,%%", kind);
	struct dbv q[3] = {dv_int(id), dv_int(now), dv_text(pat)};
	return dbc_exec(c, "INSERT INTO webhook_deliveries(event_id, webhook_id, next_at) SELECT ?, id, ?"
			   " FROM webhooks WHERE ',' || events || ',' LIKE ?", q, 3, NULL, NULL);
}

/* The parts of the payloads, written once for ingest's events (from the
 * report) and a re-judging's (from the stored rows): NULL is null, and so
 * is an empty machine_id or agent_id. */

/* "device": what identifies it */
static void device_obj(struct buf *b, long long id, const char *ident, const char *hostname, const char *machine_id,
		       const char *agent_id, const char *tags_json)
{
	buf_printf(b, "\"device\":{\"id\":%lld", id);
	jsonw_field_str(b, true, "ident", ident);
	jsonw_field_str_or_null(b, true, "hostname", hostname);
	jsonw_field_str_or_null(b, true, "machine_id", machine_id && *machine_id ? machine_id : NULL);
	jsonw_field_str_or_null(b, true, "agent_id", agent_id && *agent_id ? agent_id : NULL);
	buf_adds(b, ",\"tags\":");
	buf_adds(b, tags_json ? tags_json : "[]");
	buf_addc(b, '}');
}

/* one of "processes" (first: no comma before it) */
static void process_obj(struct buf *b, bool first, long long pid, const char *command, const char *listening_json)
{
	buf_printf(b, "%s{\"pid\":%lld", first ? "" : ",", pid);
	jsonw_field_str_or_null(b, true, "command", command);
	buf_adds(b, ",\"listening\":");
	buf_adds(b, listening_json ? listening_json : "[]");
	buf_addc(b, '}');
}

/* "archive" */
static void archive_obj(struct buf *b, const char *sha256, const char *cd_sha256, const char *component,
			const char *version, const char *severity, const char *fixed_in, const char *cves_json,
			const char *path)
{
	buf_adds(b, "\"archive\":{");
	jsonw_field_str_or_null(b, false, "sha256", sha256);
	jsonw_field_str_or_null(b, true, "cd_sha256", cd_sha256);
	jsonw_field_str_or_null(b, true, "component", component);
	jsonw_field_str_or_null(b, true, "version", version);
	jsonw_field_str_or_null(b, true, "severity", severity);
	jsonw_field_str_or_null(b, true, "fixed_in", fixed_in);
	buf_adds(b, ",\"cves\":");
	buf_adds(b, cves_json ? cves_json : "[]");
	jsonw_field_str_or_null(b, true, "path", path);
	buf_addc(b, '}');
}

static void device_json(struct buf *b, const struct webhook_tx *w)
{
	const struct report *r = w->r;
	device_obj(b, w->device_id, w->ident, r->hostname, r->machine_id, r->agent_id, w->tags_json);
}

static int ev(const struct webhook_tx *w, const char *kind, struct buf *data)
{
	return webhook_event_queue(w->c, kind, w->now, w->device_id, buf_cstr(data), 0, NULL);
}

#define ATTEMPTS_SHOWN 10

static int attacked(const struct webhook_tx *w)
{
	const struct report *r = w->r;
	struct buf b = BUF_INIT;
	buf_addc(&b, '{');
	device_json(&b, w);
	buf_printf(&b, ",\"report_id\":\"%s\",\"attempts_new\":%lld,\"attempts\":[", r->report_id, w->attempts_new);
	int shown = 0;
	for (size_t i = 0; i < r->n_attempts && shown < ATTEMPTS_SHOWN; i++) {
		const struct rp_attempt *a = &r->attempts[i];
		if (!w->attempt_new[i])
			continue;
		buf_adds(&b, shown++ ? ",{" : "{");
		jsonw_field_str_or_null(&b, false, "host", a->host);
		jsonw_field_str_or_null(&b, true, "protocol", a->protocol);
		jsonw_field_str_or_null(&b, true, "client", a->client);
		jsonw_field_str_or_null(&b, true, "timestamp", a->timestamp);
		jsonw_field_str_or_null(&b, true, "path", a->path);
		if (a->has_line)
			jsonw_field_int(&b, true, "line", a->line);
		jsonw_field_str_or_null(&b, true, "decoded", a->decoded);
		buf_addc(&b, '}');
	}
	buf_adds(&b, "]}");
	int rc = ev(w, "device_attacked", &b);
	buf_free(&b);
	return rc;
}

static int critical_exposed(const struct webhook_tx *w)
{
	const struct report *r = w->r;
	struct buf b = BUF_INIT;
	buf_addc(&b, '{');
	device_json(&b, w);
	buf_printf(&b, ",\"report_id\":\"%s\",\"critical_files\":%lld,\"processes\":[", r->report_id, w->n_critical);
	int shown = 0;
	for (size_t i = 0; i < r->n_processes; i++) {
		const struct rp_process *p = &r->processes[i];
		if (strcmp(p->status, "vulnerable") || p->n_public <= 0 || shown >= ATTEMPTS_SHOWN)
			continue;
		process_obj(&b, !shown++, p->pid, p->command, p->listening_json);
	}
	buf_adds(&b, "],\"cause\":\"report\"}");
	int rc = ev(w, "device_critical_exposed", &b);
	buf_free(&b);
	return rc;
}

static int finding_cmp(const void *a, const void *b)
{
	const struct rp_finding *x = *(const struct rp_finding *const *)a, *y = *(const struct rp_finding *const *)b;
	return strcmp(x->archive_key, y->archive_key);
}

static int archive_event(const struct webhook_tx *w, const struct rp_finding *f)
{
	struct buf b = BUF_INIT;
	buf_addc(&b, '{');
	device_json(&b, w);
	buf_printf(&b, ",\"report_id\":\"%s\",", w->r->report_id);
	archive_obj(&b, f->sha256, f->cd_sha256, f->component, f->version, f->severity, f->fixed_in, f->cves_json,
		    f->path);
	buf_adds(&b, ",\"cause\":\"report\"}");
	int rc = ev(w, "archive_vulnerable", &b);
	buf_free(&b);
	return rc;
}

/* keys RETURNING gives back, each once (the arrays sent have no
 * duplicate): appended, no search */
struct keys { char **v; size_t n, cap; };
static int key_row(void *ctx, const struct dbrow *r)
{
	struct keys *k = ctx;
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 16;
		k->v = xrealloc(k->v, k->cap * sizeof *k->v);
	}
	k->v[k->n++] = xstrdup(dbrow_text(r, 0));
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Of the archive keys in arr (a JSON array of strings), those the fleet
 * never had as vulnerable, recorded as vulnerable now (table vuln_archives)
 * and appended to fresh, sorted: one INSERT, a known key costs no write.
 * Ingest's test, and a re-judging's. */
static int fleet_first(struct dbc *c, bool pg, long long now, const struct buf *arr, struct keys *fresh)
{
	struct dbv p[2] = {dv_int(now), dv_text(buf_cstr((struct buf *)arr))};
	int rc = dbc_exec(c, pg ? "INSERT INTO vuln_archives(akey, first_seen) SELECT k, ?"
				  " FROM json_array_elements_text(?::json) AS k ON CONFLICT(akey) DO NOTHING RETURNING akey"
				: "INSERT INTO vuln_archives(akey, first_seen) SELECT value, ? FROM json_each(?) WHERE true"
				  " ON CONFLICT(akey) DO NOTHING RETURNING akey",
			  p, 2, key_row, fresh);
	if (fresh->n)
		qsort(fresh->v, fresh->n, sizeof *fresh->v, key_cmp);
	return rc;
}

/* the report's vulnerable archives, each once (sorted by key), in one
 * INSERT of them all: those the fleet never had as vulnerable come back
 * (RETURNING) and get an event */
static int new_archives(const struct webhook_tx *w)
{
	const struct report *r = w->r;
	const struct rp_finding **v = xcalloc(r->n_findings + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < r->n_findings; i++)
		if (*r->findings[i].archive_key && !strcmp(r->findings[i].status, "vulnerable") &&
		    (!w->ps_only || r->findings[i].has_pid))
			v[n++] = &r->findings[i];
	int rc = DB_OK;
	if (!n)
		goto out;
	qsort(v, n, sizeof *v, finding_cmp);
	struct buf arr = BUF_INIT;
	buf_addc(&arr, '[');
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(v[i]->archive_key, v[i - 1]->archive_key))
			continue;
		if (arr.len > 1)
			buf_addc(&arr, ',');
		jsonw_cstr(&arr, v[i]->archive_key);
	}
	buf_addc(&arr, ']');
	struct keys fresh = {NULL, 0, 0};
	rc = fleet_first(w->c, w->pg, w->now, &arr, &fresh);
	buf_free(&arr);
	for (size_t i = 0; i < fresh.n && rc == DB_OK; i++) {
		struct rp_finding probe;
		snprintf(probe.archive_key, sizeof probe.archive_key, "%s", fresh.v[i]);
		const struct rp_finding *pp = &probe, **f = bsearch(&pp, v, n, sizeof *v, finding_cmp);
		rc = f ? archive_event(w, *f) : DB_ERR;
	}
	strv_free(fresh.v, fresh.n);
out:
	free(v);
	return rc;
}

int webhook_events_tx(const struct webhook_tx *w)
{
	int rc = DB_OK;
	if (w->became_critical_exposed)
		rc = critical_exposed(w);
	if (rc == DB_OK && w->attempts_new > 0)
		rc = attacked(w);
	if (rc == DB_OK && w->findings_stored)
		rc = new_archives(w);
	return rc;
}

/* ---- rules_changed */

struct rc_rows {
	struct buf *cves;
	long long n;
};

/* rules_changes r LEFT JOIN cve_info ci: r.id, r.cve, r.newly,
 * r.no_longer, ci.cvss, ci.severity, ci.title */
static int rules_change_row(void *ctx, const struct dbrow *r)
{
	struct rc_rows *x = ctx;
	struct buf *b = x->cves;
	buf_adds(b, x->n++ ? ",{" : "{");
	jsonw_field_str(b, false, "cve", dbrow_text(r, 1));
	jsonw_field_int(b, true, "change_id", dbrow_int(r, 0));
	jsonw_field_int(b, true, "newly", dbrow_int(r, 2));
	jsonw_field_int(b, true, "no_longer", dbrow_int(r, 3));
	for (int col = 4; col <= 6; col++) {
		static const char *const names[] = {"cvss", "severity", "title"};
		jsonw_field_str_or_null(b, true, names[col - 4], dbrow_type(r, col) == DBV_NULL ? NULL : dbrow_text(r, col));
	}
	buf_addc(b, '}');
	return 0;
}

static int rules_source_row(void *ctx, const struct dbrow *r)
{
	buf_adds(ctx, dbrow_text(r, 0));
	return 1;
}

int webhook_events_rules_changed(struct dbc *c, long long rules_id, long long prev_id, long long now,
				 long long first_change)
{
	struct buf cves = BUF_INIT, source = BUF_INIT, data = BUF_INIT;
	struct rc_rows x = {&cves, 0};
	/* the CVE's score and title are the new rules' (cve_info.c wrote them
	 * in this transaction); CVEs in the order the change recorded them */
	int rc = dbc_exec(c, "SELECT r.id, r.cve, r.newly, r.no_longer, ci.cvss, ci.severity, ci.title"
			     " FROM rules_changes r LEFT JOIN cve_info ci ON ci.cve = r.cve WHERE r.id > ? ORDER BY r.id",
			  (struct dbv[]){dv_int(first_change)}, 1, rules_change_row, &x);
	if (rc != DB_OK || !x.n)
		goto out;
	long long newly = 0, gone = 0;
	/* devices, each once whatever the number of its CVEs */
	rc = dbc_int(c, "SELECT COUNT(DISTINCT device_id) FROM rules_change_devices WHERE change_id > ? AND newly = 1",
		     (struct dbv[]){dv_int(first_change)}, 1, 0, &newly);
	if (rc == DB_OK)
		rc = dbc_int(c, "SELECT COUNT(DISTINCT device_id) FROM rules_change_devices"
				" WHERE change_id > ? AND newly = 0",
			     (struct dbv[]){dv_int(first_change)}, 1, 0, &gone);
	if (rc == DB_OK && rules_id)
		rc = dbc_exec(c, "SELECT source FROM rules WHERE id = ?", (struct dbv[]){dv_int(rules_id)}, 1,
			      rules_source_row, &source);
	if (rc != DB_OK)
		goto out;
	buf_addc(&data, '{');
	jsonw_field_int(&data, false, "rules_id", rules_id);
	jsonw_field_str(&data, true, "source", rules_id ? buf_cstr(&source) : "built-in");
	jsonw_field_int(&data, true, "prev_id", prev_id);
	jsonw_field_int(&data, true, "at", now);
	jsonw_field_int(&data, true, "devices_newly_affected", newly);
	jsonw_field_int(&data, true, "devices_no_longer_affected", gone);
	buf_adds(&data, ",\"cves\":[");
	buf_add(&data, cves.data, cves.len);
	buf_adds(&data, "]}");
	rc = webhook_event_queue(c, "rules_changed", now, 0, buf_cstr(&data), 0, NULL);
out:
	buf_free(&cves);
	buf_free(&source);
	buf_free(&data);
	return rc;
}

/* ---- what a re-judging made so: archive_vulnerable, device_critical_exposed */

/* A re-judging's events, queued in batches of one kind: one INSERT of
 * many events (RETURNING their ids) and one of their deliveries, instead of
 * two statements an event (webhook_event_queue). */
struct ev_batch {
	struct dbc *c;
	bool pg;
	const char *kind;
	long long now;
	struct buf rows; /* [[device_id, data_json], ... */
	struct buf ids;  /* [id, ... */
};

static int batch_id_row(void *ctx, const struct dbrow *r)
{
	struct buf *ids = ctx;
	buf_printf(ids, "%c%lld", ids->len ? ',' : '[', dbrow_int(r, 0));
	return 0;
}

static int ev_batch_flush(struct ev_batch *q)
{
	if (!q->rows.len)
		return DB_OK;
	buf_addc(&q->rows, ']');
	buf_reset(&q->ids);
	struct dbv p[3] = {dv_text(q->kind), dv_int(q->now), dv_text(buf_cstr(&q->rows))};
	int rc = dbc_exec(q->c, q->pg ? "INSERT INTO webhook_events(kind, created, device_id, data_json)"
					" SELECT ?, ?, (e->>0)::bigint, e->>1 FROM jsonb_array_elements(CAST(? AS jsonb)) e"
					" RETURNING id"
				      : "INSERT INTO webhook_events(kind, created, device_id, data_json)"
					" SELECT ?, ?, json_extract(e.value, '$[0]'), json_extract(e.value, '$[1]')"
					" FROM json_each(?) e WHERE true RETURNING id",
			  p, 3, batch_id_row, &q->ids);
	buf_reset(&q->rows);
	if (rc != DB_OK || !q->ids.len)
		return rc ? rc : DB_ERR;
	buf_addc(&q->ids, ']');
	char pat[64];
	snprintf(pat, sizeof pat, "%%,%s,%%", q->kind);
	struct dbv d[3] = {dv_int(q->now), dv_text(buf_cstr(&q->ids)), dv_text(pat)};
	return dbc_exec(q->c, q->pg ? "INSERT INTO webhook_deliveries(event_id, webhook_id, next_at)"
				      " SELECT CAST(e AS BIGINT), w.id, ? FROM jsonb_array_elements_text(CAST(? AS jsonb)) e,"
				      " webhooks w WHERE ',' || w.events || ',' LIKE ?"
				    : "INSERT INTO webhook_deliveries(event_id, webhook_id, next_at)"
				      " SELECT e.value, w.id, ? FROM json_each(?) e, webhooks w"
				      " WHERE ',' || w.events || ',' LIKE ?",
			d, 3, NULL, NULL);
}

/* one event's device and data; flushed at 1 MiB */
static int ev_batch_add(struct ev_batch *q, long long device_id, const struct buf *data)
{
	buf_addc(&q->rows, q->rows.len ? ',' : '[');
	buf_printf(&q->rows, "[%lld,", device_id);
	jsonw_cstr(&q->rows, buf_cstr((struct buf *)data));
	buf_addc(&q->rows, ']');
	return q->rows.len > (1u << 20) ? ev_batch_flush(q) : DB_OK;
}

struct rj_ev {
	struct buf *b;
	bool found;
};

static const char *col_or_null(const struct dbrow *r, int col)
{
	return dbrow_type(r, col) == DBV_NULL ? NULL : dbrow_text(r, col);
}

/* a stored device's columns id, ident, hostname, machine_id, agent_id,
 * tags_json from column at on */
static void stored_device_json(struct buf *b, const struct dbrow *r, int at)
{
	const char *host = col_or_null(r, at + 2);
	device_obj(b, dbrow_int(r, at), dbrow_text(r, at + 1), host && *host ? host : NULL, col_or_null(r, at + 3),
		   col_or_null(r, at + 4), col_or_null(r, at + 5));
}


static void cause_json(struct buf *b, long long rules_id, long long prev_id)
{
	buf_printf(b, ",\"cause\":\"rules_change\",\"rules_id\":%lld,\"prev_id\":%lld}", rules_id, prev_id);
}

/* processes: pid, command, listening_json */
static int exposed_process_row(void *ctx, const struct dbrow *r)
{
	struct rj_ev *x = ctx;
	process_obj(x->b, !x->found, dbrow_int(r, 0), col_or_null(r, 1), col_or_null(r, 2));
	x->found = true;
	return 0;
}

/* devices: id, ident, hostname, machine_id, agent_id, tags_json,
 * last_report_id, n_critical */
static int critical_device_row(void *ctx, const struct dbrow *r)
{
	struct rj_ev *x = ctx;
	x->found = true;
	stored_device_json(x->b, r, 0);
	jsonw_field_str_or_null(x->b, true, "report_id", *dbrow_text(r, 6) ? dbrow_text(r, 6) : NULL);
	jsonw_field_int(x->b, true, "critical_files", dbrow_int(r, 7));
	return 1;
}

/* device_critical_exposed as ingest sends it, its report the device's last
 * one and its processes those stored (vulnerable, listening beyond
 * loopback; at most ATTEMPTS_SHOWN, as ingest), plus the cause */
static int rejudged_critical(struct ev_batch *q, long long dev, long long rules_id, long long prev_id)
{
	struct dbc *c = q->c;
	struct buf b = BUF_INIT;
	struct rj_ev x = {&b, false};
	buf_addc(&b, '{');
	int rc = dbc_exec(c, "SELECT id, ident, hostname, machine_id, agent_id, tags_json, last_report_id, n_critical"
			     " FROM devices WHERE id = ?",
			  (struct dbv[]){dv_int(dev)}, 1, critical_device_row, &x);
	if (rc == DB_OK && x.found) {
		buf_adds(&b, ",\"processes\":[");
		x.found = false;
		rc = dbc_exec(c, "SELECT pid, command, listening_json FROM processes WHERE device_id = ?"
				 " AND status = 'vulnerable' AND n_public > 0 ORDER BY id LIMIT 10",
			      (struct dbv[]){dv_int(dev)}, 1, exposed_process_row, &x);
		buf_addc(&b, ']');
		cause_json(&b, rules_id, prev_id);
		if (rc == DB_OK)
			rc = ev_batch_add(q, dev, &b);
	}
	buf_free(&b);
	return rc;
}

struct rj_archive {
	struct buf *b;
	long long device_id;
};

/* findings f: device_id, report_id, sha256, cd_sha256, component, version,
 * severity, fixed_in, cves_json, path; then its device's columns */
static int archive_finding_row(void *ctx, const struct dbrow *r)
{
	struct rj_archive *x = ctx;
	struct buf *b = x->b;
	x->device_id = dbrow_int(r, 0);
	buf_addc(b, '{');
	stored_device_json(b, r, 10);
	jsonw_field_str_or_null(b, true, "report_id", col_or_null(r, 1));
	buf_addc(b, ',');
	archive_obj(b, col_or_null(r, 2), col_or_null(r, 3), col_or_null(r, 4), col_or_null(r, 5), col_or_null(r, 6),
		    col_or_null(r, 7), col_or_null(r, 8), col_or_null(r, 9));
	return 1;
}

/* archive_vulnerable as ingest sends it, for the first stored vulnerable
 * copy of the archive on a device not retired (its device, report and
 * path), plus the number of devices that have it and the cause.  One
 * statement: the archive's id, then its findings in id order through
 * findings_archive, stopping at the first that fits (not a sort of all of
 * them: 0.2 ms against 7 ms for 400 copies on PostgreSQL). */
static int rejudged_archive(struct ev_batch *q, const char *akey, long long devices, long long rules_id,
			    long long prev_id)
{
	struct dbc *c = q->c;
	struct buf b = BUF_INIT;
	struct rj_archive a = {&b, 0};
	int rc = dbc_exec(c, "SELECT f.device_id, f.report_id, f.sha256, f.cd_sha256, f.component, f.version, f.severity,"
			     " f.fixed_in, f.cves_json, f.path, d.id, d.ident, d.hostname, d.machine_id, d.agent_id,"
			     " d.tags_json FROM findings f JOIN devices d ON d.id = f.device_id"
			     " WHERE f.archive_id = (SELECT a.id FROM archives a WHERE a.sha256 = ?)"
			     " AND f.status = 'vulnerable' AND f.shadowed = 0 AND d.retired = 0 ORDER BY f.id LIMIT 1",
			  (struct dbv[]){dv_text(akey)}, 1, archive_finding_row, &a);
	if (rc == DB_OK && b.len) {
		jsonw_field_int(&b, true, "devices", devices);
		cause_json(&b, rules_id, prev_id);
		rc = ev_batch_add(q, a.device_id, &b);
	}
	buf_free(&b);
	return rc;
}

int webhook_events_rejudged(struct dbc *c, bool pg, long long rules_id, long long prev_id, long long now,
			    const long long *critical, size_t ncritical, char *const *akeys,
			    const long long *akey_devices, size_t nakeys)
{
	struct ev_batch q = {c, pg, "device_critical_exposed", now, BUF_INIT, BUF_INIT};
	int rc = DB_OK;
	for (size_t i = 0; rc == DB_OK && i < ncritical; i++)
		rc = rejudged_critical(&q, critical[i], rules_id, prev_id);
	if (rc == DB_OK)
		rc = ev_batch_flush(&q);
	struct keys fresh = {NULL, 0, 0};
	if (rc == DB_OK && nakeys) {
		struct buf arr = BUF_INIT;
		buf_addc(&arr, '[');
		for (size_t i = 0; i < nakeys; i++) {
			if (i)
				buf_addc(&arr, ',');
			jsonw_cstr(&arr, akeys[i]);
		}
		buf_addc(&arr, ']');
		rc = fleet_first(c, pg, now, &arr, &fresh);
		buf_free(&arr);
	}
	/* akeys is sorted: each fresh key's device count by bsearch */
	q.kind = "archive_vulnerable";
	for (size_t i = 0; rc == DB_OK && i < fresh.n; i++) {
		char **k = bsearch(&fresh.v[i], akeys, nakeys, sizeof *akeys, key_cmp);
		rc = k ? rejudged_archive(&q, fresh.v[i], akey_devices[k - akeys], rules_id, prev_id) : DB_ERR;
	}
	if (rc == DB_OK)
		rc = ev_batch_flush(&q);
	strv_free(fresh.v, fresh.n);
	buf_free(&q.rows);
	buf_free(&q.ids);
	return rc;
}
