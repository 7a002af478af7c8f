/* formats.h - the constructors of the ecosystem report formats (csv, sarif,
 * cyclonedx; registered in report.c's formats[] table).
 *
 * A constructor receives a report_writer whose `out` and `quiet` are set,
 * fills in `ops` and `state`, and returns it.  csv streams one row per
 * finding; sarif and cyclonedx are single JSON documents, so they keep deep
 * copies of the findings (finding_copy) and write everything at `finish`.
 * The CVE pointers inside the copies point into the rules, which the caller
 * keeps alive until the writer is freed.  Records of other kinds (process,
 * attempt) have no place in these formats and are ignored; per-file errors
 * go to stderr (csv) or into the document (sarif: tool notifications,
 * cyclonedx: a property count). */
#ifndef L4S_FORMATS_H
#define L4S_FORMATS_H

#include "report/report.h"

struct report_writer *fmt_csv_new(struct report_writer *w);
struct report_writer *fmt_sarif_new(struct report_writer *w);
struct report_writer *fmt_cyclonedx_new(struct report_writer *w);

/* Growable list of finding copies, shared by the document formats. */
struct finding_list {
	struct finding *v;
	size_t n, cap;
};
void fmt_list_add(struct finding_list *l, const struct finding *f);
void fmt_list_free(struct finding_list *l);

/* Percent-encode bytes for a URI path or a purl segment: every byte outside
 * A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash) becomes %XX, so arbitrary
 * file-name bytes survive exactly. */
void fmt_uri_escape(struct buf *b, const char *s, size_t n, bool keep_slash);

#endif
