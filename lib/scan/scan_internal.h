/* scan_internal.h - what the files of the scan engine share and nothing
 * else uses: the scanner itself, the budget's bookkeeping (inline: it runs
 * on every read), the recursion's entry point and its records.  scan.c is
 * the recursion over archives, scan_top.c the top-level entry points,
 * scan_dir.c exploded class directories, scan_hash.c the SHA-256 of an
 * archive's bytes, tarscan.c and image.c the tarballs and images read
 * through the scanner.  For lib/scan/ (and tests) only. */
#ifndef L4S_SCAN_INTERNAL_H
#define L4S_SCAN_INTERNAL_H

#include <stdatomic.h>

#include "archive/sniff.h"
#include "archive/zentry.h"
#include "archive/zip.h"
#include "scan/scan.h"
#include "util/buf.h"

/* ---- for the readers of other container formats (tarscan.c, image.c)
 * and the engine's other files (from scan.h: nothing outside scan/ uses
 * them) */
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
 * memory), like a streamed nested archive: the evidence entries are kept
 * by name, the archives nested in it are scanned as their bytes stream by
 * (told by name or content; provisional until its central directory lists
 * them), the archive is hashed on the way; `loud` reports a stream that
 * holds no zip (a launch script that had no jar behind it stays silent). */
void scan_stream_reader(struct scanner *s, byte_read_fn rd, void *ctx, const char *path, int depth,
			bool loud, struct scan_batch *out);

/* What identifies the archive a container is, for its findings: src, its
 * bytes, hashed when the policy asks (NULL: not hashable here); cd, its
 * central directory's bytes (NULL for a directory or a tar's class root),
 * or cd_sha256 already made from them (a streamed archive). */
struct arch_ident {
	const struct zsrc *src;
	const unsigned char *cd;
	size_t cd_len;
	const char *cd_sha256;
};
/* Run the detector over a container (a zip, a streamed zip, a directory, a
 * tar's class root): findings get `path`, read errors "path<sep>entry"
 * ("!/" inside archives, "/" on disk), and the archive's identity from id
 * (may be NULL).  Returns how many findings were added (the last records). */
size_t scan_container(struct scanner *s, const struct container *c, const char *path,
		      const char *sep, const struct arch_ident *id, struct scan_batch *out);
/* Does the hashing policy want the archive of these records hashed (the
 * last n of out: one archive's findings)? */
bool scan_wants_hash(const struct scanner *s, const struct scan_batch *out, size_t n);

/* One per thread (scanner_new). */
struct scanner {
	const struct rules *rules;
	const struct scan_opts *o;
	struct scan_stats *st;
	struct libdeflate_decompressor *d;
	uint64_t inflated; /* for the current top-level file */
	uint64_t cap;      /* ceiling on `inflated` for the subtree being scanned */
	bool abandoned;    /* that subtree ran out of its share */
	bool total_hit;    /* a read was refused for --max-inflate-total */
	struct classroots *roots;
	const struct scan_watch *watch; /* fix's planner, following the descent */
	const struct scan_nest *nest;   /* where the next zip opened sits (follow_child) */
};

/* The nested archives being followed, innermost first: (CRC, size) of each,
 * to tell an archive that contains itself. */
struct chain {
	const struct chain *up;
	uint32_t crc;
	uint64_t size;
};

/* How an archive is opened: `loud` reports a broken end record (a name or
 * a local header said archive); `quick` looks for the end record in the
 * last ZIP_TAIL_FIRST bytes only (a file nothing says is an archive). */
enum open_mode { OPEN_LOUD, OPEN_QUIET, OPEN_QUICK };

/* What the whole scan may still inflate (--max-inflate-total). */
static inline uint64_t scan_budget_total_left(const struct scanner *s)
{
	uint64_t done = atomic_load(&s->st->inflated);
	return s->o->max_scan_inflate > done ? s->o->max_scan_inflate - done : 0;
}

/* What the subtree being scanned may still inflate: its share, within
 * the scan-wide total. */
static inline uint64_t scan_budget_left(const struct scanner *s)
{
	uint64_t sub = s->cap > s->inflated ? s->cap - s->inflated : 0, scan = scan_budget_total_left(s);
	return sub < scan ? sub : scan;
}

/* A read of n more bytes is refused: the subtree is abandoned, and when it
 * is the scan-wide total that refuses, the scan says so (and fix, which
 * reads through the same budget, knows its view is incomplete). */
static inline void scan_budget_refuse(struct scanner *s, uint64_t n)
{
	s->abandoned = true;
	if (n > scan_budget_total_left(s))
		s->total_hit = true;
}

/* n bytes were inflated. */
static inline void scan_budget_charge(struct scanner *s, uint64_t n)
{
	s->inflated += n;
	atomic_fetch_add(&s->st->inflated, n);
}

/* A new top-level input: a whole --max-inflate for it. */
static inline void scan_budget_start(struct scanner *s)
{
	s->inflated = 0;
	s->cap = s->o->max_file_inflate;
	s->abandoned = false;
	s->total_hit = false;
}

/* An error record for path, counted in the stats. */
void scan_count_error(struct scanner *s, struct scan_batch *b, const char *path, const char *msg);
/* Append an entry name to a display path; a NUL inside a stored name (which
 * no filesystem allows) is shown as "\0" rather than cutting the string. */
