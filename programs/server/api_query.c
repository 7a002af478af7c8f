/* api_query.c - what the API's handlers share (see api_internal.h): query
 * parameters, the device, status and archive filters, and running a list.
 *
 * A list takes limit (default 50, max 500), offset or page, and format=csv
 * (all rows up to 100000).  It answers
 * {"items":[...],"offset":N,"limit":N,"more":bool}; `more` comes from
 * reading one row past the page, so no list counts its rows unless asked:
 * count=1 adds "total" (counted up to 10,000, then "total_capped").  A
 * list with an allow-list of columns takes sort=COLUMN and order=asc|desc
 * (api_run_sorted). */
#include "api_internal.h"

#include <stdio.h>
#include <string.h>

bool api_parse_num(const char *s, long long *out)
{
	if (!s || !*s || strlen(s) > 15)
		return false;
	long long v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

const char *api_arg(struct req *rq, const char *name)
{
	const char *v = http_req_arg(rq, name);
	return v && *v ? v : NULL;
}

bool api_flag(struct req *rq, const char *name)
{
	return http_req_flag(rq, name);
}

static bool valid_status(const char *s)
{
	return !strcmp(s, "vulnerable") || !strcmp(s, "mitigated") || !strcmp(s, "safe");
}

/* a query that failed: logged, answered 500 */
void api_query_failed(struct req *rq, struct buf *err)
{
	fprintf(stderr, "log4scan-server: query failed: %s\n", buf_cstr(err));
	http_req_error(rq, 500, "query failed");
}

/* sort= and order= against the list's allow-list (issue 20 point 8): the
 * ORDER BY text is the entry's fixed SQL, never the request's.  Without
 * either, def; order= alone reverses the list's first entry.  NULL after
 * answering 400 (an unknown column's names the columns it takes). */
static const char *sort_order(struct req *rq, const struct api_sort *sorts, size_t n, const char *def)
{
	const char *sort = n ? api_arg(rq, "sort") : NULL, *dir = n ? api_arg(rq, "order") : NULL;
	if (dir && strcmp(dir, "asc") && strcmp(dir, "desc")) {
		http_req_error(rq, 400, "order must be asc or desc");
		return NULL;
	}
	if (!sort && !dir)
		return def;
	const struct api_sort *e = sorts;
	if (sort) {
		e = NULL;
		for (size_t i = 0; i < n && !e; i++)
			if (!strcmp(sorts[i].name, sort))
				e = &sorts[i];
		if (!e) {
			struct buf names = BUF_INIT;
			for (size_t i = 0; i < n; i++)
				buf_printf(&names, "%s%s", i ? ", " : "", sorts[i].name);
			http_req_error(rq, 400, "sort must be one of: %s", buf_cstr(&names));
			buf_free(&names);
			return NULL;
		}
	}
	if (!dir)
		return e->desc_first ? e->desc : e->asc;
	return strcmp(dir, "desc") ? e->asc : e->desc;
}

/* the rows a list has, counted up to API_COUNT_MAX (then *capped) */
#define API_COUNT_MAX 10000
static bool count_rows(struct req *rq, struct qb *q, long long *total, bool *capped)
{
	struct buf sql = BUF_INIT, err = BUF_INIT;
	struct dbv p[QB_MAX + 1];
	memcpy(p, q->p, sizeof q->p[0] * (size_t)q->np);
	p[q->np] = dv_int(API_COUNT_MAX + 1);
	/* without the select list when the list marked where it ends (its
	 * per-row subqueries are the cost of a page, not of a count) */
	int skip = q->from ? q->from_np : 0;
	if (q->from)
		buf_printf(&sql, "SELECT COUNT(*) FROM (SELECT 1%s LIMIT ?) AS counted", buf_cstr(&q->sql) + q->from);
	else
		buf_printf(&sql, "SELECT COUNT(*) FROM (%s LIMIT ?) AS counted", buf_cstr(&q->sql));
	*total = 0;
	int rc = store_query_planned(rq->srv->st, q->count_plan, buf_cstr(&sql), p + skip, q->np + 1 - skip,
				     api_first_int, total, &err);
	if (rc)
		api_query_failed(rq, &err);
	*capped = *total > API_COUNT_MAX;
	if (*capped)
		*total = API_COUNT_MAX;
	buf_free(&sql);
	buf_free(&err);
	return rc == 0;
}

/* Run a list query (q->sql without ORDER/LIMIT) and answer it. */
void api_run_list(struct req *rq, struct qb *q, const char *order, const char *name)
{
	api_run_sorted(rq, q, order, NULL, 0, name);
}

void api_run_sorted(struct req *rq, struct qb *q, const char *def, const struct api_sort *sorts, size_t nsorts,
		    const char *name)
{
	const char *format = api_arg(rq, "format");
	if (format && strcmp(format, "csv") && strcmp(format, "json")) {
		http_req_error(rq, 400, "format must be csv or json");
		return;
	}
	bool csv = format && !strcmp(format, "csv");
	long long limit = csv ? 100000 : 50, offset = 0, page = 0, v;
	if (api_arg(rq, "limit")) {
		if (!api_parse_num(api_arg(rq, "limit"), &v) || v < 1 || v > (csv ? 100000 : 500)) {
			http_req_error(rq, 400, "limit must be 1..%d", csv ? 100000 : 500);
			return;
		}
		limit = v;
	}
	if (api_arg(rq, "offset") && !api_parse_num(api_arg(rq, "offset"), &offset)) {
		http_req_error(rq, 400, "offset must be a number");
		return;
	}
	if (api_arg(rq, "page")) {
		if (!api_parse_num(api_arg(rq, "page"), &page) || page < 1) {
			http_req_error(rq, 400, "page must be 1 or more");
			return;
		}
		offset = (page - 1) * limit;
	}
	/* count=1: the total too (JSON only), counted up to API_COUNT_MAX */
	bool count = api_flag(rq, "count") && !csv;
	const char *order = sort_order(rq, sorts, nsorts, def);
	if (!order)
		return;
	long long total = 0;
	bool capped = false;
	if (count && !count_rows(rq, q, &total, &capped))
		return;
	buf_printf(&q->sql, " ORDER BY %s LIMIT ? OFFSET ?", order);
	qb_param(q, dv_int(limit + 1));
	qb_param(q, dv_int(offset));
	struct buf err = BUF_INIT;
	struct qb_sink s = {&rq->out, csv, (long)limit, 0, false};
	buf_reset(&rq->out);
	if (!csv)
		buf_adds(&rq->out, "{\"items\":[");
	if (store_query(rq->srv->st, buf_cstr(&q->sql), q->p, q->np, qb_sink_row, &s, &err)) {
		api_query_failed(rq, &err);
		buf_free(&err);
		return;
	}
	buf_free(&err);
	rq->status = 200;
	if (csv) {
		rq->ctype = "text/csv; charset=utf-8";
		static __thread char disp[96];
		snprintf(disp, sizeof disp, "attachment; filename=\"%s.csv\"", name);
		rq->disposition = disp;
	} else {
		rq->ctype = "application/json";
		buf_printf(&rq->out, "],\"offset\":%lld,\"limit\":%lld,\"more\":%s", offset, limit,
			   s.more ? "true" : "false");
		if (count)
			buf_printf(&rq->out, ",\"total\":%lld,\"total_capped\":%s", total, capped ? "true" : "false");
		buf_adds(&rq->out, "}\n");
	}
}

int api_first_int(void *ctx, const struct dbrow *r)
{
	*(long long *)ctx = dbrow_int(r, 0);
	return 1;
}

/* The archives row of a sha256 filter: its id, or 0 when no finding ever
 * had that archive (ids start at 1).  Looked up before the list query, not
 * as a subquery in it: PostgreSQL plans with a subquery's value unknown and
 * then walks all the findings in id order (1.1 s at 2,000,000 findings). */
bool api_archive_arg(struct req *rq, const char *sha, long long *id)
{
	*id = 0;
	struct dbv p[1] = {dv_text(sha)};
	struct buf err = BUF_INIT;
	int rc = store_query(rq->srv->st, "SELECT id FROM archives WHERE sha256 = ?", p, 1, api_first_int, id, &err);
	if (rc) {
		api_query_failed(rq, &err);
	}
	buf_free(&err);
	return rc == 0;
}

long long api_stale_cutoff(struct req *rq)
{
	return http_req_now() - (long long)rq->srv->cfg.stale_days * 86400;
}

#define DEVICE_COLS \
	"SELECT d.id, d.hostname, d.machine_id, d.os, d.kernel, d.ips_json, d.tags_json, d.agent_version," \
	" d.first_seen, d.last_seen, d.last_report_id, d.n_reports AS reports, d.n_vulnerable AS vulnerable," \
	" d.n_mitigated AS mitigated, d.n_safe AS safe, d.n_processes AS processes," \
	" d.n_restart AS restart_required, d.n_attempts AS attempts, d.n_errors AS errors, d.exposed, d.attacked," \
	" CASE WHEN d.last_seen < ? THEN 1 ELSE 0 END AS stale, d.agent_id," \
	/* issue 20: critical vulnerable files, a reachable JVM running one, \
	 * what the last scan covered (full, partial, unknown, none) */ \
	" d.n_critical AS critical, d.critical_exposed, d.coverage," \
	/* issue 20 point 9: when retired (0: active), when it came back */ \
	" d.retired, d.reappeared," \
	/* other devices with this machine id: clones, never merged (issue 19) */ \
	" CASE WHEN d.machine_id = '' THEN 0 ELSE (SELECT COUNT(*) FROM devices d2" \
	"  WHERE d2.machine_id = d.machine_id AND d2.id <> d.id) END AS shared_machine_id"
const char api_device_cols[] = DEVICE_COLS API_DEVICE_FROM;
const char api_device_one_cols[] = DEVICE_COLS ", d.coverage_json AS coverage_detail_json FROM devices d";

bool api_status_arg(struct req *rq, const char **status)
{
	*status = api_arg(rq, "status");
	if (*status && !valid_status(*status)) {
		http_req_error(rq, 400, "status must be vulnerable, mitigated or safe");
		return false;
	}
	return true;
}

bool api_device_arg(struct req *rq, struct qb *q, const char *col)
{
	const char *v = api_arg(rq, "device");
	long long id;
	if (!v)
		return true;
	if (!api_parse_num(v, &id)) {
		http_req_error(rq, 400, "device must be a device id");
		return false;
	}
	struct buf c = BUF_INIT;
	buf_printf(&c, "%s = ?", col);
	qb_cond(q, buf_cstr(&c), 1, dv_int(id));
	buf_free(&c);
	return true;
}

/* aggregates: per key, files and devices by status */
const char api_agg_status_cols[] =
	" SUM(CASE WHEN status = 'vulnerable' THEN devices ELSE 0 END) AS devices_vulnerable,"
	" SUM(CASE WHEN status = 'vulnerable' THEN files ELSE 0 END) AS files_vulnerable,"
	" SUM(CASE WHEN status = 'mitigated' THEN devices ELSE 0 END) AS devices_mitigated,"
	" SUM(CASE WHEN status = 'mitigated' THEN files ELSE 0 END) AS files_mitigated,"
	" SUM(CASE WHEN status = 'safe' THEN devices ELSE 0 END) AS devices_safe,"
	" SUM(CASE WHEN status = 'safe' THEN files ELSE 0 END) AS files_safe";

/* per CVE, with its score and title from the rules (cve_info.c); a CVE the
 * rules do not know (a newer agent's) has none and sorts last */
const char api_cve_sql[] =
	"SELECT a.akey AS cve, MAX(ci.severity) AS severity, MAX(ci.cvss) AS cvss,"
	" COALESCE(MAX(ci.cvss10), -1) AS cvss10, MAX(ci.title) AS title,"
	" SUM(CASE WHEN a.status = 'vulnerable' THEN a.devices ELSE 0 END) AS devices_vulnerable,"
	" SUM(CASE WHEN a.status = 'vulnerable' THEN a.files ELSE 0 END) AS files_vulnerable,"
	" SUM(CASE WHEN a.status = 'mitigated' THEN a.devices ELSE 0 END) AS devices_mitigated,"
	" SUM(CASE WHEN a.status = 'mitigated' THEN a.files ELSE 0 END) AS files_mitigated,"
	" SUM(CASE WHEN a.status = 'safe' THEN a.devices ELSE 0 END) AS devices_safe,"
	" SUM(CASE WHEN a.status = 'safe' THEN a.files ELSE 0 END) AS files_safe"
	" FROM agg a LEFT JOIN cve_info ci ON ci.cve = a.akey WHERE a.kind = 'cve' AND a.files > 0 GROUP BY a.akey";
