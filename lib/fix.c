/* fix.c - remove vulnerable Log4j classes from archives in place, with a
 * backup and an undo (see fix.h for the policy and the sequence of steps).
 *
 * A top-level file becomes a tree of `node`s: one per archive that changes
 * (entries dropped from it, or a nested archive inside it that changes).
 * Planning reads the file the way the scanner does - the detector on each
 * archive, nested archives followed as windows onto their parent when
 * STORED or inflated into memory when DEFLATED - and keeps only the
 * branches that change.  Building writes the leaves first into memory and
 * hands each one to its parent as a replacement entry; the root goes to a
 * temporary file beside the original.  Every archive written is checked
 * with zw_verify before its parent uses it, the root again after fsync
 * through a fresh descriptor, and the root is rescanned.
 *
 * The processes holding a file open (for "restart required") are found
 * from /proc/PID/fd and /proc/PID/maps, read once per run. */
#include "fix.h"

#include "procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "tarscan.h"
#include "zip.h"
#include "zipwrite.h"

#define MANIFEST "manifest.tsv"
#define MANIFEST_HEADER "# log4scan backup manifest 1 (see `log4scan restore --help`)\n"

const char *fix_action_name(enum fix_action a)
{
	static const char *n[] = {"nothing", "would-fix", "fixed", "skipped", "failed"};
	return n[a];
}

const char *restore_action_name(enum restore_action a)
{
	static const char *n[] = {"restored", "would-restore", "already-original", "refused", "failed"};
	return n[a];
}

void fix_result_free(struct fix_result *r)
{
	for (size_t i = 0; i < r->nremoved; i++)
		free(r->removed[i]);
	free(r->removed);
	free(r->path);
	free(r->status);
	free(r->backup);
	free(r->message);
	free(r->pids);
	memset(r, 0, sizeof *r);
}

/* ---- which findings, which classes */

static bool targetable(const struct fix_opts *o, enum component comp, const struct rule_cve *cve)
{
	return cve->nmitigated > 0 || (comp == COMP_LOG4J1 && o->fix_log4j1 && cve->nrequires > 0);
}

bool fix_wanted(const struct fix_opts *o, const struct finding *f, struct buf *why)
{
	if (f->status != ST_VULNERABLE)
		return false;
	bool l1 = false;
	for (size_t i = 0; i < f->ncves; i++) {
		if (targetable(o, f->comp, f->cves[i]))
			return true;
		l1 |= f->comp == COMP_LOG4J1 && f->cves[i]->nrequires > 0;
	}
	if (why) {
		if (l1) {
			buf_adds(why, "Log4j 1.x: its classes are removed only with --fix-log4j1");
		} else {
			buf_adds(why, "no class removal mitigates ");
			for (size_t i = 0; i < f->ncves; i++)
				buf_printf(why, "%s%s", i ? ", " : "", f->cves[i]->id);
			if (f->fixed_in[0])
				buf_printf(why, "; upgrade to %s", f->fixed_in);
		}
	}
	return false;
}

char *fix_top_path(const char *p)
{
	struct stat st;
	for (const char *s = strstr(p, "!/"); s; s = strstr(s + 1, "!/")) {
		char *cand = xstrndup(p, (size_t)(s - p));
		if (lstat(cand, &st) == 0 && S_ISREG(st.st_mode))
			return cand;
		free(cand);
	}
	if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
		return xstrdup(p);
	return NULL;
}

/* Count (and mark in drop, when not NULL) the entries that are class `cls`
 * under `root`; a trailing '/' names a whole package: every entry below it. */
static size_t match_class(const struct zip *z, const char *root, const char *cls, bool *drop)
{
	size_t rl = strlen(root), cl = strlen(cls), n = 0;
	bool pkg = cl && cls[cl - 1] == '/';
	for (size_t i = 0; i < z->nentries; i++) {
		const struct zip_entry *e = &z->entries[i];
		if (e->name_len < rl + cl || memcmp(e->name, root, rl) || memcmp(e->name + rl, cls, cl))
			continue;
		if (!pkg && class_stem(e->name, e->name_len) != rl + cl)
			continue;
		if (drop && !drop[i])
			drop[i] = true, n++;
		else if (!drop)
			n++;
	}
	return n;
}

/* ---- the fixer */

#ifndef _WIN32
struct holder {
	dev_t dev;
	ino_t ino;
	long pid;
};
#endif

struct fixer {
	struct fix_opts o;
	struct libdeflate_decompressor *d;
	int bdir, mfd;
	unsigned seq;
	struct holder *holders;
	size_t nholders;
	bool holders_read;
};

/* Path separators: '/', and also '\' on Windows (L4S_PATH_SEP, buf.h). */
static bool is_sep(char c)
{
	return c == '/' || c == L4S_PATH_SEP;
}

static const char *last_sep(const char *p)
{
	const char *s = NULL;
	for (; *p; p++)
		if (is_sep(*p))
			s = p;
	return s;
}

static bool mkdir_p(const char *path, struct buf *err)
{
	char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (!is_sep(*s) && *s)
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			buf_printf(err, "cannot create %s: %s", p, strerror(errno));
			free(p);
			return false;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return true;
}

static bool write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t r = write(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (!r)
				errno = EIO;
			return false;
		}
		c += r;
		n -= (size_t)r;
	}
	return true;
}

static int open_manifest(int bdir, int flags, struct buf *err)
{
	int fd = openat(bdir, MANIFEST, flags | O_CLOEXEC, 0600);
	if (fd < 0) {
		buf_printf(err, "cannot open the backup manifest: %s", strerror(errno));
		return -1;
	}
	return fd;
}

