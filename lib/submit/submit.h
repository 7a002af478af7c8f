/* submit.h - send a report to log4scan-server, never losing it.
 *
 * The agent buffers its NDJSON records (envelope line first, see
 * envelope.h) and hands the whole body to submit_send(), which:
 *   1. sends reports left in the spool directory by earlier runs, oldest
 *      first, after asking the server which of their ids it already has
 *      (GET /api/v1/reports/known), so a report whose answer was lost is
 *      not sent twice (and the server is idempotent anyway);
 *   2. POSTs the new report (libcurl, Authorization: Bearer TOKEN, TLS
 *      verified against the system CAs or --cacert);
 *   3. if the server cannot take it now (not reached, 408, 429, 5xx), writes
 *      it to the spool (mode 0600, atomic rename), then trims the spool to
 *      its bounds, dropping the oldest reports with a warning.
 * A report the server finds invalid (400, 413, 422) is not spooled (sending
 * it again would not help) and a spooled one is dropped.  Any other answer
 * (401 unknown token, 403 not an agent token, 404 not a collector, a
 * redirect) is a configuration error: nothing is spooled or dropped, and
 * L4S_SUBMIT_FAILED comes back with the server's reason, so the caller fails
 * loudly instead of spooling forever.
 *
 * Nothing is printed: warnings and errors are appended to msg, one per
 * line. */
#ifndef L4S_SUBMIT_H
#define L4S_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct l4s_submit_opts {
	const char *url;           /* https://collector:8080 (path /api/v1/reports added) */
	const char *token;         /* agent enrollment token */
	const char *spool_dir;     /* NULL: do not spool */
	const char *cacert;        /* PEM bundle to verify the server, NULL: system CAs */
	bool insecure;             /* do not verify TLS (testing only) */
	long timeout_s;            /* whole request; 0 = 60 */
	size_t spool_max_files;    /* 0 = 100 */
	size_t spool_max_bytes;    /* 0 = 256 MiB */
};

enum {
	L4S_SUBMIT_SENT = 0,       /* the server has it */
	L4S_SUBMIT_SPOOLED = 1,    /* kept on disk, sent by a later run */
	L4S_SUBMIT_FAILED = -1,    /* refused, rejected, or could not be kept; see msg */
};

struct l4s_submit_stats {
	size_t spool_sent;         /* spooled reports delivered now */
	size_t spool_known;        /* spooled reports the server already had */
	size_t spool_dropped;      /* dropped: spool full, or rejected by the server */
	size_t spool_left;         /* still in the spool afterwards */
	char rules_sha256[65];     /* the collector's rules, from its answer ("" when it did not say) */
};

int submit_send(const struct l4s_submit_opts *o, const char *body, size_t len, struct l4s_submit_stats *stats,
	       struct buf *msg);

/* Which of ids (report UUIDs) the server has: known[i] set.  0, or -1 with
 * the reason in msg. */
/* GET the collector's active rules (/api/v1/rules/active, with the token)
 * into text, checked against want_sha256 (lower-case hex, from the answer
 * to a report).  0, or -1 with the reason in msg. */
int submit_fetch_rules(const struct l4s_submit_opts *o, const char *want_sha256, struct buf *text, struct buf *msg);

int submit_known(const struct l4s_submit_opts *o, const char *const *ids, size_t n, bool *known, struct buf *msg);


#endif
