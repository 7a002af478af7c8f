/* walk_queue.c - the walk's queue, workers and bookkeeping, shared by the
 * Linux and Windows walks (see walk_queue.h).
 *
 * Producer/consumer: the lister pushes jobs into a bounded ring; worker
 * threads pop jobs, scan, and hand each file's batch to the emit callback
 * under one output mutex, the only lock on the hot path besides the
 * queue's.  The ring is handed over in batches (see walkq_flush). */
#include "walk/walk_queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan/image.h"

/* The queue is handed over in batches: the lister collects up to
 * WALKQ_PUSH_BATCH jobs (or a directory's worth) before taking the lock
 * once, and a worker takes up to its share of the waiting jobs (at most
 * POP_BATCH) at a time.  A lock and a wake-up per file cost more than the
 * walk itself (two system calls and a context switch each on this kind of
 * machine). */
#define POP_BATCH 8
#define QUEUE_LOW_WATER 1024

void walkq_flush(struct walkq *q)
{
	if (!q->npend)
		return;
	pthread_mutex_lock(&q->qlock);
	for (size_t i = 0; i < q->npend; i++) {
		if (q->count == WALKQ_CAP) {
			if (q->idle)
				pthread_cond_broadcast(&q->qnotempty);
			q->walker_waits = true;
			while (q->walker_waits)
				pthread_cond_wait(&q->qnotfull, &q->qlock);
		}
		q->ring[(q->head + q->count) % WALKQ_CAP] = q->pend[i];
		q->count++;
	}
	q->npend = 0;
	if (q->idle)
		pthread_cond_broadcast(&q->qnotempty);
	pthread_mutex_unlock(&q->qlock);
}

void walkq_push(struct walkq *q, enum walk_job_kind k, char *path)
{
	q->pend[q->npend++] = (struct walk_job){k, path};
	if (q->npend == WALKQ_PUSH_BATCH)
		walkq_flush(q);
}

/* Up to max jobs into out; returns how many (at least one). */
static size_t pop(struct walkq *q, struct walk_job *out, size_t max)
{
	pthread_mutex_lock(&q->qlock);
	while (q->count == 0) {
		q->idle++;
		pthread_cond_wait(&q->qnotempty, &q->qlock);
		q->idle--;
	}
	size_t share = q->count / (size_t)q->nthreads;
	size_t n = share < 1 ? 1 : share < max ? share : max;
	for (size_t i = 0; i < n; i++) {
		out[i] = q->ring[q->head];
		q->head = (q->head + 1) % WALKQ_CAP;
		q->count--;
	}
	/* A full queue means the lister is ahead: let it sleep until there is
	 * room for many jobs, not one (a wake-up per pop is a ping-pong). */
	if (q->walker_waits && q->count <= WALKQ_CAP - QUEUE_LOW_WATER) {
		q->walker_waits = false;
		pthread_cond_signal(&q->qnotfull);
	}
	pthread_mutex_unlock(&q->qlock);
	return n;
}

void walkq_deliver(struct walkq *q, struct scan_batch *b)
{
	pthread_mutex_lock(&q->outlock);
	q->emit(q->ctx, b);
	pthread_mutex_unlock(&q->outlock);
	scan_batch_free(b);
}

/* A file whose cached records are reused counts as examined. */
static void count_cached(struct walkq *q, const struct stat *st, const struct scan_batch *b)
{
	atomic_fetch_add(&q->st->files, 1);
	atomic_fetch_add(&q->st->bytes, (unsigned long long)st->st_size);
	for (size_t i = 0; i < b->n; i++) {
		if (b->rec[i].kind == REC_FINDING)
			atomic_fetch_add(&q->st->findings[b->rec[i].f.status], 1);
		else
			atomic_fetch_add(&q->st->errors, 1);
	}
}

bool walkq_cached(struct walkq *q, const char *path, const struct stat *st)
{
	struct scan_batch b = {0};
	if (!cache_lookup(q->wo->cache, q->rules, path, st, &b))
		return false;
	count_cached(q, st, &b);
	if (b.n)
		walkq_deliver(q, &b);
	else
		scan_batch_free(&b);
	return true;
}

