/* walk.c - the parallel tree walk (see walk.h).
 *
 * Producer/consumer: walk_tree() runs in the calling thread and pushes jobs
 * (a file path, or an exploded class directory) into a bounded ring; worker
 * threads pop jobs, scan, and hand each file's batch to the emit callback
 * under one output mutex — the only lock on the hot path besides the queue's.
 * With --follow-symlinks every directory's (device, inode) is remembered, so
 * a symlink loop is visited once and reported, never walked forever. */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

#define QUEUE_CAP 4096
#define DIRBUF_SIZE 32768
#define PUSH_BATCH 64 /* see flush_jobs() */

/* JOB_FILE: a regular file a directory listing showed (opened directly);
 * JOB_NAMED: a path named on the command line, which may be anything (a
 * FIFO, a device) and is checked before it is opened. */
enum job_kind { JOB_FILE, JOB_NAMED, JOB_CLASSDIR, JOB_IMAGEDIR, JOB_STOP };

struct job {
	enum job_kind kind;
	char *path;
};

struct mount_skip {
	char *path;
	char *reason;
	bool network;
};

struct walker {
	const struct walk_opts *wo;
	const struct rules *rules;
	const struct scan_opts *so;
	struct scan_stats *st;
	walk_emit_fn emit;
	void *ctx;
	struct walk_result *res;

	pthread_mutex_t qlock, outlock;
	pthread_cond_t qnotempty, qnotfull;
	struct job ring[QUEUE_CAP];
	size_t head, count;
	int idle;          /* workers waiting for a job */
	bool walker_waits; /* the walker waits for room */
	int nthreads;
	struct job pend[PUSH_BATCH]; /* the walker's jobs not yet queued */
	size_t npend;

	/* getdents64 buffer: one listing is read at a time (sub-directories
	 * are walked after their parent's listing is closed). */
	char *dirbuf;

	struct mount_skip *mounts;
	size_t nmounts;
	dev_t root_dev;

	atomic_ullong not_reached;

	/* visited directories when following symlinks */
	struct {
		dev_t dev;
		ino_t ino;
	} *seen;
	size_t nseen, capseen;
};

/* The queue is handed over in batches: the walker collects up to
 * PUSH_BATCH jobs (or a directory's worth) before taking the lock once, and
 * a worker takes up to its share of the waiting jobs (at most POP_BATCH) at
 * a time.  A lock and a wake-up per file cost more than the walk itself
 * (two system calls and a context switch each on this kind of machine). */
#define POP_BATCH 8
#define QUEUE_LOW_WATER 1024

static void flush_jobs(struct walker *w)
{
	if (!w->npend)
		return;
	pthread_mutex_lock(&w->qlock);
	for (size_t i = 0; i < w->npend; i++) {
		if (w->count == QUEUE_CAP) {
			if (w->idle)
				pthread_cond_broadcast(&w->qnotempty);
			w->walker_waits = true;
			while (w->walker_waits)
				pthread_cond_wait(&w->qnotfull, &w->qlock);
		}
		w->ring[(w->head + w->count) % QUEUE_CAP] = w->pend[i];
		w->count++;
	}
	w->npend = 0;
	if (w->idle)
		pthread_cond_broadcast(&w->qnotempty);
	pthread_mutex_unlock(&w->qlock);
}

static void push(struct walker *w, enum job_kind k, char *path)
{
	w->pend[w->npend++] = (struct job){k, path};
	if (w->npend == PUSH_BATCH)
		flush_jobs(w);
}

/* Up to max jobs into out; returns how many (at least one). */
static size_t pop(struct walker *w, struct job *out, size_t max)
{
	pthread_mutex_lock(&w->qlock);
	while (w->count == 0) {
		w->idle++;
		pthread_cond_wait(&w->qnotempty, &w->qlock);
		w->idle--;
	}
	size_t share = w->count / (size_t)w->nthreads;
	size_t n = share < 1 ? 1 : share < max ? share : max;
	for (size_t i = 0; i < n; i++) {
		out[i] = w->ring[w->head];
		w->head = (w->head + 1) % QUEUE_CAP;
		w->count--;
	}
	/* A full queue means the walker is ahead: let it sleep until there is
	 * room for many jobs, not one (a wake-up per pop is a ping-pong). */
	if (w->walker_waits && w->count <= QUEUE_CAP - QUEUE_LOW_WATER) {
		w->walker_waits = false;
		pthread_cond_signal(&w->qnotfull);
	}
	pthread_mutex_unlock(&w->qlock);
	return n;
}

