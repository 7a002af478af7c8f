/* scan_dir.c - exploded class directories (WEB-INF/classes, a shaded
 * copy's package root): the same detector as for archives, over files on
 * disk (a struct container whose entries are the files below the root), and
 * scan_container() for readers of other formats that build their own. */
#include "scan/scan.h"
#include "scan/scan_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/sniff.h"
#include "archive/zentry.h"
#include "archive/zip.h"
#include "archive/zipstream.h"
#include "detect/classroot.h"
#include "scan/image.h"
#include "scan/tarscan.h"
#include "util/longpath.h"

bool scan_is_class_root(int dirfd)
{
	struct stat st;
	if (fstatat(dirfd, "org/apache/logging/log4j/core", &st, 0) == 0 && S_ISDIR(st.st_mode))
		return true;
	return fstatat(dirfd, "org/apache/log4j/Category.class", &st, 0) == 0 && S_ISREG(st.st_mode);
}

/* ---- exploded class directories: the same detector over files on disk */

struct dir_view {
	struct scanner *s;
	const char *dir;
	char **names;
	size_t n;
};

static const char *dv_name(void *ctx, size_t i, size_t *len)
{
	struct dir_view *v = ctx;
	*len = strlen(v->names[i]);
	return v->names[i];
}

static bool dv_read(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len,
		    struct buf *err)
{
	struct dir_view *v = ctx;
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", v->dir, v->names[i]);
	int fd = longpath_open(buf_cstr(&p), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	buf_free(&p);
	return zip_read_file(fd, max, out, len, err);
}

static void collect(struct scanner *s, struct dir_view *v, struct buf *rel, int depth,
		    struct scan_batch *out)
{
	if (depth > 64 || v->n >= s->o->max_dir_classes)
		return;
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", v->dir, buf_cstr(rel));
	DIR *d = longpath_opendir(buf_cstr(&p));
	if (!d) {
		if (errno != ENOENT)
			scan_count_error(s, out, buf_cstr(&p), strerror(errno));
		buf_free(&p);
		return;
	}
	buf_free(&p);
	struct dirent *de;
	size_t rl = rel->len;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rel->len)
			buf_addc(rel, '/');
		buf_adds(rel, de->d_name);
		if (de->d_type == DT_DIR) {
			collect(s, v, rel, depth + 1, out);
		} else if ((de->d_type == DT_REG || de->d_type == DT_UNKNOWN) &&
			   detect_wants(buf_cstr(rel), rel->len)) {
			if (v->n < s->o->max_dir_classes) {
				v->names = xrealloc(v->names, (v->n + 1) * sizeof *v->names);
				v->names[v->n++] = xstrdup(buf_cstr(rel));
			}
		}
		rel->len = rl;
		rel->data[rl] = 0;
	}
	closedir(d);
}

static void scan_dir_tops(struct scanner *s, const char *dir, const char *const *tops, size_t ntops,
			  struct scan_batch *out)
{
	struct dir_view v = {s, dir, NULL, 0};
	for (size_t t = 0; t < ntops; t++) {
		struct buf rel = BUF_INIT;
		buf_adds(&rel, tops[t]);
		collect(s, &v, &rel, 0, out);
		buf_free(&rel);
	}
	if (v.n >= s->o->max_dir_classes)
		scan_count_error(s, out, dir, "too many class files in exploded directory; rest not examined");
	struct container c = {v.n, dv_name, dv_read, &v};
	scan_container(s, &c, dir, "/", NULL, out);
	for (size_t i = 0; i < v.n; i++)
		free(v.names[i]);
	free(v.names);
}

void scan_class_dir(struct scanner *s, const char *dir, struct scan_batch *out)
{
	static const char *const tops[] = {"org", "META-INF"};
	scan_dir_tops(s, dir, tops, 2, out);
}

void scan_package_dir(struct scanner *s, const char *dir, struct scan_batch *out)
{
	static const char *const tops[] = {""};
	scan_dir_tops(s, dir, tops, 1, out);
}

size_t scan_container(struct scanner *s, const struct container *c, const char *path,
		      const char *sep, const struct arch_ident *id, struct scan_batch *out)
{
	struct detect_opts dopt = {s->o->bytecode_only, s->o->max_class_bytes};
	struct detect_result res;
	detect_run(s->rules, &dopt, c, &res);
	struct buf p = BUF_INIT;
	for (size_t i = 0; i < res.nerrors; i++) {
		if (!strcmp(res.errors[i].msg, scan_budget_msg)) {
			s->abandoned = true; /* one record for the subtree, not one per entry */
			continue;
		}
		size_t len;
		const char *n = c->name(c->ctx, res.errors[i].entry, &len);
		buf_reset(&p);
		buf_adds(&p, path);
		scan_join_entry(&p, sep, n, len);
		scan_count_error(s, out, buf_cstr(&p), res.errors[i].msg);
	}
	buf_free(&p);
	size_t found = res.nfindings;
	scan_emit_findings(s, &res, path, id, out);
	detect_result_free(&res);
	return found;
}
