/* formats.h - the constructors of the ecosystem report formats (csv, sarif,
 * cyclonedx; registered in report.c's formats[] table) and the syslog
 * output of findings.
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

#include "report.h"

struct report_writer *report_new_csv(struct report_writer *w);
struct report_writer *report_new_sarif(struct report_writer *w);
struct report_writer *report_new_cyclonedx(struct report_writer *w);

/* Growable list of finding copies, shared by the document formats. */
struct finding_list {
	struct finding *v;
	size_t n, cap;
};
void finding_list_add(struct finding_list *l, const struct finding *f);
void finding_list_free(struct finding_list *l);

/* Percent-encode bytes for a URI path or a purl segment: every byte outside
 * A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash) becomes %XX, so arbitrary
 * file-name bytes survive exactly. */
void uri_escape(struct buf *b, const char *s, size_t n, bool keep_slash);

/* ---- syslog (lib/syslog_out.c)
 *
 * syslog_open() calls openlog("log4scan", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV):
 * LOG_NDELAY connects to /dev/log at once, so it must be called before a
 * seccomp filter that forbids socket()/connect() is installed; later
 * syslog() calls only send() on the connected socket.
 * syslog_finding() sends one message per finding, priority LOG_WARNING for
 * vulnerable, LOG_NOTICE for mitigated, LOG_INFO for safe, e.g.
 *   [log4scan@32473 path="/srv/a.jar" component="log4j-core" version="2.14.1"
 *    status="vulnerable" severity="critical" cves="CVE-2021-44228 ..."
 *    sha256="..."] log4j-core 2.14.1 vulnerable: /srv/a.jar
 * an RFC 5424 STRUCTURED-DATA element (32473 is the example enterprise
 * number of RFC 5612) followed by a human summary.  PARAM-VALUEs escape
 * '"', '\' and ']' with a backslash; a path that is not valid UTF-8 or that
 * holds control characters is written with '?' for those bytes and its exact
 * bytes in path_b64. */
void syslog_open(void);
void syslog_finding(const struct finding *f);
void syslog_close(void);
/* The message text without the syslog header (for tests). */
void syslog_format(struct buf *b, const struct finding *f);

#endif
