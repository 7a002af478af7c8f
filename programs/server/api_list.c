/* api.c - the JSON and CSV endpoints under /api/v1/.
 *
 *   POST reports                     ingest one NDJSON report (agent token)
 *   GET  reports/known?ids=a,b       which report ids the server has
 *   GET  summary                     fleet totals for the devices' current state
 *   GET  overview                    summary + by CVE/version, remediation
 *                                    items, callback hosts, trend, top devices
 *   GET  devices, devices/ID, findings, processes, attempts, errors, reports,
 *        cves, versions, remediation, callbacks, trend
 * Lists take limit (default 50, max 500), offset or page, filters (device,
 * cve, status, version, component, sha256, tag, q, host, stale, exposed,
 * attacked, restart ...) and format=csv (all rows up to 100000).  A list
 * answers {"items":[...],"offset":N,"limit":N,"more":bool}; `more` comes
 * from reading one row past the page, so no list ever counts the whole
 * table.
 *
 * Every filter value is a bound parameter; LIKE patterns are escaped.  Rows
 * are written generically from the column names: a column named X_json
 * holds JSON text this server wrote and is emitted as the value of "X". */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "store.h"

/* ---- writing rows ---- */

struct sink {
	struct buf *out;
	bool csv;
	long limit;
	long rows;
	bool more;
};

static void csv_cell(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	/* a cell that a spreadsheet would run as a formula gets a quote first */
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r')
		buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

static void col_key(struct buf *b, const char *name, bool *raw)
{
	size_t n = strlen(name);
	*raw = n > 5 && !strcmp(name + n - 5, "_json");
	json_str(b, name, *raw ? n - 5 : n);
}

static void write_obj(struct buf *b, const struct dbrow *r)
{
	buf_addc(b, '{');
	for (int i = 0; i < dbrow_ncols(r); i++) {
		bool raw;
		if (i)
			buf_addc(b, ',');
		col_key(b, dbrow_name(r, i), &raw);
		buf_addc(b, ':');
		switch (dbrow_type(r, i)) {
		case DBV_NULL: buf_adds(b, "null"); break;
		case DBV_INT: buf_printf(b, "%lld", dbrow_int(r, i)); break;
		case DBV_TEXT:
			if (raw)
				buf_adds(b, dbrow_text(r, i));
			else
				json_cstr(b, dbrow_text(r, i));
			break;
		}
	}
	buf_addc(b, '}');
}

static int sink_row(void *ctx, const struct dbrow *r)
{
	struct sink *s = ctx;
	if (s->rows >= s->limit) {
		s->more = true;
		return 1;
	}
	if (s->csv) {
		if (!s->rows) {
			for (int i = 0; i < dbrow_ncols(r); i++) {
				const char *n = dbrow_name(r, i);
				size_t len = strlen(n);
				if (i)
					buf_addc(s->out, ',');
				if (len > 5 && !strcmp(n + len - 5, "_json"))
					len -= 5;
				buf_add(s->out, n, len);
			}
			buf_adds(s->out, "\r\n");
		}
		for (int i = 0; i < dbrow_ncols(r); i++) {
			if (i)
				buf_addc(s->out, ',');
			if (dbrow_type(r, i) == DBV_INT)
				buf_printf(s->out, "%lld", dbrow_int(r, i));
			else
				csv_cell(s->out, dbrow_text(r, i));
		}
		buf_adds(s->out, "\r\n");
	} else {
		if (s->rows)
			buf_addc(s->out, ',');
		write_obj(s->out, r);
	}
	s->rows++;
	return 0;
}

/* ---- query building ---- */

#define QB_MAX 40
struct qb {
	struct buf sql;
	struct dbv p[QB_MAX];
	int np;
	char *owned[QB_MAX];
	int nowned;
	bool where;
};

static const char *qb_keep(struct qb *q, char *s)
{
	if (q->nowned < QB_MAX)   /* each kept string is one of at most QB_MAX values */
		q->owned[q->nowned++] = s;
	return s;
}

static void qb_param(struct qb *q, struct dbv v)
{
	if (q->np < QB_MAX)
		q->p[q->np++] = v;
}

/* " WHERE cond" or " AND cond"; cond has as many ? as values given */
static void qb_cond(struct qb *q, const char *cond, int n, ...)
{
	va_list ap;
	buf_adds(&q->sql, q->where ? " AND " : " WHERE ");
	q->where = true;
	buf_adds(&q->sql, cond);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		qb_param(q, va_arg(ap, struct dbv));
	va_end(ap);
}

/* a LIKE pattern: prefix + escaped value + suffix */
static struct dbv qb_like(struct qb *q, const char *pre, const char *val, const char *suf)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, pre);
	for (const char *s = val; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			buf_addc(&b, '\\');
		buf_addc(&b, *s);
	}
	buf_adds(&b, suf);
	buf_cstr(&b);
	return dv_text(qb_keep(q, buf_detach(&b)));
}