static void deliver(struct walker *w, struct scan_batch *b)
{
	pthread_mutex_lock(&w->outlock);
	w->emit(w->ctx, b);
	pthread_mutex_unlock(&w->outlock);
	batch_free(b);
}

/* A file whose cached records are reused counts as examined. */
static void count_cached(struct walker *w, const struct stat *st, const struct scan_batch *b)
{
	atomic_fetch_add(&w->st->files, 1);
	atomic_fetch_add(&w->st->bytes, (unsigned long long)st->st_size);
	for (size_t i = 0; i < b->n; i++) {
		if (b->rec[i].kind == REC_FINDING)
			atomic_fetch_add(&w->st->findings[b->rec[i].f.status], 1);
		else
			atomic_fetch_add(&w->st->errors, 1);
	}
}

/* --cache: a file whose identity matches the cache is answered by the
 * walker itself, with an fstatat relative to the directory it is listing
 * (no path lookup, no queueing): a re-scan of an unchanged tree then costs
 * little more than the walk.  False: queue the file for a worker. */
static bool cached_here(struct walker *w, int dirfd, const char *name, const char *path)
{
	struct cache *c = w->wo->cache;
	if (!c || governor_expired(w->wo->gov))
		return false;
	struct stat st;
	if (fstatat(dirfd, name, &st, w->wo->follow_symlinks ? 0 : AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return false;
	struct scan_batch b = {0};
	if (!cache_lookup(c, w->rules, path, &st, &b))
		return false;
	count_cached(w, &st, &b);
	if (b.n)
		deliver(w, &b);
	else
		batch_free(&b);
	return true;
}

static void scan_file_job(struct walker *w, struct scanner *s, const char *path, struct scan_batch *b)
{
	struct cache *c = w->wo->cache; /* the walker looked it up already */
	struct stat st;
	bool follow = w->wo->follow_symlinks;
	/* Stored under the identity seen when opening, before reading: a file
	 * that changes while it is scanned is scanned again next time. */
	if (scan_regular(s, path, follow, &st, b) && c)
		cache_store(c, path, &st, b);
}

static void run_job(struct walker *w, struct scanner *s, struct job j)
{
	if (governor_expired(w->wo->gov)) {
		atomic_fetch_add(&w->not_reached, 1);
		free(j.path);
		return;
	}
	struct scan_batch b = {0};
	if (!s)
		batch_add_error(&b, j.path, "out of memory for a decompressor");
	else if (j.kind == JOB_FILE)
		scan_file_job(w, s, j.path, &b);
	else if (j.kind == JOB_NAMED)
		scan_path(s, j.path, true, &b);
	else if (j.kind == JOB_IMAGEDIR)
		image_scan_dir(s, j.path, &b);
	else
		scan_class_dir(s, j.path, &b);
	if (b.n)
		deliver(w, &b);
	free(j.path);
	governor_pace(w->wo->gov);
}

static void *worker(void *arg)
{
	struct walker *w = arg;
	struct scanner *s = scanner_new(w->rules, w->so, w->st);
	struct job jobs[POP_BATCH];
	bool stop = false;
	while (!stop) {
		size_t n = pop(w, jobs, POP_BATCH);
		for (size_t i = 0; i < n; i++) {
			if (jobs[i].kind == JOB_STOP)
				stop = true; /* one STOP per worker, queued last */
			else
				run_job(w, s, jobs[i]);
		}
	}
	scanner_free(s);
	return NULL;
}

static void add_skipped(struct walker *w, const char *path, const char *fmt, const char *arg)
{
	struct walk_result *r = w->res;
	r->skipped = xrealloc(r->skipped, (r->nskipped + 1) * sizeof *r->skipped);
	r->skipped[r->nskipped].path = xstrdup(path);
	struct buf b = BUF_INIT;
	buf_printf(&b, fmt, arg ? arg : "");
	r->skipped[r->nskipped].reason = buf_detach(&b);
	r->nskipped++;
}

const char *fs_skip_reason(const char *t)
{
	static const char *pseudo[] = {"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2",
				       "debugfs", "tracefs", "securityfs", "pstore", "bpf", "configfs",
				       "fusectl", "mqueue", "hugetlbfs", "binfmt_misc", "rpc_pipefs",
				       "nsfs", "autofs", "efivarfs", "selinuxfs"};
	static const char *network[] = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "sshfs",
					"9p", "ceph", "glusterfs", "fuse.glusterfs", "lustre", "afs",
					"davfs", "fuse.s3fs", "gfs2", "ocfs2", "ncpfs", "coda"};
	for (size_t i = 0; i < sizeof pseudo / sizeof pseudo[0]; i++)
		if (!strcmp(t, pseudo[i]))
			return "pseudo filesystem (%s)";
	for (size_t i = 0; i < sizeof network / sizeof network[0]; i++)
		if (!strcmp(t, network[i]))
			return "network filesystem (%s)";
	return NULL;
}

/* /proc/self/mountinfo: field 5 is the mount point (octal-escaped), after
 * " - " come the filesystem type and source. */
static void load_mounts(struct walker *w)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char *fields[6] = {0};
		char *save, *p = line;
		for (int i = 0; i < 5 && (fields[i] = strtok_r(p, " ", &save)); i++)
			p = NULL;
		char *dash = strstr(save ? save : "", "- ");
		if (!fields[4] || !dash)
			continue;
		char *type = strtok_r(dash + 2, " ", &save);
		if (!type)
			continue;
		const char *why = fs_skip_reason(type);
		if (!why)
			continue;
		/* unescape \040 etc. */
		char *m = fields[4], *o = m;
		for (char *q = m; *q; q++) {
			if (q[0] == '\\' && q[1] >= '0' && q[1] <= '3' && q[2] && q[3]) {
				*o++ = (char)((q[1] - '0') * 64 + (q[2] - '0') * 8 + (q[3] - '0'));
				q += 3;
			} else {
				*o++ = *q;
			}
		}
		*o = 0;
		w->mounts = xrealloc(w->mounts, (w->nmounts + 1) * sizeof *w->mounts);
		w->mounts[w->nmounts].path = xstrdup(m);
		struct buf b = BUF_INIT;
		buf_printf(&b, why, type);
		w->mounts[w->nmounts].reason = buf_detach(&b);
		w->mounts[w->nmounts].network = strstr(why, "network") != NULL;
		w->nmounts++;
	}
	free(line);
	fclose(f);
}

