/* report.c - the JSON Lines and text formats, and the table of formats
 * (see report.h). */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

#include "report/formats.h"
#include "util/jsonw.h"

void report_finding_json(struct buf *b, const struct finding *f)
{
	buf_adds(b, "{\"kind\":\"finding\"");
	jsonw_field_str(b, true, "path", f->path);
	jsonw_field_str(b, true, "component", rules_component_name(f->comp));
	jsonw_field_str(b, true, "version", f->version);
	jsonw_field_str(b, true, "version_source", f->version_source ? f->version_source : "unknown");
	if (f->root)
		jsonw_field_str(b, true, "root", f->root); /* package root: tells relocated copies apart */
	jsonw_field_str(b, true, "status", finding_status_name(f->status));
	buf_adds(b, ",\"cves\":[");
	for (size_t i = 0; i < f->ncves; i++) {
		if (i)
			buf_addc(b, ',');
		jsonw_cstr(b, f->cves[i]->id);
	}
	buf_adds(b, "],\"mitigated_cves\":[");
	for (size_t i = 0; i < f->nmitigated; i++) {
		if (i)
			buf_addc(b, ',');
		jsonw_cstr(b, f->mitigated[i]->id);
	}
	buf_addc(b, ']');
	jsonw_field_str(b, true, "severity", f->severity ? f->severity : "none");
	jsonw_field_str_or_null(b, true, "fixed_in", f->fixed_in[0] ? f->fixed_in : NULL);
	if (f->advice)
		jsonw_field_str(b, true, "advice", f->advice);
	buf_adds(b, ",\"evidence\":[");
	for (size_t i = 0; i < f->nevidence; i++) {
		if (i)
			buf_addc(b, ',');
		jsonw_cstr(b, f->evidence[i]);
	}
	buf_addc(b, ']');
	if (f->sha256[0])
		jsonw_field_str(b, true, "sha256", f->sha256);
	else
		buf_adds(b, ",\"sha256\":null");
	if (f->hash_note)
		jsonw_field_str(b, true, "sha256_note", f->hash_note);
	if (f->cd_sha256[0])
		jsonw_field_str(b, true, "cd_sha256", f->cd_sha256);
	if (f->facts)
		jsonw_field_str(b, true, "facts", f->facts);
	if (f->pid)
		jsonw_field_int(b, true, "pid", f->pid);
	if (f->image) {
		jsonw_field_str(b, true, "image", f->image);
		if (f->tag)
			jsonw_field_str(b, true, "tag", f->tag);
		if (f->layer)
			jsonw_field_str(b, true, "layer", f->layer);
		jsonw_field_bool(b, true, "in_final_image", !f->removed);
		if (f->note)
			jsonw_field_str(b, true, "note", f->note);
	}
	buf_adds(b, "}\n");
}

