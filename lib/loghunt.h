/* loghunt.h - find Log4Shell exploitation attempts in log streams.
 *
 * A hunter is fed the bytes of one log stream at a time (a file, a gzip
 * member's output, stdin) in pieces of any size; lines may straddle pieces.
 * It looks for the few bytes that can start a lookup ('$' and the escaped
 * forms of it: %24, %2524, \u0024, \x24, &#36;, &dollar;), and only there
 * undoes transport escapes (URL, \u, \x, HTML, repeated), and evaluates the
 * "${...}" that follows the way Log4j would (lookup_eval.h).  Each jndi
 * lookup Log4j would have performed is passed to a callback with where it
 * was (line, byte offset), when (the line's timestamp), from whom (the
 * client of an access-log line), and where it pointed (protocol, host,
 * port, exfiltrated lookups, the base64 command of /Base64/ payloads).
 *
 * Memory is bounded whatever the input: a fixed buffer, expressions of at
 * most LH_EXPR_MAX raw bytes, the first LH_HEAD_MAX bytes of a long line
 * kept for its timestamp.  Time is linear in the input: unclosed "${" are
 * skipped in one pass, a window is unescaped only as far as its expression
 * goes, and evaluation work on a line is capped at LH_LINE_BUDGET plus
 * LH_STEPS_PER_BYTE per byte of it (lines where it ran out are counted in
 * the statistics). */
#ifndef L4S_LOGHUNT_H
#define L4S_LOGHUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define LH_EXPR_MAX    (8 << 10)    /* raw bytes of one expression, at most */
#define LH_HEAD_MAX    512          /* start of a line searched for timestamp/client */
#define LH_LINE_BUDGET (16u << 20)  /* evaluator work per line, plus ... */
#define LH_STEPS_PER_BYTE 32        /* ... this much per byte of the line */
#define LH_BUF_SIZE    (1u << 20)
#define LH_PAYLOAD_MAX 4096         /* bytes of a decoded base64 payload kept */

struct lh_attempt {
	const char *path;
	unsigned long long line;        /* from 1 */
	unsigned long long offset;      /* of the raw text in the (decompressed) stream */
	const char *timestamp;          /* ISO 8601, or a syslog date without year; NULL */
	const char *day;                /* "2021-12-10", "--12-10" without year; NULL */
	const char *client;             /* client address of an access-log line; NULL */
	const char *raw;                /* the text as logged (may hold any byte) */
	size_t raw_len;
	const char *decoded;            /* "jndi:ldap://203.0.113.7:1389/a" */
	const char *protocol;           /* "ldap", "rmi", "dns", ...; "" if none */
	const char *host;               /* callback host; "" if none */
	int port;                       /* -1 if none */
	const char *const *exfil;       /* lookups leaked in the URL: "env:USER" */
	size_t n_exfil;
	const char *payload;            /* decoded /Base64/ command; NULL */
	size_t payload_len;
};

struct lh_stats {
	unsigned long long bytes, lines, attempts;
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
size_t lh_unescape(const char *s, size_t n, char *out, uint32_t *map);

/* The timestamp of a log line (Apache/nginx "[10/Oct/2000:13:55:36 -0700]",
 * ISO 8601 "2021-12-10T08:01:02.345Z" or "2021-12-10 08:01:02,345",
 * syslog "Dec 10 08:01:02"), written to ts normalised to ISO 8601 where the
 * year is known; day receives "YYYY-MM-DD" or "--MM-DD".  False if none. */
bool lh_line_timestamp(const char *line, size_t n, struct buf *ts, char day[11]);

/* The client address of a common/combined access-log line ("IP - user [").
 * False when the line is not one. */
bool lh_line_client(const char *line, size_t n, struct buf *client);

/* Split a decoded "jndi:..." into protocol (lowercase), host and port. */
void lh_jndi_target(const char *decoded, struct buf *protocol, struct buf *host, int *port);

/* The base64 command of a ".../Base64/<b64>" URL, decoded into out (at most
 * LH_PAYLOAD_MAX bytes).  False when there is none. */
bool lh_jndi_payload(const char *decoded, struct buf *out);

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
void lh_tally_add(struct lh_tally *t, const char *key);
/* Sort by count (descending), then key; adding afterwards is not allowed. */
void lh_tally_sort(struct lh_tally *t);
void lh_tally_free(struct lh_tally *t);

#endif
