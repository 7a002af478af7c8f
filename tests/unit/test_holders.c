/* test_holders.c - the logic around the Restart Manager (lib/proc/holders.c),
 * with a fake in its place: the real one cannot be exercised under Wine
 * (and does not exist on Linux), so this is how the Windows process view
 * and fix's "restart required" are tested.  Built for Linux by `make
 * units` and with mingw-w64 for Wine by `make windows` (t_windows runs it).
 *
 * The fake plays a Restart Manager: a session counter, the files
 * registered, a table of which pids hold which file, and knobs for the
 * awkward answers: ERROR_MORE_DATA (once, or forever as a list that keeps
 * growing), errors from each call, duplicates and this process itself. */
#include <stdlib.h>
#include <string.h>

#include "proc/holders.h"
#include "unit.h"
#include "util/buf.h"

struct fake_proc {
	const char *file;
	long pid;
	uint64_t start;
	const char *app, *image, *service;
	enum holder_kind kind;
};

struct fake {
	const struct fake_proc *procs;
	size_t nprocs;
	int start_rc, register_rc, list_rc;
	int grow_forever;     /* every list call says one more is needed */
	int more_once;        /* the first list call says "more data" however big the buffer */
	int sessions_open, sessions_started, list_calls;
	char registered[256];
};

static int f_start(void *ctx, void **session)
{
	struct fake *f = ctx;
	if (f->start_rc)
		return f->start_rc;
	f->sessions_open++;
	f->sessions_started++;
	*session = (void *)(uintptr_t)f->sessions_started;
	return 0;
}

static int f_register(void *ctx, void *session, const char *const *paths, size_t n)
{
	struct fake *f = ctx;
	(void)session;
	if (f->register_rc)
		return f->register_rc;
	snprintf(f->registered, sizeof f->registered, "%s", n ? paths[0] : "");
	return 0;
}

static int f_list(void *ctx, void *session, struct holder_info *out, size_t *n, size_t *needed)
{
	struct fake *f = ctx;
	(void)session;
	f->list_calls++;
	if (f->list_rc)
		return f->list_rc;
	size_t k = 0;
	for (size_t i = 0; i < f->nprocs; i++)
		if (!strcmp(f->procs[i].file, f->registered))
			k++;
	if (f->grow_forever)
		k = *n + 1;
	*needed = k;
	if (k > *n || (f->more_once && f->list_calls == 1)) {
		*n = 0;
		return HOLDERS_MORE_DATA;
	}
	size_t j = 0;
	for (size_t i = 0; i < f->nprocs; i++) {
		const struct fake_proc *p = &f->procs[i];
		if (strcmp(p->file, f->registered))
			continue;
		memset(&out[j], 0, sizeof out[j]);
		out[j].pid = p->pid;
		out[j].start = p->start;
		snprintf(out[j].app, sizeof out[j].app, "%s", p->app);
		snprintf(out[j].image, sizeof out[j].image, "%s", p->image ? p->image : "");
		snprintf(out[j].service, sizeof out[j].service, "%s", p->service ? p->service : "");
		out[j].kind = p->kind;
		j++;
	}
	*n = j;
	return 0;
}

static void f_end(void *ctx, void *session)
{
	struct fake *f = ctx;
	(void)session;
	f->sessions_open--;
}

static const char *JAR = "D:\\apps\\tomcat\\lib\\log4j-core-2.14.1.jar";

static const struct fake_proc PROCS[] = {
	{"D:\\apps\\tomcat\\lib\\log4j-core-2.14.1.jar", 4242, 132800000000000000ULL, "Apache Tomcat 9.0",
	 "tomcat9.exe", "Tomcat9", HK_SERVICE},
	{"D:\\apps\\tomcat\\lib\\log4j-core-2.14.1.jar", 777, 132800000000000001ULL, "Java(TM) Platform SE binary",
	 "java.exe", NULL, HK_CONSOLE},
	/* the same process reported twice (it has two handles) */
	{"D:\\apps\\tomcat\\lib\\log4j-core-2.14.1.jar", 777, 132800000000000001ULL, "Java(TM) Platform SE binary",
	 "java.exe", NULL, HK_CONSOLE},
	/* log4scan itself (it has the file open to read it) */
	{"D:\\apps\\tomcat\\lib\\log4j-core-2.14.1.jar", 99, 1, "log4scan", "log4scan.exe", NULL, HK_CONSOLE},
	{"D:\\other.jar", 5, 1, "Other", "other.exe", NULL, HK_WINDOW},
	{"D:\\csrss.jar", 600, 1, "Client Server Runtime", "csrss.exe", NULL, HK_CRITICAL},
};

