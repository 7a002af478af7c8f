/* procfs_linux.c - the single audited opener of /proc paths (see procfs.h).
 *
 * Audit notes: every path this file builds is "/proc/" + (pid or nothing)
 * + a name that procfs_allowed() accepted, except the one reopen of an
 * O_PATH descriptor through /proc/self/fd/N in reopen_ro(), whose target
 * was checked to be a regular file outside procfs/sysfs first.  Nothing
 * here reads process memory, and nothing else in the program opens /proc. */
#include "proc/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util/buf.h"

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef SECURITYFS_MAGIC
#define SECURITYFS_MAGIC 0x73636673
#endif
#ifndef DEBUGFS_MAGIC
#define DEBUGFS_MAGIC 0x64626720
#endif

static bool allow_environ;

void procfs_allow_environ(bool on)
{
	allow_environ = on;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* "7f00aa-7f00bb": two lower-case hex numbers, as the kernel names them. */
static bool map_range(const char *s)
{
	size_t a = strspn(s, "0123456789abcdef");
	if (!a || s[a] != '-')
		return false;
	s += a + 1;
	size_t b = strspn(s, "0123456789abcdef");
	return b && !s[b];
}

static bool one_of(const char *what, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(what, *list))
			return true;
	return false;
}

bool procfs_allowed(long pid, const char *what, enum procfs_access how)
{
	static const char *const text[] = {"maps", "cmdline", "stat", "status", "cgroup", "net/tcp",
					   "net/tcp6", "net/udp", "net/udp6", NULL};
	static const char *const links[] = {"exe", "cwd", "root", "ns/mnt", "ns/net", "ns/pid", NULL};
	static const char *const global[] = {"stat", "self/mountinfo", NULL};
	if (!what || pid < 0 || strlen(what) > 4000)
		return false;
	if (pid == 0)
		return how == PROCFS_TEXT && one_of(what, global);
	switch (how) {
	case PROCFS_TEXT:
		if (one_of(what, text))
			return true;
		if (!strcmp(what, "environ"))
			return allow_environ;
		return !strncmp(what, "fdinfo/", 7) && all_digits(what + 7);
	case PROCFS_DIR:
		return !strcmp(what, "fd");
	case PROCFS_LINK:
		if (one_of(what, links))
			return true;
		/* fd/N and map_files/A-B can be read as links too */
		__attribute__((fallthrough));
	case PROCFS_FILE:
		if (!strncmp(what, "fd/", 3))
			return all_digits(what + 3);
		if (!strncmp(what, "map_files/", 10))
			return map_range(what + 10);
		return how == PROCFS_FILE && !strncmp(what, "root/", 5) && what[5] && what[5] != '/';
	}
	return false;
}

static void build(char *out, size_t n, long pid, const char *what)
{
	if (pid)
		snprintf(out, n, "/proc/%ld/%s", pid, what);
	else
		snprintf(out, n, "/proc/%s", what);
}

#define PATH_CAP 4200

int procfs_open(long pid, const char *what)
{
	if (!procfs_allowed(pid, what, PROCFS_TEXT)) {
		errno = EPERM;
		return -1;
	}
	char p[PATH_CAP];
	build(p, sizeof p, pid, what);
	return open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

long procfs_read(long pid, const char *what, size_t max, char **out)
{
	*out = NULL;
	int fd = procfs_open(pid, what);
	if (fd < 0)
		return -1;
	struct buf b = BUF_INIT;
	char chunk[8192];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			buf_free(&b);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		size_t take = (size_t)r;
		if (b.len + take > max)
			take = max - b.len;
		buf_add(&b, chunk, take);
		if (b.len >= max)
			break;
	}
	close(fd);
	buf_cstr(&b);
	long len = (long)b.len;
	*out = b.data ? buf_detach(&b) : xstrdup("");
	return len;
}

DIR *procfs_opendir(long pid, const char *what)
{
	if (!procfs_allowed(pid, what, PROCFS_DIR)) {
		errno = EPERM;
		return NULL;
	}
	char p[PATH_CAP];
	build(p, sizeof p, pid, what);
	return opendir(p);
}

long procfs_readlink(long pid, const char *what, char *buf, size_t n)
{
	if (!procfs_allowed(pid, what, PROCFS_LINK) || n == 0) {
		errno = EPERM;
		return -1;
	}
	char p[PATH_CAP];
	build(p, sizeof p, pid, what);
	ssize_t r = readlink(p, buf, n - 1);
	if (r < 0)
		return -1;
	buf[r] = 0;
	return (long)r;
}

/* A filesystem whose "regular files" are windows onto kernel or process
 * state, never a jar. */
static bool pseudo_fs(int fd)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return true;
	switch ((unsigned long)sf.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
		return true;
	}
	return false;
}

/* PATH inside the process's root, without following symlinks out of it. */
static int open_in_root(long pid, const char *path)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%ld/root", pid);
	int root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -1;
	while (*path == '/')
		path++;
	int fd = -1;
#ifdef SYS_openat2
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
	if (fd >= 0 || errno != ENOSYS) {
		int e = errno;
		close(root);
		errno = e;
		return fd;
	}
#endif
	/* No openat2: refuse "..", let the kernel follow the rest. */
	for (const char *c = path; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			close(root);
			errno = EPERM;
			return -1;
		}
		c += n;
		while (*c == '/')
			c++;
	}
	fd = openat(root, path, O_PATH | O_CLOEXEC);
	int e = errno;
	close(root);
	errno = e;
	return fd;
}

/* An O_PATH descriptor for the file, after checking what it is. */
static int open_checked(long pid, const char *what, struct stat *st)
{
	if (!procfs_allowed(pid, what, PROCFS_FILE)) {
		errno = EPERM;
		return -1;
	}
	int fd;
	if (!strncmp(what, "root/", 5)) {
		fd = open_in_root(pid, what + 4);
	} else {
		char p[PATH_CAP];
		build(p, sizeof p, pid, what);
		fd = open(p, O_PATH | O_CLOEXEC);
	}
	if (fd < 0)
		return -1;
	struct stat tmp;
	if (!st)
		st = &tmp;
	if (fstat(fd, st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st->st_mode) || pseudo_fs(fd)) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int procfs_stat_file(long pid, const char *what, struct stat *st)
{
	int fd = open_checked(pid, what, st);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Reopen a checked O_PATH descriptor read-only: the same inode, whatever
 * has been renamed or replaced since. */
static int reopen_ro(int pathfd)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", pathfd);
	return open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

int procfs_open_file(long pid, const char *what, struct stat *st)
{
	struct stat a;
	int pfd = open_checked(pid, what, &a);
	if (pfd < 0)
		return -1;
	int fd = reopen_ro(pfd);
	int e = errno;
	close(pfd);
	if (fd < 0) {
		errno = e;
		return -1;
	}
	struct stat b;
	if (fstat(fd, &b) < 0 || b.st_ino != a.st_ino || b.st_dev != a.st_dev) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	if (st)
		*st = b;
	return fd;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

long procfs_list_pids(long **out)
{
	*out = NULL;
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	size_t n = 0, cap = 0;
	long *v = NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!all_digits(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[n++] = strtol(e->d_name, NULL, 10);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, cmp_long);
	*out = v;
	return (long)n;
}
