/* holders.c - the logic around "which processes have this file open"
 * (see holders.h); the system call side is lib/proc/holders_win32.c.
 *
 * One session per file, so each answer belongs to exactly one file.  The
 * list is asked for twice at most per size change: first with room for
 * 16, then with what the system said it needs (plus slack, since processes
 * may open the file in between); after 5 rounds of "more data" the question
 * is given up with an error rather than looping. */
#include "proc/holders.h"

#include <stdlib.h>
#include <string.h>

static int by_pid(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

long holders_query(const struct holders_api *api, const char *path, struct holder **out, struct buf *err)
{
	*out = NULL;
	if (!api) {
		buf_adds(err, "no process-holder service on this system");
		return -1;
	}
	void *sess = NULL;
	int rc = api->start(api->ctx, &sess);
	if (rc != HOLDERS_OK) {
		buf_printf(err, "Restart Manager session not started (error %d)", rc);
		return -1;
	}
	const char *paths[1] = {path};
	rc = api->register_files(api->ctx, sess, paths, 1);
	if (rc != HOLDERS_OK) {
		buf_printf(err, "file not registered with the Restart Manager (error %d)", rc);
		api->end(api->ctx, sess);
		return -1;
	}
	size_t cap = 16, n = 0, needed = 0;
	struct holder_info *info = NULL;
	for (int round = 0;; round++) {
		if (round == 5) {
			buf_adds(err, "the list of processes using the file kept changing");
			free(info);
			api->end(api->ctx, sess);
			return -1;
		}
		info = xrealloc(info, cap * sizeof *info);
		n = cap;
		needed = 0;
		rc = api->list(api->ctx, sess, info, &n, &needed);
		if (rc == HOLDERS_MORE_DATA) {
			cap = needed + 8 > cap ? needed + 8 : cap * 2;
			continue;
		}
		break;
	}
	api->end(api->ctx, sess);
	if (rc != HOLDERS_OK) {
		buf_printf(err, "Restart Manager could not list the processes (error %d)", rc);
		free(info);
		return -1;
	}
	if (n > cap)
		n = cap;
	struct holder *h = n ? xcalloc(n, sizeof *h) : NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct holder_info *x = &info[i];
		if (x->pid <= 0 || x->pid == api->self_pid)
			continue;
		bool dup = false;
		for (size_t j = 0; j < k && !dup; j++)
			dup = h[j].pid == x->pid && h[j].start == x->start;
		if (dup)
			continue;
		h[k].pid = x->pid;
		h[k].start = x->start;
		h[k].app = xstrndup(x->app, strnlen(x->app, sizeof x->app));
		h[k].image = x->image[0] ? xstrndup(x->image, strnlen(x->image, sizeof x->image)) : NULL;
		h[k].service = x->service[0] ? xstrndup(x->service, strnlen(x->service, sizeof x->service)) : NULL;
		h[k].kind = x->kind;
		k++;
	}
	free(info);
	if (k > 1)
		qsort(h, k, sizeof *h, by_pid);
	if (!k) {
		free(h);
		h = NULL;
	}
	*out = h;
	return (long)k;
}

void holders_free(struct holder *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].app);
		free(h[i].image);
		free(h[i].service);
	}
	free(h);
}

void holders_describe(struct buf *b, const struct holder *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = h[i].image ? h[i].image : h[i].app && *h[i].app ? h[i].app : "?";
		buf_printf(b, "%spid %ld (%s", i ? ", " : "", h[i].pid, name);
		if (h[i].service)
			buf_printf(b, ", service %s", h[i].service);
		if (h[i].kind == HK_CRITICAL)
			buf_adds(b, ", critical system process");
		buf_addc(b, ')');
	}
}

#ifndef _WIN32
const struct holders_api *holders_system(void)
{
	return NULL;
}
#endif
