/* walk_queue.h - what the two tree walks share (lib/walk/walk_linux.c lists
 * directories with getdents64 on Linux, lib/walk/walk_win32.c with
 * FindFirstFileExW on Windows): everything but the listing itself.
 *
 * The listing thread (the one that called walk_run) pushes jobs; they are
 * handed to a bounded ring in batches, and the workers take a few at a time,
 * scan them, each with its own scanner, and deliver each file's records to
 * the emit callback under one output lock.  The lister's bookkeeping is
 * here too: the roots (a directory root is listed by the OS walk's own
 * function, anything else is queued), --exclude, --one-file-system, the
 * directories already entered with --follow-symlinks (a loop is visited
 * once and reported), the skipped list and the error records.
 *
 * An OS walk allocates a struct walkq (alone, or in its own state) and
 * calls walkq_start, walkq_root for each root, then walkq_finish.  The
 * other calls are the lister's; walkq_deliver and walkq_cached may also be
 * called from any thread. */
#ifndef L4S_WALK_QUEUE_H
#define L4S_WALK_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "walk/walk.h"

#define WALKQ_CAP 4096
#define WALKQ_PUSH_BATCH 64 /* see walkq_flush() */

/* JOB_FILE: a regular file a directory listing showed (opened directly);
 * with --cache the lister has looked it up already (walkq_cached).
 * JOB_FILE_LOOKUP: the same, but the worker looks it up in the cache first
 * (a lister that does not stat what it lists).
 * JOB_NAMED: a path named on the command line, which may be anything (a
 * FIFO, a device) and is checked before it is opened.
 * JOB_CLASSDIR: an exploded class directory; JOB_PKGROOT: the package root
 * of an exploded copy relocated to another package; JOB_IMAGEDIR: an OCI image
 * layout directory (one job: see image.h). */
enum walk_job_kind { JOB_FILE, JOB_FILE_LOOKUP, JOB_NAMED, JOB_CLASSDIR, JOB_PKGROOT, JOB_IMAGEDIR, JOB_STOP };

struct walk_job {
	enum walk_job_kind kind;
	char *path;
};

struct walkq {
	/* read by the OS walk too; set by walkq_start (root_dev: walkq_root) */
	const struct walk_opts *wo;
	const struct rules *rules;
	struct scan_stats *st;
	struct walk_result *res;
	dev_t root_dev; /* the device of the root being walked */

	/* the rest is walk_queue.c's */
	const struct scan_opts *so;
	walk_emit_fn emit;
	void *ctx;
	pthread_mutex_t qlock, outlock;
	pthread_cond_t qnotempty, qnotfull;
	struct walk_job ring[WALKQ_CAP];
	size_t head, count;
	int idle;          /* workers waiting for a job */
	bool walker_waits; /* the lister waits for room */
	int nthreads;
	struct walk_job pend[WALKQ_PUSH_BATCH]; /* the lister's jobs not yet queued */
	size_t npend;
	pthread_t *tids;
	int started;
	atomic_ullong not_reached;
	struct {
		dev_t dev;
		ino_t ino;
	} *seen; /* directories entered under this root, with --follow-symlinks */
	size_t nseen, capseen;
};

/* Clears res, starts wo->threads workers (at least one); -1 when no worker
 * could be started (nothing to undo then). */
int walkq_start(struct walkq *q, const struct walk_opts *wo, const struct rules *r,
		const struct scan_opts *so, struct scan_stats *st, walk_emit_fn emit, void *ctx,
		struct walk_result *res);
/* Hands over what is pending, stops and joins the workers, frees the queue. */
void walkq_finish(struct walkq *q);

/* A root: one that cannot be read at all counts in res->roots_failed and
 * is reported; a directory is listed with list_dir(arg, root), anything
 * else is queued as JOB_NAMED (scanned even through a symlink; a FIFO or a
 * device is reported, not opened). */
void walkq_root(struct walkq *q, const char *root, void (*list_dir)(void *arg, const char *dir), void *arg);

/* Queue a job (path is the queue's); it is handed to the workers with the
 * next WALKQ_PUSH_BATCH jobs or at walkq_flush, which the lister calls after
 * each directory. */
void walkq_push(struct walkq *q, enum walk_job_kind k, char *path);
void walkq_flush(struct walkq *q);

/* Hand a batch to the emit callback under the output lock, and free it. */
void walkq_deliver(struct walkq *q, struct scan_batch *b);
/* --cache: when the file with this identity has cached records, count and
 * deliver them and return true; false: the file is to be scanned. */
bool walkq_cached(struct walkq *q, const char *path, const struct stat *st);

/* The skipped list: reason is a format with one %s, filled with arg. */
void walkq_skip(struct walkq *q, const char *path, const char *fmt, const char *arg);
/* An error record for path (strerror(err)), counted in st->errors. */
void walkq_error(struct walkq *q, const char *path, int err);
/* A directory that cannot be read: an error record and a skipped entry. */
void walkq_dir_error(struct walkq *q, const char *path, int err);
/* Matches a --exclude glob. */
bool walkq_excluded(struct walkq *q, const char *path);
/* An entry of a listing, of type DT_*: true for a directory to walk or a
 * regular file to queue; false when the lister is done with it (excluded,
 * and in the skipped list if a directory; a symlink not followed or a FIFO,
 * socket or device, counted; DT_UNKNOWN, passed over). */
bool walkq_wanted(struct walkq *q, const char *path, unsigned char type);
/* Whether to list the directory at path, of identity *st (needed only with
 * --one-file-system or --follow-symlinks): false, with the skipped entry
 * saying why, when it is on another filesystem or was entered already. */
bool walkq_enter(struct walkq *q, const char *path, const struct stat *st);

#endif
