/* zip.c - tail-first ZIP reader whose entry list is the JDK's (see zip.h for
 * the rules, and where log4scan deliberately differs).
 *
 * Record layouts (APPNOTE.TXT 4.3): end record "PK\5\6" 22 bytes + comment;
 * ZIP64 locator "PK\6\7" 20 bytes right before it, pointing at the ZIP64 end
 * record "PK\6\6" (56 bytes); central directory headers "PK\1\2" 46 bytes +
 * name + extra + comment; local headers "PK\3\4" 30 bytes + name + extra.
 *
 * Opening is three steps, each the JDK's: find_end (Source.findEND: the
 * candidate end records, their validation, the ZIP64 record), place_cen
 * (the checks initCEN makes before reading the directory), list_entries
 * (initCEN's walk, checkAndAddEntry, checkExtraFields).  Every read goes
 * through `struct rd`, so the same code runs over a file, a buffer, or the
 * kept parts of a stream. */
#include "archive/zip.h"

#include "archive/zipfmt.h"
#include "util/iostat.h"

#include <errno.h>
#include <libdeflate.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENDHDR 22
#define CENHDR 46
#define LOC64HDR 20
#define END64HDR 56
#define M16 0xFFFFu
#define M32 0xFFFFFFFFu
/* The JDK reads its tail in blocks of 128 bytes that overlap by an end
 * record, back to 65,535 + 22 bytes before the end (and a block further). */
#define READBLOCK 128
#define END_MAXLEN (0xFFFF + ENDHDR)

bool zip_read_file(int fd, uint64_t max, unsigned char **out, size_t *len, struct buf *err)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		buf_adds(err, fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return false;
	}
	if ((uint64_t)st.st_size > max) {
		buf_adds(err, "file exceeds the size limit for class files");
		close(fd);
		return false;
	}
	unsigned char *b = xmalloc(st.st_size ? (size_t)st.st_size : 1);
	struct zsrc src = {.fd = fd, .size = (uint64_t)st.st_size};
	bool ok = zip_src_read(&src, b, (size_t)st.st_size, 0) == 0;
	close(fd);
	if (!ok) {
		buf_adds(err, "read error");
		free(b);
		return false;
	}
	*out = b;
	*len = (size_t)st.st_size;
	return true;
}

int zip_src_read(const struct zsrc *s, void *dst, size_t n, uint64_t at)
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
		atomic_fetch_add(&iostat_bytes_read, (unsigned long long)r);
		d += r;
		n -= (size_t)r;
		at += (uint64_t)r;
	}
	return 0;
}

/* ---- reads: a window of the tail held in memory, the rest from the source */

struct rd {
	uint64_t size;
	int (*read)(void *ctx, void *dst, size_t n, uint64_t at);
	void *ctx;
	const unsigned char *mem; /* the whole source, when it is in memory */
	const unsigned char *win; /* bytes [win_at, win_at + win_len) */
	uint64_t win_at;
	size_t win_len;
	bool missed;              /* a read the source could not answer */
};

/* 0 read, -1 error (reason in err), 1 not available (reason in err) */
static int rd_read(struct rd *r, void *dst, size_t n, uint64_t at, struct buf *err)
{
	if (at > r->size || n > r->size - at) {
		buf_adds(err, "read past the end of the archive");
		return -1;
	}
	if (r->win && at >= r->win_at && at - r->win_at + n <= r->win_len) {
		memcpy(dst, r->win + (at - r->win_at), n);
		return 0;
	}
	int st = r->read(r->ctx, dst, n, at);
	if (st < 0)
		buf_printf(err, "read error: %s", strerror(errno));
	else if (st > 0) {
		r->missed = true;
		buf_adds(err, "the end records point at bytes that streaming did not keep; "
			      "the entry list cannot be decided as the JVM would");
	}
	return st;
}

static int src_read(void *ctx, void *dst, size_t n, uint64_t at)
{
	return zip_src_read(ctx, dst, n, at) < 0 ? -1 : 0;
}

