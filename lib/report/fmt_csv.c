/* fmt_csv.c - the csv format: one row per finding, RFC 4180.
 *
 * Columns: path, component, version, version_source, status, severity,
 * cves, mitigated_cves, fixed_in, sha256, advice, cd_sha256 (lists joined
 * with one space; cd_sha256 last, so that readers by position still work).  Rows end in CRLF; a field that holds a comma, a double quote, CR
 * or LF is quoted and its quotes doubled, so any file name survives a
 * round trip through a CSV parser.  Fields are the exact bytes: a file name
 * that is not UTF-8 stays as it is on disk (read the file as bytes, or with
 * Python's errors="surrogateescape").  The header row is written when the
 * writer is created, so an empty scan is a valid CSV file.  Rows stream as
 * findings arrive; errors are diagnostics and go to stderr, as with text.
 *
 * Also here: the helpers the document formats share (formats.h). */
#include <stdlib.h>
#include <string.h>

#include "report/formats.h"
#include "util/jsonw.h"

void fmt_list_add(struct finding_list *l, const struct finding *f)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	finding_copy(&l->v[l->n++], f);
}

void fmt_list_free(struct finding_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		finding_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

void fmt_uri_escape(struct buf *b, const char *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
			buf_addc(b, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_add(b, e, 3);
		}
	}
}

static void csv_field(struct buf *b, bool comma, const char *s)
{
	if (comma)
		buf_addc(b, ',');
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_addc(b, '"');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

static void csv_cves(struct buf *b, const struct rule_cve *const *v, size_t n)
{
	struct buf l = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(&l, ' ');
		buf_adds(&l, v[i]->id);
	}
	csv_field(b, true, buf_cstr(&l));
	buf_free(&l);
}

static void csv_finding(struct report_writer *w, const struct finding *f)
{
	struct buf b = BUF_INIT;
	csv_field(&b, false, f->path);
	csv_field(&b, true, rules_component_name(f->comp));
	csv_field(&b, true, f->version);
	csv_field(&b, true, f->version_source ? f->version_source : "unknown");
	csv_field(&b, true, finding_status_name(f->status));
	csv_field(&b, true, f->severity ? f->severity : "none");
	csv_cves(&b, f->cves, f->ncves);
	csv_cves(&b, f->mitigated, f->nmitigated);
	csv_field(&b, true, f->fixed_in);
	csv_field(&b, true, f->sha256);
	csv_field(&b, true, f->advice);
	csv_field(&b, true, f->cd_sha256);
	buf_adds(&b, "\r\n");
	fwrite(b.data, 1, b.len, w->out);
	buf_free(&b);
}

static void csv_record(struct report_writer *w, const char *kind, const char *json)
{
}

static void csv_finish(struct report_writer *w, const struct scan_stats *st, double seconds,
		       const struct walk_result *wr)
{
}

static void csv_destroy(struct report_writer *w)
{
}

static const struct report_ops csv_ops = {csv_finding, report_error_stderr, csv_record, csv_finish,
					   csv_destroy};

struct report_writer *fmt_csv_new(struct report_writer *w)
{
	w->ops = &csv_ops;
	fputs("path,component,version,version_source,status,severity,cves,mitigated_cves,fixed_in,"
	      "sha256,advice,cd_sha256\r\n",
	      w->out);
	return w;
}
