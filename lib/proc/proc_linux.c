/* proc_linux.c - the process view, Linux (design in proc.h).
 *
 * One pass over /proc: for each pid, stat -> kernel thread? -> exe/maps ->
 * JVM?  Only JVMs are looked at further, so a host with thousands of
 * processes costs a few small reads per process.  Scan results are cached
 * by (dev, inode) for the run, and each JVM gets its own copies of the
 * records with its pid and its path for the archive.  What the command
 * line, the environment and the cgroup say is proc_cmdline_linux.c. */
#include "proc/proc.h"
#include "proc/proc_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "proc/procfs.h"

#define PF_KTHREAD_FLAG 0x00200000UL

/* ---- small helpers --------------------------------------------------- */

void proc_note(struct proc_jvm *j, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	strv_add(&j->notes, &j->nnotes, buf_cstr(&b));
	buf_free(&b);
}

static bool gone(int e)
{
	return e == ENOENT || e == ESRCH;
}

static bool alive(long pid)
{
	char *s;
	if (procfs_read(pid, "stat", 4096, &s) < 0)
		return false;
	free(s);
	return true;
}

const char *proc_base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Strip the " (deleted)" the kernel appends to unlinked files. */
static bool strip_deleted(char *p)
{
	static const char suf[] = " (deleted)";
	size_t n = strlen(p), k = sizeof suf - 1;
	if (n > k && !strcmp(p + n - k, suf)) {
		p[n - k] = 0;
		return true;
	}
	return false;
}

/* ---- the run's shared state ------------------------------------------ */

struct cached {
	dev_t dev;
	ino_t ino;
	char *path;             /* display path the records were made with */
	struct scan_batch batch;
	int worst;              /* enum status of the worst finding, -1 none */
	char summary[160];      /* "log4j-core 2.14.1 (vulnerable)" */
};


struct pctx {
	const struct rules *rules;
	const struct scan_opts *so;
	const struct proc_opts *po;
	struct scan_stats *st;       /* the caller's */
	struct scan_stats own;       /* the scanner's (findings counted per copy) */
	struct scanner *scanner;
	struct cached **cache;       /* each allocated alone: pointers stay valid */
	size_t ncache;
	struct netns *nets;
	size_t nnets;
	long long btime;
	long tck;
	long self;
	char self_pidns[64];
};

static void ctx_init(struct pctx *c, const struct rules *r, const struct scan_opts *so,
		     const struct proc_opts *po, struct scan_stats *st)
{
	memset(c, 0, sizeof *c);
	c->rules = r;
	c->so = so;
	c->po = po;
	c->st = st;
	c->tck = sysconf(_SC_CLK_TCK);
	if (c->tck <= 0)
		c->tck = 100;
	c->self = (long)getpid();
	if (procfs_readlink(c->self, "ns/pid", c->self_pidns, sizeof c->self_pidns) < 0)
		c->self_pidns[0] = 0;
	char *s;
	if (procfs_read(0, "stat", 1 << 20, &s) >= 0) {
		const char *b = strstr(s, "\nbtime ");
		if (b)
			c->btime = strtoll(b + 7, NULL, 10);
		free(s);
	}
	procfs_allow_environ(po && po->read_environ);
}

static void ctx_free(struct pctx *c)
{
	for (size_t i = 0; i < c->ncache; i++) {
		free(c->cache[i]->path);
		scan_batch_free(&c->cache[i]->batch);
		free(c->cache[i]);
	}
	free(c->cache);
	for (size_t i = 0; i < c->nnets; i++)
		free(c->nets[i].socks);
	free(c->nets);
	scanner_free(c->scanner);
	/* archive work into the caller's counters; findings were counted per copy */
	atomic_fetch_add(&c->st->files, (unsigned long long)c->own.files);
	atomic_fetch_add(&c->st->archives, (unsigned long long)c->own.archives);
	atomic_fetch_add(&c->st->bytes, (unsigned long long)c->own.bytes);
	atomic_fetch_add(&c->st->errors, (unsigned long long)c->own.errors);
	procfs_allow_environ(false);
}

