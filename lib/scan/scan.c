/* scan.c - the per-file scan engine (see scan.h for the design).
 *
 * scan_archive() is the recursion: open the archive from its tail, run the
 * detector over its entry list, then follow the entries whose names say they
 * are archives.  A nested archive is a new byte source: a window onto the
 * parent's bytes when STORED (no copy, no read beyond its own tail and
 * central directory), or a buffer when DEFLATED.  The chain of (CRC, size)
 * of the nested archives being followed detects an archive that contains
 * itself.  A watcher (scan_watch, scan.h) may follow the descent: fix plans
 * its rewrites by watching it, so it reads what scan reads, with the same
 * budgets.  The entry points are scan_top.c, exploded directories
 * scan_dir.c, the archive's SHA-256 scan_hash.c (scan_internal.h). */
#include "scan/scan.h"
#include "scan/scan_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/sniff.h"
#include "archive/zentry.h"
#include "archive/zip.h"
#include "archive/zipstream.h"
#include "detect/classroot.h"
#include "scan/image.h"
#include "scan/tarscan.h"
#include "util/longpath.h"


const char scan_budget_msg[] = "inflation budget exhausted (--max-inflate)";

struct scanner *scanner_new(const struct rules *r, const struct scan_opts *o, struct scan_stats *st)
{
	struct scanner *s = xcalloc(1, sizeof *s);
	s->rules = r;
	s->o = o;
	s->st = st;
	s->d = libdeflate_alloc_decompressor();
	if (!s->d) {
		free(s);
		return NULL;
	}
	s->roots = classroots_new(r);
	return s;
}

void scanner_free(struct scanner *s)
{
	if (!s)
		return;
	libdeflate_free_decompressor(s->d);
	classroots_free(s->roots);
	free(s);
}

static struct scan_record *batch_new(struct scan_batch *b)
{
	b->rec = xrealloc(b->rec, (b->n + 1) * sizeof *b->rec);
	struct scan_record *r = &b->rec[b->n++];
	memset(r, 0, sizeof *r);
	return r;
}

void scan_batch_add_error(struct scan_batch *b, const char *path, const char *fmt, ...)
{
	struct scan_record *r = batch_new(b);
	r->kind = REC_ERROR;
	r->path = xstrdup(path);
	struct buf m = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	r->msg = buf_detach(&m);
}

void scan_batch_free(struct scan_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->rec[i].kind == REC_FINDING)
			finding_free(&b->rec[i].f);
		free(b->rec[i].path);
		free(b->rec[i].msg);
	}
	free(b->rec);
	b->rec = NULL;
	b->n = 0;
}

void scanner_error(struct scanner *s, struct scan_batch *b, const char *path, const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	atomic_fetch_add(&s->st->errors, 1);
	scan_batch_add_error(b, path, "%s", buf_cstr(&m));
	buf_free(&m);
}

void scan_count_error(struct scanner *s, struct scan_batch *b, const char *path, const char *msg)
{
	atomic_fetch_add(&s->st->errors, 1);
	scan_batch_add_error(b, path, "%s", msg);
}

