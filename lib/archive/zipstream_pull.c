/* zipstream_pull.c - the bottom layer of the streaming ZIP reader
 * (zipstream.c has the design): the nested archive's bytes, 256 KiB at a
 * time, inflated from the parent's compressed bytes or read from a reader
 * (a tarball's member), with the chunk before the current one, the first
 * bytes and, once the walk asks, the tail kept; entries whose sizes only a
 * data descriptor gives; and one entry's data as a reader for the archives
 * nested in a streamed one (stream_nest). */
#include "archive/zipstream.h"

#include "archive/inflater.h"
#include "archive/zipfmt.h"
#include "archive/zipstream_internal.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- pull */



/* Headers of a central directory from t[s]: 0 open (it may go on), 1
 * broken, 2 complete (an end record follows, at *end). */
static int cen_chain(const unsigned char *t, size_t n, size_t s, size_t *end)
{
	for (size_t q = s;;) {
		if (q + 4 > n)
			return 0;
		uint32_t sig = le32(t + q);
		if (sig == SIG_END || sig == SIG_END64) {
			*end = q;
			return 2;
		}
		if (sig != SIG_CEN)
			return 1;
		if (q + 46 > n)
			return 0;
		q += 46 + (size_t)le16(t + q + 28) + le16(t + q + 30) + le16(t + q + 32);
	}
}

/* Drop the tail's bytes before the first place a central directory can
 * still start: a central header from which headers follow one another to
 * the end of what is kept, or to an end record within the JDK's window. */
static void trim_tail(struct pull *p)
{
	unsigned char *t = (unsigned char *)p->tail.data;
	size_t n = p->tail.len, s = 0;
	for (;;) {
		unsigned char *f = s + 4 <= n ? memmem(t + s, n - s, "PK\1\2", 4) : NULL;
		if (!f) {
			s = n > 3 ? n - 3 : 0; /* a signature may be split */
			break;
		}
		s = (size_t)(f - t);
		size_t end;
		int c = cen_chain(t, n, s, &end);
		if (c == 0 || (c == 2 && n - end <= END_WINDOW))
			break;
		s++;
	}
	if (s) {
		memmove(t, t + s, n - s);
		p->tail.len = n - s;
		p->tail_at += s;
	}
	p->trim_next = p->tail.len * 2 > TRIM_FIRST ? p->tail.len * 2 : TRIM_FIRST;
}

static void tail_add(struct pull *p, const unsigned char *b, size_t n)
{
	buf_add(&p->tail, b, n);
	if (p->tail.len > p->trim_next)
		trim_tail(p);
	if (p->tail.len > p->tail_max && !p->error) {
		p->error = "the central directory is larger than the limit (kept while streaming)";
		p->limit = true;
	}
}

/* Keep every byte from here on (the walk has stopped). */
void zipstream_keep_tail(struct pull *p)
{
	if (p->keeping)
		return;
	p->keeping = true;
	p->tail_at = zipstream_here(p);
	p->trim_next = TRIM_FIRST;
	tail_add(p, p->chunk[p->cur] + p->pos, p->len - p->pos);
}

/* Inflate the parent's bytes into o: OUT_CHUNK bytes, fewer at the end of
 * the stream; how many, or 0 with p->error set. */
static size_t fill_inflated(struct pull *p, unsigned char *o)
{
	unsigned char *next = o;
	size_t room = OUT_CHUNK;
	while (room) {
		if (p->in_len == 0 && p->in_at < p->in_end) {
			size_t n = p->in_end - p->in_at < CHUNK ? (size_t)(p->in_end - p->in_at) : CHUNK;
			if (zip_src_read(p->src, p->in, n, p->in_at) < 0) {
				p->error = "read error";
				return 0;
			}
			p->in_at += n;
			p->in_next = p->in;
			p->in_len = n;
		}
		enum inflate_rc r = inflater_run(p->z, &p->in_next, &p->in_len, &next, &room);
		if (r == INFLATE_END) {
			p->z_done = true;
			break;
		}
		if (r == INFLATE_BAD) {
			p->error = "corrupt deflate data";
			return 0;
		}
		if (room && p->in_len == 0 && p->in_at >= p->in_end) {
			p->error = "truncated deflate data";
			return 0;
		}
	}
	return OUT_CHUNK - room;
}

/* The reader's bytes into o, OUT_CHUNK of them unless it ends first (a
 * full chunk keeps the end-record window within the two kept); how many,
 * or 0 with p->error set. */
