/* submit_internal.h - what the agent's submission (lib/submit/submit.c) reads that
 * it did not write itself: the collector's answers (POST /api/v1/reports,
 * GET /api/v1/reports/known, error bodies) and the names in the spool
 * directory.  Pure functions over text in memory, exposed so that
 * fuzz/fuzz_submit.c can feed them arbitrary bytes.  (A spooled report's
 * body is sent as it is, never parsed by the agent: the collector's parser,
 * fuzz_report, is what reads it.) */
#ifndef L4S_SUBMIT_INTERNAL_H
#define L4S_SUBMIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Does the answer say the report was accepted ("accepted":true)? */
bool submit_answer_accepted(const char *answer);
/* Append the "error" text of a JSON answer (at most ~300 bytes, control
 * characters as '?'), or "no reason given", to out.  answer may be NULL. */
void submit_answer_reason(const char *answer, struct buf *out);
/* {"known":["uuid",...]}: set known[i] for each of the n ids the answer
 * lists (case-insensitively); the others are left as they are. */
void submit_known_parse(const char *answer, const char *const *ids, size_t n, bool *known);
/* Is this directory entry a spooled report: NNNNNNNNNNNNNNNNNNN-UUID.ndjson
 * (19 characters, '-', a UUID, ".ndjson")?  Its id is then name + 20. */
bool submit_spool_name(const char *name);

#endif
