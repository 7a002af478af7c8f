/* test_sandbox.c - the seccomp filter of lib/sys/sandbox_linux.c really blocks what
 * it says: after sandbox_install(), ptrace, process_vm_readv, pidfd_open,
 * pidfd_getfd, kcmp, io_uring and network sockets fail with EPERM against
 * a real child process, while Unix sockets still work.  Each case that
 * installs a filter runs in its own forked child (a filter cannot be
 * removed), which reports back through its exit status; the first one also
 * prints its checks itself.  Each role of the table in sandbox.h gets
 * exactly the privileges it lists (rename, chmod, network), and
 * sandbox_priority_lower() is checked too. */
#include <errno.h>
#include <fcntl.h>
#include <linux/ioprio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc/procfs.h"
#include "sys/sandbox.h"
#include "unit.h"

static pid_t spawn_victim(void)
{
	pid_t p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	return p;
}

static void kill_victim(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

/* All the denials, in a child that installed the filter.  Prints checks. */
static void denials(void)
{
	pid_t victim = spawn_victim();
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		struct buf err = BUF_INIT;
		struct sandbox_opts o = {.allow_network = false};
		CHECK("install filter", sandbox_install(&o, &err) == 0);
		if (err.len)
			printf("# %s\n", buf_cstr(&err));
		buf_free(&err);

		char *status;
		CHECK("seccomp filter mode", procfs_read((long)getpid(), "status", 1 << 16, &status) > 0 &&
						     strstr(status, "Seccomp:\t2") && strstr(status, "NoNewPrivs:\t1"));
		free(status);

		errno = 0;
		CHECK("ptrace attach EPERM", ptrace(PTRACE_ATTACH, victim, 0, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK("ptrace seize EPERM", ptrace(PTRACE_SEIZE, victim, 0, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK("ptrace traceme EPERM", ptrace(PTRACE_TRACEME, 0, 0, 0) == -1 && errno == EPERM);

		char buf[16];
		static char target[16] = "secret";
		struct iovec local = {buf, sizeof buf}, remote = {target, sizeof target};
		errno = 0;
		CHECK("process_vm_readv EPERM",
		      syscall(SYS_process_vm_readv, victim, &local, 1, &remote, 1, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK("process_vm_writev EPERM",
		      syscall(SYS_process_vm_writev, victim, &local, 1, &remote, 1, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK("pidfd_open EPERM", syscall(SYS_pidfd_open, victim, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK("pidfd_getfd EPERM", syscall(SYS_pidfd_getfd, 3, 0, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK("kcmp EPERM", syscall(SYS_kcmp, getpid(), victim, 0, 0, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK("io_uring_setup EPERM", syscall(SYS_io_uring_setup, 4, buf) == -1 && errno == EPERM);
		errno = 0;
		CHECK("socket AF_INET EPERM", socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK("socket AF_INET6 EPERM", socket(AF_INET6, SOCK_DGRAM, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK("socket AF_NETLINK EPERM", socket(AF_NETLINK, SOCK_RAW, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK("socket AF_PACKET EPERM", socket(AF_PACKET, SOCK_RAW, 0) == -1 && errno == EPERM);

		/* Unix sockets still work end to end (syslog, nscd/sssd). */
		int srv = socket(AF_UNIX, SOCK_STREAM, 0), cli = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/l4s-sandbox-%d.sock", (int)getpid());
		unlink(sa.sun_path);
		bool ok = srv >= 0 && cli >= 0 && bind(srv, (struct sockaddr *)&sa, sizeof sa) == 0 &&
			  listen(srv, 1) == 0 && connect(cli, (struct sockaddr *)&sa, sizeof sa) == 0;
		CHECK("AF_UNIX connect allowed", ok);
		unlink(sa.sun_path);
		close(srv);
		close(cli);

		/* ordinary work is untouched */
		int fd = open("/dev/null", O_RDONLY);
		CHECK("open still allowed", fd >= 0);
		close(fd);
		fflush(stdout);
		_exit(unit_failures ? 1 : 0);
	}
	int st = 0;
	waitpid(child, &st, 0);
	CHECK("filtered child exited normally", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* without the filter, the same parent can still trace its child: the
	 * EPERMs above came from the filter, not from the system */
	errno = 0;
	long r = ptrace(PTRACE_SEIZE, victim, 0, 0);
	CHECK("unfiltered ptrace works (control)", r == 0 || errno != EPERM);
	kill_victim(victim);
}

/* With a collector to report to, network sockets are allowed, ptrace is not. */
static void network_allowed(void)
{
	pid_t victim = spawn_victim();
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		struct buf err = BUF_INIT;
		struct sandbox_opts o = {.allow_network = true};
		if (sandbox_install(&o, &err) != 0)
			_exit(10);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			_exit(11);
		close(s);
		errno = 0;
		if (!(ptrace(PTRACE_ATTACH, victim, 0, 0) == -1 && errno == EPERM))
			_exit(12);
		_exit(0);
	}
	int st = 0;
	waitpid(child, &st, 0);
	CHECK("network mode: inet socket allowed, ptrace still denied", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	kill_victim(victim);
}

/* The role table: what each role may change on disk, and that fix and
 * restore, which write, still get neither ptrace nor the network. */
static int role_child(enum sandbox_role role, bool net, const char *dir)
{
	struct buf err = BUF_INIT;
	struct sandbox_opts o = {.role = role, .allow_network = net};
	if (sandbox_install(&o, &err) != 0)
		return 10;
	char a[512], b[512];
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	int fd = open(a, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return 11; /* creating a file (-o FILE) stays possible for every role */
	errno = 0;
	int chmod_rc = fchmod(fd, 0600), chmod_errno = errno;
	close(fd);
	errno = 0;
	int ren = rename(a, b), ren_errno = errno;
	errno = 0;
	int sock = socket(AF_INET, SOCK_STREAM, 0), sock_errno = errno;
	if (sock >= 0)
		close(sock);
	errno = 0;
	long tr = ptrace(PTRACE_TRACEME, 0, 0, 0);
	bool names = role != SANDBOX_PS || net, attrs = role == SANDBOX_FIX || role == SANDBOX_RESTORE;
	bool netok = net && role != SANDBOX_FIX && role != SANDBOX_RESTORE;
	if (names ? ren != 0 : !(ren == -1 && ren_errno == EPERM))
		return 12;
	if (attrs ? chmod_rc != 0 : !(chmod_rc == -1 && chmod_errno == EPERM))
		return 13;
	if (netok ? sock < 0 : !(sock == -1 && sock_errno == EPERM))
		return 14;
	if (!(tr == -1 && errno == EPERM))
		return 15;
	return 0;
}

static void roles(void)
{
	static const struct {
		enum sandbox_role role;
		bool net;
		const char *name;
	} r[] = {{SANDBOX_SCAN, true, "scan (with a collector)"}, {SANDBOX_SCAN, false, "scan"},
		 {SANDBOX_LOGS, false, "logs"}, {SANDBOX_PS, false, "ps"},
		 {SANDBOX_PS, true, "ps --submit (spool and network)"}, {SANDBOX_FIX, false, "fix"},
		 {SANDBOX_FIX, true, "fix (network asked, never given)"}, {SANDBOX_RESTORE, false, "restore"},
		 {SANDBOX_SUBMIT, true, "submit"}};
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
		char dir[] = "/tmp/l4s-sandbox-role-XXXXXX";
		if (!mkdtemp(dir)) {
			CHECK("mkdtemp", false);
			return;
		}
		fflush(stdout);
		pid_t child = fork();
		if (child == 0)
			_exit(role_child(r[i].role, r[i].net, dir));
		int st = 0;
		waitpid(child, &st, 0);
		char name[160];
		snprintf(name, sizeof name, "role %s: names, attributes, network and ptrace as the table says (child status %d)",
			 r[i].name, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		CHECK(name, WIFEXITED(st) && WEXITSTATUS(st) == 0);
		char p[600];
		snprintf(p, sizeof p, "%s/a", dir);
		unlink(p);
		snprintf(p, sizeof p, "%s/b", dir);
		unlink(p);
		rmdir(dir);
	}
}

static void priority(void)
{
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		struct buf err = BUF_INIT;
		int rc = sandbox_priority_lower(&err);
		errno = 0;
		int nice = getpriority(PRIO_PROCESS, 0);
		long io = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
		_exit(rc == 0 && nice == 10 && IOPRIO_PRIO_CLASS(io) == IOPRIO_CLASS_BE &&
				      IOPRIO_PRIO_DATA(io) == 7
			      ? 0
			      : 1);
	}
	int st = 0;
	waitpid(child, &st, 0);
	CHECK("sandbox_priority_lower: nice 10, best-effort 7", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	denials();
	network_allowed();
	roles();
	priority();
	UNIT_EXIT();
}
