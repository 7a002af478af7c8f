/* envelope.h - the first record of every JSON report: which host and which
 * install it comes from, which agent wrote it, when, with which options and
 * what it was asked to cover (docs/schema.md, "report").
 *
 *   {"kind":"report","report_id":"<uuid v4>","created":"<UTC RFC 3339>",
 *    "agent_version":"...","command":"scan","host":{"hostname":"...",
 *    "machine_id":"<32 hex>","agent_id":"<uuid>","os":"...","kernel":"...",
 *    "ips":[...],"tags":[...]},"replace_tags":false,
 *    "options":{...},"coverage":{...}}
 *
 * `scan`, `ps` and `logs` write it as the first line of --format json and
 * of what --submit sends; `log4scan submit FILE` sends files that start
 * with it as they are, so a report keeps the identity of the host that
 * wrote it wherever it is sent from.  Nothing here prints or exits. */
#ifndef L4S_ENVELOPE_H
#define L4S_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct l4s_envelope_opts {
	const char *command;            /* "scan", "logs", "ps" */
	const char *const *tags;        /* ntags operator-chosen labels, may be NULL */
	size_t ntags;
	const char *root;               /* read etc files under this root ("" or NULL = /) */
	bool replace_tags;              /* these tags replace the device's (default: add to them) */
	const char *options_json;       /* a JSON object, or NULL: {} */
	const char *coverage_json;      /* a JSON object, or NULL: {} */
};

/* Append the envelope line (ending in '\n') to out and store the new report
 * id in report_id.  Warnings (e.g. no agent id could be kept) are appended
 * to warn, one line each.  0, or -1 with the reason in warn. */
int envelope_build(struct buf *out, const struct l4s_envelope_opts *o, char report_id[37], struct buf *warn);

/* The report id of a body (from its envelope line); false when absent. */
bool envelope_report_id(const char *body, size_t len, char id[37]);

#endif