void scan_join_entry(struct buf *p, const char *sep, const char *name, size_t len);
/* Move the detector's findings for one archive (or directory) into out,
 * with the central directory's SHA-256 and, by the policy, the bytes'. */
void scan_emit_findings(struct scanner *s, struct detect_result *res, const char *path,
			const struct arch_ident *id, struct scan_batch *out);
/* The recursion: one archive from src at path, nested depth deep below
 * the archives in chain, opened per mode; its records into out. */
enum zip_status scan_archive(struct scanner *s, const struct zsrc *src, struct buf *path,
			     int depth, const struct chain *chain, enum open_mode mode,
			     struct scan_batch *out);
/* The top-level input is done: report a subtree abandoned for its budget. */
void scan_budget_finish(struct scanner *s, struct scan_batch *out, const char *path);
/* The holes of [off, off + size) of fd (SEEK_DATA/SEEK_HOLE; a file system
 * without them has none), as alternating data and hole extents: calls
 * fn(at, len, hole) in order; stops early when fn returns false. */
bool scan_hash_extents(int fd, uint64_t off, uint64_t size, bool (*fn)(void *, uint64_t, uint64_t, bool),
		       void *ctx);
/* The SHA-256 of an archive's bytes into out, or "" and the reason in why
 * when it is past a bound: larger than --max-hash-size, or a sparse file
 * whose holes add up to more than SCAN_MAX_HASH_HOLES (they would be hashed
 * as zeros: seconds of CPU for a file that takes no disk).  The holes of a
 * smaller one are not read, only hashed. */
void scan_hash_source(const struct scanner *s, const struct zsrc *src, char out[65], struct buf *why);
/* Give the last n records of out (one archive's findings) its hash, or
 * the reason it has none. */
void scan_hash_set(struct scan_batch *out, size_t n, const char *sha, const char *why);

/* ---- nested archives, shared by the recursion (scan.c) and the streamed
 * reader (scan_stream.c) */

struct scan_child {
	size_t i;              /* entry index (or kept stream entry) */
	uint64_t size;         /* bytes it takes in its parent (the order of sharing) */
	enum sniff_kind kind;  /* from the head */
	bool zname, tname;     /* the name says zip-type archive / tarball */
};

/* A child whose name says archive is reported when it is none; one found
 * by its bytes alone (a local header, a launch script) is quietly passed
 * over then. */
static inline bool scan_child_loud(const struct scan_child *c)
{
	return c->zname;
}

static inline bool scan_child_tar(const struct scan_child *c)
{
	return c->kind == SNIFF_TAR || (c->tname && c->kind == SNIFF_NONE);
}

/* The nested archives of one archive that ran out of their shares: each
 * is abandoned (its siblings are still scanned) and the archive gets one
 * record for all of them. */
struct scan_abandoned {
	size_t n, of;
	uint64_t share;
	struct buf first;
};

/* Where a streamed archive's bytes come from: a DEFLATED entry of a zip
 * (read twice when a finding needs its hash), or a reader that can be read
 * only once (a tarball's member; hashed on the way). */
struct scan_stream_src {
	const struct zip *z;
	const struct zip_entry *e;
	byte_read_fn rd;
	void *rctx;
};

/* An entry large enough to hold an archive with a
 * Log4j class in it (a fingerprinted class alone compresses to more). */
#define SNIFF_MIN 512
/* A new zeroed record at the end of b. */
struct scan_record *scan_batch_new(struct scan_batch *b);
/* Is an entry of this name never an archive (a directory, a class)? */
bool scan_never_archive(const char *name, size_t len);
/* What a nested entry is, from its name and its first hn bytes (head NULL:
 * by name alone); false: not an archive of any kind. */
bool scan_child_classify(struct scan_child *c, const char *name, size_t len, const unsigned char *head, size_t hn,
			 uint64_t usize);
/* Is (crc, size) one of the archives being followed (an archive that
 * contains itself)? */
bool scan_chain_contains(const struct chain *chain, uint32_t crc, uint64_t size);
/* An archive OpenJDK 17 refuses for one entry's fields (why), whose other
 * entries still reach JVMs: one error record beside what it holds. */
void scan_report_refusal(struct scanner *s, struct scan_batch *out, const char *path, const char *why);
/* Bytes in memory (a DEFLATED nested archive, or one kept while
 * streaming): followed as a zip, or a tarball. */
void scan_follow_mem(struct scanner *s, const unsigned char *data, size_t len, const struct scan_child *c,
		     uint32_t crc, struct buf *path, int depth, const struct chain *chain, struct scan_batch *out);
/* A nested archive that ran out of its share (path), then the one record
 * for all of them of the archive at path. */
void scan_abandoned_note(struct scan_abandoned *a, const struct budget_frame *f, struct buf *path);
void scan_abandoned_report(struct scanner *s, struct scan_batch *out, const char *path, struct scan_abandoned *a);
/* An archive read front to back (scan_stream.c): larger than
 * --max-nested-size, or a reader read once; its nested archives are
 * scanned as they stream by. */
void scan_stream_nested(struct scanner *s, const struct scan_stream_src *src, struct buf *path, int depth,
			const struct chain *chain, bool loud, struct scan_batch *out);

#endif
