/* detect.c - evidence to verdict (see detect.h for the approach).
 *
 * One pass over the entry names groups the fingerprinted classes by their
 * package root: "org/apache/logging/log4j/core/lookup/JndiLookup.class" has
 * root "org/apache/logging/log4j/core/", a shaded copy at
 * "clt/shaded/l/core/lookup/JndiLookup.class" has root "clt/shaded/l/core/",
 * and a fragment at "lookup/JndiLookup.class" has root "".  Each group is
 * one Log4j instance.  A group counts only when its classes confirm it is
 * Log4j (a fingerprint or a marker string matched), so an unrelated class
 * that happens to be called JndiManager is not reported. */
#include "detect.h"

#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classfile.h"

#define CORE_POM "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties"
#define L1_POM "META-INF/maven/log4j/log4j/pom.properties"
#define MANIFEST "META-INF/MANIFEST.MF"
#define MAX_KEYS 16
#define NONE ((size_t)-1)

const char *status_name(enum status s)
{
	return s == ST_VULNERABLE ? "vulnerable" : s == ST_MITIGATED ? "mitigated" : "safe";
}

void finding_add_evidence(struct finding *f, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	f->evidence = xrealloc(f->evidence, (f->nevidence + 1) * sizeof *f->evidence);
	f->evidence[f->nevidence++] = buf_detach(&b);
}

void finding_free(struct finding *f)
{
	for (size_t i = 0; i < f->nevidence; i++)
		free(f->evidence[i]);
	free(f->evidence);
	free(f->root);
	free(f->path);
	free(f->image);
	free(f->tag);
	free(f->layer);
	free(f->note);
	memset(f, 0, sizeof *f);
}

/* Length of the class name without its extension; 0 when not a class.
 * Java agents store classes as .esclazz (Elastic) or .classdata
 * (OpenTelemetry, Application Insights): the same bytes. */
size_t class_stem(const char *n, size_t len)
{
	static const char *ext[] = {".class", ".esclazz", ".classdata"};
	for (size_t i = 0; i < 3; i++) {
		size_t el = strlen(ext[i]);
		if (len > el && !memcmp(n + len - el, ext[i], el))
			return len - el;
	}
	return 0;
}

/* Does stem (length sl) end with suffix at a path boundary? */
static bool ends_at_boundary(const char *stem, size_t sl, const char *suffix)
{
	size_t k = strlen(suffix);
	if (sl < k || memcmp(stem + sl - k, suffix, k))
		return false;
	return sl == k || stem[sl - k - 1] == '/';
}

static bool name_is(const char *n, size_t len, const char *s)
{
	return len == strlen(s) && !memcmp(n, s, len);
}

bool detect_wants(const char *name, size_t len)
{
	return class_stem(name, len) || name_is(name, len, MANIFEST) ||
	       (len > 15 && !memcmp(name + len - 15, "/pom.properties", 15));
}

bool detect_needs_data(const struct rules *r, const char *name, size_t len)
{
	if (name_is(name, len, MANIFEST) || (len > 15 && !memcmp(name + len - 15, "/pom.properties", 15)))
		return true;
	size_t sl = class_stem(name, len);
	if (!sl)
		return false;
	for (size_t i = 0; i < r->nhashes; i++)
		if (ends_at_boundary(name, sl, r->hashes[i].cls))
			return true;
	for (size_t i = 0; i < r->nmarkers; i++)
		if (ends_at_boundary(name, sl, r->markers[i].cls))
			return true;
	return false;
}

struct group {
	enum component comp;
	char *root;
	size_t rootlen;
	size_t key[MAX_KEYS]; /* entry index of each fingerprinted class */
	size_t anchor;        /* 1.x: the Category entry */
	struct vset set;
	bool constrained;     /* some fingerprint or marker narrowed the set */
	bool confirmed;
	struct buf why;       /* evidence lines, separated by \n */
};

struct ctx {
	const struct rules *r;
	const struct detect_opts *o;
	const struct container *c;
	struct detect_result *res;
	const char *keys[MAX_KEYS];
	size_t nkeys;
	struct group *groups;
	size_t ngroups;
};

static void add_error(struct ctx *x, size_t entry, const char *msg)
{
	struct detect_result *r = x->res;
	r->errors = xrealloc(r->errors, (r->nerrors + 1) * sizeof *r->errors);
	r->errors[r->nerrors].entry = entry;
	r->errors[r->nerrors].msg = xstrdup(msg);
	r->nerrors++;
}

