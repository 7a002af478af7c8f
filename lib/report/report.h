/* report.h - output formats.  A report_writer receives the records of a run
 * (findings, errors, other JSON records such as processes) and the final
 * summary, and renders them in one format.  Streaming formats (json) write
 * each record as it comes; document formats (text grouping, csv, sarif,
 * cyclonedx) keep copies and write at the end.  Adding a format is adding a
 * file with a constructor and a line in report.c's table. */
#ifndef L4S_REPORT_H
#define L4S_REPORT_H

#include <stdio.h>

#include "detect/detect.h"
#include "scan/scan.h"
#include "util/buf.h"
#include "walk/coverage.h"

struct report_writer;

struct report_ops {
	void (*finding)(struct report_writer *w, const struct finding *f);
	void (*error)(struct report_writer *w, const char *path, const char *msg);
	/* Any other record, as one JSON object without newline (process, attempt...). */
	void (*record)(struct report_writer *w, const char *kind, const char *json);
	void (*finish)(struct report_writer *w, const struct scan_stats *st, double seconds,
		       const struct walk_result *wr);
	void (*destroy)(struct report_writer *w);
};

struct report_writer {
	const struct report_ops *ops;
	FILE *out;
	bool quiet;       /* text: leave safe findings out */
	void *state;      /* the format's own */
	/* Filled in by commands that add to a scan (e.g. the process view):
	 * text printed before the findings in the text format, extra summary
	 * fields (each with a leading comma) for json, extra summary lines for
	 * text.  Freed with the writer. */
	struct buf preface_text;
	struct buf summary_json;
	struct buf summary_text;
};

/* "text", "json", and the formats registered in report.c.  NULL and a
 * message in err for an unknown name. */
struct report_writer *report_writer_new(const char *format, FILE *out, bool quiet, struct buf *err);
void report_writer_free(struct report_writer *w);
/* Comma-separated list of the format names, for --help and errors. */
const char *report_formats(void);

/* Print an error record as a diagnostic on stderr (the text and csv
 * formats, whose stdout is for findings). */
void report_error_stderr(struct report_writer *w, const char *path, const char *msg);

/* The JSON Lines renderings (docs/schema.md), also used by other commands. */
void report_finding_json(struct buf *b, const struct finding *f);
void report_error_json(struct buf *b, const char *path, const char *msg);
void report_summary_json(struct buf *b, const struct scan_stats *st, double seconds,
			 const struct walk_result *wr);
void report_finding_text(struct buf *b, const struct finding *f);
void report_summary_text(struct buf *b, const struct scan_stats *st, double seconds,
			 const struct walk_result *wr);

#endif
