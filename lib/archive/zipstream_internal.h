/* zipstream_internal.h - what the two halves of the streaming ZIP reader
 * share: the pull (zipstream_pull.c: the nested archive's bytes inflated or
 * read, the chunks and the tail kept, data descriptors, one entry's data as
 * a reader) and the walk and decide layers over it (zipstream.c).  For
 * lib/archive/ and tests only. */
#ifndef L4S_ZIPSTREAM_INTERNAL_H
#define L4S_ZIPSTREAM_INTERNAL_H

#include <nettle/sha2.h>
#include <stdbool.h>
#include <stdint.h>
#include <zlib.h>

#include "archive/inflater.h"
#include "archive/zipstream.h"
#include "util/buf.h"

#define CHUNK 65536
#define OUT_CHUNK (256 << 10) /* inflate copies 32 KiB to its window per call: fewer calls, less copying */
#define SLACK 64              /* unread bytes a refill carries over (peek) */
#define HEAD 64               /* first bytes of the stream kept */
#define END_WINDOW (65636 + 76) /* the JDK's end-record window, with the ZIP64 records before it */
#define TRIM_FIRST (1u << 20)
#define DD_MAX 24              /* the longest data descriptor */
#define KEEP_DEFLATED_MAX (64u << 20)

struct pull {
	const struct zsrc *src;
	uint64_t in_at, in_end;         /* parent bytes still to read */
	unsigned char in[CHUNK];
	const unsigned char *in_next;   /* unused: [in_next, in_next + in_len) */
	size_t in_len;
	struct inflater *z;             /* inflater.h: the parent's csize is known */
	bool z_done;
	unsigned char *chunk[2];        /* the current chunk and the one before */
	int cur;
	size_t pos, len;                /* unread: chunk[cur][pos..len) */
	uint64_t at;                    /* stream offset of chunk[cur][0] */
	uint64_t prev_at;               /* chunk[!cur] holds [prev_at, prev_at + prev_len) */
	size_t prev_len;
	unsigned char head[HEAD];
	size_t head_len;
	bool keeping;                   /* the tail: [tail_at, tail_at + tail.len) */
	struct buf tail;
	uint64_t tail_at, tail_max;
	size_t trim_next;
	uint64_t total, max_total;
	uint64_t extra;                 /* spent below, by stream_nest.open: counted against max_total */
	uint64_t base;                  /* bytes streamed before this pull (a second pass) */
	bool hash;
	struct sha256_ctx sha;
	const char *error;
	bool limit;                     /* the error is a bound of log4scan's own */
	byte_read_fn rd;                /* bytes from a reader instead (zipstream_read_fn) */
	void *rctx;
};

/* The stream offset of the next unread byte. */
static inline uint64_t zipstream_here(const struct pull *p) { return p->at + p->pos; }

struct ent_rd {
	struct pull *p;
	uint16_t method;
	bool known;              /* the compressed size is known (no data descriptor) */
	uint64_t cleft;          /* compressed bytes left, when known */
	uint64_t csize, usize;   /* consumed, produced */
	uint32_t crc;            /* of the bytes produced */
	bool whole;              /* every byte was produced (crc and usize are the entry's) */
	bool end;                /* the entry's data is over */
	bool zinit;
	z_stream z;
	const char *why;         /* the data or the stream failed */
	bool stream_failed;      /* the stream, not the entry's data (it ended, or a bound) */
};

/* Keep every byte from here on (the walk has stopped). */
void zipstream_keep_tail(struct pull *p);
/* The next chunk of the archive's bytes, carrying the unread ones over (at
 * most SLACK).  False at the end of the stream or on an error (p->error). */
bool zipstream_refill(struct pull *p);
/* Copy n bytes (dst may be NULL to skip). */
bool zipstream_take(struct pull *p, unsigned char *dst, size_t n);
bool zipstream_skip(struct pull *p, uint64_t n);
/* n (at most SLACK) unread bytes in a row at chunk[cur] + pos: how many
 * there are (fewer only at the end of the stream). */
size_t zipstream_peek(struct pull *p, size_t n);
/* Move to the next local-header signature: past data before the first
 * entry (a launch script, or anything), or bytes that are no entry. */
bool zipstream_seek_first_header(struct pull *p);
/* A data descriptor at d (avail bytes) for an entry of csize/usize bytes:
 * its length and *crc, or 0.  With or without its signature; the width of
 * its sizes the APPNOTE's (wide: a ZIP64 extra in the local header) first,
 * then the other. */
size_t zipstream_descriptor_at(const unsigned char *d, size_t avail, uint64_t csize, uint64_t usize, bool wide,
			       uint32_t *crc);
/* A STORED entry with a data descriptor: it ends where a descriptor follows
 * whose sizes are the bytes before it and whose CRC is theirs.  Scans at
 * most the rest of the stream; keeps up to `keep` bytes in out. */
bool zipstream_stored_to_descriptor(struct pull *p, bool wide, uint64_t keep, struct buf *out, uint32_t *crc_out,
				    uint64_t *size_out, const char **why);
/* Inflate an entry of unknown compressed size (data descriptor) straight
 * from the pull stream; keep up to `keep` bytes of its output in *out. */
bool zipstream_inflate_unknown(struct pull *p, uint64_t keep, struct buf *out, uint64_t *csize,
			       uint64_t *usize, const char **why);
bool zipstream_ent_init(struct ent_rd *r, struct pull *p, uint16_t method, bool known, uint64_t csize);
/* What stream_nest.open spent below, counted against the budget. */
void zipstream_spend(struct pull *p, uint64_t spent);
void zipstream_ent_fini(struct ent_rd *r);
/* Read the rest of the entry after the caller: skipped when its size is
 * known (not inflated: its CRC is then not checked, r->whole false), else
 * inflated to find its end, counted against the budget. */
void zipstream_ent_drain(struct ent_rd *r);
/* A pull over the parent's bytes [off, off + csize) (src) or a reader's
 * (rd, rctx; src NULL). */
struct pull *zipstream_pull_new(const struct zsrc *src, uint64_t off, uint64_t csize, byte_read_fn rd, void *rctx,
				uint64_t max_total, const struct zip_limits *lim, bool hash);
void zipstream_pull_free(struct pull *p);

/* The entry's data as a byte reader (byte_read_fn): ctx is a struct ent_rd
 * set up by zipstream_ent_init. */
ssize_t zipstream_ent_read(void *ctx, unsigned char *buf, size_t cap, const char **why);

#endif
