/* store_rejudge.h - the counting half of re-judging the stored findings
 * when the collector's rules change (store_rules.c drives it): which
 * devices each CVE affects before and after, the aggregates and device
 * counters counted again in one pass over the findings, and the record of
 * what each change did per CVE and to which devices.  For store_rules.c
 * only. */
#ifndef L4S_SERVER_STORE_REJUDGE_H
#define L4S_SERVER_STORE_REJUDGE_H

#include <stdbool.h>

#include "db.h"
#include "util/buf.h"

struct rejudge;

struct rejudge *store_rejudge_new(bool pg);
void store_rejudge_free(struct rejudge *rj);

/* The (CVE, device) pairs the stored findings show now (retired devices
 * left out): what the dashboard shows before the change.  Reads in pages
 * of its own (no transaction needed). */
int store_rejudge_before(struct rejudge *rj, struct dbc *c);

/* A batch of re-judged verdicts: store_rejudge_row() adds one finding's new
 * columns to rows (a JSON array), store_rejudge_write() writes them all with one
 * statement, marking them judged by rules_id. */
void store_rejudge_row(struct buf *rows, long long id, const char *status, const char *severity, const char *fixed_in,
		 const char *cves_json, const char *version, const char *version_source);
int store_rejudge_write(struct dbc *c, bool pg, const struct buf *rows, long long rules_id);

/* In the caller's (final) transaction: count the aggregates (kinds
 * version, severity, sha256, cve, cvever) and the devices' counters again
 * from every finding, in one pass in device order, writing only the
 * devices whose counters differ; then record, per CVE whose devices
 * changed, a rules_changes row (rules_id, prev, now) and its devices in
 * rules_change_devices (newly 1: newly affected, 0: no longer). */
int store_rejudge_finish(struct rejudge *rj, struct dbc *c, long long rules_id, long long prev, long long now);

/* What store_rejudge_finish saw the change make so, for the webhook events
 * (webhook_events.c): the archive keys (sha256, or "cd:" and the digest of
 * the central directory) vulnerable on some device after the recount that
 * were not before it (the aggregates ingest keeps, retired devices and
 * shadowed copies left out), each with the number of devices that have it
 * vulnerable, sorted; and the devices (not retired) that became critically
 * exposed, sorted.  Valid until store_rejudge_free. */
struct rejudge_news {
	char **akeys;
	long long *akey_devices;
	size_t nakeys;
	long long *critical;
	size_t ncritical;
};
const struct rejudge_news *store_rejudge_news(const struct rejudge *rj);

#endif
