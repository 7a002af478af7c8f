/* scan.h - scan one file or one exploded class directory for Log4j.
 *
 * A file is an archive when its content says so (a ZIP end record in its
 * tail, looked for further when its first bytes are a local header, a
 * launch script, a jmod or an executable with data behind its image: see
 * sniff.h), whatever its name.  Archives nested inside it are told the same
 * way, by name or by their first bytes (zips, jmods, executable jars,
 * tarballs), and followed to any depth up to a limit, in memory, never
 * extracted to disk: a STORED nested archive is read in place (a window
 * onto its parent), a DEFLATED one is inflated once into a buffer capped by
 * max_nested_bytes or streamed beyond that, a tarball is read as a stream.
 * The bytes inflated for one top-level file are capped by max_file_inflate,
 * shared out as a tree (scanner_share_begin): each nested archive gets an
 * equal part of what its parent has left, so a bomb cannot starve its
 * siblings, and memory stays bounded whatever the input.  An archive that
 * contains itself (a quine such as r.zip) is detected and reported, not
 * followed; entries that overlap other entries' data are not followed.
 *
 * Results for one top-level file are gathered in a batch and handed to the
 * caller's emit function in one piece, so concurrent scanners never
 * interleave the records of different files. */
#ifndef L4S_SCAN_H
#define L4S_SCAN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "archive/zentry.h"
#include "archive/zip.h"
#include "detect/detect.h"
#include "rules/rules.h"

/* The engine's revision: bumped when the same bytes may now get different
 * records (a cache made by an earlier engine is then void).  2: archives
 * told by content at every level, budget shares, relocated exploded copies,
 * long paths (issue 16). */
#define SCAN_ENGINE_REV 2

struct scan_opts {
	int max_depth;               /* nesting levels followed (default 16) */
	uint64_t max_nested_bytes;   /* largest DEFLATED nested archive held in memory;
				      * larger ones are streamed (zipstream.h) */
	uint64_t max_file_inflate;   /* all inflation for one top-level file */
	uint64_t max_scan_inflate;   /* all inflation in the whole scan */
	uint64_t max_class_bytes;    /* one evidence entry */
	uint64_t max_cd_bytes;
	uint64_t max_entries;
	uint64_t max_dir_classes;    /* entries collected from an exploded directory */
	bool bytecode_only;
	bool want_sha256;
};
void scan_opts_default(struct scan_opts *o);

enum record_kind { REC_FINDING, REC_ERROR };

struct scan_record {
	enum record_kind kind;
	struct finding f;   /* REC_FINDING (f.path set) */
	char *path;         /* REC_ERROR */
	char *msg;          /* REC_ERROR */
};

