/* qb.h - SQL for the API's lists and views: a query built up as text with
 * bound parameters, and the rows it returns written out as JSON objects or
 * CSV lines.
 *
 * Every filter value is a bound parameter (never spliced into the SQL
 * text); LIKE patterns are escaped.  Rows are written generically from the
 * column names: a column named X_json holds JSON text this server wrote and
 * is emitted as the value of "X".  No HTTP and no connection here: api_*.c
 * build a query and run it through store_query() with qb_sink_row(). */
#ifndef L4S_SERVER_QB_H
#define L4S_SERVER_QB_H

#include <stdbool.h>

#include "util/buf.h"
#include "db.h"

#define QB_MAX 40
struct qb {
	struct buf sql;
	struct dbv p[QB_MAX];
	int np;
	char *owned[QB_MAX];
	int nowned;
	bool where;
	/* set by qb_from: sql from this offset on and p[from_np...] are the
	 * query without its select list (counted without computing it) */
	size_t from;
	int from_np;
	/* PostgreSQL planner settings for the count (count=1) alone, run
	 * before it in its transaction (store_query_planned), or NULL */
	const char *count_plan;
};

/* s (malloc'd) now belongs to q: freed by qb_free */
const char *qb_keep(struct qb *q, char *s);
void qb_param(struct qb *q, struct dbv v);
/* The select list ends here: the FROM follows (and its parameters).
 * skip_np: parameters already given that belong to the select list. */
void qb_from(struct qb *q, int select_np);
/* " WHERE cond" or " AND cond"; cond has as many ? as values given */
void qb_cond(struct qb *q, const char *cond, int n, ...);
/* a LIKE pattern: prefix + escaped value + suffix */
struct dbv qb_like(struct qb *q, const char *pre, const char *val, const char *suf);
/* a value as it appears inside a JSON array written by jansson: "value" */
struct dbv qb_json_like(struct qb *q, const char *val);
void qb_free(struct qb *q);

/* One row as a JSON object, its keys the column names. */
void qb_row_json(struct buf *b, const struct dbrow *r);

/* Rows into out, as JSON objects separated by commas, or as CSV lines
 * (a header line first; a cell a spreadsheet would run as a formula gets a
 * quote first; a time column - created, last_seen, at... - as ISO 8601 UTC;
 * a JSON array as its elements separated by "; ").  At most limit rows: reading one more sets `more` and
 * stops.  A db_row_fn: store_query(..., qb_sink_row, &sink, ...). */
struct qb_sink {
	struct buf *out;
	bool csv;
	long limit;
	long rows;
	bool more;
};
int qb_sink_row(void *ctx, const struct dbrow *r);

#endif