static void add_key(struct ctx *x, const char *cls)
{
	for (size_t i = 0; i < x->nkeys; i++)
		if (!strcmp(x->keys[i], cls))
			return;
	if (x->nkeys < MAX_KEYS)
		x->keys[x->nkeys++] = cls;
}

static struct group *get_group(struct ctx *x, enum component comp, const char *root, size_t rl)
{
	for (size_t i = 0; i < x->ngroups; i++) {
		struct group *g = &x->groups[i];
		if (g->comp == comp && g->rootlen == rl && !memcmp(g->root, root, rl))
			return g;
	}
	x->groups = xrealloc(x->groups, (x->ngroups + 1) * sizeof *x->groups);
	struct group *g = &x->groups[x->ngroups++];
	memset(g, 0, sizeof *g);
	g->comp = comp;
	g->root = xstrndup(root, rl);
	g->rootlen = rl;
	for (size_t k = 0; k < MAX_KEYS; k++)
		g->key[k] = NONE;
	g->anchor = NONE;
	vset_fill(&g->set, (int)x->r->nreleases[comp]);
	return g;
}

/* Is class `cls` (relative to the group root; trailing '/' = any class in
 * that package) present in the container? */
struct class_query {
	struct ctx *x;
	const char *root;
	size_t rootlen;
};

static bool has_class(void *v, const char *cls)
{
	struct class_query *q = v;
	const struct container *c = q->x->c;
	size_t cl = strlen(cls);
	bool pkg = cl && cls[cl - 1] == '/';
	for (size_t i = 0; i < c->n; i++) {
		size_t len;
		const char *n = c->name(c->ctx, i, &len);
		size_t sl = class_stem(n, len);
		if (!sl || sl < q->rootlen + cl || memcmp(n, q->root, q->rootlen) ||
		    memcmp(n + q->rootlen, cls, cl))
			continue;
		if (pkg || sl == q->rootlen + cl)
			return true;
	}
	return false;
}

static void fingerprint_class(struct ctx *x, struct group *g, size_t k)
{
	const struct container *c = x->c;
	size_t idx = g->key[k];
	unsigned char *data;
	size_t len;
	struct buf err = BUF_INIT;
	if (!c->read(c->ctx, idx, x->o->max_class_bytes, &data, &len, &err)) {
		add_error(x, idx, buf_cstr(&err));
		buf_free(&err);
		return;
	}
	buf_free(&err);
	unsigned char sha[32];
	struct sha256_ctx s;
	sha256_init(&s);
	sha256_update(&s, len, data);
	sha256_digest(&s, sizeof sha, sha);
	const char *cls = x->keys[k];
	for (size_t i = 0; i < x->r->nhashes; i++) {
		const struct rule_hash *h = &x->r->hashes[i];
		if (h->comp != g->comp || strcmp(h->cls, cls) || memcmp(h->sha256, sha, 32))
			continue;
		vset_and(&g->set, &h->versions);
		g->constrained = g->confirmed = true;
		int lo = vset_first(&h->versions), hi = vset_last(&h->versions);
		buf_printf(&g->why, "%s.class is byte-identical to the one in %s%s%s\n", cls,
			   x->r->releases[g->comp][lo], lo == hi ? "" : "..",
			   lo == hi ? "" : x->r->releases[g->comp][hi]);
	}
	struct classinfo ci;
	const char *why;
	if (!classfile_parse(data, len, &ci, &why)) {
		add_error(x, idx, why);
		free(data);
		return;
	}
	free(data);
	/* A class file whose own name disagrees with where it is stored would
	 * not load under that name; such a decoy proves nothing. */
	size_t tl = strlen(ci.this_name);
	if (!ends_at_boundary(ci.this_name, tl, cls)) {
		classfile_free(&ci);
		return;
	}
	int matched = 0;
	for (size_t i = 0; i < x->r->nmarkers; i++) {
		const struct rule_marker *m = &x->r->markers[i];
		if (m->comp != g->comp || strcmp(m->cls, cls))
			continue;
		bool has = classfile_has_string(&ci, m->str);
		if (has != m->has)
			continue;
		vset_and(&g->set, &m->versions);
		g->constrained = true;
		if (has)
			matched++;
	}
	if (matched) {
		g->confirmed = true;
		buf_printf(&g->why, "%s.class has %d version marker string%s\n", cls, matched,
			   matched == 1 ? "" : "s");
	}
	classfile_free(&ci);
}

