/* zipstream.h - read a ZIP archive front to back from a stream, for nested
 * archives too large to inflate into memory, and decide its entries from its
 * central directory as the JVM does.
 *
 * The central directory is at the end, so a stream is read by its local
 * headers first: each entry's name, then its data, which is either of a
 * known size or (data descriptor, flag bit 3) found by inflating it
 * (DEFLATED) or by the descriptor that ends it (STORED: its signature or
 * position, CRC and sizes must match the bytes before it).  A descriptor's
 * sizes are 8 bytes when the local header has a ZIP64 extra field, else 4
 * (APPNOTE 4.3.9.2; the other width is accepted only when it, and not the
 * first, matches the entry).  Only entries the caller wants are kept
 * (capped); the rest are skipped while streaming.
 *
 * Where the local headers end (or stop making sense), the rest of the stream
 * is kept: the central directory and end records.  At the end of the stream
 * zip.c decides the entry list from them exactly as for an archive on disk
 * (zip_open_reader), and that list is the result: an entry counts only if
 * the central directory lists it (under its name there), and its data is
 * the one read at the local header its offset points to, when that header
 * was walked and agrees with it on method, CRC and sizes (else the entry is
 * listed with an error).  So a local header the central directory does not
 * list (a JndiLookup.class deleted by a tool that only rewrote the
 * directory) does not count.
 *
 * Memory is bounded by the kept entries, two 256 KiB chunks (the JDK's
 * end-record window is always among them) and the kept tail: from the first
 * central header on, trimmed to the candidates that still read as a
 * directory, at most zip_limits.max_cd_bytes plus that window; an entry
 * offered to stream_nest (below) is read through a 32 KiB inflate window
 * and costs what the caller makes of it.
 *
 * When the central directory cannot be decided:
 *   - the stream is corrupt or ends early, or the end records or directory
 *     fail the JDK's checks: false, with the reason, and no entries (a JVM
 *     could not open it either);
 *   - a bound of log4scan's own stops it (the inflation budget, the size of
 *     the kept tail, end records pointing at bytes not kept): false, with the
 *     reason, and the entries as their local headers show them, flagged by
 *     res->unchecked, so that nothing is given an all-clear unseen.
 * With want_sha256, also computes the SHA-256 of the whole stream on the
 * way (a quarter of the cost of streaming, so callers ask only when the
 * archive turned out to hold something worth hashing). */
#ifndef L4S_ZIPSTREAM_H
#define L4S_ZIPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/zentry.h"
#include "archive/zip.h"
#include "util/buf.h"

struct stream_entry {
	char *name;
	size_t name_len;
	unsigned char *data;
	size_t len;
	uint32_t crc;
	uint64_t usize;
	char *error;   /* why it could not be kept, or NULL */
	void *nested;  /* what stream_nest.open returned for it, confirmed by the
			* central directory; the caller's to take (see below) */
};

struct stream_result {
	struct stream_entry *entries;
	size_t n;
	char sha256[65];
	char cd_sha256[65];  /* zip_cd_sha256 of its central directory, or "" when it could not be decided */
	uint64_t bytes;      /* bytes of the nested archive streamed */
	uint64_t spent;      /* bytes stream_nest.open reported spent below it */
	bool unchecked;      /* entries are as the local headers show them (see above) */
	char refused[128];   /* as zip.refused: why OpenJDK 17 refuses the archive, or "" */
};

/* Which entries to keep, and how much of each: return true and set *max to
 * keep up to *max bytes of the data, or to 0 to record only the name.  It
 * is asked with the local header's name while streaming, and again with
 * the central directory's at the end. */
typedef bool (*stream_want_fn)(const char *name, size_t len, uint64_t *max, void *ctx);

/* Archives nested in the stream, read as their bytes stream by (so that
 * one larger than memory is read in bounded memory, recursively).  When
 * `want` sets *max to STREAM_NEST, the entry's data is offered to `open`
 * while the walk is at it: a reader over its bytes (inflated when
 * DEFLATED), its local header's CRC and size (UINT64_MAX when a data
 * descriptor follows), and `used`, the bytes of this archive streamed so
 * far.  `open` reads as much as it wants (its first bytes to tell what it
 * is, or all of it) and returns a token for what it found, or NULL; *spent
 * is what it inflated below, counted against this stream's budget.  The
 * rest of the entry is then read through (CRC and sizes checked).  The
 * token is provisional: at the end it goes to the stream_entry (->nested)
 * of the central directory entry whose local header it was read at, when
 * that header agrees with it (method, CRC, sizes) and its data was sound;
 * else it is handed back to `drop` (an entry the central directory does
 * not list does not count).  zipstream_read also reads, in its second
 * pass, the entries the walk did not give (their local header lied), and
 * offers them the same way.  An entry that cannot be offered (STORED with
 * a data descriptor: its end is found only by looking back from a
 * descriptor) is kept in memory up to keep_max instead.  Without a
 * stream_nest, STREAM_NEST means the name alone. */
#define STREAM_NEST UINT64_MAX
struct stream_nest {
	void *(*open)(void *ctx, const char *name, size_t nlen, uint32_t crc, uint64_t usize, uint64_t used,
		      byte_read_fn rd, void *rctx, uint64_t *spent);
	void (*drop)(void *ctx, void *token);
	void *ctx;
	uint64_t keep_max;
};

/* Stream the DEFLATE-compressed entry `e` of `parent` as a ZIP archive.
 * `max_total` caps the bytes inflated; `lim` bounds the central directory
 * as for zip_open.  Returns false with a reason in err when the entry list
 * cannot be decided (see above for what res then holds). */
bool zipstream_read(const struct zip *parent, const struct zip_entry *e, uint64_t max_total,
		    const struct zip_limits *lim, bool want_sha256, stream_want_fn want, void *ctx,
		    const struct stream_nest *nest, struct stream_result *res, struct buf *err);
/* The same over a reader's bytes (a zip read out of a tarball's member):
 * max_total caps the bytes read from it.  A reader is read once, so the
 * entries whose local headers do not agree with the central directory
 * (which zipstream_read reads again by offset) are listed with an error. */
bool zipstream_read_fn(byte_read_fn rd, void *rctx, uint64_t max_total, const struct zip_limits *lim,
		       bool want_sha256, stream_want_fn want, void *ctx, const struct stream_nest *nest,
		       struct stream_result *res, struct buf *err);
/* Frees what res holds but the tokens (->nested): the caller takes them
 * first, or calls zipstream_result_drop. */
void zipstream_result_free(struct stream_result *res);
void zipstream_result_drop(struct stream_result *res, const struct stream_nest *nest);

#endif
