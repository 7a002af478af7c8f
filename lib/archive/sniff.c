/* sniff.c - content sniffing (see sniff.h).
 *
 * The executable formats are read just far enough to find where the image
 * ends: ELF from its header (section and program header tables; ELF
 * specification, "ELF Header"), PE from the COFF header, the section table
 * and the certificate data directory (Microsoft PE format, "Section Table",
 * "The Attribute Certificate Table").  Whatever lies in the head is used;
 * a table beyond it counts as "may have more" (the caller then looks). */
#include "archive/sniff.h"

#include <string.h>

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

bool sniff_tar(const unsigned char *h, size_t n)
{
	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return true; /* gzip */
	if (n >= 6 && !memcmp(h, "\xfd" "7zXZ\0", 6))
		return true; /* xz */
	if (n >= 4 && !memcmp(h, "\x28\xb5\x2f\xfd", 4))
		return true; /* zstd */
	if (n >= 4 && !memcmp(h, "BZh", 3) && h[3] >= '1' && h[3] <= '9')
		return true; /* bzip2 */
	return n >= 262 && !memcmp(h + 257, "ustar", 5);
}

static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* End of an ELF image (little-endian, 32 or 64 bit), or UINT64_MAX when it
 * cannot be told from the head. */
static uint64_t elf_end(const unsigned char *h, size_t n)
{
	if (n < 52 || h[5] != 1)
		return UINT64_MAX; /* big-endian ELF: no Java archive tool makes those */
	if (h[4] == 2) {
		if (n < 64)
			return UINT64_MAX;
		uint64_t shoff = le64(h + 0x28), phoff = le64(h + 0x20);
		uint64_t sh = shoff + (uint64_t)le16(h + 0x3A) * le16(h + 0x3C);
		uint64_t ph = phoff + (uint64_t)le16(h + 0x36) * le16(h + 0x38);
		return shoff ? max64(sh, ph) : UINT64_MAX;
	}
	uint64_t shoff = le32(h + 0x20), phoff = le32(h + 0x1C);
	uint64_t sh = shoff + (uint64_t)le16(h + 0x2E) * le16(h + 0x30);
	uint64_t ph = phoff + (uint64_t)le16(h + 0x2A) * le16(h + 0x2C);
	return shoff ? max64(sh, ph) : UINT64_MAX;
}

/* End of a PE image: the last section's raw data, or the certificate
 * table after it; UINT64_MAX when the tables are beyond the head. */
static uint64_t pe_end(const unsigned char *h, size_t n)
{
	if (n < 0x40)
		return UINT64_MAX;
	uint32_t pe = le32(h + 0x3C);
	if ((uint64_t)pe + 24 > n || memcmp(h + pe, "PE\0\0", 4))
		return UINT64_MAX;
	uint16_t nsec = le16(h + pe + 6), optlen = le16(h + pe + 20);
	const unsigned char *opt = h + pe + 24;
	uint64_t sect = (uint64_t)pe + 24 + optlen;
	if (sect + (uint64_t)nsec * 40 > n || (uint64_t)pe + 24 + 2 > n)
		return UINT64_MAX;
	uint64_t end = 0;
	for (uint16_t i = 0; i < nsec; i++) {
		const unsigned char *s = h + sect + (uint64_t)i * 40;
		end = max64(end, (uint64_t)le32(s + 20) + le32(s + 16));
	}
	/* data directory 4 (certificates): a file offset, unlike the others */
	uint16_t magic = le16(opt);
	size_t dd = magic == 0x20b ? 112 : 96;
	if (optlen >= dd + 5 * 8 && (uint64_t)pe + 24 + dd + 5 * 8 <= n) {
		const unsigned char *c = opt + dd + 4 * 8;
		if (le32(c + 4))
			end = max64(end, (uint64_t)le32(c) + le32(c + 4));
	}
	return end;
}

enum sniff_kind sniff(const unsigned char *h, size_t n, uint64_t size)
{
	if (n >= 4 && (!memcmp(h, "PK\3\4", 4) || !memcmp(h, "PK\5\6", 4)))
		return SNIFF_ZIP;
	if (n >= 8 && !memcmp(h, "JM\1\0", 4) && !memcmp(h + 4, "PK\3\4", 4))
		return SNIFF_JMOD;
	if (sniff_tar(h, n))
		return SNIFF_TAR;
	if (n >= 2 && h[0] == '#' && h[1] == '!')
		return SNIFF_SCRIPT;
	uint64_t end = 0;
	if (n >= 4 && !memcmp(h, "\x7f" "ELF", 4))
		end = elf_end(h, n);
	else if (n >= 2 && h[0] == 'M' && h[1] == 'Z')
		end = pe_end(h, n);
	else
		return SNIFF_NONE;
	/* 22: the smallest zip (an empty one's end record) */
	return end == UINT64_MAX || (end < size && size - end >= 22) ? SNIFF_EXEC : SNIFF_NONE;
}

bool sniff_none_early(const unsigned char *h, size_t n)
{
	if (n < SNIFF_EARLY || (h[0] == 'M' && h[1] == 'Z') || !memcmp(h, "\x7f" "ELF", 4))
		return false;
	return sniff(h, n, UINT64_MAX) == SNIFF_NONE;
}

bool sniff_zip_behind(enum sniff_kind k)
{
	return k == SNIFF_ZIP || k == SNIFF_JMOD || k == SNIFF_SCRIPT || k == SNIFF_EXEC;
}
