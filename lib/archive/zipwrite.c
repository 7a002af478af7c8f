/* zipwrite.c - raw-copy ZIP rewriter and its verifier (see zipwrite.h).
 *
 * zipwrite_write works in three passes over the source's central directory:
 *   1. locate every entry's local record (header + data + data descriptor)
 *      and sort the records by position, refusing overlapping ones;
 *   2. copy the bytes before the first record, then each record that still
 *      belongs to a kept entry, in file order (two entries sharing one
 *      record - legal, if odd - share it in the output too), remembering
 *      each record's new offset;
 *   3. copy the central directory headers in their order with the new
 *      offsets (ZIP64 extra fields patched, or added when an offset no
 *      longer fits 32 bits), then the end records and the comment.
 * Record layouts: APPNOTE.TXT 4.3 (local header "PK\3\4" 30 bytes + name +
 * extra; data descriptor "PK\7\8" optional signature + CRC + 32- or 64-bit
 * sizes; central header "PK\1\2" 46 bytes + name + extra + comment). */
#include "archive/zipwrite.h"

#include "archive/zipfmt.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define STAGE (64u << 10)
#define CHUNK (1u << 20)
#define U32MAX 0xFFFFFFFFu

static void put16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}
static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- sink */

void zipwrite_sink_fd(struct zipwrite_sink *s, int fd)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->stage = xmalloc(STAGE);
}

void zipwrite_sink_mem(struct zipwrite_sink *s, struct buf *mem)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->mem = mem;
}

static void fd_write(struct zipwrite_sink *s, const unsigned char *p, size_t n)
{
	while (n && !s->err) {
		ssize_t r = write(s->fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			s->err = r < 0 ? errno : EIO;
			return;
		}
		p += r;
		n -= (size_t)r;
	}
}

static void sink_flush(struct zipwrite_sink *s)
{
	if (s->staged)
		fd_write(s, s->stage, s->staged);
	s->staged = 0;
}

static void sink_put(struct zipwrite_sink *s, const void *p, size_t n)
{
	if (s->err || !n)
		return;
	s->pos += n;
	if (n >= sizeof s->tail) {
		memcpy(s->tail, (const unsigned char *)p + n - sizeof s->tail, sizeof s->tail);
	} else {
		memmove(s->tail, s->tail + n, sizeof s->tail - n);
		memcpy(s->tail + sizeof s->tail - n, p, n);
	}
	if (s->mem) {
		buf_add(s->mem, p, n);
		return;
	}
	if (s->staged + n > STAGE)
		sink_flush(s);
	if (n >= STAGE) {
		fd_write(s, p, n);
		return;
	}
	memcpy(s->stage + s->staged, p, n);
	s->staged += n;
}

bool zipwrite_sink_finish(struct zipwrite_sink *s)
{
	if (s->fd >= 0)
		sink_flush(s);
	free(s->stage);
	s->stage = NULL;
	return !s->err;
}

/* Copy source bytes [at, at + n) to the sink. */
static bool copy_src(const struct zsrc *src, uint64_t at, uint64_t n, struct zipwrite_sink *s,
		     struct buf *err)
{
	if (at > src->size || n > src->size - at) {
		buf_adds(err, "record runs past the end of the archive");
		return false;
	}
	if (src->mem) {
		sink_put(s, src->mem + at, (size_t)n);
		return true;
	}
	/* Buffers sized to the need: most entries are small, and a 1 MiB
	 * allocation per entry costs a mmap/munmap pair in some allocators. */
	size_t cap = n < CHUNK ? (size_t)n : CHUNK;
	unsigned char *b = xmalloc(cap ? cap : 1);
	while (n && !s->err) {
		size_t k = n < cap ? (size_t)n : cap;
		if (zip_src_read(src, b, k, at) < 0) {
			buf_printf(err, "read error: %s", strerror(errno));
			free(b);
			return false;
		}
		sink_put(s, b, k);
		at += k;
		n -= k;
	}
	free(b);
	return true;
}

