/* zipwrite.h - rewrite a ZIP archive minus some entries, byte for byte.
 *
 * The writer takes an archive opened with zip.h and writes a new one that
 * holds the same entries except the dropped ones, optionally with the
 * content of a few entries replaced (a nested archive that was itself
 * rewritten).  Everything else is carried over raw: each kept entry's local
 * header, compressed data and data descriptor are copied as they are (never
 * recompressed), the central directory headers are copied as they are with
 * only the local-header offset updated, and the entries keep their order
 * (local records in file order, the central directory in its own order).
 * Bytes before the first entry (an executable jar's launch script) are
 * kept, and offsets keep the source's convention (relative to the archive
 * or to the file).  The archive comment is kept; ZIP64 end records are
 * written when the source had them or the numbers need them.
 *
 * A replaced entry keeps its name, extra fields, flags, timestamps and
 * compression method: STORED stays STORED (Spring Boot requires nested jars
 * to be STORED); a DEFLATED entry is deflated again (that entry only) and
 * gets its new CRC and sizes in the local header, the data descriptor (if
 * it had one) and the central directory.
 *
 * Refused (the caller keeps the original): entries whose ZIP64 fields are
 * unreadable, local headers missing, entries whose records overlap (a zip
 * bomb's trick), an extra field that would outgrow 64 KiB. */
#ifndef L4S_ZIPWRITE_H
#define L4S_ZIPWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/zip.h"
#include "util/buf.h"

/* Where the new archive goes: a file descriptor written sequentially from
 * its current position, or a buffer in memory.  The first write error is
 * kept in err (an errno value, e.g. ENOSPC) and makes later writes no-ops. */
struct zipwrite_sink {
	int fd;
	struct buf *mem;
	unsigned char *stage; /* fd: small writes are gathered here */
	size_t staged;
	uint64_t pos;         /* bytes written so far */
	unsigned char tail[20]; /* the last 20 of them (what precedes the end record) */
	int err;
};

void zipwrite_sink_fd(struct zipwrite_sink *s, int fd);
void zipwrite_sink_mem(struct zipwrite_sink *s, struct buf *mem);
/* Flush staged bytes and release the stage; returns false on a write error. */
bool zipwrite_sink_finish(struct zipwrite_sink *s);

/* New uncompressed content for entry `index` of the source. */
struct zipwrite_replace {
	size_t index;
	const unsigned char *data;
	size_t len;
};

struct zipwrite_edit {
	const bool *drop;             /* per source entry (NULL: drop nothing) */
	const struct zipwrite_replace *rep; /* at most one per index */
	size_t nrep;
	int level;                    /* deflate level for replaced entries (0: default 6) */
};

/* Write the edited archive.  Returns false with the reason in err (and,
 * for a write failure, s->err set). */
bool zipwrite_write(const struct zip *z, const struct zipwrite_edit *ed, struct zipwrite_sink *s, struct buf *err);

/* Check a written archive against its source and the edit: it opens, it has
 * exactly the source's entries minus the dropped ones in the same order,
 * with the same names, methods and flags; kept entries have the source's
 * CRC and sizes; every entry's local header matches and its data inflates to
 * its CRC (an entry that cannot be checked that way - unknown method,
 * encrypted, or already corrupt in the source - must be byte-identical to
 * the source's); a replaced entry holds exactly the replacement bytes. */
bool zipwrite_verify(const struct zip *z, const struct zipwrite_edit *ed, const struct zsrc *out,
	       struct buf *err);

#endif
