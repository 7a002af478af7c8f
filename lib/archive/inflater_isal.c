/* inflater_isal.c - the ISA-L (igzip) backend of inflater.h, built when
 * L4S_HAVE_ISAL is defined (libisal-dev installed; a shared library only,
 * so `make static` builds inflater_zlib.c instead). */
#ifdef L4S_HAVE_ISAL
#include "archive/inflater.h"

#include "util/buf.h"

#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdlib.h>

struct inflater {
	struct inflate_state st; /* 87 KB: its own window and output buffer */
};

struct inflater *inflater_new(void)
{
	struct inflater *f = xmalloc(sizeof *f);
	isal_inflate_init(&f->st);
	f->st.crc_flag = ISAL_DEFLATE; /* raw deflate, no wrapper, no checksum */
	return f;
}

void inflater_free(struct inflater *f)
{
	free(f);
}

enum inflate_rc inflater_run(struct inflater *f, const unsigned char **in, size_t *in_len, unsigned char **out,
			     size_t *out_len)
{
	uint32_t ni = *in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)*in_len;
	uint32_t no = *out_len > UINT32_MAX ? UINT32_MAX : (uint32_t)*out_len;
	f->st.next_in = (uint8_t *)*in;
	f->st.avail_in = ni;
	f->st.next_out = *out;
	f->st.avail_out = no;
	int r = isal_inflate(&f->st);
	uint32_t used = ni - f->st.avail_in, made = no - f->st.avail_out;
	*in += used;
	*in_len -= used;
	*out += made;
	*out_len -= made;
	if (r < 0)
		return INFLATE_BAD;
	if (f->st.block_state == ISAL_BLOCK_FINISH)
		return INFLATE_END;
	/* with input and room left, a call that moves nothing would loop */
	if (!used && !made && *in_len && *out_len)
		return INFLATE_BAD;
	return INFLATE_MORE;
}

const char *inflater_backend(void)
{
	return "isa-l";
}
#endif