/* a value as it appears inside a JSON array written by jansson: "value" */
static struct dbv qb_json_like(struct qb *q, const char *val)
{
	struct buf j = BUF_INIT;
	json_cstr(&j, val);
	struct dbv v = qb_like(q, "%", buf_cstr(&j), "%");
	buf_free(&j);
	return v;
}

static void qb_free(struct qb *q)
{
	buf_free(&q->sql);
	for (int i = 0; i < q->nowned; i++)
		free(q->owned[i]);
}

static bool parse_num(const char *s, long long *out)
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

static const char *arg(struct req *rq, const char *name)
{
	const char *v = http_req_arg(rq, name);
	return v && *v ? v : NULL;
}

static bool flag(struct req *rq, const char *name)
{
	const char *v = arg(rq, name);
	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"));
}

static bool valid_status(const char *s)
{
	return !strcmp(s, "vulnerable") || !strcmp(s, "mitigated") || !strcmp(s, "safe");
}

/* a query that failed: logged, answered 500 */
static void query_failed(struct req *rq, struct buf *err)
{
	fprintf(stderr, "log4scan-server: query failed: %s\n", buf_cstr(err));
	http_req_error(rq, 500, "query failed");
}

/* Run a list query (q->sql without ORDER/LIMIT) and answer it. */
static void run_list(struct req *rq, struct qb *q, const char *order, const char *name)
{
	bool csv = arg(rq, "format") && !strcmp(arg(rq, "format"), "csv");
	long long limit = csv ? 100000 : 50, offset = 0, page = 0, v;
	if (arg(rq, "limit")) {
		if (!parse_num(arg(rq, "limit"), &v) || v < 1 || v > (csv ? 100000 : 500)) {
			http_req_error(rq, 400, "limit must be 1..%d", csv ? 100000 : 500);
			return;
		}
		limit = v;
	}
	if (arg(rq, "offset") && !parse_num(arg(rq, "offset"), &offset)) {
		http_req_error(rq, 400, "offset must be a number");
		return;
	}
	if (arg(rq, "page")) {
		if (!parse_num(arg(rq, "page"), &page) || page < 1) {
			http_req_error(rq, 400, "page must be 1 or more");
			return;
		}
		offset = (page - 1) * limit;
	}
	buf_printf(&q->sql, " ORDER BY %s LIMIT ? OFFSET ?", order);
	qb_param(q, dv_int(limit + 1));
	qb_param(q, dv_int(offset));
	struct buf err = BUF_INIT;
	struct sink s = {&rq->out, csv, (long)limit, 0, false};
	buf_reset(&rq->out);
	if (!csv)
		buf_adds(&rq->out, "{\"items\":[");
	if (store_query(rq->srv->st, buf_cstr(&q->sql), q->p, q->np, sink_row, &s, &err)) {
		query_failed(rq, &err);
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
		buf_printf(&rq->out, "],\"offset\":%lld,\"limit\":%lld,\"more\":%s}\n", offset, limit,
			   s.more ? "true" : "false");
	}
}

static int first_int(void *ctx, const struct dbrow *r)
{
	*(long long *)ctx = dbrow_int(r, 0);
	return 1;
}

/* The archives row of a sha256 filter: its id, or 0 when no finding ever
 * had that archive (ids start at 1).  Looked up before the list query, not
 * as a subquery in it: PostgreSQL plans with a subquery's value unknown and
 * then walks all the findings in id order (1.1 s at 2,000,000 findings). */
static bool archive_arg(struct req *rq, const char *sha, long long *id)
{
	*id = 0;
	struct dbv p[1] = {dv_text(sha)};
	struct buf err = BUF_INIT;
	int rc = store_query(rq->srv->st, "SELECT id FROM archives WHERE sha256 = ?", p, 1, first_int, id, &err);
	if (rc) {
		query_failed(rq, &err);
	}
	buf_free(&err);
	return rc == 0;
}

/* ---- the CVE filter ----
 *
 * A finding's CVEs are a JSON array in its row, so a CVE filter is a LIKE
 * over the findings: quick for a CVE many findings have (a page fills at
 * once), a walk through all of them for one that few or none have (0.5 s at
 * 2,000,000 findings).  CVEs follow versions, and the fleet aggregates keep
 * each CVE's files per version (kind 'cvever'); when the versions that have
 * the CVE hold few findings in all, the filter also names them and the
 * version index does the work.  The aggregates are trusted only when the
 * cvever rows account for every file the 'cve' rows count: findings taken
 * in by a server from before schema 7 (a rolling upgrade) carry none, and
 * then the plain walk answers. */
#define NARROW_VERSIONS 16
#define NARROW_ROWS 50000

