/* detect.c - the copies in a container and their class evidence (see
 * detect.h for the approach; claims.c judges metadata, verdict.c turns the
 * evidence into CVEs).
 *
 * Copies.  One pass over the entry names groups the fingerprinted classes
 * by their package root: "org/apache/logging/log4j/core/lookup/JndiLookup.class"
 * has root "org/apache/logging/log4j/core/", a shaded copy at
 * "clt/shaded/l/core/lookup/JndiLookup.class" has root "clt/shaded/l/core/",
 * a fragment at "lookup/JndiLookup.class" has root "", and a Log4j 1.x
 * copy is rooted where its Category class is.  Each group is one copy.
 *
 * Suffixes.  Java agents store the classes they embed under other names
 * (".esclazz", ".classdata") and load them with their own class loader; a
 * plain class loader only ever loads ".class".  So a copy stores its
 * classes with exactly one suffix: the one that most of the class entries
 * under its root use (".class" when tied).  Entries under that root with
 * another suffix are not the copy's classes: they prove nothing and are not
 * counted as present (a lone JndiLookup.classdata beside .class files does
 * not make the copy vulnerable, nor keep it from being mitigated).
 *
 * Confirmation.  A log4j-core group counts only when its classes confirm
 * it is Log4j (a fingerprint or a marker string matched), so an unrelated
 * class that happens to be called JndiManager is not reported.  A Log4j 1.x
 * group counts when its Category is the implementation (it refers to no
 * class outside the JDK and its own package tree) and helpers/OptionConverter
 * is beside it; log4j-1.2-api and log4j-over-slf4j keep the 1.x API but
 * their Category names the logging API it delegates to.  A bridge's
 * Category does not hide 1.x classes that the 1.x rules name (JMSAppender
 * and the like, which no bridge ships) when they are at the same root. */
#include "detect/detect.h"

#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/claims.h"
#include "detect/classfile.h"

#define MANIFEST "META-INF/MANIFEST.MF"
#define MAX_KEYS 16
#define NONE ((size_t)-1)

/* Where each component's Maven metadata lives (reload4j, the maintained
 * fork of 1.2.17, is reported as log4j-1.x: same packages, same API). */
static const struct {
	enum component comp;
	const char *path;
} poms[] = {
	{COMP_CORE, "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties"},
	{COMP_LOG4J1, "META-INF/maven/log4j/log4j/pom.properties"},
	{COMP_LOG4J1, "META-INF/maven/ch.qos.reload4j/reload4j/pom.properties"},
};
#define NPOMS (sizeof poms / sizeof poms[0])

/* The package root a copy of each component has when it is not relocated. */
static const char *const canonical_root[COMP_COUNT] = {"org/apache/logging/log4j/core/",
						       "org/apache/log4j/"};

/* ---- class entries and their suffixes */

enum { SUF_CLASS, SUF_ESCLAZZ, SUF_CLASSDATA, NSUF };
static const char *const suffix_name[NSUF] = {".class", ".esclazz", ".classdata"};

/* Which class suffix the name has (-1: not a class); *stem gets the length
 * without it. */
static int class_suffix(const char *n, size_t len, size_t *stem)
{
	for (int i = 0; i < NSUF; i++) {
		size_t el = strlen(suffix_name[i]);
		if (len > el && !memcmp(n + len - el, suffix_name[i], el)) {
			*stem = len - el;
			return i;
		}
	}
	return -1;
}

