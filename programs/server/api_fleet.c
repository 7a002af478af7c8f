/* api_fleet.c - the fleet at a glance: GET summary (the fleet's totals),
 * overview (summary + by CVE and version, remediation items, callback
 * hosts, trend, top devices) and devices/ID; and api_get(), which answers
 * every GET under /api/v1/ (the rest are lists, api_list.c). */
#include "api_internal.h"

#include <stdio.h>
#include <string.h>

struct one { struct buf *out; bool found; };
static int one_obj(void *ctx, const struct dbrow *r)
{
	struct one *o = ctx;
	qb_row_json(o->out, r);
	o->found = true;
	return 1;
}

/* The fleet totals are kept by ingest in the newest trend row; only the
 * counts that depend on the clock or on two flags are counted here, each on
 * an index (last_seen, priority). */
static const char SUMMARY_SQL[] =
	"SELECT COALESCE(t.devices, 0), COALESCE(t.exposed, 0), COALESCE(t.attacked, 0),"
	" (SELECT COUNT(*) FROM devices WHERE retired = 0 AND priority IN (3, 7)),"
	" COALESCE(t.devices_vulnerable, 0),"
	" (SELECT COUNT(*) FROM devices WHERE retired = 0 AND last_seen < ?),"
	" COALESCE(t.vulnerable, 0), COALESCE(t.mitigated, 0), COALESCE(t.safe, 0), COALESCE(t.restart, 0),"
	" COALESCE(t.attempts, 0), (SELECT COALESCE(MAX(last_seen), 0) FROM devices WHERE retired = 0),"
	/* machine ids that several devices (installs) share: clones */
	" (SELECT COUNT(*) FROM (SELECT machine_id FROM devices WHERE retired = 0 AND machine_id <> ''"
	"  GROUP BY machine_id HAVING COUNT(*) > 1) s),"
	/* issue 20: critically exposed (priority 6, 7: its index), devices
	 * with a critical vulnerable file, coverage of the last scan */
	" (SELECT COUNT(*) FROM devices WHERE retired = 0 AND priority >= 6),"
	" (SELECT COALESCE(SUM(devices), 0) FROM agg WHERE kind = 'severity' AND akey = 'critical'"
	"  AND status = 'vulnerable'),"
	" (SELECT COALESCE(SUM(files), 0) FROM agg WHERE kind = 'severity' AND akey = 'critical'"
	"  AND status = 'vulnerable'),"
	" (SELECT COUNT(*) FROM devices WHERE retired = 0 AND coverage = 'full'),"
	" (SELECT COUNT(*) FROM devices WHERE retired = 0 AND coverage = 'partial'),"
	" (SELECT COUNT(*) FROM devices WHERE retired = 0 AND coverage = 'unknown'),"
	" (SELECT COUNT(*) FROM devices WHERE retired = 0 AND coverage = 'none'),"
	/* issue 20 point 9: retired devices are out of every count above (the
	 * trend row's too: retiring one takes its share out); how many */
	" (SELECT COUNT(*) FROM devices WHERE retired <> 0)"
	" FROM (SELECT 1 AS one) o LEFT JOIN (SELECT * FROM trend ORDER BY day DESC LIMIT 1) t ON 1 = 1";

struct summary_ctx { struct buf *out; int stale_days; };
static int summary_row(void *ctx, const struct dbrow *r)
{
	struct summary_ctx *s = ctx;
	long long v[21];
	for (int i = 0; i < 21; i++)
		v[i] = dbrow_int(r, i);
	buf_printf(s->out,
		   "{\"devices\":%lld,\"devices_exposed\":%lld,\"devices_attacked\":%lld,"
		   "\"devices_exposed_attacked\":%lld,\"devices_vulnerable\":%lld,\"devices_stale\":%lld,"
		   "\"stale_days\":%d,\"findings\":{\"vulnerable\":%lld,\"mitigated\":%lld,\"safe\":%lld},"
		   "\"processes_restart_required\":%lld,\"attempts\":%lld,\"last_report\":%lld,"
		   "\"shared_machine_ids\":%lld,\"devices_critical_exposed\":%lld,\"devices_critical\":%lld,"
		   "\"files_critical\":%lld,\"coverage\":{\"full\":%lld,\"partial\":%lld,\"unknown\":%lld,"
		   "\"none\":%lld},\"devices_not_fully_scanned\":%lld,\"devices_retired\":%lld}",
		   v[0], v[1], v[2], v[3], v[4], v[5], s->stale_days, v[6], v[7], v[8], v[9], v[10], v[11], v[12],
		   v[13], v[14], v[15], v[16], v[17], v[18], v[19], v[17] + v[18] + v[19], v[20]);
	return 1;
}

static int summary(struct req *rq, struct buf *out)
{
	struct dbv p[1] = {dv_int(api_stale_cutoff(rq))};
	struct summary_ctx s = {out, rq->srv->cfg.stale_days};
	struct buf err = BUF_INIT;
	int rc = store_query(rq->srv->st, SUMMARY_SQL, p, 1, summary_row, &s, &err);
	if (rc)
		fprintf(stderr, "log4scan-server: summary: %s\n", buf_cstr(&err));
	buf_free(&err);
	return rc;
}

