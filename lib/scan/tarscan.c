/* tarscan.c - the tar entry scanner (see tarscan.h for the design).
 *
 * One libarchive reader per stream level.  A nested tarball is a second
 * reader whose read callback pulls the parent's entry data (first handing
 * back the bytes already read to probe it), so a layer of any size streams
 * through without a copy.  Exploded classes are gathered per class root in
 * a small table (hashed by root) and handed to the detector at the end of
 * the stream.  Every stream checks the tar-bomb guard between entries and
 * while it skips compressed data. */
#include "scan/tarscan.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

#include "archive/sniff.h"
#include "archive/zipstream.h"
#include "detect/classroot.h"
#include "detect/detect.h"
#include "scan/scan_internal.h"

#define NEST_BUF (64 << 10)
#define BOMB_MIN (64ULL << 20)   /* decompressed bytes before the ratio guard applies */
#define MAX_ROOTS 4096           /* class roots gathered per stream */
#define ROOT_SLOTS 8192          /* hash index over them (twice MAX_ROOTS) */
#define KEEP_MAX (64ULL << 20)   /* class-file bytes kept per stream */

bool tarscan_probe(const unsigned char *h, size_t n)
{
	return sniff_tar(h, n);
}

bool tarscan_name(const char *name, size_t len)
{
	static const char *ext[] = {".tar", ".tgz", ".tar.gz", ".taz", ".tar.xz", ".txz", ".tar.zst",
				    ".tzst", ".tar.bz2", ".tbz", ".tbz2", ".tar.lz4", ".tar.lzma"};
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		size_t el = strlen(ext[i]);
		if (len > el && !strncasecmp(name + len - el, ext[i], el))
			return true;
	}
	return false;
}

static const char *aerr(struct archive *a)
{
	const char *e = archive_error_string(a);
	return e && *e ? e : "read error";
}

static struct archive *reader_new(void)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	/* Only decoders built into libarchive (no external programs). */
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
	return a;
}