struct scan_batch {
	struct scan_record *rec;
	size_t n;
};
void batch_add_error(struct scan_batch *b, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void batch_free(struct scan_batch *b);

struct scan_stats {
	atomic_ullong files, archives, bytes, errors;
	atomic_ullong inflated;    /* bytes inflated in the whole scan */
	atomic_ullong findings[3]; /* by enum status */
};

struct scanner;
/* One per thread: holds its decompressor. */
struct scanner *scanner_new(const struct rules *r, const struct scan_opts *o, struct scan_stats *st);
void scanner_free(struct scanner *s);

/* Scan an open regular file (the scanner does not close fd). `path` is what
 * records will show; `named_archive` says the file's name claims it is an
 * archive, so that "no ZIP end record" is reported rather than ignored. */
void scan_fd(struct scanner *s, int fd, const struct stat *st, const char *path, bool named_archive,
	     struct scan_batch *out);
/* Scan bytes already in memory as a top-level file (e.g. a jar read out of
 * a tarball): same engine, same limits; `path` is what records show. */
void scan_mem(struct scanner *s, const unsigned char *data, size_t len, const char *path,
	      bool named_archive, struct scan_batch *out);
/* Open and scan a path (no symlink following at the last component unless
 * follow is true; FIFOs, devices and sockets are refused, never opened). */
void scan_path(struct scanner *s, const char *path, bool follow, struct scan_batch *out);
/* Scan a file the caller already knows to be a regular file (a directory
 * walk saw it so): open and fstat only, no stat before.  The fstat result is
 * left in *st.  False when it could not be opened (error recorded). */
bool scan_regular(struct scanner *s, const char *path, bool follow, struct stat *st,
		  struct scan_batch *out);
/* Scan an exploded class directory (a directory containing org/...). */
void scan_class_dir(struct scanner *s, const char *dir, struct scan_batch *out);
/* Scan the package root of an exploded copy relocated to another package
 * (".../com/acme/shaded/log4j/core", holding lookup/, net/ ...): every
 * class file below it, named relative to it (classroot.h). */
void scan_package_dir(struct scanner *s, const char *dir, struct scan_batch *out);

/* Add an error record to the batch and count it (for readers of other
 * container formats: tarscan.c, image.c). */
void scanner_error(struct scanner *s, struct scan_batch *b, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Append "!/" and an entry name to a display path (a NUL inside a stored
 * name, which no filesystem allows, is shown as "\0"). */
void path_join(struct buf *p, const char *name, size_t len);

/* Does the name end in an archive extension (.jar .war .ear .zip ...)? */
bool archive_name(const char *name, size_t len);
/* Is dir/org a class root for Log4j (org/apache/logging/log4j/core or
 * org/apache/log4j/Category.class below it)? dirfd is dir opened. */
bool is_class_root(int dirfd);

/* ---- for readers of other container formats (tarscan.c, image.c) */
/* Start a new top-level input: count it and reset the inflation budget. */
void scanner_begin(struct scanner *s, uint64_t bytes);
const struct scan_opts *scanner_opts(const struct scanner *s);
struct scan_stats *scanner_stats(struct scanner *s);
/* The detector's classes, to root exploded copies by name (classroot.h). */
struct classroots;
const struct classroots *scanner_classroots(const struct scanner *s);
/* Charge n bytes to the current subtree's share of the --max-inflate
 * budget; false (nothing charged, the subtree marked as out of budget)
 * when that would exceed it. */
bool scanner_charge(struct scanner *s, uint64_t n);
/* The message of an entry read refused for the budget: such errors are not
 * reported one by one (the subtree gets one record, scanner_share_end). */
extern const char scan_budget_msg[];
/* A subtree of the current input (a nested archive, a tarball's member)
 * scanned with its own share of the inflation budget: at most `share` more
 * bytes, and never more than the enclosing subtree has left unless fresh
 * (a tarball's member gets a whole --max-inflate, as a file does).
 * scanner_share_end restores the enclosing subtree and, when this one ran
 * out of its share, adds one error record for it at path (true then). */
struct budget_frame {
	uint64_t cap;
	bool abandoned;
	uint64_t share;
};
void scanner_share_begin(struct scanner *s, uint64_t share, bool fresh, struct budget_frame *saved);
bool scanner_share_end(struct scanner *s, const struct budget_frame *saved, struct scan_batch *out,
		       const char *path);
/* Scan bytes found `depth` levels down inside the current top-level input
 * as a zip archive (budget kept, input not counted again).  False when they
 * hold no ZIP end record (nothing reported then: the caller decides); a
 * damaged end record is reported when loud. */
bool scan_mem_nested(struct scanner *s, const unsigned char *data, size_t len, const char *path,
		     int depth, bool loud, struct scan_batch *out);
/* Scan a zip read front to back from rd (a tarball's member too large for
 * memory), like a streamed nested archive: the entries are kept by name,
 * the archive is hashed on the way; `loud` reports a stream that holds no
 * zip (a launch script that had no jar behind it stays silent). */
void scan_stream_reader(struct scanner *s, byte_read_fn rd, void *ctx, const char *path, int depth,
			bool loud, struct scan_batch *out);
/* Run the detector over a container (a zip, a streamed zip, a directory, a
 * tar's class root): findings get `path`, read errors "path<sep>entry"
 * ("!/" inside archives, "/" on disk).  Findings are hashed from src when
 * it is given.  Returns how many findings were added (the last records). */
size_t scan_container(struct scanner *s, const struct container *c, const char *path,
		      const char *sep, const struct zsrc *src, struct scan_batch *out);

#endif
