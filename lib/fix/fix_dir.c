/* fix_dir.c - fix an exploded class directory (a webapp's WEB-INF/classes,
 * an application's build output with Log4j shaded into it).
 *
 * The plan is the archive's (fix_plan_drops) over the files below the class
 * root's org/ and META-INF/, the directories the scanner reads there: the
 * same rules, the same package roots, so relocated copies and --fix-log4j1
 * work alike.  Before anything moves, the detector is run again over the
 * files that would stay, and must show none of the targeted CVEs.  Then:
 *
 *   hash    each file to move is opened (every directory on the way with
 *           O_NOFOLLOW) and hashed;
 *   record  one block in the manifest, fsync'd: a `dir` line and one
 *           `dirfile` line per file (name, SHA-256, owner, mode, mtime);
 *   move    each file is renamed into BACKUP/ID/ under the same relative
 *           name (same filesystem), or copied there, fsync'd, checked
 *           against its hash and only then unlinked (another filesystem);
 *           a file that is not the one hashed any more is not moved;
 *   verify  the directory is rescanned as scan reads it; if a targeted CVE
 *           still shows, every file is put back and the fix is abandoned.
 *
 * At every moment each file exists in its place, in the backup, or both,
 * and the manifest names it before it leaves its place: a SIGKILL anywhere
 * loses nothing, and `restore` puts back whatever is missing. */
#include "fix/fix_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIR_MAX_DEPTH 64

struct dlist {
	char **names; /* relative to the class root, '/'-separated */
	size_t n, cap;
	size_t max;
	struct buf err;
};

static void dlist_free(struct dlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	buf_free(&l->err);
}

/* Every regular file below root/rel (symbolic links are not followed, as
 * the scanner does not follow them). */
static void list_files(const char *root, struct buf *rel, int depth, struct dlist *l)
{
	if (l->err.len)
		return;
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", root, buf_cstr(rel));
	DIR *d = opendir(buf_cstr(&p));
	if (!d) {
		if (errno != ENOENT && errno != ENOTDIR)
			buf_printf(&l->err, "cannot read directory %s: %s", buf_cstr(&p), strerror(errno));
		buf_free(&p);
		return;
	}
	struct dirent *de;
	size_t rl = rel->len;
	while (!l->err.len && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		buf_printf(rel, "/%s", de->d_name);
		unsigned char type = de->d_type;
		struct stat st;
		if (type == DT_UNKNOWN) {
			buf_printf(&p, "/%s", de->d_name);
			type = lstat(buf_cstr(&p), &st) < 0 ? DT_UNKNOWN : S_ISDIR(st.st_mode) ? DT_DIR
							     : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
			p.len -= strlen(de->d_name) + 1;
			p.data[p.len] = 0;
		}
		if (type == DT_DIR && depth < DIR_MAX_DEPTH) {
			list_files(root, rel, depth + 1, l);
		} else if (type == DT_REG) {
			if (l->n == l->max) {
				buf_printf(&l->err, "more than %zu files below the class directory; not fixed", l->max);
			} else {
				if (l->n == l->cap) {
					l->cap = l->cap ? l->cap * 2 : 1024;
					l->names = xrealloc(l->names, l->cap * sizeof *l->names);
				}
				l->names[l->n++] = xstrdup(buf_cstr(rel));
			}
		}
		rel->len = rl;
		rel->data[rl] = 0;
	}
	closedir(d);
	buf_free(&p);
}

/* ---- the directory as a container for the detector */

struct dview {
	const char *root;
	const struct dlist *l;
	const size_t *map; /* view index -> list index; NULL: the whole list */
	size_t n;
};

static const char *dv_name(void *ctx, size_t i, size_t *len)
{
	const struct dview *v = ctx;
	const char *n = v->l->names[v->map ? v->map[i] : i];
	*len = strlen(n);
	return n;
}