struct cve_narrow {
	char *ver[NARROW_VERSIONS];
	int n;
	long long files, total;   /* per version summed; the 'cve' count */
	bool unusable;            /* too many versions, or a negative count */
};

/* rows (kind, sub, files) */
static int narrow_row(void *ctx, const struct dbrow *r)
{
	struct cve_narrow *c = ctx;
	long long files = dbrow_int(r, 2);
	if (!strcmp(dbrow_text(r, 0), "cve")) {
		c->total += files;
		return 0;
	}
	if (files < 0 || c->n == NARROW_VERSIONS) {
		c->unusable = true;
		return 1;
	}
	c->ver[c->n++] = xstrdup(dbrow_text(r, 1));
	c->files += files;
	return 0;
}

static void cve_narrow_free(struct cve_narrow *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->ver[i]);
	c->n = 0;
}

/* -1: a query failed (answered); 0: no narrowing; 1: c->ver[0..n) are the
 * only versions with the CVE (n = 0: no finding has it). */
static int cve_narrow(struct req *rq, const char *cve, const char *status, struct cve_narrow *c)
{
	memset(c, 0, sizeof *c);
	const char *st = status ? status : "";
	struct dbv p[3] = {dv_text(cve), dv_text(st), dv_text(st)};
	long long rows = 0;
	struct buf err = BUF_INIT, in = BUF_INIT;
	/* one query, one snapshot (on PostgreSQL one merge) for both counts;
	 * SQLite's LIKE, the filter itself, folds ASCII case, so must this */
	int rc = store_query(rq->srv->st, db_kind(rq->srv->st->db) == DB_SQLITE
			     ? "SELECT kind, sub, SUM(files) FROM agg WHERE kind IN ('cve', 'cvever')"
			       " AND akey = ? COLLATE NOCASE AND (? = '' OR status = ?) GROUP BY kind, sub"
			       " HAVING SUM(files) <> 0"
			     : "SELECT kind, sub, SUM(files) FROM agg WHERE kind IN ('cve', 'cvever')"
			       " AND akey = ? AND (? = '' OR status = ?) GROUP BY kind, sub HAVING SUM(files) <> 0",
			     p, 3, narrow_row, c, &err);
	int k = !rc && !c->unusable && c->files == c->total;
	if (k && c->n) {
		struct dbv vp[NARROW_VERSIONS];
		buf_adds(&in, "SELECT COALESCE(SUM(files), 0) FROM agg WHERE kind = 'version' AND akey IN (");
		for (int i = 0; i < c->n; i++) {
			buf_adds(&in, i ? ", ?" : "?");
			vp[i] = dv_text(c->ver[i]);
		}
		buf_addc(&in, ')');
		rc = store_query(rq->srv->st, buf_cstr(&in), vp, c->n, first_int, &rows, &err);
		k = !rc && rows <= NARROW_ROWS;
	}
	if (rc) {
		query_failed(rq, &err);
		k = -1;
	}
	if (k <= 0)
		cve_narrow_free(c);
	buf_free(&err);
	buf_free(&in);
	return k;
}

/* " AND col IN (?, ...)" (or " AND 1 = 0") into sql, the versions into
 * p[*n...] (their strings then belong to q) */
static void cve_narrow_sql(struct qb *q, struct cve_narrow *c, const char *col, struct buf *sql, struct dbv *p,
			   int *n)
{
	if (!c->n) {
		buf_adds(sql, " AND 1 = 0");
		return;
	}
	buf_printf(sql, " AND %s IN (", col);
	for (int i = 0; i < c->n; i++) {
		buf_adds(sql, i ? ", ?" : "?");
		p[(*n)++] = dv_text(qb_keep(q, c->ver[i]));
		c->ver[i] = NULL;
	}
	buf_addc(sql, ')');
	c->n = 0;
}

static long long stale_cutoff(struct req *rq)
{
	return http_req_now() - (long long)rq->srv->cfg.stale_days * 86400;
}

/* ---- lists ---- */

static const char DEVICE_COLS[] =
	"SELECT d.id, d.hostname, d.machine_id, d.os, d.kernel, d.ips_json, d.tags_json, d.agent_version,"
	" d.first_seen, d.last_seen, d.last_report_id, d.n_reports AS reports, d.n_vulnerable AS vulnerable,"
	" d.n_mitigated AS mitigated, d.n_safe AS safe, d.n_processes AS processes,"
	" d.n_restart AS restart_required, d.n_attempts AS attempts, d.n_errors AS errors, d.exposed, d.attacked,"
	" CASE WHEN d.last_seen < ? THEN 1 ELSE 0 END AS stale FROM devices d";

static bool status_arg(struct req *rq, const char **status)
{
	*status = arg(rq, "status");
	if (*status && !valid_status(*status)) {
		http_req_error(rq, 400, "status must be vulnerable, mitigated or safe");
		return false;
	}
	return true;
}