void report_error_json(struct buf *b, const char *path, const char *msg)
{
	buf_adds(b, "{\"kind\":\"error\"");
	jsonw_field_str(b, true, "path", path);
	jsonw_field_str(b, true, "error", msg);
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
		buf_printf(b, ",\"not_regular\":%llu,\"symlinks_not_followed\":%llu,\"not_reached\":%llu",
			   wr->not_regular, wr->symlinks, wr->not_reached);
		buf_adds(b, ",\"skipped\":[");
		for (size_t i = 0; i < wr->nskipped; i++) {
			buf_adds(b, i ? ",{" : "{");
			jsonw_field_str(b, false, "path", wr->skipped[i].path);
			jsonw_field_str(b, true, "reason", wr->skipped[i].reason);
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
	jsonw_text_escape(b, f->path);
	buf_printf(b, "\n           %s %s", rules_component_name(f->comp), f->version[0] ? f->version : "(version unknown)");
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
	if (f->image) {
		buf_adds(b, "\n           image ");
		jsonw_text_escape(b, f->image);
		if (f->tag) {
			buf_addc(b, ':');
			jsonw_text_escape(b, f->tag);
		}
		if (f->note) {
			buf_adds(b, "; ");
			jsonw_text_escape(b, f->note);
		}
	}
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
	if (wr && wr->not_reached)
		buf_printf(b, "%llu files found but not scanned: time budget exhausted\n", wr->not_reached);
	if (wr)
		for (size_t i = 0; i < wr->nskipped; i++) {
			buf_adds(b, "not scanned: ");
			jsonw_text_escape(b, wr->skipped[i].path);
			buf_printf(b, " (%s)\n", wr->skipped[i].reason);
		}
}

/* ---- json: one line per record, as it comes */

static void json_finding(struct report_writer *w, const struct finding *f)
{
	struct buf b = BUF_INIT;
	report_finding_json(&b, f);
	fwrite(b.data, 1, b.len, w->out);
	buf_free(&b);
}

static void json_error(struct report_writer *w, const char *path, const char *msg)
{
	struct buf b = BUF_INIT;
	report_error_json(&b, path, msg);
	fwrite(b.data, 1, b.len, w->out);
	buf_free(&b);
}

static void json_record(struct report_writer *w, const char *kind, const char *json)
{
	fputs(json, w->out);
	fputc('\n', w->out);
}

static void json_finish(struct report_writer *w, const struct scan_stats *st, double seconds,
			const struct walk_result *wr)
{
	struct buf b = BUF_INIT;
	report_summary_json(&b, st, seconds, wr);
	if (w->summary_json.len && b.len >= 2) {
		b.len -= 2; /* "}\n" */
		buf_add(&b, w->summary_json.data, w->summary_json.len);
		buf_adds(&b, "}\n");
	}
	fwrite(b.data, 1, b.len, w->out);
	buf_free(&b);
}

static void no_destroy(struct report_writer *w)
{
}

static const struct report_ops json_ops = {json_finding, json_error, json_record, json_finish,
					    no_destroy};

/* ---- text: findings grouped by status (vulnerable first) at the end;
 * errors go to stderr as they happen, since they are diagnostics. */

struct text_state {
	struct buf by_status[3];
};

static void text_finding(struct report_writer *w, const struct finding *f)
{
	struct text_state *t = w->state;
	report_finding_text(&t->by_status[f->status], f);
}

void report_error_stderr(struct report_writer *w, const char *path, const char *msg)
{
	struct buf e = BUF_INIT;
	buf_adds(&e, "log4scan: ");
	jsonw_text_escape(&e, path);
	buf_printf(&e, ": %s\n", msg);
	fputs(buf_cstr(&e), stderr);
	buf_free(&e);
}

static void text_record(struct report_writer *w, const char *kind, const char *json)
{
	/* Other commands print their own text records. */
}

static void text_finish(struct report_writer *w, const struct scan_stats *st, double seconds,
			const struct walk_result *wr)
{
	struct text_state *t = w->state;
	fwrite(buf_cstr(&w->preface_text), 1, w->preface_text.len, w->out);
	for (int s = ST_VULNERABLE; s >= ST_SAFE; s--)
		if (!(w->quiet && s == ST_SAFE))
			fwrite(t->by_status[s].data ? t->by_status[s].data : "", 1, t->by_status[s].len, w->out);
	struct buf b = BUF_INIT;
	report_summary_text(&b, st, seconds, wr);
	buf_add(&b, buf_cstr(&w->summary_text), w->summary_text.len);
	fwrite(b.data, 1, b.len, w->out);
	buf_free(&b);
}

static void text_destroy(struct report_writer *w)
{
	struct text_state *t = w->state;
	for (int s = 0; s < 3; s++)
		buf_free(&t->by_status[s]);
	free(t);
}

static const struct report_ops text_ops = {text_finding, report_error_stderr, text_record, text_finish,
					    text_destroy};

static struct report_writer *new_json(struct report_writer *w)
{
	w->ops = &json_ops;
	return w;
}

static struct report_writer *new_text(struct report_writer *w)
{
	w->ops = &text_ops;
	w->state = xcalloc(1, sizeof(struct text_state));
	return w;
}

/* The formats.  Each constructor fills in ops and state. */
static const struct {
	const char *name;
	struct report_writer *(*make)(struct report_writer *w);
} formats[] = {
	{"text", new_text},
	{"json", new_json},
	{"csv", fmt_csv_new},
	{"sarif", fmt_sarif_new},
	{"cyclonedx", fmt_cyclonedx_new},
};

const char *report_formats(void)
{
	static char list[256];
	if (!list[0]) {
		for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
			if (i)
				strcat(list, ", ");
			strcat(list, formats[i].name);
		}
	}
	return list;
}

struct report_writer *report_writer_new(const char *format, FILE *out, bool quiet, struct buf *err)
{
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		if (strcmp(format, formats[i].name))
			continue;
		struct report_writer *w = xcalloc(1, sizeof *w);
		w->out = out;
		w->quiet = quiet;
		return formats[i].make(w);
	}
	buf_printf(err, "unknown format '%s' (one of: %s)", format, report_formats());
	return NULL;
}

void report_writer_free(struct report_writer *w)
{
	if (!w)
		return;
	w->ops->destroy(w);
	buf_free(&w->preface_text);
	buf_free(&w->summary_json);
	buf_free(&w->summary_text);
	free(w);
}
