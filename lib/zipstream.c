/* zipstream.c - front-to-back ZIP reading over an inflated stream (see
 * zipstream.h).
 *
 * Two layers: `pull` turns the parent's compressed bytes (read with pread in
 * 64 KiB chunks) into the nested archive's bytes on demand, with a small
 * push-back so that an inner DEFLATE stream that ends mid-buffer can return
 * what it did not use; the local-header walk then takes bytes from `pull`. */
#include "zipstream.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CHUNK 65536
#define OUT_CHUNK (256 << 10) /* inflate copies 32 KiB to its window per call: fewer calls, less copying */

struct pull {
	const struct zsrc *src;
	uint64_t in_at, in_end;         /* parent bytes still to read */
	unsigned char in[CHUNK];
	z_stream z;
	bool z_done;
	unsigned char out[OUT_CHUNK];   /* inflated, not yet consumed */
	size_t out_pos, out_len;
	uint64_t total, max_total;
	bool hash;
	struct sha256_ctx sha;
	const char *error;
};

/* Refill out[] with more inflated bytes; false at end or on error. */
static bool refill(struct pull *p)
{
	if (p->z_done)
		return false;
	p->out_pos = p->out_len = 0;
	p->z.next_out = p->out;
	p->z.avail_out = OUT_CHUNK;
	while (p->z.avail_out == OUT_CHUNK) {
		if (p->z.avail_in == 0 && p->in_at < p->in_end) {
			size_t n = p->in_end - p->in_at < CHUNK ? (size_t)(p->in_end - p->in_at) : CHUNK;
			if (zsrc_read(p->src, p->in, n, p->in_at) < 0) {
				p->error = "read error";
				return false;
			}
			p->in_at += n;
			p->z.next_in = p->in;
			p->z.avail_in = (uInt)n;
		}
		int r = inflate(&p->z, Z_NO_FLUSH);
		if (r == Z_STREAM_END) {
			p->z_done = true;
			break;
		}
		if (r != Z_OK && !(r == Z_BUF_ERROR && p->z.avail_in == 0 && p->in_at < p->in_end)) {
			p->error = "corrupt deflate data";
			return false;
		}
		if (r == Z_BUF_ERROR && p->in_at >= p->in_end) {
			p->error = "truncated deflate data";
			return false;
		}
	}
	p->out_len = OUT_CHUNK - p->z.avail_out;
	p->total += p->out_len;
	if (p->hash)
		sha256_update(&p->sha, p->out_len, p->out);
	if (p->total > p->max_total) {
		p->error = "inflation budget for this file exhausted (--max-inflate)";
		return false;
	}
	return p->out_len > 0;
}