static struct holders_api api_for(struct fake *f)
{
	struct holders_api a = {f_start, f_register, f_list, f_end, f, 99};
	return a;
}

int main(void)
{
	struct fake f = {PROCS, sizeof PROCS / sizeof PROCS[0], 0, 0, 0, 0, 0, 0, 0, 0, ""};
	struct holders_api api = api_for(&f);
	struct holder *h = NULL;
	struct buf err = BUF_INIT, d = BUF_INIT;

	long n = holders_query(&api, JAR, &h, &err);
	CHECK("two holders: duplicates and self dropped", n == 2);
	CHECK("ordered by pid", n == 2 && h[0].pid == 777 && h[1].pid == 4242);
	CHECK_STR("the file registered is the one asked about", f.registered, JAR);
	CHECK("session ended", f.sessions_open == 0 && f.sessions_started == 1);
	CHECK("service name kept", n == 2 && h[1].service && !strcmp(h[1].service, "Tomcat9"));
	CHECK("no service for a console process", n == 2 && h[0].service == NULL);
	holders_describe(&d, h, (size_t)n);
	CHECK_STR("described", buf_cstr(&d), "pid 777 (java.exe), pid 4242 (tomcat9.exe, service Tomcat9)");
	holders_free(h, (size_t)n);
	buf_reset(&d);

	/* nobody holds it */
	n = holders_query(&api, "D:\\nobody.jar", &h, &err);
	CHECK("no holder: zero, no error", n == 0 && h == NULL && err.len == 0);

	/* a critical system process is said to be one */
	n = holders_query(&api, "D:\\csrss.jar", &h, &err);
	holders_describe(&d, h, n > 0 ? (size_t)n : 0);
	CHECK_STR("critical process described", buf_cstr(&d), "pid 600 (csrss.exe, critical system process)");
	holders_free(h, n > 0 ? (size_t)n : 0);
	buf_reset(&d);

	/* no image name from the process list: the application name is used */
	static const struct fake_proc noimg[] = {{"D:\\x.jar", 12, 1, "Some Service Host", NULL, "Svc", HK_SERVICE}};
	struct fake g = {noimg, 1, 0, 0, 0, 0, 0, 0, 0, 0, ""};
	struct holders_api gapi = api_for(&g);
	n = holders_query(&gapi, "D:\\x.jar", &h, &err);
	holders_describe(&d, h, n > 0 ? (size_t)n : 0);
	CHECK_STR("app name when no image name", buf_cstr(&d), "pid 12 (Some Service Host, service Svc)");
	holders_free(h, n > 0 ? (size_t)n : 0);
	buf_reset(&d);

	/* ERROR_MORE_DATA once: asked again with room enough */
	f.more_once = 1;
	f.list_calls = 0;
	n = holders_query(&api, JAR, &h, &err);
	CHECK("more data once: retried and answered", n == 2 && f.list_calls == 2);
	holders_free(h, n > 0 ? (size_t)n : 0);
	f.more_once = 0;

	/* a list that grows on every call: given up with an error, session ended */
	f.grow_forever = 1;
	f.list_calls = 0;
	n = holders_query(&api, JAR, &h, &err);
	CHECK("ever-growing list: error, not a loop", n == -1 && f.list_calls == 5 && err.len > 0);
	CHECK("ever-growing list: session ended", f.sessions_open == 0);
	f.grow_forever = 0;
	buf_reset(&err);

	/* errors from each call */
	f.start_rc = 29; /* ERROR_WRITE_FAULT */
	n = holders_query(&api, JAR, &h, &err);
	CHECK("session not started: error", n == -1 && strstr(buf_cstr(&err), "not started"));
	f.start_rc = 0;
	buf_reset(&err);
	f.register_rc = 87; /* ERROR_INVALID_PARAMETER */
	n = holders_query(&api, JAR, &h, &err);
	CHECK("not registered: error, session ended", n == -1 && f.sessions_open == 0 &&
						       strstr(buf_cstr(&err), "not registered"));
	f.register_rc = 0;
	buf_reset(&err);
	f.list_rc = 5; /* ERROR_ACCESS_DENIED */
	n = holders_query(&api, JAR, &h, &err);
	CHECK("list refused: error, session ended", n == -1 && f.sessions_open == 0);
	f.list_rc = 0;
	buf_reset(&err);

	/* no system implementation (Linux) */
	n = holders_query(NULL, JAR, &h, &err);
	CHECK("no API: error", n == -1 && err.len > 0);
#ifndef _WIN32
	CHECK("Linux has no system holder API", holders_system() == NULL);
#else
	CHECK("Windows has the Restart Manager binding", holders_system() != NULL);
#endif
	buf_free(&err);
	buf_free(&d);
	UNIT_EXIT();
}
