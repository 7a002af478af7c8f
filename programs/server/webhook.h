/* webhook.h - telling someone (issue 20 point 10): signed JSON POSTs to
 * targets an admin configured, when
 *   device_critical_exposed  a device becomes critically exposed (the
 *                            dashboard's first number: a JVM with a critical
 *                            vulnerable Log4j loaded listens on an address
 *                            other than loopback; devices.critical_exposed
 *                            goes from 0 to 1)
 *   device_attacked          a report brings new exploitation attempts
 *                            (attempts not seen before on that device)
 *   archive_vulnerable       an archive identity (sha256, else the digest of
 *                            its central directory) is stored as vulnerable
 *                            for the first time in the fleet (by a report,
 *                            or by a change of rules re-judging stored
 *                            findings; device_critical_exposed too)
 *   rules_changed            a change of the collector's rules (rules load,
 *                            rollback) re-judged the stored findings and
 *                            changed which devices a CVE affects: one event
 *                            per change, per CVE "N devices newly affected,
 *                            M no longer" (not one per device)
 *   test                     the "send test" action (one target)
 *
 * Durability: ingest queues the event and one delivery per subscribed
 * target in the report's own transaction (webhook_events.c): a report that
 * is stored has its events, a rolled back one has none, and a restart loses
 * nothing.  A delivery thread (webhook_send.c) sends the due deliveries with
 * libcurl, each claimed for a while first (so several servers on one
 * PostgreSQL database do not send one twice), retries failures with
 * exponential backoff and marks a delivery failed after its last attempt;
 * every attempt is a line of the delivery log.  No redirect is followed (a
 * 3xx is a failure), only http and https, connect and total timeouts.
 *
 * Signature: the body is sent as it is signed.  Headers:
 *   X-Log4scan-Event: KIND   X-Log4scan-Delivery: ID   X-Log4scan-Timestamp: T
 *   X-Log4scan-Signature: sha256=HEX(HMAC-SHA256(secret, T "." body))
 * T is the attempt's Unix time; receivers reject old ones (replays).
 * Secrets are never shown by the API, the CLI or the log. */
#ifndef L4S_SERVER_WEBHOOK_H
#define L4S_SERVER_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "db.h"
#include "report_parse.h"

struct store;

/* The kinds a target may subscribe to, comma-separated: its default. */
#define WEBHOOK_KINDS "device_critical_exposed,device_attacked,archive_vulnerable,rules_changed"

/* ---- webhook_events.c: ingest's side, inside the report's transaction ---- */

struct webhook_tx {
	struct dbc *c;
	bool pg;                     /* PostgreSQL (else SQLite) */
	const struct report *r;
	const char *ident;           /* the device's identity */
	const char *tags_json;       /* its tags after the report (JSON array) */
	long long device_id, now;
	bool became_critical_exposed;
	long long n_critical;        /* its critical vulnerable files after the report */
	const bool *attempt_new;     /* [r->n_attempts]: stored by this report */
	long long attempts_new;
	bool findings_stored;        /* the report's findings became the device's */
	bool ps_only;                /* of them, those with a pid only (a ps report) */
};
int webhook_events_tx(const struct webhook_tx *w);

/* rules_changed, in the transaction that ends a re-judging (store_rules.c),
 * after its rules_changes rows and the CVE table of the new rules are
 * written: one event summing up the rules_changes rows with an id above
 * first_change (none: no event). */
int webhook_events_rules_changed(struct dbc *c, long long rules_id, long long prev_id, long long now,
				 long long first_change);

/* archive_vulnerable and device_critical_exposed for what a re-judging
 * made so (store_rejudge_news), in the same transaction, after
 * rules_changed: one device_critical_exposed per device that became
 * critically exposed, and one archive_vulnerable per archive key of akeys
 * (sorted; vulnerable now, not under the previous rules) that the fleet
 * never had as vulnerable (vuln_archives, as ingest), each for its first
 * stored vulnerable copy.  The payloads are ingest's plus "cause":
 * "rules_change", "rules_id", "prev_id" (and, archives, "devices": how many
 * have it vulnerable); ingest's say "cause":"report".  Queued in batches
 * (one INSERT of many events, one of their deliveries). */
