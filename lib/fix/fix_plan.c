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
		if (!pkg && detect_class_stem(name, len) != rl + cl)
			continue;
		if (drop && !drop[i])
			drop[i] = true, n++;
		else if (!drop)
			n++;
	}
	return n;
}

/* Add a target for finding f (in the archive or directory c, named path)
 * when a removal mitigates it, and mark its classes in drop. */
static size_t plan_finding(struct plan *p, const struct finding *f, const struct container *c, const char *path,
			   bool *drop)
{
	const struct fix_opts *o = &p->fx->o;
	if (!fix_wanted(o, f, NULL))
		return 0;
	size_t ndrop = 0;
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
	return ndrop;
}

size_t fix_plan_drops(struct plan *p, const struct container *c, const char *path, bool *drop)
{
	const struct fix_opts *o = &p->fx->o;
	struct detect_opts dopt = {o->so->bytecode_only, o->so->max_class_bytes};
	struct detect_result res;
	detect_run(o->rules, &dopt, c, &res);
	size_t ndrop = 0;
	for (size_t i = 0; i < res.nfindings; i++)
		ndrop += plan_finding(p, &res.findings[i], c, path, drop);
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
	for (size_t i = 0; i < p->npassed; i++) {
		free(p->passed[i].path);
		free(p->passed[i].why);
	}
	free(p->passed);
	for (size_t i = 0; i < p->nplanned; i++)
		free(p->planned[i]);
	free(p->planned);
}


/* ---- the descent: scan's own (scan.h, "the descent, watched")
 *
 * The file is scanned as `scan` scans it - archives told by name or by
 * their first bytes, siblings taken smallest first, each with its share of
 * --max-inflate, all of it counted against the run's --max-inflate-total -
 * and the planner watches: each zip read whole gets a frame holding the
 * entries to drop (from the findings the detector made there) and the
 * nested archives that change; when the descent is done with it, a frame
 * that changes becomes a node of the plan (the zip and its bytes kept) and
 * goes to its parent as a kid.  An archive below a stream or a tarball is
 * scanned but cannot be rewritten: a copy found there is named. */

struct frame {
	const struct zip *z; /* the descent's zip, while it is open */
	bool detached;       /* in a stream or tarball: not rewritable */
	bool *drop;
	size_t ndrop;
	struct kid *kids;
	size_t nkids;
	char *path;
};

struct planner {
	struct plan *p;
	struct frame *f;
	size_t n;
	struct node *top;
};

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

static const char *zn_name(void *ctx, size_t i, size_t *len)
{
	const struct zip *z = ctx;
	*len = z->entries[i].name_len;
	return z->entries[i].name;
}

static void pl_opened(void *ctx, const struct zip *z, const char *path, int depth, const struct scan_nest *at,
		      const struct scan_record *found, size_t nfound)
{
	struct planner *pl = ctx;
	struct plan *p = pl->p;
	const struct frame *up = pl->n ? &pl->f[pl->n - 1] : NULL;
	bool detached = depth ? !up || up->detached || at->parent != up->z : up != NULL;
	pl->f = xrealloc(pl->f, (pl->n + 1) * sizeof *pl->f);
	struct frame *fr = &pl->f[pl->n++];
	memset(fr, 0, sizeof *fr);
	fr->z = z;
	fr->path = xstrdup(path);
	fr->detached = detached;
	if (fr->detached)
		return;
	fr->drop = xcalloc(z->nentries ? z->nentries : 1, sizeof *fr->drop);
	struct container c = {z->nentries, zn_name, NULL, (void *)z};
	for (size_t i = 0; i < nfound; i++)
		if (found[i].kind == REC_FINDING)
			fr->ndrop += plan_finding(p, &found[i].f, &c, path, fr->drop);
	p->planned = xrealloc(p->planned, (p->nplanned + 1) * sizeof *p->planned);
	p->planned[p->nplanned++] = xstrdup(path);
}

static void frame_free(struct frame *fr)
{
	for (size_t i = 0; i < fr->nkids; i++)
		fix_node_free(fr->kids[i].n);
	free(fr->kids);
	free(fr->drop);
	free(fr->path);
}