/* a JSON array from a query (no paging) */
static int array(struct req *rq, struct buf *out, const char *sql, const struct dbv *p, int np, long limit)
{
	struct qb_sink s = {out, false, limit, 0, false};
	struct buf err = BUF_INIT;
	buf_addc(out, '[');
	int rc = store_query(rq->srv->st, sql, p, np, qb_sink_row, &s, &err);
	buf_addc(out, ']');
	if (rc)
		fprintf(stderr, "log4scan-server: overview: %s\n", buf_cstr(&err));
	buf_free(&err);
	return rc;
}

static void overview(struct req *rq)
{
	struct buf *o = &rq->out;
	buf_adds(o, "{\"summary\":");
	int rc = summary(rq, o);
	struct buf sql = BUF_INIT;
	buf_adds(o, ",\"by_cve\":");
	buf_printf(&sql, "%s ORDER BY 4 DESC, 7 DESC, 6 DESC, 1", api_cve_sql);
	rc |= array(rq, o, buf_cstr(&sql), NULL, 0, 50);
	buf_reset(&sql);
	buf_adds(o, ",\"by_severity\":");
	buf_printf(&sql, "SELECT akey AS severity,%s FROM agg WHERE kind = 'severity' AND files > 0 GROUP BY akey"
			 " ORDER BY CASE akey WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3"
			 " WHEN 'low' THEN 2 WHEN 'unknown' THEN 1 ELSE 0 END DESC", api_agg_status_cols);
	rc |= array(rq, o, buf_cstr(&sql), NULL, 0, 10);
	buf_reset(&sql);
	buf_adds(o, ",\"by_version\":");
	buf_printf(&sql, "SELECT sub AS component, akey AS version,%s FROM agg WHERE kind = 'version' AND files > 0"
			 " GROUP BY sub, akey ORDER BY 3 DESC, 4 DESC, 1, 2", api_agg_status_cols);
	rc |= array(rq, o, buf_cstr(&sql), NULL, 0, 20);
	buf_adds(o, ",\"remediation\":");
	/* each item's severity from one of its findings (the archive's index) */
	rc |= array(rq, o, "SELECT akey AS sha256, label, devices, files, (SELECT f.severity FROM findings f"
			   " WHERE f.archive_id = (SELECT ar.id FROM archives ar WHERE ar.sha256 = agg.akey)"
			   " AND f.status = 'vulnerable' LIMIT 1) AS severity FROM agg WHERE kind = 'sha256'"
			   " AND status = 'vulnerable' AND devices > 0 ORDER BY devices DESC, files DESC, akey LIMIT 10",
		    NULL, 0, 10);
	buf_adds(o, ",\"callbacks\":");
	rc |= array(rq, o, "SELECT akey AS host, " CALLBACK_DOMAIN ", devices, files AS attempts FROM agg"
			   " WHERE kind = 'callback' AND devices > 0 ORDER BY devices DESC, files DESC, akey LIMIT 10", NULL, 0, 10);
	buf_adds(o, ",\"trend\":");
	rc |= array(rq, o, "SELECT day, devices, devices_vulnerable, exposed, attacked, vulnerable, mitigated, safe,"
			   " restart, attempts FROM trend ORDER BY day DESC LIMIT 90", NULL, 0, 90);
	buf_adds(o, ",\"top_devices\":");
	struct dbv p[1] = {dv_int(api_stale_cutoff(rq))};
	buf_reset(&sql);
	buf_printf(&sql, "%s WHERE d.retired = 0 AND (d.priority > 0 OR d.n_vulnerable > 0) ORDER BY d.priority DESC, d.n_vulnerable DESC,"
			 " d.id LIMIT 10", api_device_cols);
	rc |= array(rq, o, buf_cstr(&sql), p, 1, 10);
	buf_adds(o, "}\n");
	buf_free(&sql);
	if (rc) {
		http_req_error(rq, 500, "query failed");
		return;
	}
	rq->status = 200;
	rq->ctype = "application/json";
}

static void device_one(struct req *rq, const char *idtext)
{
	long long id;
	if (!api_parse_num(idtext, &id)) {
		http_req_error(rq, 404, "no such device");
		return;
	}
	struct buf sql = BUF_INIT, err = BUF_INIT;
	buf_printf(&sql, "%s WHERE d.id = ?", api_device_one_cols);
	struct dbv p[2] = {dv_int(api_stale_cutoff(rq)), dv_int(id)};
	struct one o = {&rq->out, false};
	int rc = store_query(rq->srv->st, buf_cstr(&sql), p, 2, one_obj, &o, &err);
	buf_free(&sql);
	buf_free(&err);
	if (rc)
		http_req_error(rq, 500, "query failed");
	else if (!o.found)
		http_req_error(rq, 404, "no such device");
	else {
		buf_addc(&rq->out, '\n');
		rq->status = 200;
		rq->ctype = "application/json";
	}
}

void api_get(struct req *rq, const char *path)
{
	if (!strcmp(path, "summary")) {
		if (summary(rq, &rq->out)) {
			http_req_error(rq, 500, "query failed");
			return;
		}
		buf_addc(&rq->out, '\n');
		rq->status = 200;
		rq->ctype = "application/json";
		return;
	}
	if (!strcmp(path, "overview")) {
		overview(rq);
		return;
	}
	if (!strncmp(path, "devices/", 8)) {
		device_one(rq, path + 8);
		return;
	}
	if (api_rules(rq, path) || api_webhooks_get(rq, path))
		return;
	if (!api_list(rq, path))
		http_req_error(rq, 404, "no such endpoint");
}
