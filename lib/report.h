/* report.h - the JSON Lines records and the human-readable lines that
 * describe findings, errors and the summary.  The JSON schema is stable
 * (docs/schema.md): the collector and other tools consume it. */
#ifndef L4S_REPORT_H
#define L4S_REPORT_H

#include "buf.h"
#include "detect.h"
#include "scan.h"
#include "walk.h"

void report_finding_json(struct buf *b, const struct finding *f);
void report_error_json(struct buf *b, const char *path, const char *msg);
void report_summary_json(struct buf *b, const struct scan_stats *st, double seconds,
			 const struct walk_result *wr);

void report_finding_text(struct buf *b, const struct finding *f);
void report_summary_text(struct buf *b, const struct scan_stats *st, double seconds,
			 const struct walk_result *wr);

#endif
