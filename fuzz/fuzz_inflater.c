/* fuzz_inflater.c - libFuzzer harness for lib/archive/inflater.h, checked
 * against zlib: the input is raw deflate data (the first byte picks the
 * input and output chunk sizes).  Whatever the bytes, the inflater must not
 * crash, and on every stream zlib inflates to its end the inflater must end
 * too with the same bytes; where zlib refuses the data, it must not end
 * with a different stream's worth (both refuse, or both stop short).  Of
 * a stream longer than 1 MiB only the first MiB is compared.
 *
 * One difference is allowed, the ISA-L backend's (inflater.h): ISA-L
 * accepts a dynamic block whose Huffman codes are incomplete, which zlib
 * refuses ("invalid code lengths set", "invalid literal/lengths set",
 * "invalid distances set"); the ISA-L build may end such a stream where
 * zlib refuses it, never the other way round, and never for another of
 * zlib's reasons. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "archive/inflater.h"

#define CAP (1u << 20)

static unsigned char want[CAP], got[CAP];

/* zlib over all of in: 1 ended, 0 stopped short (truncated or CAP), -1 refused */
static char zmsg[64];
static int by_zlib(const uint8_t *in, size_t n, size_t *made)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, -15) != Z_OK)
		abort();
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)n;
	z.next_out = want;
	z.avail_out = CAP;
	int r = inflate(&z, Z_NO_FLUSH);
	*made = CAP - z.avail_out;
	snprintf(zmsg, sizeof zmsg, "%s", z.msg ? z.msg : "");
	inflateEnd(&z);
	return r == Z_STREAM_END ? 1 : r == Z_OK || r == Z_BUF_ERROR ? 0 : -1;
}

static int by_inflater(const uint8_t *in, size_t n, size_t in_chunk, size_t out_chunk, size_t *made)
{
	struct inflater *f = inflater_new();
	if (!f)
		abort();
	size_t fed = 0, in_len = 0;
	const unsigned char *p = in;
	unsigned char *o = got;
	int rc = 0;
	for (;;) {
		if (!in_len && fed < n) {
			p = in + fed;
			in_len = n - fed < in_chunk ? n - fed : in_chunk;
			fed += in_len;
		}
		size_t room = (size_t)(got + CAP - o) < out_chunk ? (size_t)(got + CAP - o) : out_chunk;
		size_t room0 = room, in0 = in_len;
		enum inflate_rc r = inflater_run(f, &p, &in_len, &o, &room);
		if (r == INFLATE_END) {
			rc = 1;
			break;
		}
		if (r == INFLATE_BAD) {
			rc = -1;
			break;
		}
		if (o == got + CAP || (!in_len && fed == n && room == room0 && in_len == in0))
			break;
	}
	inflater_free(f);
	*made = (size_t)(o - got);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const size_t ins[] = {1u << 30, 1, 7, 64, 4096, 65536, 3, 1000};
	static const size_t outs[] = {1u << 30, 1, 258, 300, 32768, 262144, 5, 4097};
	size_t in_chunk = ins[data[0] & 7], out_chunk = outs[(data[0] >> 3) & 7];
	data++;
	size--;
	size_t zn, fn;
	int zr = by_zlib(data, size, &zn);
	int fr = by_inflater(data, size, in_chunk, out_chunk, &fn);
	if (zr == 1 && (fr != 1 || fn != zn || memcmp(want, got, zn)))
		abort(); /* a stream zlib inflates whole must come out the same */
	if (zr == 0 && zn == CAP && (fn != CAP || memcmp(want, got, CAP)))
		abort(); /* the first MiB of a long one too */
	bool incomplete_code = !strcmp(zmsg, "invalid code lengths set") ||
			       !strcmp(zmsg, "invalid literal/lengths set") || !strcmp(zmsg, "invalid distances set");
	if (fr == 1 && zr != 1 && !(zr == -1 && incomplete_code && !strcmp(inflater_backend(), "isa-l")))
		abort(); /* ended where zlib refuses or wants more */
	return 0;
}