static void scan_file_job(struct walkq *q, struct scanner *s, const struct walk_job *j, struct scan_batch *b)
{
	struct cache *c = q->wo->cache;
	struct stat st;
	bool follow = q->wo->follow_symlinks;
	if (j->kind == JOB_FILE_LOOKUP && c && stat(j->path, &st) == 0 && S_ISREG(st.st_mode) &&
	    walkq_cached(q, j->path, &st))
		return;
	/* Stored under the identity seen when opening, before reading: a file
	 * that changes while it is scanned is scanned again next time. */
	if (scan_regular(s, j->path, follow, &st, b) && c)
		cache_store(c, j->path, &st, b);
}

static void run_job(struct walkq *q, struct scanner *s, struct walk_job j)
{
	if (governor_expired(q->wo->gov)) {
		atomic_fetch_add(&q->not_reached, 1);
		free(j.path);
		return;
	}
	struct scan_batch b = {0};
	if (!s)
		scan_batch_add_error(&b, j.path, "out of memory for a decompressor");
	else if (j.kind == JOB_FILE || j.kind == JOB_FILE_LOOKUP)
		scan_file_job(q, s, &j, &b);
	else if (j.kind == JOB_NAMED)
		scan_path(s, j.path, true, &b);
	else if (j.kind == JOB_IMAGEDIR)
		image_scan_dir(s, j.path, &b);
	else if (j.kind == JOB_PKGROOT)
		scan_package_dir(s, j.path, &b);
	else
		scan_class_dir(s, j.path, &b);
	if (b.n)
		walkq_deliver(q, &b);
	free(j.path);
	governor_pace(q->wo->gov);
}

static void *worker(void *arg)
{
	struct walkq *q = arg;
	struct scanner *s = scanner_new(q->rules, q->so, q->st);
	struct walk_job jobs[POP_BATCH];
	bool stop = false;
	while (!stop) {
		size_t n = pop(q, jobs, POP_BATCH);
		for (size_t i = 0; i < n; i++) {
			if (jobs[i].kind == JOB_STOP)
				stop = true; /* one STOP per worker, queued last */
			else
				run_job(q, s, jobs[i]);
		}
	}
	scanner_free(s);
	return NULL;
}

int walkq_start(struct walkq *q, const struct walk_opts *wo, const struct rules *r,
		const struct scan_opts *so, struct scan_stats *st, walk_emit_fn emit, void *ctx,
		struct walk_result *res)
{
	memset(res, 0, sizeof *res);
	memset(q, 0, sizeof *q);
	q->wo = wo;
	q->rules = r;
	q->so = so;
	q->st = st;
	q->emit = emit;
	q->ctx = ctx;
	q->res = res;
	pthread_mutex_init(&q->qlock, NULL);
	pthread_mutex_init(&q->outlock, NULL);
	pthread_cond_init(&q->qnotempty, NULL);
	pthread_cond_init(&q->qnotfull, NULL);

	int nt = wo->threads > 0 ? wo->threads : 1;
	q->tids = xcalloc((size_t)nt, sizeof *q->tids);
	q->nthreads = nt;
	for (int i = 0; i < nt; i++)
		if (pthread_create(&q->tids[q->started], NULL, worker, q) == 0)
			q->started++;
	if (!q->started) {
		free(q->tids);
		pthread_mutex_destroy(&q->qlock);
		pthread_mutex_destroy(&q->outlock);
		pthread_cond_destroy(&q->qnotempty);
		pthread_cond_destroy(&q->qnotfull);
		return -1;
	}
	pthread_mutex_lock(&q->qlock); /* the workers' share of the queue */
	q->nthreads = q->started;
	pthread_mutex_unlock(&q->qlock);
	return 0;
}

void walkq_finish(struct walkq *q)
{
	walkq_flush(q);
	for (int i = 0; i < q->started; i++)
		walkq_push(q, JOB_STOP, NULL);
	walkq_flush(q);
	for (int i = 0; i < q->started; i++)
		pthread_join(q->tids[i], NULL);
	q->res->not_reached = atomic_load(&q->not_reached);
	free(q->tids);
	free(q->seen);
	pthread_mutex_destroy(&q->qlock);
	pthread_mutex_destroy(&q->outlock);
	pthread_cond_destroy(&q->qnotempty);
	pthread_cond_destroy(&q->qnotfull);
}

