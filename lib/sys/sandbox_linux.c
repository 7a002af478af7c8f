/* sandbox_linux.c - seccomp filter per role, and scheduling priority (design and
 * the table of roles in sandbox.h; the table itself is roles[] below). */
#include "sys/sandbox.h"

#include <errno.h>
#include <linux/ioprio.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define L4S_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define L4S_LSAN 1
#endif
#endif

/* Denied to every role: reading or steering other processes, and the back
 * doors around that and around this filter. */
static const char *const denied[] = {
	"process_vm_readv", "process_vm_writev", "pidfd_open",      "pidfd_getfd",
	"pidfd_send_signal", "process_madvise",  "process_mrelease", "kcmp",
	"perf_event_open",  "bpf",               "io_uring_setup",  "io_uring_enter",
	"io_uring_register",
};

/* The privileges a role may be given (sandbox.h). */
enum { PRIV_NAMES = 1, PRIV_ATTRS = 2, PRIV_NET = 4, PRIV_SPOOL = 8 };

static const char *const names_calls[] = {
	"link", "linkat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat",
	"rmdir", "symlink", "symlinkat", "mknod", "mknodat",
};
static const char *const attrs_calls[] = {
	"chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
	"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
	"utime", "utimes", "futimesat", "utimensat", "truncate", "ftruncate",
};

/* Each role's privileges, in one place.  PRIV_NET is granted only when the
 * caller also says a collector was given (allow_network); PRIV_SPOOL is
 * PRIV_NAMES under the same condition (the submission spool). */
static const struct {
	const char *name;
	unsigned privs;
} roles[] = {
	[SANDBOX_SCAN] = {"scan", PRIV_NAMES | PRIV_NET},
	[SANDBOX_LOGS] = {"logs", PRIV_NAMES | PRIV_NET},
	[SANDBOX_PS] = {"ps", PRIV_SPOOL | PRIV_NET},
	[SANDBOX_FIX] = {"fix", PRIV_NAMES | PRIV_ATTRS},
	[SANDBOX_RESTORE] = {"restore", PRIV_NAMES | PRIV_ATTRS},
	[SANDBOX_SUBMIT] = {"submit", PRIV_SPOOL | PRIV_NET},
};

/* EPERM for each named syscall this libseccomp knows (an unknown one is
 * newer than it, and so than the kernel it was built for). */
static int deny_all(scmp_filter_ctx ctx, const char *const *calls, size_t n, const char **what)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(calls[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		*what = calls[i];
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (rc)
			return rc;
	}
	return 0;
}

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

int sandbox_install(const struct sandbox_opts *o, struct buf *err)
{
	unsigned privs = roles[o->role].privs;
	if (!o->allow_network)
		privs &= ~(unsigned)(PRIV_NET | PRIV_SPOOL);
	if (privs & PRIV_SPOOL)
		privs |= PRIV_NAMES;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		buf_adds(err, "seccomp_init failed");
		return -1;
	}
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!rc)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (!rc)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	const char *what = "filter attributes";
	if (!rc)
		rc = deny_all(ctx, denied, COUNT(denied), &what);
	if (!rc && !(privs & PRIV_NAMES))
		rc = deny_all(ctx, names_calls, COUNT(names_calls), &what);
	if (!rc && !(privs & PRIV_ATTRS))
		rc = deny_all(ctx, attrs_calls, COUNT(attrs_calls), &what);
	if (!rc) {
		what = "ptrace";
#ifdef L4S_LSAN
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 1,
				      SCMP_A1(SCMP_CMP_NE, (scmp_datum_t)getpid(), 0));
#else
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 0);
#endif
	}
	if (!rc && !(privs & PRIV_NET)) {
		what = "socket";
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_NE, AF_UNIX, 0));
	}
	if (rc) {
		buf_printf(err, "%s role: seccomp rule for %s: %s", roles[o->role].name, what, strerror(-rc));
		seccomp_release(ctx);
		return -1;
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc) {
		buf_printf(err, "loading the seccomp filter: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

int sandbox_priority_lower(struct buf *err)
{
	int rc = 0;
	errno = 0;
	int cur = getpriority(PRIO_PROCESS, 0);
	if (!(cur == -1 && errno) && cur < 10 && setpriority(PRIO_PROCESS, 0, 10) < 0) {
		buf_printf(err, "setpriority: %s", strerror(errno));
		rc = -1;
	}
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7)) < 0) {
		buf_printf(err, "%sioprio_set: %s", rc ? "; " : "", strerror(errno));
		rc = -1;
	}
	return rc;
}
