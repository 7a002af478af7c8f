/* metrics.c - the collector's own counters and their Prometheus text (see
 * metrics.h).  Histograms keep one count per bucket (not cumulative, so an
 * observation is one add) and are made cumulative when written. */
#include "metrics.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct histogram {
	const char *name, *help;
	const double *le;            /* upper bounds, ascending */
	size_t n;
	double unit;                 /* observed units per reported unit (1e9: ns -> s) */
	_Atomic uint64_t bucket[16]; /* n + 1: the last is +Inf */
	_Atomic uint64_t sum;         /* the count is the buckets' total */
};

static const double LE_INGEST[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
static const double LE_DB[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
static const double LE_BATCH[] = {1, 2, 4, 8, 16, 32, 64};

#define NLE(a) (sizeof a / sizeof a[0])

static struct histogram h_ingest = {"log4scan_ingest_seconds",
				    "Time to take in one report: parse, judge, store, until its answer.",
				    LE_INGEST, NLE(LE_INGEST), 1e9, {0}, 0};
static struct histogram h_db = {"log4scan_db_statement_seconds",
				"Time of each database statement, its rows read included.",
				LE_DB, NLE(LE_DB), 1e9, {0}, 0};
static struct histogram h_write = {"log4scan_ingest_write_seconds",
				   "Time of each group commit's write, BEGIN to COMMIT, retries included.",
				   LE_INGEST, NLE(LE_INGEST), 1e9, {0}, 0};
static struct histogram h_batch = {"log4scan_ingest_batch_reports", "Reports written by each group commit.",
				   LE_BATCH, NLE(LE_BATCH), 1, {0}, 0};

/* answers by route: the templates, then "other" (set once, before serving) */
#define ROUTES_MAX 96
static const double LE_ROUTE[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static char *route_tpl[ROUTES_MAX];
static size_t nroutes;
static struct histogram h_route[ROUTES_MAX + 1];

static const char *const REASONS[REFUSED_N] = {"unauthorized", "forbidden", "too_large", "rate_limited",
					       "invalid", "unavailable", "other"};
static _Atomic uint64_t taken, duplicates, refused[REFUSED_N], requests[6];
static _Atomic int64_t queue_depth, writers, pool_busy;
static _Atomic uint64_t pool_waits;
static _Atomic long long started;

#define ADD(v, n) atomic_fetch_add_explicit(&(v), (n), memory_order_relaxed)
#define GET(v) atomic_load_explicit(&(v), memory_order_relaxed)

void metrics_start(void)
{
	atomic_store(&started, (long long)time(NULL));
}

uint64_t metrics_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void observe(struct histogram *h, uint64_t v)
{
	double x = (double)v / h->unit;
	size_t i = 0;
	while (i < h->n && x > h->le[i])
		i++;
	ADD(h->bucket[i], 1);
	ADD(h->sum, v);
}

void metrics_report_duplicate(void) { ADD(duplicates, 1); }

void metrics_report_answered(int status)
{
	if (status == 200) {
		ADD(taken, 1);
		return;
	}
	metrics_report_refused(status == 401 ? REFUSED_UNAUTHORIZED : status == 403 ? REFUSED_FORBIDDEN
			       : status == 413 ? REFUSED_TOO_LARGE : status == 429 ? REFUSED_RATE_LIMITED
			       : status == 400 ? REFUSED_INVALID : status == 503 ? REFUSED_UNAVAILABLE
			       : REFUSED_OTHER);
}

void metrics_report_refused(enum metrics_refusal why)
{
	if ((unsigned)why < REFUSED_N)
		ADD(refused[why], 1);
}

void metrics_ingest_time(uint64_t ns) { observe(&h_ingest, ns); }
void metrics_db_time(uint64_t ns) { observe(&h_db, ns); }

void metrics_batch(unsigned reports, uint64_t ns)
{
	observe(&h_batch, reports);
	observe(&h_write, ns);
}

void metrics_queue_add(int n) { ADD(queue_depth, n); }
void metrics_pool_busy(int n) { ADD(pool_busy, n); }
void metrics_pool_wait(void) { ADD(pool_waits, 1); }
void metrics_writers_add(int n) { ADD(writers, n); }

void metrics_request(int status)
{
	int c = status / 100;
	ADD(requests[c >= 1 && c <= 5 ? c : 0], 1);
}

void metrics_routes(const char *const *paths, size_t n)
{
	for (size_t i = 0; i < nroutes; i++)
		free(route_tpl[i]);
	nroutes = 0;
	for (size_t i = 0; i < n && nroutes < ROUTES_MAX; i++) {
		char *c = strdup(paths[i]);
		if (c)
			route_tpl[nroutes++] = c;
	}
	for (size_t i = 0; i <= nroutes; i++) {
		h_route[i].le = LE_ROUTE;
		h_route[i].n = NLE(LE_ROUTE);
		h_route[i].unit = 1e9;
		h_route[i].name = i < nroutes ? route_tpl[i] : "other";
	}
}

/* url (its query cut off) against a template: {x} matches one non-empty
 * segment, anything else itself */
static bool route_match(const char *tpl, const char *url)
{
	while (*tpl && *url && *url != '?') {
		if (*tpl == '{') {
			const char *close = strchr(tpl, '}');
			if (!close || *url == '/')
				return false;
			tpl = close + 1;
			url += strcspn(url, "/?");
			continue;
		}
		if (*tpl++ != *url++)
			return false;
	}
	return !*tpl && (!*url || *url == '?');
}

void metrics_route_time(const char *url, uint64_t ns)
{
	size_t i = 0;
	while (i < nroutes && !route_match(route_tpl[i], url))
		i++;
	if (h_route[i].le)
		observe(&h_route[i], ns);
}

/* a number as Prometheus reads it (%g would print 1e-04: valid, but
 * le labels read better as written) */
static void num(struct buf *out, double v)
{
	buf_printf(out, "%.9g", v);
}

static void render_histogram(struct buf *out, struct histogram *h)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", h->name, h->help, h->name);
	uint64_t cum = 0;
	for (size_t i = 0; i <= h->n; i++) {
		cum += GET(h->bucket[i]);
		buf_printf(out, "%s_bucket{le=\"", h->name);
		if (i < h->n)
			num(out, h->le[i]);
		else
			buf_adds(out, "+Inf");
		buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	buf_printf(out, "%s_sum ", h->name);
	num(out, (double)GET(h->sum) / h->unit);
	/* the count is the +Inf bucket's, so the two always agree */
	buf_printf(out, "\n%s_count %llu\n", h->name, (unsigned long long)cum);
}

/* every route answered at least once, as one family labelled by route */
static void render_routes(struct buf *out)
{
	static const char name[] = "log4scan_http_request_seconds";
	buf_printf(out, "# HELP %s Time from a request's start to its answer, by route (the API description's"
			" paths; other: any other URL).\n# TYPE %s histogram\n", name, name);
	for (size_t r = 0; r <= nroutes; r++) {
		struct histogram *h = &h_route[r];
		uint64_t cum = 0, counts[NLE(LE_ROUTE) + 1];
		for (size_t i = 0; i <= NLE(LE_ROUTE); i++)
			cum += counts[i] = GET(h->bucket[i]);
		if (!h->le || !cum)
			continue;
		cum = 0;
		for (size_t i = 0; i <= h->n; i++) {
			cum += counts[i];
			buf_printf(out, "%s_bucket{route=\"%s\",le=\"", name, h->name);
			if (i < h->n)
				num(out, h->le[i]);
			else
				buf_adds(out, "+Inf");
			buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
		}
		buf_printf(out, "%s_sum{route=\"%s\"} ", name, h->name);
		num(out, (double)GET(h->sum) / h->unit);
		buf_printf(out, "\n%s_count{route=\"%s\"} %llu\n", name, h->name, (unsigned long long)cum);
	}
}

static void counter(struct buf *out, const char *name, const char *help, uint64_t v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, (unsigned long long)v);
}

static void gauge(struct buf *out, const char *name, const char *help, long long v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name, name, v);
}

void metrics_render(struct buf *out, const char *backend)
{
	buf_printf(out, "# HELP log4scan_build_info The collector's version and storage backend.\n"
			"# TYPE log4scan_build_info gauge\n"
			"log4scan_build_info{version=\"%s\",backend=\"%s\"} 1\n", L4S_VERSION, backend);
	gauge(out, "log4scan_start_time_seconds", "When the server began serving, in seconds since the epoch.",
	      GET(started));
	counter(out, "log4scan_reports_taken_total", "Reports taken (answered 200), duplicates included.", GET(taken));
	counter(out, "log4scan_reports_duplicate_total", "Reports taken that the server already had.",
		GET(duplicates));
	buf_adds(out, "# HELP log4scan_reports_refused_total Report uploads refused, by reason.\n"
		      "# TYPE log4scan_reports_refused_total counter\n");
	for (int i = 0; i < REFUSED_N; i++)
		buf_printf(out, "log4scan_reports_refused_total{reason=\"%s\"} %llu\n", REASONS[i],
			   (unsigned long long)GET(refused[i]));
	render_histogram(out, &h_ingest);
	render_histogram(out, &h_write);
	render_histogram(out, &h_batch);
	render_histogram(out, &h_db);
	gauge(out, "log4scan_ingest_queue_depth", "Reports waiting in the group-commit queue for a writer.",
	      (long long)GET(queue_depth));
	gauge(out, "log4scan_ingest_writers", "Group commits being written now.", (long long)GET(writers));
	gauge(out, "log4scan_db_connections_busy", "Database connections in use now (of --pool).",
	      (long long)GET(pool_busy));
	counter(out, "log4scan_db_connection_waits_total", "Times a request found no free database connection and waited.",
		GET(pool_waits));
	buf_adds(out, "# HELP log4scan_http_requests_total HTTP answers, by status class.\n"
		      "# TYPE log4scan_http_requests_total counter\n");
	for (int c = 1; c <= 5; c++)
		buf_printf(out, "log4scan_http_requests_total{code=\"%dxx\"} %llu\n", c,
			   (unsigned long long)GET(requests[c]));
	render_routes(out);
}