/* ---- ZIP64 extra fields */

/* Find the ZIP64 block (id 1) in an extra field: its offset, or -1. */
static long find_zip64(const unsigned char *x, size_t xl, size_t *blen)
{
	size_t p = 0;
	while (p + 4 <= xl) {
		size_t len = le16(x + p + 2);
		if (p + 4 + len > xl)
			return -1;
		if (le16(x + p) == 1) {
			*blen = len;
			return (long)p;
		}
		p += 4 + len;
	}
	return -1;
}

/* Write extra field x with its ZIP64 block holding the `want` fields
 * (usize, csize, offset, in that order) with values v.  `had` says which
 * fields the block held before; bytes the old block held after those
 * (a disk number) are kept.  Without fields before or after, the extra
 * field is copied as it is, however odd. */
static bool extra_zip64(struct buf *out, const unsigned char *x, size_t xl, const bool had[3],
			const bool want[3], const uint64_t v[3], struct buf *err)
{
	size_t nh = 0, nw = 0;
	for (int i = 0; i < 3; i++)
		nh += had[i], nw += want[i];
	if (!nh && !nw) {
		buf_add(out, x, xl);
		return true;
	}
	size_t blen = 0;
	long at = find_zip64(x, xl, &blen);
	size_t tail_at = 0, tail = 0;
	if (at >= 0 && blen > 8 * nh) {
		tail_at = (size_t)at + 4 + 8 * nh;
		tail = blen - 8 * nh;
	}
	size_t before = out->len;
	if (at >= 0)
		buf_add(out, x, (size_t)at);
	else
		buf_add(out, x, xl);
	unsigned char h[4 + 24];
	put16(h, 1);
	put16(h + 2, (uint16_t)(8 * nw + tail));
	size_t k = 4;
	for (int i = 0; i < 3; i++)
		if (want[i])
			put64(h + k, v[i]), k += 8;
	buf_add(out, h, k);
	if (tail)
		buf_add(out, x + tail_at, tail);
	if (at >= 0)
		buf_add(out, x + at + 4 + blen, xl - ((size_t)at + 4 + blen));
	if (out->len - before > 65535 || 8 * nw + tail > 65535) {
		buf_adds(err, "extra field would exceed 64 KiB");
		return false;
	}
	return true;
}

/* ---- local records */

struct rec {
	size_t entry;       /* index in the source */
	uint64_t start;     /* local header offset in the source */
	size_t hdr_len;     /* 30 + name + extra */
	uint64_t data_len;
	size_t dd_len;      /* data descriptor, 0 when none */
	bool dd_sig, dd64;  /* its form */
	bool local64;       /* the local header has a ZIP64 block */
};

static uint64_t rec_end(const struct rec *r) { return r->start + r->hdr_len + r->data_len + r->dd_len; }

static void entry_name(struct buf *b, const struct zip_entry *e)
{
	for (size_t i = 0; i < e->name_len && i < 200; i++)
		buf_addc(b, e->name[i] >= 32 && e->name[i] < 127 ? e->name[i] : '?');
}