/* Pseudo filesystems (proc, sysfs, ...) never hold an application's jars and
 * are always passed over below a root; network filesystems are passed over
 * in a whole-host scan only (a user who names one gets it scanned). */
static const char *mount_reason(struct walker *w, const char *path)
{
	for (size_t i = 0; i < w->nmounts; i++)
		if (!strcmp(w->mounts[i].path, path) && (!w->mounts[i].network || w->wo->whole_host))
			return w->mounts[i].reason;
	return NULL;
}

static bool excluded(struct walker *w, const char *path)
{
	for (size_t i = 0; i < w->wo->nexcludes; i++)
		if (fnmatch(w->wo->excludes[i], path, 0) == 0)
			return true;
	return false;
}

static bool seen_before(struct walker *w, const struct stat *st)
{
	for (size_t i = 0; i < w->nseen; i++)
		if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino)
			return true;
	if (w->nseen == w->capseen) {
		w->capseen = w->capseen ? w->capseen * 2 : 256;
		w->seen = xrealloc(w->seen, w->capseen * sizeof *w->seen);
	}
	w->seen[w->nseen].dev = st->st_dev;
	w->seen[w->nseen].ino = st->st_ino;
	w->nseen++;
	return false;
}

/* The directory at path, opened without following a final symlink (unless
 * follow): its descriptor and identity, or -1 when it is not a
 * directory any more (replaced by a file or a link since it was listed),
 * or -2 on an error, with errno set. */
