/* proc_report.c - the process view's output: the "process" JSON record,
 * the text block per JVM and the summary fields.  Split from proc.c so that
 * the Windows process view (lib/proc/proc_win32.c, built on the Restart
 * Manager) writes exactly the same records. */
#include "report/proc_report.h"

#include <string.h>

#include "report/report.h"
#include "util/jsonw.h"

const char *proc_status_name(enum proc_status s)
{
	static const char *n[] = {"safe", "mitigated", "vulnerable", "unknown"};
	return (unsigned)s < 4 ? n[s] : "unknown";
}

/* ---- output ---------------------------------------------------------- */

void proc_jvm_json(struct buf *b, const struct proc_jvm *j)
{
	buf_adds(b, "{\"kind\":\"process\"");
	jsonw_field_int(b, true, "pid", j->pid);
	jsonw_field_str(b, true, "user", j->user ? j->user : "");
	jsonw_field_str(b, true, "command", j->command ? j->command : "");
	jsonw_field_str_or_null(b, true, "start_time", j->start_time[0] ? j->start_time : NULL);
	jsonw_field_str_or_null(b, true, "container", j->container);
	buf_adds(b, ",\"listening\":[");
	for (size_t i = 0; i < j->nlistening; i++) {
		buf_adds(b, i ? ",{" : "{");
		jsonw_field_str(b, false, "proto", j->listening[i].proto);
		jsonw_field_str(b, true, "addr", j->listening[i].addr);
		jsonw_field_int(b, true, "port", j->listening[i].port);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	jsonw_field_strv(b, "jars", (const char *const *)j->jars, j->njars);
	jsonw_field_str(b, true, "status", proc_status_name(j->status));
	jsonw_field_bool(b, true, "restart_required", j->restart_required);
	jsonw_field_strv(b, "mitigations", (const char *const *)j->mitigations, j->nmitigations);
	jsonw_field_strv(b, "notes", (const char *const *)j->notes, j->nnotes);
	buf_addc(b, '}');
}

void proc_jvm_text(struct buf *b, const struct proc_jvm *j)
{
	static const char *label[] = {"SAFE", "MITIGATED", "VULNERABLE", "UNKNOWN"};
	buf_printf(b, "%-10s pid %ld", label[j->status], j->pid);
	if (j->restart_required)
		buf_adds(b, " RESTART REQUIRED");
	buf_adds(b, "  user ");
	jsonw_text_escape(b, j->user ? j->user : "?");
	if (j->start_time[0])
		buf_printf(b, "  started %s", j->start_time);
	if (j->container) {
		buf_adds(b, "  container ");
		jsonw_text_escape(b, j->container);
	}
	buf_adds(b, "\n           command: ");
	jsonw_text_escape(b, j->command ? j->command : "?");
	buf_addc(b, '\n');
	if (j->nlistening) {
		buf_adds(b, "           listening:");
		for (size_t i = 0; i < j->nlistening; i++) {
			const struct proc_listen *l = &j->listening[i];
			bool v6 = strchr(l->addr, ':') != NULL;
			buf_printf(b, " %s %s%s%s:%u", l->proto, v6 ? "[" : "", l->addr, v6 ? "]" : "", l->port);
		}
		buf_addc(b, '\n');
	}
	for (size_t i = 0; i < j->nmitigations; i++) {
		buf_adds(b, "           mitigation: ");
		jsonw_text_escape(b, j->mitigations[i]);
		buf_addc(b, '\n');
	}
	for (size_t i = 0; i < j->nnotes; i++) {
		buf_adds(b, "           note: ");
		jsonw_text_escape(b, j->notes[i]);
		buf_addc(b, '\n');
	}
	for (size_t i = 0; i < j->batch.n; i++) {
		const struct scan_record *r = &j->batch.rec[i];
		struct buf t = BUF_INIT;
		if (r->kind == REC_FINDING) {
			report_finding_text(&t, &r->f);
		} else {
			buf_adds(&t, "error ");
			jsonw_text_escape(&t, r->path);
			buf_adds(&t, ": ");
			jsonw_text_escape(&t, r->msg);
			buf_addc(&t, '\n');
		}
		/* indent the finding under its process */
		for (const char *p = buf_cstr(&t); *p;) {
			size_t n = strcspn(p, "\n");
			buf_adds(b, "    ");
			buf_add(b, p, n);
			buf_addc(b, '\n');
			p += n + (p[n] == '\n');
		}
		buf_free(&t);
	}
}

void proc_summary_json_fields(struct buf *b, const struct proc_summary *s)
{
	buf_printf(b,
		   ",\"processes\":%llu,\"jvms\":%llu,\"jvm_status\":{\"vulnerable\":%llu,"
		   "\"mitigated\":%llu,\"safe\":%llu,\"unknown\":%llu},\"restart_required\":%llu,"
		   "\"exposed\":%llu,\"kernel_threads\":%llu,\"exited\":%llu,\"denied\":%llu",
		   s->processes, s->jvms, s->status[PST_VULNERABLE], s->status[PST_MITIGATED],
		   s->status[PST_SAFE], s->status[PST_UNKNOWN], s->restart_required, s->exposed,
		   s->kernel_threads, s->exited, s->denied);
}

void proc_summary_text(struct buf *b, const struct proc_summary *s)
{
	buf_printf(b,
		   "%llu processes, %llu JVMs: %llu vulnerable (%llu listening on a port), %llu mitigated, "
		   "%llu safe, %llu unknown; %llu need a restart",
		   s->processes, s->jvms, s->status[PST_VULNERABLE], s->exposed, s->status[PST_MITIGATED],
		   s->status[PST_SAFE], s->status[PST_UNKNOWN], s->restart_required);
	if (s->kernel_threads || s->exited || s->denied)
		buf_printf(b, " (%llu kernel threads passed over, %llu exited during the scan, %llu not "
			      "readable)",
			   s->kernel_threads, s->exited, s->denied);
	buf_addc(b, '\n');
}