static bool locate(const struct zip *z, size_t i, struct rec *r, struct buf *err)
{
	const struct zip_entry *e = &z->entries[i];
	memset(r, 0, sizeof *r);
	r->entry = i;
	r->start = e->local_off;
	unsigned char h[30];
	if (e->method == 0xFFFF) {
		buf_adds(err, "entry ");
		entry_name(err, e);
		buf_adds(err, ": unreadable ZIP64 extra field");
		return false;
	}
	if (zip_src_read(&z->src, h, 30, e->local_off) < 0 || le32(h) != SIG_LOC) {
		buf_adds(err, "entry ");
		entry_name(err, e);
		buf_adds(err, ": local header missing or truncated");
		return false;
	}
	size_t nl = le16(h + 26), xl = le16(h + 28);
	r->hdr_len = 30 + nl + xl;
	uint64_t data = e->local_off + r->hdr_len;
	if (data > z->src.size || e->csize > z->src.size - data) {
		buf_adds(err, "entry ");
		entry_name(err, e);
		buf_adds(err, ": data runs past the end of the archive");
		return false;
	}
	r->data_len = e->csize;
	if (xl) {
		unsigned char *x = xmalloc(xl);
		size_t blen;
		if (zip_src_read(&z->src, x, xl, e->local_off + 30 + nl) == 0)
			r->local64 = find_zip64(x, xl, &blen) >= 0;
		free(x);
	}
	if (!(e->flags & 8))
		return true;
	/* Data descriptor: find which of its four forms matches the entry. */
	uint64_t at = data + e->csize;
	uint64_t avail = z->src.size - at;
	unsigned char d[24] = {0};
	size_t got = avail < 24 ? (size_t)avail : 24;
	if (got && zip_src_read(&z->src, d, got, at) < 0)
		got = 0;
	bool prefer64 = r->local64 || e->csize >= U32MAX || e->usize >= U32MAX;
	for (int sig = 1; sig >= 0; sig--) {
		size_t b = sig ? 4 : 0;
		if (sig && (got < 4 || le32(d) != SIG_DD))
			continue;
		for (int f = 0; f < 2; f++) {
			bool w64 = prefer64 ? f == 0 : f == 1;
			size_t len = b + (w64 ? 20 : 12);
			if (got < len || le32(d + b) != e->crc)
				continue;
			bool m = w64 ? le64(d + b + 4) == e->csize && le64(d + b + 12) == e->usize
				     : le32(d + b + 4) == (uint32_t)e->csize && le32(d + b + 8) == (uint32_t)e->usize;
			if (m) {
				r->dd_len = len;
				r->dd_sig = sig;
				r->dd64 = w64;
				return true;
			}
		}
	}
	/* No form matches the central directory: a descriptor with other
	 * values (kept as it is), or none at all (the next record follows). */
	r->dd64 = prefer64;
	if (got >= 4 && le32(d) == SIG_DD) {
		r->dd_sig = true;
		r->dd_len = 4 + (prefer64 ? 20 : 12);
	} else if (got >= 4 && (le32(d) == SIG_LOC || le32(d) == SIG_CEN || le32(d) == SIG_END64 ||
				le32(d) == SIG_END)) {
		r->dd_len = 0;
	} else {
		r->dd_len = prefer64 ? 20 : 12;
	}
	if (r->dd_len > avail)
		r->dd_len = (size_t)avail;
	return true;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

static const struct zipwrite_replace *find_rep(const struct zipwrite_edit *ed, size_t i)
{
	for (size_t k = 0; k < ed->nrep; k++)
		if (ed->rep[k].index == i)
			return &ed->rep[k];
	return NULL;
}

static bool dropped(const struct zipwrite_edit *ed, size_t i) { return ed->drop && ed->drop[i]; }

/* New values of a replaced entry, for its central directory header. */
struct newval {
	uint32_t crc;
	uint64_t csize, usize;
};

/* Write a replaced entry's record: the source's local header with new CRC,
 * sizes and (when needed) ZIP64 block, the new data, and a descriptor of
 * the source's form when it had one. */
static bool write_replaced(const struct zip *z, const struct rec *r, const struct zipwrite_replace *rp,
			   int level, struct zipwrite_sink *s, struct newval *nv, struct buf *err)
{
	const struct zip_entry *e = &z->entries[r->entry];
	if (e->flags & 1) {
		buf_adds(err, "cannot replace an encrypted entry");
		return false;
	}
	if (e->method != 0 && e->method != 8) {
		buf_printf(err, "cannot replace an entry compressed with method %u", e->method);
		return false;
	}
	nv->crc = (uint32_t)libdeflate_crc32(0, rp->data, rp->len);
	nv->usize = rp->len;
	const unsigned char *data = rp->data;
	unsigned char *comp = NULL;
	if (e->method == 8) {
		struct libdeflate_compressor *c = libdeflate_alloc_compressor(level ? level : 6);
		if (!c) {
			buf_adds(err, "cannot allocate a compressor");
			return false;
		}
		size_t bound = libdeflate_deflate_compress_bound(c, rp->len);
		comp = xmalloc(bound);
		size_t n = libdeflate_deflate_compress(c, rp->data, rp->len, comp, bound);
		libdeflate_free_compressor(c);
		if (!n) {
			free(comp);
			buf_adds(err, "deflate failed");
			return false;
		}
		data = comp;
		nv->csize = n;
	} else {
		nv->csize = rp->len;
	}
	unsigned char *h = xmalloc(r->hdr_len);
	bool ok = zip_src_read(&z->src, h, r->hdr_len, r->start) == 0;
	if (!ok) {
		buf_printf(err, "read error: %s", strerror(errno));
		goto out;
	}
	size_t nl = le16(h + 26), xl = le16(h + 28);
	/* A streamed entry (sizes in the descriptor, zeros here) stays streamed. */
	bool zeros = (e->flags & 8) && !le32(h + 14) && !le32(h + 18) && !le32(h + 22);
	bool big = nv->csize >= U32MAX || nv->usize >= U32MAX;
	bool had[3] = {r->local64, r->local64, false};
	bool want[3] = {r->local64 || big, r->local64 || big, false};
	uint64_t v[3] = {zeros ? 0 : nv->usize, zeros ? 0 : nv->csize, 0};
	struct buf x = BUF_INIT;
	ok = extra_zip64(&x, h + 30 + nl, xl, had, want, v, err);
	if (ok) {
		put32(h + 14, zeros ? 0 : nv->crc);
		put32(h + 18, zeros ? 0 : want[1] ? U32MAX : (uint32_t)nv->csize);
		put32(h + 22, zeros ? 0 : want[0] ? U32MAX : (uint32_t)nv->usize);
		put16(h + 28, (uint16_t)x.len);
		sink_put(s, h, 30 + nl);
		sink_put(s, x.data, x.len);
		sink_put(s, data, (size_t)nv->csize);
		if (r->dd_len) {
			unsigned char d[24];
			size_t k = 0;
			if (r->dd_sig)
				put32(d, SIG_DD), k = 4;
			put32(d + k, nv->crc);
			if (r->dd64 || big) {
				put64(d + k + 4, nv->csize);
				put64(d + k + 12, nv->usize);
				k += 20;
			} else {
				put32(d + k + 4, (uint32_t)nv->csize);
				put32(d + k + 8, (uint32_t)nv->usize);
				k += 12;
			}
			sink_put(s, d, k);
		}
	}
	buf_free(&x);
out:
	free(h);
	free(comp);
	return ok;
}

/* A central directory header with its new offset (and new CRC and sizes for
 * a replaced entry); everything else as in the source. */
static bool write_cd(const struct zip *z, size_t i, uint64_t off, const struct newval *nv,
		     struct zipwrite_sink *s, struct buf *err)
{
	const struct zip_entry *e = &z->entries[i];
	const unsigned char *h = z->cd + e->cd_pos;
	size_t nl = le16(h + 28), xl = le16(h + 30), cl = le16(h + 32);
	unsigned char f[46];
	memcpy(f, h, 46);
	uint64_t u = nv ? nv->usize : e->usize, c = nv ? nv->csize : e->csize;
	bool had[3] = {le32(h + 24) == U32MAX, le32(h + 20) == U32MAX, le32(h + 42) == U32MAX};
	bool want[3] = {had[0] || u >= U32MAX, had[1] || c >= U32MAX, had[2] || off >= U32MAX};
	uint64_t v[3] = {u, c, off};
	struct buf x = BUF_INIT;
	if (!extra_zip64(&x, h + 46 + nl, xl, had, want, v, err)) {
		buf_free(&x);
		return false;
	}
	if (nv)
		put32(f + 16, nv->crc);
	put32(f + 20, want[1] ? U32MAX : (uint32_t)c);
	put32(f + 24, want[0] ? U32MAX : (uint32_t)u);
	put32(f + 42, want[2] ? U32MAX : (uint32_t)off);
	put16(f + 30, (uint16_t)x.len);
	sink_put(s, f, 46);
	sink_put(s, h + 46, nl);
	sink_put(s, x.data, x.len);
	sink_put(s, h + 46 + nl + xl, cl);
	buf_free(&x);
	return true;
}

static bool write_end(const struct zip *z, uint64_t count, uint64_t cd_decl, uint64_t cd_size,
		      struct zipwrite_sink *s, struct buf *err)
{
	unsigned char e[22];
	if (zip_src_read(&z->src, e, 22, z->eocd_off) < 0) {
		buf_adds(err, "cannot reread the end record");
		return false;
	}
	bool need64 = z->zip64 || count >= 0xFFFF || cd_size >= U32MAX || cd_decl >= U32MAX;
	/* Bytes that happen to look like a ZIP64 locator right before the end
	 * record (launch-script junk, a comment) would be read as one: write
	 * real ZIP64 records then, which readers find first. */
	if (!need64 && s->pos >= 20 && le32(s->tail) == SIG_LOC64)
		need64 = true;
	if (need64) {
		uint64_t rec = s->pos;
		unsigned char r[56 + 20];
		put32(r, SIG_END64);
		put64(r + 4, 44);
		put16(r + 12, 45);
		put16(r + 14, 45);
		put32(r + 16, 0);
		put32(r + 20, 0);
		put64(r + 24, count);
		put64(r + 32, count);
		put64(r + 40, cd_size);
		put64(r + 48, cd_decl);
		put32(r + 56, SIG_LOC64);
		put32(r + 60, 0);
		put64(r + 64, rec); /* from the file's start: the JDK does not correct it for a prefix */
		put32(r + 72, 1);
		sink_put(s, r, sizeof r);
	}
	/* Keep the source's ZIP64 markers; add them where a value overflows. */
	bool mcount = le16(e + 10) == 0xFFFF || count >= 0xFFFF;
	bool msize = le32(e + 12) == U32MAX || cd_size >= U32MAX;
	bool moff = le32(e + 16) == U32MAX || cd_decl >= U32MAX;
	uint64_t avail = z->src.size - z->eocd_off - 22;
	size_t cl = le16(e + 20);
	if (cl > avail)
		cl = (size_t)avail;
	/* The comment is written last, so the rewritten file ends with it: an
	 * end record inside it whose own comment length reaches that end would
	 * be the one a reader finds first (in the source, bytes after the
	 * comment may have hidden it).  Such an archive is not rewritten. */
	unsigned char *com = xmalloc(cl ? cl : 1);
	if (cl && zip_src_read(&z->src, com, cl, z->eocd_off + 22) < 0) {
		free(com);
		buf_adds(err, "cannot reread the archive comment");
		return false;
	}
	static const unsigned char endsig[4] = {'P', 'K', 5, 6};
	if (cl >= 4 && memmem(com, cl, endsig, 4)) {
		free(com);
		buf_adds(err, "the archive comment holds an end-record signature, which a reader of the rewritten file "
			      "could take for the archive's own; not rewritten");
		return false;
	}
	unsigned char o[22];
	put32(o, SIG_END);
	put16(o + 4, 0);
	put16(o + 6, 0);
	put16(o + 8, mcount ? 0xFFFF : (uint16_t)count);
	put16(o + 10, mcount ? 0xFFFF : (uint16_t)count);
	put32(o + 12, msize ? U32MAX : (uint32_t)cd_size);
	put32(o + 16, moff ? U32MAX : (uint32_t)cd_decl);
	put16(o + 20, (uint16_t)cl);
	sink_put(s, o, 22);
	sink_put(s, com, cl);
	free(com);
	return true;
}

bool zipwrite_write(const struct zip *z, const struct zipwrite_edit *ed, struct zipwrite_sink *s, struct buf *err)
{
	size_t n = z->nentries;
	struct rec *r = xcalloc(n ? n : 1, sizeof *r);
	uint64_t *new_off = xcalloc(n ? n : 1, sizeof *new_off);
	struct newval *nv = xcalloc(n ? n : 1, sizeof *nv);
	bool ok = false;
	for (size_t k = 0; k < ed->nrep; k++)
		if (ed->rep[k].index >= n || dropped(ed, ed->rep[k].index)) {
			buf_adds(err, "replacement for an entry that is not kept");
			goto out;
		}
	for (size_t i = 0; i < n; i++)
		if (!locate(z, i, &r[i], err))
			goto out;
	qsort(r, n, sizeof *r, rec_cmp);
	/* Records must not overlap, nor run into the central directory; two
	 * entries may share one record only if neither is replaced. */
	for (size_t i = 0; i < n; i++) {
		uint64_t limit = z->cd_off;
		size_t j = i + 1;
		while (j < n && r[j].start == r[i].start)
			j++;
		if (j < n && r[j].start < limit)
			limit = r[j].start;
		if (rec_end(&r[i]) > limit) {
			buf_adds(err, "entry ");
			entry_name(err, &z->entries[r[i].entry]);
			buf_adds(err, ": its record overlaps the next one; not rewritten");
			goto out;
		}
		if (i + 1 < n && r[i + 1].start == r[i].start &&
		    (find_rep(ed, r[i].entry) || find_rep(ed, r[i + 1].entry))) {
			buf_adds(err, "a replaced entry shares its data with another entry");
			goto out;
		}
		if (i + 1 < n && r[i + 1].start == r[i].start && rec_end(&r[i + 1]) != rec_end(&r[i])) {
			buf_adds(err, "two entries share a local header but not their data; not rewritten");
			goto out;
		}
	}
	uint64_t prefix = n ? r[0].start : z->cd_off;
	if (!copy_src(&z->src, 0, prefix, s, err))
		goto out;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		bool keep = false;
		while (j < n && r[j].start == r[i].start)
			keep |= !dropped(ed, r[j].entry), j++;
		if (keep) {
			uint64_t at = s->pos;
			const struct zipwrite_replace *rp = find_rep(ed, r[i].entry);
			if (rp) {
				if (!write_replaced(z, &r[i], rp, ed->level, s, &nv[r[i].entry], err))
					goto out;
			} else if (!copy_src(&z->src, r[i].start, rec_end(&r[i]) - r[i].start, s, err)) {
				goto out;
			}
			for (size_t k = i; k < j; k++)
				new_off[r[k].entry] = (uint64_t)((int64_t)at - z->shift);
		}
		i = j;
	}
	uint64_t cd_at = s->pos, count = 0;
	for (size_t i = 0; i < n; i++) {
		if (dropped(ed, i))
			continue;
		count++;
		if (!write_cd(z, i, new_off[i], find_rep(ed, i) ? &nv[i] : NULL, s, err))
			goto out;
	}
	if (!write_end(z, count, (uint64_t)((int64_t)cd_at - z->shift), s->pos - cd_at, s, err))
		goto out;
	ok = true;
out:
	if (ok && s->err) {
		buf_printf(err, "write error: %s", strerror(s->err));
		ok = false;
	}
	free(r);
	free(new_off);
	free(nv);
	return ok;
}