/* Copy n bytes (dst may be NULL to skip). */
static bool take(struct pull *p, unsigned char *dst, size_t n)
{
	while (n) {
		if (p->out_pos == p->out_len && !refill(p))
			return false;
		size_t k = p->out_len - p->out_pos < n ? p->out_len - p->out_pos : n;
		if (dst) {
			memcpy(dst, p->out + p->out_pos, k);
			dst += k;
		}
		p->out_pos += k;
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

/* Archives may have data before the first entry (a launch script, or
 * anything): move to the first local-header signature. */
static bool seek_first_header(struct pull *p)
{
	static const unsigned char sig[4] = {'P', 'K', 3, 4};
	unsigned char carry[3];
	size_t ncarry = 0;
	for (;;) {
		if (p->out_pos == p->out_len) {
			size_t keep = p->out_len >= 3 ? 3 : p->out_len;
			if (keep) {
				memcpy(carry, p->out + p->out_len - keep, keep);
				ncarry = keep;
			}
			if (!refill(p))
				return false;
			/* a signature split across the two buffers */
			for (size_t k = 1; k <= ncarry; k++) {
				size_t from_head = 4 - k;
				if (p->out_len >= from_head && !memcmp(carry + ncarry - k, sig, k) &&
				    !memcmp(p->out, sig + k, from_head)) {
					p->out_pos = from_head;
					return true; /* signature consumed */
				}
			}
		}
		/* memchr for the 'P' runs at memory speed over the long runs of
		 * one byte that prepended data tends to be; memmem does not. */
		unsigned char *q = p->out + p->out_pos, *end = p->out + p->out_len;
		while ((q = memchr(q, 'P', (size_t)(end - q)))) {
			if (end - q < 4)
				break;
			if (!memcmp(q, sig, 4)) {
				p->out_pos = (size_t)(q - p->out) + 4;
				return true;
			}
			q++;
		}
		/* a 'P' in the last 3 bytes is picked up by the carry above */
		p->out_pos = p->out_len;
	}
}

static uint16_t le16(const unsigned char *b) { return (uint16_t)(b[0] | b[1] << 8); }
static uint32_t le32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t le64(const unsigned char *b) { return le32(b) | (uint64_t)le32(b + 4) << 32; }

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
		if (p->out_pos == p->out_len && !refill(p)) {
			*why = p->error ? p->error : "archive ends inside an entry";
			break;
		}
		z.next_in = p->out + p->out_pos;
		z.avail_in = (uInt)(p->out_len - p->out_pos);
		z.next_out = tmp;
		z.avail_out = sizeof tmp;
		int r = inflate(&z, Z_NO_FLUSH);
		size_t used = (p->out_len - p->out_pos) - z.avail_in;
		p->out_pos += used;
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

static void add_entry(struct stream_result *res, const char *name, size_t nlen)
{
	res->entries = xrealloc(res->entries, (res->n + 1) * sizeof *res->entries);
	struct stream_entry *se = &res->entries[res->n++];
	memset(se, 0, sizeof *se);
	se->name = xstrndup(name, nlen);
	se->name_len = nlen;
}

bool zipstream_read(const struct zip *parent, const struct zip_entry *e, uint64_t max_total,
		    bool want_sha256, stream_want_fn want, void *ctx, struct stream_result *res,
		    struct buf *err)
{
	memset(res, 0, sizeof *res);
	uint64_t off;
	if (e->method != 8) {
		buf_adds(err, "streaming needs a DEFLATED entry");
		return false;
	}
	if (!zip_data_offset(parent, e, &off, err))
		return false;
	struct pull *p = xcalloc(1, sizeof *p);
	p->src = &parent->src;
	p->in_at = off;
	p->in_end = off + e->csize;
	p->max_total = max_total;
	p->hash = want_sha256;
	sha256_init(&p->sha);
	if (inflateInit2(&p->z, -15) != Z_OK) {
		free(p);
		buf_adds(err, "out of memory");
		return false;
	}
	bool ok = false;
	unsigned char h[30];
	char *name = NULL;
	struct buf data = BUF_INIT; /* the kept bytes of the current entry */
	bool first = true;
	for (;;) {
		if (!take(p, h, 4)) {
			buf_adds(err, p->error ? p->error : "archive ends without a central directory");
			break;
		}
		uint32_t sig = le32(h);
		if (first && sig != 0x04034b50) {
			if (!seek_first_header(p)) {
				buf_adds(err, p->error ? p->error : "no local header: not a zip");
				break;
			}
			sig = 0x04034b50;
		}
		first = false;
		if (sig == 0x02014b50 || sig == 0x06054b50 || sig == 0x06064b50) {
			ok = true; /* central directory reached: every entry seen */
			break;
		}
		if (sig != 0x04034b50) {
			buf_adds(err, "unexpected data between entries (not a plain zip stream)");
			break;
		}
		if (!take(p, h + 4, 26)) {
			buf_adds(err, "truncated local header");
			break;
		}
		uint16_t flags = le16(h + 6), method = le16(h + 8), nlen = le16(h + 26), xlen = le16(h + 28);
		uint32_t crc = le32(h + 14);
		uint64_t csize = le32(h + 18), usize = le32(h + 22);
		free(name);
		name = xmalloc((size_t)nlen + 1);
		unsigned char *extra = xmalloc((size_t)xlen + 1);
		bool got = take(p, (unsigned char *)name, nlen) && take(p, extra, xlen);
		name[nlen] = 0;
		if (got && (csize == 0xFFFFFFFF || usize == 0xFFFFFFFF)) {
			for (size_t i = 0; i + 4 <= xlen;) {
				uint16_t id = le16(extra + i), len = le16(extra + i + 2);
				if (id == 1 && len >= 16 && i + 4 + len <= xlen) {
					usize = le64(extra + i + 4);
					csize = le64(extra + i + 12);
				}
				i += 4 + (size_t)len;
			}
		}
		free(extra);
		if (!got) {
			buf_adds(err, "truncated local header");
			break;
		}
		uint64_t keep_max = 0;
		bool keep = want(name, nlen, &keep_max, ctx);
		bool name_only = keep && keep_max == 0;
		if (name_only) {
			/* the caller needs to know the entry exists, not its bytes */
			add_entry(res, name, nlen);
			keep = false;
		}
		buf_free(&data);
		const char *why = NULL;
		if (flags & 1) {
			why = "encrypted entry";
			if (!(flags & 8) && !skip_bytes(p, csize))
				break;
			if (flags & 8) {
				buf_adds(err, "encrypted entry of unknown size; stream cannot continue");
				break;
			}
		} else if (flags & 8) {
			if (method != 8) {
				buf_adds(err, "stored entry with a data descriptor; stream cannot continue");
				break;
			}
			uint64_t cs, us;
			if (!inflate_unknown(p, keep ? keep_max : 0, keep ? &data : NULL, &cs, &us, &why)) {
				buf_adds(err, why);
				break;
			}
			/* descriptor: optional signature, crc, then 4- or 8-byte sizes */
			unsigned char d[24];
			if (!take(p, d, 4))
				break;
			size_t at = le32(d) == 0x08074b50 ? 4 : 0;
			if (at && !take(p, d + 4, 4))
				break;
			crc = le32(d + at);
			bool big = cs > 0xFFFFFFFFu || us > 0xFFFFFFFFu;
			if (!take(p, d + at + 4, big ? 16 : 8))
				break;
			usize = us;
			if (keep && us > keep_max)
				why = "entry exceeds the size limit";
		} else if (keep && usize > keep_max) {
			why = "entry exceeds the size limit";
			if (!skip_bytes(p, csize))
				break;
		} else if (keep && method == 8) {
			if (csize > (64u << 20)) {
				why = "compressed entry too large to keep";
				if (!skip_bytes(p, csize))
					break;
			} else {
				unsigned char *cbuf = xmalloc(csize ? (size_t)csize : 1);
				bool okc = take(p, cbuf, (size_t)csize);
				if (okc) {
					z_stream z;
					memset(&z, 0, sizeof z);
					buf_reserve(&data, (size_t)usize);
					if (inflateInit2(&z, -15) == Z_OK) {
						z.next_in = cbuf;
						z.avail_in = (uInt)csize;
						z.next_out = (unsigned char *)data.data;
						z.avail_out = (uInt)usize;
						int r = inflate(&z, Z_FINISH);
						if (r == Z_STREAM_END && z.total_out == usize)
							data.len = (size_t)usize;
						else
							why = "corrupt deflate data";
						inflateEnd(&z);
					}
				}
				free(cbuf);
				if (!okc)
					break;
			}
		} else if (keep && method == 0) {
			buf_reserve(&data, (size_t)usize);
			if (!take(p, (unsigned char *)data.data, (size_t)usize))
				break;
			data.len = (size_t)usize;
		} else {
			if (keep && method != 0 && method != 8)
				why = "unsupported compression method";
			if (!skip_bytes(p, csize))
				break;
		}
		if (keep) {
			add_entry(res, name, nlen);
			struct stream_entry *se = &res->entries[res->n - 1];
			se->crc = crc;
			se->usize = usize;
			if (!why && data.len && crc32(0, (const Bytef *)data.data, (uInt)data.len) != crc)
				why = "CRC mismatch";
			if (why) {
				se->error = xstrdup(why);
				buf_free(&data);
			} else {
				se->len = data.len;
				se->data = (unsigned char *)buf_detach(&data);
			}
		}
	}
	free(name);
	buf_free(&data);
	if (ok && want_sha256) {
		/* hash the rest of the stream (central directory) too */
		while (refill(p))
			;
		unsigned char d[32];
		sha256_digest(&p->sha, 32, d);
		for (int i = 0; i < 32; i++)
			snprintf(res->sha256 + 2 * i, 3, "%02x", d[i]);
	}
	res->bytes = p->total;
	inflateEnd(&p->z);
	free(p);
	return ok;
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
