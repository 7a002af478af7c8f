/* scan_hash.c - the SHA-256 of an archive's bytes for its findings (the
 * `sha256` field; scan.h has the policy): read whole, holes of a sparse
 * file skipped and bounded, and the reason when it is not computed. */
#include "scan/scan.h"
#include "scan/scan_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/sniff.h"
#include "archive/zentry.h"
#include "archive/zip.h"
#include "archive/zipstream.h"
#include "detect/classroot.h"
#include "scan/image.h"
#include "scan/tarscan.h"
#include "util/longpath.h"

/* The holes of [off, off + size) of fd (SEEK_DATA/SEEK_HOLE; a file system
 * without them has none), as alternating data and hole extents: calls
 * fn(at, len, hole) in order; stops early when fn returns false. */
bool scan_hash_extents(int fd, uint64_t off, uint64_t size, bool (*fn)(void *, uint64_t, uint64_t, bool),
		       void *ctx)
{
#if !defined(SEEK_DATA) || !defined(SEEK_HOLE)
	/* (Windows: no SEEK_DATA; a sparse file's holes are read as zeros, and
	 * --max-hash-size bounds the hashing) */
	return fn(ctx, off, size, false);
#else
	uint64_t end = off + size;
	for (uint64_t at = off; at < end;) {
		off_t d = lseek(fd, (off_t)at, SEEK_DATA);
		uint64_t data = d < 0 ? (errno == ENXIO ? end : at) : (uint64_t)d;
		if (data > end)
			data = end;
		if (data > at && !fn(ctx, at, data - at, true))
			return false;
		if (data >= end)
			break;
		off_t h = d < 0 ? (off_t)end : lseek(fd, (off_t)data, SEEK_HOLE);
		uint64_t hole = h < 0 || (uint64_t)h > end ? end : (uint64_t)h;
		if (hole <= data)
			hole = end; /* the file changed under us: the rest as data */
		if (!fn(ctx, data, hole - data, false))
			return false;
		at = hole;
	}
	return true;
#endif
}

static bool count_holes(void *ctx, uint64_t at, uint64_t len, bool hole)
{
	(void)at;
	if (hole)
		*(uint64_t *)ctx += len;
	return true;
}

struct hash_walk {
	struct sha256_ctx c;
	const struct zsrc *src;
	unsigned char *b;   /* 1 MiB; all zeros while a hole is hashed */
};

static bool hash_extent(void *ctx, uint64_t at, uint64_t len, bool hole)
{
	struct hash_walk *w = ctx;
	if (hole)
		memset(w->b, 0, 1 << 20);
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < (1 << 20) ? (size_t)(len - done) : (1 << 20);
		if (!hole && zip_src_read(w->src, w->b, n, at - w->src->off + done) < 0)
			return false;
		sha256_update(&w->c, n, w->b);
		done += n;
	}
	return true;
}

/* The SHA-256 of an archive's bytes into out, or "" and the reason in why
 * when it is past a bound: larger than --max-hash-size, or a sparse file
 * whose holes add up to more than SCAN_MAX_HASH_HOLES (they would be hashed
 * as zeros: seconds of CPU for a file that takes no disk).  The holes of a
 * smaller one are not read, only hashed. */
void scan_hash_source(const struct scanner *s, const struct zsrc *src, char out[65], struct buf *why)
{
	struct hash_walk w;
	unsigned char d[32];
	out[0] = 0;
	uint64_t holes = 0;
	if (!src->mem)
		scan_hash_extents(src->fd, src->off, src->size, count_holes, &holes);
	if (holes > SCAN_MAX_HASH_HOLES) {
		buf_printf(why, "not hashed: a sparse file, %llu MiB of its %llu MiB are holes (more than %llu MiB)",
			   (unsigned long long)(holes >> 20), (unsigned long long)(src->size >> 20),
			   (unsigned long long)(SCAN_MAX_HASH_HOLES >> 20));
		return;
	}
	if (src->size > s->o->max_hash_bytes) {
		buf_printf(why, "not hashed: %llu MiB, more than --max-hash-size (%llu MiB)",
			   (unsigned long long)(src->size >> 20), (unsigned long long)(s->o->max_hash_bytes >> 20));
		return;
	}
	sha256_init(&w.c);
	if (src->mem) {
		sha256_update(&w.c, (size_t)src->size, src->mem);
	} else {
		w.src = src;
		w.b = xmalloc(1 << 20);
		bool ok = scan_hash_extents(src->fd, src->off, src->size, hash_extent, &w);
		free(w.b);
		if (!ok) {
			buf_printf(why, "not hashed: read error: %s", strerror(errno));
			return;
		}
		/* The one place a large file is read whole (only when it holds a
		 * finding): do not leave it in the page cache at the expense of
		 * the host's own working set.  Pages the JVM has mapped stay. */
		if (src->size > (64u << 20) && src->off == 0)
			posix_fadvise(src->fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	sha256_digest(&w.c, 32, d);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

bool scan_wants_hash(const struct scanner *s, const struct scan_batch *out, size_t n)
{
	if (s->o->sha256 == SHA_NONE || !n)
		return false;
	if (s->o->sha256 == SHA_ALL)
		return true;
	for (size_t i = out->n - n; i < out->n; i++)
		if (out->rec[i].kind == REC_FINDING && out->rec[i].f.status != ST_SAFE)
			return true;
	return false;
}

/* Give the last n records of out (one archive's findings) its hash, or
 * the reason it has none. */
void scan_hash_set(struct scan_batch *out, size_t n, const char *sha, const char *why)
{
	for (size_t i = out->n - n; i < out->n; i++) {
		if (out->rec[i].kind != REC_FINDING)
			continue;
		snprintf(out->rec[i].f.sha256, sizeof out->rec[i].f.sha256, "%s", sha);
		if (why && *why && !out->rec[i].f.hash_note)
			out->rec[i].f.hash_note = xstrdup(why);
	}
}
