/* govern.c - CPU, I/O and time budgets (see govern.h). */
#include "walk/govern.h"

#include <time.h>

#include "util/iostat.h"

double governor_monotonic_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void governor_init(struct governor *g, double cpu_percent, double io_mb_per_s, double time_budget_s)
{
	g->start = governor_monotonic_seconds();
	g->cpu_share = cpu_percent > 0 ? cpu_percent / 100.0 : 0;
	g->io_rate = io_mb_per_s > 0 ? io_mb_per_s * 1048576.0 : 0;
	g->deadline = time_budget_s > 0 ? g->start + time_budget_s : 0;
	atomic_store(&g->expired, false);
}

static void sleep_for(double s)
{
	if (s <= 0)
		return;
	if (s > 1.0)
		s = 1.0; /* re-check often: the deadline may pass meanwhile */
	struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&t, NULL);
}

bool governor_expired(struct governor *g)
{
	if (!g)
		return false;
	if (atomic_load(&g->expired))
		return true;
	if (g->deadline && governor_monotonic_seconds() >= g->deadline) {
		atomic_store(&g->expired, true);
		return true;
	}
	return false;
}

void governor_pace(struct governor *g)
{
	if (!g)
		return;
	for (int i = 0; i < 600 && !governor_expired(g); i++) {
		double wall = governor_monotonic_seconds() - g->start, wait = 0;
		if (g->cpu_share) {
			double need = cpu_seconds() / g->cpu_share - wall;
			wait = need > wait ? need : wait;
		}
		if (g->io_rate) {
			double need = (double)atomic_load(&iostat_bytes_read) / g->io_rate - wall;
			wait = need > wait ? need : wait;
		}
		if (wait <= 0.001)
			return;
		sleep_for(wait);
	}
}