/* Read a small text entry (pom.properties, MANIFEST.MF) as a C string. */
static char *read_text(struct ctx *x, size_t idx)
{
	unsigned char *data;
	size_t len;
	struct buf err = BUF_INIT;
	if (!x->c->read(x->c->ctx, idx, 1 << 20, &data, &len, &err)) {
		add_error(x, idx, buf_cstr(&err));
		buf_free(&err);
		return NULL;
	}
	buf_free(&err);
	char *s = xstrndup((const char *)data, len);
	free(data);
	return s;
}

/* Value of "key=value" (properties) or "Key: value" (manifest, with
 * continuation lines starting with a space) into out. */
static bool header_value(const char *text, const char *key, char sep, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) || l[kl] != sep)
			continue;
		const char *v = l + kl + 1;
		while (*v == ' ')
			v++;
		size_t n = 0;
		while (v[n] && v[n] != '\n' && v[n] != '\r')
			n++;
		if (!n || n >= outlen)
			return false;
		memcpy(out, v, n);
		out[n] = 0;
		return true;
	}
	return false;
}

static bool version_text_ok(const char *v)
{
	struct version pv;
	if (!version_parse(v, &pv))
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == '"' || *p == '\\')
			return false;
	return true;
}

static bool manifest_version(const char *mf, enum component comp, char *out, size_t outlen)
{
	char title[128] = "", sym[128] = "";
	header_value(mf, "Implementation-Title", ':', title, sizeof title);
	header_value(mf, "Bundle-SymbolicName", ':', sym, sizeof sym);
	bool mine;
	if (comp == COMP_CORE)
		mine = !strcmp(title, "Apache Log4j Core") || !strncmp(sym, "org.apache.logging.log4j.core", 29);
	else
		mine = !strcmp(title, "log4j") || !strcmp(title, "Apache Log4j") || !strncmp(sym, "log4j", 5);
	if (!mine)
		return false;
	return (header_value(mf, "Implementation-Version", ':', out, outlen) ||
		header_value(mf, "Bundle-Version", ':', out, outlen)) &&
	       version_text_ok(out);
}

static bool set_allows(const struct rules *r, enum component c, const struct vset *set,
		       const struct version *v)
{
	for (size_t i = 0; i < r->nreleases[c]; i++)
		if (!version_cmp(&r->release_v[c][i], v))
			return vset_has(set, (int)i);
	return true; /* not a release we know: the set cannot rule it out */
}

/* Smallest release that fixes every CVE of the component that affects v. */
static void compute_fixed_in(const struct rules *r, enum component comp, const struct version *from,
			     char *out, size_t outlen)
{
	struct version cur = *from;
	const char *cur_s = NULL;
	out[0] = 0;
	for (int round = 0; round < 16; round++) {
		struct version next = cur;
		const char *next_s = cur_s;
		bool affected = false;
		for (size_t i = 0; i < r->ncves; i++) {
			const struct rule_cve *cve = &r->cves[i];
			if (cve->comp != comp || !cve_affects(cve, &cur))
				continue;
			affected = true;
			const char *best = NULL;
			struct version bv = {0};
			for (size_t k = 0; k < cve->nfixed; k++) {
				struct version fv;
				version_parse(cve->fixed[k], &fv);
				if (version_cmp(&fv, &cur) > 0 && (!best || version_cmp(&fv, &bv) < 0)) {
					best = cve->fixed[k];
					bv = fv;
				}
			}
			if (!best)
				return; /* no release fixes it */
			if (version_cmp(&bv, &next) > 0) {
				next = bv;
				next_s = best;
			}
		}
		if (!affected) {
			if (cur_s)
				snprintf(out, outlen, "%s", cur_s);
			return;
		}
		cur = next;
		cur_s = next_s;
	}
}

