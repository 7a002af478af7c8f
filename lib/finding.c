/* finding.c - a finding's life: its status names, its evidence lines,
 * freeing it.  Apart from detect.c so that the verdict (verdict.c), which
 * the collector links, needs nothing that reads archives. */
#include "detect.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char VS_BYTECODE_OVER_METADATA[] = "bytecode-over-metadata";

const char *status_name(enum status s)
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