static size_t fill_reader(struct pull *p, unsigned char *o)
{
	size_t got = 0;
	while (got < OUT_CHUNK) {
		const char *why = "read error";
		ssize_t n = p->rd(p->rctx, o + got, OUT_CHUNK - got, &why);
		if (n < 0) {
			p->error = why;
			return 0;
		}
		if (n == 0) {
			p->z_done = true;
			break;
		}
		got += (size_t)n;
	}
	return got;
}

/* The next chunk of the archive's bytes, carrying the unread ones over (at
 * most SLACK).  False at the end of the stream or on an error (p->error). */
bool zipstream_refill(struct pull *p)
{
	if (p->z_done || p->error)
		return false;
	size_t keep = p->len - p->pos;
	unsigned char *o = p->chunk[!p->cur];
	memcpy(o, p->chunk[p->cur] + p->pos, keep);
	p->prev_at = p->at;
	p->prev_len = p->len;
	p->at += p->pos;
	p->cur = !p->cur;
	p->pos = 0;
	p->len = keep;
	size_t fresh = p->rd ? fill_reader(p, o + keep) : fill_inflated(p, o + keep);
	if (p->error)
		return false;
	p->len = keep + fresh;
	p->total += fresh;
	if (p->hash)
		sha256_update(&p->sha, fresh, o + keep);
	if (p->head_len < HEAD && p->at + keep == p->head_len) {
		size_t k = HEAD - p->head_len < fresh ? HEAD - p->head_len : fresh;
		memcpy(p->head + p->head_len, o + keep, k);
		p->head_len += k;
	}
	if (p->keeping)
		tail_add(p, o + keep, fresh);
	if (p->total + p->extra > p->max_total) {
		p->error = "inflation budget for this file exhausted (--max-inflate)";
		p->limit = true;
	}
	return !p->error && fresh > 0;
}

/* Copy n bytes (dst may be NULL to skip). */
bool zipstream_take(struct pull *p, unsigned char *dst, size_t n)
{
	while (n) {
		if (p->pos == p->len && !zipstream_refill(p))
			return false;
		size_t k = p->len - p->pos < n ? p->len - p->pos : n;
		if (dst) {
			memcpy(dst, p->chunk[p->cur] + p->pos, k);
			dst += k;
		}
		p->pos += k;
		n -= k;
	}
	return true;
}

bool zipstream_skip(struct pull *p, uint64_t n)
{
	while (n) {
		size_t k = n > (1 << 20) ? (1 << 20) : (size_t)n;
		if (!zipstream_take(p, NULL, k))
			return false;
		n -= k;
	}
	return true;
}

/* n (at most SLACK) unread bytes in a row at chunk[cur] + pos: how many
 * there are (fewer only at the end of the stream). */
size_t zipstream_peek(struct pull *p, size_t n)
{
	while (p->len - p->pos < n && zipstream_refill(p))
		;
	return p->len - p->pos < n ? p->len - p->pos : n;
}

/* Move to the next local-header signature: past data before the first
 * entry (a launch script, or anything), or bytes that are no entry. */
bool zipstream_seek_first_header(struct pull *p)
{
	for (;;) {
		if (zipstream_peek(p, 4) < 4)
			return false;
		/* memchr for the 'P' runs at memory speed over the long runs of
		 * one byte that prepended data tends to be; memmem does not. */
		unsigned char *b = p->chunk[p->cur], *q = b + p->pos, *end = b + p->len;
		while ((q = memchr(q, 'P', (size_t)(end - q))) && end - q >= 4) {
			if (le32(q) == SIG_LOC) {
				p->pos = (size_t)(q - b);
				return true;
			}
			q++;
		}
		p->pos = p->len - 3; /* a signature may be split: carried over */
	}
}

/* ---- data descriptors */

static uint64_t size_at(const unsigned char *d, bool w8) { return w8 ? le64(d) : le32(d); }

/* A data descriptor at d (avail bytes) for an entry of csize/usize bytes:
 * its length and *crc, or 0.  With or without its signature; the width of
 * its sizes the APPNOTE's (wide: a ZIP64 extra in the local header) first,
 * then the other. */
size_t zipstream_descriptor_at(const unsigned char *d, size_t avail, uint64_t csize, uint64_t usize, bool wide,
			       uint32_t *crc)
{
	for (int k = 0; k < 2; k++) {
		bool w8 = k == 0 ? wide : !wide;
		size_t sz = w8 ? 8 : 4;
		if (avail >= 8 + 2 * sz && le32(d) == SIG_DD && size_at(d + 8, w8) == csize &&
		    size_at(d + 8 + sz, w8) == usize) {
			*crc = le32(d + 4);
			return 8 + 2 * sz;
		}
		if (avail >= 4 + 2 * sz && size_at(d + 4, w8) == csize && size_at(d + 4 + sz, w8) == usize) {
			*crc = le32(d);
			return 4 + 2 * sz;
		}
	}
	return 0;
}