/* ---- scanning archives, once each ------------------------------------ */

static struct cached *cache_find(struct pctx *c, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < c->ncache; i++)
		if (c->cache[i]->dev == dev && c->cache[i]->ino == ino)
			return c->cache[i];
	return NULL;
}

/* Scan the file behind (pid, what) unless this inode was scanned already.
 * NULL with errno when it cannot be opened. */
static struct cached *scan_once(struct pctx *c, long pid, const char *what, const char *display)
{
	struct stat st;
	if (procfs_stat_file(pid, what, &st) < 0)
		return NULL;
	struct cached *e = cache_find(c, st.st_dev, st.st_ino);
	if (e)
		return e;
	int fd = procfs_open_file(pid, what, &st);
	if (fd < 0)
		return NULL;
	if (!c->scanner && !(c->scanner = scanner_new(c->rules, c->so, &c->own))) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->cache = xrealloc(c->cache, (c->ncache + 1) * sizeof *c->cache);
	e = c->cache[c->ncache++] = xcalloc(1, sizeof *e);
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->path = xstrdup(display);
	e->worst = -1;
	scan_fd(c->scanner, fd, &st, display, true, &e->batch);
	close(fd);
	for (size_t i = 0; i < e->batch.n; i++) {
		const struct finding *f = &e->batch.rec[i].f;
		if (e->batch.rec[i].kind != REC_FINDING || (int)f->status <= e->worst)
			continue;
		e->worst = (int)f->status;
		snprintf(e->summary, sizeof e->summary, "%s %s (%s)", rules_component_name(f->comp),
			 f->version[0] ? f->version : "of unknown version", finding_status_name(f->status));
	}
	if (e->worst < 0)
		snprintf(e->summary, sizeof e->summary, "no Log4j");
	return e;
}

/* `display` with the prefix the cache entry was scanned under replaced by
 * this process's path for the same file. */
static char *repath(const struct cached *e, const char *p, const char *path)
{
	size_t n = strlen(e->path);
	struct buf b = BUF_INIT;
	buf_adds(&b, path);
	if (!strncmp(p, e->path, n))
		buf_adds(&b, p + n);
	return buf_detach(&b);
}

/* Give the JVM its own copies of a cached scan's records. */
static void add_records(struct pctx *c, struct proc_jvm *j, const struct cached *e, const char *path,
			const char *via)
{
	bool any = false;
	for (size_t i = 0; i < e->batch.n; i++) {
		const struct scan_record *s = &e->batch.rec[i];
		struct scan_batch *b = &j->batch;
		b->rec = xrealloc(b->rec, (b->n + 1) * sizeof *b->rec);
		struct scan_record *d = &b->rec[b->n++];
		memset(d, 0, sizeof *d);
		d->kind = s->kind;
		if (s->kind == REC_FINDING) {
			finding_copy(&d->f, &s->f);
			free(d->f.path);
			d->f.path = repath(e, s->f.path, path);
			d->f.pid = j->pid;
			if (via)
				finding_add_evidence(&d->f, "%s", via);
			atomic_fetch_add(&c->st->findings[d->f.status], 1);
			any = true;
		} else {
			d->path = repath(e, s->path, path);
			d->msg = xstrdup(s->msg);
		}
	}
	if (any)
		strv_add(&j->jars, &j->njars, path);
}

/* ---- what the JVM has open or mapped --------------------------------- */

static void cand_add(struct cands *cs, const char *path, bool deleted, const char *what, bool have_id,
		     dev_t dev, ino_t ino, const struct stat *st)
{
	for (size_t i = 0; i < cs->n; i++) {
		struct cand *o = &cs->v[i];
		if (have_id && o->have_id ? (o->dev == dev && o->ino == ino)
					  : (!strcmp(o->path, path) && o->deleted == deleted))
			return;
	}
	cs->v = xrealloc(cs->v, (cs->n + 1) * sizeof *cs->v);
	struct cand *x = &cs->v[cs->n++];
	memset(x, 0, sizeof *x);
	x->path = xstrdup(path);
	x->deleted = deleted;
	snprintf(x->what, sizeof x->what, "%s", what);
	x->have_id = have_id;
	x->dev = dev;
	x->ino = ino;
	if (st) {
		x->st = *st;
		x->have_st = true;
	}
}

