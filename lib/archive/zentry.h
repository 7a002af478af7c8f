/* zentry.h - one zip entry's bytes as a stream: a STORED entry is read in
 * place from its parent (pread or memory, in chunks), a DEFLATED one is
 * inflated on the way with zlib, so nothing holds the whole entry.
 *
 * For readers that consume a stream rather than a buffer: libarchive (a
 * tarball inside a zip, tarscan.c) and the content sniffer (the first bytes
 * of an entry, scan.c).  What is inflated is capped by the caller (the
 * inflation budget); going past the cap is an error the caller can tell
 * apart from corrupt data (zentry_over_budget). */
#ifndef L4S_ZENTRY_H
#define L4S_ZENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "archive/zip.h"
#include "util/buf.h"

/* A source of bytes read front to back: fills buf with up to cap bytes and
 * returns how many (0 at the end), or -1 with a reason in *why. */
typedef ssize_t (*byte_read_fn)(void *ctx, unsigned char *buf, size_t cap, const char **why);

struct zentry;

/* Open entry e of z for reading; at most max_out bytes will be produced
 * (0: no cap).  NULL with a reason in err (unsupported method, encrypted,
 * local header missing). */
struct zentry *zentry_open(const struct zip *z, const struct zip_entry *e, uint64_t max_out,
			   struct buf *err);
/* A byte_read_fn over an open zentry (ctx is the struct zentry). */
ssize_t zentry_read(void *ctx, unsigned char *buf, size_t cap, const char **why);
/* Bytes produced so far (inflated for DEFLATED entries). */
uint64_t zentry_produced(const struct zentry *r);
/* True when the last error was the max_out cap, not bad data. */
bool zentry_over_budget(const struct zentry *r);
void zentry_close(struct zentry *r);

/* The first bytes of an entry, read with as little I/O as can be: one
 * read of the local header with the data after it; a DEFLATED entry is
 * inflated only that far.  ZENTRY_HEAD_FIRST bytes (fewer when the entry is
 * shorter), up to cap when they start with "MZ" (a PE's section table may
 * lie further); of a DEFLATED entry only SNIFF_EARLY bytes when those
 * already tell it is none of the kinds sniff.h tells (sniff_none_early).  False when the entry cannot be read (the caller then
 * treats it as not sniffable). */
#define ZENTRY_HEAD_FIRST 512
bool zentry_head(const struct zip *z, const struct zip_entry *e, unsigned char *head, size_t cap,
		 size_t *n);

#endif