/* The archive's structure fails one of the JDK's checks: nothing in it
 * loads, on any JVM. */
static void jdk_bad(struct buf *err, const char *why)
{
	buf_printf(err, "the JVM cannot open this archive: %s", why);
}

/* ---- Source.findEND */

struct endrec {
	uint64_t endpos;   /* where the central directory ends (END or ZIP64 END) */
	uint64_t cenlen, cenoff;
	uint64_t total;    /* declared count: only checked the way the JDK allocates it */
	uint64_t classic;  /* the classic end record */
	bool zip64;
};

/* The lowest offset the JDK's backwards block scan looks at. */
static uint64_t end_search_low(uint64_t size)
{
	int64_t minhdr = size > END_MAXLEN ? (int64_t)(size - END_MAXLEN) : 0;
	int64_t first = (int64_t)size - READBLOCK, minpos = minhdr - (READBLOCK - ENDHDR);
	if (first < minpos)
		return size;
	int64_t low = first - (first - minpos) / (READBLOCK - ENDHDR) * (READBLOCK - ENDHDR);
	return low < 0 ? 0 : (uint64_t)low;
}

/* Is the 4-byte signature `sig` at `at`?  1 yes, 0 no, <0 / >1 as rd_read. */
static int sig_at(struct rd *r, uint64_t at, uint32_t sig, struct buf *err)
{
	unsigned char b[4];
	int st = rd_read(r, b, 4, at, err);
	if (st)
		return st < 0 ? -1 : 2;
	return le32(b) == sig;
}

/* The ZIP64 end record for the classic one in *e, if the JDK would use it.
 * 0 done (e updated or not), -1/2 a read that failed or was not kept. */
static int follow_zip64(struct rd *r, struct endrec *e, struct buf *err)
{
	unsigned char loc[LOC64HDR], rec[END64HDR];
	if (e->endpos < LOC64HDR)
		return 0;
	size_t keep = err->len;
	int st = rd_read(r, loc, LOC64HDR, e->endpos - LOC64HDR, err);
	if (st < 0) {
		err->len = keep; /* an I/O error here is caught by the JDK: classic record */
		return 0;
	}
	if (st)
		return 2;
	if (le32(loc) != SIG_LOC64)
		return 0;
	uint64_t at = le64(loc + 8);
	/* negative as a Java long, or past the end of the file: the JDK's read
	 * throws, and it keeps the classic record */
	if (at > INT64_MAX || at > r->size || r->size - at < END64HDR)
		return 0;
	st = rd_read(r, rec, END64HDR, at, err);
	if (st < 0) {
		err->len = keep;
		return 0;
	}
	if (st)
		return 2;
	if (le32(rec) != SIG_END64)
		return 0;
	uint64_t len = le64(rec + 40), off = le64(rec + 48), tot = le64(rec + 32);
	if ((len != e->cenlen && e->cenlen != M32) || (off != e->cenoff && e->cenoff != M32) ||
	    (tot != e->total && e->total != M16))
		return 0;
	e->cenlen = len;
	e->cenoff = off;
	e->total = tot;
	e->endpos = at;
	e->zip64 = true;
	return 0;
}

/* One candidate end record at `pos` (its 22 bytes in c): 1 taken, 0 not,
 * ZIP_BAD-worthy failure as -1 (err set). */
static int take_candidate(struct rd *r, const unsigned char *c, uint64_t pos, struct endrec *e,
			  struct buf *err)
{
	uint64_t cenlen = le32(c + 12), cenoff = le32(c + 16), comlen = le16(c + 20);
	if (pos + ENDHDR + comlen != r->size) {
		/* the comment does not reach the end: check where it points */
		if (cenlen > pos || cenoff > pos - cenlen)
			return 0;
		int st = sig_at(r, pos - cenlen, SIG_CEN, err);
		if (st == 1)
			st = sig_at(r, pos - cenlen - cenoff, SIG_LOC, err);
		if (st != 1)
			return st == 0 ? 0 : -1;
		if (pos + ENDHDR + comlen > r->size) {
			jdk_bad(err, "the end record's comment runs past the end of the file");
			return -1;
		}
	}
	memset(e, 0, sizeof *e);
	e->endpos = e->classic = pos;
	e->cenlen = cenlen;
	e->cenoff = cenoff;
	e->total = le16(c + 10);
	return follow_zip64(r, e, err) ? -1 : 1;
}