size_t detect_class_stem(const char *n, size_t len)
{
	size_t stem = 0;
	return class_suffix(n, len, &stem) < 0 ? 0 : stem;
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

static bool is_pom(const char *n, size_t len)
{
	return len > 15 && !memcmp(n + len - 15, "/pom.properties", 15);
}

bool detect_wants(const char *name, size_t len)
{
	return detect_class_stem(name, len) || name_is(name, len, MANIFEST) || is_pom(name, len);
}

/* The Log4j 1.x copy is anchored on this class. */
#define L1_ANCHOR "Category"

bool detect_needs_data(const struct rules *r, const char *name, size_t len)
{
	if (name_is(name, len, MANIFEST) || is_pom(name, len))
		return true;
	size_t sl = detect_class_stem(name, len);
	if (!sl)
		return false;
	if (ends_at_boundary(name, sl, L1_ANCHOR))
		return true;
	for (size_t i = 0; i < r->nhashes; i++)
		if (ends_at_boundary(name, sl, r->hashes[i].cls))
			return true;
	for (size_t i = 0; i < r->nmarkers; i++)
		if (ends_at_boundary(name, sl, r->markers[i].cls))
			return true;
	for (size_t i = 0; i < r->ncves; i++)
		for (size_t k = 0; k < r->cves[i].nunless_refs; k++)
			if (ends_at_boundary(name, sl, r->cves[i].unless_refs[k].cls))
				return true;
	return false;
}

/* ---- copies */

struct group {
	enum component comp;
	char *root;
	size_t rootlen;
	size_t cand[MAX_KEYS][NSUF]; /* entry of each key class, per suffix */
	size_t anchor[NSUF];         /* 1.x: the Category entry, per suffix */
	size_t count[NSUF];          /* class entries under the root, per suffix */
	int suf;                     /* the suffix the copy stores its classes with */
	struct vset set;
	bool constrained;            /* some fingerprint or marker narrowed the set */
	bool confirmed;
	struct buf why;              /* evidence lines, separated by \n */
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
	size_t manifest;
	size_t pom[NPOMS];
	char *mf_text;
};

/* One error record per entry, however often it is read. */
static void add_error(struct ctx *x, size_t entry, const char *msg)
{
	struct detect_result *r = x->res;
	for (size_t i = 0; i < r->nerrors; i++)
		if (r->errors[i].entry == entry)
			return;
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
		for (int s = 0; s < NSUF; s++)
			g->cand[k][s] = NONE;
	for (int s = 0; s < NSUF; s++)
		g->anchor[s] = NONE;
	version_set_fill(&g->set, (int)x->r->nreleases[comp]);
	return g;
}

/* Count the class entries under each group's root by suffix, and pick the
 * suffix of the copy: the most used one, ".class" when tied. */
static void pick_suffixes(struct ctx *x)
{
	const struct container *c = x->c;
	for (size_t i = 0; i < c->n; i++) {
		size_t len, stem;
		const char *n = c->name(c->ctx, i, &len);
		int s = class_suffix(n, len, &stem);
		if (s < 0)
			continue;
		for (size_t gi = 0; gi < x->ngroups; gi++) {
			struct group *g = &x->groups[gi];
			if (stem > g->rootlen && !memcmp(n, g->root, g->rootlen))
				g->count[s]++;
		}
	}
	for (size_t gi = 0; gi < x->ngroups; gi++) {
		struct group *g = &x->groups[gi];
		g->suf = SUF_CLASS;
		for (int s = 1; s < NSUF; s++)
			if (g->count[s] > g->count[g->suf])
				g->suf = s;
	}
}

/* Questions about one copy's classes: names relative to its root (a
 * trailing '/' names any class in that package), and only entries with the
 * copy's own suffix count. */
struct class_query {
	struct ctx *x;
	const struct group *g;
};

static size_t find_class(const struct class_query *q, const char *cls)
{
	const struct container *c = q->x->c;
	const struct group *g = q->g;
	size_t cl = strlen(cls);
	bool pkg = cl && cls[cl - 1] == '/';
	for (size_t i = 0; i < c->n; i++) {
		size_t len, sl;
		const char *n = c->name(c->ctx, i, &len);
		if (class_suffix(n, len, &sl) != g->suf || sl < g->rootlen + cl ||
		    memcmp(n, g->root, g->rootlen) || memcmp(n + g->rootlen, cls, cl))
			continue;
		if (pkg ? sl > g->rootlen + cl : sl == g->rootlen + cl)
			return i;
	}
	return NONE;
}

static bool has_class(void *v, const char *cls)
{
	return find_class(v, cls) != NONE;
}

/* Read entry idx, hash it (when sha is not NULL) and parse it.  Returns
 * READ_FAILED (an error record says why), READ_NOT_CLASS (hashed, but not a
 * class file: an error record too) or READ_PARSED (ci to be freed). */
enum read_result { READ_FAILED, READ_NOT_CLASS, READ_PARSED };

static enum read_result read_class(struct ctx *x, size_t idx, struct classinfo *ci, unsigned char sha[32])
{
	const struct container *c = x->c;
	unsigned char *data;
	size_t len;
	struct buf err = BUF_INIT;
	if (!c->read(c->ctx, idx, x->o->max_class_bytes, &data, &len, &err)) {
		add_error(x, idx, buf_cstr(&err));
		buf_free(&err);
		return READ_FAILED;
	}
	buf_free(&err);
	if (sha) {
		struct sha256_ctx s;
		sha256_init(&s);
		sha256_update(&s, len, data);
		sha256_digest(&s, 32, sha);
	}
	const char *why;
	bool ok = classfile_parse(data, len, ci, &why);
	if (!ok)
		add_error(x, idx, why);
	free(data);
	return ok ? READ_PARSED : READ_NOT_CLASS;
}

/* Does the copy's class `cls` refer to its class `ref` (both relative to
 * the root, so a relocated copy is judged like the original)? */
static bool refers_class(void *v, const char *cls, const char *ref)
{
	struct class_query *q = v;
	size_t idx = find_class(q, cls);
	struct classinfo ci;
	if (idx == NONE || read_class(q->x, idx, &ci, NULL) != READ_PARSED)
		return false;
	struct buf full = BUF_INIT;
	buf_add(&full, q->g->root, q->g->rootlen);
	buf_adds(&full, ref);
	bool yes = classfile_refers(&ci, buf_cstr(&full));
	buf_free(&full);
	classfile_free(&ci);
	return yes;
}

static void fingerprint_class(struct ctx *x, struct group *g, size_t k)
{
	size_t idx = g->cand[k][g->suf];
	unsigned char sha[32];
	struct classinfo ci;
	enum read_result rr = read_class(x, idx, &ci, sha);
	if (rr == READ_FAILED)
		return;
	const char *cls = x->keys[k];
	/* The digest counts even for bytes that do not parse. */
	for (size_t i = 0; i < x->r->nhashes; i++) {
		const struct rule_hash *h = &x->r->hashes[i];
		if (h->comp != g->comp || strcmp(h->cls, cls) || memcmp(h->sha256, sha, 32))
			continue;
		version_set_and(&g->set, &h->versions);
		g->constrained = g->confirmed = true;
		int lo = version_set_first(&h->versions), hi = version_set_last(&h->versions);
		buf_printf(&g->why, "%s%s is byte-identical to the one in %s%s%s\n", cls,
			   suffix_name[g->suf], x->r->releases[g->comp][lo], lo == hi ? "" : "..",
			   lo == hi ? "" : x->r->releases[g->comp][hi]);
	}
	if (rr != READ_PARSED)
		return;
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
		version_set_and(&g->set, &m->versions);
		g->constrained = true;
		if (has)
			matched++;
	}
	if (matched) {
		g->confirmed = true;
		buf_printf(&g->why, "%s%s has %d version marker string%s\n", cls, suffix_name[g->suf],
			   matched, matched == 1 ? "" : "s");
	}
	classfile_free(&ci);
}

