/* sandbox.h - the limits log4scan puts on itself before it looks at a host.
 *
 * sandbox_install() loads a seccomp filter (libseccomp) into the calling
 * process, with NO_NEW_PRIVS set.  The filter allows everything except:
 *
 *   reading or steering other processes
 *     ptrace, process_vm_readv, process_vm_writev, pidfd_open, pidfd_getfd,
 *     pidfd_send_signal, process_madvise, process_mrelease, kcmp
 *   back doors around the above and around this filter
 *     perf_event_open (samples other processes' registers and memory),
 *     bpf (kernel programs can read any memory), io_uring_setup/enter/register
 *     (io_uring operations are not seen by seccomp at all)
 *   the network, unless the caller needs it (a collector to report to)
 *     socket() for every address family except AF_UNIX.
 *
 * All of these fail with EPERM; nothing is killed, so a library that probes
 * for a feature just sees it missing.  Syscalls from a foreign ABI (x32,
 * i386 via int 0x80) kill the process: the filter only describes the native
 * one.  The filter is inherited by every thread (TSYNC) and child, and
 * cannot be removed.
 *
 * Why socket() and not connect(): seccomp sees syscall arguments as numbers
 * and cannot read the address a sockaddr pointer points to, so it cannot
 * tell connect("/dev/log") from connect(198.51.100.7:389).  The address
 * family is an argument of socket(), so denying every family but AF_UNIX
 * means no network socket can exist, and so none can connect, send or
 * listen.  AF_UNIX stays open on purpose: syslog(3) connects to /dev/log
 * (the --syslog option of issue #8), and getpwuid_r() may ask nscd or sssd
 * over a Unix socket to turn a uid into a user name.  A network socket
 * inherited from the parent process is the parent's decision and is not
 * affected.
 *
 * Why not a path rule for /proc/PID/mem: seccomp cannot read paths either.
 * That rule is enforced in code: lib/proc/procfs_linux.c is the only opener of /proc
 * paths and refuses every name outside its allow-list (tests/unit/
 * test_procfs.c), and tests/t_sandbox.sh checks the open calls of a whole
 * scan under strace.
 *
 * Sanitizer builds (the test suite's build/san): LeakSanitizer checks for
 * leaks at exit by PTRACE_ATTACHing to the threads of its own process from
 * a helper task.  There, and only there, ptrace is allowed when its target
 * is the process's own main thread (pid == getpid() when the filter is
 * installed); ptrace of any other process still fails.
 *
 * Roles.  Each subcommand installs the filter for its role, and what a
 * role may do is stated in one table (sandbox.c `roles[]`), as an OpenBSD
 * daemon states its pledge(2) where it starts.  Beyond the denials above,
 * which hold for every role, a role may have:
 *
 *   names   create, remove or rename directory entries: link, unlink,
 *           rename, mkdir, rmdir, symlink, mknod (and their *at forms)
 *   attrs   change a file's owner, mode, extended attributes, times or
 *           length: chown, chmod, setxattr, removexattr, utimensat,
 *           truncate (and their f* / l* / *at forms)
 *   net     network sockets, and only when a collector was given
 *   spool   names, but only when a collector was given (the submission
 *           spool is written and renamed)
 *
 *   role      names  attrs  net           why
 *   scan      yes    no     --submit      the cache file, the submission spool
 *   logs      yes    no     --submit      the submission spool
 *   ps        spool  no     --submit      reads /proc and files, writes stdout;
 *                                         --submit spools what it cannot send
 *   fix       yes    yes    no            replaces files keeping owner, mode,
 *   restore   yes    yes    no            xattrs and mtime; the backup directory
 *   submit    spool  no     yes           sends saved reports, spools the rest
 *
 * A denied call fails with EPERM.  Opening a file for writing (open with
 * O_CREAT) stays possible for every role: `-o FILE` is opened when the
 * report is written, and seccomp cannot tell that path from another.
 *
 * sandbox_priority_lower() makes the scan polite: nice 10 and the best-effort I/O
 * class at its lowest level (7).  The idle I/O class is not used: on a busy
 * disk it can starve a scan indefinitely. */
#ifndef L4S_SANDBOX_H
#define L4S_SANDBOX_H

#include <stdbool.h>

#include "util/buf.h"

enum sandbox_role { SANDBOX_SCAN, SANDBOX_LOGS, SANDBOX_PS, SANDBOX_FIX, SANDBOX_RESTORE, SANDBOX_SUBMIT };

struct sandbox_opts {
	enum sandbox_role role;
	bool allow_network; /* a collector or other server was given (scan, logs, ps) */
};

/* 0 when the filter is in place; -1 with the reason in err. */
int sandbox_install(const struct sandbox_opts *o, struct buf *err);

/* nice +10, ioprio best-effort 7.  0 when both took effect, else -1 with
 * the reason in err (the scan can go on either way). */
int sandbox_priority_lower(struct buf *err);

#endif