void detect_evaluate(const struct rules *r, struct finding *f, const char *exact,
		     const struct vset *set, bool (*has)(void *, const char *), void *hctx)
{
	struct version ev;
	bool have_exact = exact && version_parse(exact, &ev);
	f->ncves = f->nmitigated = 0;
	int worst = 0;
	struct version top = {0};
	bool have_top = false;
	if (have_exact) {
		top = ev;
		have_top = true;
	} else if (set && !vset_empty(set)) {
		top = r->release_v[f->comp][vset_last(set)];
		have_top = true;
	}
	for (size_t i = 0; i < r->ncves; i++) {
		const struct rule_cve *cve = &r->cves[i];
		if (cve->comp != f->comp)
			continue;
		bool hit = false;
		if (have_exact) {
			hit = cve_affects(cve, &ev);
		} else if (set && !vset_empty(set)) {
			for (size_t k = 0; k < r->nreleases[f->comp] && !hit; k++)
				hit = vset_has(set, (int)k) && cve_affects(cve, &r->release_v[f->comp][k]);
		} else {
			hit = true; /* version unknown: cannot rule it out */
		}
		if (!hit)
			continue;
		if (cve->nrequires) {
			bool any = false;
			for (size_t k = 0; k < cve->nrequires && !any; k++)
				any = has(hctx, cve->requires_class[k]);
			if (!any)
				continue;
		}
		bool unless = false;
		for (size_t k = 0; k < cve->nunless && !unless; k++)
			unless = has(hctx, cve->unless_class[k]);
		if (unless)
			continue;
		bool removed = false;
		for (size_t k = 0; k < cve->nmitigated && !removed; k++)
			removed = !has(hctx, cve->mitigated_if_absent[k]);
		if (removed) {
			if (f->nmitigated < MAX_CVES)
				f->mitigated[f->nmitigated++] = cve;
			continue;
		}
		if (f->ncves < MAX_CVES)
			f->cves[f->ncves++] = cve;
		int rank = severity_rank(severity_of(cve->cvss));
		if (rank > worst)
			worst = rank;
	}
	static const char *sev[] = {"none", "low", "medium", "high", "critical"};
	f->severity = sev[worst];
	f->status = f->nmitigated ? ST_MITIGATED : f->ncves ? ST_VULNERABLE : ST_SAFE;
	f->fixed_in[0] = 0;
	if (f->status != ST_SAFE && have_top)
		compute_fixed_in(r, f->comp, &top, f->fixed_in, sizeof f->fixed_in);
	f->advice = r->advice[f->comp];
}

static void set_to_text(const struct rules *r, enum component c, const struct vset *s, char *out,
			size_t outlen)
{
	int lo = vset_first(s), hi = vset_last(s);
	if (lo < 0)
		out[0] = 0;
	else if (lo == hi)
		snprintf(out, outlen, "%s", r->releases[c][lo]);
	else
		snprintf(out, outlen, "%s..%s", r->releases[c][lo], r->releases[c][hi]);
}

static void emit(struct ctx *x, struct group *g, const char *meta_version, const char *meta_source)
{
	struct detect_result *res = x->res;
	res->findings = xrealloc(res->findings, (res->nfindings + 1) * sizeof *res->findings);
	struct finding *f = &res->findings[res->nfindings++];
	memset(f, 0, sizeof *f);
	f->comp = g->comp;
	f->root = xstrdup(g->root);

	const char *exact = NULL;
	struct version mv;
	if (meta_version && version_parse(meta_version, &mv)) {
		if (g->constrained && !set_allows(x->r, g->comp, &g->set, &mv)) {
			char range[96];
			set_to_text(x->r, g->comp, &g->set, range, sizeof range);
			finding_add_evidence(f, "%s says %s but the class files say %s: using the class files",
					     meta_source, meta_version, range[0] ? range : "no known release");
		} else {
			exact = meta_version;
			snprintf(f->version, sizeof f->version, "%s", meta_version);
			f->version_source = meta_source;
			finding_add_evidence(f, "%s: version %s", meta_source, meta_version);
		}
	}
	if (!exact) {
		if (g->constrained && !vset_empty(&g->set)) {
			set_to_text(x->r, g->comp, &g->set, f->version, sizeof f->version);
			f->version_source = "bytecode";
		} else {
			f->version_source = "unknown";
		}
	}
	/* evidence lines gathered while fingerprinting */
	const char *w = buf_cstr(&g->why);
	while (*w) {
		const char *nl = strchr(w, '\n');
		size_t n = nl ? (size_t)(nl - w) : strlen(w);
		finding_add_evidence(f, "%.*s", (int)n, w);
		w += n + (nl ? 1 : 0);
	}
	struct class_query q = {x, g->root, g->rootlen};
	detect_evaluate(x->r, f, exact, exact ? NULL : (g->constrained ? &g->set : NULL), has_class, &q);
	for (size_t i = 0; i < f->nmitigated; i++)
		finding_add_evidence(f, "%s mitigated: %s.class removed", f->mitigated[i]->id,
				     f->mitigated[i]->mitigated_if_absent[0]);
	if (g->comp == COMP_LOG4J1) {
		static const char *dangerous[] = {"net/JMSAppender", "net/SocketServer", "net/JMSSink",
						  "jdbc/JDBCAppender", "chainsaw/"};
		for (size_t i = 0; i < 5; i++)
			if (has_class(&q, dangerous[i]))
				finding_add_evidence(f, "has %s", dangerous[i]);
	}
}