/* ---- Log4j 1.x: the implementation, not a bridge */

static bool jdk_class(const char *n)
{
	static const char *const jdk[] = {"java/", "javax/", "jdk/", "sun/", "com/sun/",
					  "org/w3c/", "org/xml/", "org/ietf/", "org/omg/"};
	for (size_t i = 0; i < sizeof jdk / sizeof jdk[0]; i++)
		if (!strncmp(n, jdk[i], strlen(jdk[i])))
			return true;
	return false;
}

/* The first class the Category refers to that is neither in the JDK nor
 * under the copy's root (array types count by their element type), or
 * NULL: a real Log4j 1.x Category is the implementation and needs nothing
 * else; a bridge's names what it delegates to. */
static const char *foreign_class(const struct classinfo *ci, const struct group *g)
{
	for (size_t i = 0; i < ci->nclasses; i++) {
		const char *n = ci->classes[i];
		while (*n == '[')
			n++;
		if (*n == 'L' && n != ci->classes[i])
			n++;
		else if (n != ci->classes[i])
			continue; /* array of a primitive type */
		if (!jdk_class(n) && strncmp(n, g->root, g->rootlen))
			return ci->classes[i];
	}
	return NULL;
}

/* The first class that a 1.x CVE rule requires which the copy has (one
 * pass over the names: most groups rooted at a class called Category are
 * not Log4j's and have none). */
