/* zip.c - tail-first ZIP reader (see zip.h for what and why).
 *
 * Record layouts (APPNOTE.TXT 4.3): EOCD "PK\5\6" 22 bytes + comment at the
 * very end; ZIP64 EOCD locator "PK\6\7" 20 bytes just before it, pointing at
 * the ZIP64 EOCD "PK\6\6"; central directory headers "PK\1\2" 46 bytes +
 * name + extra + comment; local headers "PK\3\4" 30 bytes + name + extra. */
#include "zip.h"

#include "govern.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EOCD_LEN 22
#define TAIL_MAX (EOCD_LEN + 65535 + 20)

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

int zsrc_read(const struct zsrc *s, void *dst, size_t n, uint64_t at)
{
	if (at > s->size || n > s->size - at) {
		errno = EINVAL;
		return -1;
	}
	if (s->mem) {
		memcpy(dst, s->mem + at, n);
		return 0;
	}
	unsigned char *d = dst;
	while (n) {
		ssize_t r = pread(s->fd, d, n, (off_t)(s->off + at));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* file shrank under us */
			return -1;
		}
		atomic_fetch_add(&l4s_bytes_read, (unsigned long long)r);
		d += r;
		n -= (size_t)r;
		at += (uint64_t)r;
	}
	return 0;
}

/* Find the EOCD in the tail: the last "PK\5\6" whose comment length reaches
 * exactly to the end (or, for archives with trailing junk, any signature). */
static long find_eocd(const unsigned char *t, size_t n, bool *exact)
{
	*exact = false;
	if (n < EOCD_LEN)
		return -1;
	long fallback = -1;
	for (long i = (long)(n - EOCD_LEN); i >= 0; i--) {
		if (t[i] != 'P' || t[i + 1] != 'K' || t[i + 2] != 5 || t[i + 3] != 6)
			continue;
		if ((size_t)i + EOCD_LEN + le16(t + i + 20) == n) {
			*exact = true;
			return i;
		}
		if (fallback < 0)
			fallback = i;
	}
	return fallback;
}

static bool parse_zip64_extra(const unsigned char *x, size_t xlen, struct zip_entry *e,
			      bool need_u, bool need_c, bool need_off)
{
	while (xlen >= 4) {
		uint16_t id = le16(x), len = le16(x + 2);
		if ((size_t)len + 4 > xlen)
			return false;
		if (id == 1) {
			const unsigned char *p = x + 4;
			size_t left = len;
			if (need_u) {
				if (left < 8) return false;
				e->usize = le64(p), p += 8, left -= 8;
			}
			if (need_c) {
				if (left < 8) return false;
				e->csize = le64(p), p += 8, left -= 8;
			}
			if (need_off) {
				if (left < 8) return false;
				e->local_off = le64(p);
			}
			return true;
		}
		x += 4 + len;
		xlen -= 4 + (size_t)len;
	}
	return !need_u && !need_c && !need_off;
}

enum zip_status zip_open(struct zip *z, const struct zsrc *src, const struct zip_limits *lim,
			 struct buf *err)
{
	return zip_open_quick(z, src, lim, false, err);
}