int webhook_events_rejudged(struct dbc *c, bool pg, long long rules_id, long long prev_id, long long now,
			    const long long *critical, size_t ncritical, char *const *akeys,
			    const long long *akey_devices, size_t nakeys);

/* Queue one event: its row, and a delivery for each target subscribed to
 * kind (only_hook > 0: that target only, whatever it subscribed to). */
int webhook_event_queue(struct dbc *c, const char *kind, long long now, long long device_id, const char *data_json,
			long long only_hook, long long *event_id);

/* ---- webhook_admin.c: targets (CLI and API) ---- */

/* A list of kinds ("a,b", spaces allowed) checked and written back in
 * WEBHOOK_KINDS order; NULL or "" means all.  false with err set. */
bool webhook_kinds_parse(const char *list, struct buf *out, struct buf *err);
/* A target URL: http or https, a host, no user name or password in it, no
 * control characters, at most 2048 bytes.  false with err set. */
bool webhook_url_check(const char *url, struct buf *err);
/* A secret: 16 to 1024 bytes, no control characters.  false with err set. */
bool webhook_secret_check(const char *secret, struct buf *err);
/* The URL as shown (API, CLI, log): scheme, host, port and path; a query
 * string is replaced by "?..." (it may carry a token). */
void webhook_url_shown(const char *url, struct buf *out);

/* The body of POST /api/v1/webhooks, {"url":"...","secret":"...",
 * "events":["...",...]} (events optional: all), any bytes from a logged-in
 * user: true with the three appended (kinds in WEBHOOK_KINDS order) when
 * every check above passes; false with err set and nothing appended.  Pure
 * (jansson), for fuzz/fuzz_webhook.c. */
bool webhook_add_fields(const char *body, size_t len, struct buf *url, struct buf *secret, struct buf *kinds,
			struct buf *err);

int webhook_add(struct store *st, const char *url, const char *secret, const char *kinds, const char *by,
		long long now, long long *id, struct buf *err);
/* 1 deleted (its pending deliveries cancelled), 0 no such target, -1 error */
int webhook_delete(struct store *st, long long id, struct buf *err);
/* Queue a test event for one target: 1 queued, 0 no such target, -1 error */
int webhook_test(struct store *st, long long id, long long now, long long *event_id, struct buf *err);
/* {"webhooks":[{id,url,events,created,created_by,pending,delivered,failed,
 * last_attempt,last_status,last_error},...]} (no secret) */
int webhook_list_json(struct store *st, struct buf *out, struct buf *err);

/* ---- webhook_cli.c: `log4scan-server webhook ...` ---- */

/* words: add URL | list | delete ID | test ID; the exit status */
int webhook_cli(struct store *st, const char *const *words, int nwords, const char *secret_file, const char *events);

/* ---- webhook_send.c: the delivery thread ---- */

struct webhook_sender;
struct webhook_opts {
	int backoff;                 /* seconds before the first retry; doubles (at most 1 h) */
	int max_attempts;            /* then the delivery is marked failed */
	int connect_timeout, timeout;/* seconds */
};
/* curl_global_init and the thread; before the sandbox is installed */
struct webhook_sender *webhook_sender_start(struct store *st, const struct webhook_opts *o, struct buf *err);
void webhook_sender_stop(struct webhook_sender *s);

/* "sha256=" and the HMAC-SHA256 of ts "." body under secret, in hex */
void webhook_sign(const char *secret, long long ts, const char *body, size_t len, char out[72]);
/* The body of one delivery: {"id":EVENT,"event":KIND,"created":T,"data":DATA} */
void webhook_body(struct buf *out, long long event_id, const char *kind, long long created, const char *data_json);

#endif
