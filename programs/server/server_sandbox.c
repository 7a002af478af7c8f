/* server_sandbox.c - the collector's seccomp allow-list (design in
 * server_sandbox.h).
 *
 * The list was made from what a serving collector calls under
 * `strace -f -c` through ingest, dashboard, API, login and shutdown on
 * SQLite and on PostgreSQL (with a connection reset), over HTTP and HTTPS,
 * in the optimised and the sanitizer builds, plus the calls glibc may use
 * instead of those on other kernels (open for openat, stat for newfstatat,
 * poll for ppoll...).  Anything missing from it fails with EPERM, which
 * tests/t_server_sandbox.sh would see as a failed request. */
#include "server_sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define L4S_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define L4S_LSAN 1
#endif
#endif

static const char *const allowed[] = {
	/* files: the database, its journals, what libpq and NSS read */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
	"pwritev2", "lseek", "close", "open", "openat", "openat2", "stat", "fstat", "lstat",
	"newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat", "faccessat2", "fcntl",
	"flock", "fsync", "fdatasync", "ftruncate", "fallocate", "unlink", "unlinkat", "getcwd",
	"readlink", "readlinkat", "getdents", "getdents64", "dup", "dup2", "dup3", "ioctl", "fadvise64",
	"sync_file_range",
	/* memory */
	"mmap", "munmap", "mremap", "mprotect", "madvise", "brk", "mlock", "munlock", "mincore",
	"membarrier",
	/* threads, signals, time */
	"futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
	"clone", "clone3", "exit", "exit_group", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"rt_sigtimedwait", "rt_sigpending", "rt_sigsuspend", "sigaltstack", "tgkill", "gettid",
	"getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid",
	"getresgid", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
	"gettimeofday", "time", "getrandom", "sched_yield", "sched_getaffinity", "sched_getparam",
	"sched_getscheduler", "getpriority", "getrlimit", "prlimit64", "getrusage", "times", "uname",
	"sysinfo", "restart_syscall", "wait4", "waitid",
	/* waiting on descriptors */
	"poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "pipe", "pipe2",
	/* sockets: the accepted connections; PostgreSQL's (re)connection */
	"accept", "accept4", "connect", "shutdown", "setsockopt", "getsockopt", "getsockname",
	"getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	"sendfile", "socketpair",
};

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

int server_sandbox_install(struct buf *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx) {
		buf_adds(err, "sandbox: seccomp_init failed");
		return -1;
	}
	const char *what = "filter attributes";
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!rc)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (!rc)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (size_t i = 0; !rc && i < COUNT(allowed); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a syscall of this architecture (open, stat... on arm64) */
		what = allowed[i];
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	/* sockets of the three families the collector talks over, no other */
	static const int families[] = {AF_UNIX, AF_INET, AF_INET6};
	for (size_t i = 0; !rc && i < COUNT(families); i++) {
		what = "socket";
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i], 0));
	}
	/* prctl: thread names (libmicrohttpd, glibc) and reading the own state */
	static const int prctls[] = {PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_SET_VMA};
	for (size_t i = 0; !rc && i < COUNT(prctls); i++) {
		what = "prctl";
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)prctls[i], 0));
	}
#ifdef L4S_LSAN
	/* LeakSanitizer's tracer attaches to the threads of this process only */
	if (!rc) {
		what = "ptrace";
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ptrace), 1,
				      SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	}
	static const int lsan_prctls[] = {PR_SET_PTRACER, PR_SET_DUMPABLE, PR_SET_PDEATHSIG};
	for (size_t i = 0; !rc && i < COUNT(lsan_prctls); i++) {
		what = "prctl";
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)lsan_prctls[i], 0));
	}
#endif
	if (rc) {
		buf_printf(err, "sandbox: seccomp rule for %s: %s", what, strerror(-rc));
		seccomp_release(ctx);
		return -1;
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc) {
		buf_printf(err, "sandbox: loading the seccomp filter: %s", strerror(-rc));
		return -1;
	}
	return 0;
}
