/* sandbox.c - seccomp filter and scheduling priority (design in sandbox.h). */
#include "sandbox.h"

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

static const char *const denied[] = {
	"process_vm_readv", "process_vm_writev", "pidfd_open",      "pidfd_getfd",
	"pidfd_send_signal", "process_madvise",  "process_mrelease", "kcmp",
	"perf_event_open",  "bpf",               "io_uring_setup",  "io_uring_enter",
	"io_uring_register",
};

int sandbox_install(const struct sandbox_opts *o, struct buf *err)
{
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
	for (size_t i = 0; !rc && i < sizeof denied / sizeof denied[0]; i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to this libseccomp: the kernel is older still */
		what = denied[i];
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	if (!rc) {
		what = "ptrace";
#ifdef L4S_LSAN
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 1,
				      SCMP_A1(SCMP_CMP_NE, (scmp_datum_t)getpid(), 0));
#else
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 0);
#endif
	}
	if (!rc && !o->allow_network) {
		what = "socket";
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_NE, AF_UNIX, 0));
	}
	if (rc) {
		buf_printf(err, "seccomp rule for %s: %s", what, strerror(-rc));
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

int priority_lower(struct buf *err)
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
