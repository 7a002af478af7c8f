/* proc_report.h - the process view's output (lib/report/proc_report.c):
 * the "process" JSON record, the text block per JVM, the summary fields and
 * the status names, the same from the Linux and the Windows process views.
 * A sink of proc/'s data: it lives with the other report formats, above
 * proc/ (lib/README.md). */
#ifndef L4S_PROC_REPORT_H
#define L4S_PROC_REPORT_H

#include "proc/proc.h"
#include "util/buf.h"

/* "safe", "mitigated", "vulnerable" or "unknown" */
const char *proc_status_name(enum proc_status s);

/* The "process" JSON record: one object, no newline (report_ops.record). */
void proc_jvm_json(struct buf *b, const struct proc_jvm *j);
/* A block of text describing the JVM and its findings. */
void proc_jvm_text(struct buf *b, const struct proc_jvm *j);
/* The process counts as JSON fields with a leading comma:
 * ,"processes":N,"jvms":N,...  (for a summary record). */
void proc_summary_json_fields(struct buf *b, const struct proc_summary *s);
void proc_summary_text(struct buf *b, const struct proc_summary *s);

#endif
