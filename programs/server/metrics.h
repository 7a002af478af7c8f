/* metrics.h - what the collector counts about itself, for GET /metrics
 * (the Prometheus text exposition format, version 0.0.4), readable with a
 * token of role `metrics` only.
 *
 * Counted per process, from the start: reports taken (and how many of
 * them were duplicates) and refused (by reason), the time an ingest takes
 * (parse, judge, store, until the answer), the time of every database
 * statement and of each group commit's write, the group-commit queue
 * (reports waiting for a writer, writers busy), requests by status class,
 * and the time of every answer by route (the API description's paths).
 * Every counter is a relaxed atomic add: the ingest path takes no lock for
 * them and a scrape reads them without stopping it (a scrape may see one
 * histogram's count one ahead of its sum: Prometheus tolerates that). */
#ifndef L4S_SERVER_METRICS_H
#define L4S_SERVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Why a report upload (POST /api/v1/reports) was refused. */
enum metrics_refusal {
	REFUSED_UNAUTHORIZED,   /* 401: no token, unknown or revoked */
	REFUSED_FORBIDDEN,      /* 403: a token of another role, a session */
	REFUSED_TOO_LARGE,      /* 413, or a chunked body over the limit */
	REFUSED_RATE_LIMITED,   /* 429 */
	REFUSED_INVALID,        /* 400: not a valid report */
	REFUSED_UNAVAILABLE,    /* 503: the database could not store it */
	REFUSED_OTHER,          /* any other status */
	REFUSED_N
};

/* The server starts serving (its start time). */
void metrics_start(void);
/* A monotonic clock, in nanoseconds. */
uint64_t metrics_now_ns(void);

/* The answer to a report upload, by its HTTP status (200: taken). */
void metrics_report_answered(int status);
/* A report taken whose id the server already had. */
void metrics_report_duplicate(void);
/* A report whose body went over the limit (the connection was closed). */
void metrics_report_refused(enum metrics_refusal why);
/* One ingest, from its body being in to its answer. */
void metrics_ingest_time(uint64_t ns);
/* One database statement (db.c), one group commit's write (store_ingest.c:
 * reports in the batch, time from BEGIN to COMMIT with its retries). */
void metrics_db_time(uint64_t ns);
void metrics_batch(unsigned reports, uint64_t ns);
/* The group-commit queue: reports that joined it (+n) or left it for a
 * writer (-n); writers that began (+1) or ended (-1) a batch. */
void metrics_queue_add(int n);
void metrics_writers_add(int n);
/* The database pool (db.c): connections taken (+1) and given back (-1);
 * a request that found none free and waited. */
void metrics_pool_busy(int n);
void metrics_pool_wait(void);
/* Every answer, by status. */
void metrics_request(int status);
/* The routes answers are timed by: the API description's paths (templates
 * such as /api/v1/devices/{id}, where {x} stands for one segment); copied.
 * A URL that matches none is timed as "other" (so the label's values stay
 * a fixed, small set whatever clients send). */
void metrics_routes(const char *const *paths, size_t n);
/* One answer to url, ns after its request began. */
void metrics_route_time(const char *url, uint64_t ns);

/* The exposition text (backend: "sqlite" or "postgresql"). */
void metrics_render(struct buf *out, const char *backend);

#endif
