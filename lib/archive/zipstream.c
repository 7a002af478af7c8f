/* zipstream.c - front-to-back ZIP reading over an inflated stream, and the
 * entry list decided at its end from the central directory (zipstream.h).
 *
 * Three layers:
 *   pull    the nested archive's bytes, 256 KiB at a time: the parent's
 *           compressed bytes (pread in 64 KiB chunks) inflated, or a reader's
 *           bytes as they come (a tarball's member); it keeps
 *           the chunk before the current one, the first bytes, and once the
 *           walk asks, everything from a point on (the tail, trimmed to what
 *           can still be the central directory);
 *   walk    local headers front to back; what is seen of each wanted entry
 *           (and its data, capped) is recorded by local header offset;
 *   decide  zip_open_reader over what pull kept, then the central
 *           directory's entries matched with the records. */
#include "archive/zipstream.h"

#include "archive/inflater.h"
#include "archive/zipfmt.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK 65536
#define OUT_CHUNK (256 << 10) /* inflate copies 32 KiB to its window per call: fewer calls, less copying */
#define SLACK 64              /* unread bytes a refill carries over (peek) */
#define HEAD 64               /* first bytes of the stream kept */
#define END_WINDOW (65636 + 76) /* the JDK's end-record window, with the ZIP64 records before it */
#define TRIM_FIRST (1u << 20)
#define KEEP_DEFLATED_MAX (64u << 20)

/* ---- pull */

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