/* ---- verification */

/* Stream an entry's data and compute its CRC; false when the data is not
 * readable (corrupt deflate stream, wrong size). */
static bool entry_crc(const struct zip *z, const struct zip_entry *e, uint64_t off, uint32_t *crc)
{
	size_t icap = e->csize < CHUNK ? (size_t)e->csize + 1 : CHUNK;
	size_t ocap = e->usize < CHUNK ? (size_t)e->usize + 1 : CHUNK;
	unsigned char *in = xmalloc(icap), *out = xmalloc(ocap);
	uLong c = crc32(0, Z_NULL, 0);
	uint64_t total = 0, left = e->csize, at = off;
	bool ok = true;
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (e->method == 8 && inflateInit2(&zs, -15) != Z_OK) {
		free(in);
		free(out);
		return false;
	}
	int zr = Z_OK;
	while (ok && left) {
		size_t k = left < icap ? (size_t)left : icap;
		if (zip_src_read(&z->src, in, k, at) < 0) {
			ok = false;
			break;
		}
		at += k;
		left -= k;
		if (e->method == 0) {
			c = crc32(c, in, (uInt)k);
			total += k;
			continue;
		}
		zs.next_in = in;
		zs.avail_in = (uInt)k;
		while (zs.avail_in && zr != Z_STREAM_END) {
			zs.next_out = out;
			zs.avail_out = (uInt)ocap;
			zr = inflate(&zs, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				ok = false;
				break;
			}
			size_t got = ocap - zs.avail_out;
			c = crc32(c, out, (uInt)got);
			total += got;
			if (total > e->usize) {
				ok = false;
				break;
			}
			if (zr == Z_BUF_ERROR && !got)
				break;
		}
	}
	/* Drain what inflate holds back once all input is in. */
	while (ok && e->method == 8 && zr != Z_STREAM_END) {
		zs.next_in = in;
		zs.avail_in = 0;
		zs.next_out = out;
		zs.avail_out = (uInt)ocap;
		zr = inflate(&zs, Z_NO_FLUSH);
		size_t got = ocap - zs.avail_out;
		c = crc32(c, out, (uInt)got);
		total += got;
		if (total > e->usize || (zr != Z_STREAM_END && ((zr != Z_OK && zr != Z_BUF_ERROR) || !got)))
			ok = false;
	}
	if (e->method == 8)
		inflateEnd(&zs);
	free(in);
	free(out);
	if (!ok || total != e->usize)
		return false;
	*crc = (uint32_t)c;
	return true;
}

