/* inflater.h - raw deflate (RFC 1951) inflated as a stream, behind one
 * interface with one backend per file:
 *   inflater_isal.c  ISA-L's igzip (libisal-dev), built when L4S_HAVE_ISAL
 *                    is defined (the Makefile defines it when the header is
 *                    installed): 2-6x zlib's speed on the long nested
 *                    archives a scan inflates whole to reach their central
 *                    directories (a run of zeros: 0.72 s -> 0.12 s for
 *                    419 MB);
 *   inflater_zlib.c  zlib, the fallback (`make static`: Debian ships no
 *                    libisal.a; the Windows build).
 * Both produce the same bytes for the same valid stream (deflate is
 * deterministic); corrupt data is refused by both, the error is the
 * caller's "corrupt deflate data", with one exception fuzz_inflater.c
 * found: ISA-L inflates a dynamic block whose Huffman code set zlib calls
 * invalid (incomplete), which no compressor writes and the JVM's zlib
 * refuses.  The ISA-L build may then read an entry a JVM cannot (seeing
 * more than the JVM, never less).
 *
 * For data whose compressed size is known only: an inflater may take input
 * bytes past the end of the deflate stream (ISA-L reads ahead into its bit
 * buffer), so a caller that must find what follows the stream (an entry
 * ended by a data descriptor) uses zlib directly. */
#ifndef L4S_INFLATER_H
#define L4S_INFLATER_H

#include <stddef.h>

struct inflater;

/* A fresh inflater; NULL when out of memory. */
struct inflater *inflater_new(void);
void inflater_free(struct inflater *f);

enum inflate_rc {
	INFLATE_MORE, /* input used up or output full: call again with more */
	INFLATE_END,  /* the deflate stream's last block is done */
	INFLATE_BAD,  /* corrupt deflate data */
};
/* Inflate from *in (*in_len bytes) into *out (*out_len bytes of room); both
 * are advanced past what was consumed and produced. */
enum inflate_rc inflater_run(struct inflater *f, const unsigned char **in, size_t *in_len, unsigned char **out,
			     size_t *out_len);
/* "isa-l" or "zlib": the backend this build has. */
const char *inflater_backend(void);

#endif
