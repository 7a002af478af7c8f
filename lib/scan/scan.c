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
 * scan_dir.c, archives read front to back scan_stream.c, the archive's
 * SHA-256 scan_hash.c (scan_internal.h). */
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

struct scan_record *scan_batch_new(struct scan_batch *b)
{
	b->rec = xrealloc(b->rec, (b->n + 1) * sizeof *b->rec);
	struct scan_record *r = &b->rec[b->n++];
	memset(r, 0, sizeof *r);
	return r;
}

void scan_batch_add_error(struct scan_batch *b, const char *path, const char *fmt, ...)
{
	struct scan_record *r = scan_batch_new(b);
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
bool scan_chain_contains(const struct chain *chain, uint32_t crc, uint64_t size)
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
		struct scan_record *r = scan_batch_new(out);
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
void scan_report_refusal(struct scanner *s, struct scan_batch *out, const char *path, const char *why)
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

/* An entry worth reading the head of: not a directory, class file or the
 * metadata the detector reads, and at least SNIFF_MIN bytes. */
static bool worth_sniffing(const char *name, size_t len, uint64_t usize)
{
	return usize >= SNIFF_MIN && len && name[len - 1] != '/' && !detect_wants(name, len);
}

bool scan_never_archive(const char *name, size_t len)
{
	return !len || name[len - 1] == '/' || detect_class_stem(name, len);
}

bool scan_child_classify(struct scan_child *c, const char *name, size_t len, const unsigned char *head,
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

static bool zip_child(const struct zip *z, size_t i, struct scan_child *c)
{
	const struct zip_entry *e = &z->entries[i];
	unsigned char head[SNIFF_HEAD];
	size_t hn = 0;
	c->i = i;
	c->size = e->csize;
	/* most entries are classes: told apart before any name table is tried */
	if (scan_never_archive(e->name, e->name_len) ||
	    (!worth_sniffing(e->name, e->name_len, e->usize) && !scan_archive_name(e->name, e->name_len) &&
	     !tarscan_name(e->name, e->name_len)))
		return false;
	bool got = zentry_head(z, e, head, sizeof head, &hn);
	return scan_child_classify(c, e->name, e->name_len, got ? head : NULL, hn, e->usize);
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

void scan_follow_mem(struct scanner *s, const unsigned char *data, size_t len, const struct scan_child *c,
		       uint32_t crc, struct buf *path, int depth, const struct chain *chain,
		       struct scan_batch *out)
{
	struct scan_child k = *c;
	k.kind = sniff(data, len < SNIFF_HEAD ? len : SNIFF_HEAD, len);
	if (scan_child_tar(&k)) {
		s->nest = NULL; /* not a zip read whole */
		scan_passed(s, buf_cstr(path), "a tarball");
		tarscan_buffer(s, data, len, buf_cstr(path), depth, k.tname, out);
		return;
	}
	struct zsrc child = {.fd = -1, .mem = data, .off = 0, .size = len};
	struct chain link = {chain, crc, len};
	if (scan_archive(s, &child, path, depth, &link, scan_child_loud(&k) ? OPEN_LOUD : OPEN_QUIET, out) ==
		    ZIP_NOT_ZIP &&
	    scan_child_loud(&k))
		not_a_zip(s, out, buf_cstr(path));
}

void scan_abandoned_note(struct scan_abandoned *a, const struct budget_frame *f, struct buf *path)
{
	if (!a->n++)
		buf_adds(&a->first, buf_cstr(path));
	a->share = f->share > a->share ? f->share : a->share;
}

void scan_abandoned_report(struct scanner *s, struct scan_batch *out, const char *path, struct scan_abandoned *a)
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

/* ---- one nested archive of a zip, in its own share of the budget */

/* A tarball inside a zip: read as a stream, inflated on the way. */
static void follow_tar(struct scanner *s, const struct zip *z, const struct zip_entry *e,
		       const struct scan_child *c, const char *path, int depth, struct scan_batch *out)
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

/* A child that is not followed: it contains itself, or is nested too deep
 * (said when the child is loud).  True: refused. */
static bool child_refused(struct scanner *s, const struct zip_entry *e, const struct scan_child *c, const char *p,
			  int depth, const struct chain *chain, struct scan_batch *out)
{
	if (scan_chain_contains(chain, e->crc, e->usize)) {
		scan_count_error(s, out, p, "archive contains itself (recursive zip); not followed");
		return true;
	}
	if (depth + 1 > s->o->max_depth) {
		if (scan_child_loud(c) || scan_child_tar(c))
			scan_count_error(s, out, p, "nested deeper than --max-depth; not followed");
		return true;
	}
	return false;
}

/* A STORED child: read in place, a zip within the parent's bytes. */
static void follow_stored(struct scanner *s, const struct zsrc *src, struct zip *z, const struct zip_entry *e,
			  struct scan_nest *at, struct buf *path, int depth, const struct chain *link, bool loud,
			  struct scan_batch *out)
{
	const char *p = buf_cstr(path);
	struct buf why = BUF_INIT;
	uint64_t off;
	if (!zip_data_offset(z, e, &off, &why)) {
		if (loud)
			scan_count_error(s, out, p, buf_cstr(&why));
		scan_passed(s, p, buf_cstr(&why));
	} else {
		s->nest = at;
		struct zsrc child = *src;
		if (src->mem)
			child.mem = src->mem + off;
		else
			child.off = src->off + off;
		child.size = e->csize;
		/* path's bytes may move while the child is read: asked again */
		if (scan_archive(s, &child, path, depth, link, loud ? OPEN_LOUD : OPEN_QUIET, out) == ZIP_NOT_ZIP && loud)
			not_a_zip(s, out, buf_cstr(path));
	}
	buf_free(&why);
}

/* A compressed child within --max-nested-size: inflated into memory and
 * read from there. */
static void follow_inflated(struct scanner *s, struct zip_view *view, const struct zip_entry *e,
			    const struct scan_child *c, struct scan_nest *at, struct buf *path, int depth,
			    const struct chain *chain, bool loud, struct scan_batch *out)
{
	struct buf why = BUF_INIT;
	unsigned char *mem = NULL;
	size_t memlen = 0;
	if (zv_read(view, c->i, s->o->max_nested_bytes, &mem, &memlen, &why)) {
		at->own = &mem; /* a watcher that keeps the archive takes its bytes */
		s->nest = at;
		scan_follow_mem(s, mem, memlen, c, e->crc, path, depth, chain, out);
		s->nest = NULL;
		free(mem);
	} else {
		const char *p = buf_cstr(path);
		if (loud && !s->abandoned)
			scan_count_error(s, out, p, buf_cstr(&why));
		scan_passed(s, p, buf_cstr(&why));
	}
	buf_free(&why);
}

/* One nested archive of a zip read whole: refused, a tarball, STORED (read
 * in place), larger than --max-nested-size (streamed), or inflated. */
static void follow_child(struct scanner *s, const struct zsrc *src, struct zip *z, struct zip_view *view,
			 const struct scan_child *c, struct buf *path, int depth, const struct chain *chain,
			 struct scan_batch *out)
{
	const struct zip_entry *e = &z->entries[c->i];
	const char *p = buf_cstr(path);
	if (child_refused(s, e, c, p, depth, chain, out))
		return;
	if (scan_child_tar(c)) {
		scan_passed(s, p, "a tarball");
		follow_tar(s, z, e, c, p, depth + 1, out);
		return;
	}
	bool loud = scan_child_loud(c);
	struct chain link = {chain, e->crc, e->usize};
	struct scan_nest at = {z, c->i, NULL};
	if (e->method == 0 && e->csize == e->usize) {
		follow_stored(s, src, z, e, &at, path, depth + 1, &link, loud, out);
	} else if (e->usize > s->o->max_nested_bytes && e->method == 8) {
		struct scan_stream_src ss = {z, e, NULL, NULL};
		scan_passed(s, p, "larger than --max-nested-size: read as a stream");
		scan_stream_nested(s, &ss, path, depth + 1, chain, loud, out);
	} else {
		follow_inflated(s, view, e, c, &at, path, depth + 1, chain, loud, out);
	}
}

static int by_size(const void *a, const void *b)
{
	const struct scan_child *x = a, *y = b;
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
	struct scan_child *kids = NULL;
	size_t n = 0, overlapping = 0;
	uint64_t *offs = NULL;
	for (size_t i = 0; i < z->nentries; i++) {
		struct scan_child c;
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
	struct scan_abandoned ab = {0, n, 0, BUF_INIT};
	for (size_t k = 0; k < n && !s->abandoned; k++) {
		const struct zip_entry *e = &z->entries[kids[k].i];
		scan_path_join(path, e->name, e->name_len);
		struct budget_frame f;
		scanner_share_begin(s, scan_budget_left(s) / (n - k), false, &f);
		follow_child(s, src, z, view, &kids[k], path, depth, chain, out);
		if (scanner_share_end(s, &f, NULL, NULL))
			scan_abandoned_note(&ab, &f, path);
		path->len = plen;
		path->data[plen] = 0;
	}
	scan_abandoned_report(s, out, buf_cstr(path), &ab);
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
		scan_report_refusal(s, out, buf_cstr(path), z.refused);

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