/* A STORED entry with a data descriptor: it ends where a descriptor follows
 * whose sizes are the bytes before it and whose CRC is theirs.  Scans at
 * most the rest of the stream; keeps up to `keep` bytes in out. */
bool zipstream_stored_to_descriptor(struct pull *p, bool wide, uint64_t keep, struct buf *out, uint32_t *crc_out,
				    uint64_t *size_out, const char **why)
{
	uint32_t crc = (uint32_t)crc32(0, NULL, 0);
	uint64_t done = 0;
	for (;;) {
		bool last = zipstream_peek(p, DD_MAX) < DD_MAX;
		const unsigned char *b = p->chunk[p->cur] + p->pos;
		size_t m = p->len - p->pos, scan = last ? m : m - DD_MAX + 1;
		for (size_t i = 0; i < scan; i++) {
			uint32_t dcrc;
			size_t dl = zipstream_descriptor_at(b + i, m - i, done + i, done + i, wide, &dcrc);
			if (!dl)
				continue;
			uint32_t c = (uint32_t)crc32(crc, b, (uInt)i);
			if (c != dcrc)
				continue;
			if (out && out->len < keep)
				buf_add(out, b, out->len + i > keep ? (size_t)(keep - out->len) : i);
			*crc_out = c;
			*size_out = done + i;
			p->pos += i + dl;
			return true;
		}
		if (last) {
			*why = p->error ? p->error : "archive ends inside an entry";
			return false;
		}
		if (out && out->len < keep)
			buf_add(out, b, out->len + scan > keep ? (size_t)(keep - out->len) : scan);
		crc = (uint32_t)crc32(crc, b, (uInt)scan);
		done += scan;
		p->pos += scan;
	}
}

/* Inflate an entry of unknown compressed size (data descriptor) straight
 * from the pull stream; keep up to `keep` bytes of its output in *out. */
bool zipstream_inflate_unknown(struct pull *p, uint64_t keep, struct buf *out, uint64_t *csize,
			       uint64_t *usize, const char **why)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, -15) != Z_OK) {
		*why = "out of memory";
		return false;
	}
	unsigned char tmp[16384];
	*csize = *usize = 0;
	bool ok = false;
	for (;;) {
		if (p->pos == p->len && !zipstream_refill(p)) {
			*why = p->error ? p->error : "archive ends inside an entry";
			break;
		}
		z.next_in = p->chunk[p->cur] + p->pos;
		z.avail_in = (uInt)(p->len - p->pos);
		z.next_out = tmp;
		z.avail_out = sizeof tmp;
		int r = inflate(&z, Z_NO_FLUSH);
		size_t used = (p->len - p->pos) - z.avail_in;
		p->pos += used;
		*csize += used;
		size_t got = sizeof tmp - z.avail_out;
		if (out && out->len < keep)
			buf_add(out, tmp, out->len + got > keep ? (size_t)(keep - out->len) : got);
		*usize += got;
		if (r == Z_STREAM_END) {
			ok = true;
			break;
		}
		if (r != Z_OK && r != Z_BUF_ERROR) {
			*why = "corrupt deflate data";
			break;
		}
		if (*usize > p->max_total) {
			*why = "entry inflates beyond the budget";
			break;
		}
	}
	inflateEnd(&z);
	return ok;
}

/* ---- one entry's data as a reader (stream_nest) */


bool zipstream_ent_init(struct ent_rd *r, struct pull *p, uint16_t method, bool known, uint64_t csize)
{
	memset(r, 0, sizeof *r);
	r->p = p;
	r->method = method;
	r->known = known;
	r->cleft = csize;
	r->crc = (uint32_t)crc32(0, NULL, 0);
	r->whole = true;
	if (method == 8) {
		if (inflateInit2(&r->z, -15) != Z_OK)
			return false;
		r->zinit = true;
	}
	r->end = method == 0 && known && csize == 0;
	return true;
}

/* What stream_nest.open spent below, counted against the budget. */
void zipstream_spend(struct pull *p, uint64_t spent)
{
	p->extra += spent;
	if (p->total + p->extra > p->max_total && !p->error) {
		p->error = "inflation budget for this file exhausted (--max-inflate)";
		p->limit = true;
	}
}

