/* test_detect.c - unit tests for the detector's decisions (lib/detect/detect.c,
 * claims.c, verdict.c) over an in-memory container of hand-made class
 * files and metadata, with the built-in rules:
 *   - a copy's classes are the entries with its own suffix (the most used
 *     under its root, .class when tied): strays of another suffix are
 *     neither evidence nor presence;
 *   - metadata is believed only when it names a known release the class
 *     evidence allows; other claims (vendor strings, excluded releases,
 *     text that is not a version, over-long values) are shown in the
 *     evidence, and the classes decide (version_source
 *     bytecode-over-metadata); --bytecode-only reads no metadata;
 *   - Log4j 1.x is its implementation: a Category that refers to nothing
 *     outside the JDK and its own packages, whatever else shares the
 *     container (Log4j 2 classes, relocated copies); a bridge's Category
 *     (refers to org/apache/logging/log4j/ or org/slf4j/) is not 1.x, but
 *     does not hide 1.x classes the rules name at its root; a class that
 *     calls its fix (reload4j's JMSAppender -> JNDIUtil) clears its CVE;
 *   - one error record per unreadable entry. */
#include <stdlib.h>

#include "detect/detect.h"
#include "unit.h"
#include "util/buf.h"

/* ---- class files */

static void u1(struct buf *b, unsigned v) { buf_addc(b, (char)v); }
static void u2(struct buf *b, unsigned v) { u1(b, v >> 8 & 255); u1(b, v & 255); }

/* A class named `name` extending `super`, whose pool holds a Class entry for
 * each of refs (NULL-terminated) and a String for each of strs. */
static struct buf make_class(const char *name, const char *super, const char *const *refs,
			     const char *const *strs)
{
	const char *names[32];
	size_t nn = 0;
	names[nn++] = name;
	names[nn++] = super;
	for (size_t i = 0; refs && refs[i]; i++)
		names[nn++] = refs[i];
	size_t ns = 0;
	while (strs && strs[ns])
		ns++;
	struct buf b = BUF_INIT;
	u2(&b, 0xCAFE); u2(&b, 0xBABE); u2(&b, 0); u2(&b, 52);
	u2(&b, (unsigned)(1 + 2 * (nn + ns)));
	for (size_t i = 0; i < nn; i++) { /* slots 2i+1 Utf8, 2i+2 Class */
		u1(&b, 1);
		u2(&b, (unsigned)strlen(names[i]));
		buf_adds(&b, names[i]);
		u1(&b, 7);
		u2(&b, (unsigned)(2 * i + 1));
	}
	for (size_t i = 0; i < ns; i++) {
		size_t slot = 2 * (nn + i) + 1;
		u1(&b, 1);
		u2(&b, (unsigned)strlen(strs[i]));
		buf_adds(&b, strs[i]);
		u1(&b, 8);
		u2(&b, (unsigned)slot);
	}
	u2(&b, 0x21); u2(&b, 2); u2(&b, 4);
	u2(&b, 0); u2(&b, 0); u2(&b, 0); u2(&b, 0);
	return b;
}

/* ---- an in-memory container */

struct mem {
	const char *name[64];
	struct buf data[64];
	bool unreadable[64];
	size_t n;
	int reads[64];
};

static const char *m_name(void *ctx, size_t i, size_t *len)
{
	struct mem *m = ctx;
	*len = strlen(m->name[i]);
	return m->name[i];
}

static bool m_read(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len, struct buf *err)
{
	struct mem *m = ctx;
	m->reads[i]++;
	if (m->unreadable[i] || m->data[i].len > max) {
		buf_adds(err, "unreadable on purpose");
		return false;
	}
	*out = xmalloc(m->data[i].len + 1);
	memcpy(*out, m->data[i].data, m->data[i].len);
	*len = m->data[i].len;
	return true;
}

static void add(struct mem *m, const char *name, struct buf data)
{
	m->name[m->n] = name;
	m->data[m->n++] = data;
}

static void add_text(struct mem *m, const char *name, const char *text)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, text);
	add(m, name, b);
}

/* A class at path "ROOT" + rel + suffix whose own name is CANON + rel. */
static void add_cls(struct mem *m, const char *path, const char *own, const char *super, const char *const *refs,
		    const char *const *strs)
{
	add(m, path, make_class(own, super, refs, strs));
}