enum zip_status zip_open_quick(struct zip *z, const struct zsrc *src, const struct zip_limits *lim,
			       bool quick, struct buf *err)
{
	memset(z, 0, sizeof *z);
	z->src = *src;
	uint64_t size = src->size;
	if (size < EOCD_LEN)
		return ZIP_NOT_ZIP;

	/* From a file, the last ZIP_TAIL_FIRST bytes first: they hold the end
	 * record of nearly every archive, and the central directory is then read
	 * exactly; the whole 64 KiB tail only when the end record is not found
	 * ending there (or its ZIP64 locator would be before it). */
	size_t tmax = size < TAIL_MAX ? (size_t)size : TAIL_MAX;
	size_t tlen = src->mem || tmax < ZIP_TAIL_FIRST ? tmax : ZIP_TAIL_FIRST;
	uint64_t tail_at;
	unsigned char *tail_own = NULL;
	const unsigned char *tail;
	bool exact;
	long ei;
	for (;;) {
		tail_at = size - tlen;
		if (src->mem) {
			tail = src->mem + tail_at;
		} else {
			free(tail_own);
			tail_own = xmalloc(tlen);
			if (zsrc_read(src, tail_own, tlen, tail_at) < 0) {
				buf_printf(err, "read error: %s", strerror(errno));
				free(tail_own);
				return ZIP_BAD;
			}
			tail = tail_own;
		}
		ei = find_eocd(tail, tlen, &exact);
		bool widen = !exact || (ei < 20 && tail_at > 0);
		if (tlen == tmax || !widen || (quick && !exact))
			break;
		tlen = tmax;
	}
	enum zip_status st = ZIP_BAD;
	if (ei < 0) {
		st = ZIP_NOT_ZIP;
		goto out;
	}
	const unsigned char *e = tail + ei;
	uint64_t eocd_off = tail_at + (uint64_t)ei;
	uint64_t nent = le16(e + 10), cd_size = le32(e + 12), cd_decl = le32(e + 16);
	uint16_t disk = le16(e + 4), cd_disk = le16(e + 6);
	uint64_t cd_end = eocd_off; /* the central directory ends where its end record starts */

	/* ZIP64: a locator right before the EOCD points at the ZIP64 record. */
	if (ei >= 20 && le32(tail + ei - 20) == 0x07064b50) {
		const unsigned char *loc = tail + ei - 20;
		uint64_t loc_off = eocd_off - 20, rec_decl = le64(loc + 8), rec;
		unsigned char r[56];
		/* The record is where the locator says, unless data was prepended;
		 * then it is found right before the locator (its usual place). */
		if (rec_decl + 56 <= loc_off && zsrc_read(src, r, 56, rec_decl) == 0 &&
		    le32(r) == 0x06064b50) {
			rec = rec_decl;
		} else if (loc_off >= 56 && zsrc_read(src, r, 56, loc_off - 56) == 0 &&
			   le32(r) == 0x06064b50) {
			rec = loc_off - 56;
		} else {
			buf_adds(err, "ZIP64 end record not found");
			goto out;
		}
		cd_end = rec;
		nent = le64(r + 32);
		cd_size = le64(r + 40);
		cd_decl = le64(r + 48);
		disk = cd_disk = 0;
		z->zip64 = true;
	}
	if (disk != 0 || cd_disk != 0) {
		buf_adds(err, "multi-disk (split) archive");
		goto out;
	}
	if (cd_size > cd_end) {
		buf_adds(err, "central directory larger than the file (truncated)");
		goto out;
	}
	if (cd_size > lim->max_cd_bytes) {
		buf_printf(err, "central directory of %llu bytes exceeds the limit",
			   (unsigned long long)cd_size);
		goto out;
	}
	if (nent > lim->max_entries) {
		buf_printf(err, "%llu entries exceed the limit", (unsigned long long)nent);
		goto out;
	}
	if (nent > cd_size / 46 + 1) {
		buf_adds(err, "entry count does not fit the central directory (truncated)");
		goto out;
	}
	z->cd_off = cd_end - cd_size;
	z->shift = (int64_t)z->cd_off - (int64_t)cd_decl;
	z->eocd_off = eocd_off;
	z->cd_len = (size_t)cd_size;
	z->cd = xmalloc(z->cd_len ? z->cd_len : 1);
	if (z->cd_off >= tail_at && z->cd_off + z->cd_len <= tail_at + tlen)
		memcpy(z->cd, tail + (z->cd_off - tail_at), z->cd_len);
	else if (zsrc_read(src, z->cd, z->cd_len, z->cd_off) < 0) {
		buf_printf(err, "read error in central directory: %s", strerror(errno));
		goto out;
	}
	if (z->cd_len >= 4 && le32(z->cd) != 0x02014b50) {
		buf_adds(err, "no central directory where the end record says (truncated or not a zip)");
		goto out;
	}

	z->entries = xcalloc(nent ? nent : 1, sizeof *z->entries);
	size_t pos = 0;
	for (uint64_t i = 0; i < nent; i++) {
		if (pos + 46 > z->cd_len || le32(z->cd + pos) != 0x02014b50) {
			buf_printf(err, "truncated central directory (entry %llu of %llu)",
				   (unsigned long long)i + 1, (unsigned long long)nent);
			goto out;
		}
		const unsigned char *h = z->cd + pos;
		struct zip_entry *en = &z->entries[z->nentries];
		size_t nlen = le16(h + 28), xlen = le16(h + 30), clen = le16(h + 32);
		if (pos + 46 + nlen + xlen + clen > z->cd_len) {
			buf_adds(err, "central directory entry runs past its end");
			goto out;
		}
		en->flags = le16(h + 8);
		en->method = le16(h + 10);
		en->crc = le32(h + 16);
		en->csize = le32(h + 20);
		en->usize = le32(h + 24);
		en->local_off = le32(h + 42);
		en->name = (const char *)h + 46;
		en->name_len = nlen;
		bool nu = en->usize == 0xFFFFFFFF, nc = en->csize == 0xFFFFFFFF,
		     no = en->local_off == 0xFFFFFFFF;
		if ((nu || nc || no) && !parse_zip64_extra(h + 46 + nlen, xlen, en, nu, nc, no)) {
			/* Not fatal for the archive: only this entry is unusable. */
			en->method = 0xFFFF;
		}
		en->local_off += (uint64_t)z->shift;
		en->cd_pos = pos;
		en->cd_len = 46 + nlen + xlen + clen;
		z->nentries++;
		pos += en->cd_len;
	}
	st = ZIP_OK;
out:
	free(tail_own);
	if (st != ZIP_OK)
		zip_close(z);
	return st;
}

