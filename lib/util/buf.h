/* buf.h - a growable byte buffer.
 *
 * Every text the library builds (JSON records, paths joined with "!/",
 * error messages) goes through one of these, so there is exactly one place
 * that grows memory and checks for overflow.  Allocation failure aborts:
 * a scanner that runs out of memory has no sane way to go on, and the caps
 * elsewhere keep every buffer small. */
#ifndef L4S_BUF_H
#define L4S_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;   /* always NUL-terminated when len > 0 or after buf_cstr() */
	size_t len;
	size_t cap;
};

#define BUF_INIT {0, 0, 0}

/* The separator between path components the platform shows ('\\' on
 * Windows, where lib/win32/posix.h defines it; '/' also works there). */
#ifndef L4S_PATH_SEP
#define L4S_PATH_SEP '/'
#endif

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
const char *buf_cstr(struct buf *b);   /* "" for an empty buffer */
void buf_reset(struct buf *b);          /* len = 0, keeps memory */
void buf_free(struct buf *b);
char *buf_detach(struct buf *b);        /* caller frees; buffer becomes empty */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* a small set of strings: v[0..n), each once (linear search: a handful) */
void strv_add(char ***v, size_t *n, const char *s);
void strv_free(char **v, size_t n);

#endif
