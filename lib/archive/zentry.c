/* zentry.c - a zip entry's bytes as a stream (see zentry.h).
 *
 * The entry's data is located from its local header (signature, name and
 * extra lengths; APPNOTE 4.3.7), checked to lie inside the parent, then
 * handed out in chunks: copied for STORED, inflated for DEFLATED (its size
 * is known: inflater.h; the heads, a few hundred bytes each, with zlib). */
#include "archive/zentry.h"

#include "archive/inflater.h"
#include "archive/sniff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IN_CHUNK (64u << 10)
#define HEAD_IN 768u    /* compressed bytes read with the local header for a head */
#define HEAD_IN_MAX (32u << 10)

struct zentry {
	struct zsrc src;
	uint64_t at, end;   /* compressed bytes still to read: [at, end) of src */
	uint16_t method;
	struct inflater *z;
	bool done, over;
	unsigned char *in;
	const unsigned char *in_next; /* unused input: [in_next, in_next + in_len) */
	size_t in_len;
	uint64_t produced, max_out;
};

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

static bool readable(const struct zip_entry *e, struct buf *err)
{
	if (e->flags & 1) {
		if (err)
			buf_adds(err, "encrypted entry");
		return false;
	}
	if (e->method != 0 && e->method != 8) {
		if (err)
			buf_printf(err, "unsupported compression method %u", e->method);
		return false;
	}
	return true;
}

struct zentry *zentry_open(const struct zip *z, const struct zip_entry *e, uint64_t max_out,
			   struct buf *err)
{
	uint64_t off;
	if (!readable(e, err) || !zip_data_offset(z, e, &off, err))
		return NULL;
	struct zentry *r = xcalloc(1, sizeof *r);
	r->src = z->src;
	r->at = off;
	r->end = off + e->csize;
	r->method = e->method;
	r->max_out = max_out;
	if (r->method == 8) {
		if (!(r->z = inflater_new())) {
			buf_adds(err, "out of memory");
			free(r);
			return NULL;
		}
		r->in = xmalloc(IN_CHUNK);
	}
	return r;
}

/* How much may still be produced, at most want. */
static size_t room(const struct zentry *r, size_t want)
{
	if (!r->max_out)
		return want;
	uint64_t left = r->max_out > r->produced ? r->max_out - r->produced : 0;
	return left < want ? (size_t)left : want;
}

static ssize_t read_stored(struct zentry *r, unsigned char *buf, size_t cap, const char **why)
{
	uint64_t left = r->end - r->at;
	size_t n = left < cap ? (size_t)left : cap;
	if (!n)
		return 0;
	size_t k = room(r, n);
	if (!k) {
		r->over = true;
		*why = "inflation budget exhausted";
		return -1;
	}
	if (zip_src_read(&r->src, buf, k, r->at) < 0) {
		*why = "read error";
		return -1;
	}
	r->at += k;
	r->produced += k;
	return (ssize_t)k;
}

static ssize_t read_deflated(struct zentry *r, unsigned char *buf, size_t cap, const char **why)
{
	if (r->done)
		return 0;
	size_t k = room(r, cap);
	if (!k) {
		r->over = true;
		*why = "inflation budget exhausted";
		return -1;
	}
	unsigned char *next = buf;
	size_t room = k;
	while (room == k) {
		if (r->in_len == 0 && r->at < r->end) {
			size_t n = r->end - r->at < IN_CHUNK ? (size_t)(r->end - r->at) : IN_CHUNK;
			if (zip_src_read(&r->src, r->in, n, r->at) < 0) {
				*why = "read error";
				return -1;
			}
			r->at += n;
			r->in_next = r->in;
			r->in_len = n;
		}
		enum inflate_rc zr = inflater_run(r->z, &r->in_next, &r->in_len, &next, &room);
		if (zr == INFLATE_END) {
			r->done = true;
			break;
		}
		if (zr == INFLATE_BAD) {
			*why = "corrupt deflate data";
			return -1;
		}
		if (room == k && r->in_len == 0 && r->at >= r->end) {
			*why = "truncated deflate data";
			return -1;
		}
	}
	size_t got = k - room;
	r->produced += got;
	return (ssize_t)got;
}