static int open_dir(const char *path, bool follow, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return errno == ENOTDIR || errno == ELOOP || errno == ENOENT ? -1 : -2;
	if (fstat(fd, st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -2;
	}
	return fd;
}

static void dir_error(struct walker *w, const char *p, int err)
{
	add_skipped(w, p, "cannot read directory: %s", strerror(err));
	atomic_fetch_add(&w->st->errors, 1);
	struct scan_batch b = {0};
	batch_add_error(&b, p, "cannot read directory: %s", strerror(err));
	deliver(w, &b);
}

/* Walks the directory at path (the caller checked it is not a mount to
 * pass over when depth > 0).  The listing is read with getdents64 into one
 * buffer (no DIR stream: fdopendir costs an fstat and an fcntl per
 * directory) and the file names are queued for the workers; sub-directories
 * are walked after the listing is closed, so that open descriptors stay
 * bounded by the depth of one branch. */
static void walk_dir(struct walker *w, struct buf *path, int depth)
{
	char *self = xstrdup(buf_cstr(path)); /* path is reused below */
	const char *p = self;
	if (depth > 256) {
		add_skipped(w, p, "directory nesting deeper than 256 levels%s", NULL);
		free(self);
		return;
	}
	/* A root named on the command line is followed if it is a link. */
	struct stat dst;
	int fd = open_dir(p, w->wo->follow_symlinks || depth == 0, &dst);
	if (fd == -1 && depth > 0) {
		free(self);
		return;
	}
	if (fd < 0) {
		dir_error(w, p, errno);
		free(self);
		return;
	}
	if (w->wo->one_file_system && dst.st_dev != w->root_dev) {
		add_skipped(w, p, "other filesystem (--one-file-system)%s", NULL);
		close(fd);
		free(self);
		return;
	}
	if (w->wo->follow_symlinks && seen_before(w, &dst)) {
		add_skipped(w, p, "already visited (symlink loop or repeated link)%s", NULL);
		close(fd);
		free(self);
		return;
	}
	if (w->wo->on_dir)
		w->wo->on_dir(w->wo->on_dir_ctx, p);
	size_t plen = path->len;
	bool saw_org = false, saw_layout = false;
	char **subdirs = NULL;
	size_t nsub = 0;
	for (;;) {
		ssize_t got = getdents64(fd, w->dirbuf, DIRBUF_SIZE);
		if (got < 0) {
			dir_error(w, p, errno);
			break;
		}
		if (got == 0)
			break;
		for (ssize_t off = 0; off < got;) {
			const struct dirent64 *de = (const struct dirent64 *)(w->dirbuf + off);
			off += de->d_reclen;
			const char *n = de->d_name;
			if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
				continue;
			if (plen && path->data[plen - 1] != '/')
				buf_addc(path, '/');
			buf_adds(path, n);
			const char *full = buf_cstr(path);
			unsigned char type = de->d_type;
			if (type == DT_UNKNOWN || (type == DT_LNK && w->wo->follow_symlinks)) {
				struct stat st;
				int r = w->wo->follow_symlinks ? fstatat(fd, n, &st, 0)
							       : fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW);
				if (r < 0) {
					/* a dangling link, or a loop of links (ELOOP) */
					if (w->wo->follow_symlinks && errno != ENOENT) {
						atomic_fetch_add(&w->st->errors, 1);
						struct scan_batch eb = {0};
						batch_add_error(&eb, full, "%s", strerror(errno));
						deliver(w, &eb);
					}
					type = DT_UNKNOWN;
				}
				else if (S_ISDIR(st.st_mode))
					type = DT_DIR;
				else if (S_ISREG(st.st_mode))
					type = DT_REG;
				else if (S_ISLNK(st.st_mode))
					type = DT_LNK;
				else
					type = DT_FIFO;
			}
			if (excluded(w, full)) {
				if (type == DT_DIR)
					add_skipped(w, full, "excluded by the user%s", NULL);
			} else if (type == DT_DIR) {
				if (!strcmp(n, "org"))
					saw_org = true;
				subdirs = xrealloc(subdirs, (nsub + 1) * sizeof *subdirs);
				subdirs[nsub++] = xstrdup(full);
			} else if (type == DT_REG) {
				if (!strcmp(n, "oci-layout"))
					saw_layout = true;
				if (!cached_here(w, fd, n, full))
					push(w, JOB_FILE, xstrdup(full));
			} else if (type == DT_LNK) {
				w->res->symlinks++;
			} else if (type != DT_UNKNOWN) {
				w->res->not_regular++;
			}
			path->len = plen;
			path->data[plen] = 0;
		}
	}
	if (saw_org && is_class_root(fd))
		push(w, JOB_CLASSDIR, xstrdup(p));
	/* An OCI image layout is one job: its layers are read in manifest
	 * order by image.c, and blobs/ is not walked as loose files. */
	if (saw_layout && image_is_layout(fd)) {
		push(w, JOB_IMAGEDIR, xstrdup(p));
		size_t k = 0;
		for (size_t i = 0; i < nsub; i++) {
			const char *b = strrchr(subdirs[i], '/');
			if (b && !strcmp(b + 1, "blobs"))
				free(subdirs[i]);
			else
				subdirs[k++] = subdirs[i];
		}
		nsub = k;
	}
	close(fd);
	flush_jobs(w);
	governor_pace(w->wo->gov);
	for (size_t i = 0; i < nsub; i++) {
		const char *why;
		if (governor_expired(w->wo->gov)) {
			add_skipped(w, subdirs[i], "time budget exhausted (--time-budget)%s", NULL);
		} else if ((why = mount_reason(w, subdirs[i]))) {
			/* checked before opening: a hung network mount is never touched */
			add_skipped(w, subdirs[i], "%s", why);
		} else {
			buf_reset(path);
			buf_adds(path, subdirs[i]);
			walk_dir(w, path, depth + 1);
		}
		free(subdirs[i]);
	}
	free(subdirs);
	free(self);
}