struct archive *tarscan_open(const struct tarscan_src *src, struct buf *err)
{
	struct archive *a = reader_new();
	if (!a) {
		buf_adds(err, "out of memory for an archive reader");
		return NULL;
	}
	int r;
	if (src->mem) {
		r = archive_read_open_memory(a, src->mem, src->len);
	} else {
		if (lseek(src->fd, 0, SEEK_SET) < 0) {
			buf_adds(err, strerror(errno));
			archive_read_free(a);
			return NULL;
		}
		r = archive_read_open_fd(a, src->fd, NEST_BUF);
	}
	if (r != ARCHIVE_OK) {
		buf_adds(err, aerr(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

void tarscan_close(struct archive *a)
{
	if (a)
		archive_read_free(a);
}

bool tarscan_bomb(struct archive *a, struct buf *err)
{
	if (archive_filter_count(a) <= 1)
		return false; /* not compressed */
	int64_t u = archive_filter_bytes(a, 0), c = archive_filter_bytes(a, -1);
	if (u < 0 || (uint64_t)u <= BOMB_MIN || u / (c > 0 ? c : 1) <= TAR_MAX_RATIO)
		return false;
	buf_printf(err, "decompression ratio above %d:1 after %lld MiB (tar bomb?); rest not read",
		   TAR_MAX_RATIO, (long long)(u >> 20));
	return true;
}

const char *tarscan_entry_name(struct archive_entry *e, struct buf *tmp)
{
	const char *n = archive_entry_pathname(e);
	if (!n) /* not representable in this locale */
		n = archive_entry_pathname_utf8(e);
	if (!n)
		n = "";
	for (;;) {
		if (n[0] == '/')
			n++;
		else if (n[0] == '.' && n[1] == '/')
			n += 2;
		else
			break;
	}
	buf_reset(tmp);
	buf_adds(tmp, n);
	while (tmp->len && tmp->data[tmp->len - 1] == '/')
		tmp->data[--tmp->len] = 0;
	return buf_cstr(tmp);
}

/* Read the rest of the current entry into memory after `head` (hn bytes
 * already read), at most max bytes in all.  The buffer grows with the data,
 * so a header that lies about the size costs nothing. */
static bool read_rest(struct archive *a, const unsigned char *head, size_t hn, uint64_t max,
		      unsigned char **out, size_t *len, struct buf *err)
{
	size_t cap = hn > 65536 ? hn : 65536, n = 0;
	unsigned char *b = xmalloc(cap);
	if (hn) {
		memcpy(b, head, hn);
		n = hn;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				unsigned char probe;
				la_ssize_t r = archive_read_data(a, &probe, 1);
				if (r == 0)
					break;
				free(b);
				if (r < 0)
					buf_adds(err, aerr(a));
				else
					buf_printf(err, "larger than %llu bytes", (unsigned long long)max);
				return false;
			}
			cap = cap * 2 > max ? (size_t)max : cap * 2;
			b = xrealloc(b, cap);
		}
		la_ssize_t r = archive_read_data(a, b + n, cap - n);
		if (r < 0) {
			buf_adds(err, aerr(a));
			free(b);
			return false;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (tarscan_bomb(a, err)) {
			free(b);
			return false;
		}
	}
	*out = b;
	*len = n;
	return true;
}

bool tarscan_read_entry(struct archive *a, struct archive_entry *e, uint64_t max, unsigned char **out,
		    size_t *len, struct buf *err)
{
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > (int64_t)max) {
		buf_printf(err, "larger than %llu bytes", (unsigned long long)max);
		return false;
	}
	return read_rest(a, NULL, 0, max, out, len, err);
}

/* ---- exploded classes, gathered per class root */

struct centry {
	char *name;           /* relative to the root */
	unsigned char *data;  /* NULL when not kept (why says so) */
	size_t len;
	const char *why;
};

struct croot {
	char *root;           /* with its trailing '/', or "" */
	struct centry *e;
	size_t n;
	bool anchored;        /* holds a class that makes it worth detecting */
	bool relocated;       /* rooted at a package root (classroot.h), not before org/ */
};

struct croots {
	struct croot *r;
	size_t n;
	uint32_t slot[ROOT_SLOTS]; /* index + 1, 0 = empty */
	size_t nentries;
	uint64_t kept;
	bool full_reported;
};

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

/* First occurrence of seg at the start of name or right after a '/'. */
static const char *find_seg(const char *name, const char *seg)
{
	for (const char *p = name; (p = strstr(p, seg)); p++)
		if (p == name || p[-1] == '/')
			return p;
	return NULL;
}

static struct croot *root_get(struct croots *c, const char *root, size_t rl)
{
	size_t h = (size_t)(fnv(root, rl) & (ROOT_SLOTS - 1));
	for (;; h = (h + 1) & (ROOT_SLOTS - 1)) {
		uint32_t i = c->slot[h];
		if (!i)
			break;
		struct croot *r = &c->r[i - 1];
		if (strlen(r->root) == rl && !memcmp(r->root, root, rl))
			return r;
	}
	if (c->n >= MAX_ROOTS)
		return NULL;
	c->r = xrealloc(c->r, (c->n + 1) * sizeof *c->r);
	struct croot *r = &c->r[c->n];
	memset(r, 0, sizeof *r);
	r->root = xstrndup(root, rl);
	c->slot[h] = (uint32_t)++c->n;
	return r;
}

static void roots_free(struct croots *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t k = 0; k < c->r[i].n; k++) {
			free(c->r[i].e[k].name);
			free(c->r[i].e[k].data);
		}
		free(c->r[i].e);
		free(c->r[i].root);
	}
	free(c->r);
}

struct tstream {
	struct scanner *s;
	struct archive *a;
	const char *path;
	int depth;
	struct scan_batch *out;
	struct croots *roots;
};