void proc_cands_free(struct cands *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->v[i].path);
	free(cs->v);
}

struct ulongs {
	unsigned long *v;
	size_t n;
};

/* Returns 0, or -1 with errno and the name that could not be read in
 * failed ("fd" itself, or the first fd/N whose link the kernel refused: on
 * Linux both are ptrace-read checks, so without CAP_SYS_PTRACE another
 * user's or a more privileged process's fds list but do not resolve). */
static int read_fds(long pid, struct cands *cs, struct ulongs *socks, char failed[64])
{
	snprintf(failed, 64, "fd");
	DIR *d = procfs_opendir(pid, "fd");
	if (!d)
		return -1;
	struct dirent *de;
	char what[64], target[4096];
	int err = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) > 20)
			continue;
		snprintf(what, sizeof what, "fd/%.20s", de->d_name);
		if (procfs_readlink(pid, what, target, sizeof target) < 0) {
			/* ENOENT: closed since the listing; anything else hides a file */
			if (!gone(errno) && !err) {
				err = errno;
				snprintf(failed, 64, "%s", what);
			}
			continue;
		}
		unsigned long ino;
		char tail;
		if (sscanf(target, "socket:[%lu%c", &ino, &tail) == 2 && tail == ']') {
			socks->v = xrealloc(socks->v, (socks->n + 1) * sizeof *socks->v);
			socks->v[socks->n++] = ino;
			continue;
		}
		if (target[0] != '/')
			continue;
		bool del = strip_deleted(target);
		const char *b = proc_base_name(target);
		if (!scan_archive_name(b, strlen(b)))
			continue;
		struct stat st;
		bool id = procfs_stat_file(pid, what, &st) == 0;
		cand_add(cs, target, del, what, id, id ? st.st_dev : 0, id ? st.st_ino : 0, id ? &st : NULL);
	}
	closedir(d);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* What to do about a /proc file the kernel would not let us read. */
static const char *privilege_hint(int e)
{
	if (e != EACCES && e != EPERM)
		return "";
	return geteuid() ? "; run log4scan as root to inspect it"
			 : "; reading another process's fd/, maps and map_files/ needs CAP_SYS_PTRACE "
			   "(map_files/ also CAP_CHECKPOINT_RESTORE), which this run lacks";
}

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "?";
}

/* Parse maps: archives mapped (Java 8), and whether libjvm.so is. */
void proc_parse_maps(char *maps, struct cands *cs, bool *libjvm)
{
	for (char *line = maps, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		unsigned long long a, z, off, ino;
		unsigned maj, min;
		char perms[8];
		int pos = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &a, &z, perms, &off, &maj, &min, &ino,
			   &pos) < 7 || !pos)
			continue;
		char *path = line + pos;
		if (path[0] != '/')
			continue;
		if (libjvm) {
			const char *b = proc_base_name(path);
			if (!strncmp(b, "libjvm.so", 9))
				*libjvm = true;
		}
		if (!cs)
			continue;
		bool del = strip_deleted(path);
		const char *b = proc_base_name(path);
		if (!scan_archive_name(b, strlen(b)))
			continue;
		char what[64];
		snprintf(what, sizeof what, "map_files/%llx-%llx", a, z);
		cand_add(cs, path, del, what, true, makedev(maj, min), (ino_t)ino, NULL);
	}
}

/* ---- listening sockets ----------------------------------------------- */

