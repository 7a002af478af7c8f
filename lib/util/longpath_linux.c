/* longpath_linux.c - paths longer than PATH_MAX (see longpath.h). */
#include "util/longpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* The directory holding the last piece of a long path, opened piece by
 * piece; *rest is that last piece (shorter than PATH_MAX).  -1 on error. */
static int walk_to(const char *path, const char **rest)
{
	int dir = AT_FDCWD;
	const char *p = path;
	while (strlen(p) >= PATH_MAX) {
		const char *cut = NULL;
		for (const char *q = p + PATH_MAX - 1; q > p; q--)
			if (*q == '/') {
				cut = q;
				break;
			}
		if (!cut) { /* one component longer than any name may be */
			if (dir != AT_FDCWD)
				close(dir);
			errno = ENAMETOOLONG;
			return -1;
		}
		char piece[PATH_MAX];
		size_t n = (size_t)(cut - p);
		memcpy(piece, p, n);
		piece[n] = 0;
		int next = openat(dir, n ? piece : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
		int e = errno;
		if (dir != AT_FDCWD)
			close(dir);
		if (next < 0) {
			errno = e;
			return -1;
		}
		dir = next;
		p = cut + 1;
	}
	*rest = p;
	return dir;
}

int longpath_open(const char *path, int flags)
{
	if (strlen(path) < PATH_MAX)
		return open(path, flags);
	const char *rest;
	int dir = walk_to(path, &rest);
	if (dir == -1)
		return -1;
	int fd = openat(dir, rest, flags);
	int e = errno;
	close(dir);
	errno = e;
	return fd;
}

int longpath_stat(const char *path, struct stat *st, bool follow)
{
	if (strlen(path) < PATH_MAX)
		return follow ? stat(path, st) : lstat(path, st);
	const char *rest;
	int dir = walk_to(path, &rest);
	if (dir == -1)
		return -1;
	int r = fstatat(dir, rest, st, follow ? 0 : AT_SYMLINK_NOFOLLOW);
	int e = errno;
	close(dir);
	errno = e;
	return r;
}

DIR *longpath_opendir(const char *path)
{
	if (strlen(path) < PATH_MAX)
		return opendir(path);
	int fd = longpath_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}
