/* fix_plan.c - which findings call for a fix, which classes go, and the
 * tree of archives that change in one top-level file.
 *
 * Planning reads the file the way the scanner does - the detector on each
 * archive, nested archives followed as windows onto their parent when
 * STORED or inflated into memory when DEFLATED - and keeps only the
 * branches that change (struct node, fix_internal.h). */
#include "fix/fix_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- which findings, which classes */

bool fix_targetable(const struct fix_opts *o, enum component comp, const struct rule_cve *cve)
{
	return cve->nmitigated > 0 || (comp == COMP_LOG4J1 && o->fix_log4j1 && cve->nrequires > 0);
}

bool fix_wanted(const struct fix_opts *o, const struct finding *f, struct buf *why)
{
	if (f->status != ST_VULNERABLE)
		return false;
	bool l1 = false;
	for (size_t i = 0; i < f->ncves; i++) {
		if (fix_targetable(o, f->comp, f->cves[i]))
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
	if (lstat(p, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return xstrdup(p);
	return NULL;
}

/* Count (and mark in drop, when not NULL) the entries of c that are class
 * `cls` under `root`; a trailing '/' names a whole package: every entry
 * below it. */
static size_t match_class(const struct container *c, const char *root, const char *cls, bool *drop)
{
	size_t rl = strlen(root), cl = strlen(cls), n = 0;
	bool pkg = cl && cls[cl - 1] == '/';
	for (size_t i = 0; i < c->n; i++) {
		size_t len;
		const char *name = c->name(c->ctx, i, &len);
		if (len < rl + cl || memcmp(name, root, rl) || memcmp(name + rl, cls, cl))
			continue;
		if (!pkg && class_stem(name, len) != rl + cl)
			continue;
		if (drop && !drop[i])
			drop[i] = true, n++;
		else if (!drop)
			n++;
	}
	return n;
}

size_t fix_plan_drops(struct plan *p, const struct container *c, const char *path, bool *drop)
{
	const struct fix_opts *o = &p->fx->o;
	struct detect_opts dopt = {o->so->bytecode_only, o->so->max_class_bytes};
	struct detect_result res;
	detect_run(o->rules, &dopt, c, &res);
	size_t ndrop = 0;
	for (size_t i = 0; i < res.nfindings; i++) {
		const struct finding *f = &res.findings[i];
		if (!fix_wanted(o, f, NULL))
			continue;
		p->t = xrealloc(p->t, (p->nt + 1) * sizeof *p->t);
		struct target *t = &p->t[p->nt++];
		memset(t, 0, sizeof *t);
		t->path = xstrdup(path);
		t->root = xstrdup(f->root ? f->root : "");
		t->comp = f->comp;
		for (size_t k = 0; k < f->ncves; k++) {
			const struct rule_cve *cve = f->cves[k];
			if (!fix_targetable(o, f->comp, cve))
				continue;
			if (cve->nmitigated) {
				/* Any one absent class mitigates it: remove the first present. */
				for (size_t m = 0; m < cve->nmitigated; m++)
					if (match_class(c, t->root, cve->mitigated_if_absent[m], NULL)) {
						ndrop += match_class(c, t->root, cve->mitigated_if_absent[m], drop);
						break;
					}
			} else {
				/* Log4j 1.x: the CVE applies only while one of these is present. */
				for (size_t m = 0; m < cve->nrequires; m++)
					ndrop += match_class(c, t->root, cve->requires_class[m], drop);
			}
			t->cves[t->ncves++] = cve;
		}
	}
	detect_result_free(&res);
	return ndrop;
}

void fix_node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		fix_node_free(n->kids[i].n);
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

void fix_plan_free(struct plan *p)
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
	buf_free(&p->unfollowed);
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

/* A nested archive the plan cannot follow, though scan reads it: a copy of
 * Log4j in it would stay as it is, so the file's result says so. */
static void not_followed(struct plan *p, struct buf *path, const struct zip_entry *e, const char *why)
{
	if (p->nunfollowed++ >= 3)
		return;
	buf_printf(&p->unfollowed, "%s%s!/%.*s (%s)", p->unfollowed.len ? "; " : "", buf_cstr(path),
		   (int)e->name_len, e->name, why);
}

struct chain {
	const struct chain *up;
	uint32_t crc;
	uint64_t size;
};

struct node *fix_plan_archive(struct plan *p, const struct zsrc *src, struct buf *path, int depth,
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
	bool *drop = xcalloc(z.nentries ? z.nentries : 1, sizeof *drop);
	size_t ndrop = fix_plan_drops(p, &c, buf_cstr(path), drop);

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
				not_followed(p, path, en, buf_cstr(&why));
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
			/* scan streams such an archive (zipstream.c); a rewrite needs it whole */
			not_followed(p, path, en, en->usize > o->so->max_nested_bytes
						  ? "larger than --max-nested-size, so it cannot be rewritten"
						  : buf_cstr(&why));
			buf_free(&why);
			continue;
		}
		buf_free(&why);
		path_join(path, en->name, en->name_len);
		struct chain link = {chain, en->crc, en->usize};
		struct node *k = fix_plan_archive(p, &child, path, depth + 1, &link);
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
const struct node *fix_signed_node(const struct node *n)
{
	if (n->signer)
		return n;
	for (size_t i = 0; i < n->nkids; i++) {
		const struct node *s = fix_signed_node(n->kids[i].n);
		if (s)
			return s;
	}
	return NULL;
}

