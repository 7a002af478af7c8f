/* govern.h - resource governance a host owner can trust: a CPU duty cycle
 * (--max-cpu), a read-rate limit (--max-io) and a time budget
 * (--time-budget).  Workers call governor_pace() between files: it sleeps
 * just long enough for the process's CPU time and bytes read to stay under
 * their shares of the elapsed wall time.  When the time budget runs out the
 * walk stops cleanly and what was not reached is reported as skipped. */
#ifndef L4S_GOVERN_H
#define L4S_GOVERN_H

#include <stdatomic.h>
#include <stdbool.h>

struct governor {
	double start;       /* monotonic seconds */
	double cpu_share;   /* 0 = unlimited, else fraction of one CPU (0.25 = 25%) */
	double io_rate;     /* bytes per second, 0 = unlimited */
	double deadline;    /* monotonic seconds, 0 = none */
	atomic_bool expired;
};

void governor_init(struct governor *g, double cpu_percent, double io_mb_per_s, double time_budget_s);
void governor_pace(struct governor *g);
bool governor_expired(struct governor *g);
double governor_monotonic_seconds(void);

#endif
