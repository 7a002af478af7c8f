/* fix_restore.c - `log4scan restore`: read the backup manifest back and put
 * originals in place of the files fix wrote, newest fix first, each only
 * while the file is still the one the fix wrote (its SHA-256). */
#include "fix_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

const char *restore_action_name(enum restore_action a)
{
	static const char *n[] = {"restored", "would-restore", "already-original", "refused", "failed"};
	return n[a];
}

/* ---- restore */

struct mrec {
	char *id, *path, *backup;
	char sha_o[65], sha_n[65];
	unsigned long uid, gid;
	unsigned mode;
	long long mtime_s;
	long mtime_ns;
	bool done;
};

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

/* Put one original back: copy the backup into a new file beside the
 * current one, with the recorded owner, mode and mtime, and rename it over
 * the current file once that is checked to be the one the fix wrote. */
static enum restore_action restore_one(int bdir, int mfd, const struct mrec *m, bool dry_run,
				       struct buf *msg)
{
	int cfd = open(m->path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat cst;
	char sha_c[65], sha_b[65];
	if (cfd < 0) {
		buf_printf(msg, "%s; not restored (backup kept)",
			   errno == ENOENT ? "no longer exists" : strerror(errno));
		return errno == ENOENT ? RESTORE_REFUSED : RESTORE_FAILED;
	}
	if (fstat(cfd, &cst) < 0 || !S_ISREG(cst.st_mode) || !fix_sha256_fd(cfd, sha_c)) {
		buf_adds(msg, "cannot read the current file; not restored");
		close(cfd);
		return RESTORE_FAILED;
	}
	close(cfd);
	if (!strcmp(sha_c, m->sha_o)) {
		buf_adds(msg, "the file is already the original");
		if (!dry_run)
			fix_manifest_mark(mfd, "restored", m->id);
		return RESTORE_ALREADY;
	}
	if (strcmp(sha_c, m->sha_n)) {
		buf_printf(msg, "changed since it was fixed (sha256 %s, the fix wrote %s); not restored", sha_c,
			   m->sha_n);
		return RESTORE_REFUSED;
	}
	int bfd = openat(bdir, m->backup, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0 || !fix_sha256_fd(bfd, sha_b) || strcmp(sha_b, m->sha_o)) {
		buf_printf(msg, "backup %s %s; not restored", m->backup,
			   bfd < 0 ? strerror(errno) : "does not match its recorded sha256");
		if (bfd >= 0)
			close(bfd);
		return RESTORE_FAILED;
	}
	if (dry_run) {
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
	if (dfd < 0 || (tfd = fix_make_temp(dfd, tmpname, &named)) < 0) {
		buf_printf(msg, "cannot create a file in %s: %s", dir, fix_errtext(errno));
		goto out;
	}
	struct timespec ts[2] = {{0, UTIME_OMIT}, {(time_t)m->mtime_s, m->mtime_ns}};
	if (!fix_copy_fd(bfd, tfd) || fchown(tfd, (uid_t)m->uid, (gid_t)m->gid) < 0 ||
	    fchmod(tfd, (mode_t)m->mode) < 0 || futimens(tfd, ts) < 0 || fsync(tfd) < 0 ||
	    !fix_sha256_fd(tfd, sha_c) || strcmp(sha_c, m->sha_o)) {
		buf_printf(msg, "cannot write the restored copy: %s; current file untouched", fix_errtext(errno));
		goto out;
	}
	fix_copy_xattrs(bfd, tfd, msg);
	struct stat now;
	if (fstatat(dfd, base, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_ino != cst.st_ino ||
	    now.st_dev != cst.st_dev || now.st_size != cst.st_size) {
		buf_adds(msg, "the file changed during the restore; not restored");
		goto out;
	}
	if (!fix_install(tfd, named, dfd, tmpname, base)) {
		buf_printf(msg, "cannot replace the current file: %s", fix_errtext(errno));
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

int fix_restore(const char *backup_dir, const char *const *only, size_t nonly, bool dry_run,
		void (*cb)(void *ctx, const struct restore_result *r), void *ctx, struct buf *err)
{
	int bdir = open(backup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bdir < 0) {
		buf_printf(err, "cannot open backup directory %s: %s", backup_dir, strerror(errno));
		return -1;
	}
	int mfd = fix_open_manifest(bdir, dry_run ? O_RDONLY : O_RDWR | O_APPEND, err);
	if (mfd < 0) {
		close(bdir);
		return -1;
	}
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
	struct mrec *m = NULL;
	size_t n = 0;
	const char *s = text.data ? text.data : "";
	size_t left = text.len;
	while (left) {
		const char *nl = memchr(s, '\n', left);
		size_t len = nl ? (size_t)(nl - s) : left;
		char *f[12] = {0};
		size_t nf = len && s[0] != '#' ? fields(s, len, f, 12) : 0;
		if (nf == 12 && !strcmp(f[0], "fix") && strlen(f[5]) == 64 && strlen(f[6]) == 64) {
			m = xrealloc(m, (n + 1) * sizeof *m);
			struct mrec *x = &m[n++];
			memset(x, 0, sizeof *x);
			x->id = f[1], f[1] = NULL;
			x->path = f[3], f[3] = NULL;
			x->backup = f[4], f[4] = NULL;
			memcpy(x->sha_o, f[5], 65);
			memcpy(x->sha_n, f[6], 65);
			x->uid = strtoul(f[7], NULL, 10);
			x->gid = strtoul(f[8], NULL, 10);
			x->mode = (unsigned)strtoul(f[9], NULL, 8) & 07777;
			x->mtime_s = strtoll(f[10], NULL, 10);
			x->mtime_ns = strtol(f[11], NULL, 10);
		} else if (nf >= 2 && (!strcmp(f[0], "restored") || !strcmp(f[0], "abandoned"))) {
			for (size_t i = 0; i < n; i++)
				if (!strcmp(m[i].id, f[1]))
					m[i].done = true;
		}
		for (size_t i = 0; i < 12; i++)
			free(f[i]);
		s += len + (nl ? 1 : 0);
		left -= len + (nl ? 1 : 0);
	}
	buf_free(&text);
	int bad = 0;
	for (size_t i = n; i-- > 0;) {
		if (m[i].done || !selected(m[i].path, only, nonly))
			continue;
		struct buf msg = BUF_INIT, bp = BUF_INIT;
		buf_printf(&bp, "%s%c%s", backup_dir, L4S_PATH_SEP, m[i].backup);
		enum restore_action a = restore_one(bdir, mfd, &m[i], dry_run, &msg);
		if (a == RESTORE_REFUSED || a == RESTORE_FAILED)
			bad++;
		struct restore_result rr = {m[i].path, buf_cstr(&bp), a, msg.len ? buf_cstr(&msg) : NULL};
		cb(ctx, &rr);
		buf_free(&msg);
		buf_free(&bp);
	}
	for (size_t i = 0; i < n; i++) {
		free(m[i].id);
		free(m[i].path);
		free(m[i].backup);
	}
	free(m);
	close(mfd);
	close(bdir);
	return bad;
}
