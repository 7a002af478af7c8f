/* report.c - JSON Lines and text renderings of scan results (report.h). */
#include "report.h"

#include <string.h>

#include "jsonw.h"

void report_finding_json(struct buf *b, const struct finding *f)
{
	buf_adds(b, "{\"kind\":\"finding\"");
	json_field_str(b, true, "path", f->path);
	json_field_str(b, true, "component", component_name(f->comp));
	json_field_str(b, true, "version", f->version);
	json_field_str(b, true, "version_source", f->version_source ? f->version_source : "unknown");
	json_field_str(b, true, "status", status_name(f->status));
	buf_adds(b, ",\"cves\":[");
	for (size_t i = 0; i < f->ncves; i++) {
		if (i)
			buf_addc(b, ',');
		json_cstr(b, f->cves[i]->id);
	}
	buf_adds(b, "],\"mitigated_cves\":[");
	for (size_t i = 0; i < f->nmitigated; i++) {
		if (i)
			buf_addc(b, ',');
		json_cstr(b, f->mitigated[i]->id);
	}
	buf_addc(b, ']');
	json_field_str(b, true, "severity", f->severity ? f->severity : "none");
	if (f->fixed_in[0])
		json_field_str(b, true, "fixed_in", f->fixed_in);
	else
		buf_adds(b, ",\"fixed_in\":null");
	if (f->advice)
		json_field_str(b, true, "advice", f->advice);
	buf_adds(b, ",\"evidence\":[");
	for (size_t i = 0; i < f->nevidence; i++) {
		if (i)
			buf_addc(b, ',');
		json_cstr(b, f->evidence[i]);
	}
	buf_addc(b, ']');
	if (f->sha256[0])
		json_field_str(b, true, "sha256", f->sha256);
	else
		buf_adds(b, ",\"sha256\":null");
	if (f->pid)
		json_field_int(b, true, "pid", f->pid);
	buf_adds(b, "}\n");
}

void report_error_json(struct buf *b, const char *path, const char *msg)
{
	buf_adds(b, "{\"kind\":\"error\"");
	json_field_str(b, true, "path", path);
	json_field_str(b, true, "error", msg);
	buf_adds(b, "}\n");
}

void report_summary_json(struct buf *b, const struct scan_stats *st, double seconds,
			 const struct walk_result *wr)
{
	buf_printf(b,
		   "{\"kind\":\"summary\",\"files\":%llu,\"archives\":%llu,\"bytes\":%llu,"
		   "\"findings\":{\"vulnerable\":%llu,\"mitigated\":%llu,\"safe\":%llu},"
		   "\"errors\":%llu,\"seconds\":%.3f",
		   (unsigned long long)st->files, (unsigned long long)st->archives,
		   (unsigned long long)st->bytes, (unsigned long long)st->findings[ST_VULNERABLE],
		   (unsigned long long)st->findings[ST_MITIGATED], (unsigned long long)st->findings[ST_SAFE],
		   (unsigned long long)st->errors, seconds);
	if (wr) {
		buf_printf(b, ",\"not_regular\":%llu,\"symlinks_not_followed\":%llu", wr->not_regular,
			   wr->symlinks);
		buf_adds(b, ",\"skipped\":[");
		for (size_t i = 0; i < wr->nskipped; i++) {
			buf_adds(b, i ? ",{" : "{");
			json_field_str(b, false, "path", wr->skipped[i].path);
			json_field_str(b, true, "reason", wr->skipped[i].reason);
			buf_addc(b, '}');
		}
		buf_addc(b, ']');
	} else {
		buf_adds(b, ",\"skipped\":[]");
	}
	buf_adds(b, "}\n");
}

void report_finding_text(struct buf *b, const struct finding *f)
{
	static const char *label[] = {"SAFE", "MITIGATED", "VULNERABLE"};
	buf_printf(b, "%-10s ", label[f->status]);
	text_escape(b, f->path);
	buf_printf(b, "\n           %s %s", component_name(f->comp), f->version[0] ? f->version : "(version unknown)");
	if (f->version_source)
		buf_printf(b, " (from %s)", f->version_source);
	if (f->ncves) {
		buf_printf(b, ", %s:", f->severity);
		for (size_t i = 0; i < f->ncves; i++)
			buf_printf(b, " %s", f->cves[i]->id);
	}
	if (f->nmitigated) {
		buf_adds(b, "; mitigated:");
		for (size_t i = 0; i < f->nmitigated; i++)
			buf_printf(b, " %s", f->mitigated[i]->id);
	}
	if (f->fixed_in[0])
		buf_printf(b, "\n           upgrade to %s or later", f->fixed_in);
	if (f->advice && f->status != ST_SAFE)
		buf_printf(b, "\n           %s", f->advice);
	buf_addc(b, '\n');
}

void report_summary_text(struct buf *b, const struct scan_stats *st, double seconds,
			 const struct walk_result *wr)
{
	buf_printf(b, "%llu files examined, %llu archives opened: %llu vulnerable, %llu mitigated, "
		      "%llu safe; %llu errors; %.2f s\n",
		   (unsigned long long)st->files, (unsigned long long)st->archives,
		   (unsigned long long)st->findings[ST_VULNERABLE],
		   (unsigned long long)st->findings[ST_MITIGATED],
		   (unsigned long long)st->findings[ST_SAFE], (unsigned long long)st->errors, seconds);
	if (wr)
		for (size_t i = 0; i < wr->nskipped; i++) {
			buf_adds(b, "not scanned: ");
			text_escape(b, wr->skipped[i].path);
			buf_printf(b, " (%s)\n", wr->skipped[i].reason);
		}
}