static void list_devices(struct req *rq)
{
	struct qb q = {0};
	const char *status, *v;
	if (!status_arg(rq, &status))
		return;
	buf_adds(&q.sql, DEVICE_COLS);
	qb_param(&q, dv_int(stale_cutoff(rq)));
	/* finding-level filters: devices with such a finding (status applies to it) */
	const char *cve = arg(rq, "cve"), *ver = arg(rq, "version"), *comp = arg(rq, "component");
	const char *sha = arg(rq, "sha256");
	if (cve || ver || comp || sha) {
		struct buf sub = BUF_INIT;
		struct dbv pv[8 + NARROW_VERSIONS];   /* cve, version, component, sha, status, the versions */
		int n = 0;
		struct cve_narrow cn = {0};
		int narrow = cve ? cve_narrow(rq, cve, status, &cn) : 0;
		if (narrow < 0) {
			qb_free(&q);
			return;
		}
		/* by archive: the devices from that archive's findings (its index),
		 * looked up once (PostgreSQL: OFFSET 0 keeps the planner from turning
		 * it back into a probe per device, 1 s at 100,000 devices when few
		 * hold the archive); otherwise probe each device in list order, which
		 * stops at a page */
		bool by_index = sha || narrow > 0;
		buf_adds(&sub, by_index ? "d.id IN (SELECT f.device_id FROM findings f WHERE 1 = 1"
					: "EXISTS (SELECT 1 FROM findings f WHERE f.device_id = d.id");
		if (cve) {
			buf_adds(&sub, " AND f.cves_json LIKE ? ESCAPE '\\'");
			pv[n++] = qb_json_like(&q, cve);
			if (narrow > 0)
				cve_narrow_sql(&q, &cn, "f.version", &sub, pv, &n);
		}
		if (ver) {
			buf_adds(&sub, " AND f.version = ?");
			pv[n++] = dv_text(ver);
		}
		if (comp) {
			buf_adds(&sub, " AND f.component = ?");
			pv[n++] = dv_text(comp);
		}
		if (sha) {
			long long archive;
			if (!archive_arg(rq, sha, &archive)) {
				buf_free(&sub);
				qb_free(&q);
				return;
			}
			buf_adds(&sub, " AND f.archive_id = ?");
			pv[n++] = dv_int(archive);
		}
		if (status) {
			buf_adds(&sub, " AND f.status = ?");
			pv[n++] = dv_text(status);
		}
		if (by_index && db_kind(rq->srv->st->db) == DB_PG)
			buf_adds(&sub, " OFFSET 0");
		buf_addc(&sub, ')');
		buf_adds(&q.sql, q.where ? " AND " : " WHERE ");
		q.where = true;
		buf_adds(&q.sql, buf_cstr(&sub));
		for (int i = 0; i < n; i++)
			qb_param(&q, pv[i]);
		buf_free(&sub);
	} else if (status) {
		qb_cond(&q, !strcmp(status, "vulnerable") ? "d.n_vulnerable > 0"
			    : !strcmp(status, "mitigated") ? "d.n_mitigated > 0" : "d.n_safe > 0", 0);
	}
	if ((v = arg(rq, "host")))
		qb_cond(&q, "EXISTS (SELECT 1 FROM attempts a WHERE a.host = ? AND a.device_id = d.id)", 1, dv_text(v));
	if ((v = arg(rq, "tag")))
		qb_cond(&q, "d.tags_json LIKE ? ESCAPE '\\'", 1, qb_json_like(&q, v));
	if ((v = arg(rq, "q")))
		qb_cond(&q, "d.hostname LIKE ? ESCAPE '\\'", 1, qb_like(&q, "%", v, "%"));
	if ((v = arg(rq, "hostname")))
		qb_cond(&q, "d.hostname = ?", 1, dv_text(v));
	/* priority = 2 * exposed + attacked: these filters are ranges of the index */
	if (flag(rq, "exposed") && flag(rq, "attacked"))
		qb_cond(&q, "d.priority = 3", 0);
	else if (flag(rq, "exposed"))
		qb_cond(&q, "d.priority >= 2", 0);
	else if (flag(rq, "attacked"))
		qb_cond(&q, "d.priority IN (1, 3)", 0);
	if (flag(rq, "restart"))
		qb_cond(&q, "d.n_restart > 0", 0);
	if (flag(rq, "stale"))
		qb_cond(&q, "d.last_seen < ?", 1, dv_int(stale_cutoff(rq)));
	if (flag(rq, "errors"))
		qb_cond(&q, "d.n_errors > 0", 0);
	const char *sort = arg(rq, "sort");
	const char *order = "d.priority DESC, d.n_vulnerable DESC, d.id";
	if (flag(rq, "stale") && !sort)
		order = "d.last_seen, d.id";   /* oldest first, on the last_seen index */
	if (sort && !strcmp(sort, "hostname"))
		order = "d.hostname, d.id";
	else if (sort && !strcmp(sort, "last_seen"))
		order = "d.last_seen, d.id";
	run_list(rq, &q, order, "devices");
	qb_free(&q);
}

