/* fix_manifest.c - reading the backup manifest (manifest.tsv, format in
 * fix.h) back into records, for restore, --list and pruning.
 *
 * The manifest is only appended to, one fsync'd line (or block of lines)
 * at a time, so what a crash can leave is a last line cut short; the
 * writer ends such a line before it appends (fix_manifest_append).  Here a
 * line that does not parse - too few fields, a hash that is not 64
 * characters, a backup name that is not a plain name, a class path that
 * climbs out of its directory - is counted and ignored, never followed:
 * restore runs as root, and the names in the manifest decide what it
 * reads and writes. */
#include "fix/fix_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 12

/* Split a line at TABs into at most max unescaped fields. */
static size_t fields(const char *line, size_t len, char **f, size_t max)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len && n < max; i++) {
		if (i == len || line[i] == '\t') {
			f[n++] = fix_unesc(line + start, i - start);
			start = i + 1;
		}
	}
	return n;
}

static bool is_sha(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* A name directly in the backup directory. */
static bool plain_name(const char *s)
{
	return *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/') && !strchr(s, '\\') &&
	       !strchr(s, ':');
}

/* A relative '/'-separated path with no empty, "." or ".." component. */
static bool safe_rel(const char *s)
{
	if (!*s || strchr(s, '\\'))
		return false;
	for (const char *c = s;;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (!l || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!e)
			return true;
		c = e + 1;
	}
}

/* Absolute: "/..." or, on Windows, "C:\..." (fix writes absolute paths). */
static bool absolute_path(const char *s)
{
	return s[0] == '/' || (s[0] && s[1] == ':' && fix_is_sep(s[2]));
}

static void attrs_from(struct fix_attrs *m, char **f)
{
	m->uid = strtoul(f[0], NULL, 10);
	m->gid = strtoul(f[1], NULL, 10);
	m->mode = (unsigned)strtoul(f[2], NULL, 8) & 07777;
	m->mtime_s = strtoll(f[3], NULL, 10);
	m->mtime_ns = strtol(f[4], NULL, 10);
}

static struct mrec *add_rec(struct manifest *m, char **f, bool dir)
{
	m->r = xrealloc(m->r, (m->n + 1) * sizeof *m->r);
	struct mrec *x = &m->r[m->n++];
	memset(x, 0, sizeof *x);
	x->dir = dir;
	x->id = f[1], f[1] = NULL;
	x->time = strtoll(f[2], NULL, 10);
	x->path = f[3], f[3] = NULL;
	x->backup = f[4], f[4] = NULL;
	return x;
}

static bool parse_line(struct manifest *m, char **f, size_t nf)
{
	if (nf == 12 && !strcmp(f[0], "fix")) {
		if (!*f[1] || !absolute_path(f[3]) || !plain_name(f[4]) || !is_sha(f[5]) || !is_sha(f[6]))
			return false;
		struct mrec *x = add_rec(m, f, false);
		memcpy(x->sha_o, f[5], 65);
		memcpy(x->sha_n, f[6], 65);
		attrs_from(&x->a, f + 7);
		return true;
	}
	if (nf == 6 && !strcmp(f[0], "dir")) {
		if (!*f[1] || !absolute_path(f[3]) || !plain_name(f[4]))
			return false;
		struct mrec *x = add_rec(m, f, true);
		x->nexpected = strtoul(f[5], NULL, 10);
		return true;
	}
	if (nf == 10 && !strcmp(f[0], "dirfile")) {
		struct mrec *x = m->n ? &m->r[m->n - 1] : NULL;
		if (!x || !x->dir || strcmp(x->id, f[1]) || !safe_rel(f[2]) || !is_sha(f[3]))
			return false;
		x->files = xrealloc(x->files, (x->nfiles + 1) * sizeof *x->files);
		struct mfile *mf = &x->files[x->nfiles++];
		mf->rel = f[2], f[2] = NULL;
		memcpy(mf->sha, f[3], 65);
		mf->size = strtoll(f[4], NULL, 10);
		attrs_from(&mf->a, f + 5);
		return true;
	}
	static const char *const marks[] = {NULL, "restored", "abandoned", "forgotten", "pruned"};
	for (int s = M_RESTORED; s <= M_PRUNED; s++) {
		if (nf < 2 || strcmp(f[0], marks[s]))
			continue;
		for (size_t i = 0; i < m->n; i++)
			if (!strcmp(m->r[i].id, f[1])) {
				m->r[i].state = (enum mstate)s;
				m->r[i].state_time = nf > 2 ? strtoll(f[2], NULL, 10) : 0;
			}
		return true;
	}
	return false;
}

void fix_manifest_parse(const char *text, size_t len, struct manifest *m)
{
	memset(m, 0, sizeof *m);
	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t l = nl ? (size_t)(nl - text) : len;
		if (l && text[0] != '#') {
			char *f[MAX_FIELDS] = {0};
			size_t nf = fields(text, l, f, MAX_FIELDS);
			if (!parse_line(m, f, nf))
				m->bad_lines++;
			for (size_t i = 0; i < MAX_FIELDS; i++)
				free(f[i]);
		}
		text += l + (nl ? 1 : 0);
		len -= l + (nl ? 1 : 0);
	}
}

void fix_manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct mrec *x = &m->r[i];
		free(x->id);
		free(x->path);
		free(x->backup);
		for (size_t k = 0; k < x->nfiles; k++)
			free(x->files[k].rel);
		free(x->files);
	}
	free(m->r);
	memset(m, 0, sizeof *m);
}

const char *fix_manifest_state_name(enum mstate s)
{
	static const char *const n[] = {"active", "restored", "abandoned", "forgotten", "pruned"};
	return n[s];
}
