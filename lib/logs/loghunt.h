/* loghunt.h - find Log4Shell exploitation attempts in log streams.
 *
 * A hunter is fed the bytes of one log stream at a time (a file, a gzip
 * member's output, stdin) in pieces of any size; lines may straddle pieces.
 * It looks for the few bytes that can start a lookup ('$' and the escaped
 * forms of it: %24, %2524, \u0024, \x24, &#36;, &dollar;).  Where a run of
 * them is followed by '{', a message starts: the rest of the line (at most
 * LH_MSG_MAX raw bytes) is evaluated the way Log4j 2.x would evaluate it as
 * a logged message (lookup_eval.h: the passes of MessagePatternConverter,
 * escapes, defaults, nested lookups), as it is and with each layer of
 * transport escapes undone (URL, \u, \x, HTML, repeated): an app may log
 * the text decoded or not, and "%24%24%7B" decodes to the escape "$${",
 * not to a lookup.  Each jndi lookup is passed to a callback with where it
 * was (line, byte offset), when (the line's timestamp), from whom (the
 * client of an access-log line), where it pointed (protocol, host, port,
 * exfiltrated lookups, the base64 command of /Base64/ payloads) and a
 * status:
 *   performed        Log4j logging the line from that message start on
 *                    performs the lookup;
 *   performed_alone  it does when the message starts at the attempt's
 *                    offset, but earlier text of the line (an unclosed "${",
 *                    a lookup that throws) stops Log4j before it when the
 *                    line is one message; the line's message may well start
 *                    there (an access log's fields, several requests);
 *   bound            one of log4scan's bounds stopped the evaluation while
 *                    the text could still make a lookup (bound says which):
 *                    an expression or message longer than LH_MSG_MAX, the
 *                    evaluator's depth, text or step bounds, the line's
 *                    budget.  Padding past a bound is reported, not lost;
 *   broken           an attempt that cannot work: with every host lookup
 *                    empty and nothing throwing (what its author relied on)
 *                    it would be a lookup, but on a JVM it is not
 *                    (${sys:java.version:-j}ndi, a java:key that throws).
 *
 * Memory is bounded whatever the input: a fixed buffer, messages of at
 * most LH_MSG_MAX raw bytes, the first LH_HEAD_MAX bytes of a long line
 * kept for its timestamp.  Time is linear in the input: unclosed "${" are
 * skipped in one pass, and evaluation work on a line is capped at
 * LH_LINE_BUDGET plus LH_STEPS_PER_BYTE per byte of it (lines where it ran
 * out are counted in the statistics, and give a bound attempt when what
 * was left could spell jndi). */
#ifndef L4S_LOGHUNT_H
#define L4S_LOGHUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define LH_MSG_MAX     (16 << 10)   /* raw bytes of one message evaluated, at most */
#define LH_LOOKAHEAD   (256 << 10)  /* bytes of a line looked at to tell where it ends */
#define LH_HEAD_MAX    512          /* start of a line searched for timestamp/client */
#define LH_LINE_BUDGET (16u << 20)  /* evaluator work per line, plus ... */
#define LH_STEPS_PER_BYTE 32        /* ... this much per byte of the line */
#define LH_BUF_SIZE    (1u << 20)
#define LH_PAYLOAD_MAX 4096         /* bytes of a decoded base64 payload kept */

enum lh_status { LH_PERFORMED, LH_PERFORMED_ALONE, LH_BOUND, LH_BROKEN };

/* Which bound stopped a "bound" attempt. */
enum lh_bound {
	LH_BOUND_NONE,
	LH_BOUND_EXPR_LEN,      /* one "${...}" longer than LH_MSG_MAX that may close */
	LH_BOUND_MSG_LEN,       /* a "${" beyond LH_MSG_MAX would make another pass */
	LH_BOUND_DEPTH,         /* lookup_eval's LK_MAX_DEPTH */
	LH_BOUND_TEXT,          /* LK_MAX_TEXT */
	LH_BOUND_STEPS,         /* LK_MAX_STEPS */
	LH_BOUND_LINE_BUDGET,   /* LH_LINE_BUDGET */
};

/* "performed", "performed_alone", "bound", "broken" */
const char *loghunt_status_name(enum lh_status s);
/* "expression length", "message length", "nesting depth", ... */
const char *loghunt_bound_name(enum lh_bound b);

