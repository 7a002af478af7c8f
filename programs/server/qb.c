/* qb.c - the API's query builder and row writers (see qb.h). */
#include "qb.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/jsonw.h"

/* ---- writing rows ---- */

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

/* Columns that hold a time as seconds since the epoch (UTC): written to CSV
 * as ISO 8601 UTC (2026-12-05T14:03:00Z), 0 as an empty cell (never). */
static const char *const time_cols[] = {
	"at", "created", "received", "first_seen", "last_seen", "retired", "reappeared", "started", "finished",
	"revoked", "expires", "last_used", "last_login", "next_at", "done_at", "loaded", "last_change",
};

static bool is_time_col(const char *name)
{
	for (size_t i = 0; i < sizeof time_cols / sizeof time_cols[0]; i++)
		if (!strcmp(time_cols[i], name))
			return true;
	return false;
}

static void csv_time(struct buf *b, long long t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char s[40];
	if (t > 0 && gmtime_r(&tt, &tm) && strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm))
		buf_adds(b, s);
	else if (t)   /* a negative or unrepresentable time: the number as it is */
		buf_printf(b, "%lld", t);
}

/* one JSON value as cell text: a string as it is, an object as k=v pairs */
static void flat_value(struct buf *b, json_t *v)
{
	if (json_is_string(v)) {
		buf_add(b, json_string_value(v), json_string_length(v));
	} else if (json_is_object(v)) {
		const char *k;
		json_t *x;
		bool first = true;
		json_object_foreach(v, k, x) {
			buf_printf(b, "%s%s=", first ? "" : " ", k);
			flat_value(b, x);
			first = false;
		}
	} else if (!json_is_null(v)) {
		char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		if (t)
			buf_adds(b, t);
		free(t);
	}
}

/* a _json column in CSV: an array as its elements separated by "; ", any
 * other JSON as it is */
static void csv_json(struct buf *b, const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!json_is_array(v)) {
		json_decref(v);
		csv_cell(b, text);
		return;
	}
	struct buf cell = BUF_INIT;
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x) {
		if (i)
			buf_adds(&cell, "; ");
		flat_value(&cell, x);
	}
	csv_cell(b, buf_cstr(&cell));
	buf_free(&cell);
	json_decref(v);
}

static void col_key(struct buf *b, const char *name, bool *raw)
{
	size_t n = strlen(name);
	*raw = n > 5 && !strcmp(name + n - 5, "_json");
	jsonw_str(b, name, *raw ? n - 5 : n);
}

void qb_row_json(struct buf *b, const struct dbrow *r)
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
				jsonw_cstr(b, dbrow_text(r, i));
			break;
		}
	}
	buf_addc(b, '}');
}

int qb_sink_row(void *ctx, const struct dbrow *r)
{
	struct qb_sink *s = ctx;
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
			const char *n = dbrow_name(r, i);
			size_t len = strlen(n);
			if (i)
				buf_addc(s->out, ',');
			if (dbrow_type(r, i) == DBV_INT && is_time_col(n))
				csv_time(s->out, dbrow_int(r, i));
			else if (dbrow_type(r, i) == DBV_INT)
				buf_printf(s->out, "%lld", dbrow_int(r, i));
			else if (dbrow_type(r, i) == DBV_TEXT && len > 5 && !strcmp(n + len - 5, "_json"))
				csv_json(s->out, dbrow_text(r, i));
			else
				csv_cell(s->out, dbrow_text(r, i));
		}
		buf_adds(s->out, "\r\n");
	} else {
		if (s->rows)
			buf_addc(s->out, ',');
		qb_row_json(s->out, r);
	}
	s->rows++;
	return 0;
}

/* ---- query building ---- */

const char *qb_keep(struct qb *q, char *s)
{
	if (q->nowned < QB_MAX)   /* each kept string is one of at most QB_MAX values */
		q->owned[q->nowned++] = s;
	return s;
}

void qb_param(struct qb *q, struct dbv v)
{
	if (q->np < QB_MAX)
		q->p[q->np++] = v;
}

void qb_from(struct qb *q, int select_np)
{
	q->from = q->sql.len;
	q->from_np = select_np;
}

void qb_cond(struct qb *q, const char *cond, int n, ...)
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

struct dbv qb_like(struct qb *q, const char *pre, const char *val, const char *suf)
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

struct dbv qb_json_like(struct qb *q, const char *val)
{
	struct buf j = BUF_INIT;
	jsonw_cstr(&j, val);
	struct dbv v = qb_like(q, "%", buf_cstr(&j), "%");
	buf_free(&j);
	return v;
}

void qb_free(struct qb *q)
{
	buf_free(&q->sql);
	for (int i = 0; i < q->nowned; i++)
		free(q->owned[i]);
}