bool scan_archive_name(const char *name, size_t len)
{
	/* Called for every entry of every central directory: most names end in
	 * ".class", so the dot is checked before any comparison. */
	if (len <= 4 || name[len - 4] != '.')
		return false;
	static const char ext[][4] = {"jar", "war", "ear", "zip", "par", "sar", "rar",
				      "jpi", "hpi", "kar", "aar", "nar"};
	char e[3];
	for (int i = 0; i < 3; i++) {
		char c = name[len - 3 + i];
		e[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
		if (!memcmp(e, ext[i], 3))
			return true;
	return false;
}

/* Append an entry name to a display path; a NUL inside a stored name (which
 * no filesystem allows) is shown as "\0" rather than cutting the string. */
void scan_join_entry(struct buf *p, const char *sep, const char *name, size_t len)
{
	buf_adds(p, sep);
	for (size_t i = 0; i < len; i++) {
		if (name[i])
			buf_addc(p, name[i]);
		else
			buf_adds(p, "\\0");
	}
}

void scan_path_join(struct buf *p, const char *name, size_t len)
{
	scan_join_entry(p, "!/", name, len);
}

struct zip_view {
	struct scanner *s;
	struct zip *z;
};

static const char *zv_name(void *ctx, size_t i, size_t *len)
{
	struct zip_view *v = ctx;
	*len = v->z->entries[i].name_len;
	return v->z->entries[i].name;
}

/* ---- the inflation budget: a tree of shares
 *
 * A top-level file may inflate --max-inflate bytes in all (and the whole
 * scan --max-inflate-total).  Each nested archive is scanned as a subtree
 * with a share of what its parent has left: an equal part per sibling not
 * yet scanned, the siblings taken smallest first (scan_children); a member
 * of a tarball gets a whole --max-inflate of its own, as a file in a
 * directory does (tarscan.c).  A subtree that runs out of its share is
 * abandoned: nothing more is read in it and one error record names it, so
 * a bomb costs its share and hides none of its siblings. */

void scanner_share_begin(struct scanner *s, uint64_t share, bool fresh, struct budget_frame *saved)
{
	saved->cap = s->cap;
	saved->abandoned = s->abandoned;
	uint64_t left = s->cap > s->inflated ? s->cap - s->inflated : 0;
	saved->share = fresh || share < left ? share : left;
	s->cap = s->inflated + saved->share;
	s->abandoned = false;
}

bool scanner_share_end(struct scanner *s, const struct budget_frame *saved, struct scan_batch *out,
		       const char *path)
{
	bool ran_out = s->abandoned;
	s->cap = saved->cap;
	s->abandoned = saved->abandoned;
	if (!ran_out || !out)
		return ran_out;
	if (s->total_hit)
		scanner_error(s, out, path, "inflation budget for the scan exhausted (--max-inflate-total); "
			      "the rest of it is not scanned");
	else
		scanner_error(s, out, path, "inflation budget exhausted: its share of --max-inflate (%llu KiB) "
			      "is used up (a zip bomb?); the rest of it is not scanned",
			      (unsigned long long)(saved->share >> 10));
	return true;
}

void scan_budget_finish(struct scanner *s, struct scan_batch *out, const char *path)
{
	struct budget_frame top = {s->o->max_file_inflate, false, s->o->max_file_inflate};
	scanner_share_end(s, &top, out, path);
}

static bool zv_read(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len,
		    struct buf *err)
{
	struct zip_view *v = ctx;
	const struct zip_entry *e = &v->z->entries[i];
	if (e->usize > scan_budget_left(v->s)) {
		scan_budget_refuse(v->s, e->usize);
		buf_adds(err, scan_budget_msg);
		return false;
	}
	if (!zip_read(v->z, e, max, v->s->d, out, len, err))
		return false;
	scan_budget_charge(v->s, *len);
	return true;
}


/* Is this nested archive one of the archives already being followed (same
 * CRC and size)?  Then it contains itself, like the quine r.zip. */
static bool contains_itself(const struct chain *chain, uint32_t crc, uint64_t size)
{
	for (const struct chain *a = chain; a; a = a->up)
		if (a->crc == crc && a->size == size)
			return true;
	return false;
}

void scan_emit_findings(struct scanner *s, struct detect_result *res, const char *path,
			const struct arch_ident *id, struct scan_batch *out)
{
	char cd[65] = "";
	if (res->nfindings && id && id->cd)
		zip_cd_sha256(id->cd, id->cd_len, cd);
	else if (id && id->cd_sha256)
		snprintf(cd, sizeof cd, "%s", id->cd_sha256);
	for (size_t i = 0; i < res->nfindings; i++) {
		struct scan_record *r = batch_new(out);
		r->kind = REC_FINDING;
		r->f = res->findings[i];
		r->f.path = xstrdup(path);
		memcpy(r->f.cd_sha256, cd, sizeof cd);
		atomic_fetch_add(&s->st->findings[r->f.status], 1);
	}
	if (id && id->src && scan_wants_hash(s, out, res->nfindings)) {
		char sha[65];
		struct buf why = BUF_INIT;
		scan_hash_source(s, id->src, sha, &why);
		scan_hash_set(out, res->nfindings, sha, buf_cstr(&why));
		buf_free(&why);
	}
	/* ownership of the findings moved into the batch */
	free(res->findings);
	res->findings = NULL;
	res->nfindings = 0;
}


/* An archive OpenJDK 17 refuses for one entry's fields, whose other
 * entries still reach JVMs (zip.h): scanned, and the refusal reported
 * beside what it holds. */
static void report_refusal(struct scanner *s, struct scan_batch *out, const char *path,
			   const char *why)
{
	struct buf m = BUF_INIT;
	buf_printf(&m, "OpenJDK 17 refuses to open this archive (%s); other readers still read "
		       "its entries, so it was scanned as they read it", why);
	scan_count_error(s, out, path, buf_cstr(&m));
	buf_free(&m);
}

static void not_a_zip(struct scanner *s, struct scan_batch *out, const char *path)
{
	scan_count_error(s, out, path, "not a readable zip (no end-of-central-directory record)");
}

/* ---- what a nested archive is: its name, then its first bytes */

struct child {
	size_t i;              /* entry index (or kept stream entry) */
	uint64_t size;         /* bytes it takes in its parent (the order of sharing) */
	enum sniff_kind kind;  /* from the head */
	bool zname, tname;     /* the name says zip-type archive / tarball */
};

/* A child whose name says archive is reported when it is none; one found
 * by its bytes alone (a local header, a launch script) is quietly passed
 * over then. */
static bool child_loud(const struct child *c)
{
	return c->zname;
}

static bool child_tar(const struct child *c)
{
	return c->kind == SNIFF_TAR || (c->tname && c->kind == SNIFF_NONE);
}

/* An entry worth reading the head of: not a directory, class file or the
 * metadata the detector reads, and large enough to hold an archive with a
 * Log4j class in it (a fingerprinted class alone compresses to more). */
#define SNIFF_MIN 512

static bool worth_sniffing(const char *name, size_t len, uint64_t usize)
{
	return usize >= SNIFF_MIN && len && name[len - 1] != '/' && !detect_wants(name, len);
}

static bool never_archive(const char *name, size_t len)
{
	return !len || name[len - 1] == '/' || detect_class_stem(name, len);
}

static bool classify(struct child *c, const char *name, size_t len, const unsigned char *head,
		     size_t hn, uint64_t usize)
{
	c->zname = scan_archive_name(name, len);
	c->tname = !c->zname && tarscan_name(name, len);
	c->kind = head ? sniff(head, hn, usize) : SNIFF_NONE;
	/* a .gz of a text file is no tarball: told from its head, not read */
	if (c->kind == SNIFF_TAR && !c->tname && !tarscan_head_plausible(head, hn))
		c->kind = SNIFF_NONE;
	return c->zname || c->tname || c->kind != SNIFF_NONE;
}

static bool zip_child(const struct zip *z, size_t i, struct child *c)
{
	const struct zip_entry *e = &z->entries[i];
	unsigned char head[SNIFF_HEAD];
	size_t hn = 0;
	c->i = i;
	c->size = e->csize;
	/* most entries are classes: told apart before any name table is tried */
	if (never_archive(e->name, e->name_len) ||
	    (!worth_sniffing(e->name, e->name_len, e->usize) && !scan_archive_name(e->name, e->name_len) &&
	     !tarscan_name(e->name, e->name_len)))
		return false;
	bool got = zentry_head(z, e, head, sizeof head, &hn);
	return classify(c, e->name, e->name_len, got ? head : NULL, hn, e->usize);
}

/* A nested archive the descent follows other than as a zip read whole (a
 * stream, a tarball), or cannot read: a watcher hears of it. */
static void scan_passed(struct scanner *s, const char *path, const char *why)
{
	if (s->watch && s->watch->passed)
		s->watch->passed(s->watch->ctx, path, why);
}

/* ---- bytes in memory (a DEFLATED nested archive, or one kept while
 * streaming): a zip, or a tarball */

static void follow_mem(struct scanner *s, const unsigned char *data, size_t len, const struct child *c,
		       uint32_t crc, struct buf *path, int depth, const struct chain *chain,
		       struct scan_batch *out)
{
	struct child k = *c;
	k.kind = sniff(data, len < SNIFF_HEAD ? len : SNIFF_HEAD, len);
	if (child_tar(&k)) {
		s->nest = NULL; /* not a zip read whole */
		scan_passed(s, buf_cstr(path), "a tarball");
		tarscan_buffer(s, data, len, buf_cstr(path), depth, k.tname, out);
		return;
	}
	struct zsrc child = {.fd = -1, .mem = data, .off = 0, .size = len};
	struct chain link = {chain, crc, len};
	if (scan_archive(s, &child, path, depth, &link, child_loud(&k) ? OPEN_LOUD : OPEN_QUIET, out) ==
		    ZIP_NOT_ZIP &&
	    child_loud(&k))
		not_a_zip(s, out, buf_cstr(path));
}

/* The nested archives of one archive that ran out of their shares: each
 * is abandoned (its siblings are still scanned) and the archive gets one
 * record for all of them. */
struct abandoned {
	size_t n, of;
	uint64_t share;
	struct buf first;
};

static void abandoned_note(struct abandoned *a, const struct budget_frame *f, struct buf *path)
{
	if (!a->n++)
		buf_adds(&a->first, buf_cstr(path));
	a->share = f->share > a->share ? f->share : a->share;
}

static void abandoned_report(struct scanner *s, struct scan_batch *out, const char *path, struct abandoned *a)
{
	if (!a->n) {
	} else if (s->total_hit) {
		scanner_error(s, out, path, "inflation budget for the scan exhausted (--max-inflate-total): "
			      "%zu of %zu nested archives not scanned in full (first: %s)", a->n, a->of,
			      buf_cstr(&a->first));
	} else {
		scanner_error(s, out, path, "inflation budget exhausted in %zu of %zu nested archives (a zip "
			      "bomb?): each used up its share of --max-inflate (at most %llu KiB) and was not "
			      "scanned in full (first: %s)",
			      a->n, a->of, (unsigned long long)(a->share >> 10), buf_cstr(&a->first));
	}
	buf_free(&a->first);
}

/* ---- nested archives too large for memory: streamed front to back */

struct stream_view {
	struct scanner *s;
	struct stream_result *r;
	struct buf *path;          /* the streamed archive's */
	int depth;
	const struct chain *chain;
	uint64_t charged;          /* bytes of it charged to the budget so far */
};

/* Every entry that may be an archive (by name, or by its first bytes: all
 * but class files, directories and the detector's metadata) is offered to
 * nest_open as it streams by. */
static bool stream_want(const char *name, size_t len, uint64_t *max, void *ctx)
{
	struct stream_view *v = ctx;
	if (scan_archive_name(name, len) || tarscan_name(name, len)) {
		*max = STREAM_NEST;
		return true;
	}
	if (detect_needs_data(v->s->rules, name, len)) {
		*max = v->s->o->max_class_bytes;
		return true;
	}
	*max = 0;
	if (detect_wants(name, len))
		return true; /* the name alone: class presence */
	if (never_archive(name, len))
		return false;
	*max = STREAM_NEST;
	return true;
}

static bool stream_nothing(const char *name, size_t len, uint64_t *max, void *ctx)
{
	*max = 0;
	return false;
}

static const char *sv_name(void *ctx, size_t i, size_t *len)
{
	struct stream_view *v = ctx;
	*len = v->r->entries[i].name_len;
	return v->r->entries[i].name;
}

static bool sv_read(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len,
		    struct buf *err)
{
	struct stream_view *v = ctx;
	const struct stream_entry *e = &v->r->entries[i];
	if (e->error || !e->data) {
		buf_adds(err, e->error ? e->error : "entry not kept while streaming");
		return false;
	}
	if (e->len > max) {
		buf_adds(err, "entry exceeds the size limit");
		return false;
	}
	*out = xmalloc(e->len ? e->len : 1);
	memcpy(*out, e->data, e->len);
	*len = e->len;
	return true;
}

/* Where a streamed archive's bytes come from: a DEFLATED entry of a zip
 * (read twice when a finding needs its hash), or a reader that can be read
 * only once (a tarball's member; hashed on the way). */
struct stream_src {
	const struct zip *z;
	const struct zip_entry *e;
	byte_read_fn rd;
	void *rctx;
};

static bool stream_run(const struct stream_src *src, uint64_t budget, const struct zip_limits *lim, bool hash,
		       stream_want_fn want, void *ctx, const struct stream_nest *nest, struct stream_result *r,
		       struct buf *err)
{
	if (src->rd)
		return zipstream_read_fn(src->rd, src->rctx, budget, lim, hash, want, ctx, nest, r, err);
	return zipstream_read(src->z, src->e, budget, lim, hash, want, ctx, nest, r, err);
}

/* ---- archives nested in a streamed one: scanned as their bytes stream by
 *
 * Their records are provisional (a nest_token) until the central directory
 * at the end of the streamed archive lists the entry at that local header
 * (zipstream.h): then they are added under the directory's name for it
 * (nest_commit), else dropped.  Each gets half of what the budget has left
 * when it comes (how many follow is not known until the directory), and
 * gives back what it does not use. */

struct nest_token {
	struct scan_batch batch;
	char *name;                /* the local header's name, in the records' paths */
	size_t nlen;
};

/* The first bytes, already read to tell what the entry is, then the rest. */
struct replay {
	const unsigned char *head;
	size_t hn, hoff;
	byte_read_fn rd;
	void *rctx;
	uint64_t n;                /* bytes given */
};

static ssize_t replay_read(void *ctx, unsigned char *buf, size_t cap, const char **why)
{
	struct replay *r = ctx;
	ssize_t n;
	if (r->hoff < r->hn) {
		size_t k = r->hn - r->hoff < cap ? r->hn - r->hoff : cap;
		memcpy(buf, r->head + r->hoff, k);
		r->hoff += k;
		n = (ssize_t)k;
	} else {
		n = r->rd(r->rctx, buf, cap, why);
	}
	if (n > 0)
		r->n += (uint64_t)n;
	return n;
}

static void scan_streamed(struct scanner *s, const struct stream_src *src, struct buf *path, int depth,
			  const struct chain *chain, bool loud, struct scan_batch *out);

/* One nested entry of known size within --max-nested-size: read whole, so
 * that its central directory is read as on disk. */
static void nest_mem(struct scanner *s, struct replay *rp, uint64_t usize, const struct child *k, uint32_t crc,
		     struct stream_view *v, struct scan_batch *out)
{
	if (usize > scan_budget_left(s)) {
		s->abandoned = true;
		return;
	}
	unsigned char *mem = xmalloc(usize ? (size_t)usize : 1);
	size_t got = 0;
	for (;;) {
		const char *why = NULL;
		ssize_t n = got < usize ? replay_read(rp, mem + got, (size_t)usize - got, &why) : 0;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	scan_budget_charge(s, got);
	if (got == usize) /* else the entry's data failed: zipstream records why */
		follow_mem(s, mem, got, k, crc, v->path, v->depth + 1, v->chain, out);
	free(mem);
}

static void *nest_open(void *ctx, const char *name, size_t nlen, uint32_t crc, uint64_t usize, uint64_t used,
		       byte_read_fn rd, void *rctx, uint64_t *spent)
{
	struct stream_view *v = ctx;
	struct scanner *s = v->s;
	*spent = 0;
	if (!scan_archive_name(name, nlen) && !tarscan_name(name, nlen) && usize < SNIFF_MIN)
		return NULL;
	unsigned char head[SNIFF_HEAD];
	size_t hn = 0;
	for (;;) {
		const char *why = NULL;
		ssize_t n = hn < sizeof head ? rd(rctx, head + hn, sizeof head - hn, &why) : 0;
		if (n < 0)
			return NULL; /* the entry's data failed: zipstream records why */
		if (n == 0)
			break;
		hn += (size_t)n;
	}
	struct child k = {0, usize, SNIFF_NONE, false, false};
	if (!classify(&k, name, nlen, head, hn, usize == UINT64_MAX ? hn : usize))
		return NULL;
	struct nest_token *t = xcalloc(1, sizeof *t);
	t->name = xstrndup(name, nlen);
	t->nlen = nlen;
	if (used > v->charged) { /* the streamed archive's own bytes so far */
		scan_budget_charge(s, used - v->charged);
		v->charged = used;
	}
	uint64_t before = s->inflated;
	size_t plen = v->path->len;
	scan_path_join(v->path, name, nlen);
	const char *p = buf_cstr(v->path);
	bool tar = child_tar(&k), loud = child_loud(&k) || tar;
	if (usize != UINT64_MAX && contains_itself(v->chain, crc, usize)) {
		scan_count_error(s, &t->batch, p, "archive contains itself (recursive zip); not followed");
	} else if (v->depth + 1 > s->o->max_depth) {
		if (loud)
			scan_count_error(s, &t->batch, p, "nested deeper than --max-depth; not followed");
	} else {
		struct budget_frame f;
		scanner_share_begin(s, scan_budget_left(s) / 2, false, &f);
		struct replay rp = {head, hn, 0, rd, rctx, 0};
		if (tar) {
			tarscan_reader(s, replay_read, &rp, p, v->depth + 1, k.tname, &t->batch);
			scan_budget_charge(s, rp.n);
		} else if (usize <= s->o->max_nested_bytes) {
			nest_mem(s, &rp, usize, &k, crc, v, &t->batch);
		} else {
			struct stream_src src = {NULL, NULL, replay_read, &rp};
			scan_streamed(s, &src, v->path, v->depth + 1, v->chain, child_loud(&k), &t->batch);
		}
		scanner_share_end(s, &f, &t->batch, p);
	}
	*spent = s->inflated - before;
	v->path->len = plen;
	v->path->data[plen] = 0;
	return t;
}

static void nest_drop(void *ctx, void *token)
{
	struct stream_view *v = ctx;
	struct nest_token *t = token;
	for (size_t i = 0; i < t->batch.n; i++)
		if (t->batch.rec[i].kind == REC_ERROR)
			atomic_fetch_sub(&v->s->st->errors, 1);
	scan_batch_free(&t->batch);
	free(t->name);
	free(t);
}

/* Its records go to out, under the central directory's name for the entry
 * (the local header's may differ). */
static void nest_commit(struct stream_view *v, struct nest_token *t, const char *name, size_t nlen,
			struct scan_batch *out)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	buf_adds(&from, buf_cstr(v->path));
	buf_adds(&to, buf_cstr(v->path));
	scan_path_join(&from, t->name, t->nlen);
	scan_path_join(&to, name, nlen);
	bool same = from.len == to.len && !memcmp(from.data, to.data, from.len);
	for (size_t i = 0; i < t->batch.n; i++) {
		struct scan_record *r = batch_new(out);
		*r = t->batch.rec[i];
		char **pp = r->kind == REC_FINDING ? &r->f.path : &r->path;
		if (!same && *pp && !strncmp(*pp, from.data, from.len)) {
			struct buf np = BUF_INIT;
			buf_add(&np, to.data, to.len);
			buf_adds(&np, *pp + from.len);
			free(*pp);
			*pp = buf_detach(&np);
		}
	}
	free(t->batch.rec);
	free(t->name);
	free(t);
	buf_free(&from);
	buf_free(&to);
}

static void scan_streamed(struct scanner *s, const struct stream_src *src, struct buf *path, int depth,
			  const struct chain *chain, bool loud, struct scan_batch *out)
{
	struct stream_result r;
	struct buf err = BUF_INIT;
	struct stream_view v = {s, &r, path, depth, chain, 0};
	struct stream_nest nest = {nest_open, nest_drop, &v, s->o->max_nested_bytes};
	uint64_t budget = scan_budget_left(s);
	struct zip_limits lim = {s->o->max_cd_bytes, s->o->max_entries};
	bool once = src->rd != NULL;
	/* the entries that count are the central directory's (zipstream.h); when
	 * it is out of reach, err says so, and what r holds, if anything, is
	 * what the local headers show */
	bool ok = stream_run(src, budget, &lim, once && s->o->sha256 != SHA_NONE, stream_want, &v, &nest, &r, &err);
	if (r.bytes > v.charged)
		scan_budget_charge(s, r.bytes - v.charged);
	if (!ok && r.bytes + r.spent > budget)
		s->abandoned = true, s->total_hit |= !scan_budget_total_left(s); /* reported once, by whoever gave the share */
	else if (!ok && (loud || r.n))
		scan_count_error(s, out, buf_cstr(path), buf_cstr(&err));
	else if (r.refused[0])
		report_refusal(s, out, buf_cstr(path), r.refused);
	buf_free(&err);
	if (ok || r.n)
		atomic_fetch_add(&s->st->archives, 1);

	struct container c = {r.n, sv_name, sv_read, &v};
	struct arch_ident id = {NULL, NULL, 0, r.cd_sha256[0] ? r.cd_sha256 : NULL};
	size_t found = scan_container(s, &c, buf_cstr(path), "!/", &id, out);
	/* Hash only an archive the policy wants hashed (rare): stream it once
	 * more, keeping nothing but the digest; a reader read once hashed on the
	 * way.  It is inflated, not read from disk: no holes to mind. */
	if (found && ok && scan_wants_hash(s, out, found)) {
		struct stream_result h;
		struct buf herr = BUF_INIT;
		bool hok = once ? (h = r, true)
				: stream_run(src, budget, &lim, true, stream_nothing, NULL, NULL, &h, &herr);
		if (hok)
			scan_hash_set(out, found, h.sha256, NULL);
		if (!once)
			zipstream_result_free(&h);
		buf_free(&herr);
	}

	/* the nested archives read as they streamed by, now that the central
	 * directory lists them */
	for (size_t i = 0; i < r.n; i++) {
		struct stream_entry *se = &r.entries[i];
		if (se->nested)
			nest_commit(&v, se->nested, se->name, se->name_len, out);
		se->nested = NULL;
	}

	/* those kept in memory instead (STORED with a data descriptor), and
	 * the errors of the others */
	size_t plen = path->len, left = 0;
	for (size_t i = 0; i < r.n; i++)
		left += r.entries[i].data && (scan_archive_name(r.entries[i].name, r.entries[i].name_len) ||
					      tarscan_name(r.entries[i].name, r.entries[i].name_len));
	struct abandoned ab = {0, left, 0, BUF_INIT};
	for (size_t i = 0; i < r.n && !s->abandoned; i++) {
		struct stream_entry *se = &r.entries[i];
		struct child k = {i, se->len, SNIFF_NONE, false, false};
		if ((!se->data && !se->error) ||
		    !classify(&k, se->name, se->name_len, se->data, se->len < SNIFF_HEAD ? se->len : SNIFF_HEAD,
			      se->usize))
			continue;
		scan_path_join(path, se->name, se->name_len);
		if (contains_itself(chain, se->crc, se->usize)) {
			scan_count_error(s, out, buf_cstr(path), "archive contains itself (recursive zip); not followed");
		} else if (se->error) {
			scan_count_error(s, out, buf_cstr(path), se->error);
		} else if (depth + 1 > s->o->max_depth) {
			scan_count_error(s, out, buf_cstr(path), "nested deeper than --max-depth; not followed");
		} else if (se->data) {
			struct budget_frame f;
			scanner_share_begin(s, scan_budget_left(s) / (left ? left : 1), false, &f);
			left -= left > 0;
			follow_mem(s, se->data, se->len, &k, se->crc, path, depth + 1, chain, out);
			if (scanner_share_end(s, &f, NULL, NULL))
				abandoned_note(&ab, &f, path);
		}
		path->len = plen;
		path->data[plen] = 0;
	}
	abandoned_report(s, out, buf_cstr(path), &ab);
	zipstream_result_free(&r);
}

void scan_stream_reader(struct scanner *s, byte_read_fn rd, void *ctx, const char *path, int depth,
			bool loud, struct scan_batch *out)
{
	struct stream_src src = {NULL, NULL, rd, ctx};
	struct buf p = BUF_INIT;
	buf_adds(&p, path);
	scan_streamed(s, &src, &p, depth, NULL, loud, out);
	buf_free(&p);
}

/* ---- one nested archive of a zip, in its own share of the budget */

/* A tarball inside a zip: read as a stream, inflated on the way. */
static void follow_tar(struct scanner *s, const struct zip *z, const struct zip_entry *e,
		       const struct child *c, const char *path, int depth, struct scan_batch *out)
{
	struct buf err = BUF_INIT;
	uint64_t left = scan_budget_left(s);
	struct zentry *r = zentry_open(z, e, e->usize < left ? e->usize : left, &err);
	if (!r) {
		if (c->tname)
			scan_count_error(s, out, path, buf_cstr(&err));
	} else {
		tarscan_reader(s, zentry_read, r, path, depth, c->tname, out);
		scan_budget_charge(s, e->method == 8 ? zentry_produced(r) : 0);
		if (zentry_over_budget(r) && left <= e->usize)
			scan_budget_refuse(s, e->usize);
		zentry_close(r);
	}
	buf_free(&err);
}

static void follow_child(struct scanner *s, const struct zsrc *src, struct zip *z, struct zip_view *view,
			 const struct child *c, struct buf *path, int depth, const struct chain *chain,
			 struct scan_batch *out)
{
	const struct zip_entry *e = &z->entries[c->i];
	const char *p = buf_cstr(path);
	bool loud = child_loud(c) || child_tar(c);
	if (contains_itself(chain, e->crc, e->usize)) {
		scan_count_error(s, out, p, "archive contains itself (recursive zip); not followed");
		return;
	}
	if (depth + 1 > s->o->max_depth) {
		if (loud)
			scan_count_error(s, out, p, "nested deeper than --max-depth; not followed");
		return;
	}
	if (child_tar(c)) {
		scan_passed(s, p, "a tarball");
		follow_tar(s, z, e, c, p, depth + 1, out);
		return;
	}
	loud = child_loud(c);
	struct chain link = {chain, e->crc, e->usize};
	struct buf why = BUF_INIT;
	unsigned char *mem = NULL;
	size_t memlen = 0;
	struct scan_nest at = {z, c->i, NULL};
	if (e->method == 0 && e->csize == e->usize) {
		uint64_t off;
		if (!zip_data_offset(z, e, &off, &why)) {
			if (loud)
				scan_count_error(s, out, p, buf_cstr(&why));
			scan_passed(s, p, buf_cstr(&why));
		} else {
			s->nest = &at;
			struct zsrc child = *src;
			if (src->mem)
				child.mem = src->mem + off;
			else
				child.off = src->off + off;
			child.size = e->csize;
			if (scan_archive(s, &child, path, depth + 1, &link, loud ? OPEN_LOUD : OPEN_QUIET, out) ==
				    ZIP_NOT_ZIP && loud)
				not_a_zip(s, out, p);
		}
	} else if (e->usize > s->o->max_nested_bytes && e->method == 8) {
		struct stream_src ss = {z, e, NULL, NULL};
		scan_passed(s, p, "larger than --max-nested-size: read as a stream");
		scan_streamed(s, &ss, path, depth + 1, chain, loud, out);
	} else if (zv_read(view, c->i, s->o->max_nested_bytes, &mem, &memlen, &why)) {
		at.own = &mem; /* a watcher that keeps the archive takes its bytes */
		s->nest = &at;
		follow_mem(s, mem, memlen, c, e->crc, path, depth + 1, chain, out);
		s->nest = NULL;
		free(mem);
	} else {
		if (loud && !s->abandoned)
			scan_count_error(s, out, p, buf_cstr(&why));
		scan_passed(s, p, buf_cstr(&why));
	}
	buf_free(&why);
}

static int by_size(const void *a, const void *b)
{
	const struct child *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Does another entry's local header lie inside this entry's data?  The
 * mark of an overlapping-entry bomb (zbsm): each entry's data quotes the
 * next entry, so each looks like a zip.  offs: every entry's local header
 * offset, sorted. */
static bool overlaps(const uint64_t *offs, size_t n, const struct zip_entry *e)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (offs[mid] <= e->local_off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && offs[lo] < e->local_off + 30 + e->name_len + e->csize;
}

/* Follow the nested archives of z, smallest first, each with an equal
 * share of what is left (see "the inflation budget" above). */
static void scan_children(struct scanner *s, const struct zsrc *src, struct zip *z, struct zip_view *view,
			  struct buf *path, int depth, const struct chain *chain, struct scan_batch *out)
{
	struct child *kids = NULL;
	size_t n = 0, overlapping = 0;
	uint64_t *offs = NULL;
	for (size_t i = 0; i < z->nentries; i++) {
		struct child c;
		if (!zip_child(z, i, &c))
			continue;
		if (!c.zname && !c.tname) {
			if (!offs) {
				offs = xmalloc(z->nentries * sizeof *offs);
				for (size_t k = 0; k < z->nentries; k++)
					offs[k] = z->entries[k].local_off;
				qsort(offs, z->nentries, sizeof *offs, by_u64);
			}
			if (overlaps(offs, z->nentries, &z->entries[i])) {
				overlapping++;
				continue;
			}
		}
		kids = xrealloc(kids, (n + 1) * sizeof *kids);
		kids[n++] = c;
	}
	free(offs);
	if (overlapping)
		scanner_error(s, out, buf_cstr(path), "%zu entr%s overlap the data of other entries (a zip bomb?); "
			      "not followed", overlapping, overlapping == 1 ? "y" : "ies");
	if (n)
		qsort(kids, n, sizeof *kids, by_size);
	size_t plen = path->len;
	struct abandoned ab = {0, n, 0, BUF_INIT};
	for (size_t k = 0; k < n && !s->abandoned; k++) {
		const struct zip_entry *e = &z->entries[kids[k].i];
		scan_path_join(path, e->name, e->name_len);
		struct budget_frame f;
		scanner_share_begin(s, scan_budget_left(s) / (n - k), false, &f);
		follow_child(s, src, z, view, &kids[k], path, depth, chain, out);
		if (scanner_share_end(s, &f, NULL, NULL))
			abandoned_note(&ab, &f, path);
		path->len = plen;
		path->data[plen] = 0;
	}
	abandoned_report(s, out, buf_cstr(path), &ab);
	free(kids);
}

enum zip_status scan_archive(struct scanner *s, const struct zsrc *src, struct buf *path,
			     int depth, const struct chain *chain, enum open_mode mode,
			     struct scan_batch *out)
{
	const struct scan_nest *at = s->nest;
	s->nest = NULL;
	struct zip z;
	struct buf err = BUF_INIT;
	struct zip_limits lim = {s->o->max_cd_bytes, s->o->max_entries};
	enum zip_status st = zip_open_quick(&z, src, &lim, mode == OPEN_QUICK, &err);
	if (st == ZIP_BAD && mode == OPEN_LOUD)
		scan_count_error(s, out, buf_cstr(path), buf_cstr(&err));
	buf_free(&err);
	if (st != ZIP_OK)
		return st;
	atomic_fetch_add(&s->st->archives, 1);
	if (z.refused[0])
		report_refusal(s, out, buf_cstr(path), z.refused);

	struct zip_view view = {s, &z};
	struct container c = {z.nentries, zv_name, zv_read, &view};
	struct arch_ident id = {src, z.cd, z.cd_len, NULL};
	size_t found = scan_container(s, &c, buf_cstr(path), "!/", &id, out);
	const struct scan_watch *w = s->watch;
	struct scan_nest none = {NULL, 0, NULL};
	if (w)
		w->opened(w->ctx, &z, buf_cstr(path), depth, at ? at : &none,
			  found ? out->rec + (out->n - found) : NULL, found); /* rec is NULL while empty */
	if (!s->abandoned)
		scan_children(s, src, &z, &view, path, depth, chain, out);
	if (!w || !w->closed(w->ctx, &z, at ? at : &none))
		zip_close(&z);
	return ZIP_OK;
}

void scanner_watch(struct scanner *s, const struct scan_watch *w)
{
	s->watch = w;
}

bool scanner_total_exhausted(const struct scanner *s)
{
	return s->total_hit;
}