void proc_parse_net(struct netns *ns, const char *text, const char *proto, bool v6, unsigned want)
{
	const char *line = strchr(text, '\n'); /* skip the header */
	while (line && *++line) {
		char la[40];
		unsigned lport, st;
		unsigned long ino;
		/* sscanf() measures the string it is given: on the table itself,
		 * each line would cost the length of the rest (quadratic on a host
		 * with 100,000 sockets).  A line of the kernel's is < 200 bytes. */
		char one[512];
		size_t ll = strcspn(line, "\n");
		snprintf(one, sizeof one, "%.*s", (int)(ll < sizeof one ? ll : sizeof one - 1), line);
		if (sscanf(one, "%*s %39[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %lu", la, &lport, &st,
			   &ino) == 4 &&
		    st == want && ino && lport <= 0xFFFF) { /* a port, not a mangled line */
			struct proc_listen l = {.port = lport};
			snprintf(l.proto, sizeof l.proto, "%s", proto);
			if (v6 && strlen(la) == 32) {
				struct in6_addr a6;
				for (int w = 0; w < 4; w++) {
					char word[9];
					memcpy(word, la + 8 * w, 8);
					word[8] = 0;
					uint32_t x = (uint32_t)strtoul(word, NULL, 16);
					memcpy(&a6.s6_addr[4 * w], &x, 4);
				}
				if (IN6_IS_ADDR_V4MAPPED(&a6)) /* a dual-stack socket bound to an IPv4 address */
					inet_ntop(AF_INET, &a6.s6_addr[12], l.addr, sizeof l.addr);
				else
					inet_ntop(AF_INET6, &a6, l.addr, sizeof l.addr);
			} else if (!v6 && strlen(la) == 8) {
				struct in_addr a4;
				a4.s_addr = (uint32_t)strtoul(la, NULL, 16);
				inet_ntop(AF_INET, &a4, l.addr, sizeof l.addr);
			} else {
				line = strchr(line, '\n');
				continue;
			}
			ns->socks = xrealloc(ns->socks, (ns->n + 1) * sizeof *ns->socks);
			ns->socks[ns->n].ino = ino;
			ns->socks[ns->n++].l = l;
		}
		line = strchr(line, '\n');
	}
}

static const struct netns *net_of(struct pctx *c, long pid)
{
	char id[64];
	if (procfs_readlink(pid, "ns/net", id, sizeof id) < 0)
		snprintf(id, sizeof id, "pid:%ld", pid);
	for (size_t i = 0; i < c->nnets; i++)
		if (!strcmp(c->nets[i].id, id))
			return &c->nets[i];
	c->nets = xrealloc(c->nets, (c->nnets + 1) * sizeof *c->nets);
	struct netns *ns = &c->nets[c->nnets++];
	memset(ns, 0, sizeof *ns);
	snprintf(ns->id, sizeof ns->id, "%s", id);
	static const struct {
		const char *file, *proto;
		bool v6;
		unsigned state;
	} tab[] = {{"net/tcp", "tcp", false, 0x0A}, {"net/tcp6", "tcp", true, 0x0A},
		   {"net/udp", "udp", false, 0x07}, {"net/udp6", "udp", true, 0x07}};
	for (size_t i = 0; i < 4; i++) {
		char *t;
		if (procfs_read(pid, tab[i].file, PROC_TEXT_MAX, &t) < 0)
			continue;
		proc_parse_net(ns, t, tab[i].proto, tab[i].v6, tab[i].state);
		free(t);
	}
	return ns;
}

static void find_listening(struct pctx *c, struct proc_jvm *j, const struct ulongs *socks)
{
	if (!socks->n)
		return;
	const struct netns *ns = net_of(c, j->pid);
	for (size_t i = 0; i < ns->n; i++) {
		bool mine = false;
		for (size_t k = 0; k < socks->n && !mine; k++)
			mine = socks->v[k] == ns->socks[i].ino;
		if (!mine)
			continue;
		const struct proc_listen *l = &ns->socks[i].l;
		bool dup = false;
		for (size_t k = 0; k < j->nlistening && !dup; k++)
			dup = j->listening[k].port == l->port && !strcmp(j->listening[k].proto, l->proto) &&
			      !strcmp(j->listening[k].addr, l->addr);
		if (dup)
			continue;
		j->listening = xrealloc(j->listening, (j->nlistening + 1) * sizeof *j->listening);
		j->listening[j->nlistening++] = *l;
	}
}

