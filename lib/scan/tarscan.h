/* tarscan.h - find Log4j inside tar archives and their compressed forms
 * (tar, tar.gz/tgz, tar.xz, tar.zst, tar.bz2), read as a stream with
 * libarchive: nothing is extracted to disk and memory stays bounded.
 *
 * A file is a tarball when its content says so: tarscan_probe() looks at its
 * first bytes (a compression magic, or "ustar" at offset 257); for a
 * compressed stream libarchive then decides, after decompressing the first
 * block, whether a tar is inside (a plain .gz of a log file is not one and
 * is passed over silently unless its name claims a tarball).
 *
 * Entries are looked at as they stream past:
 *   - a regular file whose name says archive (.jar .war ...) or whose first
 *     bytes say zip (sniff.h: a local header, a jmod, a launch script, an
 *     executable with data behind its image) is scanned by the zip engine
 *     with a whole --max-inflate of its own (as a file in a directory):
 *     read into memory when at most --max-nested-size, streamed front to
 *     back beyond, so nesting crosses formats (tar.gz -> war -> jar) and a
 *     fat jar in an image layer is read in bounded memory;
 *   - a regular file that is itself a tarball is read as a nested stream
 *     pulled from its parent (no copy, any size), up to TAR_MAX_NEST levels
 *     (tarscan_reader/tarscan_buffer do the same for a tarball inside a
 *     zip);
 *   - a hard link gets copies of its target's findings under its own path;
 *   - exploded classes (.../org/apache/logging/log4j/..., org/apache/log4j/,
 *     a relocated copy's package root told by the detector's class names
 *     (classroot.h), and the META-INF evidence beside them) are gathered
 *     per class root into an in-memory container for the detector;
 *   - everything else is skipped (seeked over when the stream is not
 *     compressed).
 * Display paths join levels with "!/": app.tar.gz!/lib/x.war!/WEB-INF/lib/y.jar.
 *
 * Bounds: entries per stream (--max-entries), bytes kept per stream,
 * nesting depth, and a decompression-ratio guard against tar bombs (a
 * compressed stream that has produced more than 64 MiB and more than
 * TAR_MAX_RATIO bytes per input byte is abandoned with an error record).
 *
 * A top-level tarball is scanned through image.h (image_scan_fd,
 * image_scan_mem): when it is a container image (`docker save` output or an
 * OCI image layout in a tar), image.c drives the entry scanner below over
 * each layer. */
#ifndef L4S_TARSCAN_H
#define L4S_TARSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan/scan.h"
#include "util/buf.h"

/* Bytes tarscan_probe() wants to see (scan.h). */
#define TAR_PROBE_LEN SCAN_TAR_PROBE_LEN
/* Tar streams nested inside tar streams followed (each holds a decoder). */
#define TAR_MAX_NEST 6
#define TAR_MAX_RATIO 200

/* Could these first bytes start a tarball (compressed or not)? */
bool tarscan_probe(const unsigned char *head, size_t n);
/* Is this 512-byte block a tar header ("ustar", or an old v7 header whose
 * checksum adds up)? */
bool tarscan_header_block(const unsigned char *h);
/* Could this head of a compressed stream start a tarball?  False only for
 * a gzip stream whose first 512 inflated bytes are no tar header (a .gz of
 * a text file), told from the head alone. */
bool tarscan_head_plausible(const unsigned char *head, size_t hn);
/* The same for a regular file whose first hn bytes are head: a gzip stream
 * is inflated further from fd when the head alone does not tell. */
bool tarscan_fd_plausible(int fd, const unsigned char *head, size_t hn);
/* Does the name say tarball (.tar .tgz .tar.gz .tar.xz .tar.zst ...)? */
bool tarscan_name(const char *name, size_t len);

/* A tarball nested in another archive, `depth` levels down, as a stream
 * from rd (a zip entry, inflated on the way) or from memory: its members
 * are scanned as a tarball's are.  `named` as above; false when the bytes
 * hold no tar (nothing reported then unless named). */
bool tarscan_reader(struct scanner *s, byte_read_fn rd, void *ctx, const char *path, int depth, bool named,
		     struct scan_batch *out);
bool tarscan_buffer(struct scanner *s, const unsigned char *data, size_t len, const char *path, int depth,
		     bool named, struct scan_batch *out);

/* ---- used by image.c */

struct archive;
struct archive_entry;

/* Where a top-level stream comes from: fd when mem is NULL. */
struct tarscan_src {
	int fd;
	const unsigned char *mem;
	size_t len;
};

/* A reader over src from its beginning (tar format, the usual filters);
 * NULL with a reason in err. */
struct archive *tarscan_open(const struct tarscan_src *src, struct buf *err);
void tarscan_close(struct archive *a);

/* A hook into the entry scanner: `entry` sees every entry of the stream it
 * is given to (not of streams nested below it) before the scanner does and
 * returns true when it consumed it (the scanner then leaves it alone);
 * `records` is told that out->rec[from, to) came from entry `name` (for
 * exploded classes: the class root followed by "org"). Either may be NULL.
 * Exploded classes found in the stream are detected at its end. */
struct tarscan_hook {
	bool (*entry)(void *ctx, struct archive *a, struct archive_entry *e, const char *name);
	void (*records)(void *ctx, const char *name, size_t from, size_t to);
	void *ctx;
	bool quiet; /* a second pass: stream-level errors and counts were given by the first */
};

/* Normalised entry name: leading "./" and "/" removed, trailing "/" too. */
const char *tarscan_entry_name(struct archive_entry *e, struct buf *tmp);

/* Scan every entry of the open reader `a` (a stream at nesting `depth`,
 * shown as `path`).  `named` says the name claims a tarball, so that "not a
 * tar" is an error rather than silence.  Returns false when the stream
 * turned out not to be a tar at all. */
bool tarscan_stream(struct scanner *s, struct archive *a, const char *path, int depth, bool named,
		     const struct tarscan_hook *hook, struct scan_batch *out);
/* Scan the current entry of `a` the way the stream scanner would (zip,
 * nested tar, or nothing).  `path` is the entry's display path. */
void tarscan_entry(struct scanner *s, struct archive *a, struct archive_entry *e, const char *path,
		    const char *name, int depth, struct scan_batch *out);
/* Scan the current entry's data of `a` as a nested tar stream. */
bool tarscan_nested(struct scanner *s, struct archive *a, const char *path, int depth, bool named,
		     const struct tarscan_hook *hook, struct scan_batch *out);
/* Read the current entry whole into memory if it is at most max bytes
 * (caller frees); false with a reason in err. */
bool tarscan_read_entry(struct archive *a, struct archive_entry *e, uint64_t max, unsigned char **out,
		    size_t *len, struct buf *err);
/* Is the stream past the tar-bomb ratio guard?  (err gets the reason.) */
bool tarscan_bomb(struct archive *a, struct buf *err);

#endif