static bool device_arg(struct req *rq, struct qb *q, const char *col)
{
	const char *v = arg(rq, "device");
	long long id;
	if (!v)
		return true;
	if (!parse_num(v, &id)) {
		http_req_error(rq, 400, "device must be a device id");
		return false;
	}
	struct buf c = BUF_INIT;
	buf_printf(&c, "%s = ?", col);
	qb_cond(q, buf_cstr(&c), 1, dv_int(id));
	buf_free(&c);
	return true;
}

static void list_findings(struct req *rq)
{
	struct qb q = {0};
	const char *status, *v;
	if (!status_arg(rq, &status))
		return;
	buf_adds(&q.sql, "SELECT f.id, f.device_id, d.hostname, f.path, f.path_b64, f.component, f.version,"
			 " f.version_source, f.status, f.severity, f.fixed_in, f.sha256, f.cves_json, f.evidence_json,"
			 " f.pid FROM findings f JOIN devices d ON d.id = f.device_id");
	if (!device_arg(rq, &q, "f.device_id")) {
		qb_free(&q);
		return;
	}
	if (status)
		qb_cond(&q, "f.status = ?", 1, dv_text(status));
	if ((v = arg(rq, "cve"))) {
		qb_cond(&q, "f.cves_json LIKE ? ESCAPE '\\'", 1, qb_json_like(&q, v));
		struct cve_narrow cn;
		int narrow = cve_narrow(rq, v, status, &cn);
		if (narrow < 0) {
			qb_free(&q);
			return;
		}
		if (narrow > 0) {
			struct buf c = BUF_INIT;
			struct dbv vp[NARROW_VERSIONS];
			int n = 0;
			cve_narrow_sql(&q, &cn, "f.version", &c, vp, &n);
			buf_adds(&q.sql, buf_cstr(&c));   /* begins with " AND ": a WHERE is already there */
			for (int i = 0; i < n; i++)
				qb_param(&q, vp[i]);
			buf_free(&c);
		}
	}
	if ((v = arg(rq, "version")))
		qb_cond(&q, "f.version = ?", 1, dv_text(v));
	if ((v = arg(rq, "component")))
		qb_cond(&q, "f.component = ?", 1, dv_text(v));
	long long archive = 0;
	if ((v = arg(rq, "sha256"))) {
		if (!archive_arg(rq, v, &archive)) {
			qb_free(&q);
			return;
		}
		qb_cond(&q, "f.archive_id = ?", 1, dv_int(archive));
	}
	if ((v = arg(rq, "severity")))
		qb_cond(&q, "f.severity = ?", 1, dv_text(v));
	if ((v = arg(rq, "path")))
		qb_cond(&q, "f.path LIKE ? ESCAPE '\\'", 1, qb_like(&q, "%", v, "%"));
	if ((v = arg(rq, "tag")))
		qb_cond(&q, "d.tags_json LIKE ? ESCAPE '\\'", 1, qb_json_like(&q, v));
	if (flag(rq, "running"))
		qb_cond(&q, "f.pid IS NOT NULL", 0);
	/* with one archive, the same order as f.id alone, and that of the
	 * findings_archive index (archive_id, id) */
	run_list(rq, &q, arg(rq, "sha256") ? "f.archive_id, f.id" : "f.id", "findings");
	qb_free(&q);
}

static void list_processes(struct req *rq)
{
	struct qb q = {0};
	const char *status, *v;
	if (!status_arg(rq, &status))
		return;
	buf_adds(&q.sql, "SELECT p.id, p.device_id, d.hostname, p.pid, p.username AS \"user\", p.command, p.start_time,"
			 " p.container, p.status, p.restart_required, p.listening_json, p.jars_json, p.mitigations_json,"
			 " CASE WHEN p.status = 'vulnerable' AND p.n_listening > 0 THEN 1 ELSE 0 END AS exposed"
			 " FROM processes p JOIN devices d ON d.id = p.device_id");
	if (!device_arg(rq, &q, "p.device_id")) {
		qb_free(&q);
		return;
	}
	if (status)
		qb_cond(&q, "p.status = ?", 1, dv_text(status));
	if (flag(rq, "restart"))
		qb_cond(&q, "p.restart_required = 1", 0);
	if (flag(rq, "exposed"))
		qb_cond(&q, "p.status = 'vulnerable' AND p.n_listening > 0", 0);
	if ((v = arg(rq, "tag")))
		qb_cond(&q, "d.tags_json LIKE ? ESCAPE '\\'", 1, qb_json_like(&q, v));
	run_list(rq, &q, "p.device_id, p.pid", "processes");
	qb_free(&q);
}

