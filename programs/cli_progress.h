/* cli_progress.h - a progress line on a terminal while a scan runs.
 *
 * A reporter thread wakes every 100 ms, reads the scan's counters (atomics,
 * so no lock with the workers) and redraws one line on the terminal with
 * "\r" ... ESC[K: files and archives examined, bytes, rates and the
 * directory the walker is in.  It never starts unless the descriptor is a
 * terminal, so redirected stderr (cron, systemd, CI) stays clean.  Anything
 * else written to the same terminal while it runs must be bracketed by
 * cli_progress_hold()/cli_progress_release(), which erase the line and keep
 * it erased until released; the next tick draws it again. */
#ifndef L4S_CLI_PROGRESS_H
#define L4S_CLI_PROGRESS_H

#include "scan/scan.h"

struct cli_progress;

/* Start reporting on fd (normally 2) when it is a terminal; NULL otherwise,
 * and every function below accepts NULL and does nothing. */
struct cli_progress *cli_progress_start(const struct scan_stats *st, int fd);
/* The directory being walked now; called by the walker (any thread). */
void cli_progress_dir(void *progress, const char *dir);
void cli_progress_hold(struct cli_progress *p);
void cli_progress_release(struct cli_progress *p);
/* Erase the line, stop the thread, free. */
void cli_progress_stop(struct cli_progress *p);

/* The line drawn for these figures, fitted to `width` columns (tests). */
void cli_progress_line(struct buf *b, unsigned long long files, unsigned long long archives,
		       unsigned long long bytes, double seconds, const char *dir, int width);

#endif