/* Where a member's class evidence goes: a new slot in its class root, or
 * NULL when the name is no evidence (*full: it is, but the tables are full,
 * reported once). */
static struct centry *class_slot(struct tstream *t, const char *name, bool *full)
{
	*full = false;
	size_t len = strlen(name);
	if (!detect_wants(name, len))
		return NULL;
	const char *rel = find_seg(name, "org/apache/logging/log4j/");
	if (!rel)
		rel = find_seg(name, "org/apache/log4j/");
	bool anchor = rel != NULL, relocated = false;
	if (!rel) {
		/* a copy relocated to another package: rooted where its package
		 * path starts, told by the classes the detector asks about */
		long rl = classroot_of(scanner_classroots(t->s), name, len, &anchor);
		if (rl >= 0) {
			rel = name + rl;
			relocated = true;
		}
	}
	if (!rel) {
		rel = find_seg(name, "META-INF/");
		if (!rel || (strcmp(rel, "META-INF/MANIFEST.MF") && strncmp(rel, "META-INF/maven/", 15)))
			return NULL;
	}
	const struct scan_opts *o = scanner_opts(t->s);
	struct croots *c = t->roots;
	struct croot *r = c->nentries < o->max_dir_classes ? root_get(c, name, (size_t)(rel - name)) : NULL;
	if (!r) {
		if (!c->full_reported)
			scanner_error(t->s, t->out, t->path, "%s",
				      c->nentries >= o->max_dir_classes
					      ? "too many class files in this tarball; rest not examined"
					      : "too many exploded class roots in this tarball; rest not examined");
		c->full_reported = true;
		*full = true;
		return NULL;
	}
	r->anchored |= anchor;
	r->relocated |= relocated;
	r->e = xrealloc(r->e, (r->n + 1) * sizeof *r->e);
	struct centry *ce = &r->e[r->n++];
	memset(ce, 0, sizeof *ce);
	ce->name = xstrdup(rel);
	c->nentries++;
	return ce;
}

/* Is this regular entry evidence for an exploded class root?  Then keep it
 * (bytes when small enough and within the budgets) and say true. */
static bool class_evidence(struct tstream *t, struct archive_entry *e, const char *name)
{
	bool full;
	struct centry *ce = class_slot(t, name, &full);
	if (!ce)
		return full;
	const struct scan_opts *o = scanner_opts(t->s);
	struct croots *c = t->roots;
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	struct buf err = BUF_INIT;
	if (size < 0 || (uint64_t)size > o->max_class_bytes) {
		ce->why = "file exceeds the size limit for class files";
	} else if (c->kept + (uint64_t)size > KEEP_MAX) {
		ce->why = "class files kept for this tarball exceed the memory cap; not read";
	} else if (!scanner_charge(t->s, (uint64_t)size)) {
		ce->why = scan_budget_msg;
	} else if (!read_rest(t->a, NULL, 0, o->max_class_bytes, &ce->data, &ce->len, &err)) {
		ce->why = "read error";
	} else {
		c->kept += ce->len;
	}
	buf_free(&err);
	return true;
}

/* A hard link to class evidence: the same bytes under a second name. */
static bool class_link(struct tstream *t, const char *name, const char *target)
{
	bool full;
	const struct centry *from = NULL;
	for (size_t i = 0; i < t->roots->n && !from; i++) {
		const struct croot *r = &t->roots->r[i];
		size_t rl = strlen(r->root);
		if (strncmp(target, r->root, rl))
			continue;
		for (size_t k = 0; k < r->n && !from; k++)
			if (!strcmp(target + rl, r->e[k].name))
				from = &r->e[k];
	}
	/* (class_slot may move the table: copy what is needed first) */
	unsigned char *data = from && from->data ? xmalloc(from->len ? from->len : 1) : NULL;
	size_t len = from ? from->len : 0;
	const char *why = from ? from->why : "hard link to a file that was not kept";
	if (data)
		memcpy(data, from->data, len);
	struct centry *ce = class_slot(t, name, &full);
	if (!ce) {
		free(data);
		return full;
	}
	ce->data = data;
	ce->len = len;
	ce->why = data ? NULL : why;
	t->roots->kept += len;
	return true;
}