struct fixer *fixer_new(const struct fix_opts *o, struct buf *err)
{
	struct fixer *fx = xcalloc(1, sizeof *fx);
	fx->o = *o;
	fx->bdir = fx->mfd = -1;
	fx->d = libdeflate_alloc_decompressor();
	if (!fx->d) {
		buf_adds(err, "cannot allocate a decompressor");
		free(fx);
		return NULL;
	}
	if (o->dry_run)
		return fx;
	if (!o->backup_dir || !*o->backup_dir) {
		buf_adds(err, "no backup directory");
		goto fail;
	}
	if (!mkdir_p(o->backup_dir, err)) {
		buf_adds(err, " (for the backup directory)");
		goto fail;
	}
	fx->bdir = open(o->backup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->bdir < 0) {
		buf_printf(err, "cannot open backup directory %s: %s", o->backup_dir, strerror(errno));
		goto fail;
	}
	/* Prove that backups can be written before anything is changed. */
	char probe[64];
	snprintf(probe, sizeof probe, ".probe-%ld", (long)getpid());
	int pfd = openat(fx->bdir, probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (pfd < 0) {
		buf_printf(err, "cannot write in backup directory %s: %s", o->backup_dir, strerror(errno));
		goto fail;
	}
	close(pfd);
	unlinkat(fx->bdir, probe, 0);
	fx->mfd = open_manifest(fx->bdir, O_RDWR | O_APPEND | O_CREAT, err);
	if (fx->mfd < 0)
		goto fail;
	struct stat st;
	flock(fx->mfd, LOCK_EX);
	if (fstat(fx->mfd, &st) == 0 && st.st_size == 0 &&
	    (!write_all(fx->mfd, MANIFEST_HEADER, strlen(MANIFEST_HEADER)) || fsync(fx->mfd) < 0)) {
		buf_printf(err, "cannot write the backup manifest: %s", strerror(errno));
		flock(fx->mfd, LOCK_UN);
		goto fail;
	}
	flock(fx->mfd, LOCK_UN);
	return fx;
fail:
	fixer_free(fx);
	return NULL;
}

void fixer_free(struct fixer *fx)
{
	if (!fx)
		return;
	libdeflate_free_decompressor(fx->d);
	if (fx->bdir >= 0)
		close(fx->bdir);
	if (fx->mfd >= 0)
		close(fx->mfd);
	free(fx->holders);
	free(fx);
}

/* ---- planning */

struct target {
	char *path; /* the archive holding the finding, as the scanner names it */
	char *root;
	enum component comp;
	const struct rule_cve *cves[MAX_CVES];
	size_t ncves;
};

struct node;
struct kid {
	size_t index;
	struct node *n;
};

struct node {
	struct zip z;
	unsigned char *own; /* the bytes z reads, when inflated */
	bool *drop;
	size_t ndrop;
	struct kid *kids;
	size_t nkids;
	char *path;
	char *signer;       /* the META-INF/NAME.SF entry of a signed archive */
	struct buf out;     /* built (nested archives) */
	struct zw_replace *rep;
	struct zw_edit ed;
};

struct plan {
	struct fixer *fx;
	uint64_t inflated;
	struct target *t;
	size_t nt;
	char **removed;
	size_t nremoved;
	struct buf err;
	bool not_zip;       /* the top-level file is not a zip (a tar, an image) */
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i].n);
	zip_close(&n->z);
	free(n->own);
	free(n->drop);
	free(n->kids);
	free(n->path);
	free(n->signer);
	buf_free(&n->out);
	free(n->rep);
	free(n);
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nt; i++) {
		free(p->t[i].path);
		free(p->t[i].root);
	}
	free(p->t);
	for (size_t i = 0; i < p->nremoved; i++)
		free(p->removed[i]);
	free(p->removed);
	buf_free(&p->err);
}

struct zview {
	struct plan *p;
	struct zip *z;
};

static const char *zv_name(void *ctx, size_t i, size_t *len)
{
	struct zview *v = ctx;
	*len = v->z->entries[i].name_len;
	return v->z->entries[i].name;
}

static bool zv_read(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len,
		    struct buf *err)
{
	struct zview *v = ctx;
	const struct zip_entry *e = &v->z->entries[i];
	if (v->p->inflated + e->usize > v->p->fx->o.so->max_file_inflate) {
		buf_adds(err, "inflation budget for this file exhausted (--max-inflate)");
		return false;
	}
	if (!zip_read(v->z, e, max, v->p->fx->d, out, len, err))
		return false;
	v->p->inflated += *len;
	return true;
}

static void path_cut(struct buf *p, size_t len)
{
	p->len = len;
	if (p->data)
		p->data[len] = 0;
}

static char *find_signer(const struct zip *z)
{
	for (size_t i = 0; i < z->nentries; i++) {
		const struct zip_entry *e = &z->entries[i];
		if (e->name_len > 12 && !strncasecmp(e->name, "META-INF/", 9) &&
		    !memchr(e->name + 9, '/', e->name_len - 9) &&
		    !strncasecmp(e->name + e->name_len - 3, ".SF", 3))
			return xstrndup(e->name, e->name_len);
	}
	return NULL;
}

struct chain {
	const struct chain *up;
	uint32_t crc;
	uint64_t size;
};

