/* holders.h - which processes have a file open, asked of the operating
 * system, never found by looking into the processes themselves.
 *
 * On Windows the question goes to the Restart Manager (lib/win32/
 * restartmgr.c): a session, the file registered as a resource, and the list
 * of processes using it - the documented way installers ask whether a file
 * can be replaced.  It opens no handle into any process, duplicates no
 * handle and reads no system handle table; what it reports comes from the
 * file system (which sessions have the file open) and the service control
 * manager (which service a process runs).  On Linux, fix and ps read
 * /proc through lib/proc/procfs_linux.c instead, and nothing calls this.
 *
 * The API is behind a small table of functions shaped like the Restart
 * Manager's own calls (start, register, list with "more data", end), so the
 * logic here - retrying while the list grows, dropping duplicates and this
 * process, ordering, describing - is unit-tested with a fake
 * (tests/unit/test_holders.c), on Linux and under Wine: the real Restart
 * Manager cannot be exercised under Wine. */
#ifndef L4S_HOLDERS_H
#define L4S_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* What the system says about one process (RM_PROCESS_INFO). */
enum holder_kind { HK_UNKNOWN, HK_WINDOW, HK_OTHER_WINDOW, HK_SERVICE, HK_EXPLORER, HK_CONSOLE, HK_CRITICAL };

struct holder_info {
	long pid;
	uint64_t start;        /* process start time, 100 ns since 1601 (FILETIME) */
	char app[256];         /* UTF-8: the application's name (RM's strAppName) */
	char image[260];       /* UTF-8: the image file name from the process list, "" if unknown */
	char service[64];      /* UTF-8: service short name, "" if none */
	enum holder_kind kind;
	bool restartable;
};

/* Status codes are Win32's: 0 success, 234 ERROR_MORE_DATA. */
#define HOLDERS_OK 0
#define HOLDERS_MORE_DATA 234

struct holders_api {
	int (*start)(void *ctx, void **session);
	int (*register_files)(void *ctx, void *session, const char *const *paths, size_t n);
	/* Up to *n entries into out; *needed says how many there are.  Returns
	 * HOLDERS_MORE_DATA (nothing copied) when *n was too small. */
	int (*list)(void *ctx, void *session, struct holder_info *out, size_t *n, size_t *needed);
	void (*end)(void *ctx, void *session);
	void *ctx;
	long self_pid;        /* left out of the answer */
};

struct holder {
	long pid;
	uint64_t start;
	char *app;
	char *image;          /* NULL if unknown */
	char *service;        /* NULL if none */
	enum holder_kind kind;
};

/* The processes that have `path` open, by pid (ascending), without this
 * process and without duplicates.  Returns the count, or -1 with the reason
 * in err (the session could not be started, the file not registered, or the
 * list kept changing). */
long holders_query(const struct holders_api *api, const char *path, struct holder **out, struct buf *err);
void holders_free(struct holder *h, size_t n);

/* "pid 4242 (java.exe, service Tomcat9)": the image name, else the app name for each, joined with ", ". */
void holders_describe(struct buf *b, const struct holder *h, size_t n);

/* The system's implementation (NULL where there is none: Linux). */
const struct holders_api *holders_system(void);

#endif