static bool pl_closed(void *ctx, struct zip *z, const struct scan_nest *at)
{
	struct planner *pl = ctx;
	struct frame fr = pl->f[--pl->n];
	struct frame *up = pl->n ? &pl->f[pl->n - 1] : NULL;
	if (fr.detached || (!fr.ndrop && !fr.nkids) || (up && (up->detached || up->drop[at->index]))) {
		frame_free(&fr); /* unchanged, or not rewritable, or dropped whole */
		return false;
	}
	struct node *n = xcalloc(1, sizeof *n);
	n->z = *z;
	if (at->own) {
		n->own = *at->own;
		*at->own = NULL;
	}
	n->drop = fr.drop;
	n->ndrop = fr.ndrop;
	n->kids = fr.kids;
	n->nkids = fr.nkids;
	n->path = fr.path;
	n->signer = find_signer(&n->z);
	if (up) {
		up->kids = xrealloc(up->kids, (up->nkids + 1) * sizeof *up->kids);
		up->kids[up->nkids++] = (struct kid){at->index, n};
	} else {
		fix_node_free(pl->top);
		pl->top = n;
	}
	return true;
}

static void pl_passed(void *ctx, const char *path, const char *why)
{
	struct plan *p = ((struct planner *)ctx)->p;
	p->passed = xrealloc(p->passed, (p->npassed + 1) * sizeof *p->passed);
	p->passed[p->npassed].path = xstrdup(path);
	p->passed[p->npassed++].why = xstrdup(why);
}

/* The entries the plan removes, innermost archives first. */
static void collect_removed(struct plan *p, const struct node *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		collect_removed(p, n->kids[i].n);
	for (size_t i = 0; i < n->z.nentries; i++) {
		if (!n->drop[i])
			continue;
		struct buf r = BUF_INIT;
		buf_adds(&r, n->path);
		scan_path_join(&r, n->z.entries[i].name, n->z.entries[i].name_len);
		p->removed = xrealloc(p->removed, (p->nremoved + 1) * sizeof *p->removed);
		p->removed[p->nremoved++] = buf_detach(&r);
	}
}

/* A copy the plan does not hold (in a stream, a tarball, an archive it could
 * not read): named, with the nested archive it is in and why. */
static void not_held(struct plan *p, const char *fpath)
{
	const char *at = fpath, *why = "not read as a zip, so it cannot be rewritten";
	size_t best = 0;
	for (size_t i = 0; i < p->npassed; i++) {
		size_t l = strlen(p->passed[i].path);
		if (l > best && !strncmp(fpath, p->passed[i].path, l) && (!fpath[l] || !strncmp(fpath + l, "!/", 2)))
			best = l, at = p->passed[i].path, why = p->passed[i].why;
	}
	if (p->nunfollowed++ >= 3)
		return;
	buf_printf(&p->unfollowed, "%s%s (%s%s)", p->unfollowed.len ? "; " : "", at, why,
		   best ? ", so it cannot be rewritten" : "");
}

struct node *fix_plan_file(struct plan *p, int fd, const struct stat *st, const char *path)
{
	struct scan_stats stats;
	struct scan_opts so;
	struct scanner *sc = fix_scanner(p->fx, &so, &stats, &p->err);
	if (!sc)
		return NULL;
	struct planner pl = {p, NULL, 0, NULL};
	struct scan_watch w = {&pl, pl_opened, pl_closed, pl_passed};
	scanner_watch(sc, &w);
	struct scan_batch b = {0};
	const char *base = fix_last_sep(path);
	base = base ? base + 1 : path;
	scan_fd(sc, fd, st, path, scan_archive_name(base, strlen(base)), &b);
	p->total_out = scanner_total_exhausted(sc);
	fix_scanner_free(p->fx, sc, &stats);
	free(pl.f); /* every frame opened was closed */
	bool opened = p->nplanned || pl.top;
	for (size_t i = 0; i < b.n; i++) {
		const struct scan_record *r = &b.rec[i];
		if (r->kind == REC_FINDING && fix_wanted(&p->fx->o, &r->f, NULL)) {
			bool held = false;
			for (size_t k = 0; k < p->nplanned && !held; k++)
				held = !strcmp(p->planned[k], r->f.path);
			if (!held)
				not_held(p, r->f.path);
		} else if (r->kind == REC_ERROR && !opened && !p->err.len && !strcmp(r->path, path)) {
			buf_printf(&p->err, "not a readable archive: %s", r->msg);
		}
	}
	if (!opened && !p->err.len)
		p->not_zip = true;
	scan_batch_free(&b);
	if (pl.top)
		collect_removed(p, pl.top);
	return pl.top;
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