void zipstream_ent_fini(struct ent_rd *r)
{
	if (r->zinit)
		inflateEnd(&r->z);
	r->zinit = false;
}

ssize_t zipstream_ent_read(void *ctx, unsigned char *buf, size_t cap, const char **why)
{
	struct ent_rd *r = ctx;
	struct pull *p = r->p;
	if (cap > (1u << 30))
		cap = 1u << 30;
	while (!r->why && !r->end && cap) {
		size_t avail = 0, used, got;
		if (!r->known || r->cleft) {
			if (p->pos == p->len && !zipstream_refill(p)) {
				r->why = p->error ? p->error : "archive ends inside an entry";
				r->stream_failed = true;
				break;
			}
			avail = p->len - p->pos;
			if (r->known && avail > r->cleft)
				avail = (size_t)r->cleft;
		}
		if (r->method == 0) {
			used = got = avail < cap ? avail : cap;
			memcpy(buf, p->chunk[p->cur] + p->pos, got);
		} else {
			r->z.next_in = p->chunk[p->cur] + p->pos;
			r->z.avail_in = (uInt)avail;
			r->z.next_out = buf;
			r->z.avail_out = (uInt)cap;
			int zr = inflate(&r->z, Z_NO_FLUSH);
			used = avail - r->z.avail_in;
			got = cap - r->z.avail_out;
			if (zr == Z_STREAM_END)
				r->end = true;
			else if (zr != Z_OK && zr != Z_BUF_ERROR)
				r->why = "corrupt deflate data";
		}
		p->pos += used;
		r->csize += used;
		if (r->known)
			r->cleft -= used;
		r->usize += got;
		r->crc = (uint32_t)crc32(r->crc, buf, (uInt)got);
		if (r->method == 0 && r->cleft == 0)
			r->end = true;
		if (got)
			return (ssize_t)got;
		if (r->known && r->cleft == 0 && !r->end)
			r->why = "corrupt deflate data"; /* its bytes end before its deflate stream */
	}
	if (r->why) {
		*why = r->why;
		return -1;
	}
	return 0;
}

/* Read the rest of the entry after the caller: skipped when its size is
 * known (not inflated: its CRC is then not checked, r->whole false), else
 * inflated to find its end, counted against the budget. */
void zipstream_ent_drain(struct ent_rd *r)
{
	struct pull *p = r->p;
	if (r->end || r->why)
		return;
	if (r->known) {
		r->whole = false;
		if (!zipstream_skip(p, r->cleft)) {
			r->why = p->error ? p->error : "archive ends inside an entry";
			r->stream_failed = true;
		}
		r->csize += r->cleft;
		r->cleft = 0;
		r->end = true;
		return;
	}
	unsigned char tmp[16384];
	const char *why;
	while (!r->end && !r->why) {
		ssize_t n = zipstream_ent_read(r, tmp, sizeof tmp, &why);
		if (n < 0)
			break;
		p->extra += (uint64_t)n;
		if (p->total + p->extra > p->max_total) {
			r->why = "inflation budget for this file exhausted (--max-inflate)";
			r->stream_failed = true;
			if (!p->error) {
				p->error = r->why;
				p->limit = true;
			}
			break;
		}
	}
}

/* A pull over the parent's bytes [off, off + csize) (src) or a reader's
 * (rd, rctx; src NULL). */
struct pull *zipstream_pull_new(const struct zsrc *src, uint64_t off, uint64_t csize, byte_read_fn rd, void *rctx,
				uint64_t max_total, const struct zip_limits *lim, bool hash)
{
	struct pull *p = xcalloc(1, sizeof *p);
	p->src = src;
	p->in_at = off;
	p->in_end = off + csize;
	p->rd = rd;
	p->rctx = rctx;
	p->max_total = max_total;
	p->tail_max = lim->max_cd_bytes + END_WINDOW + SLACK;
	p->hash = hash;
	p->chunk[0] = xmalloc(OUT_CHUNK + SLACK);
	p->chunk[1] = xmalloc(OUT_CHUNK + SLACK);
	sha256_init(&p->sha);
	if (!rd && !(p->z = inflater_new())) {
		free(p->chunk[0]);
		free(p->chunk[1]);
		free(p);
		return NULL;
	}
	return p;
}

void zipstream_pull_free(struct pull *p)
{
	inflater_free(p->z);
	buf_free(&p->tail);
	free(p->chunk[0]);
	free(p->chunk[1]);
	free(p);
}
