/* test_server_sandbox.c - the collector's allow-list (programs/server/
 * server_sandbox.c) refuses what it says and keeps what serving needs.
 *
 * In a forked child (a filter cannot be removed) that installed it: the
 * process is in seccomp filter mode with NO_NEW_PRIVS; execve, ptrace,
 * bind, listen, mkdir, chmod, setuid, socket(AF_NETLINK / AF_PACKET),
 * mount-like and namespace calls fail with EPERM; while what the collector
 * does after startup still works: a file in its directory is created,
 * written, synced, read back and removed (SQLite's journal), a thread
 * starts, Unix and TCP sockets are made and a TCP connection to a listener
 * set up before the filter is accepted (libpq's reconnection, the HTTP
 * daemon's accept), /dev/urandom and getrandom give bytes. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../programs/server/server_sandbox.h"
#include "unit.h"

static void *thread_main(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

static bool eperm(long rc) { return rc == -1 && errno == EPERM; }

static void child(const char *dir)
{
	/* a listener made before the filter, as the HTTP daemon's */
	int lis = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	bool lis_ok = lis >= 0 && !bind(lis, (struct sockaddr *)&a, sizeof a) && !listen(lis, 4) &&
		      !getsockname(lis, (struct sockaddr *)&a, &al);
	CHECK("listener before the filter", lis_ok);

	struct buf err = BUF_INIT;
	CHECK("install the allow-list", server_sandbox_install(&err) == 0);
	if (err.len)
		printf("# %s\n", buf_cstr(&err));
	buf_free(&err);

	char status[4096] = "";
	int sfd = open("/proc/self/status", O_RDONLY);
	ssize_t n = sfd >= 0 ? read(sfd, status, sizeof status - 1) : -1;
	if (sfd >= 0)
		close(sfd);
	status[n > 0 ? n : 0] = 0;
	CHECK("seccomp filter mode and no_new_privs", strstr(status, "Seccomp:\t2") && strstr(status, "NoNewPrivs:\t1"));

	/* refused */
	char *const argv[] = {"/bin/true", NULL}, *const envp[] = {NULL};
	errno = 0;
	CHECK("execve EPERM", eperm(execve("/bin/true", argv, envp)));
	errno = 0;
	CHECK("execveat EPERM", eperm(syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0)));
	errno = 0;
	CHECK("ptrace traceme EPERM", eperm(ptrace(PTRACE_TRACEME, 0, 0, 0)));
	errno = 0;
	CHECK("ptrace attach to the parent EPERM", eperm(ptrace(PTRACE_ATTACH, getppid(), 0, 0)));
	errno = 0;
	CHECK("socket AF_NETLINK EPERM", eperm(socket(AF_NETLINK, SOCK_RAW, 0)));
	errno = 0;
	CHECK("socket AF_PACKET EPERM", eperm(socket(AF_PACKET, SOCK_RAW, 0)));
	int s2 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in b = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	errno = 0;
	CHECK("bind EPERM", s2 >= 0 && eperm(bind(s2, (struct sockaddr *)&b, sizeof b)));
	errno = 0;
	CHECK("listen EPERM", s2 >= 0 && eperm(listen(s2, 1)));
	char path[600];
	snprintf(path, sizeof path, "%s/sub", dir);
	errno = 0;
	CHECK("mkdir EPERM", eperm(mkdir(path, 0700)));
	errno = 0;
	CHECK("chmod EPERM", eperm(chmod(dir, 0777)));
	errno = 0;
	CHECK("setuid EPERM", eperm(syscall(SYS_setuid, 0)));
	errno = 0;
	CHECK("unshare EPERM", eperm(unshare(CLONE_NEWUSER)));
	errno = 0;
	CHECK("chroot EPERM", eperm(chroot("/")));
	errno = 0;
	CHECK("kill of the parent EPERM", eperm(syscall(SYS_kill, getppid(), 0)));
	errno = 0;
	CHECK("prctl PR_SET_KEEPCAPS EPERM (thread names only)", eperm(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)));

	/* kept */
	snprintf(path, sizeof path, "%s/db-journal", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char back[6] = "";
	bool file_ok = fd >= 0 && pwrite(fd, "hello", 5, 0) == 5 && !fdatasync(fd) && pread(fd, back, 5, 0) == 5 &&
		       !ftruncate(fd, 0) && !close(fd) && !unlink(path) && !strcmp(back, "hello");
	CHECK("database file: create, write, sync, read, truncate, unlink", file_ok);
	pthread_t t;
	int v = 0;
	CHECK("a thread starts", !pthread_create(&t, NULL, thread_main, &v) && !pthread_join(t, NULL) && v == 42);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	bool net_ok = c >= 0 && !connect(c, (struct sockaddr *)&a, sizeof a);
	int acc = net_ok ? accept4(lis, NULL, NULL, SOCK_CLOEXEC) : -1;
	net_ok = net_ok && acc >= 0 && send(c, "x", 1, 0) == 1 && recv(acc, back, 1, 0) == 1 && back[0] == 'x';
	CHECK("TCP connect, accept, send, recv", net_ok);
	CHECK("AF_UNIX and AF_INET6 sockets", socket(AF_UNIX, SOCK_STREAM, 0) >= 0 && socket(AF_INET6, SOCK_STREAM, 0) >= 0);
	int r = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	CHECK("/dev/urandom and getrandom", r >= 0 && read(r, back, 4) == 4 && getrandom(back, 4, 0) == 4);
	CHECK("thread name (libmicrohttpd)", prctl(PR_SET_NAME, "MHD-connection", 0, 0, 0) == 0);
	fflush(stdout);
	_exit(unit_failures ? 1 : 0);
}

int main(void)
{
	char dir[] = "/tmp/test_server_sandbox.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	fflush(stdout);
	pid_t p = fork();
	if (p == 0)
		child(dir);
	int st = 0;
	waitpid(p, &st, 0);
	CHECK("the sandboxed child ran every check and passed", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	rmdir(dir);
	UNIT_EXIT();
}