static void mem_free(struct mem *m)
{
	for (size_t i = 0; i < m->n; i++)
		buf_free(&m->data[i]);
	memset(m, 0, sizeof *m);
}

static const struct rules *R;

static void run(struct mem *m, bool bytecode_only, struct detect_result *res)
{
	struct container c = {m->n, m_name, m_read, m};
	struct detect_opts o = {bytecode_only, 1 << 20};
	detect_run(R, &o, &c, res);
}

static const struct finding *only(const struct detect_result *res, enum component comp)
{
	const struct finding *f = NULL;
	for (size_t i = 0; i < res->nfindings; i++)
		if (res->findings[i].comp == comp) {
			if (f)
				return NULL; /* more than one */
			f = &res->findings[i];
		}
	return f;
}

static bool has_evidence(const struct finding *f, const char *part)
{
	for (size_t i = 0; f && i < f->nevidence; i++)
		if (strstr(f->evidence[i], part))
			return true;
	return false;
}

static bool lists(const struct finding *f, const char *cve)
{
	for (size_t i = 0; f && i < f->ncves; i++)
		if (!strcmp(f->cves[i]->id, cve))
			return true;
	return false;
}

/* ---- log4j-core copies: markers place them in 2.13.0..2.14.1 (no
 * log4j2.enableJndi in JndiManager, "${" in MessagePatternConverter,
 * Kubernetes in Interpolator) */

#define CORE "org/apache/logging/log4j/core/"
static const char *const k8s[] = {"Unable to create Kubernetes lookup due to missing dependency: {}", NULL};
static const char *const dollar[] = {"${", "You requested ANSI message rendering but JANSI is not on the classpath.",
				    NULL};

/* The copy's classes under path prefix `at` with suffix `suf`; JndiLookup
 * with suffix `jl` (NULL: none). */
static void add_core(struct mem *m, const char *at, const char *suf, const char *jl)
{
	static char paths[8][160];
	static int next;
	const char *rel[] = {"lookup/Interpolator", "net/JndiManager", "pattern/MessagePatternConverter",
			     "lookup/JndiLookup"};
	const char *const *strs[] = {k8s, NULL, dollar, NULL};
	for (int i = 0; i < 4; i++) {
		const char *s = i == 3 ? jl : suf;
		if (!s)
			continue;
		char *p = paths[next++ % 8];
		snprintf(p, 160, "%s%s%s", at, rel[i], s);
		char own[160];
		snprintf(own, sizeof own, CORE "%s", rel[i]);
		add(m, p, make_class(own, "java/lang/Object", NULL, strs[i]));
	}
}

static void test_suffixes(void)
{
	struct mem m = {0};
	struct detect_result res;
	const struct finding *f;

	/* a .class copy with JndiLookup.class: vulnerable */
	add_core(&m, CORE, ".class", ".class");
	run(&m, false, &res);
	f = only(&res, COMP_CORE);
	CHECK("suffix: plain copy found", f != NULL);
	CHECK_STR("suffix: plain copy's range", f ? f->version : "", "2.13.0..2.14.1");
	CHECK("suffix: plain copy with JndiLookup.class vulnerable", f && f->status == ST_VULNERABLE &&
									  lists(f, "CVE-2021-44228"));
	detect_result_free(&res);
	mem_free(&m);

	/* JndiLookup.class removed, a JndiLookup.classdata left beside: the
	 * stray is not the copy's, so it is mitigated */
	add_core(&m, CORE, ".class", ".classdata");
	run(&m, false, &res);
	f = only(&res, COMP_CORE);
	CHECK("suffix: stray .classdata does not count", f && f->status == ST_MITIGATED && !lists(f, "CVE-2021-44228"));
	CHECK("suffix: mitigated evidence names .class", has_evidence(f, "lookup/JndiLookup.class removed"));
	detect_result_free(&res);
	mem_free(&m);

	/* a Java agent's copy: every class .esclazz under its own prefix, with a
	 * stray .class: the agent's suffix rules */
	add_core(&m, "agent/" CORE, ".esclazz", ".esclazz");
	add_cls(&m, "agent/" CORE "util/Stray.class", CORE "util/Stray", "java/lang/Object", NULL, NULL);
	run(&m, false, &res);
	f = only(&res, COMP_CORE);
	CHECK("suffix: agent copy vulnerable", f && f->status == ST_VULNERABLE);
	CHECK_STR("suffix: agent copy root", f ? f->root : "", "agent/" CORE);
	CHECK("suffix: agent copy evidence says so", has_evidence(f, "classes stored as .esclazz (4 of the 5"));
	detect_result_free(&res);
	mem_free(&m);

	/* the agent's copy without JndiLookup.esclazz but a stray JndiLookup.class */
	add_core(&m, CORE, ".classdata", ".class");
	run(&m, false, &res);
	f = only(&res, COMP_CORE);
	CHECK("suffix: agent copy without its JndiLookup is mitigated", f && f->status == ST_MITIGATED);
	detect_result_free(&res);
	mem_free(&m);

	/* a tie goes to .class: one .class key, one .classdata key */
	add_cls(&m, CORE "pattern/MessagePatternConverter.class", CORE "pattern/MessagePatternConverter",
		"java/lang/Object", NULL, dollar);
	add_cls(&m, CORE "lookup/JndiLookup.classdata", CORE "lookup/JndiLookup", "java/lang/Object", NULL, NULL);
	run(&m, false, &res);
	f = only(&res, COMP_CORE);
	CHECK("suffix: tie goes to .class", f && f->status == ST_MITIGATED);
	detect_result_free(&res);
	mem_free(&m);
}

