/* proc_win32.h - the Windows process view's core, over a
 * struct holders_api rather than the system's Restart Manager, so that it
 * can run on a fake one the way tests/unit/test_holders.c runs lib/proc/holders.c.
 * No unit test calls it yet: t_windows runs the whole view (`ps`) under
 * Wine, whose Restart Manager reports no holder. */
#ifndef L4S_PROC_WIN32_H
#define L4S_PROC_WIN32_H

#include "proc/holders.h"
#include "proc/proc.h"

/* For each file (sorted; duplicates skipped), ask api which processes hold
 * it; emit one record per process (pid order) with the findings of the
 * files it holds. */
int proc_scan_files(const struct holders_api *api, char **files, size_t nfiles, const struct rules *r,
		    const struct scan_opts *so, struct scan_stats *st, proc_emit_fn emit, void *ctx,
		    struct proc_summary *sum);

#endif
