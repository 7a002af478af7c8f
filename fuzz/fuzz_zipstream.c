/* fuzz_zipstream.c - libFuzzer harness for the front-to-back ZIP stream
 * reader (zipstream.c).  The input is the nested archive's bytes; the
 * harness deflates it and wraps it as the one entry of a small parent zip,
 * which is how the scanner meets such streams.  With the input's size
 * odd in its second bit, the entries named "n..." or "...r" are offered as
 * nested archives and read as zip streams in turn (stream_nest). */
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive/zip.h"
#include "archive/zipstream.h"

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static bool want(const char *name, size_t len, uint64_t *max, void *ctx)
{
	(void)ctx;
	*max = len % 3 == 0 ? 0 : 1 << 16; /* mix name-only and data entries */
	return len > 0 && name[0] != 'x';
}

/* Nested archives inside the stream (stream_nest): each entry offered is
 * read as a zip stream in its turn, three levels down at most; a token per
 * entry read so, some read only in part (their first bytes). */
static int depth;
static const struct stream_nest *nest_of(void);

static bool want_nest(const char *name, size_t len, uint64_t *max, void *ctx)
{
	(void)ctx;
	if (len && (name[len - 1] == 'r' || name[0] == 'n')) {
		*max = STREAM_NEST;
		return true;
	}
	return want(name, len, max, ctx);
}

static void *nest_open(void *ctx, const char *name, size_t nlen, uint32_t crc, uint64_t usize, uint64_t used,
		       byte_read_fn rd, void *rctx, uint64_t *spent)
{
	(void)ctx;
	(void)crc;
	(void)used;
	*spent = 0;
	if (nlen % 4 == 1) { /* the head only, as for a member that is no archive */
		unsigned char head[512];
		const char *why;
		(void)rd(rctx, head, usize < sizeof head ? (size_t)usize : sizeof head, &why);
		return NULL;
	}
	int *tok = malloc(sizeof *tok);
	*tok = depth;
	if (depth < 3) {
		depth++;
		struct stream_result r;
		struct buf err = BUF_INIT;
		struct zip_limits lim = {1 << 20, 1000};
		zipstream_read_fn(rd, rctx, 4u << 20, &lim, nlen & 1, want_nest, NULL, nest_of(), &r, &err);
		*spent = r.bytes + r.spent;
		zipstream_result_drop(&r, nest_of());
		buf_free(&err);
		depth--;
	}
	return tok;
}

static void nest_drop(void *ctx, void *token)
{
	(void)ctx;
	free(token);
}

static const struct stream_nest NEST = {nest_open, nest_drop, NULL, 1 << 16};
static const struct stream_nest *nest_of(void) { return &NEST; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1 << 20))
		return 0;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
	size_t bound = libdeflate_deflate_compress_bound(c, size);
	const char name[] = "n.jar";
	size_t nl = sizeof name - 1;
	size_t total = 30 + nl + bound + 46 + nl + 22;
	unsigned char *z = calloc(1, total);
	size_t clen = libdeflate_deflate_compress(c, data, size, z + 30 + nl, bound);
	libdeflate_free_compressor(c);
	uint32_t crc = libdeflate_crc32(0, data, size);
	put32(z, 0x04034b50);
	put16(z + 8, 8);
	put32(z + 14, crc);
	put32(z + 18, (uint32_t)clen);
	put32(z + 22, (uint32_t)size);
	put16(z + 26, (unsigned)nl);
	memcpy(z + 30, name, nl);
	unsigned char *cd = z + 30 + nl + clen;
	put32(cd, 0x02014b50);
	put16(cd + 10, 8);
	put32(cd + 16, crc);
	put32(cd + 20, (uint32_t)clen);
	put32(cd + 24, (uint32_t)size);
	put16(cd + 28, (unsigned)nl);
	memcpy(cd + 46, name, nl);
	unsigned char *e = cd + 46 + nl;
	put32(e, 0x06054b50);
	put16(e + 8, 1);
	put16(e + 10, 1);
	put32(e + 12, (uint32_t)(46 + nl));
	put32(e + 16, (uint32_t)(30 + nl + clen));
	size_t zlen = (size_t)(e + 22 - z);

	struct zsrc src = {.fd = -1, .mem = z, .off = 0, .size = zlen};
	struct zip_limits lim = {1 << 20, 1000};
	struct zip zp;
	struct buf err = BUF_INIT;
	if (zip_open(&zp, &src, &lim, &err) == ZIP_OK && zp.nentries == 1) {
		struct stream_result r;
		buf_reset(&err);
		struct zip_limits slim = {1 << 20, 1000};
		bool nested = size & 2;
		zipstream_read(&zp, &zp.entries[0], 4u << 20, &slim, size & 1, nested ? want_nest : want, NULL,
			       nested ? &NEST : NULL, &r, &err);
		zipstream_result_drop(&r, &NEST);
		zip_close(&zp);
	}
	buf_free(&err);
	free(z);
	return 0;
}
