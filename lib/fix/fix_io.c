/* fix_io.c - the fixer's helpers on files and paths: hashing, copying,
 * extended attributes, temporary files and their atomic install. */
#include "fix/fix_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

bool fix_is_sep(char c)
{
	return c == '/' || c == L4S_PATH_SEP;
}

const char *fix_last_sep(const char *p)
{
	const char *s = NULL;
	for (; *p; p++)
		if (fix_is_sep(*p))
			s = p;
	return s;
}

bool fix_mkdir_p(const char *path, struct buf *err)
{
	char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (!fix_is_sep(*s) && *s)
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			buf_printf(err, "cannot create %s: %s", p, strerror(errno));
			free(p);
			return false;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return true;
}

bool fix_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t r = write(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (!r)
				errno = EIO;
			return false;
		}
		c += r;
		n -= (size_t)r;
	}
	return true;
}

/* ---- helpers on files */

bool fix_sha256_fd(int fd, char out[65])
{
	struct sha256_ctx c;
	unsigned char d[32];
	unsigned char *b = xmalloc(1 << 20);
	sha256_init(&c);
	off_t at = 0;
	bool ok = true;
	for (;;) {
		ssize_t r = pread(fd, b, 1 << 20, at);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ok = false;
			break;
		}
		if (!r)
			break;
		sha256_update(&c, (size_t)r, b);
		at += r;
	}
	free(b);
	sha256_digest(&c, 32, d);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return ok;
}

/* Copy all of src (from offset 0) to dst (at its current position). */
bool fix_copy_fd(int src, int dst)
{
	unsigned char *b = xmalloc(1 << 20);
	off_t at = 0;
	bool ok = true;
	for (;;) {
		ssize_t r = pread(src, b, 1 << 20, at);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ok = r == 0;
			break;
		}
		if (!fix_write_all(dst, b, (size_t)r)) {
			ok = false;
			break;
		}
		at += r;
	}
	int e = errno;
	free(b);
	errno = e;
	return ok;
}

/* Extended attributes (ACLs, SELinux label, capabilities) of src onto dst;
 * the names that could not be kept are listed in note. */
void fix_copy_xattrs(int src, int dst, struct buf *note)
{
	ssize_t n = flistxattr(src, NULL, 0);
	if (n <= 0)
		return;
	char *names = xmalloc((size_t)n);
	n = flistxattr(src, names, (size_t)n);
	for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
		const char *nm = names + i;
		ssize_t vl = fgetxattr(src, nm, NULL, 0);
		if (vl < 0)
			continue;
		char *v = xmalloc(vl ? (size_t)vl : 1);
		vl = fgetxattr(src, nm, v, (size_t)vl);
		if (vl >= 0 && fsetxattr(dst, nm, v, (size_t)vl, 0) < 0)
			buf_printf(note, "%sextended attribute %s not kept: %s", note->len ? "; " : "", nm,
				   strerror(errno));
		free(v);
	}
	free(names);
}

/* A new file in directory dfd: unnamed (O_TMPFILE) when the filesystem
 * allows, so that nothing is left behind if the process dies; else a
 * dot-named one (*named set, name in tmpname). */
int fix_make_temp(int dfd, const char *tmpname, bool *named)
{
	*named = false;
	int fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOENT))
		return fd;
	*named = true;
	return openat(dfd, tmpname, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
}

/* Give an unnamed temporary file the name tmpname, then rename it over
 * base; for a named one just the rename. */
bool fix_install(int tfd, bool named, int dfd, const char *tmpname, const char *base)
{
	if (!named) {
		char proc[64];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", tfd);
		if (linkat(AT_FDCWD, proc, dfd, tmpname, AT_SYMLINK_FOLLOW) < 0 &&
		    linkat(tfd, "", dfd, tmpname, AT_EMPTY_PATH) < 0)
			return false;
	}
	if (renameat(dfd, tmpname, dfd, base) < 0) {
		int e = errno;
		unlinkat(dfd, tmpname, 0);
		errno = e;
		return false;
	}
	return fsync(dfd) == 0;
}

bool fix_install_new(int tfd, bool named, int dfd, const char *tmpname, const char *base)
{
	if (!named) {
		char proc[64];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", tfd);
		if (linkat(AT_FDCWD, proc, dfd, base, AT_SYMLINK_FOLLOW) < 0 &&
		    (errno == EEXIST || linkat(tfd, "", dfd, base, AT_EMPTY_PATH) < 0))
			return false;
		return fsync(dfd) == 0;
	}
	bool ok = linkat(dfd, tmpname, dfd, base, 0) == 0;
	if (!ok && errno != EEXIST) {
		/* a filesystem without hard links: rename, if the name is free */
		struct stat st;
		if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
			errno = EEXIST;
		else if (errno == ENOENT && renameat(dfd, tmpname, dfd, base) == 0)
			return fsync(dfd) == 0;
	}
	int e = errno;
	unlinkat(dfd, tmpname, 0);
	errno = e;
	return ok && fsync(dfd) == 0;
}

void fix_split_path(const char *path, char **dir, const char **base)
{
	const char *sl = fix_last_sep(path);
	if (!sl) {
		*dir = xstrdup(".");
		*base = path;
	} else {
		/* "/x" -> "/", and on Windows "C:\x" -> "C:\" ("C:" alone is the
		 * drive's current directory) */
		*dir = sl == path || sl[-1] == ':' ? xstrndup(path, (size_t)(sl - path) + 1)
						   : xstrndup(path, (size_t)(sl - path));
		*base = sl + 1;
	}
}

/* Reopen a file through /proc so that what is checked is what the kernel
 * gives a new reader, not our write descriptor; falls back to a dup. */
int fix_reopen(int fd)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int r = open(proc, O_RDONLY | O_CLOEXEC);
	return r >= 0 ? r : dup(fd);
}


const char *fix_errtext(int e)
{
	if (e == EROFS)
		return "read-only filesystem";
	return strerror(e);
}

int fix_restored_copy(int sfd, int dfd, const char *tmpname, bool *named, const struct fix_attrs *a, const char *sha,
		      struct buf *err)
{
	char got[65];
	struct timespec ts[2] = {{0, UTIME_OMIT}, {(time_t)a->mtime_s, a->mtime_ns}};
	int tfd = fix_make_temp(dfd, tmpname, named);
	if (tfd < 0) {
		buf_printf(err, "cannot create a file there: %s", fix_errtext(errno));
		return -1;
	}
	if (!fix_copy_fd(sfd, tfd) || fchown(tfd, (uid_t)a->uid, (gid_t)a->gid) < 0 ||
	    fchmod(tfd, (mode_t)a->mode) < 0 || futimens(tfd, ts) < 0 || fsync(tfd) < 0 ||
	    !fix_sha256_fd(tfd, got) || strcmp(got, sha)) {
		int e = errno;
		buf_printf(err, "cannot write the restored copy: %s", e ? fix_errtext(e) : "it does not match");
		if (*named)
			unlinkat(dfd, tmpname, 0);
		close(tfd);
		return -1;
	}
	fix_copy_xattrs(sfd, tfd, err);
	return tfd;
}

bool fix_remove_tree(const char *path, int depth)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) == 0;
	DIR *d = depth < 256 ? opendir(path) : NULL;
	if (!d)
		return false;
	bool ok = true;
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct buf p = BUF_INIT;
		buf_printf(&p, "%s%c%s", path, L4S_PATH_SEP, de->d_name);
		ok &= fix_remove_tree(buf_cstr(&p), depth + 1);
		buf_free(&p);
	}
	closedir(d);
	return ok && rmdir(path) == 0;
}
