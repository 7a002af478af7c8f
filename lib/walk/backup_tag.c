/* backup_tag.c - the mark on a log4scan backup directory (see backup_tag.h). */
#include "walk/backup_tag.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char tag_text[] =
	BACKUP_TAG_SIGNATURE "\n"
	"# This directory holds originals that `log4scan fix` replaced (vulnerable\n"
	"# copies of Log4j), kept for `log4scan restore`.  log4scan scans pass it over\n"
	"# (--scan-backups includes it); `log4scan restore --prune-older-than DAYS`\n"
	"# removes backups that are no longer needed.  The tag follows the idea of\n"
	"# CACHEDIR.TAG: see https://bford.info/cachedir/\n";

/* The tag's first line, from an open file. */
static bool tag_valid(int fd)
{
	char head[sizeof BACKUP_TAG_SIGNATURE + 1];
	size_t want = sizeof BACKUP_TAG_SIGNATURE; /* the signature and its '\n' (or '\r') */
	ssize_t n = pread(fd, head, want, 0);
	close(fd);
	return n == (ssize_t)want && !memcmp(head, BACKUP_TAG_SIGNATURE, want - 1) &&
	       (head[want - 1] == '\n' || head[want - 1] == '\r');
}

bool backup_tag_at(int dirfd)
{
	int fd = openat(dirfd, BACKUP_TAG_NAME, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	return fd >= 0 && tag_valid(fd);
}

bool backup_tag_in(const char *dir)
{
	struct buf p = BUF_INIT;
	size_t l = strlen(dir);
	buf_printf(&p, "%s%s%s", dir, l && (dir[l - 1] == '/' || dir[l - 1] == L4S_PATH_SEP) ? "" : "/",
		   BACKUP_TAG_NAME);
	int fd = open(buf_cstr(&p), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	buf_free(&p);
	return fd >= 0 && tag_valid(fd);
}

bool backup_tag_above(const char *path)
{
	char *p = xstrdup(path);
	bool found = false;
	for (;;) {
		char *sep = NULL;
		for (char *s = p; *s; s++)
			if (*s == '/' || *s == L4S_PATH_SEP)
				sep = s;
		if (!sep)
			break;
		if (sep == p || sep[-1] == ':') { /* "/x" or "C:\x": the root itself */
			sep[1] = 0;
			found = backup_tag_in(p);
			break;
		}
		*sep = 0;
		if ((found = backup_tag_in(p)))
			break;
	}
	free(p);
	return found;
}

bool backup_tag_write(int dirfd, struct buf *err)
{
	if (backup_tag_at(dirfd))
		return true;
	char tmp[64];
	snprintf(tmp, sizeof tmp, ".%s.%ld", BACKUP_TAG_NAME, (long)getpid());
	int fd = openat(dirfd, tmp, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		buf_printf(err, "cannot write %s: %s", BACKUP_TAG_NAME, strerror(errno));
		return false;
	}
	size_t len = strlen(tag_text);
	bool ok = write(fd, tag_text, len) == (ssize_t)len && fsync(fd) == 0;
	int e = errno;
	ok = close(fd) == 0 && ok;
	if (ok && renameat(dirfd, tmp, dirfd, BACKUP_TAG_NAME) == 0 && fsync(dirfd) == 0)
		return true;
	if (!ok)
		errno = e ? e : EIO;
	buf_printf(err, "cannot write %s: %s", BACKUP_TAG_NAME, strerror(errno));
	unlinkat(dirfd, tmp, 0);
	return false;
}