struct root_view {
	struct croot *r;
};

static const char *rv_name(void *ctx, size_t i, size_t *len)
{
	struct root_view *v = ctx;
	*len = strlen(v->r->e[i].name);
	return v->r->e[i].name;
}

static bool rv_read(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len,
		    struct buf *err)
{
	struct root_view *v = ctx;
	const struct centry *ce = &v->r->e[i];
	if (!ce->data) {
		buf_adds(err, ce->why ? ce->why : "not read");
		return false;
	}
	if (ce->len > max) {
		buf_adds(err, "file exceeds the size limit for class files");
		return false;
	}
	*out = xmalloc(ce->len ? ce->len : 1);
	memcpy(*out, ce->data, ce->len);
	*len = ce->len;
	return true;
}

static void roots_detect(struct tstream *t, const struct tarscan_hook *hook)
{
	for (size_t i = 0; i < t->roots->n; i++) {
		struct croot *r = &t->roots->r[i];
		if (!r->anchored)
			continue;
		struct buf p = BUF_INIT, in = BUF_INIT;
		buf_adds(&p, t->path);
		size_t rl = strlen(r->root);
		if (rl) {
			buf_adds(&p, "!/");
			buf_add(&p, r->root, rl - 1);
		}
		if (r->relocated && rl)
			buf_add(&in, r->root, rl - 1); /* the package root itself */
		else
			buf_printf(&in, "%sorg", r->root);
		struct root_view v = {r};
		struct container c = {r->n, rv_name, rv_read, &v};
		size_t from = t->out->n;
		scan_container(t->s, &c, buf_cstr(&p), "/", NULL, t->out);
		if (hook && hook->records && t->out->n > from)
			hook->records(hook->ctx, buf_cstr(&in), from, t->out->n);
		buf_free(&p);
		buf_free(&in);
	}
}

/* ---- nested tar streams: a reader fed by the parent's entry data, or by
 * a byte reader (a tarball inside a zip) */

struct nest {
	struct archive *outer;   /* the member of an outer tar ... */
	byte_read_fn rd;         /* ... or a reader */
	void *rctx;
	const unsigned char *head;
	size_t headlen;
	bool head_given;
	unsigned char *buf;
};

