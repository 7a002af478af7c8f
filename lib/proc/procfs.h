/* procfs.h - the one audited way into /proc.
 *
 * log4scan looks at running JVMs without ever touching their memory.  To
 * make that a property of the code rather than a promise, every open,
 * readlink, stat or directory listing of a /proc path in the program goes
 * through the functions below, and they accept only names from a fixed
 * allow-list.  `mem`, `pagemap`, `kcore`, `syscall`, `stack`... are not on
 * it, so they cannot be opened however the caller builds the name; `environ`
 * is refused unless procfs_allow_environ(true) was called (`--read-environ`).
 *
 * A name is given as (pid, what):
 *   text files   maps cmdline stat status cgroup fdinfo/N net/tcp net/tcp6
 *                net/udp net/udp6 [environ]                   procfs_open()
 *   directories  fd                                         procfs_opendir()
 *   links        exe cwd root fd/N map_files/A-B ns/mnt ns/net ns/pid
 *                                                          procfs_readlink()
 *   files        fd/N map_files/A-B        (the file the kernel handle points
 *                root/ABSOLUTE/PATH         to; the path as the process sees
 *                                           it, resolved inside its root)
 *                                                        procfs_open_file()
 * and pid 0 names the global files "stat" (boot time) and
 * "self/mountinfo".  procfs_list_pids() lists /proc itself.
 *
 * procfs_open_file() never opens anything for reading before checking what
 * it is: it opens with O_PATH (which runs no file's open routine and reads
 * nothing), refuses anything that is not a regular file or that lives on
 * procfs, sysfs, debugfs, tracefs or securityfs (so a symlink or bind mount
 * inside a container cannot lead it to /proc/self/mem), and only then
 * reopens that exact inode read-only.  root/PATH is resolved with openat2
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, so symlinks in a containerised
 * path resolve inside the container's filesystem and ".." cannot climb out
 * of it (kernels before 5.6: paths with ".." are refused and symlinks
 * resolve from the host root; the file-type checks still apply).
 *
 * Every function returns -1 (or NULL) with errno set: EPERM for a name the
 * policy refuses, otherwise whatever the kernel said (ENOENT/ESRCH when the
 * process has exited, EACCES when it belongs to someone else). */
#ifndef L4S_PROCFS_H
#define L4S_PROCFS_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Allow reading /proc/PID/environ (off by default). */
void procfs_allow_environ(bool on);

/* Is `what` on the allow-list for this kind of access?  Exposed so the
 * policy can be unit-tested without a process to point it at. */
enum procfs_access { PROCFS_TEXT, PROCFS_DIR, PROCFS_LINK, PROCFS_FILE };
bool procfs_allowed(long pid, const char *what, enum procfs_access how);

/* Open a /proc text file read-only (O_CLOEXEC). */
int procfs_open(long pid, const char *what);
/* Read a whole /proc text file into a new NUL-terminated buffer (at most
 * max bytes); returns its length or -1.  Caller frees *out. */
long procfs_read(long pid, const char *what, size_t max, char **out);
DIR *procfs_opendir(long pid, const char *what);
/* readlink(2); the result is NUL-terminated (truncated to n - 1). */
long procfs_readlink(long pid, const char *what, char *buf, size_t n);
/* Open the regular file behind fd/N, map_files/A-B or root/PATH for
 * reading (see above); fills *st from the opened file. */
int procfs_open_file(long pid, const char *what, struct stat *st);
/* stat(2) of that same file without opening it for reading. */
int procfs_stat_file(long pid, const char *what, struct stat *st);

/* The numeric entries of /proc, ascending.  Returns the count or -1. */
long procfs_list_pids(long **out);

#endif