static void list_attempts(struct req *rq)
{
	struct qb q = {0};
	const char *v;
	buf_adds(&q.sql, "SELECT a.id, a.device_id, d.hostname, a.path, a.line, a.byte_offset AS \"offset\","
			 " a.ts AS \"timestamp\", a.raw, a.decoded, a.protocol, a.host, a.port, a.client, a.exfil_json,"
			 " a.report_id, a.received FROM attempts a JOIN devices d ON d.id = a.device_id");
	if (!device_arg(rq, &q, "a.device_id")) {
		qb_free(&q);
		return;
	}
	if ((v = arg(rq, "host")))
		qb_cond(&q, "a.host = ?", 1, dv_text(v));
	if ((v = arg(rq, "protocol")))
		qb_cond(&q, "a.protocol = ?", 1, dv_text(v));
	if ((v = arg(rq, "client")))
		qb_cond(&q, "a.client = ?", 1, dv_text(v));
	if ((v = arg(rq, "tag")))
		qb_cond(&q, "d.tags_json LIKE ? ESCAPE '\\'", 1, qb_json_like(&q, v));
	run_list(rq, &q, "a.id DESC", "attempts");
	qb_free(&q);
}

static void list_errors(struct req *rq)
{
	struct qb q = {0};
	buf_adds(&q.sql, "SELECT e.id, e.device_id, d.hostname, e.path, e.error FROM scan_errors e"
			 " JOIN devices d ON d.id = e.device_id");
	if (device_arg(rq, &q, "e.device_id"))
		run_list(rq, &q, "e.id", "errors");
	qb_free(&q);
}

static void list_reports(struct req *rq)
{
	struct qb q = {0};
	buf_adds(&q.sql, "SELECT r.id, r.device_id, d.hostname, r.report_id, r.command, r.created, r.received,"
			 " r.agent_version, r.n_findings AS findings, r.n_vulnerable AS vulnerable,"
			 " r.n_processes AS processes, r.n_attempts AS attempts, r.n_errors AS errors, r.applied,"
			 " r.summary_json FROM reports r JOIN devices d ON d.id = r.device_id");
	if (device_arg(rq, &q, "r.device_id"))
		run_list(rq, &q, "r.id DESC", "reports");
	qb_free(&q);
}

/* aggregates: per key, files and devices by status */
static const char AGG_STATUS_COLS[] =
	" SUM(CASE WHEN status = 'vulnerable' THEN devices ELSE 0 END) AS devices_vulnerable,"
	" SUM(CASE WHEN status = 'vulnerable' THEN files ELSE 0 END) AS files_vulnerable,"
	" SUM(CASE WHEN status = 'mitigated' THEN devices ELSE 0 END) AS devices_mitigated,"
	" SUM(CASE WHEN status = 'mitigated' THEN files ELSE 0 END) AS files_mitigated,"
	" SUM(CASE WHEN status = 'safe' THEN devices ELSE 0 END) AS devices_safe,"
	" SUM(CASE WHEN status = 'safe' THEN files ELSE 0 END) AS files_safe";

static void list_cves(struct req *rq)
{
	struct qb q = {0};
	buf_printf(&q.sql, "SELECT akey AS cve,%s FROM agg WHERE kind = 'cve' AND files > 0 GROUP BY akey",
		   AGG_STATUS_COLS);
	run_list(rq, &q, "2 DESC, 3 DESC, 1", "cves");
	qb_free(&q);
}

static void list_versions(struct req *rq)
{
	struct qb q = {0};
	buf_printf(&q.sql, "SELECT sub AS component, akey AS version,%s FROM agg WHERE kind = 'version' AND files > 0",
		   AGG_STATUS_COLS);
	const char *v;
	if ((v = arg(rq, "component")))
		qb_cond(&q, "sub = ?", 1, dv_text(v));
	buf_adds(&q.sql, " GROUP BY sub, akey");
	run_list(rq, &q, "3 DESC, 4 DESC, 1, 2", "versions");
	qb_free(&q);
}

static void list_remediation(struct req *rq)
{
	struct qb q = {0};
	const char *status;
	if (!status_arg(rq, &status))
		return;
	buf_adds(&q.sql, "SELECT akey AS sha256, label, status, devices, files FROM agg WHERE kind = 'sha256'"
			 " AND devices > 0");
	qb_cond(&q, "status = ?", 1, dv_text(status ? status : "vulnerable"));
	run_list(rq, &q, "devices DESC, files DESC, akey", "remediation");
	qb_free(&q);
}

static void list_callbacks(struct req *rq)
{
	struct qb q = {0};
	buf_adds(&q.sql, "SELECT akey AS host, devices, files AS attempts FROM agg WHERE kind = 'callback'"
			 " AND devices > 0");
	run_list(rq, &q, "devices DESC, files DESC, akey", "callbacks");
	qb_free(&q);
}