static struct node *plan_archive(struct plan *p, const struct zsrc *src, struct buf *path, int depth,
				 const struct chain *chain)
{
	const struct fix_opts *o = &p->fx->o;
	struct zip z;
	struct buf e = BUF_INIT;
	struct zip_limits lim = {o->so->max_cd_bytes, o->so->max_entries};
	enum zip_status st = zip_open(&z, src, &lim, &e);
	if (st != ZIP_OK) {
		if (!depth && st == ZIP_NOT_ZIP)
			p->not_zip = true;
		else if (!depth)
			buf_printf(&p->err, "not a readable archive: %s", buf_cstr(&e));
		buf_free(&e);
		return NULL;
	}
	buf_free(&e);
	struct zview v = {p, &z};
	struct container c = {z.nentries, zv_name, zv_read, &v};
	struct detect_opts dopt = {o->so->bytecode_only, o->so->max_class_bytes};
	struct detect_result res;
	detect_run(o->rules, &dopt, &c, &res);
	bool *drop = xcalloc(z.nentries ? z.nentries : 1, sizeof *drop);
	size_t ndrop = 0;
	for (size_t i = 0; i < res.nfindings; i++) {
		const struct finding *f = &res.findings[i];
		if (!fix_wanted(o, f, NULL))
			continue;
		p->t = xrealloc(p->t, (p->nt + 1) * sizeof *p->t);
		struct target *t = &p->t[p->nt++];
		memset(t, 0, sizeof *t);
		t->path = xstrdup(buf_cstr(path));
		t->root = xstrdup(f->root ? f->root : "");
		t->comp = f->comp;
		for (size_t k = 0; k < f->ncves; k++) {
			const struct rule_cve *cve = f->cves[k];
			if (!targetable(o, f->comp, cve))
				continue;
			if (cve->nmitigated) {
				/* Any one absent class mitigates it: remove the first present. */
				for (size_t m = 0; m < cve->nmitigated; m++)
					if (match_class(&z, t->root, cve->mitigated_if_absent[m], NULL)) {
						ndrop += match_class(&z, t->root, cve->mitigated_if_absent[m], drop);
						break;
					}
			} else {
				/* Log4j 1.x: the CVE applies only while one of these is present. */
				for (size_t m = 0; m < cve->nrequires; m++)
					ndrop += match_class(&z, t->root, cve->requires_class[m], drop);
			}
			t->cves[t->ncves++] = cve;
		}
	}
	detect_result_free(&res);

	size_t plen = path->len;
	struct kid *kids = NULL;
	size_t nkids = 0;
	for (size_t i = 0; i < z.nentries; i++) {
		const struct zip_entry *en = &z.entries[i];
		if (drop[i] || !archive_name(en->name, en->name_len))
			continue;
		bool self = false;
		for (const struct chain *a = chain; a && !self; a = a->up)
			self = a->crc == en->crc && a->size == en->usize;
		if (self || depth + 1 > o->so->max_depth)
			continue;
		struct zsrc child;
		unsigned char *mem = NULL;
		size_t memlen = 0;
		struct buf why = BUF_INIT;
		uint64_t off;
		if (en->method == 0 && en->csize == en->usize) {
			if (!zip_data_offset(&z, en, &off, &why)) {
				buf_free(&why);
				continue;
			}
			child = *src;
			if (src->mem)
				child.mem = src->mem + off;
			else
				child.off = src->off + off;
			child.size = en->csize;
		} else if (en->usize <= o->so->max_nested_bytes &&
			   zv_read(&v, i, o->so->max_nested_bytes, &mem, &memlen, &why)) {
			child = (struct zsrc){.fd = -1, .mem = mem, .off = 0, .size = memlen};
		} else {
			buf_free(&why);
			continue;
		}
		buf_free(&why);
		path_join(path, en->name, en->name_len);
		struct chain link = {chain, en->crc, en->usize};
		struct node *k = plan_archive(p, &child, path, depth + 1, &link);
		path_cut(path, plen);
		if (k) {
			k->own = mem;
			kids = xrealloc(kids, (nkids + 1) * sizeof *kids);
			kids[nkids++] = (struct kid){i, k};
		} else {
			free(mem);
		}
	}
	if (!ndrop && !nkids) {
		zip_close(&z);
		free(drop);
		return NULL;
	}
	for (size_t i = 0; i < z.nentries; i++) {
		if (!drop[i])
			continue;
		struct buf r = BUF_INIT;
		buf_add(&r, path->data, plen);
		path_join(&r, z.entries[i].name, z.entries[i].name_len);
		p->removed = xrealloc(p->removed, (p->nremoved + 1) * sizeof *p->removed);
		p->removed[p->nremoved++] = buf_detach(&r);
	}
	struct node *n = xcalloc(1, sizeof *n);
	n->z = z;
	n->drop = drop;
	n->ndrop = ndrop;
	n->kids = kids;
	n->nkids = nkids;
	n->path = xstrdup(buf_cstr(path));
	n->signer = find_signer(&n->z);
	return n;
}

/* The first signed archive that changes, or NULL. */
static const struct node *signed_node(const struct node *n)
{
	if (n->signer)
		return n;
	for (size_t i = 0; i < n->nkids; i++) {
		const struct node *s = signed_node(n->kids[i].n);
		if (s)
			return s;
	}
	return NULL;
}

/* ---- building */

static bool build(struct node *n, struct zw_sink *s, struct buf *err)
{
	n->rep = xcalloc(n->nkids ? n->nkids : 1, sizeof *n->rep);
	for (size_t i = 0; i < n->nkids; i++) {
		struct node *k = n->kids[i].n;
		struct zw_sink ks;
		zw_sink_mem(&ks, &k->out);
		bool ok = build(k, &ks, err);
		zw_sink_finish(&ks);
		if (!ok)
			return false;
		struct zsrc ms = {.fd = -1, .mem = (const unsigned char *)k->out.data, .off = 0,
				  .size = k->out.len};
		struct buf why = BUF_INIT;
		if (!zw_verify(&k->z, &k->ed, &ms, &why)) {
			buf_printf(err, "%s: %s", k->path, buf_cstr(&why));
			buf_free(&why);
			return false;
		}
		buf_free(&why);
		n->rep[i] = (struct zw_replace){n->kids[i].index, ms.mem, k->out.len};
	}
	n->ed = (struct zw_edit){n->drop, n->rep, n->nkids, 0};
	struct buf why = BUF_INIT;
	bool ok = zw_write(&n->z, &n->ed, s, &why);
	if (!ok)
		buf_printf(err, "%s: %s", n->path, buf_cstr(&why));
	buf_free(&why);
	return ok;
}

/* ---- helpers on files */

static bool sha256_fd(int fd, char out[65])
{
	struct sha256_ctx c;
	unsigned char d[32];
	unsigned char *b = xmalloc(1 << 20);
	sha256_init(&c);
	off_t at = 0;
	bool ok = true;
	for (;;) {
		ssize_t r = pread(fd, b, 1 << 20, at);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ok = false;
			break;
		}
		if (!r)
			break;
		sha256_update(&c, (size_t)r, b);
		at += r;
	}
	free(b);
	sha256_digest(&c, 32, d);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return ok;
}

/* Copy all of src (from offset 0) to dst (at its current position). */
static bool copy_fd(int src, int dst)
{
	unsigned char *b = xmalloc(1 << 20);
	off_t at = 0;
	bool ok = true;
	for (;;) {
		ssize_t r = pread(src, b, 1 << 20, at);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ok = r == 0;
			break;
		}
		if (!write_all(dst, b, (size_t)r)) {
			ok = false;
			break;
		}
		at += r;
	}
	int e = errno;
	free(b);
	errno = e;
	return ok;
}

