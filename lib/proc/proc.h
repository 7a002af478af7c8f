/* proc.h - the process view: which running JVMs have which Log4j loaded.
 *
 * Everything comes from /proc through lib/proc/procfs_linux.c (never process memory):
 *   stat     kernel threads (PF_KTHREAD) are passed over; the start time is
 *            boot time (/proc/stat btime) + starttime clock ticks
 *   exe      basename java/javaw; otherwise maps naming libjvm.so (a JVM
 *            embedded in another program: jsvc, a native launcher)
 *   cmdline  the command (main class, -jar FILE or -m MODULE/CLASS) and the
 *            -D system properties and -javaagent hot patches that are
 *            visible mitigations
 *   status   the real uid, turned into a name with getpwuid_r
 *   cgroup   the container id (docker, containerd, cri-o, podman, lxc);
 *            failing that, a pid namespace other than ours ("pidns:N")
 *   fd, maps every archive the JVM has open (Java 9+ keeps classpath jars
 *            open) or mapped (Java 8 maps their central directories), and
 *            its socket inodes, matched against net/{tcp,tcp6,udp,udp6} of
 *            the JVM's own network namespace for the ports it listens on
 *
 * Each archive is scanned with the ordinary scanner (nested jars in a fat
 * jar included).  The copy on disk is opened as the process sees it,
 * /proc/PID/root/PATH, so a containerised JVM is judged by its own
 * filesystem.  When that is no longer the file the JVM has loaded (the
 * mapping or the fd says "(deleted)", or dev/inode differ), the loaded bytes
 * are read through the kernel's handle for it, /proc/PID/fd/N or
 * /proc/PID/map_files/A-B (files, not memory), and classified too; the JVM
 * is "restart required" when the loaded copy is worse than the disk copy.
 * An archive (dev, inode) is scanned once however many JVMs have it.
 *
 * A JVM whose fds or maps cannot be read (another user's process when not
 * running as root) has status "unknown" and a note saying why; processes
 * that exit while being looked at are counted, never an error. */
#ifndef L4S_PROC_H
#define L4S_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/rules.h"
#include "scan/scan.h"
#include "util/buf.h"

struct proc_opts {
	bool read_environ; /* also look at LOG4J_* and JAVA_TOOL_OPTIONS in environ */
	/* Windows only (lib/proc/proc_win32.c finds processes from files): the trees
	 * whose Log4j-bearing archives are looked up; none: the files this run's
	 * scan found, else every fixed drive. */
	const char *const *roots;
	size_t nroots;
};

enum proc_status { PST_SAFE = 0, PST_MITIGATED = 1, PST_VULNERABLE = 2, PST_UNKNOWN = 3 };

struct proc_listen {
	char proto[4];   /* "tcp" or "udp" */
	char addr[48];
	unsigned port;
};

struct proc_jvm {
	long pid;
	char *user;
	char *command;
	char start_time[32];        /* 2026-11-27T20:00:00Z, "" if unknown */
	char *container;            /* NULL: none seen */
	struct proc_listen *listening;
	size_t nlistening;
	char **jars;                /* Log4j-bearing archives, as the process sees them */
	size_t njars;
	enum proc_status status;
	bool restart_required;
	char **mitigations;
	size_t nmitigations;
	char **notes;
	size_t nnotes;
	struct scan_batch batch;    /* its finding records (f.pid set) and errors */
};

struct proc_summary {
	unsigned long long processes, jvms, kernel_threads, exited, denied;
	unsigned long long restart_required;
	unsigned long long exposed;          /* vulnerable JVMs listening on a port */
	unsigned long long status[4];        /* JVMs by enum proc_status */
	unsigned long long findings[3];      /* finding records emitted, by enum status */
};

/* Called once per JVM, in pid order.  The callee may take ownership of the
 * records in j->batch (leaving it empty); everything else is freed after. */
typedef void (*proc_emit_fn)(void *ctx, struct proc_jvm *j);

/* Look at every process.  Archive scans are counted in st (files, archives,
 * bytes, errors; findings once per record emitted).  Returns 0, or -1 when
 * /proc cannot be listed at all. */
int proc_scan_all(const struct rules *r, const struct scan_opts *so, const struct proc_opts *po,
		  struct scan_stats *st, proc_emit_fn emit, void *ctx, struct proc_summary *sum);

/* Look at one process (emit is called only if it is a JVM).  Returns 1 JVM,
 * 0 not a JVM, -1 gone (exited or never existed). */
int proc_scan_one(long pid, const struct rules *r, const struct scan_opts *so,
		  const struct proc_opts *po, struct scan_stats *st, proc_emit_fn emit, void *ctx,
		  struct proc_summary *sum);

/* The container a /proc/PID/cgroup text names ("docker-<12 hex>",
 * "containerd-", "crio-", "podman-", "kubepods-", "lxc-<name>"), or NULL.
 * Caller frees. */
char *proc_container_id(const char *cgroup_text);


#endif