static const char *l1_cve_class(struct ctx *x, const struct group *g)
{
	const struct container *c = x->c;
	for (size_t e = 0; e < c->n; e++) {
		size_t len, sl;
		const char *n = c->name(c->ctx, e, &len);
		if (class_suffix(n, len, &sl) != g->suf || sl <= g->rootlen || memcmp(n, g->root, g->rootlen))
			continue;
		const char *rel = n + g->rootlen;
		size_t rl = sl - g->rootlen;
		for (size_t i = 0; i < x->r->ncves; i++) {
			const struct rule_cve *cve = &x->r->cves[i];
			for (size_t k = 0; cve->comp == COMP_LOG4J1 && k < cve->nrequires; k++) {
				const char *want = cve->requires_class[k];
				size_t wl = strlen(want);
				bool pkg = wl && want[wl - 1] == '/';
				if (pkg ? rl > wl && !memcmp(rel, want, wl) : rl == wl && !memcmp(rel, want, wl))
					return want;
			}
		}
	}
	return NULL;
}

static void confirm_log4j1(struct ctx *x, struct group *g)
{
	size_t anchor = g->anchor[g->suf];
	if (anchor == NONE)
		return; /* its Category is stored with another suffix: not this copy's */
	struct class_query q = {x, g};
	bool helpers = has_class(&q, "helpers/OptionConverter");
	const char *beside = l1_cve_class(x, g);
	if (!helpers && !beside)
		return; /* most classes called Category are not Log4j's */
	struct classinfo ci;
	enum read_result rr = read_class(x, anchor, &ci, NULL);
	if (rr == READ_FAILED) {
		g->confirmed = true; /* unreadable: it cannot be shown to be a bridge */
		return;
	}
	const char *sn = suffix_name[g->suf];
	if (rr == READ_PARSED && ends_at_boundary(ci.this_name, strlen(ci.this_name), L1_ANCHOR)) {
		const char *foreign = foreign_class(&ci, g);
		if (!foreign) {
			g->confirmed = true;
			buf_printf(&g->why, "%s%s is the Log4j 1.x implementation (refers to no class "
				   "outside the JDK and its own packages)\n", L1_ANCHOR, sn);
		} else if (beside) {
			g->confirmed = true;
			buf_printf(&g->why, "%s%s here is a bridge (it refers to %s), but Log4j 1.x's own "
				   "%s ships beside it\n", L1_ANCHOR, sn, foreign, beside);
		}
	} else if (beside) {
		/* not a class file, or one that names another class: it would not
		 * load as Category, but the 1.x classes beside it would */
		g->confirmed = true;
		buf_printf(&g->why, "%s%s here is not a loadable Category, but Log4j 1.x's own %s ships "
			   "beside it\n", L1_ANCHOR, sn, beside);
	}
	if (rr == READ_PARSED)
		classfile_free(&ci);
}

