/* fix_restore.c - `log4scan restore`: the backup manifest (fix_manifest.c)
 * read back under its lock, then, newest fix first: put originals back in
 * place of the files fix wrote (each only while the file is still the one
 * the fix wrote, unless --force), list the fixes, forget entries, or prune
 * backups no longer needed.  Whatever is done is appended to the manifest
 * (restored, forgotten, pruned), never rewritten. */
#include "fix/fix_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "walk/backup_tag.h"

const char *fix_restore_action_name(enum restore_action a)
{
	static const char *n[] = {"restored", "would-restore", "already-original", "refused", "failed",
				  "forgotten", "would-forget", "pruned", "would-prune", "kept", "listed"};
	return n[a];
}

static bool selected(const char *path, const char *const *only, size_t nonly)
{
	if (!nonly)
		return true;
	for (size_t i = 0; i < nonly; i++) {
		size_t l = strlen(only[i]);
		while (l > 1 && fix_is_sep(only[i][l - 1]))
			l--;
		if (!strncmp(path, only[i], l) && (path[l] == 0 || fix_is_sep(path[l])))
			return true;
	}
	return false;
}

/* A free name for the current file that --force sets aside: NAME.replaced,
 * else NAME.replaced.N. */
static bool set_aside(int dfd, const char *base, struct buf *msg)
{
	struct buf n = BUF_INIT;
	bool ok = false;
	for (int i = 0; i < 1000 && !ok; i++) {
		buf_reset(&n);
		buf_printf(&n, i ? "%s.replaced.%d" : "%s.replaced", base, i);
		ok = linkat(dfd, base, dfd, buf_cstr(&n), 0) == 0;
		if (!ok && errno != EEXIST)
			break;
	}
	if (ok)
		buf_printf(msg, "%sthe file it replaced is kept as %s", msg->len ? "; " : "", buf_cstr(&n));
	else
		buf_printf(msg, "%scannot keep the current file aside: %s", msg->len ? "; " : "", fix_errtext(errno));
	buf_free(&n);
	return ok;
}

/* ---- a file */

/* The state of the file at path: 'o' the original, 'n' what the fix wrote,
 * 'c' something else, 'g' gone, 'e' unreadable (errno kept). */
static char file_state(const char *path, const char *sha_o, const char *sha_n, struct stat *st, char sha[65])
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 'g' : 'e';
	bool ok = fstat(fd, st) == 0 && S_ISREG(st->st_mode) && fix_sha256_fd(fd, sha);
	int e = errno;
	close(fd);
	errno = e;
	if (!ok)
		return 'e';
	return !strcmp(sha, sha_o) ? 'o' : !strcmp(sha, sha_n) ? 'n' : 'c';
}

/* Put one original back: a copy of the backup, with the recorded owner,
 * mode and mtime, renamed over the current file once that is checked to be
 * the one the fix wrote (or, with force, set aside first). */