/* Are the compressed bytes of entry a in za and entry b in zb identical? */
static bool same_raw(const struct zip *za, const struct zip_entry *a, uint64_t aoff,
		     const struct zip *zb, const struct zip_entry *b, uint64_t boff)
{
	if (a->csize != b->csize)
		return false;
	size_t cap = a->csize < CHUNK ? (size_t)a->csize + 1 : CHUNK;
	unsigned char *x = xmalloc(cap), *y = xmalloc(cap);
	bool same = true;
	for (uint64_t done = 0; same && done < a->csize;) {
		size_t k = a->csize - done < cap ? (size_t)(a->csize - done) : cap;
		same = zip_src_read(&za->src, x, k, aoff + done) == 0 &&
		       zip_src_read(&zb->src, y, k, boff + done) == 0 && !memcmp(x, y, k);
		done += k;
	}
	free(x);
	free(y);
	return same;
}

/* The local header of entry b (in zb) against the source's (entry a in za):
 * for a copied entry byte-identical; for a replaced one, the same version,
 * flags, method, time and name (CRC, sizes and ZIP64 block are new). */
static bool local_header_ok(const struct zip *za, const struct zip_entry *a, const struct zip *zb,
			    const struct zip_entry *b, bool replaced)
{
	unsigned char ha[30], hb[30];
	if (zip_src_read(&zb->src, hb, 30, b->local_off) < 0 || zip_src_read(&za->src, ha, 30, a->local_off) < 0)
		return false;
	size_t la = 30 + le16(ha + 26) + (size_t)le16(ha + 28);
	size_t lb = 30 + le16(hb + 26) + (size_t)le16(hb + 28);
	if (replaced ? memcmp(ha + 4, hb + 4, 10) || le16(ha + 26) != le16(hb + 26) : la != lb)
		return false;
	size_t n = replaced ? 30 + (size_t)le16(ha + 26) : la;
	unsigned char *x = xmalloc(n), *y = xmalloc(n);
	bool ok = zip_src_read(&za->src, x, n, a->local_off) == 0 && zip_src_read(&zb->src, y, n, b->local_off) == 0 &&
		  !memcmp(x + (replaced ? 30 : 0), y + (replaced ? 30 : 0), n - (replaced ? 30 : 0));
	free(x);
	free(y);
	return ok;
}