/* ---- metadata */

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

/* The version claims that belong to this copy, strongest first. */
static size_t gather_claims(struct ctx *x, const struct group *g, size_t ncopies, struct claim *out)
{
	size_t n = 0;
	/* The metadata belongs to this copy when it is the only one of its
	 * component in the container, or sits at the standard package root. */
	if (x->o->bytecode_only || (ncopies != 1 && strcmp(g->root, canonical_root[g->comp])))
		return 0;
	for (size_t p = 0; p < NPOMS; p++) {
		if (poms[p].comp != g->comp || x->pom[p] == NONE)
			continue;
		char *text = read_text(x, x->pom[p]);
		if (text && claims_from_pom(text, &out[n]))
			n++;
		free(text);
		break; /* one pom per component */
	}
	if (x->mf_text && claims_from_manifest(x->mf_text, g->comp, &out[n]))
		n++;
	return n;
}

/* ---- findings */

/* The facts the rules act on (facts.h): the releases the classes allow, the
 * claims, and every class the component's CVEs name. */
static void gather_facts(struct ctx *x, const struct group *g, const struct claim *claims, size_t nclaims,
			 const struct class_probe *p, struct facts *fx)
{
	const struct rules *r = x->r;
	memset(fx, 0, sizeof *fx);
	fx->constrained = g->constrained;
	for (int k = 0; g->constrained && k < (int)r->nreleases[g->comp] && k < VSET_MAX; k++) {
		if (!version_set_has(&g->set, k))
			continue;
		int e = k;
		while (e + 1 < (int)r->nreleases[g->comp] && e + 1 < VSET_MAX && version_set_has(&g->set, e + 1))
			e++;
		facts_add_run(fx, r->releases[g->comp][k], r->releases[g->comp][e]);
		k = e;
	}
	for (size_t i = 0; i < nclaims; i++)
		facts_add_claim(fx, claims[i].source, claims_is_version(&claims[i]) ? claims[i].text : NULL);
	for (size_t i = 0; i < r->ncves; i++) {
		const struct rule_cve *cve = &r->cves[i];
		if (cve->comp != g->comp)
			continue;
		for (size_t k = 0; k < cve->nmitigated; k++)
			facts_add_class(fx, cve->mitigated_if_absent[k], p->has(p->ctx, cve->mitigated_if_absent[k]));
		for (size_t k = 0; k < cve->nrequires; k++)
			facts_add_class(fx, cve->requires_class[k], p->has(p->ctx, cve->requires_class[k]));
		for (size_t k = 0; k < cve->nunless; k++)
			facts_add_class(fx, cve->unless_class[k], p->has(p->ctx, cve->unless_class[k]));
		for (size_t k = 0; k < cve->nunless_refs; k++) {
			const struct rule_ref *rf = &cve->unless_refs[k];
			if (facts_refers(fx, rf->cls, rf->ref) < 0)
				facts_add_ref(fx, rf->cls, rf->ref, p->refers(p->ctx, rf->cls, rf->ref));
		}
	}
}

