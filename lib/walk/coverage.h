/* coverage.h - what a walk did not scan, and why: the skipped directories
 * and mounts, and the counts of what was passed over.  Filled in by the
 * walk (walk.h), printed by every report format (report.h); a leaf, so the
 * formats need not know the walk. */
#ifndef L4S_COVERAGE_H
#define L4S_COVERAGE_H

#include <stddef.h>

struct skipped {
	char *path;
	char *reason;
};

struct walk_result {
	struct skipped *skipped;
	size_t nskipped;
	unsigned long long not_regular; /* FIFOs, sockets, devices passed over */
	unsigned long long symlinks;    /* symbolic links not followed */
	size_t roots_failed;            /* roots that could not be read at all */
	unsigned long long not_reached; /* files found but not scanned: time budget */
};

#endif
