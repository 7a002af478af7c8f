/* fuzz_sniff.c - libFuzzer harness for the content sniffer (sniff.c: zip,
 * jmod, tarball and compression magics, launch scripts, where an ELF or PE
 * image ends) and for the zip entry stream (zentry.c) that feeds it.
 *
 * The input is used twice: as a head (sniff() over any length, with sizes
 * around the image end), and as the one STORED and one DEFLATED entry of a
 * small zip whose head is read with zentry_head() and whose bytes are
 * streamed with zentry_read() under a cap.  What comes out must be what
 * went in (the head a prefix of the input, the stream the input, cut at the
 * cap), and the kind one of the enum.  A head that sniff_none_early() calls
 * SNIFF_NONE from its first SNIFF_EARLY bytes is SNIFF_NONE at any length
 * (a DEFLATED entry's head then stops there). */
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive/sniff.h"
#include "archive/zentry.h"
#include "archive/zip.h"

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* method, crc, sizes and a one-byte name length: the same run of fields
 * in a local header (from offset 8) and a central one (from offset 10) */
static void put_fields(unsigned char *p, int method, uint32_t crc, size_t clen, size_t size)
{
	put16(p, (unsigned)method);
	put32(p + 6, crc);
	put32(p + 10, (uint32_t)clen);
	put32(p + 14, (uint32_t)size);
	put16(p + 18, 1);
}

/* A zip of one entry "e" holding data (method 0 or 8). */
static unsigned char *one_entry(const uint8_t *data, size_t size, int method, size_t *len, size_t *clen_out)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
	size_t bound = libdeflate_deflate_compress_bound(c, size) + size;
	unsigned char *z = calloc(1, 30 + 1 + bound + 46 + 1 + 22);
	size_t clen = size;
	if (method == 8)
		clen = libdeflate_deflate_compress(c, data, size, z + 31, bound);
	else
		memcpy(z + 31, data, size);
	libdeflate_free_compressor(c);
	uint32_t crc = libdeflate_crc32(0, data, size);
	put32(z, 0x04034b50);
	put_fields(z + 8, method, crc, clen, size);
	z[30] = 'e';
	unsigned char *cd = z + 31 + clen;
	put32(cd, 0x02014b50);
	put_fields(cd + 10, method, crc, clen, size);
	cd[46] = 'e';
	unsigned char *eocd = cd + 47;
	put32(eocd, 0x06054b50);
	put16(eocd + 8, 1);
	put16(eocd + 10, 1);
	put32(eocd + 12, 47);
	put32(eocd + 16, (uint32_t)(31 + clen));
	*len = 31 + clen + 47 + 22;
	*clen_out = clen;
	return z;
}

static void check_entry(const uint8_t *data, size_t size, int method)
{
	size_t len, clen;
	unsigned char *z = one_entry(data, size, method, &len, &clen);
	struct zsrc src = {.fd = -1, .mem = z, .off = 0, .size = len};
	struct zip_limits lim = {1 << 20, 16};
	struct zip zp;
	struct buf err = BUF_INIT;
	if (zip_open(&zp, &src, &lim, &err) != ZIP_OK)
		abort(); /* the harness made a valid zip */
	unsigned char head[SNIFF_HEAD];
	size_t hn;
	size_t want = size >= 2 && data[0] == 'M' && data[1] == 'Z' ? SNIFF_HEAD : ZENTRY_HEAD_FIRST;
	if (method == 8 && size >= SNIFF_EARLY && sniff_none_early(data, SNIFF_EARLY))
		want = SNIFF_EARLY;
	if (!zentry_head(&zp, &zp.entries[0], head, sizeof head, &hn) || hn != (size < want ? size : want) ||
	    memcmp(head, data, hn))
		abort();
	uint64_t cap = size / 2 + 1;
	struct zentry *r = zentry_open(&zp, &zp.entries[0], cap, &err);
	if (!r)
		abort();
	unsigned char buf[4096];
	size_t got = 0;
	const char *why;
	for (;;) {
		ssize_t n = zentry_read(r, buf, sizeof buf, &why);
		if (n <= 0)
			break;
		if (memcmp(buf, data + got, (size_t)n))
			abort();
		got += (size_t)n;
	}
	if (got > cap || (got < size && got < cap))
		abort();
	zentry_close(r);
	zip_close(&zp);
	buf_free(&err);
	free(z);
	(void)clen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (256 << 10))
		return 0;
	uint64_t sizes[] = {size, size + 21, size + 22, (uint64_t)size << 8, UINT64_MAX};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		enum sniff_kind k = sniff(data, size, sizes[i]);
		if ((unsigned)k > SNIFF_EXEC)
			abort();
		(void)sniff_zip_behind(k);
		if (size >= SNIFF_EARLY && sniff_none_early(data, SNIFF_EARLY) &&
		    (k != SNIFF_NONE || sniff(data, SNIFF_EARLY, sizes[i]) != SNIFF_NONE ||
		     sniff(data, size < SNIFF_HEAD ? size : SNIFF_HEAD, sizes[i]) != SNIFF_NONE))
			abort(); /* "none" from the first bytes must hold for all of them */
	}
	check_entry(data, size, 0);
	check_entry(data, size, 8);
	return 0;
}
