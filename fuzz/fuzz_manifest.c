/* fuzz_manifest.c - libFuzzer harness for the backup manifest reader
 * (lib/fix/fix_manifest.c), which `log4scan restore` runs as root over
 * manifest.tsv.
 *
 * Whatever the bytes, every record it returns must be one restore can act
 * on safely: an absolute path, a backup name with no separator and not
 * "." or "..", 64 lower-case hex digits for each hash, class paths that are
 * relative and never climb (no empty, "." or ".." component), at most as
 * many records as lines; and escaping a field written back and reading it
 * again gives the same field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fix/fix_internal.h"

static void check_sha(const char *s)
{
	if (strlen(s) != 64)
		abort();
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			abort();
}

static void check_rel(const char *s)
{
	if (!*s || *s == '/' || strstr(s, "//") || s[strlen(s) - 1] == '/')
		abort();
	for (const char *c = s; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
		if ((c[0] == '.' && (c[1] == '/' || !c[1])) || (c[0] == '.' && c[1] == '.' && (c[2] == '/' || !c[2])))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	fix_manifest_parse((const char *)data, size, &m);
	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (m.n > lines)
		abort();
	for (size_t i = 0; i < m.n; i++) {
		const struct mrec *r = &m.r[i];
		if (!r->id[0] || !(r->path[0] == '/' || (r->path[0] && r->path[1] == ':')))
			abort();
		if (!r->backup[0] || strchr(r->backup, '/') || strchr(r->backup, '\\') || !strcmp(r->backup, ".") ||
		    !strcmp(r->backup, ".."))
			abort();
		if (!r->dir) {
			check_sha(r->sha_o);
			check_sha(r->sha_n);
		}
		for (size_t k = 0; k < r->nfiles; k++) {
			check_sha(r->files[k].sha);
			check_rel(r->files[k].rel);
		}
		if ((unsigned)r->state > M_PRUNED || r->a.mode > 07777)
			abort();
		/* a field escaped as the writer does reads back the same */
		struct buf e = BUF_INIT;
		fix_esc(&e, r->path);
		char *back = fix_unesc(e.data ? e.data : "", e.len);
		if (strcmp(back, r->path))
			abort();
		free(back);
		buf_free(&e);
	}
	fix_manifest_free(&m);
	return 0;
}
