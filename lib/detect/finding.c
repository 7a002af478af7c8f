/* finding.c - a finding's life: its status names, its evidence lines,
 * freeing and copying it.  Apart from detect.c so that the verdict (verdict.c), which
 * the collector links, needs nothing that reads archives. */
#include "detect/detect.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char VS_BYTECODE_OVER_METADATA[] = "bytecode-over-metadata";

const char *finding_status_name(enum status s)
{
	return s == ST_VULNERABLE ? "vulnerable" : s == ST_MITIGATED ? "mitigated" : "safe";
}

void finding_add_evidence(struct finding *f, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	f->evidence = xrealloc(f->evidence, (f->nevidence + 1) * sizeof *f->evidence);
	f->evidence[f->nevidence++] = buf_detach(&b);
}

void finding_free(struct finding *f)
{
	for (size_t i = 0; i < f->nevidence; i++)
		free(f->evidence[i]);
	free(f->evidence);
	free(f->root);
	free(f->path);
	free(f->image);
	free(f->tag);
	free(f->layer);
	free(f->note);
	free(f->facts);
	free(f->hash_note);
	memset(f, 0, sizeof *f);
}


void finding_copy(struct finding *dst, const struct finding *src)
{
	*dst = *src;
	dst->root = src->root ? xstrdup(src->root) : NULL;
	dst->path = src->path ? xstrdup(src->path) : NULL;
	dst->image = src->image ? xstrdup(src->image) : NULL;
	dst->tag = src->tag ? xstrdup(src->tag) : NULL;
	dst->layer = src->layer ? xstrdup(src->layer) : NULL;
	dst->note = src->note ? xstrdup(src->note) : NULL;
	dst->hash_note = src->hash_note ? xstrdup(src->hash_note) : NULL;
	dst->facts = src->facts ? xstrdup(src->facts) : NULL;
	dst->evidence = src->nevidence ? xcalloc(src->nevidence, sizeof *dst->evidence) : NULL;
	for (size_t i = 0; i < src->nevidence; i++)
		dst->evidence[i] = xstrdup(src->evidence[i]);
}
