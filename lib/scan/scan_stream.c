/* scan_stream.c - an archive read front to back instead of from its tail:
 * a DEFLATED nested archive larger than --max-nested-size (its central
 * directory is only reached by inflating all of it), or a tarball's member
 * (a reader read once).  The entries that count are still the central
 * directory's (zipstream.h); archives nested in it are scanned as their
 * bytes stream by, kept only until the central directory says they are
 * its own.  One archive is read in four phases (scan_stream_nested): read,
 * judge (and hash), commit the nested archives read on the way, follow
 * those kept in memory.  The recursion it returns to is scan.c's. */
#include "scan/scan.h"
#include "scan/scan_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "archive/sniff.h"
#include "archive/zentry.h"
#include "archive/zip.h"
#include "archive/zipstream.h"
#include "detect/detect.h"
#include "scan/tarscan.h"
#include "util/buf.h"

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
	if (scan_never_archive(name, len))
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

static bool stream_run(const struct scan_stream_src *src, uint64_t budget, const struct zip_limits *lim, bool hash,
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

/* One nested entry of known size within --max-nested-size: read whole, so
 * that its central directory is read as on disk. */
static void nest_mem(struct scanner *s, struct replay *rp, uint64_t usize, const struct scan_child *k, uint32_t crc,
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
		scan_follow_mem(s, mem, got, k, crc, v->path, v->depth + 1, v->chain, out);
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
	struct scan_child k = {0, usize, SNIFF_NONE, false, false};
	if (!scan_child_classify(&k, name, nlen, head, hn, usize == UINT64_MAX ? hn : usize))
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
	bool tar = scan_child_tar(&k), loud = scan_child_loud(&k) || tar;
	if (usize != UINT64_MAX && scan_chain_contains(v->chain, crc, usize)) {
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
			struct scan_stream_src src = {NULL, NULL, replay_read, &rp};
			scan_stream_nested(s, &src, v->path, v->depth + 1, v->chain, scan_child_loud(&k), &t->batch);
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
		struct scan_record *r = scan_batch_new(out);
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

/* ---- an archive read as a stream, in four phases: read it, judge what
 * its central directory lists (and hash it when the policy wants), commit
 * the nested archives read on the way, follow those kept in memory */

struct streamed {
	struct scanner *s;
	const struct scan_stream_src *src;
	struct buf *path;
	int depth;
	struct scan_batch *out;
	struct stream_result r;
	struct stream_view v;
	uint64_t budget;
	struct zip_limits lim;
	bool once; /* a reader read once (not an entry that can be read again) */
	bool ok;   /* the central directory was read */
};

/* Read the stream: the entries that count are the central directory's
 * (zipstream.h); when it is out of reach, the error says so, and what r
 * holds, if anything, is what the local headers show. */
static void streamed_read(struct streamed *st, bool loud)
{
	struct scanner *s = st->s;
	struct stream_result *r = &st->r;
	struct buf err = BUF_INIT;
	struct stream_nest nest = {nest_open, nest_drop, &st->v, s->o->max_nested_bytes};
	st->ok = stream_run(st->src, st->budget, &st->lim, st->once && s->o->sha256 != SHA_NONE, stream_want, &st->v,
			    &nest, r, &err);
	if (r->bytes > st->v.charged)
		scan_budget_charge(s, r->bytes - st->v.charged);
	if (!st->ok && r->bytes + r->spent > st->budget)
		s->abandoned = true, s->total_hit |= !scan_budget_total_left(s); /* reported once, by whoever gave the share */
	else if (!st->ok && (loud || r->n))
		scan_count_error(s, st->out, buf_cstr(st->path), buf_cstr(&err));
	else if (r->refused[0])
		scan_report_refusal(s, st->out, buf_cstr(st->path), r->refused);
	buf_free(&err);
	if (st->ok || r->n)
		atomic_fetch_add(&s->st->archives, 1);
}

/* Judge the entries read.  Hash only an archive the policy wants hashed
 * (rare): stream it once more, keeping nothing but the digest; a reader
 * read once hashed on the way.  It is inflated, not read from disk: no
 * holes to mind. */
static void streamed_judge(struct streamed *st)
{
	struct scanner *s = st->s;
	struct container c = {st->r.n, sv_name, sv_read, &st->v};
	struct arch_ident id = {NULL, NULL, 0, st->r.cd_sha256[0] ? st->r.cd_sha256 : NULL};
	size_t found = scan_container(s, &c, buf_cstr(st->path), "!/", &id, st->out);
	if (!found || !st->ok || !scan_wants_hash(s, st->out, found))
		return;
	struct stream_result h;
	struct buf herr = BUF_INIT;
	bool hok = st->once ? (h = st->r, true)
			    : stream_run(st->src, st->budget, &st->lim, true, stream_nothing, NULL, NULL, &h, &herr);
	if (hok)
		scan_hash_set(st->out, found, h.sha256, NULL);
	if (!st->once)
		zipstream_result_free(&h);
	buf_free(&herr);
}

/* The nested archives read as they streamed by, now that the central
 * directory lists them. */
static void streamed_commit_nested(struct streamed *st)
{
	for (size_t i = 0; i < st->r.n; i++) {
		struct stream_entry *se = &st->r.entries[i];
		if (se->nested)
			nest_commit(&st->v, se->nested, se->name, se->name_len, st->out);
		se->nested = NULL;
	}
}

/* Those kept in memory instead (STORED with a data descriptor), each in
 * its share of the budget, and the errors of the others. */
static void streamed_follow_kept(struct streamed *st, const struct chain *chain)
{
	struct scanner *s = st->s;
	struct buf *path = st->path;
	struct scan_batch *out = st->out;
	size_t plen = path->len, left = 0;
	for (size_t i = 0; i < st->r.n; i++)
		left += st->r.entries[i].data && (scan_archive_name(st->r.entries[i].name, st->r.entries[i].name_len) ||
						  tarscan_name(st->r.entries[i].name, st->r.entries[i].name_len));
	struct scan_abandoned ab = {0, left, 0, BUF_INIT};
	for (size_t i = 0; i < st->r.n && !s->abandoned; i++) {
		struct stream_entry *se = &st->r.entries[i];
		struct scan_child k = {i, se->len, SNIFF_NONE, false, false};
		if ((!se->data && !se->error) ||
		    !scan_child_classify(&k, se->name, se->name_len, se->data, se->len < SNIFF_HEAD ? se->len : SNIFF_HEAD,
			      se->usize))
			continue;
		scan_path_join(path, se->name, se->name_len);
		if (scan_chain_contains(chain, se->crc, se->usize)) {
			scan_count_error(s, out, buf_cstr(path), "archive contains itself (recursive zip); not followed");
		} else if (se->error) {
			scan_count_error(s, out, buf_cstr(path), se->error);
		} else if (st->depth + 1 > s->o->max_depth) {
			scan_count_error(s, out, buf_cstr(path), "nested deeper than --max-depth; not followed");
		} else if (se->data) {
			struct budget_frame f;
			scanner_share_begin(s, scan_budget_left(s) / (left ? left : 1), false, &f);
			left -= left > 0;
			scan_follow_mem(s, se->data, se->len, &k, se->crc, path, st->depth + 1, chain, out);
			if (scanner_share_end(s, &f, NULL, NULL))
				scan_abandoned_note(&ab, &f, path);
		}
		path->len = plen;
		path->data[plen] = 0;
	}
	scan_abandoned_report(s, out, buf_cstr(path), &ab);
}

void scan_stream_nested(struct scanner *s, const struct scan_stream_src *src, struct buf *path, int depth,
			  const struct chain *chain, bool loud, struct scan_batch *out)
{
	struct streamed st = {.s = s, .src = src, .path = path, .depth = depth, .out = out,
			      .budget = scan_budget_left(s), .lim = {s->o->max_cd_bytes, s->o->max_entries},
			      .once = src->rd != NULL};
	st.v = (struct stream_view){s, &st.r, path, depth, chain, 0};
	streamed_read(&st, loud);
	streamed_judge(&st);
	streamed_commit_nested(&st);
	streamed_follow_kept(&st, chain);
	zipstream_result_free(&st.r);
}

void scan_stream_reader(struct scanner *s, byte_read_fn rd, void *ctx, const char *path, int depth,
			bool loud, struct scan_batch *out)
{
	struct scan_stream_src src = {NULL, NULL, rd, ctx};
	struct buf p = BUF_INIT;
	buf_adds(&p, path);
	scan_stream_nested(s, &src, &p, depth, NULL, loud, out);
	buf_free(&p);
}