/* The candidates in win (which holds the file from wat on) at positions
 * [lo, hi], last first, as the JDK tries them.  Returns as take_candidate. */
static int scan_candidates(struct rd *r, const unsigned char *win, uint64_t wat, uint64_t lo,
			   uint64_t hi, struct endrec *e, struct buf *err)
{
	for (uint64_t p = hi + 1; p-- > lo;) {
		const unsigned char *c = win + (p - wat);
		if (c[0] != 'P' || c[1] != 'K' || c[2] != 5 || c[3] != 6)
			continue;
		int st = take_candidate(r, c, p, e, err);
		if (st)
			return st;
	}
	return 0;
}

/* Find the end record: ZIP_OK, ZIP_NOT_ZIP (none taken), ZIP_BAD.  The
 * window read is left in r->win for the reads that follow. */
static enum zip_status find_end(struct rd *r, bool quick, unsigned char **own, struct endrec *e,
				struct buf *err)
{
	uint64_t size = r->size;
	if (size < ENDHDR)
		return ZIP_NOT_ZIP;
	uint64_t lo = end_search_low(size), span = size - lo;
	/* From a file, the last ZIP_TAIL_FIRST bytes first: they hold the end
	 * record of nearly every archive, and the central directory is then read
	 * exactly; the whole window only when no candidate there is taken. */
	uint64_t first = r->mem || span < ZIP_TAIL_FIRST ? span : ZIP_TAIL_FIRST;
	uint64_t done = size; /* candidates at and above this were tried */
	for (;;) {
		uint64_t wat = size - first;
		r->win = NULL;
		if (r->mem) {
			r->win = r->mem + wat;
		} else {
			free(*own);
			*own = xmalloc((size_t)first);
			if (rd_read(r, *own, (size_t)first, wat, err))
				return ZIP_BAD;
			r->win = *own;
		}
		r->win_at = wat;
		r->win_len = (size_t)first;
		uint64_t hi = done - ENDHDR < size - ENDHDR ? done - ENDHDR : size - ENDHDR;
		if (done >= wat + ENDHDR) {
			int st = scan_candidates(r, r->win, wat, wat, hi, e, err);
			if (st)
				return st > 0 ? ZIP_OK : ZIP_BAD;
			done = wat + ENDHDR - 1 < done ? wat + ENDHDR - 1 : done;
		}
		if (first == span || quick)
			return ZIP_NOT_ZIP;
		first = span;
	}
}

/* ---- initCEN: where the central directory is, and its entries */

static bool zip_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	/* names are nearly always ASCII: eight bytes at a time */
	for (uint64_t w; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			break;
	}
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k;
		unsigned char lo = 0x80, hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF)
			k = 1;
		else if (c >= 0xE0 && c <= 0xEF) {
			k = 2;
			if (c == 0xE0)
				lo = 0xA0; /* overlong */
			else if (c == 0xED)
				hi = 0x9F; /* surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F; /* above U+10FFFF */
		} else
			return false;
		if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

static void refuse(struct zip *z, const char *why)
{
	if (!z->refused[0])
		snprintf(z->refused, sizeof z->refused, "%s", why);
}

/* checkExtraFields: the extra field of the header at `pos`, bytes
 * [start, start + len) of a directory of cen_len bytes (plus the end record
 * after it, which the JDK's copy includes). */
