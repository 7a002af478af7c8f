/* lib/win32/inflate_zlib.c - libdeflate's whole-buffer interface over zlib
 * (see lib/win32/include/libdeflate.h).  A decompressor is one raw-inflate
 * z_stream, reset for each entry; entries larger than 4 GiB are fed in
 * pieces since zlib counts in 32 bits. */
#include <stdbool.h>
#include <stdlib.h>
#include <zlib.h>

#include "libdeflate.h"

struct libdeflate_decompressor {
	z_stream z;
};

struct libdeflate_compressor {
	int level;
};

struct libdeflate_decompressor *libdeflate_alloc_decompressor(void)
{
	struct libdeflate_decompressor *d = calloc(1, sizeof *d);
	if (d && inflateInit2(&d->z, -15) != Z_OK) {
		free(d);
		return NULL;
	}
	return d;
}

void libdeflate_free_decompressor(struct libdeflate_decompressor *d)
{
	if (!d)
		return;
	inflateEnd(&d->z);
	free(d);
}

/* Inflate all of in into out.  With got: SUCCESS when the stream ends
 * within out_n bytes (*got = their number), INSUFFICIENT_SPACE when it
 * would need more; without: SHORT_OUTPUT unless exactly out_n.  Anything
 * else (corrupt, truncated) is BAD_DATA. */
enum libdeflate_result libdeflate_deflate_decompress(struct libdeflate_decompressor *d, const void *in,
						     size_t in_n, void *out, size_t out_n, size_t *got)
{
	z_stream *z = &d->z;
	inflateReset(z);
	const unsigned char *ip = in;
	unsigned char *op = out, probe;
	size_t in_left = in_n, out_left = out_n, done = 0;
	bool probing = false;
	z->avail_in = z->avail_out = 0;
	for (;;) {
		if (!z->avail_in && in_left) {
			z->next_in = (Bytef *)ip;
			z->avail_in = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
			ip += z->avail_in;
			in_left -= z->avail_in;
		}
		if (!probing && !z->avail_out) {
			if (out_left) {
				z->next_out = op;
				z->avail_out = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
				op += z->avail_out;
				out_left -= z->avail_out;
			} else {
				/* out is full: does the stream end here? */
				probing = true;
				z->next_out = &probe;
				z->avail_out = 1;
			}
		}
		int r = inflate(z, Z_NO_FLUSH);
		if (probing && !z->avail_out)
			return LIBDEFLATE_INSUFFICIENT_SPACE;
		if (r == Z_STREAM_END)
			break;
		if (r != Z_OK && r != Z_BUF_ERROR)
			return LIBDEFLATE_BAD_DATA;
		if (!z->avail_in && !in_left && (r == Z_BUF_ERROR || z->avail_out))
			return LIBDEFLATE_BAD_DATA; /* input ended before the stream did */
	}
	done = probing ? out_n : (size_t)(op - (unsigned char *)out) - z->avail_out;
	if (got)
		*got = done;
	else if (done != out_n)
		return LIBDEFLATE_SHORT_OUTPUT;
	return LIBDEFLATE_SUCCESS;
}

struct libdeflate_compressor *libdeflate_alloc_compressor(int level)
{
	struct libdeflate_compressor *c = calloc(1, sizeof *c);
	if (c)
		c->level = level > 9 ? 9 : level;
	return c;
}

void libdeflate_free_compressor(struct libdeflate_compressor *c)
{
	free(c);
}

size_t libdeflate_deflate_compress_bound(struct libdeflate_compressor *c, size_t n)
{
	(void)c;
	return n + n / 1000 + (n >> 14) * 5 + 64 + 5 * (n / 65535 + 1);
}

size_t libdeflate_deflate_compress(struct libdeflate_compressor *c, const void *in, size_t n, void *out,
				   size_t avail)
{
	z_stream z = {0};
	if (deflateInit2(&z, c->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	const unsigned char *ip = in;
	unsigned char *op = out;
	size_t in_left = n, out_left = avail;
	int r;
	do {
		if (!z.avail_in && in_left) {
			z.next_in = (Bytef *)ip;
			z.avail_in = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
			ip += z.avail_in;
			in_left -= z.avail_in;
		}
		if (!z.avail_out) {
			if (!out_left) {
				deflateEnd(&z);
				return 0;
			}
			z.next_out = op;
			z.avail_out = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
			op += z.avail_out;
			out_left -= z.avail_out;
		}
		r = deflate(&z, in_left || z.avail_in ? Z_NO_FLUSH : Z_FINISH);
	} while (r == Z_OK || r == Z_BUF_ERROR);
	size_t done = (size_t)(op - (unsigned char *)out) - z.avail_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? done : 0;
}

uint32_t libdeflate_crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uLong c = crc;
	while (len) {
		uInt k = len > (1u << 30) ? (1u << 30) : (uInt)len;
		c = crc32(c, p, k);
		p += k;
		len -= k;
	}
	return (uint32_t)c;
}