int walk_run(const char *const *roots, size_t nroots, const struct walk_opts *wo,
	     const struct rules *r, const struct scan_opts *so, struct scan_stats *st,
	     walk_emit_fn emit, void *ctx, struct walk_result *res)
{
	memset(res, 0, sizeof *res);
	struct walker *w = xcalloc(1, sizeof *w);
	w->wo = wo;
	w->rules = r;
	w->so = so;
	w->st = st;
	w->emit = emit;
	w->ctx = ctx;
	w->res = res;
	pthread_mutex_init(&w->qlock, NULL);
	pthread_mutex_init(&w->outlock, NULL);
	pthread_cond_init(&w->qnotempty, NULL);
	pthread_cond_init(&w->qnotfull, NULL);
	w->dirbuf = xmalloc(DIRBUF_SIZE);
	load_mounts(w);

	int nt = wo->threads > 0 ? wo->threads : 1;
	pthread_t *tids = xcalloc((size_t)nt, sizeof *tids);
	int started = 0;
	w->nthreads = nt;
	for (int i = 0; i < nt; i++)
		if (pthread_create(&tids[started], NULL, worker, w) == 0)
			started++;
	if (!started) {
		free(tids);
		free(w->dirbuf);
		free(w);
		return -1;
	}
	pthread_mutex_lock(&w->qlock); /* the workers' share of the queue */
	w->nthreads = started;
	pthread_mutex_unlock(&w->qlock);

	for (size_t i = 0; i < nroots; i++) {
		struct stat sb;
		const char *root = roots[i];
		if (stat(root, &sb) < 0) {
			res->roots_failed++;
			atomic_fetch_add(&st->errors, 1);
			struct scan_batch b = {0};
			batch_add_error(&b, root, "%s", strerror(errno));
			deliver(w, &b);
			continue;
		}
		w->root_dev = sb.st_dev;
		/* A root that cannot be opened at all counts as failed (exit 2 when
		 * every root failed); walk_dir / scan_path still report why. */
		if (S_ISDIR(sb.st_mode) || S_ISREG(sb.st_mode)) {
			int probe = open(root, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
						       (S_ISDIR(sb.st_mode) ? O_DIRECTORY : 0));
			if (probe < 0)
				res->roots_failed++;
			else
				close(probe);
		}
		if (S_ISDIR(sb.st_mode)) {
			struct buf p = BUF_INIT;
			buf_adds(&p, root);
			w->nseen = 0;
			walk_dir(w, &p, 0);
			buf_free(&p);
		} else {
			/* A file named on the command line is scanned even through a
			 * symlink, and a FIFO or device there is reported, not opened. */
			push(w, JOB_NAMED, xstrdup(root));
		}
	}
	flush_jobs(w);
	for (int i = 0; i < started; i++)
		push(w, JOB_STOP, NULL);
	flush_jobs(w);
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	res->not_reached = atomic_load(&w->not_reached);
	free(tids);
	for (size_t i = 0; i < w->nmounts; i++) {
		free(w->mounts[i].path);
		free(w->mounts[i].reason);
	}
	free(w->mounts);
	free(w->seen);
	free(w->dirbuf);
	pthread_mutex_destroy(&w->qlock);
	pthread_mutex_destroy(&w->outlock);
	pthread_cond_destroy(&w->qnotempty);
	pthread_cond_destroy(&w->qnotfull);
	free(w);
	return 0;
}

void walk_result_free(struct walk_result *res)
{
	for (size_t i = 0; i < res->nskipped; i++) {
		free(res->skipped[i].path);
		free(res->skipped[i].reason);
	}
	free(res->skipped);
	memset(res, 0, sizeof *res);
}