/* Extended attributes (ACLs, SELinux label, capabilities) of src onto dst;
 * the names that could not be kept are listed in note. */
static void copy_xattrs(int src, int dst, struct buf *note)
{
	ssize_t n = flistxattr(src, NULL, 0);
	if (n <= 0)
		return;
	char *names = xmalloc((size_t)n);
	n = flistxattr(src, names, (size_t)n);
	for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
		const char *nm = names + i;
		ssize_t vl = fgetxattr(src, nm, NULL, 0);
		if (vl < 0)
			continue;
		char *v = xmalloc(vl ? (size_t)vl : 1);
		vl = fgetxattr(src, nm, v, (size_t)vl);
		if (vl >= 0 && fsetxattr(dst, nm, v, (size_t)vl, 0) < 0)
			buf_printf(note, "%sextended attribute %s not kept: %s", note->len ? "; " : "", nm,
				   strerror(errno));
		free(v);
	}
	free(names);
}

/* A new file in directory dfd: unnamed (O_TMPFILE) when the filesystem
 * allows, so that nothing is left behind if the process dies; else a
 * dot-named one (*named set, name in tmpname). */
static int make_temp(int dfd, const char *tmpname, bool *named)
{
	*named = false;
	int fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOENT))
		return fd;
	*named = true;
	return openat(dfd, tmpname, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
}

/* Give an unnamed temporary file the name tmpname, then rename it over
 * base; for a named one just the rename. */
static bool install(int tfd, bool named, int dfd, const char *tmpname, const char *base)
{
	if (!named) {
		char proc[64];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", tfd);
		if (linkat(AT_FDCWD, proc, dfd, tmpname, AT_SYMLINK_FOLLOW) < 0 &&
		    linkat(tfd, "", dfd, tmpname, AT_EMPTY_PATH) < 0)
			return false;
	}
	if (renameat(dfd, tmpname, dfd, base) < 0) {
		int e = errno;
		unlinkat(dfd, tmpname, 0);
		errno = e;
		return false;
	}
	return fsync(dfd) == 0;
}

static void split_path(const char *path, char **dir, const char **base)
{
	const char *sl = last_sep(path);
	if (!sl) {
		*dir = xstrdup(".");
		*base = path;
	} else {
		/* "/x" -> "/", and on Windows "C:\x" -> "C:\" ("C:" alone is the
		 * drive's current directory) */
		*dir = sl == path || sl[-1] == ':' ? xstrndup(path, (size_t)(sl - path) + 1)
						   : xstrndup(path, (size_t)(sl - path));
		*base = sl + 1;
	}
}

/* Reopen a file through /proc so that what is checked is what the kernel
 * gives a new reader, not our write descriptor; falls back to a dup. */
static int reopen(int fd)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int r = open(proc, O_RDONLY | O_CLOEXEC);
	return r >= 0 ? r : dup(fd);
}

/* ---- backup manifest */

static void esc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\')
			buf_adds(b, "\\\\");
		else if (c == '\t')
			buf_adds(b, "\\t");
		else if (c == '\n')
			buf_adds(b, "\\n");
		else if (c == '\r')
			buf_adds(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_addc(b, (char)c);
	}
}

static char *unesc(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			buf_addc(&b, s[i]);
			continue;
		}
		char c = s[++i];
		if (c == 't')
			buf_addc(&b, '\t');
		else if (c == 'n')
			buf_addc(&b, '\n');
		else if (c == 'r')
			buf_addc(&b, '\r');
		else if (c == 'x' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
			 isxdigit((unsigned char)s[i + 2])) {
			char h[3] = {s[i + 1], s[i + 2], 0};
			buf_addc(&b, (char)strtol(h, NULL, 16));
			i += 2;
		} else
			buf_addc(&b, c);
	}
	if (!b.len)
		return xstrdup("");
	return buf_detach(&b);
}