static la_ssize_t nest_read(struct archive *a, void *ctx, const void **p)
{
	struct nest *n = ctx;
	if (!n->head_given) {
		n->head_given = true;
		if (n->headlen) {
			*p = n->head;
			return (la_ssize_t)n->headlen;
		}
	}
	if (n->rd) {
		const char *why = "read error";
		ssize_t r = n->rd(n->rctx, n->buf, NEST_BUF, &why);
		if (r < 0) {
			archive_set_error(a, EIO, "%s", why);
			return -1;
		}
		*p = n->buf;
		return (la_ssize_t)r;
	}
	struct buf err = BUF_INIT;
	if (tarscan_bomb(n->outer, &err)) {
		archive_set_error(a, EIO, "%s", buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	la_ssize_t r = archive_read_data(n->outer, n->buf, NEST_BUF);
	if (r < 0) {
		archive_set_error(a, EIO, "%s", aerr(n->outer));
		return -1;
	}
	*p = n->buf;
	return r;
}

static bool nested(struct scanner *s, struct nest *n, const char *path, int depth, bool named,
		   const struct tarscan_hook *hook, struct scan_batch *out)
{
	struct archive *in = reader_new();
	if (!in) {
		scanner_error(s, out, path, "out of memory for an archive reader");
		return true;
	}
	n->buf = xmalloc(NEST_BUF);
	bool r;
	if (archive_read_open(in, n, NULL, nest_read, NULL) != ARCHIVE_OK) {
		if (named)
			scanner_error(s, out, path, "%s", aerr(in));
		r = named;
	} else {
		r = tarscan_stream(s, in, path, depth, named, hook, out);
	}
	archive_read_free(in);
	free(n->buf);
	return r;
}

bool tarscan_nested(struct scanner *s, struct archive *a, const char *path, int depth, bool named,
		     const struct tarscan_hook *hook, struct scan_batch *out)
{
	struct nest n = {.outer = a};
	return nested(s, &n, path, depth, named, hook, out);
}

bool tarscan_reader(struct scanner *s, byte_read_fn rd, void *ctx, const char *path, int depth, bool named,
		     struct scan_batch *out)
{
	if (depth > TAR_MAX_NEST) {
		scanner_error(s, out, path, "tarball nested deeper than %d levels; not followed", TAR_MAX_NEST);
		return true;
	}
	struct nest n = {.rd = rd, .rctx = ctx};
	return nested(s, &n, path, depth, named, NULL, out);
}

bool tarscan_buffer(struct scanner *s, const unsigned char *data, size_t len, const char *path, int depth,
		     bool named, struct scan_batch *out)
{
	struct tarscan_src src = {-1, data, len};
	struct buf err = BUF_INIT;
	struct archive *a = depth > TAR_MAX_NEST ? NULL : tarscan_open(&src, &err);
	bool r = named;
	if (depth > TAR_MAX_NEST)
		scanner_error(s, out, path, "tarball nested deeper than %d levels; not followed", TAR_MAX_NEST);
	else if (!a && named)
		scanner_error(s, out, path, "%s", buf_cstr(&err));
	else if (a)
		r = tarscan_stream(s, a, path, depth, named, NULL, out);
	tarscan_close(a);
	buf_free(&err);
	return r;
}

/* ---- one entry */

/* A zip member too large for memory, read front to back from the stream:
 * the head already read first, then the rest of the member's data. */
struct member {
	struct archive *a;
	const unsigned char *head;
	size_t hn, hoff;
	struct buf err;
};

static ssize_t member_read(void *ctx, unsigned char *buf, size_t cap, const char **why)
{
	struct member *m = ctx;
	if (m->hoff < m->hn) {
		size_t k = m->hn - m->hoff < cap ? m->hn - m->hoff : cap;
		memcpy(buf, m->head + m->hoff, k);
		m->hoff += k;
		return (ssize_t)k;
	}
	buf_reset(&m->err);
	if (tarscan_bomb(m->a, &m->err)) {
		*why = buf_cstr(&m->err);
		return -1;
	}
	la_ssize_t r = archive_read_data(m->a, buf, cap);
	if (r < 0) {
		buf_reset(&m->err);
		buf_adds(&m->err, aerr(m->a));
		*why = buf_cstr(&m->err);
		return -1;
	}
	return (ssize_t)r;
}

/* A member that is (or may hide) a zip: held in memory up to
 * --max-nested-size, streamed beyond; with a whole --max-inflate of its
 * own, as a file in a directory has. */
static void zip_member(struct scanner *s, struct archive *a, const unsigned char *head, size_t hn,
		       int64_t size, const char *path, bool loud, int depth, struct scan_batch *out)
{
	const struct scan_opts *o = scanner_opts(s);
	if (depth + 1 > o->max_depth) {
		if (loud)
			scanner_error(s, out, path, "nested deeper than --max-depth; not followed");
		return;
	}
	struct budget_frame f;
	scanner_share_begin(s, o->max_file_inflate, true, &f);
	unsigned char *mem = NULL;
	size_t len = 0;
	struct buf why = BUF_INIT;
	if (size >= 0 && (uint64_t)size <= o->max_nested_bytes) {
		if (!scanner_charge(s, (uint64_t)size)) {
			/* reported once, below */
		} else if (!read_rest(a, head, hn, o->max_nested_bytes, &mem, &len, &why)) {
			if (strcmp(buf_cstr(&why), scan_budget_msg))
				scanner_error(s, out, path, "%s", buf_cstr(&why));
		} else {
			if (!scan_mem_nested(s, mem, len, path, depth + 1, loud, out) && loud)
				scanner_error(s, out, path, "not a zip archive (no end-of-central-directory record)");
			free(mem);
		}
	} else {
		struct member m = {a, head, hn, 0, BUF_INIT};
		scan_stream_reader(s, member_read, &m, path, depth + 1, loud, out);
		buf_free(&m.err);
	}
	buf_free(&why);
	scanner_share_end(s, &f, out, path);
}

void tarscan_entry(struct scanner *s, struct archive *a, struct archive_entry *e, const char *path,
		    const char *name, int depth, struct scan_batch *out)
{
	const struct scan_opts *o = scanner_opts(s);
	if (archive_entry_size_is_set(e) && archive_entry_size(e) == 0)
		return;
	size_t nl = strlen(name);
	bool zname = scan_archive_name(name, nl), tname = tarscan_name(name, nl);
	unsigned char head[SNIFF_HEAD];
	la_ssize_t r = archive_read_data(a, head, sizeof head);
	if (r < 0) {
		if (strcmp(aerr(a), scan_budget_msg))
			scanner_error(s, out, path, "%s", aerr(a));
		return;
	}
	size_t hn = (size_t)r;
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	enum sniff_kind k = sniff(head, hn, size >= 0 ? (uint64_t)size : hn);
	if ((k == SNIFF_TAR && (tname || tarscan_head_plausible(head, hn))) || (tname && k == SNIFF_NONE)) {
		if (depth + 1 > o->max_depth || depth + 1 > TAR_MAX_NEST) {
			scanner_error(s, out, path, "tarball nested deeper than %d levels; not followed",
				      o->max_depth < TAR_MAX_NEST ? o->max_depth : TAR_MAX_NEST);
		} else {
			struct nest n = {.outer = a, .head = head, .headlen = hn};
			nested(s, &n, path, depth + 1, tname, NULL, out);
		}
	} else if (zname || k != SNIFF_NONE) {
		zip_member(s, a, head, hn, size, path, zname || k == SNIFF_ZIP || k == SNIFF_JMOD, depth, out);
	}
}

/* Skip the rest of the current entry.  A compressed stream is read through
 * block by block so that the bomb guard can stop it; a plain one seeks.
 * 1: stop (bomb, reported in err), -1: data error (the next header says). */
static int skip_data(struct archive *a, struct buf *err)
{
	if (archive_filter_count(a) <= 1)
		return archive_read_data_skip(a) == ARCHIVE_OK ? 0 : -1;
	for (;;) {
		const void *p;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(a, &p, &n, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return -1;
		if (tarscan_bomb(a, err))
			return 1;
	}
}

/* ---- hard links: the bytes of an earlier member under a second name
 *
 * A member that produced findings is remembered with the range of its
 * records; a later hard link to it gets copies of those findings under its
 * own path (the bytes ship at both paths).  A hard link to class evidence
 * joins its own class root with the target's bytes. */

struct linked {
	char *name;
	size_t from, to;
};

struct links {
	struct linked *l;
	size_t n;
};

static void links_note(struct links *k, const char *name, size_t from, const struct scan_batch *out)
{
	bool any = false;
	for (size_t i = from; i < out->n && !any; i++)
		any = out->rec[i].kind == REC_FINDING;
	if (!any)
		return;
	k->l = xrealloc(k->l, (k->n + 1) * sizeof *k->l);
	k->l[k->n++] = (struct linked){xstrdup(name), from, out->n};
}

static void links_free(struct links *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->l[i].name);
	free(k->l);
	memset(k, 0, sizeof *k);
}

static void member_link(struct tstream *t, const char *name, const char *target, struct links *k)
{
	struct buf tn = BUF_INIT, from = BUF_INIT, to = BUF_INIT;
	while (target[0] == '/' || (target[0] == '.' && target[1] == '/'))
		target += target[0] == '/' ? 1 : 2;
	buf_adds(&tn, target);
	while (tn.len && tn.data[tn.len - 1] == '/')
		tn.data[--tn.len] = 0;
	if (class_link(t, name, buf_cstr(&tn)))
		goto out;
	const struct linked *l = NULL;
	for (size_t i = k->n; i-- > 0 && !l;)
		if (!strcmp(k->l[i].name, buf_cstr(&tn)))
			l = &k->l[i];
	if (!l)
		goto out;
	buf_printf(&from, "%s!/%s", t->path, buf_cstr(&tn));
	buf_printf(&to, "%s!/%s", t->path, name);
	size_t lfrom = l->from, lto = l->to;
	for (size_t i = lfrom; i < lto; i++) {
		const struct scan_record *r = &t->out->rec[i];
		if (r->kind != REC_FINDING || strncmp(r->f.path, from.data, from.len))
			continue;
		struct scan_record *d;
		t->out->rec = xrealloc(t->out->rec, (t->out->n + 1) * sizeof *t->out->rec);
		r = &t->out->rec[i];
		d = &t->out->rec[t->out->n++];
		memset(d, 0, sizeof *d);
		d->kind = REC_FINDING;
		finding_copy(&d->f, &r->f);
		free(d->f.path);
		struct buf np = BUF_INIT;
		buf_add(&np, to.data, to.len);
		buf_adds(&np, r->f.path + from.len);
		d->f.path = buf_detach(&np);
		atomic_fetch_add(&scanner_stats(t->s)->findings[d->f.status], 1);
	}
out:
	buf_free(&tn);
	buf_free(&from);
	buf_free(&to);
}

bool tarscan_stream(struct scanner *s, struct archive *a, const char *path, int depth, bool named,
		     const struct tarscan_hook *hook, struct scan_batch *out)
{
	const struct scan_opts *o = scanner_opts(s);
	struct croots *roots = xcalloc(1, sizeof *roots);
	struct tstream t = {s, a, path, depth, out, roots};
	struct links links = {0};
	struct buf nb = BUF_INIT, ep = BUF_INIT, err = BUF_INIT;
	bool any = false, quiet = hook && hook->quiet;
	uint64_t count = 0;
	int retries = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_RETRY && ++retries < 16)
			continue;
		if (r < ARCHIVE_WARN) {
			/* Not a tar at all (a .gz of a log file): silence unless the
			 * name claimed a tarball or the bytes said "ustar". */
			if (!any && !named && archive_filter_count(a) > 1) {
				links_free(&links);
				free(roots);
				buf_free(&nb);
				buf_free(&ep);
				buf_free(&err);
				return false;
			}
			if (!quiet && strcmp(aerr(a), scan_budget_msg))
				scanner_error(s, out, path, "%s%s", any ? "" : "not a readable tar archive: ", aerr(a));
			break;
		}
		if (!any && !quiet)
			atomic_fetch_add(&scanner_stats(s)->archives, 1);
		any = true;
		if (++count > o->max_entries) {
			if (!quiet)
				scanner_error(s, out, path, "more than %llu entries; rest not read",
				      (unsigned long long)o->max_entries);
			break;
		}
		buf_reset(&err);
		if (tarscan_bomb(a, &err)) {
			if (!quiet)
				scanner_error(s, out, path, "%s", buf_cstr(&err));
			break;
		}
		const char *name = tarscan_entry_name(e, &nb);
		bool taken = hook && hook->entry && hook->entry(hook->ctx, a, e, name);
		const char *link = archive_entry_hardlink(e);
		size_t from = out->n;
		if (taken || !*name) {
			/* the hook's (image documents, whiteouts) */
		} else if (link) {
			member_link(&t, name, link, &links);
		} else if (archive_entry_filetype(e) == AE_IFREG && !class_evidence(&t, e, name)) {
			buf_reset(&ep);
			buf_printf(&ep, "%s!/%s", path, name);
			tarscan_entry(s, a, e, buf_cstr(&ep), name, depth, out);
			links_note(&links, name, from, out);
		}
		if (hook && hook->records && out->n > from)
			hook->records(hook->ctx, name, from, out->n);
		buf_reset(&err);
		if (skip_data(a, &err) > 0) {
			if (!quiet)
				scanner_error(s, out, path, "%s", buf_cstr(&err));
			break;
		}
	}
	roots_detect(&t, hook);
	roots_free(roots);
	free(roots);
	links_free(&links);
	buf_free(&nb);
	buf_free(&ep);
	buf_free(&err);
	return true;
}

