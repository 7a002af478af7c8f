/* test_procfs.c - the /proc allow-list (lib/proc/procfs_linux.c): names that must be
 * refused (mem, environ unless allowed, pagemap, escapes with ".." or
 * symlinks), names that must work, and the file checks of
 * procfs_open_file (no FIFO, nothing on procfs, the loaded copy of a
 * deleted file still readable through fd/N). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc/procfs.h"
#include "unit.h"

static void policy(void)
{
	long me = (long)getpid();
	CHECK("refuse mem as text", !procfs_allowed(me, "mem", PROCFS_TEXT));
	CHECK("refuse mem as file", !procfs_allowed(me, "mem", PROCFS_FILE));
	CHECK("refuse mem as link", !procfs_allowed(me, "mem", PROCFS_LINK));
	CHECK("refuse pagemap", !procfs_allowed(me, "pagemap", PROCFS_TEXT));
	CHECK("refuse syscall", !procfs_allowed(me, "syscall", PROCFS_TEXT));
	CHECK("refuse task/N/mem", !procfs_allowed(me, "task/1/mem", PROCFS_TEXT));
	CHECK("refuse fd/../mem", !procfs_allowed(me, "fd/../mem", PROCFS_FILE));
	CHECK("refuse fdinfo/3/../../mem", !procfs_allowed(me, "fdinfo/3/../../mem", PROCFS_TEXT));
	CHECK("refuse map_files junk", !procfs_allowed(me, "map_files/../mem", PROCFS_FILE));
	CHECK("refuse root/ alone", !procfs_allowed(me, "root/", PROCFS_FILE));
	CHECK("refuse root as text", !procfs_allowed(me, "root/etc/passwd", PROCFS_TEXT));
	CHECK("refuse global self/mem", !procfs_allowed(0, "self/mem", PROCFS_TEXT));
	CHECK("refuse global kcore", !procfs_allowed(0, "kcore", PROCFS_TEXT));
	CHECK("refuse negative pid", !procfs_allowed(-1, "maps", PROCFS_TEXT));
	CHECK("allow maps", procfs_allowed(me, "maps", PROCFS_TEXT));
	CHECK("allow fdinfo/3", procfs_allowed(me, "fdinfo/3", PROCFS_TEXT));
	CHECK("allow fd/3 as file", procfs_allowed(me, "fd/3", PROCFS_FILE));
	CHECK("allow map_files range", procfs_allowed(me, "map_files/7f00-7f10", PROCFS_FILE));
	CHECK("allow root path", procfs_allowed(me, "root/opt/a.jar", PROCFS_FILE));
	CHECK("allow net/tcp6", procfs_allowed(me, "net/tcp6", PROCFS_TEXT));
	CHECK("allow global stat", procfs_allowed(0, "stat", PROCFS_TEXT));

	CHECK("environ refused by default", !procfs_allowed(me, "environ", PROCFS_TEXT));
	errno = 0;
	CHECK("open environ fails EPERM", procfs_open(me, "environ") < 0 && errno == EPERM);
	procfs_allow_environ(true);
	CHECK("environ allowed on request", procfs_allowed(me, "environ", PROCFS_TEXT));
	int fd = procfs_open(me, "environ");
	CHECK("open environ when allowed", fd >= 0);
	if (fd >= 0)
		close(fd);
	procfs_allow_environ(false);
	CHECK("environ refused again", !procfs_allowed(me, "environ", PROCFS_TEXT));

	errno = 0;
	CHECK("open mem fails EPERM", procfs_open(me, "mem") < 0 && errno == EPERM);
	errno = 0;
	CHECK("open_file mem fails EPERM", procfs_open_file(me, "mem", NULL) < 0 && errno == EPERM);
	errno = 0;
	CHECK("opendir task refused", !procfs_opendir(me, "task") && errno == EPERM);
	char b[64];
	errno = 0;
	CHECK("readlink mem refused", procfs_readlink(me, "mem", b, sizeof b) < 0 && errno == EPERM);
}

static void files(void)
{
	long me = (long)getpid();
	char dir[] = "/tmp/l4s-procfs-XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK("mkdtemp", 0);
		return;
	}
	char p[256], what[300];

	/* /proc paths reached through the root link are refused, not opened */
	errno = 0;
	CHECK("root/proc/self/mem refused", procfs_open_file(me, "root/proc/self/mem", NULL) < 0 && errno == EPERM);
	errno = 0;
	CHECK("root/../../proc/self/mem refused",
	      procfs_open_file(me, "root/../../proc/self/mem", NULL) < 0 && errno == EPERM);
	snprintf(p, sizeof p, "%s/evil.jar", dir);
	CHECK("symlink to mem made", symlink("/proc/self/mem", p) == 0);
	snprintf(what, sizeof what, "root%s", p);
	errno = 0;
	CHECK("symlink to /proc/self/mem refused", procfs_open_file(me, what, NULL) < 0 && errno == EPERM);
	errno = 0;
	CHECK("stat through symlink to mem refused", procfs_stat_file(me, what, NULL) < 0 && errno == EPERM);
	unlink(p);

	snprintf(p, sizeof p, "%s/fifo.jar", dir);
	CHECK("fifo made", mkfifo(p, 0600) == 0);
	snprintf(what, sizeof what, "root%s", p);
	errno = 0;
	CHECK("fifo refused without blocking", procfs_open_file(me, what, NULL) < 0 && errno == EPERM);
	unlink(p);

	/* a plain file, then the same file after it is deleted, through fd/N */
	snprintf(p, sizeof p, "%s/a.jar", dir);
	int w = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK("write test file", w >= 0 && write(w, "old bytes", 9) == 9);
	close(w);
	snprintf(what, sizeof what, "root%s", p);
	struct stat st;
	int fd = procfs_open_file(me, what, &st);
	char got[32] = "";
	CHECK("open through root", fd >= 0 && st.st_size == 9);
	if (fd >= 0) {
		CHECK("read through root", read(fd, got, sizeof got) == 9 && !memcmp(got, "old bytes", 9));
		close(fd);
	}
	int held = open(p, O_RDONLY);
	unlink(p);
	w = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK("replace test file", w >= 0 && write(w, "new", 3) == 3);
	close(w);
	char fdname[32];
	snprintf(fdname, sizeof fdname, "fd/%d", held);
	char link[512];
	CHECK("fd link says deleted", procfs_readlink(me, fdname, link, sizeof link) > 0 &&
					      strstr(link, "(deleted)") != NULL);
	fd = procfs_open_file(me, fdname, &st);
	memset(got, 0, sizeof got);
	CHECK("old copy through fd/N", fd >= 0 && read(fd, got, sizeof got) == 9 && !memcmp(got, "old bytes", 9));
	if (fd >= 0)
		close(fd);
	fd = procfs_open_file(me, what, &st);
	CHECK("new copy through root", fd >= 0 && st.st_size == 3);
	if (fd >= 0)
		close(fd);
	close(held);
	unlink(p);
	rmdir(dir);

	/* the pipe behind an fd is not a file */
	int pp[2];
	if (pipe(pp) == 0) {
		snprintf(fdname, sizeof fdname, "fd/%d", pp[0]);
		errno = 0;
		CHECK("pipe fd refused", procfs_open_file(me, fdname, NULL) < 0 && errno == EPERM);
		close(pp[0]);
		close(pp[1]);
	}
}

static void processes(void)
{
	long me = (long)getpid();
	char *s;
	long n = procfs_read(me, "stat", 4096, &s);
	CHECK("read own stat", n > 0 && strtol(s, NULL, 10) == me);
	free(s);
	long *pids;
	n = procfs_list_pids(&pids);
	int found = 0;
	for (long i = 0; i < n; i++)
		found |= pids[i] == me;
	CHECK("list pids has self", n > 0 && found);
	CHECK("pids ascending", n < 2 || pids[0] < pids[n - 1]);
	free(pids);

	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	errno = 0;
	CHECK("exited process: ENOENT", procfs_read(child, "stat", 4096, &s) < 0 && errno == ENOENT);
	char b[64];
	errno = 0;
	CHECK("exited process readlink: ENOENT", procfs_readlink(child, "exe", b, sizeof b) < 0 &&
							  (errno == ENOENT || errno == ESRCH));
	CHECK("btime readable", procfs_read(0, "stat", 1 << 20, &s) > 0 && strstr(s, "\nbtime ") != NULL);
	free(s);
}

int main(void)
{
	policy();
	files();
	processes();
	UNIT_EXIT();
}