static bool manifest_append(int mfd, const char *line, struct buf *err)
{
	flock(mfd, LOCK_EX);
	/* A line cut short by a crash is ended first, so it cannot swallow
	 * this one (restore ignores it: too few fields). */
	struct stat st;
	char last = '\n';
	if (fstat(mfd, &st) == 0 && st.st_size > 0 && pread(mfd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	bool ok = (last == '\n' || write_all(mfd, "\n", 1)) && write_all(mfd, line, strlen(line)) &&
		  fsync(mfd) == 0;
	if (!ok)
		buf_printf(err, "cannot write the backup manifest: %s", strerror(errno));
	flock(mfd, LOCK_UN);
	return ok;
}

static void mark_line(int mfd, const char *what, const char *id)
{
	struct buf l = BUF_INIT, e = BUF_INIT;
	buf_printf(&l, "%s\t", what);
	esc(&l, id);
	buf_printf(&l, "\t%lld\n", (long long)time(NULL));
	manifest_append(mfd, buf_cstr(&l), &e);
	buf_free(&l);
	buf_free(&e);
}

/* Back up the file open as fd: a hard link to the same inode when the
 * backup directory is on the same filesystem, else a verified copy. */
static bool backup(struct fixer *fx, int fd, const struct stat *st, const char *path,
		   const char *sha_o, const char *sha_n, char *id, size_t idlen, struct buf *err)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	const char *base = last_sep(path);
	base = base ? base + 1 : path;
	int k = snprintf(id, idlen, "%s-%ld-%u-", stamp, (long)getpid(), fx->seq);
	for (size_t i = 0; base[i] && (size_t)k + 1 < idlen && i < 100; i++, k++)
		id[k] = isalnum((unsigned char)base[i]) || strchr("._-+", base[i]) ? base[i] : '_';
	id[k] = 0;

	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, fx->bdir, id, AT_SYMLINK_FOLLOW) < 0) {
		int bfd = openat(fx->bdir, id, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		if (bfd < 0) {
			buf_printf(err, "cannot write the backup: %s", strerror(errno));
			return false;
		}
		char sha_b[65];
		bool ok = copy_fd(fd, bfd) && fsync(bfd) == 0;
		int e = errno;
		close(bfd);
		if (ok) {
			bfd = openat(fx->bdir, id, O_RDONLY | O_CLOEXEC);
			ok = bfd >= 0 && sha256_fd(bfd, sha_b) && !strcmp(sha_b, sha_o);
			e = ok ? 0 : errno ? errno : EIO;
			if (bfd >= 0)
				close(bfd);
		}
		if (!ok) {
			unlinkat(fx->bdir, id, 0);
			buf_printf(err, "cannot write the backup: %s", strerror(e));
			return false;
		}
	}
	if (fsync(fx->bdir) < 0) {
		buf_printf(err, "cannot sync the backup directory: %s", strerror(errno));
		unlinkat(fx->bdir, id, 0);
		return false;
	}
	struct buf l = BUF_INIT;
	buf_adds(&l, "fix\t");
	esc(&l, id);
	buf_printf(&l, "\t%lld\t", (long long)now);
	esc(&l, path);
	buf_addc(&l, '\t');
	esc(&l, id);
	buf_printf(&l, "\t%s\t%s\t%lu\t%lu\t%o\t%lld\t%ld\n", sha_o, sha_n, (unsigned long)st->st_uid,
		   (unsigned long)st->st_gid, (unsigned)(st->st_mode & 07777),
		   (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
	bool ok = manifest_append(fx->mfd, buf_cstr(&l), err);
	buf_free(&l);
	if (!ok)
		unlinkat(fx->bdir, id, 0);
	return ok;
}

/* ---- processes holding files */

#ifdef _WIN32
/* Windows: the Restart Manager is asked about this one file
 * (lib/win32/fix_holders.c); who gets the processes described. */
void fix_holders_win32(const char *path, long **pids, size_t *npids, struct buf *who);

static void holders_of(struct fixer *fx, const struct stat *st, const char *path, struct fix_result *res,
		       struct buf *who)
{
	(void)fx, (void)st;
	fix_holders_win32(path, &res->pids, &res->npids, who);
}
#else

static int holder_cmp(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void add_holder(struct fixer *fx, dev_t dev, ino_t ino, long pid, size_t *cap)
{
	if (fx->nholders == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		fx->holders = xrealloc(fx->holders, *cap * sizeof *fx->holders);
	}
	fx->holders[fx->nholders++] = (struct holder){dev, ino, pid};
}

/* Which processes hold which files: their fd directories and maps, read
 * through lib/procfs.c, the one audited opener of /proc paths. */
static void read_holders(struct fixer *fx)
{
	fx->holders_read = true;
	long *pids = NULL;
	long n = procfs_list_pids(&pids);
	size_t cap = 0;
	long self = (long)getpid();
	for (long i = 0; i < n; i++) {
		long pid = pids[i];
		if (pid == self)
			continue;
		DIR *fd = procfs_opendir(pid, "fd");
		if (fd) {
			struct dirent *f;
			struct stat st;
			while ((f = readdir(fd)))
				if (f->d_name[0] != '.' && fstatat(dirfd(fd), f->d_name, &st, 0) == 0 &&
				    S_ISREG(st.st_mode))
					add_holder(fx, st.st_dev, st.st_ino, pid, &cap);
			closedir(fd);
		}
		char *maps = NULL;
		if (procfs_read(pid, "maps", 16u << 20, &maps) > 0) {
			for (char *line = maps; line && *line;) {
				char *nl = strchr(line, '\n');
				if (nl)
					*nl = 0;
				unsigned maj, min;
				unsigned long long ino;
				if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 && ino)
					add_holder(fx, makedev(maj, min), (ino_t)ino, pid, &cap);
				line = nl ? nl + 1 : NULL;
			}
		}
		free(maps);
	}
	free(pids);
	if (fx->nholders)
		qsort(fx->holders, fx->nholders, sizeof *fx->holders, holder_cmp);
}

static void holders_of(struct fixer *fx, const struct stat *st, const char *path, struct fix_result *res,
		       struct buf *who)
{
	if (!fx->holders_read)
		read_holders(fx);
	for (size_t i = 0; i < fx->nholders; i++) {
		const struct holder *h = &fx->holders[i];
		if (h->dev != st->st_dev || h->ino != st->st_ino)
			continue;
		if (res->npids && res->pids[res->npids - 1] == h->pid)
			continue;
		res->pids = xrealloc(res->pids, (res->npids + 1) * sizeof *res->pids);
		res->pids[res->npids++] = h->pid;
	}
}
#endif

/* ---- verification by rescanning */

static bool rescan(struct fixer *fx, int fd, const struct stat *st, const char *path,
		   const struct plan *p, struct fix_result *res, struct buf *err)
{
	struct scan_stats stats;
	memset(&stats, 0, sizeof stats);
	struct scan_opts so = *fx->o.so;
	so.want_sha256 = false;
	struct scanner *sc = scanner_new(fx->o.rules, &so, &stats);
	if (!sc) {
		buf_adds(err, "cannot allocate a scanner");
		return false;
	}
	struct scan_batch b = {0};
	scan_fd(sc, fd, st, path, true, &b);
	scanner_free(sc);
	bool ok = true;
	enum status worst = ST_SAFE;
	for (size_t t = 0; t < p->nt && ok; t++) {
		const struct target *tg = &p->t[t];
		bool found = false;
		for (size_t i = 0; i < b.n && ok; i++) {
			const struct finding *f = &b.rec[i].f;
			if (b.rec[i].kind != REC_FINDING || f->comp != tg->comp || strcmp(f->path, tg->path) ||
			    strcmp(f->root ? f->root : "", tg->root))
				continue;
			found = true;
			if (f->status > worst)
				worst = f->status;
			for (size_t c = 0; c < f->ncves && ok; c++)
				for (size_t k = 0; k < tg->ncves && ok; k++)
					if (f->cves[c] == tg->cves[k]) {
						buf_printf(err, "rescan: %s is still affected by %s", tg->path,
							   tg->cves[k]->id);
						ok = false;
					}
		}
		if (!found && ok) {
			buf_printf(err, "rescan: the fixed copy no longer shows the %s finding at %s",
				   component_name(tg->comp), tg->path);
			ok = false;
		}
	}
	batch_free(&b);
	if (ok)
		res->status = xstrdup(status_name(worst));
	return ok;
}

/* ---- one file */

static void set_msg(struct fix_result *res, enum fix_action a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_msg(struct fix_result *res, enum fix_action a, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	if (res->message)
		buf_printf(&b, "%s; ", res->message);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(res->message);
	res->message = buf_detach(&b);
	res->action = a;
}

static const char *errtext(int e)
{
	if (e == EROFS)
		return "read-only filesystem";
	return strerror(e);
}

/* Write, verify, back up and install the planned rewrite of the file open
 * as fd (stat st) at path. */
static void apply(struct fixer *fx, struct plan *p, struct node *top, int dfd, const char *dir,
		  const char *base, int fd, const struct stat *st, const char *path, const char *abs,
		  struct fix_result *res)
{
	char tmpname[64], id[256] = "";
	snprintf(tmpname, sizeof tmpname, ".l4s-fix-%ld-%u.tmp", (long)getpid(), ++fx->seq);
	int tfd = -1, vfd = -1;
	bool named = false, backed_up = false;
	struct buf err = BUF_INIT, note = BUF_INIT, who = BUF_INIT;
	tfd = make_temp(dfd, tmpname, &named);
	if (tfd < 0) {
		set_msg(res, FIX_FAILED, "cannot create the fixed copy in %s: %s; original untouched", dir,
			errtext(errno));
		goto out;
	}
	struct zw_sink s;
	zw_sink_fd(&s, tfd);
	bool ok = build(top, &s, &err);
	int werr = s.err;
	zw_sink_finish(&s);
	if (!ok || werr) {
		if (werr)
			set_msg(res, FIX_FAILED, "cannot write the fixed copy: %s; original untouched",
				errtext(werr));
		else
			set_msg(res, FIX_FAILED, "%s; original untouched", buf_cstr(&err));
		goto out;
	}
	/* Owner first (it clears set-id bits), then mode, attributes, times. */
	if (fchown(tfd, st->st_uid, st->st_gid) < 0) {
		set_msg(res, FIX_FAILED, "cannot give the fixed copy the original's owner: %s; original untouched",
			strerror(errno));
		goto out;
	}
	if (fchmod(tfd, st->st_mode & 07777) < 0) {
		set_msg(res, FIX_FAILED, "cannot set the mode of the fixed copy: %s; original untouched",
			strerror(errno));
		goto out;
	}
	copy_xattrs(fd, tfd, &note);
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (!fx->o.keep_mtime)
		ts[1].tv_nsec = UTIME_NOW;
	if (futimens(tfd, ts) < 0 || fsync(tfd) < 0) {
		set_msg(res, FIX_FAILED, "cannot write the fixed copy: %s; original untouched", errtext(errno));
		goto out;
	}

	/* Check what a new reader of the file sees. */
	vfd = reopen(tfd);
	struct stat vst;
	if (vfd < 0 || fstat(vfd, &vst) < 0) {
		set_msg(res, FIX_FAILED, "cannot reopen the fixed copy: %s; original untouched", strerror(errno));
		goto out;
	}
	struct zsrc vs = {.fd = vfd, .mem = NULL, .off = 0, .size = (uint64_t)vst.st_size};
	if (!zw_verify(&top->z, &top->ed, &vs, &err) || !rescan(fx, vfd, &vst, path, p, res, &err)) {
		set_msg(res, FIX_FAILED, "the fixed copy failed verification (%s); original untouched",
			buf_cstr(&err));
		goto out;
	}
	char sha_o[65], sha_n[65];
	if (!sha256_fd(fd, sha_o) || !sha256_fd(vfd, sha_n)) {
		set_msg(res, FIX_FAILED, "read error while hashing: %s; original untouched", strerror(errno));
		goto out;
	}
	holders_of(fx, st, path, res, &who);

	if (!backup(fx, fd, st, abs, sha_o, sha_n, id, sizeof id, &err)) {
		set_msg(res, FIX_FAILED, "%s; original untouched", buf_cstr(&err));
		goto out;
	}
	backed_up = true;
	struct stat now;
	if (fstatat(dfd, base, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_dev != st->st_dev ||
	    now.st_ino != st->st_ino || now.st_size != st->st_size ||
	    now.st_mtim.tv_sec != st->st_mtim.tv_sec || now.st_mtim.tv_nsec != st->st_mtim.tv_nsec) {
		set_msg(res, FIX_FAILED, "the file changed while it was being fixed; not replaced");
		goto out;
	}
	if (!install(tfd, named, dfd, tmpname, base)) {
#ifdef _WIN32
		/* Windows: a file a running program holds open (a JVM's jar) cannot
		 * be replaced, and is never forced. */
		if (errno == EBUSY)
			set_msg(res, FIX_SKIPPED, "in use by %s: not replaced, original untouched; restart "
				"required: stop it, then run fix again", who.len ? buf_cstr(&who) : "another process");
		else
#endif
			set_msg(res, FIX_FAILED, "cannot replace the original: %s; original untouched",
				errtext(errno));
		goto out;
	}
	named = false; /* the temporary name is gone */
	backed_up = false;
	struct buf bp = BUF_INIT;
	buf_printf(&bp, "%s%c%s", fx->o.backup_dir, L4S_PATH_SEP, id);
	res->backup = buf_detach(&bp);
	res->action = FIX_FIXED;
	if (st->st_nlink > 1)
		set_msg(res, FIX_FIXED, "the original had %lu hard links: the other names still hold the old copy",
			(unsigned long)st->st_nlink);
	if (note.len)
		set_msg(res, FIX_FIXED, "%s", buf_cstr(&note));
out:
	if (backed_up) {
		/* Not replaced: the backup and its record are withdrawn. */
		unlinkat(fx->bdir, id, 0);
		mark_line(fx->mfd, "abandoned", id);
	}
	if (named && tfd >= 0)
		unlinkat(dfd, tmpname, 0);
	if (vfd >= 0)
		close(vfd);
	if (tfd >= 0)
		close(tfd);
	if (res->action == FIX_FAILED) {
		free(res->pids);
		res->pids = NULL;
		res->npids = 0;
	}
	buf_free(&err);
	buf_free(&note);
	buf_free(&who);
}

/* The path with its directory made absolute (symbolic links in the
 * directory resolved, the file name itself kept), so that the manifest
 * names the file whatever the working directory of `restore`. */
static char *absolute(const char *path)
{
	char *dir;
	const char *base;
	split_path(path, &dir, &base);
	char *real = realpath(dir, NULL);
	free(dir);
	if (!real)
		return xstrdup(path);
	struct buf b = BUF_INIT;
	size_t rl = strlen(real);
	buf_printf(&b, "%s%s%s", real, rl && is_sep(real[rl - 1]) ? "" : (char[]){L4S_PATH_SEP, 0}, base);
	free(real);
	return buf_detach(&b);
}

void fix_file(struct fixer *fx, const char *path, struct fix_result *res)
{
	memset(res, 0, sizeof *res);
	res->path = xstrdup(path);
	/* The directory first, then the file in it: the name that is replaced
	 * is the one in the directory that was read, whatever happens to the
	 * path's other components meanwhile. */
	char *dir;
	const char *base;
	split_path(path, &dir, &base);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = -1;
	struct stat st;
	if (dfd < 0 || (fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) < 0) {
		set_msg(res, FIX_FAILED, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		if (dfd >= 0)
			close(dfd);
		free(dir);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		set_msg(res, FIX_FAILED, "not a regular file");
		close(fd);
		close(dfd);
		free(dir);
		return;
	}
	struct stat bst, dst;
	if (fx->bdir >= 0 && fstat(fx->bdir, &bst) == 0 && fstat(dfd, &dst) == 0 && bst.st_dev == dst.st_dev &&
	    bst.st_ino == dst.st_ino) {
		set_msg(res, FIX_NOTHING, "an original kept in the backup directory; left alone");
		close(fd);
		close(dfd);
		free(dir);
		return;
	}
	char *abs = absolute(path);
	struct plan p = {.fx = fx};
	/* The scanner reads a tarball as a tarball even when its last member is
	 * a jar whose end record sits in the tar's tail; so does the fixer. */
	unsigned char head[TAR_PROBE_LEN];
	ssize_t hn = pread(fd, head, sizeof head, 0);
	p.not_zip = hn > 0 && tar_probe(head, (size_t)hn);
	struct zsrc src = {.fd = fd, .mem = NULL, .off = 0, .size = (uint64_t)st.st_size};
	struct buf pb = BUF_INIT;
	buf_adds(&pb, path);
	struct node *top = p.not_zip ? NULL : plan_archive(&p, &src, &pb, 0, NULL);
	buf_free(&pb);
	if (!top) {
		if (p.not_zip)
			set_msg(res, FIX_SKIPPED, "not a zip archive: fix rewrites zip, jar, war and ear files only "
				"(tar archives and container images are left as they are)");
		else if (p.err.len)
			set_msg(res, FIX_FAILED, "%s", buf_cstr(&p.err));
		else
			set_msg(res, FIX_NOTHING, "nothing to remove");
		goto out;
	}
	res->removed = p.removed;
	res->nremoved = p.nremoved;
	p.removed = NULL;
	p.nremoved = 0;
	for (size_t t = 0; t < p.nt; t++)
		for (size_t k = 0; k < p.t[t].ncves; k++) {
			bool dup = false;
			for (size_t j = 0; j < res->ncves && !dup; j++)
				dup = !strcmp(res->cves[j], p.t[t].cves[k]->id);
			if (!dup && res->ncves < MAX_CVES)
				res->cves[res->ncves++] = p.t[t].cves[k]->id;
		}
	const struct node *sg = signed_node(top);
	if (sg && !fx->o.fix_signed) {
		set_msg(res, FIX_SKIPPED,
			"signed archive %s (%s): not changed; --fix-signed removes the classes and keeps "
			"the other entries' signatures valid", sg->path, sg->signer);
	} else if (sg && sg->nkids) {
		set_msg(res, FIX_SKIPPED,
			"signed archive %s holds a nested archive that would change (%s): its signed digest "
			"would no longer match; not changed", sg->path, sg->kids[0].n->path);
	} else if (fx->o.dry_run) {
		res->action = FIX_WOULD_FIX;
	} else {
		apply(fx, &p, top, dfd, dir, base, fd, &st, path, abs, res);
	}
	node_free(top);
out:
	plan_free(&p);
	close(fd);
	close(dfd);
	free(abs);
	free(dir);
}

/* ---- restore */

struct mrec {
	char *id, *path, *backup;
	char sha_o[65], sha_n[65];
	unsigned long uid, gid;
	unsigned mode;
	long long mtime_s;
	long mtime_ns;
	bool done;
};

/* Split a line at TABs into at most max unescaped fields. */
static size_t fields(const char *line, size_t len, char **f, size_t max)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len && n < max; i++) {
		if (i == len || line[i] == '\t') {
			f[n++] = unesc(line + start, i - start);
			start = i + 1;
		}
	}
	return n;
}

static bool selected(const char *path, const char *const *only, size_t nonly)
{
	if (!nonly)
		return true;
	for (size_t i = 0; i < nonly; i++) {
		size_t l = strlen(only[i]);
		while (l > 1 && is_sep(only[i][l - 1]))
			l--;
		if (!strncmp(path, only[i], l) && (path[l] == 0 || is_sep(path[l])))
			return true;
	}
	return false;
}

/* Put one original back: copy the backup into a new file beside the
 * current one, with the recorded owner, mode and mtime, and rename it over
 * the current file once that is checked to be the one the fix wrote. */
static enum restore_action restore_one(int bdir, int mfd, const struct mrec *m, bool dry_run,
				       struct buf *msg)
{
	int cfd = open(m->path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat cst;
	char sha_c[65], sha_b[65];
	if (cfd < 0) {
		buf_printf(msg, "%s; not restored (backup kept)",
			   errno == ENOENT ? "no longer exists" : strerror(errno));
		return errno == ENOENT ? RESTORE_REFUSED : RESTORE_FAILED;
	}
	if (fstat(cfd, &cst) < 0 || !S_ISREG(cst.st_mode) || !sha256_fd(cfd, sha_c)) {
		buf_adds(msg, "cannot read the current file; not restored");
		close(cfd);
		return RESTORE_FAILED;
	}
	close(cfd);
	if (!strcmp(sha_c, m->sha_o)) {
		buf_adds(msg, "the file is already the original");
		if (!dry_run)
			mark_line(mfd, "restored", m->id);
		return RESTORE_ALREADY;
	}
	if (strcmp(sha_c, m->sha_n)) {
		buf_printf(msg, "changed since it was fixed (sha256 %s, the fix wrote %s); not restored", sha_c,
			   m->sha_n);
		return RESTORE_REFUSED;
	}
	int bfd = openat(bdir, m->backup, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0 || !sha256_fd(bfd, sha_b) || strcmp(sha_b, m->sha_o)) {
		buf_printf(msg, "backup %s %s; not restored", m->backup,
			   bfd < 0 ? strerror(errno) : "does not match its recorded sha256");
		if (bfd >= 0)
			close(bfd);
		return RESTORE_FAILED;
	}
	if (dry_run) {
		close(bfd);
		return RESTORE_WOULD;
	}
	char *dir;
	const char *base;
	split_path(m->path, &dir, &base);
	char tmpname[64];
	snprintf(tmpname, sizeof tmpname, ".l4s-restore-%ld.tmp", (long)getpid());
	enum restore_action act = RESTORE_FAILED;
	bool named = false;
	int tfd = -1, dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || (tfd = make_temp(dfd, tmpname, &named)) < 0) {
		buf_printf(msg, "cannot create a file in %s: %s", dir, errtext(errno));
		goto out;
	}
	struct timespec ts[2] = {{0, UTIME_OMIT}, {(time_t)m->mtime_s, m->mtime_ns}};
	if (!copy_fd(bfd, tfd) || fchown(tfd, (uid_t)m->uid, (gid_t)m->gid) < 0 ||
	    fchmod(tfd, (mode_t)m->mode) < 0 || futimens(tfd, ts) < 0 || fsync(tfd) < 0 ||
	    !sha256_fd(tfd, sha_c) || strcmp(sha_c, m->sha_o)) {
		buf_printf(msg, "cannot write the restored copy: %s; current file untouched", errtext(errno));
		goto out;
	}
	copy_xattrs(bfd, tfd, msg);
	struct stat now;
	if (fstatat(dfd, base, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_ino != cst.st_ino ||
	    now.st_dev != cst.st_dev || now.st_size != cst.st_size) {
		buf_adds(msg, "the file changed during the restore; not restored");
		goto out;
	}
	if (!install(tfd, named, dfd, tmpname, base)) {
		buf_printf(msg, "cannot replace the current file: %s", errtext(errno));
		goto out;
	}
	named = false;
	mark_line(mfd, "restored", m->id);
	act = RESTORE_DONE;
out:
	if (named)
		unlinkat(dfd, tmpname, 0);
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	close(bfd);
	free(dir);
	return act;
}

int fix_restore(const char *backup_dir, const char *const *only, size_t nonly, bool dry_run,
		void (*cb)(void *ctx, const struct restore_result *r), void *ctx, struct buf *err)
{
	int bdir = open(backup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bdir < 0) {
		buf_printf(err, "cannot open backup directory %s: %s", backup_dir, strerror(errno));
		return -1;
	}
	int mfd = open_manifest(bdir, dry_run ? O_RDONLY : O_RDWR | O_APPEND, err);
	if (mfd < 0) {
		close(bdir);
		return -1;
	}
	/* Read under the lock so that a line being appended is never half seen. */
	flock(mfd, LOCK_EX);
	struct buf text = BUF_INIT;
	char chunk[65536];
	ssize_t r;
	off_t at = 0;
	while ((r = pread(mfd, chunk, sizeof chunk, at)) > 0) {
		buf_add(&text, chunk, (size_t)r);
		at += r;
	}
	flock(mfd, LOCK_UN);
	struct mrec *m = NULL;
	size_t n = 0;
	const char *s = text.data ? text.data : "";
	size_t left = text.len;
	while (left) {
		const char *nl = memchr(s, '\n', left);
		size_t len = nl ? (size_t)(nl - s) : left;
		char *f[12] = {0};
		size_t nf = len && s[0] != '#' ? fields(s, len, f, 12) : 0;
		if (nf == 12 && !strcmp(f[0], "fix") && strlen(f[5]) == 64 && strlen(f[6]) == 64) {
			m = xrealloc(m, (n + 1) * sizeof *m);
			struct mrec *x = &m[n++];
			memset(x, 0, sizeof *x);
			x->id = f[1], f[1] = NULL;
			x->path = f[3], f[3] = NULL;
			x->backup = f[4], f[4] = NULL;
			memcpy(x->sha_o, f[5], 65);
			memcpy(x->sha_n, f[6], 65);
			x->uid = strtoul(f[7], NULL, 10);
			x->gid = strtoul(f[8], NULL, 10);
			x->mode = (unsigned)strtoul(f[9], NULL, 8) & 07777;
			x->mtime_s = strtoll(f[10], NULL, 10);
			x->mtime_ns = strtol(f[11], NULL, 10);
		} else if (nf >= 2 && (!strcmp(f[0], "restored") || !strcmp(f[0], "abandoned"))) {
			for (size_t i = 0; i < n; i++)
				if (!strcmp(m[i].id, f[1]))
					m[i].done = true;
		}
		for (size_t i = 0; i < 12; i++)
			free(f[i]);
		s += len + (nl ? 1 : 0);
		left -= len + (nl ? 1 : 0);
	}
	buf_free(&text);
	int bad = 0;
	for (size_t i = n; i-- > 0;) {
		if (m[i].done || !selected(m[i].path, only, nonly))
			continue;
		struct buf msg = BUF_INIT, bp = BUF_INIT;
		buf_printf(&bp, "%s%c%s", backup_dir, L4S_PATH_SEP, m[i].backup);
		enum restore_action a = restore_one(bdir, mfd, &m[i], dry_run, &msg);
		if (a == RESTORE_REFUSED || a == RESTORE_FAILED)
			bad++;
		struct restore_result rr = {m[i].path, buf_cstr(&bp), a, msg.len ? buf_cstr(&msg) : NULL};
		cb(ctx, &rr);
		buf_free(&msg);
		buf_free(&bp);
	}
	for (size_t i = 0; i < n; i++) {
		free(m[i].id);
		free(m[i].path);
		free(m[i].backup);
	}
	free(m);
	close(mfd);
	close(bdir);
	return bad;
}