static void emit(struct ctx *x, struct group *g, size_t ncopies)
{
	struct detect_result *res = x->res;
	res->findings = xrealloc(res->findings, (res->nfindings + 1) * sizeof *res->findings);
	struct finding *f = &res->findings[res->nfindings++];
	memset(f, 0, sizeof *f);
	f->comp = g->comp;
	f->root = xstrdup(g->root);

	struct claim claims[NPOMS + 1];
	size_t nclaims = gather_claims(x, g, ncopies, claims);
	const struct claim *believed = NULL;
	for (size_t i = 0; i < nclaims && !believed; i++)
		if (claims_judge(x->r, g->comp, &g->set, g->constrained, &claims[i], f))
			believed = &claims[i];
	if (believed) {
		snprintf(f->version, sizeof f->version, "%s", believed->text);
		f->version_source = believed->source;
		finding_add_evidence(f, "%s: version %s", believed->source, believed->text);
	} else if (g->constrained && !version_set_empty(&g->set)) {
		rules_set_text(x->r, g->comp, &g->set, f->version, sizeof f->version);
		f->version_source = nclaims ? VS_BYTECODE_OVER_METADATA : "bytecode";
	} else {
		f->version_source = "unknown";
	}
	if (g->suf != SUF_CLASS)
		finding_add_evidence(f, "classes stored as %s (%zu of the %zu class entries under the root)",
				     suffix_name[g->suf], g->count[g->suf],
				     g->count[SUF_CLASS] + g->count[SUF_ESCLAZZ] + g->count[SUF_CLASSDATA]);
	/* evidence lines gathered while fingerprinting */
	const char *w = buf_cstr(&g->why);
	while (*w) {
		const char *nl = strchr(w, '\n');
		size_t n = nl ? (size_t)(nl - w) : strlen(w);
		finding_add_evidence(f, "%.*s", (int)n, w);
		w += n + (nl ? 1 : 0);
	}
	struct class_query q = {x, g};
	struct class_probe p = {has_class, refers_class, &q, NULL};
	/* the verdict is decided on the facts alone, as the collector does */
	struct facts fx;
	gather_facts(x, g, claims, nclaims, &p, &fx);
	verdict_judge(x->r, &fx, f);
	struct buf ft = BUF_INIT;
	facts_format(&fx, &ft);
	f->facts = buf_detach(&ft);
	facts_free(&fx);
	verdict_class_evidence(x->r, f, &p, suffix_name[g->suf]);
}

/* One pass over the names: metadata entries, and the candidate copies. */
static void collect(struct ctx *x)
{
	const struct container *c = x->c;
	x->manifest = NONE;
	for (size_t p = 0; p < NPOMS; p++)
		x->pom[p] = NONE;
	for (size_t i = 0; i < c->n; i++) {
		size_t len, sl;
		const char *n = c->name(c->ctx, i, &len);
		for (size_t p = 0; p < NPOMS; p++)
			if (name_is(n, len, poms[p].path))
				x->pom[p] = i;
		if (name_is(n, len, MANIFEST))
			x->manifest = i;
		int s = class_suffix(n, len, &sl);
		if (s < 0)
			continue;
		for (size_t k = 0; k < x->nkeys; k++) {
			if (ends_at_boundary(n, sl, x->keys[k])) {
				struct group *g = get_group(x, COMP_CORE, n, sl - strlen(x->keys[k]));
				g->cand[k][s] = i;
			}
		}
		if (ends_at_boundary(n, sl, L1_ANCHOR)) {
			struct group *g = get_group(x, COMP_LOG4J1, n, sl - strlen(L1_ANCHOR));
			g->anchor[s] = i;
		}
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

	collect(&x);
	if (x.ngroups)
		pick_suffixes(&x);
	size_t ncopies[COMP_COUNT] = {0};
	for (size_t gi = 0; gi < x.ngroups; gi++) {
		struct group *g = &x.groups[gi];
		if (g->comp == COMP_CORE) {
			for (size_t k = 0; k < x.nkeys; k++)
				if (g->cand[k][g->suf] != NONE)
					fingerprint_class(&x, g, k);
		} else {
			confirm_log4j1(&x, g);
		}
		ncopies[g->comp] += g->confirmed;
	}

	if (!o->bytecode_only && x.manifest != NONE && (ncopies[COMP_CORE] || ncopies[COMP_LOG4J1]))
		x.mf_text = read_text(&x, x.manifest);
	for (size_t gi = 0; gi < x.ngroups; gi++)
		if (x.groups[gi].confirmed)
			emit(&x, &x.groups[gi], ncopies[x.groups[gi].comp]);
	free(x.mf_text);
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