struct lh_attempt {
	const char *path;
	unsigned long long line;        /* from 1 */
	unsigned long long offset;      /* of the raw text in the (decompressed) stream */
	const char *timestamp;          /* ISO 8601, or a syslog date without year; NULL */
	const char *day;                /* "2021-12-10", "--12-10" without year; NULL */
	const char *client;             /* client address of an access-log line; NULL */
	const char *raw;                /* the text as logged (may hold any byte) */
	size_t raw_len;
	enum lh_status status;
	enum lh_bound bound;            /* LH_BOUND_NONE unless status is LH_BOUND */
	const char *decoded;            /* "jndi:ldap://203.0.113.7:1389/a"; "" when bound */
	const char *protocol;           /* "ldap", "rmi", "dns", ...; "" if none */
	const char *host;               /* callback host; "" if none */
	int port;                       /* -1 if none */
	const char *const *exfil;       /* lookups leaked in the URL: "env:USER" */
	size_t n_exfil;
	const char *payload;            /* decoded /Base64/ command; NULL */
	size_t payload_len;
};

struct lh_stats {
	unsigned long long bytes, lines;
	unsigned long long attempts;            /* performed, performed_alone and bound */
	unsigned long long bound, broken;       /* bound (of attempts), broken (apart) */
	unsigned long long candidates;          /* positions that needed a closer look */
	unsigned long long lines_over_budget;   /* lines not fully evaluated */
};

typedef void (*lh_attempt_fn)(void *ctx, const struct lh_attempt *a);

struct loghunt;

struct loghunt *loghunt_new(lh_attempt_fn fn, void *ctx);
/* Start a stream; path is reported in attempts (copied). */
void loghunt_begin(struct loghunt *h, const char *path);
void loghunt_feed(struct loghunt *h, const void *data, size_t n);
/* End the stream: its last line is evaluated even without a newline. */
void loghunt_end(struct loghunt *h);
/* Totals over every stream so far. */
const struct lh_stats *loghunt_stats(const struct loghunt *h);
void loghunt_free(struct loghunt *h);

/* Undo transport escapes in s[0..n): %XX, \uXXXX, \xXX, \\, \/, HTML
 * character references (&#36; &#x24; &dollar; &lbrace; ...), repeated while
 * something changes (at most LH_UNESCAPE_PASSES times).  out needs n bytes
 * (the result is never longer); map, when not NULL, needs n + 1 entries and
 * receives for each output byte the offset in s of the escape it came from
 * (map[len] = n).  Returns the output length. */
#define LH_UNESCAPE_PASSES 4
size_t loghunt_unescape(const char *s, size_t n, char *out, uint32_t *map);

/* The timestamp of a log line (Apache/nginx "[10/Oct/2000:13:55:36 -0700]",
 * ISO 8601 "2021-12-10T08:01:02.345Z" or "2021-12-10 08:01:02,345",
 * syslog "Dec 10 08:01:02"), written to ts normalised to ISO 8601 where the
 * year is known; day receives "YYYY-MM-DD" or "--MM-DD".  False if none. */
bool loghunt_line_timestamp(const char *line, size_t n, struct buf *ts, char day[11]);

/* The client address of a common/combined access-log line ("IP - user [").
 * False when the line is not one. */
bool loghunt_line_client(const char *line, size_t n, struct buf *client);

/* Split a decoded "jndi:..." into protocol (lowercase), host and port. */
void loghunt_jndi_target(const char *decoded, struct buf *protocol, struct buf *host, int *port);

/* The base64 command of a ".../Base64/<b64>" URL, decoded into out (at most
 * LH_PAYLOAD_MAX bytes).  False when there is none. */
bool loghunt_jndi_payload(const char *decoded, struct buf *out);

/* Counting attempts by a key (callback host, day) for the summary. */
struct lh_count {
	char *key;
	unsigned long long count;
};
struct lh_tally {
	struct lh_count *v;
	size_t n, cap;
	size_t *slots;          /* open addressing: index + 1 into v, 0 = empty */
	size_t n_slots;
};
void loghunt_tally_add(struct lh_tally *t, const char *key);
/* Sort by count (descending), then key; adding afterwards is not allowed. */
void loghunt_tally_sort(struct lh_tally *t);
void loghunt_tally_free(struct lh_tally *t);

#endif
