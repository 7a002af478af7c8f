/* walk.h - walk directory trees and scan what they hold, in parallel.
 *
 * One thread walks (readdir only: names and types, no file is opened by the
 * walker) and queues work; `threads` workers scan the queued files, each
 * with its own scanner.  The queue is bounded, so memory does not grow with
 * the size of the tree.  Every directory or mount that is not scanned is
 * listed in `skipped` (coverage.h) with the reason, so coverage is never
 * silently lost. */
#ifndef L4S_WALK_H
#define L4S_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "scan/scan.h"
#include "walk/cache.h"
#include "walk/coverage.h"
#include "walk/govern.h"

struct walk_opts {
	const char **excludes; /* fnmatch(3) globs matched against full paths */
	size_t nexcludes;
	bool one_file_system;
	bool follow_symlinks;
	bool whole_host;       /* skip pseudo and network filesystems */
	bool scan_backups;     /* enter log4scan backup directories (backup_tag.h) */
	int threads;
	struct cache *cache;   /* optional: --cache */
	struct governor *gov;  /* optional: --max-cpu, --max-io, --time-budget */
	/* optional: called by the walking thread with each directory it enters
	 * (the progress display's "current directory") */
	void (*on_dir)(void *ctx, const char *dir);
	void *on_dir_ctx;
};

/* Called with the output lock held, once per scanned file (in any order
 * across files; a file's records are together). */
typedef void (*walk_emit_fn)(void *ctx, struct scan_batch *b);

int walk_run(const char *const *roots, size_t nroots, const struct walk_opts *wo,
	     const struct rules *r, const struct scan_opts *so, struct scan_stats *st,
	     walk_emit_fn emit, void *ctx, struct walk_result *res);
void walk_result_free(struct walk_result *res);

/* Why a filesystem type is not scanned in a whole-host scan, or NULL. */
const char *walk_fs_skip_reason(const char *fstype);

#endif
