/* zipstream.h - read a ZIP archive front to back from a stream, for nested
 * archives too large to inflate into memory.
 *
 * The central directory is at the end, so a stream is read by its local
 * headers instead: each entry's name, then its data, which is either of a
 * known size or (data descriptor, flag bit 3) inflated to find its end.
 * Only entries the caller wants are kept (capped); the rest are skipped
 * while streaming.  Memory is bounded by the kept entries, not the archive.
 * With want_sha256, also computes the SHA-256 of the whole stream on the
 * way (a quarter of the cost of streaming, so callers ask only when the
 * archive turned out to hold something worth hashing). */
#ifndef L4S_ZIPSTREAM_H
#define L4S_ZIPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "zip.h"

struct stream_entry {
	char *name;
	size_t name_len;
	unsigned char *data;
	size_t len;
	uint32_t crc;
	uint64_t usize;
	char *error;   /* why it could not be kept, or NULL */
};

struct stream_result {
	struct stream_entry *entries;
	size_t n;
	char sha256[65];
	uint64_t bytes;   /* bytes of the nested archive streamed */
};

/* Which entries to keep, and how much of each: return true and set *max to
 * keep up to *max bytes of the data, or to 0 to record only the name. */
typedef bool (*stream_want_fn)(const char *name, size_t len, uint64_t *max, void *ctx);

/* Stream the DEFLATE-compressed entry `e` of `parent` as a ZIP archive.
 * `max_total` caps the bytes inflated.  Returns false with a reason in err
 * when the stream is not a readable ZIP; entries kept so far stay in res. */
bool zipstream_read(const struct zip *parent, const struct zip_entry *e, uint64_t max_total,
		    bool want_sha256, stream_want_fn want, void *ctx, struct stream_result *res,
		    struct buf *err);
void stream_result_free(struct stream_result *res);

#endif
