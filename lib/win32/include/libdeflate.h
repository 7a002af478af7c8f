/* lib/win32/include/libdeflate.h - the part of libdeflate's interface the
 * shared code uses, served on Windows by zlib (lib/win32/inflate_zlib.c):
 * whole-buffer raw DEFLATE decompression into a buffer of known size,
 * whole-buffer compression (for a nested archive that fix rewrites), and
 * CRC-32.  Same names and results as libdeflate, so zip.c, zipwrite.c,
 * scan.c and fix_*.c are unchanged.  Compressed output differs from
 * libdeflate's (another encoder): only fix's recompressed nested archives
 * are affected, and their content (and CRC) is the same. */
#ifndef L4S_WIN32_LIBDEFLATE_H
#define L4S_WIN32_LIBDEFLATE_H

#include <stddef.h>
#include <stdint.h>

enum libdeflate_result {
	LIBDEFLATE_SUCCESS = 0,
	LIBDEFLATE_BAD_DATA = 1,
	LIBDEFLATE_SHORT_OUTPUT = 2,
	LIBDEFLATE_INSUFFICIENT_SPACE = 3,
};

struct libdeflate_decompressor;
struct libdeflate_compressor;

struct libdeflate_decompressor *libdeflate_alloc_decompressor(void);
void libdeflate_free_decompressor(struct libdeflate_decompressor *d);
enum libdeflate_result libdeflate_deflate_decompress(struct libdeflate_decompressor *d, const void *in,
						     size_t in_nbytes, void *out, size_t out_nbytes_avail,
						     size_t *actual_out_nbytes_ret);

struct libdeflate_compressor *libdeflate_alloc_compressor(int level);
void libdeflate_free_compressor(struct libdeflate_compressor *c);
size_t libdeflate_deflate_compress_bound(struct libdeflate_compressor *c, size_t in_nbytes);
size_t libdeflate_deflate_compress(struct libdeflate_compressor *c, const void *in, size_t in_nbytes,
				   void *out, size_t out_nbytes_avail);

uint32_t libdeflate_crc32(uint32_t crc, const void *buf, size_t len);

#endif
