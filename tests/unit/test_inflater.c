/* test_inflater.c - unit tests for lib/archive/inflater.h (whichever backend
 * this build has: ISA-L or zlib): streams made by zlib at every level and
 * strategy (stored, fixed and dynamic blocks, runs that are one long match)
 * come back byte for byte whatever the input and output chunk sizes; a
 * truncated stream never ends, corrupt ones are refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "archive/inflater.h"
#include "unit.h"

static unsigned char *deflate_raw(const unsigned char *src, size_t n, int level, int strategy, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, strategy) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&z, n) + 64;
	unsigned char *c = malloc(cap);
	z.next_in = (unsigned char *)src;
	z.avail_in = (uInt)n;
	z.next_out = c;
	z.avail_out = (uInt)cap;
	int r = deflate(&z, Z_FINISH);
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	if (r != Z_STREAM_END) {
		free(c);
		return NULL;
	}
	return c;
}

/* Inflate c (clen) feeding in_chunk bytes at a time into out_chunk-sized
 * windows of out (cap bytes); the status of the last call, *made bytes. */
static enum inflate_rc run(const unsigned char *c, size_t clen, size_t in_chunk, size_t out_chunk,
			   unsigned char *out, size_t cap, size_t *made)
{
	struct inflater *f = inflater_new();
	size_t fed = 0;
	const unsigned char *in = c;
	size_t in_len = 0;
	unsigned char *o = out;
	enum inflate_rc r = INFLATE_MORE;
	for (int guard = 0; guard < 100000000; guard++) {
		if (!in_len && fed < clen) {
			in = c + fed;
			in_len = clen - fed < in_chunk ? clen - fed : in_chunk;
			fed += in_len;
		}
		size_t room = (size_t)(out + cap - o) < out_chunk ? (size_t)(out + cap - o) : out_chunk;
		size_t room0 = room;
		const unsigned char *in0 = in;
		r = inflater_run(f, &in, &in_len, &o, &room);
		if (r != INFLATE_MORE)
			break;
		if (!in_len && fed == clen && room == room0 && in == in0)
			break; /* no input left, nothing more came out: truncated */
		if (o == out + cap)
			break;
	}
	inflater_free(f);
	*made = (size_t)(o - out);
	return r;
}

int main(void)
{
#ifdef L4S_HAVE_ISAL
	CHECK_STR("backend is ISA-L when built with it", inflater_backend(), "isa-l");
#else
	CHECK_STR("backend is zlib without ISA-L", inflater_backend(), "zlib");
#endif
	/* inputs: text, bytes no compressor shrinks, a long run of zeros */
	size_t n = 3u << 20;
	unsigned char *text = malloc(n), *noise = malloc(n), *zeros = calloc(1, 8u << 20);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		noise[i] = (unsigned char)x;
		text[i] = (unsigned char)("org/apache/logging/log4j/core/lookup/JndiLookup.class "[(i * 7 + (x & 3)) % 54]);
	}
	struct {
		const char *name;
		const unsigned char *d;
		size_t n;
	} in[] = {{"text", text, n}, {"noise", noise, n}, {"zeros", zeros, 8u << 20}, {"empty", text, 0}};
	struct {
		int level, strategy;
	} how[] = {{0, Z_DEFAULT_STRATEGY}, {1, Z_DEFAULT_STRATEGY}, {6, Z_DEFAULT_STRATEGY},
		   {9, Z_DEFAULT_STRATEGY}, {6, Z_FIXED}, {6, Z_HUFFMAN_ONLY}, {6, Z_RLE}};
	size_t chunks[][2] = {{1u << 30, 1u << 30}, {65536, 256u << 10}, {4096, 300}, {7, 65536}};
	unsigned char *out = malloc((8u << 20) + 16);
	for (size_t i = 0; i < sizeof in / sizeof *in; i++)
		for (size_t h = 0; h < sizeof how / sizeof *how; h++) {
			size_t clen;
			unsigned char *c = deflate_raw(in[i].d, in[i].n, how[h].level, how[h].strategy, &clen);
			for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
				/* byte-at-a-time input only on the small case: it is slow by design */
				if (chunks[k][0] < 16 && clen > (1u << 20))
					continue;
				char name[160];
				snprintf(name, sizeof name, "%s, level %d strategy %d, in %zu out %zu: same bytes, ends",
					 in[i].name, how[h].level, how[h].strategy, chunks[k][0], chunks[k][1]);
				size_t made = 0;
				enum inflate_rc r = run(c, clen, chunks[k][0], chunks[k][1], out, (8u << 20) + 16, &made);
				CHECK(name, c && r == INFLATE_END && made == in[i].n && !memcmp(out, in[i].d, made));
			}
			if (c && clen > 8) {
				char name[160];
				snprintf(name, sizeof name, "%s, level %d strategy %d, truncated: never ends",
					 in[i].name, how[h].level, how[h].strategy);
				size_t made = 0;
				enum inflate_rc r = run(c, clen - 4, 65536, 256u << 10, out, (8u << 20) + 16, &made);
				CHECK(name, r != INFLATE_END && made <= in[i].n && !memcmp(out, in[i].d, made));
			}
			free(c);
		}
	/* corrupt: block type 3 (reserved); a distance before the first byte
	 * (fixed block: literal 'a', then length 3 at distance 2) */
	static const unsigned char bad_type[] = {0x07, 0x00, 0x00};
	static const unsigned char far_back[] = {0x4b, 0x04, 0x42, 0x00};
	size_t made;
	CHECK("reserved block type: refused", run(bad_type, sizeof bad_type, 64, 64, out, 64, &made) == INFLATE_BAD);
	enum inflate_rc fr = run(far_back, sizeof far_back, 64, 64, out, 64, &made);
	CHECK("distance before the first byte: refused", fr == INFLATE_BAD);
	/* a stored block whose length check (NLEN) is wrong */
	static const unsigned char bad_nlen[] = {0x01, 0x03, 0x00, 0x00, 0x00, 'a', 'b', 'c'};
	CHECK("stored block with a wrong NLEN: refused", run(bad_nlen, sizeof bad_nlen, 64, 64, out, 64, &made) == INFLATE_BAD);
	free(text);
	free(noise);
	free(zeros);
	free(out);
	UNIT_EXIT();
}