void zip_close(struct zip *z)
{
	free(z->cd);
	free(z->entries);
	z->cd = NULL;
	z->entries = NULL;
	z->nentries = 0;
}

bool zip_data_offset(const struct zip *z, const struct zip_entry *e, uint64_t *data_off,
		     struct buf *err)
{
	unsigned char h[30];
	if (e->method == 0xFFFF) {
		buf_adds(err, "bad ZIP64 extra field");
		return false;
	}
	if (zsrc_read(&z->src, h, 30, e->local_off) < 0 || le32(h) != 0x04034b50) {
		buf_adds(err, "local header missing or truncated");
		return false;
	}
	uint64_t off = e->local_off + 30 + le16(h + 26) + le16(h + 28);
	if (off > z->src.size || e->csize > z->src.size - off) {
		buf_adds(err, "entry data runs past the end of the archive (truncated)");
		return false;
	}
	*data_off = off;
	return true;
}

bool zip_read(const struct zip *z, const struct zip_entry *e, uint64_t max,
	      struct libdeflate_decompressor *d, unsigned char **out, size_t *out_len,
	      struct buf *err)
{
	*out = NULL;
	*out_len = 0;
	if (e->flags & 1) {
		buf_adds(err, "encrypted entry");
		return false;
	}
	if (e->method != 0 && e->method != 8) {
		if (e->method == 0xFFFF)
			buf_adds(err, "bad ZIP64 extra field");
		else
			buf_printf(err, "unsupported compression method %u", e->method);
		return false;
	}
	if (e->usize > max) {
		buf_printf(err, "entry of %llu bytes exceeds the %llu-byte limit",
			   (unsigned long long)e->usize, (unsigned long long)max);
		return false;
	}
	if (e->method == 0 && e->csize != e->usize) {
		buf_adds(err, "stored entry with different sizes");
		return false;
	}
	uint64_t off;
	if (!zip_data_offset(z, e, &off, err))
		return false;
	const unsigned char *in;
	unsigned char *in_own = NULL;
	if (z->src.mem) {
		in = z->src.mem + off;
	} else {
		in_own = xmalloc(e->csize ? (size_t)e->csize : 1);
		if (zsrc_read(&z->src, in_own, (size_t)e->csize, off) < 0) {
			buf_printf(err, "read error: %s", strerror(errno));
			free(in_own);
			return false;
		}
		in = in_own;
	}
	unsigned char *o = xmalloc(e->usize ? (size_t)e->usize : 1);
	bool ok = true;
	if (e->method == 0) {
		memcpy(o, in, (size_t)e->usize);
	} else {
		size_t got = 0;
		enum libdeflate_result r = libdeflate_deflate_decompress(d, in, (size_t)e->csize, o,
									 (size_t)e->usize, &got);
		if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
			buf_adds(err, "entry inflates to more than its declared size");
			ok = false;
		} else if (r != LIBDEFLATE_SUCCESS) {
			buf_adds(err, "corrupt deflate data");
			ok = false;
		} else if (got != e->usize) {
			buf_adds(err, "entry inflates to less than its declared size");
			ok = false;
		}
	}
	free(in_own);
	if (ok && libdeflate_crc32(0, o, (size_t)e->usize) != e->crc) {
		buf_adds(err, "CRC mismatch");
		ok = false;
	}
	if (!ok) {
		free(o);
		return false;
	}
	*out = o;
	*out_len = (size_t)e->usize;
	return true;
}
