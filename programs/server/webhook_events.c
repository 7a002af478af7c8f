/* webhook_events.c - the webhook events a report makes, queued in the
 * report's own transaction (see webhook.h): the device became critically
 * exposed, it was attacked (new attempts), an archive was stored as
 * vulnerable for the first time in the fleet (table vuln_archives: one
 * INSERT that does nothing for an archive already seen, so a known archive
 * costs no write).  Most reports make no event and cost one comparison.
 * And the one event of a change of rules (rules_changed), queued in the
 * transaction that ends its re-judging. */
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

/* "device": what identifies it */
static void device_json(struct buf *b, const struct webhook_tx *w)
{
	const struct report *r = w->r;
	buf_printf(b, "\"device\":{\"id\":%lld", w->device_id);
	jsonw_field_str(b, true, "ident", w->ident);
	jsonw_field_str_or_null(b, true, "hostname", r->hostname);
	jsonw_field_str_or_null(b, true, "machine_id", *r->machine_id ? r->machine_id : NULL);
	jsonw_field_str_or_null(b, true, "agent_id", *r->agent_id ? r->agent_id : NULL);
	buf_adds(b, ",\"tags\":");
	buf_adds(b, w->tags_json ? w->tags_json : "[]");
	buf_addc(b, '}');
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
		buf_printf(&b, "%s{\"pid\":%lld", shown++ ? "," : "", p->pid);
		jsonw_field_str_or_null(&b, true, "command", p->command);
		buf_adds(&b, ",\"listening\":");
		buf_adds(&b, p->listening_json ? p->listening_json : "[]");
		buf_addc(&b, '}');
	}
	buf_adds(&b, "]}");
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
	buf_printf(&b, ",\"report_id\":\"%s\",\"archive\":{", w->r->report_id);
	jsonw_field_str_or_null(&b, false, "sha256", f->sha256);
	jsonw_field_str_or_null(&b, true, "cd_sha256", f->cd_sha256);
	jsonw_field_str_or_null(&b, true, "component", f->component);
	jsonw_field_str_or_null(&b, true, "version", f->version);
	jsonw_field_str_or_null(&b, true, "severity", f->severity);
	jsonw_field_str_or_null(&b, true, "fixed_in", f->fixed_in);
	buf_adds(&b, ",\"cves\":");
	buf_adds(&b, f->cves_json ? f->cves_json : "[]");
	jsonw_field_str_or_null(&b, true, "path", f->path);
	buf_adds(&b, "}}");
	int rc = ev(w, "archive_vulnerable", &b);
	buf_free(&b);
	return rc;
}

struct keys { char **v; size_t n; };
static int key_row(void *ctx, const struct dbrow *r)
{
	struct keys *k = ctx;
	strv_add(&k->v, &k->n, dbrow_text(r, 0));
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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
	struct keys fresh = {NULL, 0};
	struct dbv p[2] = {dv_int(w->now), dv_text(buf_cstr(&arr))};
	rc = dbc_exec(w->c, w->pg ? "INSERT INTO vuln_archives(akey, first_seen) SELECT k, ?"
				    " FROM json_array_elements_text(?::json) AS k ON CONFLICT(akey) DO NOTHING RETURNING akey"
				  : "INSERT INTO vuln_archives(akey, first_seen) SELECT value, ? FROM json_each(?) WHERE true"
				    " ON CONFLICT(akey) DO NOTHING RETURNING akey",
		      p, 2, key_row, &fresh);
	buf_free(&arr);
	if (fresh.n)
		qsort(fresh.v, fresh.n, sizeof *fresh.v, key_cmp);
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