static void test_claims(void)
{
	struct mem m = {0};
	struct detect_result res;
	const struct finding *f;
	static const char *pom = "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties";
	struct {
		const char *pom, *mf, *want_version, *want_source, *evidence;
	} cases[] = {
		{"version=2.14.1\n", NULL, "2.14.1", "pom.properties", "pom.properties: version 2.14.1"},
		{"version=2.14.1.redhat-00001\n", NULL, "2.14.1.redhat-00001", "pom.properties", NULL},
		{"version=2.17.3\n", NULL, "2.13.0..2.14.1", "bytecode-over-metadata",
		 "pom.properties says 2.17.3, which is not a known log4j-core release: the class files decide (2.13.0..2.14.1)"},
		{"version=2.99.0\n", NULL, "2.13.0..2.14.1", "bytecode-over-metadata", "2.99.0, which is not a known"},
		{"version=2.17.1\n", NULL, "2.13.0..2.14.1", "bytecode-over-metadata",
		 "pom.properties says 2.17.1 but the class files say 2.13.0..2.14.1"},
		{"version=2.14.1-SNAPSHOT\n", NULL, "2.13.0..2.14.1", "bytecode-over-metadata", "2.14.1-SNAPSHOT, which is not"},
		{"version=abc\n", NULL, "2.13.0..2.14.1", "bytecode-over-metadata", "says \"abc\", which is not a version"},
		{"version=2.17.1\x01x\n", NULL, "2.13.0..2.14.1", "bytecode-over-metadata", "says \"2.17.1?x\""},
		{"version=2222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222222\n",
		 NULL, "2.13.0..2.14.1", "bytecode-over-metadata", "222...\", which is not a version"},
		/* the pom lies, the manifest does not */
		{"version=2.17.3\n", "Implementation-Title: Apache Log4j Core\nImplementation-Version: 2.14.0\n", "2.14.0",
		 "manifest", "pom.properties says 2.17.3"},
		/* a fat jar's manifest is about the application: not a claim */
		{NULL, "Implementation-Title: My App\nImplementation-Version: 2.17.1\n", "2.13.0..2.14.1", "bytecode", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		add_core(&m, CORE, ".class", ".class");
		if (cases[i].pom)
			add_text(&m, pom, cases[i].pom);
		if (cases[i].mf)
			add_text(&m, "META-INF/MANIFEST.MF", cases[i].mf);
		run(&m, false, &res);
		f = only(&res, COMP_CORE);
		char name[200];
		snprintf(name, sizeof name, "claims %zu: version", i);
		CHECK_STR(name, f ? f->version : "(none)", cases[i].want_version);
		snprintf(name, sizeof name, "claims %zu: version_source", i);
		CHECK_STR(name, f ? f->version_source : "(none)", cases[i].want_source);
		snprintf(name, sizeof name, "claims %zu: vulnerable whatever the claim", i);
		CHECK(name, f && f->status == ST_VULNERABLE && lists(f, "CVE-2021-44228"));
		if (cases[i].evidence) {
			snprintf(name, sizeof name, "claims %zu: evidence shows the claim", i);
			CHECK(name, has_evidence(f, cases[i].evidence));
		}
		if (f && !strcmp(cases[i].want_source, "bytecode-over-metadata") && f->nevidence) {
			/* nothing unprintable reaches the evidence */
			bool clean = true;
			for (size_t e = 0; e < f->nevidence; e++)
				for (const char *p = f->evidence[e]; *p; p++)
					clean &= (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f;
			snprintf(name, sizeof name, "claims %zu: evidence is printable", i);
			CHECK(name, clean);
		}
		detect_result_free(&res);
		mem_free(&m);
	}
	/* --bytecode-only reads no metadata: no claim, no evidence of one */
	add_core(&m, CORE, ".class", ".class");
	add_text(&m, pom, "version=2.17.3\n");
	run(&m, true, &res);
	f = only(&res, COMP_CORE);
	CHECK("claims: --bytecode-only ignores metadata",
	      f && !strcmp(f->version_source, "bytecode") && !has_evidence(f, "2.17.3"));
	CHECK("claims: --bytecode-only reads no pom", m.reads[m.n - 1] == 0);
	detect_result_free(&res);
	mem_free(&m);
	/* metadata with no class evidence makes no finding */
	add_text(&m, pom, "version=2.14.1\n");
	run(&m, false, &res);
	CHECK("claims: a pom alone is no finding", res.nfindings == 0);
	detect_result_free(&res);
	mem_free(&m);
}

/* ---- Log4j 1.x */

#define L1 "org/apache/log4j/"
static const char *const impl_refs[] = {"java/util/Vector", L1 "Priority", L1 "helpers/AppenderAttachableImpl", "[Ljava/lang/Object;", "[I", NULL};
static const char *const bridge_refs[] = {L1 "Priority", "org/apache/logging/log4j/Logger", NULL};
static const char *const slf4j_refs[] = {L1 "Priority", "org/slf4j/Logger", NULL};
static const char *const jndiutil[] = {L1 "net/JNDIUtil", NULL};

static void add_l1(struct mem *m, const char *const *cat_refs, bool helpers, bool jms)
{
	add_cls(m, L1 "Category.class", L1 "Category", "java/lang/Object", cat_refs, NULL);
	if (helpers)
		add_cls(m, L1 "helpers/OptionConverter.class", L1 "helpers/OptionConverter", "java/lang/Object", NULL, NULL);
	if (jms)
		add_cls(m, L1 "net/JMSAppender.class", L1 "net/JMSAppender", L1 "AppenderSkeleton", NULL, NULL);
}

static void test_log4j1(void)
{
	struct mem m = {0};
	struct detect_result res;
	const struct finding *f;

	add_l1(&m, impl_refs, true, true);
	run(&m, false, &res);
	f = only(&res, COMP_LOG4J1);
	CHECK("1.x: implementation found", f && lists(f, "CVE-2021-4104") && f->status == ST_VULNERABLE);
	CHECK("1.x: evidence says implementation", has_evidence(f, "is the Log4j 1.x implementation"));
	detect_result_free(&res);
	mem_free(&m);

	/* beside Log4j 2 classes (a jar-with-dependencies during a migration) */
	add_l1(&m, impl_refs, true, true);
	add_core(&m, CORE, ".class", ".class");
	add_cls(&m, "org/apache/logging/log4j/LogManager.class", "org/apache/logging/log4j/LogManager",
		"java/lang/Object", NULL, NULL);
	run(&m, false, &res);
	CHECK("1.x: found beside Log4j 2", only(&res, COMP_LOG4J1) != NULL && only(&res, COMP_CORE) != NULL);
	detect_result_free(&res);
	mem_free(&m);

	/* the bridges are not 1.x */
	add_l1(&m, bridge_refs, true, false);
	run(&m, false, &res);
	CHECK("1.x: log4j-1.2-api is not 1.x", res.nfindings == 0);
	detect_result_free(&res);
	mem_free(&m);
	add_l1(&m, slf4j_refs, true, false);
	run(&m, false, &res);
	CHECK("1.x: log4j-over-slf4j is not 1.x", res.nfindings == 0);
	detect_result_free(&res);
	mem_free(&m);

	/* ... but a bridge's Category does not hide 1.x's JMSAppender */
	add_l1(&m, bridge_refs, true, true);
	run(&m, false, &res);
	f = only(&res, COMP_LOG4J1);
	CHECK("1.x: bridge beside 1.x classes reported", f && lists(f, "CVE-2021-4104"));
	CHECK("1.x: evidence names the bridge", has_evidence(f, "is a bridge (it refers to org/apache/logging/log4j/Logger)"));
	detect_result_free(&res);
	mem_free(&m);

	/* relocated: the root moves, the judgement does not */
	static const char *const shaded_refs[] = {"shade/org/apache/log4j/Priority", "java/lang/String", NULL};
	add_cls(&m, "shade/" L1 "Category.class", "shade/" L1 "Category", "java/lang/Object", shaded_refs, NULL);
	add_cls(&m, "shade/" L1 "helpers/OptionConverter.class", "shade/" L1 "helpers/OptionConverter",
		"java/lang/Object", NULL, NULL);
	run(&m, false, &res);
	f = only(&res, COMP_LOG4J1);
	CHECK_STR("1.x: relocated copy found at its root", f ? f->root : "", "shade/" L1);
	detect_result_free(&res);
	mem_free(&m);

	/* a Category that names another class would not load as Category */
	add_cls(&m, L1 "Category.class", "com/acme/Other", "java/lang/Object", NULL, NULL);
	add_cls(&m, L1 "helpers/OptionConverter.class", L1 "helpers/OptionConverter", "java/lang/Object", NULL, NULL);
	run(&m, false, &res);
	CHECK("1.x: decoy Category is not 1.x", res.nfindings == 0);
	detect_result_free(&res);
	mem_free(&m);

	/* reload4j's JMSAppender calls JNDIUtil (java: names only): fixed */
	add_l1(&m, impl_refs, true, false);
	add_cls(&m, L1 "net/JMSAppender.class", L1 "net/JMSAppender", L1 "AppenderSkeleton", jndiutil, NULL);
	add_text(&m, "META-INF/maven/ch.qos.reload4j/reload4j/pom.properties", "version=1.2.25\n");
	run(&m, false, &res);
	f = only(&res, COMP_LOG4J1);
	CHECK("1.x: reload4j's JMSAppender is not CVE-2021-4104", f && !lists(f, "CVE-2021-4104") && f->status == ST_SAFE);
	CHECK_STR("1.x: reload4j version from its pom", f ? f->version : "", "1.2.25");
	CHECK("1.x: evidence says why", has_evidence(f, "CVE-2021-4104 does not apply: net/JMSAppender refers to net/JNDIUtil"));
	detect_result_free(&res);
	mem_free(&m);

	/* a 1.x pom naming no 1.x release is not believed, and changes nothing */
	add_l1(&m, impl_refs, true, true);
	add_text(&m, "META-INF/maven/log4j/log4j/pom.properties", "version=2.99.0\n");
	run(&m, false, &res);
	f = only(&res, COMP_LOG4J1);
	CHECK("1.x: unknown pom version not believed", f && !strcmp(f->version, "") && !strcmp(f->version_source, "unknown"));
	CHECK("1.x: unknown pom version still vulnerable", f && lists(f, "CVE-2021-4104"));
	detect_result_free(&res);
	mem_free(&m);

	/* a 1.x copy whose Category cannot be read: reported, with one error
	 * record however often the entry is asked for */
	add_l1(&m, impl_refs, true, true);
	m.unreadable[0] = true;
	run(&m, false, &res);
	CHECK("1.x: unreadable Category still reported", only(&res, COMP_LOG4J1) != NULL);
	CHECK("1.x: one error record for it", res.nerrors == 1 && res.errors[0].entry == 0);
	detect_result_free(&res);
	mem_free(&m);
}

int main(void)
{
	struct buf err = BUF_INIT;
	struct rules *r = rules_default(&err);
	CHECK("built-in rules parse", r != NULL);
	if (!r)
		UNIT_EXIT();
	R = r;
	test_suffixes();
	test_claims();
	test_log4j1();
	rules_free(r);
	buf_free(&err);
	UNIT_EXIT();
}