/* ---- one process ----------------------------------------------------- */

static void jvm_free(struct proc_jvm *j)
{
	free(j->user);
	free(j->command);
	free(j->container);
	free(j->listening);
	strv_free(j->jars, j->njars);
	strv_free(j->mitigations, j->nmitigations);
	strv_free(j->notes, j->nnotes);
	scan_batch_free(&j->batch);
}

/* Look at one archive the JVM has loaded. */
struct given {
	const struct cached **v;
	size_t n;
};

/* Has this JVM already been given the records of cache entry e? */
static bool already(struct given *g, const struct cached *e)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i] == e)
			return true;
	g->v = xrealloc(g->v, (g->n + 1) * sizeof *g->v);
	g->v[g->n++] = e;
	return false;
}

static void examine(struct pctx *c, struct proc_jvm *j, const struct cand *cd, double started,
		    int *worst, bool *incomplete, struct given *g)
{
	char rootwhat[4200];
	const char *rel = cd->path;
	while (*rel == '/')
		rel++;
	snprintf(rootwhat, sizeof rootwhat, "root/%s", rel);
	struct stat disk;
	bool on_disk = procfs_stat_file(j->pid, rootwhat, &disk) == 0;
	struct stat loaded = cd->st;
	bool have_st = cd->have_st;
	if (!have_st && procfs_stat_file(j->pid, cd->what, &loaded) == 0)
		have_st = true;
	/* Same file: same (dev, inode).  A mapping on overlayfs names the
	 * inode of the layer below while a path names the overlay's, so equal
	 * size and mtime also count as the same file. */
	bool same = false;
	if (on_disk && !cd->deleted) {
		if (have_st)
			same = (loaded.st_dev == disk.st_dev && loaded.st_ino == disk.st_ino) ||
			       (loaded.st_size == disk.st_size && loaded.st_mtim.tv_sec == disk.st_mtim.tv_sec &&
				loaded.st_mtim.tv_nsec == disk.st_mtim.tv_nsec);
		else
			same = !cd->have_id || (cd->dev == disk.st_dev && cd->ino == disk.st_ino);
	}

	if (same) {
		struct cached *e = scan_once(c, j->pid, rootwhat, cd->path);
		if (!e)
			e = scan_once(c, j->pid, cd->what, cd->path);
		if (!e) {
			int err = errno;
			proc_note(j, "%s: cannot be read through /proc/%ld/%s: %s (%s)%s", cd->path, j->pid, cd->what,
			     strerror(err), errno_name(err), privilege_hint(err));
			*incomplete = true;
			return;
		}
		if (already(g, e))
			return;
		add_records(c, j, e, cd->path, NULL);
		if (e->worst > *worst)
			*worst = e->worst;
		if (started > 0 && (double)disk.st_mtime > started && e->worst >= 0)
			proc_note(j, "%s was modified in place after the JVM started; the JVM may still run "
				"classes loaded from the previous content (restart to be sure)",
			     cd->path);
		return;
	}

	/* The loaded copy is not the file at its path any more. */
	struct cached *old = scan_once(c, j->pid, cd->what, cd->path);
	if (!old) {
		int e = errno;
		proc_note(j, "%s: the loaded copy (%s on disk) cannot be read through /proc/%ld/%s: %s (%s)%s", cd->path,
		     on_disk ? "replaced" : "deleted", j->pid, cd->what, strerror(e), errno_name(e),
		     privilege_hint(e));
		*incomplete = true;
		return;
	}
	if (already(g, old))
		return;
	char via[400];
	snprintf(via, sizeof via,
		 "loaded copy read through /proc/%ld/%s: the file at this path was %s after the JVM "
		 "opened it",
		 j->pid, cd->what, on_disk ? "replaced" : "deleted");
	add_records(c, j, old, cd->path, via);
	if (old->worst > *worst)
		*worst = old->worst;
	struct cached *now = on_disk ? scan_once(c, j->pid, rootwhat, cd->path) : NULL;
	int now_worst = now ? now->worst : -1;
	if (on_disk && !now) {
		int e = errno;
		proc_note(j, "%s: the disk copy cannot be read: %s (%s)", cd->path, strerror(e), errno_name(e));
		return;
	}
	if (old->worst > (now_worst < 0 ? (int)ST_SAFE : now_worst) && old->worst > (int)ST_SAFE) {
		j->restart_required = true;
		proc_note(j, "restart required: the JVM runs %s from %s, which has since been %s%s", old->summary,
		     cd->path, on_disk ? "replaced on disk by " : "deleted from disk",
		     on_disk ? now->summary : "");
	} else if (old->worst >= 0) {
		proc_note(j, "%s was %s on disk after the JVM opened it (loaded: %s%s%s)", cd->path,
		     on_disk ? "replaced" : "deleted", old->summary, on_disk ? "; on disk now: " : "",
		     on_disk ? now->summary : "");
	}
}

