/* zipfmt.h - the ZIP format's record signatures and its little-endian
 * fields (APPNOTE.TXT 4.3), shared by the reader (zip.c), the stream reader
 * (zipstream.c) and the writer (zipwrite.c). */
#ifndef L4S_ZIPFMT_H
#define L4S_ZIPFMT_H

#include <stdint.h>

#define SIG_LOC 0x04034b50u   /* local header "PK\3\4" */
#define SIG_CEN 0x02014b50u   /* central directory header "PK\1\2" */
#define SIG_END 0x06054b50u   /* end of central directory "PK\5\6" */
#define SIG_END64 0x06064b50u /* ZIP64 end record "PK\6\6" */
#define SIG_LOC64 0x07064b50u /* ZIP64 end record locator "PK\6\7" */
#define SIG_DD 0x08074b50u    /* data descriptor "PK\7\10" */

static inline uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

#endif
