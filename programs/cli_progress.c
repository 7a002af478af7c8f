/* cli_progress.c - the progress line (see cli_progress.h).
 *
 * One mutex guards the current-directory slot, the "drawn" flag and the
 * hold state; the thread draws under it, so a hold is certain to leave the
 * terminal without a half-drawn line.  The directory name is escaped with
 * jsonw_text_escape() (a file name cannot smuggle terminal escapes) and trimmed
 * from the left to fit the terminal width, which is read at every tick so
 * a resized window is followed.  Rates are averages since the start. */
#include "cli_progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "util/jsonw.h"

struct cli_progress {
	const struct scan_stats *st;
	int fd;
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop, drawn;
	int held;
	char dir[1024];
	struct timespec t0;
};

static void human_bytes(struct buf *b, double v)
{
	static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	buf_printf(b, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* Columns taken by UTF-8 text (one per code point; good enough for paths). */
static size_t columns(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

void cli_progress_line(struct buf *b, unsigned long long files, unsigned long long archives,
		       unsigned long long bytes, double seconds, const char *dir, int width)
{
	size_t start = b->len;
	buf_printf(b, "%llu files, %llu archives, ", files, archives);
	human_bytes(b, (double)bytes);
	if (seconds > 0.05) {
		buf_printf(b, " (%.0f files/s, ", (double)files / seconds);
		human_bytes(b, (double)bytes / seconds);
		buf_adds(b, "/s)");
	}
	if (width < 20)
		width = 20;
	size_t room = (size_t)width - 1; /* never touch the last column: no wrap */
	size_t used = columns(b->data + start, b->len - start);
	if (used > room) {
		/* Too narrow even for the figures: cut at a code point boundary. */
		size_t keep = b->len - start;
		while (columns(b->data + start, keep) > room)
			keep--;
		while (keep && ((unsigned char)b->data[start + keep] & 0xC0) == 0x80)
			keep--;
		b->len = start + keep;
		b->data[b->len] = '\0';
		return;
	}
	if (!dir || !dir[0] || used + 6 > room)
		return;
	struct buf e = BUF_INIT;
	jsonw_text_escape(&e, dir);
	const char *d = buf_cstr(&e);
	size_t dn = e.len, avail = room - used - 2;
	buf_adds(b, "  ");
	if (columns(d, dn) <= avail) {
		buf_add(b, d, dn);
	} else {
		/* Keep the tail (the deepest directories say most). */
		size_t from = 0;
		while (from < dn && columns(d + from, dn - from) > avail - 3)
			from++;
		while (from < dn && ((unsigned char)d[from] & 0xC0) == 0x80)
			from++;
		buf_adds(b, "...");
		buf_add(b, d + from, dn - from);
	}
	buf_free(&e);
}

static void put(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void erase_locked(struct cli_progress *p)
{
	if (p->drawn) {
		put(p->fd, "\r\033[K", 4);
		p->drawn = false;
	}
}

static void draw_locked(struct cli_progress *p)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - p->t0.tv_sec) + (double)(now.tv_nsec - p->t0.tv_nsec) / 1e9;
	struct winsize ws;
	int width = ioctl(p->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col ? ws.ws_col : 80;
	struct buf b = BUF_INIT;
	buf_adds(&b, "\r");
	cli_progress_line(&b, atomic_load(&p->st->files), atomic_load(&p->st->archives),
			  atomic_load(&p->st->bytes), secs, p->dir, width);
	buf_adds(&b, "\033[K");
	put(p->fd, b.data, b.len);
	buf_free(&b);
	p->drawn = true;
}

static void *run(void *arg)
{
	struct cli_progress *p = arg;
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct timespec dl;
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_nsec += 100 * 1000 * 1000;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		while (!p->stop && pthread_cond_timedwait(&p->wake, &p->lock, &dl) != ETIMEDOUT)
			;
		if (!p->stop && !p->held)
			draw_locked(p);
	}
	erase_locked(p);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct cli_progress *cli_progress_start(const struct scan_stats *st, int fd)
{
	if (!isatty(fd))
		return NULL;
	struct cli_progress *p = xcalloc(1, sizeof *p);
	p->st = st;
	p->fd = fd;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&p->tid, NULL, run, p) != 0) {
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	return p;
}

void cli_progress_dir(void *progress, const char *dir)
{
	struct cli_progress *p = progress;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	snprintf(p->dir, sizeof p->dir, "%s", dir);
	pthread_mutex_unlock(&p->lock);
}

void cli_progress_hold(struct cli_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->held++;
	erase_locked(p);
	pthread_mutex_unlock(&p->lock);
}

void cli_progress_release(struct cli_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->held)
		p->held--;
	pthread_mutex_unlock(&p->lock);
}

void cli_progress_stop(struct cli_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->tid, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