static void list_trend(struct req *rq)
{
	struct qb q = {0};
	buf_adds(&q.sql, "SELECT day, devices, devices_vulnerable, exposed, attacked, vulnerable, mitigated, safe,"
			 " restart, attempts FROM trend");
	run_list(rq, &q, "day DESC", "trend");
	qb_free(&q);
}

/* ---- summary, overview, one device ---- */

struct one { struct buf *out; bool found; };
static int one_obj(void *ctx, const struct dbrow *r)
{
	struct one *o = ctx;
	write_obj(o->out, r);
	o->found = true;
	return 1;
}

/* The fleet totals are kept by ingest in the newest trend row; only the
 * counts that depend on the clock or on two flags are counted here, each on
 * an index (last_seen, priority). */
static const char SUMMARY_SQL[] =
	"SELECT COALESCE(t.devices, 0), COALESCE(t.exposed, 0), COALESCE(t.attacked, 0),"
	" (SELECT COUNT(*) FROM devices WHERE priority = 3),"
	" COALESCE(t.devices_vulnerable, 0),"
	" (SELECT COUNT(*) FROM devices WHERE last_seen < ?),"
	" COALESCE(t.vulnerable, 0), COALESCE(t.mitigated, 0), COALESCE(t.safe, 0), COALESCE(t.restart, 0),"
	" COALESCE(t.attempts, 0), (SELECT COALESCE(MAX(last_seen), 0) FROM devices)"
	" FROM (SELECT 1 AS one) o LEFT JOIN (SELECT * FROM trend ORDER BY day DESC LIMIT 1) t ON 1 = 1";

struct summary_ctx { struct buf *out; int stale_days; };
static int summary_row(void *ctx, const struct dbrow *r)
{
	struct summary_ctx *s = ctx;
	long long v[12];
	for (int i = 0; i < 12; i++)
		v[i] = dbrow_int(r, i);
	buf_printf(s->out,
		   "{\"devices\":%lld,\"devices_exposed\":%lld,\"devices_attacked\":%lld,"
		   "\"devices_exposed_attacked\":%lld,\"devices_vulnerable\":%lld,\"devices_stale\":%lld,"
		   "\"stale_days\":%d,\"findings\":{\"vulnerable\":%lld,\"mitigated\":%lld,\"safe\":%lld},"
		   "\"processes_restart_required\":%lld,\"attempts\":%lld,\"last_report\":%lld}",
		   v[0], v[1], v[2], v[3], v[4], v[5], s->stale_days, v[6], v[7], v[8], v[9], v[10], v[11]);
	return 1;
}

static int summary(struct req *rq, struct buf *out)
{
	struct dbv p[1] = {dv_int(stale_cutoff(rq))};
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
	struct sink s = {out, false, limit, 0, false};
	struct buf err = BUF_INIT;
	buf_addc(out, '[');
	int rc = store_query(rq->srv->st, sql, p, np, sink_row, &s, &err);
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
	buf_printf(&sql, "SELECT akey AS cve,%s FROM agg WHERE kind = 'cve' AND files > 0 GROUP BY akey"
			 " ORDER BY 2 DESC, 3 DESC, 1", AGG_STATUS_COLS);
	rc |= array(rq, o, buf_cstr(&sql), NULL, 0, 50);
	buf_reset(&sql);
	buf_adds(o, ",\"by_version\":");
	buf_printf(&sql, "SELECT sub AS component, akey AS version,%s FROM agg WHERE kind = 'version' AND files > 0"
			 " GROUP BY sub, akey ORDER BY 3 DESC, 4 DESC, 1, 2", AGG_STATUS_COLS);
	rc |= array(rq, o, buf_cstr(&sql), NULL, 0, 20);
	buf_adds(o, ",\"remediation\":");
	rc |= array(rq, o, "SELECT akey AS sha256, label, devices, files FROM agg WHERE kind = 'sha256'"
			   " AND status = 'vulnerable' AND devices > 0 ORDER BY devices DESC, files DESC, akey LIMIT 10",
		    NULL, 0, 10);
	buf_adds(o, ",\"callbacks\":");
	rc |= array(rq, o, "SELECT akey AS host, devices, files AS attempts FROM agg WHERE kind = 'callback'"
			   " AND devices > 0 ORDER BY devices DESC, files DESC, akey LIMIT 10", NULL, 0, 10);
	buf_adds(o, ",\"trend\":");
	rc |= array(rq, o, "SELECT day, devices, devices_vulnerable, exposed, attacked, vulnerable, mitigated, safe,"
			   " restart, attempts FROM trend ORDER BY day DESC LIMIT 90", NULL, 0, 90);
	buf_adds(o, ",\"top_devices\":");
	struct dbv p[1] = {dv_int(stale_cutoff(rq))};
	buf_reset(&sql);
	buf_printf(&sql, "%s WHERE d.priority > 0 OR d.n_vulnerable > 0 ORDER BY d.priority DESC, d.n_vulnerable DESC,"
			 " d.id LIMIT 10", DEVICE_COLS);
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
	if (!parse_num(idtext, &id)) {
		http_req_error(rq, 404, "no such device");
		return;
	}
	struct buf sql = BUF_INIT, err = BUF_INIT;
	buf_printf(&sql, "%s WHERE d.id = ?", DEVICE_COLS);
	struct dbv p[2] = {dv_int(stale_cutoff(rq)), dv_int(id)};
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
	/* filters are compared with stored text, which is valid UTF-8 (and
	 * PostgreSQL refuses a parameter that is not): say so instead of a 500 */
	if (!http_req_args_utf8(rq)) {
		http_req_error(rq, 400, "query parameter is not valid UTF-8");
		return;
	}
	static const struct { const char *name; void (*fn)(struct req *); } lists[] = {
		{"devices", list_devices}, {"findings", list_findings}, {"processes", list_processes},
		{"attempts", list_attempts}, {"errors", list_errors}, {"reports", list_reports},
		{"cves", list_cves}, {"versions", list_versions}, {"remediation", list_remediation},
		{"callbacks", list_callbacks}, {"trend", list_trend},
	};
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
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		if (!strcmp(path, lists[i].name)) {
			lists[i].fn(rq);
			return;
		}
	}
	http_req_error(rq, 404, "no such endpoint");
}

