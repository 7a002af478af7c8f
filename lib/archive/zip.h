/* zip.h - a ZIP reader that reads as little as possible, and decides which
 * entries an archive has the way the JVM does.
 *
 * An archive is read from a byte source: a file descriptor (read with pread
 * at offsets, never whole) or a buffer in memory (a nested archive).  Opening
 * reads only the end-of-central-directory record and the central directory,
 * from the tail; entries are then listed from the central directory without
 * touching their data, and only the entries a caller asks for are read.
 *
 * The entry list is the one OpenJDK 17's java.util.zip.ZipFile builds
 * (Source.findEND and initCEN, checked against 17.0.15), so that a class the
 * JVM would load from an archive is seen, and one it would not is not:
 *   - The end record is searched for backwards from the end of the file over
 *     the JDK's window (the last 65,636 bytes).  A candidate whose comment
 *     length does not reach exactly the end of the file is taken only if its
 *     central directory starts with a central header signature and its first
 *     local header (central directory offset minus declared offset) with a
 *     local header signature; otherwise the search goes on.  A candidate
 *     that passes but whose comment runs past the end refuses the archive.
 *   - A ZIP64 locator right before the end record is followed to the offset
 *     it states (as written: not corrected for prepended data); when no ZIP64
 *     end record is there, or its size, offset or count differs from a
 *     classic field that is not 0xFFFF/0xFFFFFFFF, the classic record is used.
 *   - Disk numbers and the 16-bit (or 64-bit) entry counts are not trusted:
 *     entries are read until the central directory's bytes are used up.  The
 *     directory must end exactly there (no slack, no entry running past it).
 *   - Prepended data (an executable jar's launch script): entry offsets are
 *     corrected by the central directory's actual position minus its declared
 *     one, which must not be negative.
 * Refusals.  The JDK refuses a whole archive in two kinds of cases, and
 * log4scan deliberately treats them differently:
 *   - its structure cannot be read (no end record found, a central directory
 *     outside the file, a bad central header signature, slack or overrun at
 *     its end, a ZIP64 count the JDK cannot allocate for): ZIP_BAD with the
 *     JDK's reason.  No reader loads anything from it; nothing is reported
 *     but the error.
 *   - one entry's fields fail a check (encrypted flag, a method other than
 *     STORED/DEFLATED, a name that is not valid UTF-8, a malformed extra
 *     field): ZIP_OK, every entry listed as a lenient reader lists it, and
 *     z->refused holds the JDK's reason.  OpenJDK 17.0.15 refuses such an
 *     archive, but its other entries still reach JVMs: readers other than
 *     java.util.zip.ZipFile (ZipInputStream, which extraction and deployment
 *     tools use; class loaders with a ZIP reader of their own) read them, a
 *     malformed extra field passes OpenJDK from before the July 2023 updates
 *     (17.0.8, 11.0.20, 8u381) and any JVM run with
 *     -Djdk.util.zip.disableZip64ExtraFieldValidation=true, and Java 8's
 *     reader does not check names.  Callers scan it and report the refusal
 *     beside what they find, rather than give an all-clear for an archive
 *     whose classes can be loaded.
 * Bounds of log4scan's own: a central directory larger than
 * zip_limits.max_cd_bytes or with more entries than max_entries is ZIP_BAD.
 * Also handled: ZIP64 extra fields, data descriptors, STORED and DEFLATED
 * entries, duplicate names (all listed; the JDK loads the last), non-UTF-8
 * names.  Every size and offset read from the file is checked against the
 * source before use; inflation never produces more than the caller's cap. */
#ifndef L4S_ZIP_H
#define L4S_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct libdeflate_decompressor;

/* Bytes [off, off + size) of fd, or of mem when mem is not NULL. */
struct zsrc {
	int fd;
	const unsigned char *mem;
	uint64_t off;
	uint64_t size;
};

int zip_src_read(const struct zsrc *s, void *dst, size_t n, uint64_t at);

/* The whole of fd, a class file of an exploded directory opened by the
 * caller (fd < 0: the open failed, errno says why), into *out (the caller
 * frees) when it is a regular file of at most max bytes; fd is closed.
 * False with the reason in err.  Shared by scan's and fix's directory views. */
bool zip_read_file(int fd, uint64_t max, unsigned char **out, size_t *len, struct buf *err);

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
	bool zip64;           /* the entry list came from a ZIP64 end record */
	/* Why OpenJDK 17 would refuse to open this archive although its entries
	 * could be listed (see above), or "" */
	char refused[128];
};

enum zip_status { ZIP_OK = 0, ZIP_NOT_ZIP = 1, ZIP_BAD = 2 };

struct zip_limits {
	uint64_t max_cd_bytes;   /* central directory size */
	uint64_t max_entries;
};

/* How much of a file's tail zip_open reads first; the rest of the JDK's
 * search window is read only when no end record found there is taken (an
 * archive comment, or trailing junk). */
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

/* The archive's identity that costs nothing more than a digest: SHA-256
 * of the central directory's bytes (zip.cd, zip.cd_len), which every scan has
 * read.  It covers every entry's name, method, CRC-32, sizes, offset, dates,
 * extra fields and comment; it does not cover the entries' data beyond
 * their CRC-32, the local headers, bytes before the first entry (a launch
 * script) or the end record and archive comment.  out: 64 hex digits. */
void zip_cd_sha256(const unsigned char *cd, size_t cd_len, char out[65]);

/* A source that may answer only some reads: the parts of a streamed archive
 * that were kept (zipstream.c).  read copies n bytes at `at` and returns 0,
 * -1 on an error (errno set), or 1 when those bytes are not available. */
struct zip_reader {
	uint64_t size;
	int (*read)(void *ctx, void *dst, size_t n, uint64_t at);
	void *ctx;
};

/* As zip_open over such a source: the end-record search and the central
 * directory, nothing else (z->src is empty: entries' data cannot be read
 * through it).  A read the source cannot answer makes it ZIP_BAD, with err
 * saying the archive could not be decided from what was kept. */
enum zip_status zip_open_reader(struct zip *z, const struct zip_reader *r,
				const struct zip_limits *lim, struct buf *err);

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
