/* scan.c - the per-file scan engine (see scan.h for the design).
 *
 * scan_archive() is the recursion: open the archive from its tail, run the
 * detector over its entry list, then follow the entries whose names say they
 * are archives.  A nested archive is a new byte source: a window onto the
 * parent's bytes when STORED (no copy, no read beyond its own tail and
 * central directory), or a buffer when DEFLATED.  The chain of (CRC, size)
 * of the nested archives being followed detects an archive that contains
 * itself. */
#include "scan.h"

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

#include "tarscan.h"
#include "zip.h"
#include "zipstream.h"

struct scanner {
	const struct rules *rules;
	const struct scan_opts *o;
	struct scan_stats *st;
	struct libdeflate_decompressor *d;
	uint64_t inflated; /* for the current top-level file */
};

void scan_opts_default(struct scan_opts *o)
{
	o->max_depth = 16;
	o->max_nested_bytes = 32ULL << 20;
	o->max_file_inflate = 1024ULL << 20;
	o->max_scan_inflate = 64ULL << 30;
	o->max_class_bytes = 4ULL << 20;
	o->max_cd_bytes = 256ULL << 20;
	o->max_entries = 4000000;
	o->max_dir_classes = 500000;
	o->bytecode_only = false;
	o->want_sha256 = true;
}

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
	return s;
}

void scanner_free(struct scanner *s)
{
	if (!s)
		return;
	libdeflate_free_decompressor(s->d);
	free(s);
}

static struct scan_record *batch_new(struct scan_batch *b)
{
	b->rec = xrealloc(b->rec, (b->n + 1) * sizeof *b->rec);
	struct scan_record *r = &b->rec[b->n++];
	memset(r, 0, sizeof *r);
	return r;
}

void batch_add_error(struct scan_batch *b, const char *path, const char *fmt, ...)
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

void batch_free(struct scan_batch *b)
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
	batch_add_error(b, path, "%s", buf_cstr(&m));
	buf_free(&m);
}

static void count_error(struct scanner *s, struct scan_batch *b, const char *path, const char *msg)
{
	atomic_fetch_add(&s->st->errors, 1);
	batch_add_error(b, path, "%s", msg);
}

bool archive_name(const char *name, size_t len)
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
static void join_entry(struct buf *p, const char *sep, const char *name, size_t len)
{
	buf_adds(p, sep);
	for (size_t i = 0; i < len; i++) {
		if (name[i])
			buf_addc(p, name[i]);
		else
			buf_adds(p, "\\0");
	}
}

void path_join(struct buf *p, const char *name, size_t len)
{
	join_entry(p, "!/", name, len);
}