ssize_t zentry_read(void *ctx, unsigned char *buf, size_t cap, const char **why)
{
	struct zentry *r = ctx;
	return r->method == 8 ? read_deflated(r, buf, cap, why) : read_stored(r, buf, cap, why);
}

uint64_t zentry_produced(const struct zentry *r)
{
	return r->produced;
}

bool zentry_over_budget(const struct zentry *r)
{
	return r->over;
}

void zentry_close(struct zentry *r)
{
	if (!r)
		return;
	inflater_free(r->z);
	free(r->in);
	free(r);
}

/* ---- heads: the local header and the first data bytes in one read */

/* Inflate up to cap bytes of head; stop at SNIFF_EARLY when those already
 * say the entry is none of the kinds sniff tells (most entries: the bytes
 * after them would not change its answer, and inflating them is a sixth of
 * the cost of a head). */
static size_t inflate_head(const struct zsrc *src, const unsigned char *have, size_t hn, uint64_t at,
			   uint64_t end, unsigned char *head, size_t cap)
{
	size_t first = cap > SNIFF_EARLY ? SNIFF_EARLY : cap;
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, -15) != Z_OK)
		return 0;
	unsigned char more[4096];
	z.next_in = (unsigned char *)have;
	z.avail_in = (uInt)hn;
	z.next_out = head;
	z.avail_out = (uInt)first;
	uint64_t read_to = at;
	for (;;) {
		int zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END || (zr != Z_OK && zr != Z_BUF_ERROR))
			break;
		if (z.avail_out == 0) {
			if (first == cap || sniff_none_early(head, first))
				break;
			z.avail_out = (uInt)(cap - first);
			first = cap;
			continue;
		}
		if (z.avail_in)
			continue;
		if (read_to >= end || read_to - at >= HEAD_IN_MAX)
			break;
		size_t n = end - read_to < sizeof more ? (size_t)(end - read_to) : sizeof more;
		if (zip_src_read(src, more, n, read_to) < 0)
			break;
		read_to += n;
		z.next_in = more;
		z.avail_in = (uInt)n;
	}
	size_t got = first - z.avail_out;
	inflateEnd(&z);
	return got;
}

bool zentry_head(const struct zip *z, const struct zip_entry *e, unsigned char *head, size_t cap,
		 size_t *n)
{
	*n = 0;
	if (!readable(e, NULL))
		return false;
	const struct zsrc *src = &z->src;
	if (e->local_off > src->size || src->size - e->local_off < 30)
		return false;
	/* local header + name + a guess at the extra field + the data head */
	size_t out = cap < ZENTRY_HEAD_FIRST ? cap : ZENTRY_HEAD_FIRST;
	size_t want = 30 + e->name_len + 64 + (e->method == 8 ? HEAD_IN : out);
	uint64_t avail = src->size - e->local_off;
	size_t len = want < avail ? want : (size_t)avail;
	unsigned char *b = xmalloc(len);
	bool ok = false;
	if (zip_src_read(src, b, len, e->local_off) < 0 || memcmp(b, "PK\3\4", 4))
		goto out;
	uint64_t data = e->local_off + 30 + le16(b + 26) + le16(b + 28);
	if (data > src->size || e->csize > src->size - data)
		goto out;
	size_t rel = data - e->local_off < len ? (size_t)(data - e->local_off) : len;
	size_t in_buf = len - rel;
	if (in_buf > e->csize)
		in_buf = (size_t)e->csize;
	for (;;) {
		if (e->method == 0) {
			size_t k = e->csize < out ? (size_t)e->csize : out;
			if (k <= in_buf)
				memcpy(head, b + rel, k);
			else if (zip_src_read(src, head, k, data) < 0)
				goto out;
			*n = k;
		} else {
			*n = inflate_head(src, b + rel, in_buf, data + in_buf, data + e->csize, head, out);
		}
		/* a PE's section table may lie past the first bytes */
		if (out == cap || *n < out || head[0] != 'M' || head[1] != 'Z')
			break;
		out = cap;
	}
	ok = true;
out:
	free(b);
	return ok;
}