/* ---- ingest ---- */

void api_ingest(struct req *rq)
{
	struct report r;
	struct buf err = BUF_INIT;
	if (!rq->body.len) {
		http_req_error(rq, 400, "empty body: expected an NDJSON report");
		return;
	}
	if (report_parse(&r, rq->body.data, rq->body.len, &rq->srv->cfg.limits, &err)) {
		http_req_error(rq, 400, "%s", buf_cstr(&err));
		buf_free(&err);
		return;
	}
	struct ingest_result res;
	if (store_ingest(rq->srv->st, &r, rq->token_id, http_req_now(), &res, &err)) {
		fprintf(stderr, "log4scan-server: ingest of %s failed: %s\n", r.report_id, buf_cstr(&err));
		rq->retry_after = 5;
		http_req_error(rq, 503, "the report could not be stored; retry later");
	} else {
		rq->status = 200;
		rq->ctype = "application/json";
		buf_printf(&rq->out, "{\"accepted\":true,\"report_id\":\"%s\",\"duplicate\":%s,\"device_id\":%lld}\n",
			   r.report_id, res.duplicate ? "true" : "false", res.device_id);
	}
	report_free(&r);
	buf_free(&err);
}

static int known_row(void *ctx, const struct dbrow *r)
{
	struct sink *s = ctx;
	if (s->rows++)
		buf_addc(s->out, ',');
	json_cstr(s->out, dbrow_text(r, 0));
	return 0;
}

void api_known(struct req *rq)
{
	const char *ids = http_req_arg(rq, "ids");
	if (!ids) {
		http_req_error(rq, 400, "ids=ID,ID,... is required");
		return;
	}
	char *copy = xstrdup(ids), *save = NULL;
	char *list[1000];
	int n = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == 1000) {
			free(copy);
			http_req_error(rq, 400, "at most 1000 ids per request");
			return;
		}
		if (!report_id_valid(t)) {
			free(copy);
			http_req_error(rq, 400, "ids must be report UUIDs");
			return;
		}
		for (char *c = t; *c; c++)
			if (*c >= 'A' && *c <= 'F')
				*c = (char)(*c - 'A' + 'a');
		list[n++] = t;
	}
	struct sink s = {&rq->out, false, 0, 0, false};
	struct buf err = BUF_INIT;
	buf_adds(&rq->out, "{\"known\":[");
	for (int i = 0; i < n; i += 50) {
		struct buf sql = BUF_INIT;
		struct dbv p[50];
		int m = n - i < 50 ? n - i : 50;
		buf_adds(&sql, "SELECT DISTINCT report_id FROM reports WHERE report_id IN (");
		for (int k = 0; k < m; k++) {
			buf_adds(&sql, k ? ",?" : "?");
			p[k] = dv_text(list[i + k]);
		}
		buf_addc(&sql, ')');
		int rc = store_query(rq->srv->st, buf_cstr(&sql), p, m, known_row, &s, &err);
		buf_free(&sql);
		if (rc) {
			free(copy);
			buf_free(&err);
			http_req_error(rq, 503, "database unavailable");
			return;
		}
	}
	buf_adds(&rq->out, "]}\n");
	free(copy);
	buf_free(&err);
	rq->status = 200;
	rq->ctype = "application/json";
}
