/* zip.h - a ZIP reader that reads as little as possible.
 *
 * An archive is read from a byte source: a file descriptor (read with pread
 * at offsets, never whole) or a buffer in memory (a nested archive).  Opening
 * reads only the end-of-central-directory record and the central directory,
 * from the tail; entries are then listed from the central directory without
 * touching their data, and only the entries a caller asks for are read.
 *
 * Handled: ZIP64, data descriptors, STORED and DEFLATED entries, data
 * prepended before the archive (executable jars with a launch script: the
 * offsets are corrected by the difference between where the central
 * directory is and where the EOCD says it is), duplicate names, non-UTF-8
 * names.  Every size and offset read from the file is checked against the
 * source before use; inflation never produces more than the caller's cap. */
#ifndef L4S_ZIP_H
#define L4S_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct libdeflate_decompressor;

/* Bytes [off, off + size) of fd, or of mem when mem is not NULL. */
struct zsrc {
	int fd;
	const unsigned char *mem;
	uint64_t off;
	uint64_t size;
};

int zsrc_read(const struct zsrc *s, void *dst, size_t n, uint64_t at);

struct zip_entry {
	const char *name; /* points into the central directory; NOT NUL-terminated */
	size_t name_len;
	uint16_t method;
	uint16_t flags;
	uint32_t crc;
	uint64_t csize;
	uint64_t usize;
	uint64_t local_off;  /* as corrected for prepended data */
	size_t cd_pos;       /* offset of this entry's header in the central directory */
	size_t cd_len;       /* length of that header (46 + name + extra + comment) */
};

struct zip {
	struct zsrc src;
	unsigned char *cd;    /* the central directory, read in one piece */
	size_t cd_len;
	uint64_t cd_off;      /* where it actually is in the source */
	uint64_t eocd_off;    /* where the (classic) EOCD record is */
	int64_t shift;        /* actual minus declared offsets (prepended data) */
	struct zip_entry *entries;
	size_t nentries;
	bool zip64;
};

enum zip_status { ZIP_OK = 0, ZIP_NOT_ZIP = 1, ZIP_BAD = 2 };

struct zip_limits {
	uint64_t max_cd_bytes;   /* central directory size */
	uint64_t max_entries;
};

/* How much of a file's tail zip_open reads first; the rest of the 64 KiB
 * tail is read only when no end record ends exactly at the end of the file
 * (an archive comment, or trailing junk). */
#define ZIP_TAIL_FIRST 512

/* Open: ZIP_OK, ZIP_NOT_ZIP (no end record: not an archive), or ZIP_BAD with
 * the reason in err (an end record was found but the archive is unreadable). */
enum zip_status zip_open(struct zip *z, const struct zsrc *src, const struct zip_limits *lim,
			 struct buf *err);
/* As zip_open; when quick, the end record is looked for in the last
 * ZIP_TAIL_FIRST bytes only: for files whose name does not say archive,
 * where searching the whole 64 KiB tail of every file would read more than
 * all the archives' central directories together.  It misses only such a
 * file with an archive comment or trailing data longer than that. */
enum zip_status zip_open_quick(struct zip *z, const struct zsrc *src, const struct zip_limits *lim,
			       bool quick, struct buf *err);
void zip_close(struct zip *z);

/* Absolute offset (in the source) of an entry's compressed data, after
 * checking its local header.  Returns false with a reason in err. */
bool zip_data_offset(const struct zip *z, const struct zip_entry *e, uint64_t *data_off,
		     struct buf *err);

/* Read and decompress an entry into a new buffer (caller frees), checking
 * its CRC.  Refuses entries whose size exceeds max. */
bool zip_read(const struct zip *z, const struct zip_entry *e, uint64_t max,
	      struct libdeflate_decompressor *d, unsigned char **out, size_t *out_len,
	      struct buf *err);

#endif