static int cmp_listen(const void *a, const void *b)
{
	const struct proc_listen *x = a, *y = b;
	int r = strcmp(x->proto, y->proto);
	if (r)
		return r;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return strcmp(x->addr, y->addr);
}

/* What one process is, from /proc/PID/stat: its name (comm) and start
 * time.  -1 it is gone or unreadable (counted), 0 it is not to be looked
 * at (a kernel thread, a zombie, this process), 1 go on. */
static int inspect_stat(struct pctx *c, long pid, struct proc_summary *sum, char comm[64],
			unsigned long long *start)
{
	char *stat;
	if (procfs_read(pid, "stat", 4096, &stat) < 0) {
		if (gone(errno))
			sum->exited++;
		else
			sum->denied++;
		return -1;
	}
	/* pid (comm) state ppid ... : comm may hold anything, so parse from the last ')' */
	char *rp = strrchr(stat, ')');
	char *lp = strchr(stat, '(');
	if (lp && rp && rp > lp)
		snprintf(comm, 64, "%.*s", (int)(rp - lp - 1), lp + 1);
	char state = 0;
	unsigned long flags = 0;
	if (rp)
		sscanf(rp + 1, " %c %*d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		       &state, &flags, start);
	free(stat);
	if (flags & PF_KTHREAD_FLAG) {
		sum->kernel_threads++;
		return 0;
	}
	if (state == 'Z' || state == 'X' || pid == c->self)
		return 0;
	return 1;
}

/* Is it a JVM?  Its executable is java or javaw, or it maps libjvm.so; for
 * another user's process, whose exe cannot be read, its name or command
 * line says java.  -1 it is gone (counted), 0 not a JVM, 1 a JVM: exe
 * ("" when unreadable), the maps when already read (*maps, or NULL) and the
 * command line (*cl, *cllen as procfs_read returned) are the caller's. */
static int inspect_is_jvm(long pid, struct proc_summary *sum, const char *comm, char exe[4096], char **maps,
			  char **cl, long *cllen)
{
	bool java = false, denied = false, libjvm = false;
	*maps = NULL;
	*cl = NULL;
	if (procfs_readlink(pid, "exe", exe, 4096) >= 0) {
		strip_deleted(exe);
		const char *b = proc_base_name(exe);
		java = !strcmp(b, "java") || !strcmp(b, "javaw");
		if (!java) {
			if (procfs_read(pid, "maps", PROC_TEXT_MAX, maps) >= 0) {
				char *m = xstrdup(*maps);
				proc_parse_maps(m, NULL, &libjvm);
				free(m);
				java = libjvm;
			} else if (gone(errno)) {
				sum->exited++;
				return -1;
			}
		}
	} else if (gone(errno) && !alive(pid)) {
		sum->exited++;
		return -1;
	} else {
		/* EACCES: another user's process (or one the kernel protects);
		 * ENOENT while alive: no executable to name */
		denied = errno == EACCES || errno == EPERM;
		exe[0] = 0;
	}

	if (exe[0] && !java) {
		free(*maps);
		*maps = NULL;
		return 0;
	}
	*cllen = procfs_read(pid, "cmdline", 1 << 20, cl);
	if (!exe[0]) {
		/* Another user's process: the command line is all there is to go on. */
		java = !strcmp(comm, "java") ||
		       (*cllen > 0 && (!strcmp(proc_base_name(*cl), "java") || !strcmp(proc_base_name(*cl), "javaw")));
		if (!java) {
			if (denied)
				sum->denied++;
			free(*cl);
			*cl = NULL;
			return 0;
		}
	}
	if (!java) {
		free(*cl);
		free(*maps);
		*cl = *maps = NULL;
		return 0;
	}
	return 1;
}

/* Who the JVM is: its command (cmdline, taken over), user, start time,
 * container, and with --read-environ its LOG4J_* variables.  Returns its
 * start in seconds since the epoch (0 unknown). */
static double inspect_identity(struct pctx *c, struct proc_jvm *j, const char *comm, const char *exe, char *cl,
			       long cllen, unsigned long long start, bool *incomplete)
{
	long pid = j->pid;
	if (cllen > 0)
		proc_parse_cmdline(j, cl, (size_t)cllen, exe[0] ? exe : NULL);
	else
		j->command = xstrdup(exe[0] ? exe : comm);
	free(cl);
	if (cllen < 0 && gone(errno)) {
		proc_note(j, "the process exited while being inspected");
		*incomplete = true;
	}

	char *status;
	long uid = -1;
	if (procfs_read(pid, "status", 1 << 16, &status) >= 0) {
		const char *u = strstr(status, "\nUid:");
		if (u)
			uid = strtol(u + 5, NULL, 10);
		free(status);
	}
	proc_set_user(j, uid);

	if (c->btime > 0 && start > 0) {
		time_t t = (time_t)(c->btime + (long long)(start / (unsigned long long)c->tck));
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(j->start_time, sizeof j->start_time, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	double started = c->btime > 0 ? (double)c->btime + (double)start / (double)c->tck : 0;

	char *cg;
	if (procfs_read(pid, "cgroup", 1 << 16, &cg) >= 0) {
		j->container = proc_container_id(cg);
		free(cg);
	}
	if (!j->container && c->self_pidns[0]) {
		char ns[64];
		unsigned long long id;
		if (procfs_readlink(pid, "ns/pid", ns, sizeof ns) >= 0 && strcmp(ns, c->self_pidns) &&
		    sscanf(ns, "pid:[%llu]", &id) == 1) {
			char out[48];
			snprintf(out, sizeof out, "pidns:%llu", id);
			j->container = xstrdup(out);
		}
	}

	if (c->po && c->po->read_environ)
		proc_check_environ(j);
	return started;
}

/* What it has open and mapped (maps: already read, taken over, or NULL),
 * into cs, and its sockets' inodes.  Anything here that cannot be read
 * leaves the JVM "unknown", never "safe": its jars are not known. */
static void inspect_files(struct proc_jvm *j, struct proc_summary *sum, char *maps, struct cands *cs,
			  struct ulongs *socks, bool *incomplete)
{
	long pid = j->pid;
	char failed[64];
	if (read_fds(pid, cs, socks, failed) < 0) {
		int e = errno;
		if (gone(e)) {
			proc_note(j, "the process exited while being inspected");
		} else {
			proc_note(j, "cannot read /proc/%ld/%s: %s (%s): its open jars and ports are unknown%s", pid,
				  failed, strerror(e), errno_name(e), privilege_hint(e));
			sum->denied++;
		}
		*incomplete = true;
	}
	if (!maps && procfs_read(pid, "maps", PROC_TEXT_MAX, &maps) < 0) {
		int e = errno;
		if (gone(e)) {
			proc_note(j, "the process exited while being inspected");
		} else {
			proc_note(j, "cannot read /proc/%ld/maps: %s (%s): its mapped jars are unknown%s", pid,
				  strerror(e), errno_name(e), privilege_hint(e));
		}
		*incomplete = true;
		maps = NULL;
	}
	if (maps)
		proc_parse_maps(maps, cs, NULL);
	free(maps);
}

/* The archives it holds, scanned (once per run each), its listening
 * sockets, and its status from them. */
static void inspect_judge(struct pctx *c, struct proc_jvm *j, struct cands *cs, struct ulongs *socks,
			  double started, bool incomplete)
{
	int worst = -1;
	struct given g = {0};
	for (size_t i = 0; i < cs->n; i++)
		examine(c, j, &cs->v[i], started, &worst, &incomplete, &g);
	free(g.v);

	find_listening(c, j, socks);
	if (j->nlistening > 1)
		qsort(j->listening, j->nlistening, sizeof *j->listening, cmp_listen);

	if (worst == (int)ST_VULNERABLE)
		j->status = PST_VULNERABLE;
	else if (incomplete)
		j->status = PST_UNKNOWN;
	else
		j->status = worst < 0 ? PST_SAFE : (enum proc_status)worst;
}

static void inspect_count(const struct proc_jvm *j, struct proc_summary *sum)
{
	if (j->status == PST_VULNERABLE && j->nlistening)
		sum->exposed++;
	sum->status[j->status]++;
	if (j->restart_required)
		sum->restart_required++;
	for (size_t i = 0; i < j->batch.n; i++)
		if (j->batch.rec[i].kind == REC_FINDING)
			sum->findings[j->batch.rec[i].f.status]++;
}

/* One process: is it a JVM, who is it, what does it hold, what does that
 * make it; one record emitted.  -1 it could not be looked at, 0 not a JVM,
 * 1 a JVM. */
static int inspect(struct pctx *c, long pid, proc_emit_fn emit, void *ctx, struct proc_summary *sum)
{
	sum->processes++;
	char comm[64] = "";
	unsigned long long start = 0;
	int rc = inspect_stat(c, pid, sum, comm, &start);
	if (rc <= 0)
		return rc;
	char exe[4096], *maps, *cl;
	long cllen = -1;
	rc = inspect_is_jvm(pid, sum, comm, exe, &maps, &cl, &cllen);
	if (rc <= 0)
		return rc;

	sum->jvms++;
	struct proc_jvm j = {.pid = pid};
	bool incomplete = false;
	double started = inspect_identity(c, &j, comm, exe, cl, cllen, start, &incomplete);
	struct cands cs = {0};
	struct ulongs socks = {0};
	inspect_files(&j, sum, maps, &cs, &socks, &incomplete);
	inspect_judge(c, &j, &cs, &socks, started, incomplete);
	proc_cands_free(&cs);
	free(socks.v);
	inspect_count(&j, sum);
	emit(ctx, &j);
	jvm_free(&j);
	return 1;
}

int proc_scan_one(long pid, const struct rules *r, const struct scan_opts *so,
		  const struct proc_opts *po, struct scan_stats *st, proc_emit_fn emit, void *ctx,
		  struct proc_summary *sum)
{
	struct pctx c;
	ctx_init(&c, r, so, po, st);
	int rc = inspect(&c, pid, emit, ctx, sum);
	ctx_free(&c);
	return rc;
}

int proc_scan_all(const struct rules *r, const struct scan_opts *so, const struct proc_opts *po,
		  struct scan_stats *st, proc_emit_fn emit, void *ctx, struct proc_summary *sum)
{
	long *pids;
	long n = procfs_list_pids(&pids);
	if (n < 0)
		return -1;
	struct pctx c;
	ctx_init(&c, r, so, po, st);
	for (long i = 0; i < n; i++)
		inspect(&c, pids[i], emit, ctx, sum);
	ctx_free(&c);
	free(pids);
	return 0;
}

/* The records and text blocks (proc_jvm_json ...) are in lib/report/proc_report.c,
 * shared with the Windows process view. */
