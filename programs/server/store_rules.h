/* store_rules.h - the collector's rules: which rules file judges the
 * fleet, its history, and re-judging the stored findings when it changes
 * (issue 22).
 *
 * Agents send, with each finding, the facts its verdict was decided on
 * (lib/detect/facts.h).  The collector judges those facts with its active rules
 * (lib/detect/verdict.c, the agent's own code), at ingest and again for every
 * stored finding when the rules change.  A finding without facts (an
 * agent older than them) keeps the agent's verdict and is not re-judged.
 *
 * Rules id 0 is the compiled-in default; loaded files get ids 1, 2, ...
 * and are kept, so that any of them can be made active again. */
#ifndef L4S_SERVER_STORE_RULES_H
#define L4S_SERVER_STORE_RULES_H

#include <stdbool.h>

#include "util/buf.h"
#include "report_parse.h"
#include "store.h"

struct rules;

/* The active rules and their id (re-read from the database at most once a
 * second, so another process's switch is seen).  NULL when they cannot be
 * read (then findings keep the agent's verdict). */
const struct rules *store_rules_active(struct store *st, long long *id);

/* The active rules' text and its SHA-256 (hex): what agents fetch.  False
 * when they cannot be read. */
bool store_rules_active_text(struct store *st, char sha256[65], struct buf *text);

/* Judge the findings of a parsed report that carry facts with the active
 * rules: status, version, severity, fixed_in and cves are replaced, and
 * judged/judged_by set.  The agent's verdict stays on the others. */
void store_rules_judge_report(struct store *st, struct report *r);

/* Check a rules file and keep it: DB_OK and its id, or DB_ERR with
 * "SOURCE: line N: reason" in err (nothing stored). */
int store_rules_add(struct store *st, const char *source, const char *text, size_t len, long long now,
		    long long *id, struct buf *err);

/* Make rules id active: re-judge every stored finding that has facts, in
 * batches of their own transactions (ingest and reads go on; the counts
 * stay those of the previous rules), then, in one transaction, the
 * findings stored meanwhile, the aggregates and device counters, the
 * per-CVE record of what changed, and the switch.  progress (may be NULL)
 * is called after each batch. */
int store_rules_activate(struct store *st, long long id, long long now,
			 void (*progress)(void *ctx, long long done, long long total), void *ctx, struct buf *err);

/* The same in a thread of its own (the server: POST /api/v1/rules/rollback):
 * 0 started, 1 refused because a re-judging is in progress, 2 no rules id,
 * -1 error (err says why).  store_close stops it between two batches (the
 * previous rules stay active) and waits for it. */
int store_rules_activate_bg(struct store *st, long long id, long long now, struct buf *err);
/* The text of rules id (0: the compiled-in default).  1 found, 0 not, -1 error. */
int store_rules_body(struct store *st, long long id, struct buf *out, struct buf *err);

/* JSON: {"active":ID,"judging":{...} or null,"rules":[{id,sha256,source,loaded,ncves}...]} */
int store_rules_json(struct store *st, struct buf *out, struct buf *err);
/* JSON: {"changes":[{"id","rules_id","prev_id","at","cve","newly","no_longer"}...]}, newest first
 * (id: the devices are GET /api/v1/devices?rules_change=ID&change=newly|no_longer) */
int store_rules_changes_json(struct store *st, struct buf *out, struct buf *err);

/* Free the cache of parsed rules (store_close). */
void store_rules_close(struct store *st);

#endif