static void sha256_source(const struct zsrc *src, char out[65])
{
	struct sha256_ctx c;
	unsigned char d[32];
	sha256_init(&c);
	if (src->mem) {
		sha256_update(&c, (size_t)src->size, src->mem);
	} else {
		unsigned char *b = xmalloc(1 << 20);
		for (uint64_t at = 0; at < src->size;) {
			size_t n = src->size - at < (1 << 20) ? (size_t)(src->size - at) : (1 << 20);
			if (zsrc_read(src, b, n, at) < 0) {
				free(b);
				out[0] = 0;
				return;
			}
			sha256_update(&c, n, b);
			at += n;
		}
		free(b);
		/* The one place a large file is read whole (only when it holds a
		 * finding): do not leave it in the page cache at the expense of
		 * the host's own working set.  Pages the JVM has mapped stay. */
		if (src->size > (64u << 20) && src->off == 0)
			posix_fadvise(src->fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	sha256_digest(&c, 32, d);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
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

/* What may still be inflated: the smaller of what is left of this file's
 * budget (--max-inflate) and of the whole scan's (--max-inflate-total). */
static uint64_t inflate_left(const struct scanner *s, const char **which)
{
	uint64_t file = s->o->max_file_inflate > s->inflated ? s->o->max_file_inflate - s->inflated : 0;
	uint64_t done = atomic_load(&s->st->inflated);
	uint64_t scan = s->o->max_scan_inflate > done ? s->o->max_scan_inflate - done : 0;
	*which = file <= scan ? "inflation budget for this file exhausted (--max-inflate)"
			      : "inflation budget for the scan exhausted (--max-inflate-total)";
	return file < scan ? file : scan;
}

static void inflate_charge(struct scanner *s, uint64_t n)
{
	s->inflated += n;
	atomic_fetch_add(&s->st->inflated, n);
}

static bool zv_read(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len,
		    struct buf *err)
{
	struct zip_view *v = ctx;
	const struct zip_entry *e = &v->z->entries[i];
	const char *which;
	if (e->usize > inflate_left(v->s, &which)) {
		buf_adds(err, which);
		return false;
	}
	if (!zip_read(v->z, e, max, v->s->d, out, len, err))
		return false;
	inflate_charge(v->s, *len);
	return true;
}

struct chain {
	const struct chain *up;
	uint32_t crc;
	uint64_t size;
};

/* Is this nested archive one of the archives already being followed (same
 * CRC and size)?  Then it contains itself, like the quine r.zip. */
static bool contains_itself(const struct chain *chain, uint32_t crc, uint64_t size)
{
	for (const struct chain *a = chain; a; a = a->up)
		if (a->crc == crc && a->size == size)
			return true;
	return false;
}

static void emit_findings(struct scanner *s, struct detect_result *res, const char *path,
			  const struct zsrc *src, struct scan_batch *out)
{
	char sha[65] = "";
	if (res->nfindings && src && s->o->want_sha256)
		sha256_source(src, sha);
	for (size_t i = 0; i < res->nfindings; i++) {
		struct scan_record *r = batch_new(out);
		r->kind = REC_FINDING;
		r->f = res->findings[i];
		r->f.path = xstrdup(path);
		memcpy(r->f.sha256, sha, sizeof sha);
		atomic_fetch_add(&s->st->findings[r->f.status], 1);
	}
	/* ownership of the findings moved into the batch */
	free(res->findings);
	res->findings = NULL;
	res->nfindings = 0;
}

/* A top-level file whose name does not claim to be an archive and whose
 * tail only looks like a ZIP end record (a .pyc or an object file embedding
 * zip bytes) is not an archive: report_bad is false for those, so a broken
 * end record there is not an error. */
static enum zip_status scan_archive(struct scanner *s, const struct zsrc *src, struct buf *path,
				    int depth, const struct chain *chain, bool report_bad,
				    struct scan_batch *out);

/* An archive OpenJDK 17 refuses for one entry's fields, whose other
 * entries still reach JVMs (zip.h): scanned, and the refusal reported
 * beside what it holds. */
static void report_refusal(struct scanner *s, struct scan_batch *out, const char *path,
			   const char *why)
{
	struct buf m = BUF_INIT;
	buf_printf(&m, "OpenJDK 17 refuses to open this archive (%s); other readers still read "
		       "its entries, so it was scanned as they read it", why);
	count_error(s, out, path, buf_cstr(&m));
	buf_free(&m);
}

/* ---- nested archives too large for memory: streamed front to back */

struct stream_view {
	struct scanner *s;
	struct stream_result *r;
};

static bool stream_want(const char *name, size_t len, uint64_t *max, void *ctx)
{
	struct stream_view *v = ctx;
	if (archive_name(name, len)) {
		*max = v->s->o->max_nested_bytes;
		return true;
	}
	if (detect_needs_data(v->s->rules, name, len)) {
		*max = v->s->o->max_class_bytes;
		return true;
	}
	*max = 0;
	return detect_wants(name, len); /* the name alone: class presence */
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

static void scan_streamed(struct scanner *s, const struct zip *z, const struct zip_entry *e,
			  struct buf *path, int depth, const struct chain *chain, struct scan_batch *out)
{
	struct stream_result r;
	struct buf err = BUF_INIT;
	struct stream_view v = {s, &r};
	const char *which;
	uint64_t budget = inflate_left(s, &which);
	struct zip_limits lim = {s->o->max_cd_bytes, s->o->max_entries};
	/* the entries that count are the central directory's (zipstream.h); when
	 * it is out of reach, err says so, and what r holds, if anything, is
	 * what the local headers show */
	bool ok = zipstream_read(z, e, budget, &lim, false, stream_want, &v, &r, &err);
	inflate_charge(s, r.bytes);
	atomic_fetch_add(&s->st->archives, 1);
	if (!ok)
		count_error(s, out, buf_cstr(path), buf_cstr(&err));
	else if (r.refused[0])
		report_refusal(s, out, buf_cstr(path), r.refused);
	buf_free(&err);

	struct container c = {r.n, sv_name, sv_read, &v};
	size_t found = scan_container(s, &c, buf_cstr(path), "!/", NULL, out);
	/* Hash only an archive that holds a finding (rare): stream it once more,
	 * keeping nothing but the digest. */
	if (found && s->o->want_sha256 && ok) {
		struct stream_result h;
		struct buf herr = BUF_INIT;
		if (zipstream_read(z, e, budget, &lim, true, stream_nothing, NULL, &h, &herr))
			for (size_t i = out->n - found; i < out->n; i++)
				memcpy(out->rec[i].f.sha256, h.sha256, sizeof h.sha256);
		stream_result_free(&h);
		buf_free(&herr);
	}

	size_t plen = path->len;
	for (size_t i = 0; i < r.n; i++) {
		struct stream_entry *se = &r.entries[i];
		if (!archive_name(se->name, se->name_len))
			continue;
		path_join(path, se->name, se->name_len);
		if (contains_itself(chain, se->crc, se->usize)) {
			count_error(s, out, buf_cstr(path), "archive contains itself (recursive zip); not followed");
		} else if (se->error) {
			count_error(s, out, buf_cstr(path), se->error);
		} else if (depth + 1 > s->o->max_depth) {
			count_error(s, out, buf_cstr(path), "nested deeper than --max-depth; not followed");
		} else if (se->data) {
			struct zsrc child = {.fd = -1, .mem = se->data, .off = 0, .size = se->len};
			struct chain link = {chain, se->crc, se->usize};
			if (scan_archive(s, &child, path, depth + 1, &link, true, out) == ZIP_NOT_ZIP)
				count_error(s, out, buf_cstr(path),
					    "not a readable zip (no end-of-central-directory record)");
		}
		path->len = plen;
		path->data[plen] = 0;
	}
	stream_result_free(&r);
}

static enum zip_status scan_archive(struct scanner *s, const struct zsrc *src, struct buf *path,
				    int depth, const struct chain *chain, bool report_bad,
				    struct scan_batch *out)
{
	struct zip z;
	struct buf err = BUF_INIT;
	struct zip_limits lim = {s->o->max_cd_bytes, s->o->max_entries};
	enum zip_status st = zip_open_quick(&z, src, &lim, !report_bad, &err);
	if (st == ZIP_BAD && report_bad)
		count_error(s, out, buf_cstr(path), buf_cstr(&err));
	buf_free(&err);
	if (st != ZIP_OK)
		return st;
	atomic_fetch_add(&s->st->archives, 1);
	if (z.refused[0])
		report_refusal(s, out, buf_cstr(path), z.refused);

	struct zip_view view = {s, &z};
	struct container c = {z.nentries, zv_name, zv_read, &view};
	scan_container(s, &c, buf_cstr(path), "!/", src, out);

	size_t plen = path->len;
	for (size_t i = 0; i < z.nentries; i++) {
		const struct zip_entry *e = &z.entries[i];
		if (!archive_name(e->name, e->name_len))
			continue;
		path_join(path, e->name, e->name_len);
		const char *p = buf_cstr(path);
		struct buf why = BUF_INIT;
		unsigned char *mem = NULL;
		size_t memlen = 0;
		if (contains_itself(chain, e->crc, e->usize)) {
			count_error(s, out, p, "archive contains itself (recursive zip); not followed");
		} else if (depth + 1 > s->o->max_depth) {
			count_error(s, out, p, "nested deeper than --max-depth; not followed");
		} else if (e->method == 0 && e->csize == e->usize) {
			uint64_t off;
			if (!zip_data_offset(&z, e, &off, &why)) {
				count_error(s, out, p, buf_cstr(&why));
			} else {
				struct zsrc child = *src;
				if (src->mem)
					child.mem = src->mem + off;
				else
					child.off = src->off + off;
				child.size = e->csize;
				struct chain link = {chain, e->crc, e->usize};
				if (scan_archive(s, &child, path, depth + 1, &link, true, out) == ZIP_NOT_ZIP)
					count_error(s, out, buf_cstr(path),
						    "not a readable zip (no end-of-central-directory record)");
			}
		} else if (e->usize > s->o->max_nested_bytes && e->method == 8) {
			scan_streamed(s, &z, e, path, depth + 1, chain, out);
		} else if (zv_read(&view, i, s->o->max_nested_bytes, &mem, &memlen, &why)) {
			struct zsrc child = {.fd = -1, .mem = mem, .off = 0, .size = memlen};
			struct chain link = {chain, e->crc, e->usize};
			if (scan_archive(s, &child, path, depth + 1, &link, true, out) == ZIP_NOT_ZIP)
				count_error(s, out, buf_cstr(path),
					    "not a readable zip (no end-of-central-directory record)");
			free(mem);
		} else {
			count_error(s, out, p, buf_cstr(&why));
		}
		buf_free(&why);
		path->len = plen;
		path->data[plen] = 0;
	}
	zip_close(&z);
	return ZIP_OK;
}

void scan_fd(struct scanner *s, int fd, const struct stat *st, const char *path, bool named_archive,
	     struct scan_batch *out)
{
	atomic_fetch_add(&s->st->files, 1);
	atomic_fetch_add(&s->st->bytes, (unsigned long long)st->st_size);
	s->inflated = 0;
	/* A tarball (plain or compressed) is told by its first bytes, and is
	 * tried before the zip reader: that one accepts trailing junk, so a tar
	 * whose last member is a jar would pass for that jar. */
	unsigned char head[TAR_PROBE_LEN];
	ssize_t hn = pread(fd, head, sizeof head, 0);
	if (hn > 0 && tar_probe(head, (size_t)hn) && tar_scan_fd(s, fd, head, (size_t)hn, path, out))
		return;
	struct zsrc src = {.fd = fd, .mem = NULL, .off = 0, .size = (uint64_t)st->st_size};
	struct buf p = BUF_INIT;
	buf_adds(&p, path);
	if (scan_archive(s, &src, &p, 0, NULL, named_archive, out) == ZIP_NOT_ZIP && named_archive)
		count_error(s, out, path, "not a zip archive (no end-of-central-directory record)");
	buf_free(&p);
}

void scan_mem(struct scanner *s, const unsigned char *data, size_t len, const char *path,
	      bool named_archive, struct scan_batch *out)
{
	atomic_fetch_add(&s->st->files, 1);
	atomic_fetch_add(&s->st->bytes, (unsigned long long)len);
	s->inflated = 0;
	if (tar_probe(data, len) && tar_scan_mem(s, data, len, path, out))
		return;
	struct zsrc src = {.fd = -1, .mem = data, .off = 0, .size = len};
	struct buf p = BUF_INIT;
	buf_adds(&p, path);
	if (scan_archive(s, &src, &p, 0, NULL, named_archive, out) == ZIP_NOT_ZIP && named_archive)
		count_error(s, out, path, "not a zip archive (no end-of-central-directory record)");
	buf_free(&p);
}

void scanner_begin(struct scanner *s, uint64_t bytes)
{
	atomic_fetch_add(&s->st->files, 1);
	atomic_fetch_add(&s->st->bytes, (unsigned long long)bytes);
	s->inflated = 0;
}

const struct scan_opts *scanner_opts(const struct scanner *s)
{
	return s->o;
}

struct scan_stats *scanner_stats(struct scanner *s)
{
	return s->st;
}

bool scanner_charge(struct scanner *s, uint64_t n)
{
	const char *which;
	if (n > inflate_left(s, &which))
		return false;
	inflate_charge(s, n);
	return true;
}

bool scan_mem_nested(struct scanner *s, const unsigned char *data, size_t len, const char *path,
		     int depth, struct scan_batch *out)
{
	struct zsrc src = {.fd = -1, .mem = data, .off = 0, .size = len};
	struct buf p = BUF_INIT;
	buf_adds(&p, path);
	enum zip_status st = scan_archive(s, &src, &p, depth, NULL, true, out);
	buf_free(&p);
	return st != ZIP_NOT_ZIP;
}

static const char *file_type(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a regular file";
}

void scan_path(struct scanner *s, const char *path, bool follow, struct scan_batch *out)
{
	struct stat st;
	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0) {
		count_error(s, out, path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		struct buf m = BUF_INIT;
		buf_printf(&m, "skipped: %s", file_type(st.st_mode));
		count_error(s, out, path, buf_cstr(&m));
		buf_free(&m);
		return;
	}
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		count_error(s, out, path, strerror(errno));
		return;
	}
	struct stat st2;
	if (fstat(fd, &st2) < 0 || !S_ISREG(st2.st_mode) || st2.st_ino != st.st_ino ||
	    st2.st_dev != st.st_dev) {
		count_error(s, out, path, "file changed while being opened; skipped");
		close(fd);
		return;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	scan_fd(s, fd, &st2, path, archive_name(base, strlen(base)), out);
	close(fd);
}

bool scan_regular(struct scanner *s, const char *path, bool follow, struct stat *st,
		  struct scan_batch *out)
{
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		count_error(s, out, path, strerror(errno));
		return false;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		count_error(s, out, path, "no longer a regular file; skipped");
		close(fd);
		return false;
	}
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	scan_fd(s, fd, st, path, archive_name(base, strlen(base)), out);
	close(fd);
	return true;
}

bool is_class_root(int dirfd)
{
	struct stat st;
	if (fstatat(dirfd, "org/apache/logging/log4j/core", &st, 0) == 0 && S_ISDIR(st.st_mode))
		return true;
	return fstatat(dirfd, "org/apache/log4j/Category.class", &st, 0) == 0 && S_ISREG(st.st_mode);
}

/* ---- exploded class directories: the same detector over files on disk */

struct dir_view {
	struct scanner *s;
	const char *dir;
	char **names;
	size_t n;
};

static const char *dv_name(void *ctx, size_t i, size_t *len)
{
	struct dir_view *v = ctx;
	*len = strlen(v->names[i]);
	return v->names[i];
}

static bool dv_read(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len,
		    struct buf *err)
{
	struct dir_view *v = ctx;
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", v->dir, v->names[i]);
	int fd = open(buf_cstr(&p), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	buf_free(&p);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		buf_adds(err, fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return false;
	}
	if ((uint64_t)st.st_size > max) {
		buf_adds(err, "file exceeds the size limit for class files");
		close(fd);
		return false;
	}
	unsigned char *b = xmalloc(st.st_size ? (size_t)st.st_size : 1);
	struct zsrc src = {.fd = fd, .size = (uint64_t)st.st_size};
	bool ok = zsrc_read(&src, b, (size_t)st.st_size, 0) == 0;
	close(fd);
	if (!ok) {
		buf_adds(err, "read error");
		free(b);
		return false;
	}
	*out = b;
	*len = (size_t)st.st_size;
	return true;
}

static void collect(struct scanner *s, struct dir_view *v, struct buf *rel, int depth,
		    struct scan_batch *out)
{
	if (depth > 64 || v->n >= s->o->max_dir_classes)
		return;
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", v->dir, buf_cstr(rel));
	DIR *d = opendir(buf_cstr(&p));
	if (!d) {
		if (errno != ENOENT)
			count_error(s, out, buf_cstr(&p), strerror(errno));
		buf_free(&p);
		return;
	}
	buf_free(&p);
	struct dirent *de;
	size_t rl = rel->len;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		buf_printf(rel, "/%s", de->d_name);
		if (de->d_type == DT_DIR) {
			collect(s, v, rel, depth + 1, out);
		} else if ((de->d_type == DT_REG || de->d_type == DT_UNKNOWN) &&
			   detect_wants(buf_cstr(rel), rel->len)) {
			if (v->n < s->o->max_dir_classes) {
				v->names = xrealloc(v->names, (v->n + 1) * sizeof *v->names);
				v->names[v->n++] = xstrdup(buf_cstr(rel));
			}
		}
		rel->len = rl;
		rel->data[rl] = 0;
	}
	closedir(d);
}

void scan_class_dir(struct scanner *s, const char *dir, struct scan_batch *out)
{
	struct dir_view v = {s, dir, NULL, 0};
	static const char *tops[] = {"org", "META-INF"};
	for (int t = 0; t < 2; t++) {
		struct buf rel = BUF_INIT;
		buf_adds(&rel, tops[t]);
		collect(s, &v, &rel, 0, out);
		buf_free(&rel);
	}
	if (v.n >= s->o->max_dir_classes)
		count_error(s, out, dir, "too many class files in exploded directory; rest not examined");
	struct container c = {v.n, dv_name, dv_read, &v};
	scan_container(s, &c, dir, "/", NULL, out);
	for (size_t i = 0; i < v.n; i++)
		free(v.names[i]);
	free(v.names);
}

size_t scan_container(struct scanner *s, const struct container *c, const char *path,
		      const char *sep, const struct zsrc *src, struct scan_batch *out)
{
	struct detect_opts dopt = {s->o->bytecode_only, s->o->max_class_bytes};
	struct detect_result res;
	detect_run(s->rules, &dopt, c, &res);
	struct buf p = BUF_INIT;
	for (size_t i = 0; i < res.nerrors; i++) {
		size_t len;
		const char *n = c->name(c->ctx, res.errors[i].entry, &len);
		buf_reset(&p);
		buf_adds(&p, path);
		join_entry(&p, sep, n, len);
		count_error(s, out, buf_cstr(&p), res.errors[i].msg);
	}
	buf_free(&p);
	size_t found = res.nfindings;
	emit_findings(s, &res, path, src, out);
	detect_result_free(&res);
	return found;
}