static enum restore_action restore_file(int bdir, int mfd, const struct mrec *m, const struct restore_opts *o,
					struct buf *msg)
{
	struct stat cst;
	char sha_c[65];
	char st = file_state(m->path, m->sha_o, m->sha_n, &cst, sha_c);
	if (st == 'e') {
		buf_printf(msg, "cannot read the current file: %s; not restored", strerror(errno));
		return RESTORE_FAILED;
	}
	if (st == 'o') {
		buf_adds(msg, "the file is already the original");
		if (!o->dry_run)
			fix_manifest_mark(mfd, "restored", m->id);
		return RESTORE_ALREADY;
	}
	if ((st == 'c' || st == 'g') && !o->force) {
		if (st == 'g')
			buf_adds(msg, "no longer exists; not restored (backup kept; --force puts it back)");
		else
			buf_printf(msg, "changed since it was fixed (sha256 %s, the fix wrote %s); not restored "
				   "(--force puts the original back and keeps this file as .replaced; --forget "
				   "drops the entry)", sha_c, m->sha_n);
		return RESTORE_REFUSED;
	}
	int bfd = openat(bdir, m->backup, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char sha_b[65];
	if (bfd < 0 || !fix_sha256_fd(bfd, sha_b) || strcmp(sha_b, m->sha_o)) {
		buf_printf(msg, "backup %s %s; not restored", m->backup,
			   bfd < 0 ? strerror(errno) : "does not match its recorded sha256");
		if (bfd >= 0)
			close(bfd);
		return RESTORE_FAILED;
	}
	if (o->dry_run) {
		close(bfd);
		return RESTORE_WOULD;
	}
	char *dir;
	const char *base;
	fix_split_path(m->path, &dir, &base);
	char tmpname[64];
	snprintf(tmpname, sizeof tmpname, ".l4s-restore-%ld.tmp", (long)getpid());
	enum restore_action act = RESTORE_FAILED;
	bool named = false;
	int tfd = -1, dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		buf_printf(msg, "cannot open %s: %s", dir, fix_errtext(errno));
		goto out;
	}
	if ((tfd = fix_restored_copy(bfd, dfd, tmpname, &named, &m->a, m->sha_o, msg)) < 0) {
		buf_adds(msg, "; current file untouched");
		goto out;
	}
	struct stat now;
	bool gone = fstatat(dfd, base, &now, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
	if (st == 'g' ? !gone
		      : gone || now.st_ino != cst.st_ino || now.st_dev != cst.st_dev || now.st_size != cst.st_size) {
		buf_adds(msg, "the file changed during the restore; not restored");
		goto out;
	}
	if (st == 'c' && !set_aside(dfd, base, msg))
		goto out;
	if (!(st == 'g' ? fix_install_new(tfd, named, dfd, tmpname, base)
			: fix_install(tfd, named, dfd, tmpname, base))) {
		buf_printf(msg, "%scannot replace the current file: %s", msg->len ? "; " : "", fix_errtext(errno));
		goto out;
	}
	named = false;
	fix_manifest_mark(mfd, "restored", m->id);
	act = RESTORE_DONE;
out:
	if (named)
		unlinkat(dfd, tmpname, 0);
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	close(bfd);
	free(dir);
	return act;
}

/* ---- an exploded class directory */

struct tally {
	size_t back, already, refused, failed;
};

/* The directories of rel below rootfd, created (0755) where missing. */
static bool make_parents(const char *root, const char *rel)
{
	struct buf p = BUF_INIT;
	buf_adds(&p, root);
	bool ok = true;
	for (const char *s = rel, *sl; ok && (sl = strchr(s, '/')); s = sl + 1) {
		buf_addc(&p, L4S_PATH_SEP);
		buf_add(&p, s, (size_t)(sl - s));
		ok = mkdir(buf_cstr(&p), 0755) == 0 || errno == EEXIST;
	}
	buf_free(&p);
	return ok;
}

static void restore_class(int rootfd, int bfd, const struct mrec *m, const struct mfile *f,
			  const struct restore_opts *o, struct tally *t, struct buf *msg)
{
	const char *base;
	int pfd = fix_open_parent(rootfd, f->rel, &base);
	if (pfd < 0 && errno == ENOENT && o->force) {
		if (o->dry_run) {
			t->back++;
			return;
		}
		if (make_parents(m->path, f->rel))
			pfd = fix_open_parent(rootfd, f->rel, &base);
	}
	if (pfd < 0) {
		t->refused++;
		buf_printf(msg, "%s%s: its directory is gone%s", msg->len ? "; " : "", f->rel,
			   o->force ? "" : " (--force recreates it)");
		return;
	}
	struct stat st;
	char sha[65];
	int fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	bool present = fd >= 0 && fstat(fd, &st) == 0 && fix_sha256_fd(fd, sha);
	if (fd >= 0)
		close(fd);
	if (present && !strcmp(sha, f->sha)) {
		t->already++;
		goto out;
	}
	if (present && !o->force) {
		t->refused++;
		buf_printf(msg, "%s%s: another file is in its place (--force keeps it as .replaced)",
			   msg->len ? "; " : "", f->rel);
		goto out;
	}
	if (o->dry_run) {
		t->back++;
		goto out;
	}
	if (present && !set_aside(pfd, base, msg)) {
		t->failed++;
		goto out;
	}
	if (present && unlinkat(pfd, base, 0) < 0) {
		t->failed++;
		buf_printf(msg, "; %s: %s", f->rel, fix_errtext(errno));
		goto out;
	}
	const char *bbase;
	int bsub = fix_open_parent(bfd, f->rel, &bbase);
	struct buf why = BUF_INIT;
	if (bsub >= 0 && fix_dir_put_back(rootfd, f->rel, bsub, bbase, &f->a, f->sha, true, &why)) {
		t->back++;
	} else {
		t->failed++;
		buf_printf(msg, "%s%s", msg->len ? "; " : "",
			   bsub < 0 ? "the backup of a class is missing" : buf_cstr(&why));
	}
	buf_free(&why);
	if (bsub >= 0)
		close(bsub);
out:
	close(pfd);
}

static enum restore_action restore_dir(int bdir, int mfd, const struct mrec *m, const struct restore_opts *o,
				       struct buf *msg)
{
	int rootfd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		buf_printf(msg, "%s; not restored (backup kept)", errno == ENOENT ? "no longer exists" : strerror(errno));
		return errno == ENOENT ? RESTORE_REFUSED : RESTORE_FAILED;
	}
	int bfd = openat(bdir, m->backup, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct tally t = {0};
	for (size_t i = m->nfiles; i-- > 0;)
		restore_class(rootfd, bfd, m, &m->files[i], o, &t, msg);
	close(rootfd);
	if (bfd >= 0)
		close(bfd);
	if (t.failed || t.refused) {
		buf_printf(msg, "%s%zu of %zu classes not restored", msg->len ? "; " : "", t.failed + t.refused,
			   m->nfiles);
		return t.failed ? RESTORE_FAILED : RESTORE_REFUSED;
	}
	if (!o->dry_run)
		fix_manifest_mark(mfd, "restored", m->id);
	if (!t.back) {
		buf_adds(msg, "the classes are already in place");
		return RESTORE_ALREADY;
	}
	return o->dry_run ? RESTORE_WOULD : RESTORE_DONE;
}

/* ---- pruning */

/* Is the backup of m still needed?  No when the fix is still in place (the
 * file is the one fix wrote, the classes are still absent) or, for a fix
 * restored since, when the original is still in place. */
static bool still_needed(const struct mrec *m, struct buf *why)
{
	bool want_original = m->state == M_RESTORED;
	if (!m->dir) {
		struct stat st;
		char sha[65];
		char s = file_state(m->path, m->sha_o, m->sha_n, &st, sha);
		if (s == (want_original ? 'o' : 'n'))
			return false;
		buf_adds(why, s == 'g' ? "the file no longer exists" : s == 'e' ? "the file cannot be read"
			      : want_original ? "the file changed since it was restored"
					      : "the file changed since it was fixed");
		return true;
	}
	int rootfd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		buf_adds(why, "the directory no longer exists");
		return true;
	}
	bool needed = false;
	for (size_t i = 0; i < m->nfiles && !needed; i++) {
		const char *base;
		struct stat st;
		char sha[65];
		int pfd = fix_open_parent(rootfd, m->files[i].rel, &base), fd = -1;
		bool there = pfd >= 0 && fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
		/* restored: the class in its place must still be the original */
		bool same = there && want_original &&
			    (fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) >= 0 &&
			    fix_sha256_fd(fd, sha) && !strcmp(sha, m->files[i].sha);
		if (fd >= 0)
			close(fd);
		if (pfd >= 0)
			close(pfd);
		if (want_original ? !same : there) {
			needed = true;
			buf_printf(why, "%s is %s", m->files[i].rel,
				   !there ? "missing" : want_original ? "not the original any more" : "back in its place");
		}
	}
	close(rootfd);
	return needed;
}