static void check_extra(struct zip *z, const unsigned char *cen, size_t cen_len, size_t pos,
			size_t start, size_t len)
{
	size_t end = start + len;
	if (end > cen_len + ENDHDR) {
		refuse(z, "Invalid CEN header (extra data field size too long)");
		return;
	}
	const unsigned char *h = cen + pos;
	for (size_t cur = start; cur + 4 <= end;) {
		uint16_t tag = le16(cen + cur), sz = le16(cen + cur + 2);
		cur += 4;
		if (cur + sz > end) {
			char m[96];
			snprintf(m, sizeof m, "Invalid CEN header (invalid extra data field size for tag: 0x%04x)",
				 tag);
			refuse(z, m);
			return;
		}
		if (tag == 1) {
			uint32_t cs = le32(h + 20), us = le32(h + 24);
			if (sz == 0) {
				if (cs == M32 || us == M32)
					refuse(z, "Invalid CEN header (invalid zip64 extra data field size)");
			} else if (sz != 8 && sz != 16 && sz != 24 && sz != 28) {
				refuse(z, "Invalid CEN header (invalid zip64 extra data field size)");
			} else if (us == M32 && le64(cen + cur) > INT64_MAX) {
				refuse(z, "Invalid zip64 extra block size value");
			} else if (cs == M32 && sz >= 16 && le64(cen + cur + 8) > INT64_MAX) {
				refuse(z, "Invalid zip64 extra block compressed size value");
			}
		}
		cur += sz;
	}
}

/* The ZIP64 extra field's values for the fields that are 0xFFFFFFFF, in the
 * order APPNOTE gives (as ZipFileInputStream reads them). */
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

/* One central header at pos (checked to fit); returns false with err for a
 * header the JDK cannot read past. */
static bool add_entry(struct zip *z, size_t pos, struct buf *err)
{
	const unsigned char *h = z->cd + pos;
	if (le32(h) != SIG_CEN) {
		jdk_bad(err, "invalid CEN header (bad signature)");
		return false;
	}
	struct zip_entry *en = &z->entries[z->nentries];
	size_t nlen = le16(h + 28), xlen = le16(h + 30), clen = le16(h + 32);
	en->flags = le16(h + 8);
	en->method = le16(h + 10);
	if (en->flags & 1)
		refuse(z, "invalid CEN header (encrypted entry)");
	if (en->method != 0 && en->method != 8) {
		char m[64];
		snprintf(m, sizeof m, "invalid CEN header (bad compression method: %u)", en->method);
		refuse(z, m);
	}
	if (pos + CENHDR + nlen > z->cd_len) {
		jdk_bad(err, "invalid CEN header (bad header size)");
		return false;
	}
	if (xlen)
		check_extra(z, z->cd, z->cd_len, pos, pos + CENHDR + nlen, xlen);
	if (!zip_utf8_valid(h + CENHDR, nlen))
		refuse(z, "invalid CEN header (bad entry name)");
	en->crc = le32(h + 16);
	en->csize = le32(h + 20);
	en->usize = le32(h + 24);
	en->local_off = le32(h + 42);
	en->name = (const char *)h + CENHDR;
	en->name_len = nlen;
	bool nu = en->usize == M32, nc = en->csize == M32, no = en->local_off == M32;
	if ((nu || nc || no) && (pos + CENHDR + nlen + xlen > z->cd_len ||
				 !parse_zip64_extra(h + CENHDR + nlen, xlen, en, nu, nc, no)))
		en->method = 0xFFFF; /* not fatal for the archive: only this entry is unreadable */
	en->local_off += (uint64_t)z->shift;
	en->cd_pos = pos;
	en->cd_len = CENHDR + nlen + xlen + clen;
	z->nentries++;
	return true;
}

static size_t hdr_len(const unsigned char *h)
{
	return CENHDR + (size_t)le16(h + 28) + le16(h + 30) + le16(h + 32);
}

