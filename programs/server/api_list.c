/* api_list.c - the lists under /api/v1/: devices, findings, processes,
 * attempts, errors, reports (the fleet's rows, with filters) and cves,
 * versions, remediation, callbacks, trend, images, layers (its aggregates).
 *
 * Filters: device, cve, status, version, component, sha256, tag, q, host,
 * hostname, severity, path, protocol, client, stale, exposed, attacked,
 * restart, errors, running, critical_exposed, coverage, partial, image,
 * image_tag, layer (each list its own; see docs/api.md); sort=COLUMN and
 * order=asc|desc from each list's allow-list below; paging, count=1 and
 * format=csv as every list (api_query.c). */
#include "api_internal.h"

#include <stdlib.h>
#include <string.h>

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
		rc = store_query(rq->srv->st, buf_cstr(&in), vp, c->n, api_first_int, &rows, &err);
		k = !rc && rows <= NARROW_ROWS;
	}
	if (rc) {
		api_query_failed(rq, &err);
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

/* ---- lists ---- */

/* ---- the columns each list may be sorted by (sort=, order=) ---- */

static const struct api_sort device_sorts[] = {
	{"priority", "d.priority ASC, d.n_vulnerable ASC, d.id", "d.priority DESC, d.n_vulnerable DESC, d.id", true},
	API_SORT("hostname", "d.hostname", "d.id", false),
	API_SORT("last_seen", "d.last_seen", "d.id", false),
	API_SORT("first_seen", "d.first_seen", "d.id", false),
	API_SORT("vulnerable", "d.n_vulnerable", "d.id", true),
	API_SORT("mitigated", "d.n_mitigated", "d.id", true),
	API_SORT("critical", "d.n_critical", "d.id", true),
	API_SORT("attempts", "d.n_attempts", "d.id", true),
	API_SORT("os", "d.os", "d.id", false),
	API_SORT("agent_version", "d.agent_version", "d.id", false),
	API_SORT("id", "d.id", "d.id", false),
};

#define SEVERITY_RANK(s) "CASE " s " WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3" \
	" WHEN 'low' THEN 2 WHEN 'none' THEN 0 ELSE 1 END"
#define STATUS_RANK "CASE f.status WHEN 'vulnerable' THEN 2 WHEN 'mitigated' THEN 1 ELSE 0 END"
/* a sort of every matching row: use them with a narrowing filter (id is
 * the index's order) */
static const struct api_sort finding_sorts[] = {
	API_SORT("id", "f.id", "f.id", false),
	{"severity", SEVERITY_RANK("f.severity") " ASC, " STATUS_RANK " ASC, f.id",
	 SEVERITY_RANK("f.severity") " DESC, " STATUS_RANK " DESC, f.id", true},
	API_SORT("status", STATUS_RANK, "f.id", true),
	API_SORT("path", "f.path", "f.id", false),
	API_SORT("hostname", "d.hostname", "f.id", false),
	API_SORT_NULLS("version", "f.version", "f.id", false),
	API_SORT_NULLS("fixed_in", "f.fixed_in", "f.id", false),
	API_SORT_NULLS("image", "f.image", "f.id", false),
};

static const struct api_sort process_sorts[] = {
	API_SORT("device", "p.device_id", "p.pid, p.id", false),
	API_SORT("pid", "p.pid", "p.id", false),
	API_SORT("hostname", "d.hostname", "p.id", false),
	API_SORT_NULLS("user", "p.username", "p.id", false),
	API_SORT_NULLS("command", "p.command", "p.id", false),
	API_SORT("status", "CASE p.status WHEN 'vulnerable' THEN 2 WHEN 'mitigated' THEN 1 ELSE 0 END", "p.id", true),
	API_SORT("public_listeners", "p.n_public", "p.id", true),
};

static const struct api_sort attempt_sorts[] = {
	API_SORT("id", "a.id", "a.id", true),
	API_SORT_NULLS("timestamp", "a.ts", "a.id", true),
	API_SORT("received", "a.received", "a.id", true),
	API_SORT("hostname", "d.hostname", "a.id", false),
	API_SORT_NULLS("host", "a.host", "a.id", false),
	API_SORT_NULLS("client", "a.client", "a.id", false),
	API_SORT_NULLS("protocol", "a.protocol", "a.id", false),
};

static const struct api_sort error_sorts[] = {
	API_SORT("id", "e.id", "e.id", false),
	API_SORT_NULLS("path", "e.path", "e.id", false),
	API_SORT("hostname", "d.hostname", "e.id", false),
};

static const struct api_sort report_sorts[] = {
	API_SORT("id", "r.id", "r.id", true),
	API_SORT("received", "r.received", "r.id", true),
	API_SORT("created", "r.created", "r.id", true),
	API_SORT("findings", "r.n_findings", "r.id", true),
	API_SORT("vulnerable", "r.n_vulnerable", "r.id", true),
	API_SORT("hostname", "d.hostname", "r.id", false),
};

/* aggregates: output columns by name, the group's key as tie-break */
static const struct api_sort cve_sorts[] = {
	{"cvss", "cvss10 ASC, files_vulnerable ASC, devices_vulnerable ASC, cve",
	 "cvss10 DESC, files_vulnerable DESC, devices_vulnerable DESC, cve", true},
	API_SORT("cve", "cve", "cve", false),
	API_SORT("devices_vulnerable", "devices_vulnerable", "cve", true),
	API_SORT("files_vulnerable", "files_vulnerable", "cve", true),
	API_SORT("files_mitigated", "files_mitigated", "cve", true),
};

static const struct api_sort version_sorts[] = {
	{"devices_vulnerable", "devices_vulnerable ASC, files_vulnerable ASC, component, version",
	 "devices_vulnerable DESC, files_vulnerable DESC, component, version", true},
	API_SORT("version", "version", "component", false),
	API_SORT("component", "component", "version", false),
	API_SORT("files_vulnerable", "files_vulnerable", "component, version", true),
	API_SORT("files_mitigated", "files_mitigated", "component, version", true),
	API_SORT("files_safe", "files_safe", "component, version", true),
};

static const struct api_sort remediation_sorts[] = {
	API_SORT("devices", "devices", "files DESC, akey", true),
	API_SORT("files", "files", "devices DESC, akey", true),
	API_SORT("label", "label", "akey", false),
	API_SORT("sha256", "akey", "akey", false),
};

static const struct api_sort callback_sorts[] = {
	API_SORT("devices", "devices", "files DESC, akey", true),
	API_SORT("attempts", "files", "devices DESC, akey", true),
	API_SORT("host", "akey", "akey", false),
};

static const struct api_sort image_sorts[] = {
	{"devices_vulnerable", "devices_vulnerable ASC, severity_rank ASC, files_vulnerable ASC, 1, 2",
	 "devices_vulnerable DESC, severity_rank DESC, files_vulnerable DESC, 1, 2", true},
	API_SORT("image", "1", "2", false),
	API_SORT("tag", "2", "1", false),
	API_SORT("severity", "severity_rank", "1, 2", true),
	API_SORT("devices", "devices", "1, 2", true),
	API_SORT("files_vulnerable", "files_vulnerable", "1, 2", true),
	API_SORT("files_vulnerable_removed", "files_vulnerable_removed", "1, 2", true),
};

static const struct api_sort layer_sorts[] = {
	{"image", "1 ASC, 2 ASC, devices_vulnerable ASC, files_vulnerable ASC, 3",
	 "1 DESC, 2 DESC, devices_vulnerable DESC, files_vulnerable DESC, 3", false},
	API_SORT("layer", "3", "1, 2", false),
	API_SORT("files_vulnerable", "files_vulnerable", "1, 2, 3", true),
	API_SORT("files_vulnerable_removed", "files_vulnerable_removed", "1, 2, 3", true),
	API_SORT("devices", "devices", "1, 2, 3", true),
};

static const struct api_sort trend_sorts[] = {
	API_SORT("day", "day", "day", true),
};

#define NSORTS(a) (sizeof a / sizeof a[0])

static void list_devices(struct req *rq)
{
	struct qb q = {0};
	const char *status, *v;
	if (!api_status_arg(rq, &status))
		return;
	buf_add(&q.sql, api_device_cols, strlen(api_device_cols) - (sizeof API_DEVICE_FROM - 1));
	qb_param(&q, dv_int(api_stale_cutoff(rq)));
	qb_from(&q, 1);
	buf_adds(&q.sql, API_DEVICE_FROM);
	/* finding-level filters: devices with such a finding (status applies to it) */
	const char *cve = api_arg(rq, "cve"), *ver = api_arg(rq, "version"), *comp = api_arg(rq, "component");
	const char *sha = api_arg(rq, "sha256");
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
			if (!api_archive_arg(rq, sha, &archive)) {
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
	if ((v = api_arg(rq, "host")))
		qb_cond(&q, "EXISTS (SELECT 1 FROM attempts a WHERE a.host = ? AND a.device_id = d.id)", 1, dv_text(v));
	if ((v = api_arg(rq, "tag")))
		qb_cond(&q, "d.tags_json LIKE ? ESCAPE '\\'", 1, qb_json_like(&q, v));
	if ((v = api_arg(rq, "q")))
		qb_cond(&q, "d.hostname LIKE ? ESCAPE '\\'", 1, qb_like(&q, "%", v, "%"));
	if ((v = api_arg(rq, "hostname")))
		qb_cond(&q, "d.hostname = ?", 1, dv_text(v));
	/* priority = 4 * critical_exposed + 2 * exposed + attacked (critical_exposed
	 * implies exposed: 0, 1, 2, 3, 6, 7): these filters are ranges of the index */
	if (api_flag(rq, "critical_exposed"))
		qb_cond(&q, "d.priority >= 6", 0);
	if (api_flag(rq, "exposed") && api_flag(rq, "attacked"))
		qb_cond(&q, "d.priority IN (3, 7)", 0);
	else if (api_flag(rq, "exposed"))
		qb_cond(&q, "d.priority >= 2", 0);
	else if (api_flag(rq, "attacked"))
		qb_cond(&q, "d.priority IN (1, 3, 7)", 0);
	/* what the last scan covered; partial=1: anything but a full scan */
	if ((v = api_arg(rq, "coverage"))) {
		if (strcmp(v, "full") && strcmp(v, "partial") && strcmp(v, "unknown") && strcmp(v, "none")) {
			http_req_error(rq, 400, "coverage must be full, partial, unknown or none");
			qb_free(&q);
			return;
		}
		qb_cond(&q, "d.coverage = ?", 1, dv_text(v));
	}
	if (api_flag(rq, "partial"))
		qb_cond(&q, "d.coverage <> 'full'", 0);
	if ((v = api_arg(rq, "severity"))) {
		if (!strcmp(v, "critical"))
			qb_cond(&q, "d.n_critical > 0", 0);
		else
			qb_cond(&q, "EXISTS (SELECT 1 FROM findings f WHERE f.device_id = d.id AND f.severity = ?"
				    " AND f.shadowed = 0)", 1, dv_text(v));
	}
	if ((v = api_arg(rq, "image")))
		qb_cond(&q, "d.id IN (SELECT f.device_id FROM findings f WHERE f.image = ?)", 1, dv_text(v));
	if (api_flag(rq, "restart"))
		qb_cond(&q, "d.n_restart > 0", 0);
	if (api_flag(rq, "stale"))
		qb_cond(&q, "d.last_seen < ?", 1, dv_int(api_stale_cutoff(rq)));
	if (api_flag(rq, "errors"))
		qb_cond(&q, "d.n_errors > 0", 0);
	if (api_flag(rq, "shared_machine_id"))
		qb_cond(&q, "d.machine_id <> '' AND EXISTS (SELECT 1 FROM devices d2 WHERE d2.machine_id = d.machine_id"
			    " AND d2.id <> d.id)", 0);
	if ((v = api_arg(rq, "machine_id")))
		qb_cond(&q, "d.machine_id = ?", 1, dv_text(v));
	/* issue 22: the devices a change of rules made newly affected by one
	 * CVE, or no longer (change; alone it selects nothing more) */
	const char *ch = api_arg(rq, "change");
	v = api_arg(rq, "rules_change");
	long long id = 0;
	if ((ch && strcmp(ch, "newly") && strcmp(ch, "no_longer")) || (v && !api_parse_num(v, &id))) {
		http_req_error(rq, 400, "rules_change must be a change id (GET /api/v1/rules/changes) and change"
					" newly or no_longer");
		qb_free(&q);
		return;
	}
	if (v)
		qb_cond(&q, "d.id IN (SELECT c.device_id FROM rules_change_devices c WHERE c.change_id = ? AND c.newly = ?)",
			2, dv_int(id), dv_int(!ch || !strcmp(ch, "newly")));
	if (!api_retired_arg(rq, &q, "d.retired", NULL, false)) {   /* issue 20 point 9 */
		qb_free(&q);
		return;
	}
	/* stale: oldest first, on the last_seen index */
	const char *order = api_flag(rq, "stale") ? "d.last_seen, d.id" : "d.priority DESC, d.n_vulnerable DESC, d.id";
	api_run_sorted(rq, &q, order, device_sorts, sizeof device_sorts / sizeof device_sorts[0], "devices");
	qb_free(&q);
}

/* path=: a substring of the path (issue 20).  The paths that contain it
 * are matched in `paths` (each distinct path once, ingest_paths.c; a fleet
 * has thousands, not millions); when they are a small share of all paths
 * (at most 1 in FINDINGS_PATH_SHARE) the findings are read through the
 * index on path_id, else the findings are tested in the list's order: the
 * matches are then dense enough that a page is found after a short walk
 * (and a count stops at API_COUNT_MAX), where reading every match through
 * the index to sort them would take longer.  The same rows either way:
 * a finding's path_id is the id of its path, and the same LIKE pattern
 * (escaped by qb_like) matches the paths.  False after answering 500. */
#define FINDINGS_PATH_SHARE 32

/* The order by id of findings read through findings_path, block by block:
 * the same order as f.id (a block is 4,096 consecutive ids), but one that
 * the index gives for its first column, so that SQLite sorts one block at
 * a time ("TEMP B-TREE FOR RIGHT PART OF ORDER BY") and stops when the
 * page is full: a page of 31,000 matches read 51 rows, not 31,000. */
#define FINDINGS_BLOCK_ASC "(f.id >> 12), f.id"
#define FINDINGS_BLOCK_DESC "(f.id >> 12) DESC, f.id DESC"

/* A count of the findings of a few paths on PostgreSQL: the index scan of
 * findings_path stopped at the count's limit, each match's device sought
 * by its key.  The planner estimates a parallel walk of the findings and a
 * hash of all 100,000 devices to be as cheap (150-300 ms at 2,000,000
 * findings, 31,000 matches: the walk reads a third of the table before its
 * 10,001st match) where the index and the keys take 65-80 ms. */
#define FINDINGS_PATH_PG_COUNT \
	"SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL enable_hashjoin = off;" \
	" SET LOCAL enable_mergejoin = off"

/* *by_block: the condition reads findings_path directly (the list's id
 * order is then to be given as FINDINGS_BLOCK_ASC/DESC) */
static bool findings_path_arg(struct req *rq, struct qb *q, const char *v, bool *by_block)
{
	struct qb l = {0};
	struct dbv pat = qb_like(&l, "%", v, "%");
	struct db_ints ids = {0};
	struct buf err = BUF_INIT;
	long long total = 0, last = 0;
	*by_block = false;
	bool ok = !store_query(rq->srv->st, "SELECT COUNT(*) FROM paths", NULL, 0, api_first_int, &total, &err) &&
		  !store_query(rq->srv->st, "SELECT COALESCE(MAX(id), 0) FROM findings", NULL, 0, api_first_int, &last,
			       &err) &&
		  !store_query(rq->srv->st, "SELECT p.id FROM paths p WHERE p.path LIKE ? ESCAPE '\\' ORDER BY p.id",
			       &pat, 1, db_ints_row, &ids, &err);
	if (!ok) {
		api_query_failed(rq, &err);
	} else if (!ids.n) {
		qb_cond(q, "1 = 0", 0);
	} else if ((long long)ids.n * FINDINGS_PATH_SHARE <= total) {
		/* The index findings_path is on (id >> 12, path_id) (schema
		 * 17): each block of ids up to the last finding's is sought
		 * for each path id, in block order.  SQLite reads the
		 * findings straight from it: a page in the id order given
		 * block by block (FINDINGS_BLOCK_ASC) and a count both stop
		 * after the rows they need (at 31,000 matches of 2,000,000:
		 * 1 ms and 40-60 ms, where the set of every matching id,
		 * gathered first, cost 50-80 ms for each).  With a version
		 * (version=, or cve= narrowed to versions) SQLite would rather
		 * walk that version's findings: there the set of matching
		 * ids, walked in id order, is looked up in findings_version
		 * (version, id).  PostgreSQL's planner reads a page by
		 * walking the findings in id order (3 ms at 31,000 matches of
		 * 2,000,000) or by a bitmap of the index; a count is told to
		 * read the index and each match's device by its key
		 * (FINDINGS_PATH_PG_COUNT), but not with version=: there the
		 * planner's bitmaps of both indexes, in parallel, are faster
		 * (cve=, narrowed to several versions, is faster told). */
		bool pg = db_kind(rq->srv->st->db) == DB_PG;
		bool id_set = !pg && (api_arg(rq, "version") || api_arg(rq, "cve"));
		struct buf in = BUF_INIT;
		buf_adds(&in, !id_set ? "(f.id >> 12) IN (" : "f.id IN (SELECT pf.id FROM findings pf WHERE (pf.id >> 12) IN (");
		for (long long b = 0; b <= last >> 12; b++)
			buf_printf(&in, "%s%lld", b ? ", " : "", b);
		buf_adds(&in, !id_set ? ") AND f.path_id IN (" : ") AND pf.path_id IN (");
		for (size_t i = 0; i < ids.n; i++)
			buf_printf(&in, "%s%lld", i ? ", " : "", ids.v[i]);
		buf_adds(&in, !id_set ? ")" : "))");
		qb_cond(q, buf_cstr(&in), 0);
		buf_free(&in);
		*by_block = !pg && !id_set;
		if (pg && !api_arg(rq, "version"))
			q->count_plan = FINDINGS_PATH_PG_COUNT;
	} else {
		qb_cond(q, "f.path LIKE ? ESCAPE '\\'", 1, qb_like(q, "%", v, "%"));
	}
	free(ids.v);
	buf_free(&err);
	qb_free(&l);
	return ok;
}

static void list_findings(struct req *rq)
{
	struct qb q = {0};
	const char *status, *v;
	if (!api_status_arg(rq, &status))
		return;
	bool pg = db_kind(rq->srv->st->db) == DB_PG;
	buf_adds(&q.sql, "SELECT f.id, f.device_id, d.hostname, f.path, f.path_b64, f.component, f.version,"
			 " f.version_source, f.status, f.severity, f.fixed_in, f.sha256, f.cd_sha256, f.cves_json,"
			 " f.evidence_json, f.pid, f.shadowed, f.image, f.image_tag, f.layer, f.in_final_image, f.note,");
	/* a file the disk scan lists is one row; the running JVMs that have it
	 * loaded (their copies are stored shadowed) are listed on it, and a
	 * restart is required when a copy differs from the file now on disk
	 * (fixed under a running JVM) or its process says so */
	buf_adds(&q.sql, pg ? " (SELECT COALESCE(json_agg(json_build_object('pid', s.pid, 'status', s.status)"
			      " ORDER BY s.pid), '[]')::text"
			    : " (SELECT json_group_array(json_object('pid', s.pid, 'status', s.status))");
	buf_adds(&q.sql, " FROM findings s WHERE s.device_id = f.device_id AND s.shadowed = 1 AND s.path = f.path"
			 " AND f.pid IS NULL) AS loaded_by_json,"
			 " CASE WHEN f.pid IS NULL AND EXISTS (SELECT 1 FROM findings s LEFT JOIN processes p"
			 "  ON p.device_id = s.device_id AND p.pid = s.pid WHERE s.device_id = f.device_id"
			 "  AND s.shadowed = 1 AND s.path = f.path AND (s.status <> f.status OR p.restart_required = 1))"
			 " THEN 1 ELSE 0 END AS restart_required,"
			 " f.judged_by, CASE WHEN f.facts IS NULL THEN 0 ELSE 1 END AS rejudgeable");
	qb_from(&q, 0);
	buf_adds(&q.sql, " FROM findings f JOIN devices d ON d.id = f.device_id");
	if (!api_device_arg(rq, &q, "f.device_id") || !api_retired_arg(rq, &q, "d.retired", NULL, true)) {
		qb_free(&q);
		return;
	}
	/* a running JVM's copy of a listed file is not a file of its own;
	 * running=1 lists every copy a JVM has loaded */
	if (!api_flag(rq, "running"))
		qb_cond(&q, "f.shadowed = 0", 0);
	if (status)
		qb_cond(&q, "f.status = ?", 1, dv_text(status));
	if ((v = api_arg(rq, "cve"))) {
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
	if ((v = api_arg(rq, "version")))
		qb_cond(&q, "f.version = ?", 1, dv_text(v));
	if ((v = api_arg(rq, "component")))
		qb_cond(&q, "f.component = ?", 1, dv_text(v));
	long long archive = 0;
	if ((v = api_arg(rq, "sha256"))) {
		if (!api_archive_arg(rq, v, &archive)) {
			qb_free(&q);
			return;
		}
		qb_cond(&q, "f.archive_id = ?", 1, dv_int(archive));
	}
	if ((v = api_arg(rq, "severity")))
		qb_cond(&q, "f.severity = ?", 1, dv_text(v));
	if ((v = api_arg(rq, "image")))
		qb_cond(&q, "f.image = ?", 1, dv_text(v));
	if ((v = api_arg(rq, "image_tag")))
		qb_cond(&q, "f.image_tag = ?", 1, dv_text(v));
	if ((v = api_arg(rq, "layer")))
		qb_cond(&q, "f.layer = ?", 1, dv_text(v));
	bool by_block = false;
	if ((v = api_arg(rq, "path")) && !findings_path_arg(rq, &q, v, &by_block)) {
		qb_free(&q);
		return;
	}
	if ((v = api_arg(rq, "tag")))
		qb_cond(&q, "d.tags_json LIKE ? ESCAPE '\\'", 1, qb_json_like(&q, v));
	if (api_flag(rq, "running"))
		qb_cond(&q, "f.pid IS NOT NULL", 0);
	/* with one archive, the same order as f.id alone, and that of the
	 * findings_archive index (archive_id, id) */
	struct api_sort sorts[NSORTS(finding_sorts)];
	memcpy(sorts, finding_sorts, sizeof sorts);
	const char *def = api_arg(rq, "sha256") ? "f.archive_id, f.id" : "f.id";
	if (by_block) {   /* the same orders, block by block (findings_path_arg) */
		sorts[0] = (struct api_sort){"id", FINDINGS_BLOCK_ASC, FINDINGS_BLOCK_DESC, false};
		if (!api_arg(rq, "sha256"))
			def = FINDINGS_BLOCK_ASC;
	}
	api_run_sorted(rq, &q, def, sorts, NSORTS(sorts), "findings");
	qb_free(&q);
}

static void list_processes(struct req *rq)
{
	struct qb q = {0};
	const char *status, *v;
	if (!api_status_arg(rq, &status))
		return;
	buf_adds(&q.sql, "SELECT p.id, p.device_id, d.hostname, p.pid, p.username AS \"user\", p.command, p.start_time,"
			 " p.container, p.status, p.restart_required, p.listening_json, p.jars_json, p.mitigations_json,"
			 " p.n_public AS public_listeners,"
			 /* the most severe vulnerable copy it has loaded (its device's findings) */
			 " (SELECT f.severity FROM findings f WHERE f.device_id = p.device_id AND f.pid = p.pid"
			 "  AND f.status = 'vulnerable' ORDER BY CASE f.severity WHEN 'critical' THEN 5 WHEN 'high' THEN 4"
			 "  WHEN 'medium' THEN 3 WHEN 'low' THEN 2 WHEN 'none' THEN 0 ELSE 1 END DESC LIMIT 1) AS severity,"
			 /* exposed: reachable, a listener on a non-loopback address */
			 " CASE WHEN p.status = 'vulnerable' AND p.n_public > 0 THEN 1 ELSE 0 END AS exposed");
	qb_from(&q, 0);
	buf_adds(&q.sql, " FROM processes p JOIN devices d ON d.id = p.device_id");
	if (!api_device_arg(rq, &q, "p.device_id") || !api_retired_arg(rq, &q, "d.retired", NULL, true)) {
		qb_free(&q);
		return;
	}
	if (status)
		qb_cond(&q, "p.status = ?", 1, dv_text(status));
	if (api_flag(rq, "restart"))
		qb_cond(&q, "p.restart_required = 1", 0);
	if (api_flag(rq, "exposed"))
		qb_cond(&q, "p.status = 'vulnerable' AND p.n_public > 0", 0);
	if ((v = api_arg(rq, "tag")))
		qb_cond(&q, "d.tags_json LIKE ? ESCAPE '\\'", 1, qb_json_like(&q, v));
	api_run_sorted(rq, &q, "p.device_id, p.pid", process_sorts, NSORTS(process_sorts), "processes");
	qb_free(&q);
}

static void list_attempts(struct req *rq)
{
	struct qb q = {0};
	const char *v;
	buf_adds(&q.sql, "SELECT a.id, a.device_id, d.hostname, a.path, a.line, a.byte_offset AS \"offset\","
			 " a.ts AS \"timestamp\", a.raw, a.decoded, a.protocol, a.host, a.domain, a.port, a.client, a.exfil_json,"
			 " a.payload, a.payload_b64, a.report_id, a.received FROM attempts a JOIN devices d ON d.id = a.device_id");
	if (!api_device_arg(rq, &q, "a.device_id") || !api_retired_arg(rq, &q, "d.retired", NULL, true)) {
		qb_free(&q);
		return;
	}
	if ((v = api_arg(rq, "host")))
		qb_cond(&q, "a.host = ?", 1, dv_text(v));
	if ((v = api_arg(rq, "protocol")))
		qb_cond(&q, "a.protocol = ?", 1, dv_text(v));
	if ((v = api_arg(rq, "client")))
		qb_cond(&q, "a.client = ?", 1, dv_text(v));
	if ((v = api_arg(rq, "tag")))
		qb_cond(&q, "d.tags_json LIKE ? ESCAPE '\\'", 1, qb_json_like(&q, v));
	api_run_sorted(rq, &q, "a.id DESC", attempt_sorts, NSORTS(attempt_sorts), "attempts");
	qb_free(&q);
}

static void list_errors(struct req *rq)
{
	struct qb q = {0};
	buf_adds(&q.sql, "SELECT e.id, e.device_id, d.hostname, e.path, e.error FROM scan_errors e"
			 " JOIN devices d ON d.id = e.device_id");
	if (api_device_arg(rq, &q, "e.device_id") && api_retired_arg(rq, &q, "d.retired", NULL, true))
		api_run_sorted(rq, &q, "e.id", error_sorts, NSORTS(error_sorts), "errors");
	qb_free(&q);
}

static void list_reports(struct req *rq)
{
	struct qb q = {0};
	buf_adds(&q.sql, "SELECT r.id, r.device_id, d.hostname, r.report_id, r.command, r.created, r.received,"
			 " r.agent_version, r.n_findings AS findings, r.n_vulnerable AS vulnerable,"
			 " r.n_processes AS processes, r.n_attempts AS attempts, r.n_errors AS errors, r.applied,"
			 " r.summary_json, r.coverage FROM reports r JOIN devices d ON d.id = r.device_id");
	if (api_device_arg(rq, &q, "r.device_id") && api_retired_arg(rq, &q, "d.retired", NULL, true))
		api_run_sorted(rq, &q, "r.id DESC", report_sorts, NSORTS(report_sorts), "reports");
	qb_free(&q);
}

static void list_cves(struct req *rq)
{
	struct qb q = {0};
	buf_adds(&q.sql, api_cve_sql);
	/* the most severe first (CVSS), then by devices */
	api_run_sorted(rq, &q, "4 DESC, 7 DESC, 6 DESC, 1", cve_sorts, NSORTS(cve_sorts), "cves");
	qb_free(&q);
}

static void list_versions(struct req *rq)
{
	struct qb q = {.where = true};   /* the text below has its WHERE */
	buf_printf(&q.sql, "SELECT sub AS component, akey AS version,%s FROM agg WHERE kind = 'version' AND files > 0",
		   api_agg_status_cols);
	const char *v;
	if ((v = api_arg(rq, "component")))
		qb_cond(&q, "sub = ?", 1, dv_text(v));
	buf_adds(&q.sql, " GROUP BY sub, akey");
	api_run_sorted(rq, &q, "3 DESC, 4 DESC, 1, 2", version_sorts, NSORTS(version_sorts), "versions");
	qb_free(&q);
}

static void list_remediation(struct req *rq)
{
	struct qb q = {.where = true};   /* the text below has its WHERE */
	const char *status;
	if (!api_status_arg(rq, &status))
		return;
	buf_adds(&q.sql, "SELECT akey AS sha256, label, status, devices, files FROM agg WHERE kind = 'sha256'"
			 " AND devices > 0");
	qb_cond(&q, "status = ?", 1, dv_text(status ? status : "vulnerable"));
	api_run_sorted(rq, &q, "devices DESC, files DESC, akey", remediation_sorts, NSORTS(remediation_sorts),
		       "remediation");
	qb_free(&q);
}

/* Container images (findings with an image, from `log4scan scan` of image
 * tarballs or a registry's): per image and tag, the devices and files; a
 * file a later layer deleted or replaced (in_final_image false) is counted
 * apart, as in the image's bytes but not in its containers.  Counted at
 * query time over the findings that have an image (a partial index). */
#define IMAGE_COUNTS \
	" COUNT(DISTINCT f.device_id) AS devices," \
	" COUNT(DISTINCT CASE WHEN f.status = 'vulnerable' AND COALESCE(f.in_final_image, 1) = 1" \
	"  THEN f.device_id END) AS devices_vulnerable," \
	" SUM(CASE WHEN f.status = 'vulnerable' AND COALESCE(f.in_final_image, 1) = 1 THEN 1 ELSE 0 END)" \
	"  AS files_vulnerable," \
	" SUM(CASE WHEN f.status = 'vulnerable' AND f.in_final_image = 0 THEN 1 ELSE 0 END) AS files_vulnerable_removed," \
	" SUM(CASE WHEN f.status = 'mitigated' THEN 1 ELSE 0 END) AS files_mitigated," \
	" SUM(CASE WHEN f.status = 'safe' THEN 1 ELSE 0 END) AS files_safe," \
	" MAX(CASE WHEN f.status <> 'vulnerable' THEN 0 WHEN f.severity = 'critical' THEN 4 WHEN f.severity = 'high'" \
	"  THEN 3 WHEN f.severity = 'medium' THEN 2 ELSE 1 END) AS severity_rank"

static void list_images(struct req *rq)
{
	struct qb q = {.where = true};   /* the text below has its WHERE */
	const char *v;
	buf_adds(&q.sql, "SELECT f.image, COALESCE(f.image_tag, '') AS tag," IMAGE_COUNTS
			 " FROM findings f WHERE f.image IS NOT NULL AND f.shadowed = 0");
	if ((v = api_arg(rq, "image")))
		qb_cond(&q, "f.image = ?", 1, dv_text(v));
	if (!api_device_arg(rq, &q, "f.device_id") || !api_retired_arg(rq, &q, NULL, "f.device_id", true)) {
		qb_free(&q);
		return;
	}
	buf_adds(&q.sql, " GROUP BY f.image, COALESCE(f.image_tag, '')");
	api_run_sorted(rq, &q, "devices_vulnerable DESC, severity_rank DESC, files_vulnerable DESC, 1, 2", image_sorts,
		       NSORTS(image_sorts), "images");
	qb_free(&q);
}

/* which layer of an image brought its Log4j: per layer, the versions and counts */
static void list_layers(struct req *rq)
{
	struct qb q = {.where = true};
	const char *v;
	buf_adds(&q.sql, "SELECT f.image, COALESCE(f.image_tag, '') AS tag, COALESCE(f.layer, '') AS layer,"
			 " MIN(f.component) AS component, MIN(f.version) AS version_min, MAX(f.version) AS version_max,"
			 IMAGE_COUNTS " FROM findings f WHERE f.image IS NOT NULL AND f.shadowed = 0");
	if ((v = api_arg(rq, "image")))
		qb_cond(&q, "f.image = ?", 1, dv_text(v));
	if ((v = api_arg(rq, "image_tag")))
		qb_cond(&q, "COALESCE(f.image_tag, '') = ?", 1, dv_text(v));
	if (!api_device_arg(rq, &q, "f.device_id") || !api_retired_arg(rq, &q, NULL, "f.device_id", true)) {
		qb_free(&q);
		return;
	}
	buf_adds(&q.sql, " GROUP BY f.image, COALESCE(f.image_tag, ''), COALESCE(f.layer, '')");
	api_run_sorted(rq, &q, "1, 2, devices_vulnerable DESC, files_vulnerable DESC, 3", layer_sorts, NSORTS(layer_sorts),
		       "layers");
	qb_free(&q);
}

static void list_callbacks(struct req *rq)
{
	struct qb q = {0};
	buf_adds(&q.sql, "SELECT akey AS host, " CALLBACK_DOMAIN ", devices, files AS attempts FROM agg"
			 " WHERE kind = 'callback' AND devices > 0");
	api_run_sorted(rq, &q, "devices DESC, files DESC, akey", callback_sorts, NSORTS(callback_sorts), "callbacks");
	qb_free(&q);
}

static void list_trend(struct req *rq)
{
	struct qb q = {0};
	buf_adds(&q.sql, "SELECT day, devices, devices_vulnerable, exposed, attacked, vulnerable, mitigated, safe,"
			 " restart, attempts FROM trend");
	api_run_sorted(rq, &q, "day DESC", trend_sorts, NSORTS(trend_sorts), "trend");
	qb_free(&q);
}

bool api_list(struct req *rq, const char *path)
{
	static const struct { const char *name; void (*fn)(struct req *); } lists[] = {
		{"devices", list_devices}, {"findings", list_findings}, {"processes", list_processes},
		{"attempts", list_attempts}, {"errors", list_errors}, {"reports", list_reports},
		{"cves", list_cves}, {"versions", list_versions}, {"remediation", list_remediation},
		{"callbacks", list_callbacks}, {"trend", list_trend}, {"images", list_images}, {"layers", list_layers},
	};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		if (!strcmp(path, lists[i].name)) {
			lists[i].fn(rq);
			return true;
		}
	}
	return false;
}