static enum restore_action prune_one(const char *backup_dir, int mfd, const struct mrec *m,
				     const struct restore_opts *o, struct buf *msg)
{
	struct buf why = BUF_INIT;
	if (still_needed(m, &why)) {
		buf_printf(msg, "%s: backup kept (--forget drops the entry)", buf_cstr(&why));
		buf_free(&why);
		return RESTORE_KEPT;
	}
	buf_free(&why);
	if (o->dry_run)
		return RESTORE_WOULD_PRUNE;
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s%c%s", backup_dir, L4S_PATH_SEP, m->backup);
	bool ok = fix_remove_tree(buf_cstr(&p), 0);
	if (!ok)
		buf_printf(msg, "cannot remove %s: %s", buf_cstr(&p), fix_errtext(errno));
	buf_free(&p);
	if (!ok)
		return RESTORE_FAILED;
	fix_manifest_mark(mfd, "pruned", m->id);
	return RESTORE_PRUNED;
}

/* ---- the manifest and the loop */

/* No manifest: nothing to restore when the directory holds nothing else
 * (a fix killed before its first backup leaves just the tag). */
static int no_manifest(const char *backup_dir, struct buf *err)
{
	DIR *d = opendir(backup_dir);
	bool other = false;
	for (struct dirent *de; d && !other && (de = readdir(d));)
		other = de->d_name[0] != '.' && strcmp(de->d_name, BACKUP_TAG_NAME);
	if (d)
		closedir(d);
	if (other) {
		buf_printf(err, "%s holds files but no %s: not a log4scan backup directory, or its manifest was "
			   "removed; nothing restored", backup_dir, FIX_MANIFEST);
		return -1;
	}
	buf_printf(err, "nothing to restore: %s holds no %s (no fix got as far as backing up a file)", backup_dir,
		   FIX_MANIFEST);
	return FIX_RESTORE_NOTHING;
}