/* Place, read and walk the central directory the end record describes. */
static enum zip_status read_cen(struct zip *z, struct rd *r, const struct endrec *e,
				const struct zip_limits *lim, struct buf *err)
{
	z->eocd_off = e->classic;
	z->zip64 = e->zip64;
	if (e->endpos == 0) {
		/* only an end record: an empty archive */
		z->cd = xcalloc(1, ENDHDR);
		z->entries = xcalloc(1, sizeof *z->entries);
		return ZIP_OK;
	}
	if (e->cenlen > e->endpos) {
		jdk_bad(err, "invalid END header (bad central directory size)");
		return ZIP_BAD;
	}
	uint64_t cenpos = e->endpos - e->cenlen;
	if (e->cenoff > cenpos) {
		jdk_bad(err, "invalid END header (bad central directory offset)");
		return ZIP_BAD;
	}
	if (e->cenlen + ENDHDR >= INT32_MAX) {
		jdk_bad(err, "invalid END header (central directory size too large)");
		return ZIP_BAD;
	}
	/* the JDK allocates three ints per declared entry */
	int32_t tot = (int32_t)(uint32_t)e->total;
	if (tot < 0 || (int32_t)((uint32_t)tot * 3u) < 0) {
		buf_printf(err, "the JVM cannot open this archive: its ZIP64 entry count %llu is more than the JDK "
			   "can allocate for", (unsigned long long)e->total);
		return ZIP_BAD;
	}
	if (e->cenlen > lim->max_cd_bytes) {
		buf_printf(err, "central directory of %llu bytes exceeds the limit",
			   (unsigned long long)e->cenlen);
		return ZIP_BAD;
	}
	z->cd_off = cenpos;
	z->shift = (int64_t)(cenpos - e->cenoff);
	z->cd_len = (size_t)e->cenlen;
	/* the JDK's copy runs on over the end record: an extra field may too */
	z->cd = xmalloc(z->cd_len + ENDHDR);
	if (rd_read(r, z->cd, z->cd_len + ENDHDR, cenpos, err))
		return ZIP_BAD;

	/* one pass: every header is at least CENHDR bytes, which bounds the
	 * count (add_entry sets every field; pages never touched cost nothing) */
	z->entries = xmalloc((z->cd_len / CENHDR + 1) * sizeof *z->entries);
	size_t pos;
	for (pos = 0; pos + CENHDR <= z->cd_len; pos += hdr_len(z->cd + pos)) {
		if (z->nentries == lim->max_entries) {
			buf_printf(err, "more than %llu entries exceed the limit",
				   (unsigned long long)lim->max_entries);
			return ZIP_BAD;
		}
		if (!add_entry(z, pos, err))
			return ZIP_BAD;
	}
	if (pos != z->cd_len) {
		jdk_bad(err, "invalid CEN header (bad header size)");
		return ZIP_BAD;
	}
	return ZIP_OK;
}

static enum zip_status open_rd(struct zip *z, struct rd *r, bool quick, const struct zip_limits *lim,
			       struct buf *err)
{
	unsigned char *own = NULL;
	struct endrec e;
	enum zip_status st = find_end(r, quick, &own, &e, err);
	if (st == ZIP_OK)
		st = read_cen(z, r, &e, lim, err);
	free(own);
	if (st != ZIP_OK)
		zip_close(z);
	return st;
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
	struct rd r = {.size = src->size, .read = src_read, .ctx = &z->src, .mem = src->mem};
	return open_rd(z, &r, quick, lim, err);
}

enum zip_status zip_open_reader(struct zip *z, const struct zip_reader *src,
				const struct zip_limits *lim, struct buf *err)
{
	memset(z, 0, sizeof *z);
	z->src.fd = -1;
	struct rd r = {.size = src->size, .read = src->read, .ctx = src->ctx};
	return open_rd(z, &r, false, lim, err);
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
	if (zip_src_read(&z->src, h, 30, e->local_off) < 0 || le32(h) != SIG_LOC) {
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
		if (zip_src_read(&z->src, in_own, (size_t)e->csize, off) < 0) {
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

void zip_cd_sha256(const unsigned char *cd, size_t cd_len, char out[65])
{
	struct sha256_ctx c;
	unsigned char d[SHA256_DIGEST_SIZE];
	sha256_init(&c);
	if (cd_len)
		sha256_update(&c, cd_len, cd);
	sha256_digest(&c, sizeof d, d);
	for (size_t i = 0; i < sizeof d; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}
