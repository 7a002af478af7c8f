/* server_sandbox.h - the limits log4scan-server puts on itself once it
 * serves (issue 23, point 6).
 *
 * server_sandbox_install() is called by `serve` after the database is open,
 * the TLS certificate and key are read and the listening socket is bound:
 * from then on the collector needs its database files, the sockets it
 * accepts, and (PostgreSQL) a new connection to the database server when a
 * connection is reset.  It sets PR_SET_NO_NEW_PRIVS and loads a seccomp
 * filter (libseccomp) that is an ALLOW-LIST: the syscalls listed in
 * server_sandbox.c `allowed[]` run, every other one fails with EPERM
 * (nothing is killed, so a library that probes for a feature sees it
 * missing).  Not on the list, so refused: execve/execveat, fork of a
 * program, ptrace, process_vm_*, bind/listen of new sockets, mount, chroot,
 * setuid/setgid and capability changes, kernel modules, bpf, perf_event_open,
 * io_uring, keyctl, unshare/setns, creating directories or links, changing
 * owners or modes of files.  socket() is allowed for AF_UNIX, AF_INET and
 * AF_INET6 only (libpq's reconnection; seccomp cannot read the address a
 * connect() points to).  Syscalls of a foreign ABI (x32, int 0x80) kill the
 * process.  The filter is synchronised to every thread already running
 * (libmicrohttpd's, the merger's, the checkpointer's) and inherited by the
 * ones started later.
 *
 * What the filter cannot do: name files.  Which files the collector opens
 * after startup (its database, its -wal/-shm/-journal files, and for
 * PostgreSQL what libpq reads to reconnect) is checked under strace by
 * tests/t_server_sandbox.sh; the systemd unit (dist/systemd/) confines the
 * filesystem with ProtectSystem=strict and ReadWritePaths=.
 *
 * Sanitizer builds: LeakSanitizer ptraces its own threads at exit, so there
 * (and only there) ptrace of the process's own pid is allowed, as in the
 * agent's lib/sys/sandbox_linux.c.
 *
 * Returns 0, or -1 with the reason in err (the caller refuses to serve). */
#ifndef L4S_SERVER_SANDBOX_H
#define L4S_SERVER_SANDBOX_H

#include "util/buf.h"

int server_sandbox_install(struct buf *err);

#endif
