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
 * max_nested_bytes or streamed beyond that (and the archives inside a
 * streamed one as their bytes go by), a tarball is read as a stream.
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
#define SCAN_ENGINE_REV 3

/* Which archives get the SHA-256 of their bytes (the `sha256` field).  Every
 * archive finding gets `cd_sha256` whatever the policy: the SHA-256 of the
 * archive's central directory, bytes already read, so it costs nothing but
 * the digest of them (see docs/schema.md for what it identifies).
 *   SHA_AFFECTED (default): archives holding a vulnerable or mitigated
 *     finding, what the fleet's remediation needs;
 *   SHA_ALL: every archive holding a finding (complete SBOMs);
 *   SHA_NONE: none.
 * Hashing reads the archive whole; it is bounded (scan_opts.max_hash_bytes,
 * and holes of a sparse file are not read but never add up to more than
 * SCAN_MAX_HASH_HOLES): an archive past a bound is not hashed, and its
 * findings say why (finding.hash_note). */
enum sha_policy { SHA_NONE = 0, SHA_AFFECTED = 1, SHA_ALL = 2 };
const char *scan_opts_sha_name(enum sha_policy p);
/* "affected", "all", "none" -> policy; false when none of them */
bool scan_opts_sha_parse(const char *s, enum sha_policy *p);
#define SCAN_MAX_HASH_HOLES (64ULL << 20)

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
	uint64_t max_hash_bytes;     /* largest archive hashed (default 1 GiB) */
	bool bytecode_only;
	enum sha_policy sha256;      /* see above */
};
void scan_opts_default(struct scan_opts *o);
/* The options a scan's records depend on, as numbers: every field of struct
 * scan_opts, each widened to 64 bits, in the order of scan_opts.c's table,
 * then SCAN_ENGINE_REV.  What keys a cache of results (walk/cache.h
 * cache_digest): a field added to struct scan_opts must be added to that
 * table, and tests/t_layers.sh (scan-opts-key) fails until it is.  Returns
 * how many numbers were written (at most SCAN_OPTS_KEY_MAX). */
#define SCAN_OPTS_KEY_MAX 32
size_t scan_opts_key(const struct scan_opts *o, uint64_t key[SCAN_OPTS_KEY_MAX]);

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
void scan_batch_add_error(struct scan_batch *b, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void scan_batch_free(struct scan_batch *b);

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
void scan_path_join(struct buf *p, const char *name, size_t len);

/* Bytes scan_is_tarball() wants to see ("ustar" ends at offset 262). */
#define SCAN_TAR_PROBE_LEN 512
/* Do these first bytes of a file start a tarball (compressed or not), which
 * the scanner reads as a tar stream before looking for a zip's end record
 * in its tail?  (Never on Windows: notar_win32.c.) */
bool scan_is_tarball(const unsigned char *head, size_t n);
/* Does the name end in an archive extension (.jar .war .ear .zip ...)? */
bool scan_archive_name(const char *name, size_t len);
/* Is dir/org a class root for Log4j (org/apache/logging/log4j/core or
 * org/apache/log4j/Category.class below it)? dirfd is dir opened. */
bool scan_is_class_root(int dirfd);

/* ---- the descent, watched (fix's planner, fix_plan.c)
 *
 * fix plans its rewrite by following the very descent scan makes - the
 * same archives told the same way, the same order, the same inflation
 * budget tree - and keeping the archives that change.  A watcher hears of
 * each zip archive read whole (the file itself, a nested archive read in
 * place or inflated into memory) once its detector has run, and again when
 * its nested archives have been followed; and of each nested archive the
 * descent follows some other way (a stream, a tarball) or cannot read. */
struct scan_nest {
	const struct zip *parent; /* the zip it is an entry of, when that was read whole;
				   * NULL: the file itself, or inside a stream or tarball */
	size_t index;             /* its entry in parent */
	unsigned char **own;      /* the inflated bytes it is read from, when the caller
				   * frees them: a watcher keeping the archive takes them
				   * (and sets *own to NULL) */
};
struct scan_watch {
	void *ctx;
	/* Zip z, named path, depth levels down (0: the file), read; its findings
	 * are found[0..nfound) (records of the batch being filled). */
	void (*opened)(void *ctx, const struct zip *z, const char *path, int depth, const struct scan_nest *at,
		       const struct scan_record *found, size_t nfound);
	/* Its nested archives followed: true when the watcher keeps z (a copy of
	 * *z, which the descent then does not close). */
	bool (*closed)(void *ctx, struct zip *z, const struct scan_nest *at);
	/* A nested archive at path followed other than as a zip read whole, or
	 * not read (why); may be NULL. */
	void (*passed)(void *ctx, const char *path, const char *why);
};
/* Watch the descent of every later scan_fd/scan_mem (NULL: stop). */
void scanner_watch(struct scanner *s, const struct scan_watch *w);
/* Did the scan-wide budget (--max-inflate-total) refuse a read in the
 * current top-level input?  (Its view of that input is incomplete then.) */
bool scanner_total_exhausted(const struct scanner *s);

#endif