static void read_manifest(int mfd, struct manifest *m)
{
	/* Read under the lock so that a line being appended is never half seen. */
	flock(mfd, LOCK_EX);
	struct buf text = BUF_INIT;
	char chunk[65536];
	ssize_t r;
	off_t at = 0;
	while ((r = pread(mfd, chunk, sizeof chunk, at)) > 0) {
		buf_add(&text, chunk, (size_t)r);
		at += r;
	}
	flock(mfd, LOCK_UN);
	fix_manifest_parse(text.data ? text.data : "", text.len, m);
	buf_free(&text);
}

static enum restore_action act(int bdir, int mfd, const struct mrec *m, const struct restore_opts *o,
			       struct buf *msg)
{
	switch (o->mode) {
	case RESTORE_FORGET:
		if (!o->dry_run)
			fix_manifest_mark(mfd, "forgotten", m->id);
		buf_adds(msg, "entry dropped; the backup stays where it is");
		return o->dry_run ? RESTORE_WOULD_FORGET : RESTORE_FORGOTTEN;
	case RESTORE_PRUNE:
		return prune_one(o->backup_dir, mfd, m, o, msg);
	case RESTORE_LIST:
		return RESTORE_LISTED;
	case RESTORE_PUT_BACK:
		break;
	}
	return m->dir ? restore_dir(bdir, mfd, m, o, msg) : restore_file(bdir, mfd, m, o, msg);
}

/* Which records the mode acts on. */
static bool wanted(const struct mrec *m, const struct restore_opts *o)
{
	if (!selected(m->path, o->only, o->nonly))
		return false;
	switch (o->mode) {
	case RESTORE_LIST:
		return true;
	case RESTORE_PRUNE:
		return (m->state == M_ACTIVE || m->state == M_RESTORED) && m->time < o->prune_before;
	default:
		return m->state == M_ACTIVE;
	}
}

int fix_restore(const struct restore_opts *o, void (*cb)(void *ctx, const struct restore_result *r), void *ctx,
		struct buf *err)
{
	int bdir = open(o->backup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bdir < 0) {
		buf_printf(err, "cannot open backup directory %s: %s", o->backup_dir, strerror(errno));
		return -1;
	}
	bool ro = o->dry_run || o->mode == RESTORE_LIST;
	int mfd = openat(bdir, FIX_MANIFEST, (ro ? O_RDONLY : O_RDWR | O_APPEND) | O_CLOEXEC);
	if (mfd < 0) {
		int rc = errno == ENOENT ? no_manifest(o->backup_dir, err) : -1;
		if (rc == -1 && !err->len)
			buf_printf(err, "cannot open the backup manifest: %s", strerror(errno));
		close(bdir);
		return rc;
	}
	struct buf tagerr = BUF_INIT;
	if (!ro)
		backup_tag_write(bdir, &tagerr); /* a backup directory of an older log4scan */
	buf_free(&tagerr);
	struct manifest m;
	read_manifest(mfd, &m);
	int bad = 0;
	for (size_t k = 0; k < m.n; k++) {
		size_t i = o->mode == RESTORE_LIST ? k : m.n - 1 - k;
		const struct mrec *r = &m.r[i];
		if (!wanted(r, o))
			continue;
		struct buf msg = BUF_INIT, bp = BUF_INIT;
		buf_printf(&bp, "%s%c%s", o->backup_dir, L4S_PATH_SEP, r->backup);
		enum restore_action a = act(bdir, mfd, r, o, &msg);
		if (a == RESTORE_REFUSED || a == RESTORE_FAILED)
			bad++;
		struct restore_result rr = {r->path, buf_cstr(&bp), a, msg.len ? buf_cstr(&msg) : NULL, r->id,
					    r->dir, r->nfiles, r->time, fix_manifest_state_name(r->state)};
		cb(ctx, &rr);
		buf_free(&msg);
		buf_free(&bp);
	}
	fix_manifest_free(&m);
	close(mfd);
	close(bdir);
	return bad;
}