/* ---- top level */

/* Does this 512-byte block look like a tar header: "ustar" magic, or (old
 * v7 archives) a header checksum that adds up? */
bool tarscan_header_block(const unsigned char *h)
{
	if (!memcmp(h + 257, "ustar", 5))
		return true;
	unsigned long sum = 0, want = 0;
	for (int i = 0; i < 512; i++)
		sum += i >= 148 && i < 156 ? ' ' : h[i];
	int i = 148;
	while (i < 156 && h[i] == ' ')
		i++;
	int digits = 0;
	for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
		want = want * 8 + (unsigned long)(h[i] - '0');
	return digits > 0 && want == sum && sum != 8 * ' ';
}

/* Most gzip files on a host are compressed logs, man pages and changelogs,
 * not tarballs; handing each to libarchive reads it whole (64 KiB blocks).
 * Inflating just the first 512 bytes tells: false only when they are
 * certainly not a tar header (or the stream is shorter than one); true
 * when they are, or when that cannot be told cheaply.  The bytes come from
 * head (hn bytes), then from more() while it gives some. */
static bool gzip_holds_tar(const unsigned char *head, size_t hn,
			   ssize_t (*more)(void *ctx, unsigned char *buf, size_t cap), void *ctx)
{
	enum { IN_CHUNK = 4096, IN_MAX = 256 << 10 };
	unsigned char out[512], in[IN_CHUNK];
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return true;
	z.next_in = (unsigned char *)head;
	z.avail_in = (uInt)hn;
	z.next_out = out;
	z.avail_out = sizeof out;
	size_t at = hn;
	bool verdict = true;
	for (;;) {
		int r = inflate(&z, Z_NO_FLUSH);
		if (z.avail_out == 0) {
			verdict = tarscan_header_block(out);
			break;
		}
		if (r == Z_STREAM_END) {
			verdict = false; /* fewer than 512 bytes: no tar header */
			break;
		}
		if ((r != Z_OK && r != Z_BUF_ERROR) || z.avail_in || at >= IN_MAX || !more)
			break; /* corrupt, or not told cheaply: let libarchive say */
		ssize_t n = more(ctx, in, sizeof in);
		if (n <= 0)
			break;
		at += (size_t)n;
		z.next_in = in;
		z.avail_in = (uInt)n;
	}
	inflateEnd(&z);
	return verdict;
}

struct fd_at {
	int fd;
	off_t at;
};

static ssize_t fd_more(void *ctx, unsigned char *buf, size_t cap)
{
	struct fd_at *f = ctx;
	ssize_t n = pread(f->fd, buf, cap, f->at);
	if (n > 0)
		f->at += n;
	return n;
}

bool tarscan_fd_plausible(int fd, const unsigned char *head, size_t hn)
{
	if (hn >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
		struct fd_at f = {fd, (off_t)hn};
		return gzip_holds_tar(head, hn, fd_more, &f);
	}
	return true;
}

bool tarscan_head_plausible(const unsigned char *head, size_t hn)
{
	if (hn >= 2 && head[0] == 0x1f && head[1] == 0x8b)
		return gzip_holds_tar(head, hn, NULL, NULL);
	return true;
}
