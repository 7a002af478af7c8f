/* proc_internal.h - the parsers of the Linux process view (proc_linux.c,
 * proc_cmdline_linux.c) for what any local user controls: a JVM's
 * /proc/PID/cmdline, maps (file names), the net/tcp, tcp6, udp and udp6
 * tables, and cgroup (proc_container_id() in proc.h).  They read text
 * already in memory and do no I/O; they are exposed so that
 * fuzz/fuzz_proc.c can feed them arbitrary bytes.  And the few helpers
 * those two files share. */
#ifndef L4S_PROC_INTERNAL_H
#define L4S_PROC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "proc/proc.h"

/* An archive a JVM has open or mapped. */
struct cand {
	char *path;          /* as the process sees it, " (deleted)" stripped */
	bool deleted;
	char what[64];       /* the kernel handle: fd/N or map_files/A-B */
	dev_t dev;
	ino_t ino;
	bool have_id;
	struct stat st;      /* of the loaded file, when have_st */
	bool have_st;
};

struct cands {
	struct cand *v;
	size_t n;
};
void proc_cands_free(struct cands *cs);

/* The listening sockets of one network namespace. */
struct netns {
	char id[64];
	struct sock { unsigned long ino; struct proc_listen l; } *socks;
	size_t n;
};

/* maps (NUL-terminated, modified in place): archives mapped (added to cs
 * when not NULL), and whether libjvm.so is (*libjvm, when not NULL). */
void proc_parse_maps(char *maps, struct cands *cs, bool *libjvm);
/* A net/tcp|tcp6|udp|udp6 table (NUL-terminated): the sockets in state
 * `want` (0x0A listening TCP, 0x07 bound UDP) are appended to ns->socks
 * with proto and an address of the family v6 says. */
void proc_parse_net(struct netns *ns, const char *text, const char *proto, bool v6, unsigned want);
/* cmdline (len bytes, NUL-separated arguments): j->command (the main class,
 * -jar JAR or module; else argv[0], else exe, else "?"), and the
 * mitigations and notes the Log4j properties and agents on it call for. */
void proc_parse_cmdline(struct proc_jvm *j, const char *cl, size_t len, const char *exe);

/* Shared by the Linux process view's two files (proc_linux.c,
 * proc_cmdline_linux.c). */
/* The most read of one /proc text (maps, environ, net tables). */
#define PROC_TEXT_MAX (16u << 20)
/* Add a note to the JVM's record. */
void proc_note(struct proc_jvm *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last component of a path. */
const char *proc_base_name(const char *p);
/* With --read-environ: the LOG4J_* variables of the JVM's environment that
 * mitigate, as mitigations and notes. */
void proc_check_environ(struct proc_jvm *j);
/* j->user from the uid (the name when the passwd database has it). */
void proc_set_user(struct proc_jvm *j, long uid);

#endif
