/* inflater_zlib.c - the zlib backend of inflater.h, the fallback when the
 * build has no ISA-L (L4S_HAVE_ISAL undefined: `make static`, Windows). */
#ifndef L4S_HAVE_ISAL
#include "archive/inflater.h"

#include "util/buf.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct inflater {
	z_stream z;
};

struct inflater *inflater_new(void)
{
	struct inflater *f = xcalloc(1, sizeof *f);
	if (inflateInit2(&f->z, -15) != Z_OK) {
		free(f);
		return NULL;
	}
	return f;
}

void inflater_free(struct inflater *f)
{
	if (!f)
		return;
	inflateEnd(&f->z);
	free(f);
}

enum inflate_rc inflater_run(struct inflater *f, const unsigned char **in, size_t *in_len, unsigned char **out,
			     size_t *out_len)
{
	uInt ni = *in_len > UINT_MAX ? UINT_MAX : (uInt)*in_len, no = *out_len > UINT_MAX ? UINT_MAX : (uInt)*out_len;
	f->z.next_in = (unsigned char *)*in;
	f->z.avail_in = ni;
	f->z.next_out = *out;
	f->z.avail_out = no;
	int r = inflate(&f->z, Z_NO_FLUSH);
	*in += ni - f->z.avail_in;
	*in_len -= ni - f->z.avail_in;
	*out += no - f->z.avail_out;
	*out_len -= no - f->z.avail_out;
	if (r == Z_STREAM_END)
		return INFLATE_END;
	return r == Z_OK || r == Z_BUF_ERROR ? INFLATE_MORE : INFLATE_BAD;
}

const char *inflater_backend(void)
{
	return "zlib";
}
#endif