static bool dv_read(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len, struct buf *err)
{
	const struct dview *v = ctx;
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", v->root, v->l->names[v->map ? v->map[i] : i]);
	int fd = open(buf_cstr(&p), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	buf_free(&p);
	return zip_read_file(fd, max, out, len, err);
}

/* The detector over the files that would stay must show none of the
 * targeted CVEs: checked before anything moves. */
static bool precheck(struct plan *p, const char *dir, const struct dlist *l, const bool *drop, struct fix_result *res,
		     struct buf *err)
{
	size_t *map = xmalloc((l->n ? l->n : 1) * sizeof *map), n = 0;
	for (size_t i = 0; i < l->n; i++)
		if (!drop[i])
			map[n++] = i;
	struct dview v = {dir, l, map, n};
	struct container c = {n, dv_name, dv_read, &v};
	struct detect_opts dopt = {p->fx->o.so->bytecode_only, p->fx->o.so->max_class_bytes};
	struct detect_result dr;
	detect_run(p->fx->o.rules, &dopt, &c, &dr);
	struct scan_batch b = {xcalloc(dr.nfindings ? dr.nfindings : 1, sizeof *b.rec), dr.nfindings};
	for (size_t i = 0; i < dr.nfindings; i++) {
		b.rec[i].kind = REC_FINDING;
		b.rec[i].f = dr.findings[i];
		b.rec[i].f.path = xstrdup(dir);
	}
	dr.nfindings = 0;
	detect_result_free(&dr);
	bool ok = fix_check_rescan(p, &b, res, err);
	scan_batch_free(&b);
	free(map);
	return ok;
}

/* ---- moving files into the backup and back */

struct mv {
	const char *rel;
	char sha[65];
	struct stat st;
	bool moved;
};

int fix_open_parent(int rootfd, const char *rel, const char **base)
{
	int fd = dup(rootfd);
	const char *s = rel;
	for (const char *sl; fd >= 0 && (sl = strchr(s, '/'));) {
		char *comp = xstrndup(s, (size_t)(sl - s));
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		free(comp);
		close(fd);
		errno = e;
		fd = next;
		s = sl + 1;
	}
	*base = s;
	return fd;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Open and hash one file to move; its identity is kept to check that the
 * file moved is the one hashed. */
static bool hash_one(int rootfd, struct mv *m, struct buf *err)
{
	const char *base;
	int pfd = fix_open_parent(rootfd, m->rel, &base), fd = -1;
	if (pfd >= 0)
		fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	bool ok = fd >= 0 && fstat(fd, &m->st) == 0 && S_ISREG(m->st.st_mode) && fix_sha256_fd(fd, m->sha);
	if (!ok)
		buf_printf(err, "%s: cannot read: %s", m->rel, fd >= 0 ? "not a regular file" : strerror(errno));
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return ok;
}

/* The directory below the backup entry that holds rel, created on demand. */
static int backup_parent(const char *bpath, const char *rel, const char **base, struct buf *err)
{
	const char *sl = strrchr(rel, '/');
	struct buf d = BUF_INIT;
	buf_adds(&d, bpath);
	if (sl) {
		buf_addc(&d, L4S_PATH_SEP);
		for (const char *c = rel; c < sl; c++)
			buf_addc(&d, *c == '/' ? L4S_PATH_SEP : *c);
	}
	int fd = -1;
	if (fix_mkdir_p(buf_cstr(&d), err)) {
		fd = open(buf_cstr(&d), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			buf_printf(err, "cannot open %s: %s", buf_cstr(&d), strerror(errno));
	}
	buf_free(&d);
	*base = sl ? sl + 1 : rel;
	return fd;
}

/* Move one file from its place into the backup.  false: not moved (with
 * the reason), the file is in its place. */
static bool move_one(int rootfd, const char *bpath, struct mv *m, struct buf *err)
{
	const char *base, *bbase;
	struct stat now;
	bool ok = false;
	int bfd = -1, pfd = fix_open_parent(rootfd, m->rel, &base);
	if (pfd < 0 || fstatat(pfd, base, &now, AT_SYMLINK_NOFOLLOW) < 0) {
		buf_printf(err, "%s: %s", m->rel, strerror(errno));
		goto out;
	}
	if (!same_file(&now, &m->st)) {
		buf_printf(err, "%s: changed since it was read; not moved", m->rel);
		goto out;
	}
	if ((bfd = backup_parent(bpath, m->rel, &bbase, err)) < 0)
		goto out;
	if (renameat(pfd, base, bfd, bbase) == 0) {
		struct stat moved;
		if (fstatat(bfd, bbase, &moved, AT_SYMLINK_NOFOLLOW) == 0 && same_file(&moved, &m->st)) {
			ok = fsync(bfd) == 0 && fsync(pfd) == 0;
			if (!ok)
				buf_printf(err, "%s: cannot sync: %s", m->rel, strerror(errno));
			m->moved = true; /* in the backup either way */
		} else if (linkat(bfd, bbase, pfd, base, 0) == 0) {
			/* another file took its place between the hash and the rename */
			unlinkat(bfd, bbase, 0);
			buf_printf(err, "%s: changed while it was being moved; put back", m->rel);
		} else {
			m->moved = true;
			buf_printf(err, "%s: changed while it was being moved and could not be put back: %s", m->rel,
				   strerror(errno));
		}
		goto out;
	}
	if (errno != EXDEV) {
		buf_printf(err, "%s: cannot move it into the backup: %s", m->rel, fix_errtext(errno));
		goto out;
	}
	/* Another filesystem: a verified copy, then the original goes. */
	int fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat fst;
	if (fd < 0 || fstat(fd, &fst) < 0 || !same_file(&fst, &m->st)) {
		buf_printf(err, "%s: changed since it was read; not moved", m->rel);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	struct buf why = BUF_INIT;
	bool copied = fix_copy_verified(fd, bfd, bbase, m->sha, &why) && fsync(bfd) == 0;
	close(fd);
	if (!copied) {
		buf_printf(err, "%s: %s", m->rel, why.len ? buf_cstr(&why) : strerror(errno));
		buf_free(&why);
		unlinkat(bfd, bbase, 0);
		goto out;
	}
	buf_free(&why);
	if (fstatat(pfd, base, &now, AT_SYMLINK_NOFOLLOW) < 0 || !same_file(&now, &m->st)) {
		buf_printf(err, "%s: changed while it was being copied; not moved", m->rel);
		unlinkat(bfd, bbase, 0);
		goto out;
	}
	if (unlinkat(pfd, base, 0) < 0) {
		buf_printf(err, "%s: cannot remove it after the copy: %s", m->rel, fix_errtext(errno));
		unlinkat(bfd, bbase, 0);
		goto out;
	}
	m->moved = true;
	ok = fsync(pfd) == 0;
	if (!ok)
		buf_printf(err, "%s: cannot sync: %s", m->rel, strerror(errno));
out:
	if (bfd >= 0)
		close(bfd);
	if (pfd >= 0)
		close(pfd);
	return ok;
}

bool fix_dir_put_back(int rootfd, const char *rel, int bfd, const char *bname, const struct fix_attrs *a,
		      const char *want_sha, bool keep_backup, struct buf *err)
{
	const char *base;
	int pfd = fix_open_parent(rootfd, rel, &base);
	if (pfd < 0) {
		buf_printf(err, "%s: its directory is gone: %s", rel, strerror(errno));
		return false;
	}
	char sha[65];
	bool ok = false;
	int sfd = openat(bfd, bname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), tfd = -1;
	if (sfd < 0 || !fix_sha256_fd(sfd, sha) || strcmp(sha, want_sha)) {
		buf_printf(err, "%s: backup %s", rel, sfd < 0 ? strerror(errno) : "does not match its recorded sha256");
		goto out;
	}
	/* Same filesystem: the backup's inode (the original, moved by rename)
	 * goes back under its name, never over another file. */
	if (linkat(bfd, bname, pfd, base, 0) == 0) {
		ok = (keep_backup || unlinkat(bfd, bname, 0) == 0) && fsync(pfd) == 0;
		if (!ok)
			buf_printf(err, "%s: put back, but: %s", rel, strerror(errno));
		goto out;
	}
	if (errno == EEXIST) {
		buf_printf(err, "%s: a file is in its place", rel);
		goto out;
	}
	/* Another filesystem: a copy with the recorded owner, mode and mtime,
	 * linked in only if the name is still free. */
	char tmpname[64];
	snprintf(tmpname, sizeof tmpname, ".l4s-restore-%ld.tmp", (long)getpid());
	bool named = false;
	struct buf why = BUF_INIT;
	if ((tfd = fix_restored_copy(sfd, pfd, tmpname, &named, a, want_sha, &why)) < 0)
		buf_printf(err, "%s: %s", rel, buf_cstr(&why));
	else if (!fix_install_new(tfd, named, pfd, tmpname, base))
		buf_printf(err, "%s: %s", rel, errno == EEXIST ? "a file is in its place" : fix_errtext(errno));
	else
		ok = keep_backup || unlinkat(bfd, bname, 0) == 0;
	buf_free(&why);
out:
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	close(pfd);
	return ok;
}

/* Put back every file moved so far (newest first), after a failure. */
static bool undo(int rootfd, const char *bpath, struct mv *m, size_t n, struct buf *err)
{
	bool ok = true;
	for (size_t i = n; i-- > 0;) {
		if (!m[i].moved)
			continue;
		const char *bbase;
		struct buf why = BUF_INIT;
		int bfd = backup_parent(bpath, m[i].rel, &bbase, &why);
		struct fix_attrs a = {m[i].st.st_uid, m[i].st.st_gid, m[i].st.st_mode & 07777,
				      (long long)m[i].st.st_mtim.tv_sec, m[i].st.st_mtim.tv_nsec};
		if (bfd >= 0 && fix_dir_put_back(rootfd, m[i].rel, bfd, bbase, &a, m[i].sha, false, &why))
			m[i].moved = false;
		else
			buf_printf(err, "; %s not put back (%s)", m[i].rel, buf_cstr(&why));
		ok &= !m[i].moved;
		if (bfd >= 0)
			close(bfd);
		buf_free(&why);
	}
	return ok;
}

/* The manifest block: one `dir` line, one `dirfile` line per file. */
static bool record(struct fixer *fx, const char *id, const char *abs, const struct mv *m, size_t n,
		   struct buf *err)
{
	struct buf l = BUF_INIT;
	fix_record_head(&l, "dir", id, abs);
	buf_printf(&l, "\t%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		buf_adds(&l, "dirfile\t");
		fix_esc(&l, id);
		buf_addc(&l, '\t');
		fix_esc(&l, m[i].rel);
		buf_printf(&l, "\t%s\t%lld\t", m[i].sha, (long long)m[i].st.st_size);
		fix_meta_fields(&l, &m[i].st);
		buf_addc(&l, '\n');
	}
	bool ok = fix_manifest_append(fx->mfd, buf_cstr(&l), err);
	buf_free(&l);
	return ok;
}

/* Hash, record, move, rescan; on any failure put everything back. */
static void apply_dir(struct fixer *fx, struct plan *p, const char *dir, const char *abs, int rootfd,
		      struct mv *m, size_t n, struct fix_result *res)
{
	char id[256];
	struct buf err = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		if (!hash_one(rootfd, &m[i], &err)) {
			fix_set_msg(res, FIX_FAILED, "%s; nothing moved", buf_cstr(&err));
			goto out;
		}
	fix_backup_id(fx, abs, id, sizeof id);
	struct buf bp = BUF_INIT;
	buf_printf(&bp, "%s%c%s", fx->o.backup_dir, L4S_PATH_SEP, id);
	if (!record(fx, id, abs, m, n, &err)) {
		fix_set_msg(res, FIX_FAILED, "%s; nothing moved", buf_cstr(&err));
		buf_free(&bp);
		goto out;
	}
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++)
		ok = move_one(rootfd, buf_cstr(&bp), &m[i], &err);
	if (ok) {
		struct scan_stats stats;
		struct scan_opts so;
		struct scanner *sc = fix_scanner(fx, &so, &stats, &err);
		struct scan_batch b = {0};
		if (sc)
			scan_class_dir(sc, dir, &b);
		fix_scanner_free(fx, sc, &stats);
		ok = sc && fix_check_rescan(p, &b, res, &err);
		scan_batch_free(&b);
	}
	if (ok) {
		res->backup = buf_detach(&bp);
		res->action = FIX_FIXED;
		fix_holders_of_dir(fx, abs, res);
		goto out;
	}
	if (undo(rootfd, buf_cstr(&bp), m, n, &err)) {
		fix_remove_tree(buf_cstr(&bp), 0); /* only empty directories are left there */
		fix_manifest_mark(fx->mfd, "abandoned", id);
		fix_set_msg(res, FIX_FAILED, "%s; every file is back in its place", buf_cstr(&err));
	} else {
		fix_set_msg(res, FIX_FAILED, "%s; run `log4scan restore %s` to put the rest back", buf_cstr(&err),
			    abs);
	}
	buf_free(&bp);
out:
	buf_free(&err);
}

void fix_dir(struct fixer *fx, const char *dir, const char *abs, struct fix_result *res)
{
	struct dlist l = {.max = fx->o.so->max_dir_classes};
	static const char *const tops[] = {"org", "META-INF"};
	for (size_t t = 0; t < sizeof tops / sizeof tops[0]; t++) {
		struct buf rel = BUF_INIT;
		buf_adds(&rel, tops[t]);
		list_files(dir, &rel, 0, &l);
		buf_free(&rel);
	}
	struct plan p = {.fx = fx};
	bool *drop = xcalloc(l.n ? l.n : 1, sizeof *drop);
	struct mv *m = NULL;
	size_t nm = 0;
	int rootfd = -1;
	if (l.err.len) {
		fix_set_msg(res, FIX_FAILED, "%s", buf_cstr(&l.err));
		goto out;
	}
	struct dview v = {dir, &l, NULL, l.n};
	struct container c = {l.n, dv_name, dv_read, &v};
	if (!fix_plan_drops(&p, &c, dir, drop)) {
		fix_set_msg(res, FIX_NOTHING, "nothing to remove");
		goto out;
	}
	m = xcalloc(l.n, sizeof *m);
	for (size_t i = 0; i < l.n; i++) {
		if (!drop[i])
			continue;
		m[nm++].rel = l.names[i];
		struct buf r = BUF_INIT; /* the path as the platform writes it */
		buf_printf(&r, "%s%c", dir, L4S_PATH_SEP);
		for (const char *ch = l.names[i]; *ch; ch++)
			buf_addc(&r, *ch == '/' ? L4S_PATH_SEP : *ch);
		res->removed = xrealloc(res->removed, (res->nremoved + 1) * sizeof *res->removed);
		res->removed[res->nremoved++] = buf_detach(&r);
	}
	fix_result_cves(res, &p);
	struct buf err = BUF_INIT;
	if (!precheck(&p, dir, &l, drop, res, &err)) {
		fix_set_msg(res, FIX_FAILED, "removing them would not be enough (%s); nothing moved", buf_cstr(&err));
		buf_free(&err);
		goto out;
	}
	buf_free(&err);
	free(res->status);
	res->status = NULL;
	if (fx->o.dry_run) {
		res->action = FIX_WOULD_FIX;
		goto out;
	}
	rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		fix_set_msg(res, FIX_FAILED, "cannot open: %s", strerror(errno));
		goto out;
	}
	apply_dir(fx, &p, dir, abs, rootfd, m, nm, res);
out:
	if (rootfd >= 0)
		close(rootfd);
	free(m);
	free(drop);
	fix_plan_free(&p);
	dlist_free(&l);
}