void detect_run(const struct rules *r, const struct detect_opts *o, const struct container *c,
		struct detect_result *res)
{
	memset(res, 0, sizeof *res);
	struct ctx x = {.r = r, .o = o, .c = c, .res = res};
	for (size_t i = 0; i < r->nhashes; i++)
		if (r->hashes[i].comp == COMP_CORE)
			add_key(&x, r->hashes[i].cls);
	for (size_t i = 0; i < r->nmarkers; i++)
		if (r->markers[i].comp == COMP_CORE)
			add_key(&x, r->markers[i].cls);
	for (size_t i = 0; i < r->ncves; i++)
		if (r->cves[i].comp == COMP_CORE)
			for (size_t k = 0; k < r->cves[i].nmitigated; k++)
				add_key(&x, r->cves[i].mitigated_if_absent[k]);

	size_t core_pom = NONE, l1_pom = NONE, manifest = NONE;
	bool has_log4j2 = false;
	for (size_t i = 0; i < c->n; i++) {
		size_t len;
		const char *n = c->name(c->ctx, i, &len);
		if (name_is(n, len, CORE_POM))
			core_pom = i;
		else if (name_is(n, len, L1_POM))
			l1_pom = i;
		else if (name_is(n, len, MANIFEST))
			manifest = i;
		if (len > 19 && !memcmp(n, "org/apache/logging/", 19))
			has_log4j2 = true;
		size_t sl = class_stem(n, len);
		if (!sl)
			continue;
		for (size_t k = 0; k < x.nkeys; k++) {
			if (ends_at_boundary(n, sl, x.keys[k])) {
				struct group *g = get_group(&x, COMP_CORE, n, sl - strlen(x.keys[k]));
				g->key[k] = i;
			}
		}
		if (ends_at_boundary(n, sl, "Category")) {
			struct group *g = get_group(&x, COMP_LOG4J1, n, sl - 8);
			g->anchor = i;
		}
	}

	size_t ncore = 0;
	for (size_t gi = 0; gi < x.ngroups; gi++) {
		struct group *g = &x.groups[gi];
		if (g->comp == COMP_CORE) {
			for (size_t k = 0; k < x.nkeys; k++)
				if (g->key[k] != NONE)
					fingerprint_class(&x, g, k);
			ncore += g->confirmed;
		} else {
			/* Log4j 1.x: Category and helpers/OptionConverter at one root,
			 * and no Log4j 2 classes (log4j-1.2-api and log4j-over-slf4j
			 * re-implement the org.apache.log4j API and are not 1.x). */
			struct class_query q = {&x, g->root, g->rootlen};
			g->confirmed = !has_log4j2 && has_class(&q, "helpers/OptionConverter");
		}
	}

	char *pom_text = NULL, *mf_text = NULL;
	if (!o->bytecode_only && manifest != NONE)
		mf_text = read_text(&x, manifest);
	for (size_t gi = 0; gi < x.ngroups; gi++) {
		struct group *g = &x.groups[gi];
		if (!g->confirmed)
			continue;
		char ver[96];
		const char *mv = NULL, *src = NULL;
		size_t pom = g->comp == COMP_CORE ? core_pom : l1_pom;
		/* The pom belongs to this group when it is the only one of its
		 * kind, or sits at the standard package root. */
		bool owns = g->comp == COMP_LOG4J1 ||
			    ncore == 1 || !strcmp(g->root, "org/apache/logging/log4j/core/");
		if (!o->bytecode_only && owns && pom != NONE) {
			free(pom_text);
			pom_text = read_text(&x, pom);
			if (pom_text && header_value(pom_text, "version", '=', ver, sizeof ver) &&
			    version_text_ok(ver)) {
				mv = ver;
				src = "pom.properties";
			}
		}
		if (!mv && owns && mf_text && manifest_version(mf_text, g->comp, ver, sizeof ver)) {
			mv = ver;
			src = "manifest";
		}
		emit(&x, g, mv, src);
	}
	free(pom_text);
	free(mf_text);
	for (size_t gi = 0; gi < x.ngroups; gi++) {
		free(x.groups[gi].root);
		buf_free(&x.groups[gi].why);
	}
	free(x.groups);
}

void detect_result_free(struct detect_result *res)
{
	for (size_t i = 0; i < res->nfindings; i++)
		finding_free(&res->findings[i]);
	free(res->findings);
	for (size_t i = 0; i < res->nerrors; i++)
		free(res->errors[i].msg);
	free(res->errors);
	memset(res, 0, sizeof *res);
}
