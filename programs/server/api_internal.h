/* api_internal.h - what the handlers of /api/v1/ share (api_query.c), for
 * the files api_*.c only.
 *
 * The handlers see a request through http_req.h and the database through
 * store_query() only (no connection, no transaction of their own); the SQL
 * they build is a struct qb (qb.h).  Who calls what: api_fleet.c (api_get:
 * summary, overview, one device, else a list) -> api_list.c (the lists) ->
 * api_query.c (parameters, paging, the archive and device filters);
 * api_ingest.c (reports, reports/known) stands beside them. */
#ifndef L4S_SERVER_API_INTERNAL_H
#define L4S_SERVER_API_INTERNAL_H

#include <stdbool.h>

#include "api.h"
#include "qb.h"
#include "store.h"

/* A query parameter: NULL when absent or empty. */
const char *api_arg(struct req *rq, const char *name);
/* A flag parameter: 1, true or yes (http_req_flag: anything but those
 * and 0, false or no is refused after the handler). */
bool api_flag(struct req *rq, const char *name);
/* A whole number of at most 15 digits (no sign). */
bool api_parse_num(const char *s, long long *out);
/* status=vulnerable|mitigated|safe, or absent (NULL); false after
 * answering 400 for anything else. */
bool api_status_arg(struct req *rq, const char **status);
/* device=ID as a condition on col; false after answering 400. */
bool api_device_arg(struct req *rq, struct qb *q, const char *col);
/* sha256=... as its archives row id (0: no such archive); false after
 * answering 500. */
bool api_archive_arg(struct req *rq, const char *sha, long long *id);
/* Devices last seen before this are stale (--stale-days). */
long long api_stale_cutoff(struct req *rq);
/* A query that failed: logged, answered 500. */
void api_query_failed(struct req *rq, struct buf *err);
/* A db_row_fn: the first column of the first row into *(long long *)ctx. */
int api_first_int(void *ctx, const struct dbrow *r);

/* Run a list query (q->sql without ORDER/LIMIT) and answer it: limit,
 * offset or page, format=csv (a file download called name.csv). */
void api_run_list(struct req *rq, struct qb *q, const char *order, const char *name);

/* A column a list may be sorted by (sort=name): the whole ORDER BY text
 * ascending and descending (fixed SQL, each ending with a unique tie-break
 * so that pages do not overlap), and which of them sort=name alone means. */
struct api_sort {
	const char *name, *asc, *desc;
	bool desc_first;
};
/* One column expression e, its tie-break t: ascending, descending. */
#define API_SORT(name, e, t, desc_first) {name, e " ASC, " t, e " DESC, " t, desc_first}
/* The same, NULLs last both ways (e a plain column, not an output alias). */
#define API_SORT_NULLS(name, e, t, desc_first) \
	{name, "(" e " IS NULL), " e " ASC, " t, "(" e " IS NULL), " e " DESC, " t, desc_first}

/* api_run_list with sort= (one of sorts[0..n)) and order=asc|desc; def
 * without either; sort=X not in sorts, or order other than asc or desc, is
 * a 400 naming the accepted ones. */
void api_run_sorted(struct req *rq, struct qb *q, const char *def, const struct api_sort *sorts, size_t n,
		    const char *name);

/* A callback host's (agg.akey) domain to block, from one of its attempts
 * (index attempts_host). */
#define CALLBACK_DOMAIN "(SELECT a.domain FROM attempts a WHERE a.host = agg.akey LIMIT 1) AS domain"

/* The columns of a device (its first parameter is api_stale_cutoff()),
 * ending with API_DEVICE_FROM. */
#define API_DEVICE_FROM " FROM devices d"
extern const char api_device_cols[];
/* The same and what the device's last scan covered (coverage_detail). */
extern const char api_device_one_cols[];
/* Aggregate rows per key: files and devices by status. */
extern const char api_agg_status_cols[];

/* Per CVE (agg kind 'cve' with cve_info): cve, severity, cvss, cvss10,
 * title, then api_agg_status_cols; without ORDER BY. */
extern const char api_cve_sql[];

/* retired=0 (default: active devices only), 1 (retired only) or all, as a
 * condition on retired_col (devices.retired), or when it is NULL on
 * device_col (a device id); none when device=ID is given without it
 * (by_device: the list filters by device=ID; otherwise device is not
 * read, so that it stays an unknown parameter there).
 * False after answering 400 (api_team.c). */
bool api_retired_arg(struct req *rq, struct qb *q, const char *retired_col, const char *device_col, bool by_device);

/* api_list.c: answer the list called path; false when there is none. */
bool api_list(struct req *rq, const char *path);

#endif