void walkq_skip(struct walkq *q, const char *path, const char *fmt, const char *arg)
{
	struct walk_result *r = q->res;
	r->skipped = xrealloc(r->skipped, (r->nskipped + 1) * sizeof *r->skipped);
	r->skipped[r->nskipped].path = xstrdup(path);
	struct buf b = BUF_INIT;
	buf_printf(&b, fmt, arg ? arg : "");
	r->skipped[r->nskipped].reason = buf_detach(&b);
	r->nskipped++;
}

void walkq_error(struct walkq *q, const char *path, int err)
{
	atomic_fetch_add(&q->st->errors, 1);
	struct scan_batch b = {0};
	scan_batch_add_error(&b, path, "%s", strerror(err));
	walkq_deliver(q, &b);
}

void walkq_dir_error(struct walkq *q, const char *path, int err)
{
	walkq_skip(q, path, "cannot read directory: %s", strerror(err));
	atomic_fetch_add(&q->st->errors, 1);
	struct scan_batch b = {0};
	scan_batch_add_error(&b, path, "cannot read directory: %s", strerror(err));
	walkq_deliver(q, &b);
}

bool walkq_excluded(struct walkq *q, const char *path)
{
	for (size_t i = 0; i < q->wo->nexcludes; i++)
		if (fnmatch(q->wo->excludes[i], path, 0) == 0)
			return true;
	return false;
}

bool walkq_wanted(struct walkq *q, const char *path, unsigned char type)
{
	if (walkq_excluded(q, path)) {
		if (type == DT_DIR)
			walkq_skip(q, path, "excluded by the user%s", NULL);
		return false;
	}
	if (type == DT_DIR || type == DT_REG)
		return true;
	if (type == DT_LNK)
		q->res->symlinks++;
	else if (type != DT_UNKNOWN)
		q->res->not_regular++;
	return false;
}

static bool seen_before(struct walkq *q, const struct stat *st)
{
	for (size_t i = 0; i < q->nseen; i++)
		if (q->seen[i].dev == st->st_dev && q->seen[i].ino == st->st_ino)
			return true;
	if (q->nseen == q->capseen) {
		q->capseen = q->capseen ? q->capseen * 2 : 256;
		q->seen = xrealloc(q->seen, q->capseen * sizeof *q->seen);
	}
	q->seen[q->nseen].dev = st->st_dev;
	q->seen[q->nseen].ino = st->st_ino;
	q->nseen++;
	return false;
}

bool walkq_enter(struct walkq *q, const char *path, const struct stat *st)
{
	if (q->wo->one_file_system && st->st_dev != q->root_dev) {
		walkq_skip(q, path, "other filesystem (--one-file-system)%s", NULL);
		return false;
	}
	if (q->wo->follow_symlinks && seen_before(q, st)) {
		walkq_skip(q, path, "already visited (symlink loop or repeated link)%s", NULL);
		return false;
	}
	return true;
}

void walkq_root(struct walkq *q, const char *root, void (*list_dir)(void *arg, const char *dir), void *arg)
{
	struct stat sb;
	if (stat(root, &sb) < 0) {
		q->res->roots_failed++;
		walkq_error(q, root, errno);
		return;
	}
	q->root_dev = sb.st_dev;
	/* A root that cannot be opened at all counts as failed (exit 2 when
	 * every root failed); list_dir / scan_path still report why. */
	if (S_ISDIR(sb.st_mode) || S_ISREG(sb.st_mode)) {
		int probe = open(root, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
					       (S_ISDIR(sb.st_mode) ? O_DIRECTORY : 0));
		if (probe < 0)
			q->res->roots_failed++;
		else
			close(probe);
	}
	if (S_ISDIR(sb.st_mode)) {
		q->nseen = 0;
		list_dir(arg, root);
	} else {
		walkq_push(q, JOB_NAMED, xstrdup(root));
	}
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