bool zipwrite_verify(const struct zip *z, const struct zipwrite_edit *ed, const struct zsrc *out,
	       struct buf *err)
{
	struct zip n;
	struct zip_limits lim = {UINT64_MAX, UINT64_MAX};
	struct buf why = BUF_INIT;
	enum zip_status st = zip_open(&n, out, &lim, &why);
	if (st != ZIP_OK) {
		buf_printf(err, "the new archive does not open: %s",
			   st == ZIP_NOT_ZIP ? "no end record" : buf_cstr(&why));
		buf_free(&why);
		return false;
	}
	buf_free(&why);
	size_t want = 0;
	for (size_t i = 0; i < z->nentries; i++)
		want += !dropped(ed, i);
	bool ok = false;
	if (n.nentries != want) {
		buf_printf(err, "the new archive has %zu entries, expected %zu", n.nentries, want);
		goto out;
	}
	for (size_t i = 0, j = 0; i < z->nentries; i++) {
		if (dropped(ed, i))
			continue;
		const struct zip_entry *a = &z->entries[i], *b = &n.entries[j++];
		const unsigned char *ha = z->cd + a->cd_pos, *hb = n.cd + b->cd_pos;
		const struct zipwrite_replace *rp = find_rep(ed, i);
		const char *bad = NULL;
		uint64_t aoff = 0, boff = 0;
		struct buf e2 = BUF_INIT;
		uint32_t crc;
		if (a->name_len != b->name_len || memcmp(a->name, b->name, a->name_len))
			bad = "name differs";
		else if (a->method != b->method || a->flags != b->flags)
			bad = "method or flags differ";
		else if (memcmp(ha + 4, hb + 4, 12) || memcmp(ha + 32, hb + 32, 10))
			bad = "central directory header differs";
		else if (le16(ha + 32) != le16(hb + 32) ||
			 memcmp(ha + 46 + a->name_len + le16(ha + 30), hb + 46 + b->name_len + le16(hb + 30),
				le16(ha + 32)))
			bad = "entry comment differs";
		else if (!rp && (a->crc != b->crc || a->csize != b->csize || a->usize != b->usize))
			bad = "CRC or sizes differ";
		else if (rp && (b->usize != rp->len || b->crc != (uint32_t)libdeflate_crc32(0, rp->data, rp->len)))
			bad = "replaced entry has the wrong CRC or size";
		else if (!zip_data_offset(&n, b, &boff, &e2) || !local_header_ok(z, a, &n, b, rp))
			bad = "local header missing or does not match";
		else if ((b->method == 0 || b->method == 8) && !(b->flags & 1) &&
			 entry_crc(&n, b, boff, &crc) && crc == b->crc)
			bad = NULL;
		else if (rp)
			bad = "replaced entry does not inflate to its CRC";
		else if (!zip_data_offset(z, a, &aoff, &e2) || !same_raw(z, a, aoff, &n, b, boff))
			bad = "entry data differs from the source";
		buf_free(&e2);
		if (bad) {
			buf_adds(err, "verification failed: entry ");
			entry_name(err, b);
			buf_printf(err, ": %s", bad);
			goto out;
		}
	}
	ok = true;
out:
	zip_close(&n);
	return ok;
}