static uint64_t here(const struct pull *p) { return p->at + p->pos; }

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
static void keep_tail(struct pull *p)
{
	if (p->keeping)
		return;
	p->keeping = true;
	p->tail_at = here(p);
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
			if (zsrc_read(p->src, p->in, n, p->in_at) < 0) {
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
static bool refill(struct pull *p)
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
static bool take(struct pull *p, unsigned char *dst, size_t n)
{
	while (n) {
		if (p->pos == p->len && !refill(p))
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

static bool skip_bytes(struct pull *p, uint64_t n)
{
	while (n) {
		size_t k = n > (1 << 20) ? (1 << 20) : (size_t)n;
		if (!take(p, NULL, k))
			return false;
		n -= k;
	}
	return true;
}

/* n (at most SLACK) unread bytes in a row at chunk[cur] + pos: how many
 * there are (fewer only at the end of the stream). */
static size_t peek(struct pull *p, size_t n)
{
	while (p->len - p->pos < n && refill(p))
		;
	return p->len - p->pos < n ? p->len - p->pos : n;
}

/* Move to the next local-header signature: past data before the first
 * entry (a launch script, or anything), or bytes that are no entry. */
static bool seek_first_header(struct pull *p)
{
	for (;;) {
		if (peek(p, 4) < 4)
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
static size_t descriptor_at(const unsigned char *d, size_t avail, uint64_t csize, uint64_t usize, bool wide,
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

#define DD_MAX 24

/* A STORED entry with a data descriptor: it ends where a descriptor follows
 * whose sizes are the bytes before it and whose CRC is theirs.  Scans at
 * most the rest of the stream; keeps up to `keep` bytes in out. */
static bool stored_to_descriptor(struct pull *p, bool wide, uint64_t keep, struct buf *out, uint32_t *crc_out,
				 uint64_t *size_out, const char **why)
{
	uint32_t crc = (uint32_t)crc32(0, NULL, 0);
	uint64_t done = 0;
	for (;;) {
		bool last = peek(p, DD_MAX) < DD_MAX;
		const unsigned char *b = p->chunk[p->cur] + p->pos;
		size_t m = p->len - p->pos, scan = last ? m : m - DD_MAX + 1;
		for (size_t i = 0; i < scan; i++) {
			uint32_t dcrc;
			size_t dl = descriptor_at(b + i, m - i, done + i, done + i, wide, &dcrc);
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
static bool inflate_unknown(struct pull *p, uint64_t keep, struct buf *out, uint64_t *csize,
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
		if (p->pos == p->len && !refill(p)) {
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

static bool ent_init(struct ent_rd *r, struct pull *p, uint16_t method, bool known, uint64_t csize)
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
static void spend(struct pull *p, uint64_t spent)
{
	p->extra += spent;
	if (p->total + p->extra > p->max_total && !p->error) {
		p->error = "inflation budget for this file exhausted (--max-inflate)";
		p->limit = true;
	}
}

static void ent_fini(struct ent_rd *r)
{
	if (r->zinit)
		inflateEnd(&r->z);
	r->zinit = false;
}

static ssize_t ent_read(void *ctx, unsigned char *buf, size_t cap, const char **why)
{
	struct ent_rd *r = ctx;
	struct pull *p = r->p;
	if (cap > (1u << 30))
		cap = 1u << 30;
	while (!r->why && !r->end && cap) {
		size_t avail = 0, used, got;
		if (!r->known || r->cleft) {
			if (p->pos == p->len && !refill(p)) {
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
static void ent_drain(struct ent_rd *r)
{
	struct pull *p = r->p;
	if (r->end || r->why)
		return;
	if (r->known) {
		r->whole = false;
		if (!skip_bytes(p, r->cleft)) {
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
		ssize_t n = ent_read(r, tmp, sizeof tmp, &why);
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

/* ---- walk: what the local headers show */

struct seen {
	uint64_t off;            /* the local header's offset in the stream */
	char *name;              /* the local header's name */
	size_t name_len;
	uint16_t method;
	uint32_t crc;
	uint64_t csize, usize;
	unsigned char *data;     /* kept bytes, or NULL */
	size_t len;
	char *error;
	bool offered;            /* offered to stream_nest.open */
	void *token;             /* what it returned */
};

struct walk {
	struct pull *p;
	stream_want_fn want;
	void *ctx;
	const struct stream_nest *nest;
	struct seen *seen;       /* entries the caller wanted, in stream order */
	size_t n, cap;
	uint64_t first_loc;
	bool any_loc;
	const char *stop;        /* why the walk stopped before the stream's end, if it did */
};

static struct seen *add_seen(struct walk *w, uint64_t off, const char *name, size_t nlen)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->seen = xrealloc(w->seen, w->cap * sizeof *w->seen);
	}
	struct seen *s = &w->seen[w->n++];
	memset(s, 0, sizeof *s);
	s->off = off;
	s->name = xstrndup(name, nlen);
	s->name_len = nlen;
	return s;
}

static bool zip64_extra(const unsigned char *x, size_t xlen, uint64_t *csize, uint64_t *usize)
{
	bool found = false;
	for (size_t i = 0; i + 4 <= xlen;) {
		uint16_t id = le16(x + i), len = le16(x + i + 2);
		if (i + 4 + len > xlen)
			break;
		if (id == 1) {
			found = true;
			if (len >= 16) {
				if (*usize == 0xFFFFFFFF)
					*usize = le64(x + i + 4);
				if (*csize == 0xFFFFFFFF)
					*csize = le64(x + i + 12);
			}
		}
		i += 4 + (size_t)len;
	}
	return found;
}

/* Inflate a DEFLATED entry of known size that is kept. */
static const char *inflate_known(struct pull *p, uint64_t csize, uint64_t usize, struct buf *data, bool *cut)
{
	if (csize > KEEP_DEFLATED_MAX) {
		*cut = !skip_bytes(p, csize);
		return "compressed entry too large to keep";
	}
	unsigned char *cbuf = xmalloc(csize ? (size_t)csize : 1);
	const char *why = NULL;
	*cut = !take(p, cbuf, (size_t)csize);
	if (!*cut) {
		z_stream z;
		memset(&z, 0, sizeof z);
		buf_reserve(data, (size_t)usize);
		if (inflateInit2(&z, -15) == Z_OK) {
			z.next_in = cbuf;
			z.avail_in = (uInt)csize;
			z.next_out = (unsigned char *)data->data;
			z.avail_out = (uInt)usize;
			int r = inflate(&z, Z_FINISH);
			if (r == Z_STREAM_END && z.total_out == usize)
				data->len = (size_t)usize;
			else
				why = "corrupt deflate data";
			inflateEnd(&z);
		}
	}
	free(cbuf);
	return why;
}

/* Bytes in memory as a reader (an entry kept, then offered). */
struct memrd {
	const unsigned char *d;
	size_t n, off;
};

static ssize_t mem_read(void *ctx, unsigned char *buf, size_t cap, const char **why)
{
	(void)why;
	struct memrd *m = ctx;
	size_t k = m->n - m->off < cap ? m->n - m->off : cap;
	memcpy(buf, m->d + m->off, k);
	m->off += k;
	return (ssize_t)k;
}

/* An entry offered to stream_nest.open (zipstream.h), then read through:
 * its end found as for any entry, its CRC and size checked when its bytes
 * were all produced.  The token is kept in s only when they were sound. */
static const char *offer_entry(struct walk *w, struct seen *s, const char *name, size_t nlen, uint16_t flags,
			       uint16_t method, uint32_t *crc, uint64_t *csize, uint64_t *usize, bool wide,
			       bool *cut, bool *lost)
{
	struct pull *p = w->p;
	bool dd = flags & 8;
	struct ent_rd r;
	s->offered = true;
	if (!ent_init(&r, p, method, !dd, *csize)) {
		*lost = dd;
		*cut = !dd && !skip_bytes(p, *csize);
		return "out of memory";
	}
	uint64_t spent = 0;
	void *tok = w->nest->open(w->nest->ctx, name, nlen, *crc, dd ? UINT64_MAX : *usize, p->base + p->total,
				  ent_read, &r, &spent);
	spend(p, spent);
	ent_drain(&r);
	ent_fini(&r);
	const char *why = NULL;
	if (r.why) {
		why = r.why;
		if (r.stream_failed)
			*cut = true;
		else if (dd)
			*lost = true;
		else
			*cut = !skip_bytes(p, r.cleft);
	} else if (dd) {
		size_t avail = peek(p, DD_MAX);
		size_t dl = descriptor_at(p->chunk[p->cur] + p->pos, avail, r.csize, r.usize, wide, crc);
		if (dl) {
			p->pos += dl;
			*csize = r.csize;
			*usize = r.usize;
		} else {
			why = "its data descriptor does not match it";
			*lost = true;
		}
	} else if (r.cleft) {
		/* its deflate stream ends before its compressed size: the rest is
		 * skipped, as the JDK reads the size it is given */
		*cut = !skip_bytes(p, r.cleft);
	}
	if (!why && r.whole && r.usize != *usize)
		why = method == 0 ? "stored entry with different sizes" : "corrupt deflate data";
	if (!why && r.whole && r.crc != *crc)
		why = "CRC mismatch";
	if (why && tok) {
		w->nest->drop(w->nest->ctx, tok);
		tok = NULL;
	}
	s->token = tok;
	return why;
}

/* One entry, its local header's signature read at `at`.  False when its
 * end is not known, or the stream ends inside it (w->stop says why). */
static bool walk_entry(struct walk *w, uint64_t at)
{
	struct pull *p = w->p;
	unsigned char h[30];
	if (!take(p, h + 4, 26)) {
		w->stop = "truncated local header";
		return false;
	}
	uint16_t flags = le16(h + 6), method = le16(h + 8), nlen = le16(h + 26), xlen = le16(h + 28);
	uint32_t crc = le32(h + 14);
	uint64_t csize = le32(h + 18), usize = le32(h + 22);
	char *name = xmalloc((size_t)nlen + 1);
	unsigned char *extra = xmalloc((size_t)xlen + 1);
	bool got = take(p, (unsigned char *)name, nlen) && take(p, extra, xlen);
	bool wide = got && zip64_extra(extra, xlen, &csize, &usize);
	free(extra);
	if (!got) {
		free(name);
		w->stop = "truncated local header";
		return false;
	}
	if (!w->any_loc) {
		w->any_loc = true;
		w->first_loc = at;
	}
	uint64_t keep_max = 0;
	struct seen *s = w->want(name, nlen, &keep_max, w->ctx) ? add_seen(w, at, name, nlen) : NULL;
	bool offer = false, offer_kept = false;
	if (keep_max == STREAM_NEST) {
		offer = s && w->nest && !(flags & 1) && (method == 8 || (method == 0 && !(flags & 8)));
		/* STORED with a data descriptor: its end is known only at the
		 * descriptor, so it is kept (up to keep_max) and offered from memory */
		offer_kept = s && w->nest && !offer && !(flags & 1);
		keep_max = offer || !w->nest ? 0 : w->nest->keep_max;
	}
	bool keep = s && keep_max > 0;
	struct buf data = BUF_INIT;
	const char *why = NULL;
	bool cut = false; /* the stream ended or failed inside the entry */
	bool lost = false; /* its end is not known */
	if (offer) {
		why = offer_entry(w, s, name, nlen, flags, method, &crc, &csize, &usize, wide, &cut, &lost);
	} else if (flags & 1) {
		why = "encrypted entry";
		if (flags & 8)
			lost = true;
		else
			cut = !skip_bytes(p, csize);
	} else if (flags & 8) {
		uint64_t cs = 0, us = 0;
		bool done;
		if (method == 8) {
			done = inflate_unknown(p, keep ? keep_max : 0, keep ? &data : NULL, &cs, &us, &why);
			if (done) {
				size_t avail = peek(p, DD_MAX);
				size_t dl = descriptor_at(p->chunk[p->cur] + p->pos, avail, cs, us, wide, &crc);
				if (dl)
					p->pos += dl;
				else
					why = "its data descriptor does not match it";
				done = dl > 0;
			}
		} else if (method == 0) {
			done = stored_to_descriptor(p, wide, keep ? keep_max : 0, keep ? &data : NULL, &crc, &us, &why);
			cs = us;
		} else {
			done = false;
			why = "unsupported compression method with a data descriptor";
		}
		if (!done) {
			lost = true;
		} else {
			csize = cs;
			usize = us;
			if (keep && us > keep_max)
				why = "entry exceeds the size limit";
		}
	} else if (keep && usize > keep_max) {
		why = "entry exceeds the size limit";
		cut = !skip_bytes(p, csize);
	} else if (keep && method == 8) {
		why = inflate_known(p, csize, usize, &data, &cut);
	} else if (keep && method == 0) {
		buf_reserve(&data, (size_t)usize);
		cut = !take(p, (unsigned char *)data.data, (size_t)usize);
		if (!cut)
			data.len = (size_t)usize;
		csize = usize;
	} else {
		if (keep && method != 0 && method != 8)
			why = "unsupported compression method";
		cut = !skip_bytes(p, csize);
	}
	if (s) {
		s->method = method;
		s->crc = crc;
		s->csize = csize;
		s->usize = usize;
		if (!why && keep && data.len && crc32(0, (const Bytef *)data.data, (uInt)data.len) != crc)
			why = "CRC mismatch";
		if (lost || cut)
			why = why ? why : "archive ends inside an entry";
		if (why) {
			s->error = xstrdup(why);
			if (s->token)
				w->nest->drop(w->nest->ctx, s->token);
			s->token = NULL;
		} else if (offer_kept) {
			struct memrd m = {(const unsigned char *)data.data, data.len, 0};
			uint64_t spent = 0;
			s->offered = true;
			s->token = w->nest->open(w->nest->ctx, name, nlen, crc, data.len, p->base + p->total, mem_read,
						 &m, &spent);
			spend(p, spent);
		} else if (keep) {
			s->len = data.len;
			s->data = (unsigned char *)buf_detach(&data);
		}
	}
	free(name);
	buf_free(&data);
	if (lost || cut) {
		w->stop = why ? why : "archive ends inside an entry";
		return false;
	}
	return true;
}

/* Walk the local headers until the central directory (or an end record)
 * comes where a header is due, or the stream ends.  Bytes that are no
 * header there (a local header whose sizes lie, junk between entries), or
 * an entry whose end cannot be found, do not stop it: the tail is kept from
 * that point on, since the central directory may be anywhere after it, and
 * the walk goes on at the next local header signature.  A signature found
 * so inside an entry's data (a STORED nested jar's own headers) does no
 * harm: only the records the central directory points at are used. */
static void walk(struct walk *w)
{
	struct pull *p = w->p;
	for (;;) {
		if (peek(p, 4) < 4) {
			p->pos = p->len; /* fewer than 4 bytes left: nothing more to walk */
			return;
		}
		uint32_t sig = le32(p->chunk[p->cur] + p->pos);
		if (sig == SIG_CEN || sig == SIG_END || sig == SIG_END64) {
			keep_tail(p);
			return;
		}
		if (sig != SIG_LOC) {
			if (w->any_loc)
				keep_tail(p); /* bytes that are no entry: not data before the first */
			if (!seek_first_header(p))
				return;
		}
		uint64_t at = here(p);
		p->pos += 4;
		if (!walk_entry(w, at))
			keep_tail(p);
	}
}

/* ---- decide: the central directory over what was kept */

struct kept {
	struct pull *p;
	struct walk *w;
	bool missed;
};

static size_t copy_from(const unsigned char *b, uint64_t b_at, size_t b_len, uint64_t at, unsigned char *d,
			size_t n)
{
	if (at < b_at || at - b_at >= b_len)
		return 0;
	size_t k = b_len - (size_t)(at - b_at) < n ? b_len - (size_t)(at - b_at) : n;
	memcpy(d, b + (at - b_at), k);
	return k;
}

static const struct seen *seen_at(const struct walk *w, uint64_t off)
{
	size_t lo = 0, hi = w->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->seen[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->n && w->seen[lo].off == off ? &w->seen[lo] : NULL;
}

static int kept_read(void *ctx, void *dst, size_t n, uint64_t at)
{
	struct kept *k = ctx;
	struct pull *p = k->p;
	unsigned char *d = dst;
	/* a signature read at a local header the walk went through */
	if (n == 4 && ((k->w->any_loc && at == k->w->first_loc) || seen_at(k->w, at))) {
		memcpy(d, "PK\3\4", 4);
		return 0;
	}
	while (n) {
		size_t got = copy_from(p->chunk[p->cur], p->at, p->len, at, d, n);
		if (!got)
			got = copy_from(p->chunk[!p->cur], p->prev_at, p->prev_len, at, d, n);
		if (!got)
			got = copy_from((const unsigned char *)p->tail.data, p->tail_at, p->tail.len, at, d, n);
		if (!got)
			got = copy_from(p->head, 0, p->head_len, at, d, n);
		if (!got) {
			k->missed = true;
			return 1;
		}
		at += got;
		d += got;
		n -= got;
	}
	return 0;
}

static struct stream_entry *add_entry(struct stream_result *res, const char *name, size_t nlen)
{
	if ((res->n & (res->n - 1)) == 0) /* 0, 1, 2, 4...: double */
		res->entries = xrealloc(res->entries, (res->n ? 2 * res->n : 1) * sizeof *res->entries);
	struct stream_entry *se = &res->entries[res->n++];
	memset(se, 0, sizeof *se);
	se->name = xstrndup(name, nlen);
	se->name_len = nlen;
	return se;
}

/* An entry of the central directory whose data the walk did not give (its
 * local header was not reached, lied about its sizes, or named another
 * entry): read again by its offset (fetch). */
struct need {
	size_t ent;              /* index in the result */
	uint64_t off, csize, usize;
	uint16_t method;
	uint32_t crc;
	bool nest;               /* offered to stream_nest.open when read */
};

/* The central directory's entries that the caller wants, with the data the
 * walk kept at their local headers; those it did not keep go to *need. */
static void from_cen(const struct zip *z, struct walk *w, struct stream_result *res, struct need **need,
		     size_t *nneed)
{
	for (size_t i = 0; i < z->nentries; i++) {
		const struct zip_entry *e = &z->entries[i];
		uint64_t max = 0;
		if (!w->want(e->name, e->name_len, &max, w->ctx))
			continue;
		struct stream_entry *se = add_entry(res, e->name, e->name_len);
		se->crc = e->crc;
		se->usize = e->usize;
		bool nest = max == STREAM_NEST;
		if (nest)
			max = w->nest ? w->nest->keep_max : 0;
		if (max == 0 && !(nest && w->nest))
			continue;
		struct seen *s = (struct seen *)seen_at(w, e->local_off);
		bool agree = s && s->method == e->method && s->crc == e->crc && s->csize == e->csize &&
			     s->usize == e->usize;
		if (nest && w->nest && agree && s->offered) {
			/* read as it streamed by: its token counts (once) */
			se->nested = s->token;
			s->token = NULL;
			se->error = s->error ? xstrdup(s->error) : NULL;
			continue;
		}
		bool refetch = nest && w->nest && !(agree && (s->data || s->error));
		const char *why = NULL;
		if (e->flags & 1)
			why = "encrypted entry";
		else if (e->method == 0xFFFF)
			why = "bad ZIP64 extra field";
		else if (e->method != 0 && e->method != 8)
			why = "unsupported compression method";
		else if (!refetch && e->usize > max)
			why = "entry exceeds the size limit";
		else if (agree && (s->data || s->error))
			why = s->error; /* the walk read it as the central directory says */
		else {
			if ((*nneed & (*nneed - 1)) == 0) /* 0, 1, 2, 4...: double */
				*need = xrealloc(*need, (*nneed ? 2 * *nneed : 1) * sizeof **need);
			(*need)[(*nneed)++] = (struct need){res->n - 1, e->local_off, e->csize, e->usize, e->method,
							    e->crc, refetch};
			why = "not read while streaming";
		}
		if (why) {
			se->error = xstrdup(why);
		} else {
			se->data = xmalloc(s->len ? s->len : 1);
			memcpy(se->data, s->data, s->len);
			se->len = s->len;
		}
	}
}

/* The walk's entries as they are: when the central directory is out of
 * reach because of a bound of log4scan's own. */
static void from_walk(struct walk *w, struct stream_result *res)
{
	for (size_t i = 0; i < w->n; i++) {
		struct seen *s = &w->seen[i];
		struct stream_entry *se = add_entry(res, s->name, s->name_len);
		se->crc = s->crc;
		se->usize = s->usize;
		se->data = s->data;
		se->len = s->len;
		se->error = s->error;
		se->nested = s->token;
		s->data = NULL;
		s->error = NULL;
		s->token = NULL;
	}
	res->unchecked = true;
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->seen[i].token) /* a local header the central directory does not list */
			w->nest->drop(w->nest->ctx, w->seen[i].token);
		free(w->seen[i].name);
		free(w->seen[i].data);
		free(w->seen[i].error);
	}
	free(w->seen);
}

/* After the walk: the rest of the stream, then the decision. */
static bool decide(struct pull *p, struct walk *w, const struct zip_limits *lim, struct stream_result *res,
		   struct need **need, size_t *nneed, struct buf *err)
{
	keep_tail(p);
	p->pos = p->len;
	while (refill(p))
		p->pos = p->len;
	const char *unchecked = "entries are as their local headers show them (not checked against the "
				"central directory)";
	if (p->error) {
		if (p->limit) {
			buf_printf(err, "%s before the end of the nested archive: %s", p->error, unchecked);
			from_walk(w, res);
		} else {
			buf_printf(err, "%s in the nested archive's stream: the JVM cannot read it either", p->error);
		}
		return false;
	}
	struct kept k = {p, w, false};
	struct zip_reader r = {p->at + p->len, kept_read, &k};
	struct zip z;
	struct buf why = BUF_INIT;
	enum zip_status st = zip_open_reader(&z, &r, lim, &why);
	bool ok = st == ZIP_OK;
	if (ok) {
		from_cen(&z, w, res, need, nneed);
		zip_cd_sha256(z.cd, z.cd_len, res->cd_sha256);
		memcpy(res->refused, z.refused, sizeof res->refused);
		zip_close(&z);
	} else if (k.missed) {
		buf_printf(err, "%s: %s", buf_cstr(&why), unchecked);
		from_walk(w, res);
	} else if (st == ZIP_NOT_ZIP) {
		buf_printf(err, "no end record: the nested archive is truncated or not a zip%s%s",
			   w->stop ? " (" : "", w->stop ? w->stop : "");
		if (w->stop)
			buf_adds(err, ")");
	} else {
		buf_add(err, why.data, why.len);
	}
	buf_free(&why);
	return ok;
}

/* A pull over the parent's bytes [off, off + csize) (src) or a reader's
 * (rd, rctx; src NULL). */
static struct pull *pull_new(const struct zsrc *src, uint64_t off, uint64_t csize, byte_read_fn rd, void *rctx,
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

static void pull_free(struct pull *p)
{
	inflater_free(p->z);
	buf_free(&p->tail);
	free(p->chunk[0]);
	free(p->chunk[1]);
	free(p);
}

static int by_offset(const void *a, const void *b)
{
	const struct need *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off ? 1 : (x->ent > y->ent) - (x->ent < y->ent);
}

/* One entry at its offset, sized as the central directory says (the JDK's
 * way: only the local header's name and extra lengths are used). */
static const char *fetch_one(struct pull *p, const struct need *n, struct buf *data)
{
	unsigned char h[30];
	if (!skip_bytes(p, n->off - here(p)) || !take(p, h, 30))
		return p->error ? p->error : "archive ends before its local header";
	if (le32(h) != SIG_LOC)
		return "local header missing";
	bool cut = !skip_bytes(p, (uint64_t)le16(h + 26) + le16(h + 28));
	const char *why = NULL;
	if (!cut && n->method == 8) {
		why = inflate_known(p, n->csize, n->usize, data, &cut);
	} else if (!cut) {
		if (n->csize != n->usize)
			return "stored entry with different sizes";
		buf_reserve(data, (size_t)n->usize);
		cut = !take(p, (unsigned char *)data->data, (size_t)n->usize);
		if (!cut)
			data->len = (size_t)n->usize;
	}
	if (cut)
		return p->error ? p->error : "archive ends inside an entry";
	if (!why && crc32(0, (const Bytef *)data->data, (uInt)data->len) != n->crc)
		why = "CRC mismatch";
	return why;
}

/* The same for an entry offered to stream_nest.open (*tok: what it gave). */
static const char *fetch_nested(struct pull *p, const struct need *n, const struct stream_nest *nest,
				const struct stream_entry *se, void **tok)
{
	unsigned char h[30];
	*tok = NULL;
	if (!skip_bytes(p, n->off - here(p)) || !take(p, h, 30))
		return p->error ? p->error : "archive ends before its local header";
	if (le32(h) != SIG_LOC)
		return "local header missing";
	if (!skip_bytes(p, (uint64_t)le16(h + 26) + le16(h + 28)))
		return p->error ? p->error : "archive ends inside an entry";
	if (n->method == 0 && n->csize != n->usize)
		return "stored entry with different sizes";
	struct ent_rd r;
	if (!ent_init(&r, p, n->method, true, n->csize))
		return "out of memory";
	uint64_t spent = 0;
	void *t = nest->open(nest->ctx, se->name, se->name_len, n->crc, n->usize, p->base + p->total, ent_read, &r,
			     &spent);
	spend(p, spent);
	ent_drain(&r);
	ent_fini(&r);
	const char *why = r.why;
	if (!why && r.whole && r.usize != n->usize)
		why = "corrupt deflate data";
	if (!why && r.whole && r.crc != n->crc)
		why = "CRC mismatch";
	if (why && t)
		nest->drop(nest->ctx, t);
	else
		*tok = t;
	return why;
}

/* A second pass over the stream for the entries the walk did not give,
 * in offset order; an entry whose local header lies before the one read
 * last (overlapping entries) keeps its error. */
static void fetch(const struct zip *parent, const struct zip_entry *e, uint64_t off, uint64_t budget,
		  const struct zip_limits *lim, const struct stream_nest *nest, struct need *need, size_t nneed,
		  struct stream_result *res)
{
	struct pull *p = pull_new(&parent->src, off, e->csize, NULL, NULL, budget, lim, false);
	if (!p)
		return;
	p->base = res->bytes;
	qsort(need, nneed, sizeof *need, by_offset);
	for (size_t i = 0; i < nneed && !p->error; i++) {
		struct stream_entry *se = &res->entries[need[i].ent];
		if (i && need[i].off == need[i - 1].off) {
			/* a second central entry for the same local header */
			const struct stream_entry *o = &res->entries[need[i - 1].ent];
			free(se->error);
			se->error = o->error ? xstrdup(o->error) : NULL;
			if (o->data) {
				se->data = xmalloc(o->len ? o->len : 1);
				memcpy(se->data, o->data, o->len);
				se->len = o->len;
			}
			continue;
		}
		if (need[i].off < here(p)) {
			free(se->error);
			se->error = xstrdup("its local header lies inside another entry; not read while streaming");
			continue;
		}
		if (need[i].nest && nest) {
			free(se->error);
			const char *why = fetch_nested(p, &need[i], nest, se, &se->nested);
			se->error = why ? xstrdup(why) : NULL;
			continue;
		}
		struct buf data = BUF_INIT;
		const char *why = fetch_one(p, &need[i], &data);
		free(se->error);
		se->error = NULL;
		if (why) {
			se->error = xstrdup(why);
		} else {
			se->len = data.len;
			se->data = (unsigned char *)buf_detach(&data);
		}
		buf_free(&data);
	}
	res->bytes += p->total;
	res->spent += p->extra;
	pull_free(p);
}

/* Walk, decide, hash: what both sources share.  The entries to fetch
 * again are left in *need (for a source that can be read twice). */
static bool stream(struct pull *p, const struct zip_limits *lim, bool want_sha256, stream_want_fn want,
		   void *ctx, const struct stream_nest *nest, struct stream_result *res, struct need **need,
		   size_t *nneed, struct buf *err)
{
	struct walk w = {.p = p, .want = want, .ctx = ctx, .nest = nest};
	walk(&w);
	bool ok = decide(p, &w, lim, res, need, nneed, err);
	walk_free(&w);
	if (ok && want_sha256) {
		unsigned char d[32];
		sha256_digest(&p->sha, 32, d);
		for (int i = 0; i < 32; i++)
			snprintf(res->sha256 + 2 * i, 3, "%02x", d[i]);
	}
	res->bytes = p->total;
	res->spent = p->extra;
	return ok;
}

bool zipstream_read(const struct zip *parent, const struct zip_entry *e, uint64_t max_total,
		    const struct zip_limits *lim, bool want_sha256, stream_want_fn want, void *ctx,
		    const struct stream_nest *nest, struct stream_result *res, struct buf *err)
{
	memset(res, 0, sizeof *res);
	uint64_t off;
	if (e->method != 8) {
		buf_adds(err, "streaming needs a DEFLATED entry");
		return false;
	}
	if (!zip_data_offset(parent, e, &off, err))
		return false;
	struct pull *p = pull_new(&parent->src, off, e->csize, NULL, NULL, max_total, lim, want_sha256);
	if (!p) {
		buf_adds(err, "out of memory");
		return false;
	}
	struct need *need = NULL;
	size_t nneed = 0;
	bool ok = stream(p, lim, want_sha256, want, ctx, nest, res, &need, &nneed, err);
	pull_free(p);
	if (ok && nneed && res->bytes + res->spent < max_total)
		fetch(parent, e, off, max_total - res->bytes - res->spent, lim, nest, need, nneed, res);
	free(need);
	return ok;
}

bool zipstream_read_fn(byte_read_fn rd, void *rctx, uint64_t max_total, const struct zip_limits *lim,
		       bool want_sha256, stream_want_fn want, void *ctx, const struct stream_nest *nest,
		       struct stream_result *res, struct buf *err)
{
	memset(res, 0, sizeof *res);
	struct pull *p = pull_new(NULL, 0, 0, rd, rctx, max_total, lim, want_sha256);
	struct need *need = NULL;
	size_t nneed = 0;
	bool ok = stream(p, lim, want_sha256, want, ctx, nest, res, &need, &nneed, err);
	pull_free(p);
	/* read once: the entries the walk did not give keep their error */
	for (size_t i = 0; i < nneed; i++) {
		struct stream_entry *se = &res->entries[need[i].ent];
		free(se->error);
		se->error = xstrdup("its local header does not agree with the central directory; a stream read "
				    "once cannot be read again");
	}
	free(need);
	return ok;
}

void stream_result_drop(struct stream_result *res, const struct stream_nest *nest)
{
	for (size_t i = 0; i < res->n; i++)
		if (res->entries[i].nested && nest)
			nest->drop(nest->ctx, res->entries[i].nested);
	stream_result_free(res);
}

void stream_result_free(struct stream_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->entries[i].name);
		free(res->entries[i].data);
		free(res->entries[i].error);
	}
	free(res->entries);
	memset(res, 0, sizeof *res);
}
