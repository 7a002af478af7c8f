/* test_rules.c - unit tests for the rules parser (lib/rules/rules.c): the built-in
 * rules load and hold what the code relies on; every kind of mistake in a
 * rules file is refused with "line N: reason" naming the right line; quoting,
 * comments and CRLF work; and an edited rules file changes verdicts (a
 * CVE range removed makes a release safe) with no rebuild. */
#include <stdlib.h>

#include "detect/detect.h"
#include "rules/rules.h"
#include "unit.h"

/* A small valid rules text that the error cases below modify. */
static const char BASE[] =
	"# comment line\n"
	"releases log4j-core 2.0 2.1 2.14.1 2.17.0 2.17.1\n"
	"releases log4j-1.x 1.2.17\n"
	"cve CVE-X log4j-core 9.5 \"a \\\"quoted\\\" title # not a comment\"\n"
	"affected CVE-X 2.0 2.17.1\n"
	"fixed CVE-X 2.17.1\n"
	"mitigated-if-absent CVE-X lookup/JndiLookup\n"
	"source CVE-X https://example.org/x\n"
	"marker log4j-core net/JndiManager has \"enableJndi\" 2.17.0..\n"
	"hash log4j-core lookup/JndiLookup 00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF 2.14.1\n"
	"advice log4j-core \"upgrade\"\n";

static struct rules *parse(const char *text, struct buf *err)
{
	buf_reset(err);
	return rules_parse(text, strlen(text), err);
}

/* BASE with line `lineno` (1-based) replaced by `repl` (NULL: deleted). */
static char *edit(int lineno, const char *repl)
{
	struct buf b = BUF_INIT;
	const char *p = BASE;
	for (int n = 1; *p; n++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (n == lineno) {
			if (repl) {
				buf_adds(&b, repl);
				buf_addc(&b, '\n');
			}
		} else {
			buf_add(&b, p, len);
		}
		p += len;
	}
	return buf_detach(&b);
}

static void expect_error(const char *name, int lineno, const char *repl, const char *want)
{
	struct buf err = BUF_INIT;
	char *text = edit(lineno, repl);
	struct rules *r = parse(text, &err);
	char n[200];
	snprintf(n, sizeof n, "rules: refuses %s", name);
	CHECK(n, r == NULL);
	snprintf(n, sizeof n, "rules: %s message", name);
	if (!strstr(buf_cstr(&err), want))
		printf("# got '%s'\n", buf_cstr(&err));
	CHECK(n, strstr(buf_cstr(&err), want) != NULL);
	rules_free(r);
	free(text);
	buf_free(&err);
}

static void test_base(void)
{
	struct buf err = BUF_INIT;
	struct rules *r = parse(BASE, &err);
	CHECK("rules: base text parses", r != NULL);
	if (!r) {
		printf("# %s\n", buf_cstr(&err));
		return;
	}
	CHECK("rules: releases", r->nreleases[COMP_CORE] == 5 && r->nreleases[COMP_LOG4J1] == 1);
	CHECK("rules: one cve", r->ncves == 1 && !strcmp(r->cves[0].id, "CVE-X"));
	CHECK_STR("rules: quoted title with escapes and #", r->cves[0].title,
		  "a \"quoted\" title # not a comment");
	CHECK("rules: cvss", r->cves[0].cvss == 9.5);
	CHECK("rules: mitigated-if-absent", r->cves[0].nmitigated == 1 &&
						   !strcmp(r->cves[0].mitigated_if_absent[0], "lookup/JndiLookup"));
	CHECK_STR("rules: source", r->cves[0].source, "https://example.org/x");
	CHECK("rules: marker open-ended set", r->nmarkers == 1 && version_set_count(&r->markers[0].versions) == 2 &&
						    version_set_has(&r->markers[0].versions, 3) && version_set_has(&r->markers[0].versions, 4));
	CHECK("rules: hash, mixed-case hex", r->nhashes == 1 && r->hashes[0].sha256[0] == 0x00 &&
						     r->hashes[0].sha256[31] == 0xff && version_set_has(&r->hashes[0].versions, 2));
	CHECK_STR("rules: advice", r->advice[COMP_CORE], "upgrade");
	CHECK("rules: release index", rules_release_index(r, COMP_CORE, "2.14.1") == 2 &&
					      rules_release_index(r, COMP_CORE, "2.14.0") == -1);
	struct version v;
	version_parse("2.17.0", &v);
	CHECK("rules: cve_affects inside range", rules_cve_affects(&r->cves[0], &v));
	version_parse("2.17.1", &v);
	CHECK("rules: cve_affects upper bound excluded", !rules_cve_affects(&r->cves[0], &v));
	version_parse("2.0", &v);
	CHECK("rules: cve_affects lower bound included", rules_cve_affects(&r->cves[0], &v));
	rules_free(r);

	/* CRLF line endings and no final newline */
	struct buf crlf = BUF_INIT;
	for (const char *p = BASE; *p; p++) {
		if (*p == '\n')
			buf_addc(&crlf, '\r');
		buf_addc(&crlf, *p);
	}
	crlf.len -= 2; /* drop the last CRLF */
	r = rules_parse(crlf.data, crlf.len, &err);
	CHECK("rules: CRLF and no final newline", r != NULL && r->ncves == 1 && r->advice[COMP_CORE] &&
							   !strcmp(r->advice[COMP_CORE], "upgrade"));
	rules_free(r);
	buf_free(&crlf);
	buf_free(&err);
}

static void test_errors(void)
{
	expect_error("unknown directive", 2, "relases log4j-core 2.0", "line 2: unknown directive");
	expect_error("unknown component", 2, "releases log4j-cor 2.0", "line 2: unknown component");
	expect_error("releases out of order", 2, "releases log4j-core 2.1 2.0 2.14.1 2.17.0 2.17.1",
		     "line 2: releases must be in ascending order");
	expect_error("duplicate release", 2, "releases log4j-core 2.0 2.0 2.1 2.14.1 2.17.0 2.17.1",
		     "line 2: releases must be in ascending order");
	expect_error("bad release version", 2, "releases log4j-core two", "line 2: bad version");
	expect_error("cve arity", 4, "cve CVE-X log4j-core 9.5", "line 4: cve ID");
	expect_error("bad CVSS", 4, "cve CVE-X log4j-core 11 \"t\"", "line 4: bad CVSS");
	expect_error("non-numeric CVSS", 4, "cve CVE-X log4j-core high \"t\"", "line 4: bad CVSS");
	expect_error("undeclared cve", 5, "affected CVE-Y 2.0 2.17.1", "line 5: CVE not declared");
	expect_error("empty range", 5, "affected CVE-X 2.17.1 2.0", "line 5: bad range");
	expect_error("bad range version", 5, "affected CVE-X 2.0 later", "line 5: bad range");
	expect_error("fixed bad version", 6, "fixed CVE-X soon", "line 6: bad version");
	expect_error("unterminated string", 4, "cve CVE-X log4j-core 9.5 \"title", "line 4: unterminated string");
	expect_error("text after quote", 4, "cve CVE-X log4j-core 9.5 \"t\"x", "line 4: text after closing quote");
	expect_error("marker unknown release", 9, "marker log4j-core net/JndiManager has \"x\" 2.15.0",
		     "line 9: version set names a release not in the releases list");
	expect_error("marker reversed set", 9, "marker log4j-core net/JndiManager has \"x\" 2.17.0..2.1",
		     "line 9: version set names a release");
	expect_error("marker has|lacks", 9, "marker log4j-core net/JndiManager with \"x\" 2.17.0",
		     "line 9: marker needs has or lacks");
	expect_error("short hash", 10, "hash log4j-core lookup/JndiLookup 0011 2.14.1", "line 10: SHA-256 must be 64");
	expect_error("non-hex hash",
		     10, "hash log4j-core lookup/JndiLookup zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff 2.14.1",
		     "line 10: SHA-256 must be 64");
	expect_error("hash unknown release",
		     10, "hash log4j-core lookup/JndiLookup 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff 2.15.0",
		     "line 10: hash names a release not in the releases list");
	expect_error("duplicate cve", 8, "cve CVE-X log4j-core 1 \"again\"", "line 8: duplicate cve");
	expect_error("cve without range", 5, NULL, "a cve has no affected range");
	expect_error("advice arity", 11, "advice log4j-core", "line 11: advice");

	struct buf err = BUF_INIT;
	struct rules *r = parse("", &err);
	CHECK("rules: empty text refused", !r && strstr(buf_cstr(&err), "no cve"));
	r = parse("# only comments\n\n   \n", &err);
	CHECK("rules: comments only refused", !r);
	static const char nul[] = "releases log4j-core 2.0\n\0cve\n";
	r = rules_parse(nul, sizeof nul - 1, &err);
	CHECK("rules: NUL byte refused with line", !r && strstr(buf_cstr(&err), "line 2: NUL byte"));
	/* too many tokens on one line */
	struct buf big = BUF_INIT;
	buf_adds(&big, "releases log4j-core");
	for (int i = 0; i < 400; i++)
		buf_printf(&big, " 2.%d", i);
	buf_addc(&big, '\n');
	r = rules_parse(big.data, big.len, &err);
	CHECK("rules: too many tokens refused", !r && strstr(buf_cstr(&err), "line 1: too many tokens"));
	buf_free(&big);
	/* more releases than a vset holds */
	for (int i = 0; i < 280; i++)
		buf_printf(&big, "%s2.%d", i % 200 == 0 ? "\nreleases log4j-core " : " ", i);
	buf_addc(&big, '\n');
	r = rules_parse(big.data, big.len, &err);
	CHECK("rules: more than VSET_MAX releases refused", !r && strstr(buf_cstr(&err), "too many releases"));
	buf_free(&big);
	buf_free(&err);
}

static bool all_present(void *ctx, const char *cls)
{
	(void)ctx;
	(void)cls;
	return true;
}

/* The built-in rules text with one line removed changes a verdict. */
static void test_edited_default(void)
{
	extern const char l4s_default_rules[];
	const char *drop = "affected CVE-2021-44832 2.13.0 2.17.1\n";
	const char *at = strstr(l4s_default_rules, drop);
	CHECK("rules: default has the 2.13.0..2.17.1 range of CVE-2021-44832", at != NULL);
	if (!at)
		return;
	struct buf t = BUF_INIT, err = BUF_INIT;
	buf_add(&t, l4s_default_rules, (size_t)(at - l4s_default_rules));
	buf_adds(&t, at + strlen(drop));
	struct rules *r = rules_parse(t.data, t.len, &err);
	CHECK("rules: edited default parses", r != NULL);
	struct finding f;
	memset(&f, 0, sizeof f);
	f.comp = COMP_CORE;
	if (r) {
		verdict_evaluate(r, &f, "2.17.0", NULL, &(struct class_probe){all_present, NULL, NULL, NULL});
		CHECK("rules: without the range 2.17.0 is safe", f.status == ST_SAFE && f.ncves == 0);
		verdict_evaluate(r, &f, "2.12.3", NULL, &(struct class_probe){all_present, NULL, NULL, NULL});
		CHECK("rules: without the range 2.12.3 still vulnerable", f.status == ST_VULNERABLE);
	}
	rules_free(r);
	struct rules *d = rules_default(&err);
	CHECK("rules: default parses", d != NULL);
	if (d) {
		verdict_evaluate(d, &f, "2.17.0", NULL, &(struct class_probe){all_present, NULL, NULL, NULL});
		CHECK("rules: default says 2.17.0 vulnerable", f.status == ST_VULNERABLE);
		CHECK("rules: default has 11 CVEs", d->ncves == 11);
		CHECK("rules: default knows 2.14.1", rules_release_index(d, COMP_CORE, "2.14.1") >= 0);
		/* every marker set and hash is inside the release list */
		int bad = 0;
		for (size_t i = 0; i < d->nmarkers; i++)
			bad += version_set_empty(&d->markers[i].versions) ||
			       version_set_last(&d->markers[i].versions) >= (int)d->nreleases[d->markers[i].comp];
		for (size_t i = 0; i < d->nhashes; i++)
			bad += version_set_empty(&d->hashes[i].versions);
		CHECK("rules: default markers and hashes name known releases", bad == 0);
	}
	rules_free(d);
	buf_free(&t);
	buf_free(&err);
}

/* unless-refers: parsed into (class, ref) pairs, one per REF; refused
 * without a class and a ref; rules_release_of and rules_set_text. */
static void test_refs(void)
{
	const char *t = "releases log4j-1.x 1.2.16 1.2.17 1.2.18.0\n"
			"releases log4j-core 2.0\n"
			"cve CVE-R log4j-1.x 7.5 \"r\"\n"
			"affected CVE-R 1.0 2.0\n"
			"requires-class CVE-R net/JMSAppender\n"
			"unless-refers CVE-R net/JMSAppender net/JNDIUtil net/Other\n"
			"unless-refers CVE-R chainsaw/LoggingReceiver$Slurper net/Hardened\n";
	struct buf err = BUF_INIT;
	struct rules *r = rules_parse(t, strlen(t), &err);
	CHECK("rules: unless-refers parses", r != NULL);
	if (r) {
		const struct rule_cve *c = &r->cves[0];
		CHECK("rules: unless-refers gives one pair per REF", c->nunless_refs == 3);
		CHECK("rules: unless-refers pairs",
		      c->nunless_refs == 3 && !strcmp(c->unless_refs[0].cls, "net/JMSAppender") &&
			      !strcmp(c->unless_refs[0].ref, "net/JNDIUtil") &&
			      !strcmp(c->unless_refs[1].ref, "net/Other") &&
			      !strcmp(c->unless_refs[2].cls, "chainsaw/LoggingReceiver$Slurper"));
		struct version v;
		version_parse("1.2.18.0", &v);
		CHECK("rules: release_of a four-part release", rules_release_of(r, COMP_LOG4J1, &v) == 2);
		version_parse("1.2.17-SNAPSHOT", &v);
		CHECK("rules: release_of a snapshot is none", rules_release_of(r, COMP_LOG4J1, &v) == -1);
		version_parse("1.2.17.redhat-1", &v);
		CHECK("rules: release_of a vendor build names its release", rules_release_of(r, COMP_LOG4J1, &v) == 1);
		struct vset s;
		char txt[64];
		memset(&s, 0, sizeof s);
		rules_set_text(r, COMP_LOG4J1, &s, txt, sizeof txt);
		CHECK_STR("rules: empty set text", txt, "");
		version_set_add(&s, 1);
		rules_set_text(r, COMP_LOG4J1, &s, txt, sizeof txt);
		CHECK_STR("rules: one-release set text", txt, "1.2.17");
		version_set_add(&s, 0);
		version_set_add(&s, 2);
		rules_set_text(r, COMP_LOG4J1, &s, txt, sizeof txt);
		CHECK_STR("rules: range set text", txt, "1.2.16..1.2.18.0");
	} else {
		printf("# %s\n", buf_cstr(&err));
	}
	rules_free(r);
	buf_reset(&err);
	const char *bad = "releases log4j-core 2.0\ncve CVE-R log4j-core 1 \"r\"\naffected CVE-R 2.0 3.0\n"
			  "unless-refers CVE-R net/JMSAppender\n";
	r = rules_parse(bad, strlen(bad), &err);
	CHECK("rules: unless-refers without a REF refused", !r && strstr(buf_cstr(&err), "line 4: unless-refers"));
	buf_free(&err);
}

static void test_severity(void)
{
	CHECK_STR("severity: 10.0 critical", rules_severity_of(10.0), "critical");
	CHECK_STR("severity: 9.0 critical", rules_severity_of(9.0), "critical");
	CHECK_STR("severity: 8.9 high", rules_severity_of(8.9), "high");
	CHECK_STR("severity: 7.0 high", rules_severity_of(7.0), "high");
	CHECK_STR("severity: 6.6 medium", rules_severity_of(6.6), "medium");
	CHECK_STR("severity: 3.7 low", rules_severity_of(3.7), "low");
	CHECK_STR("severity: 0 none", rules_severity_of(0), "none");
	CHECK("severity: ranks", rules_severity_rank("none") == 0 && rules_severity_rank("low") == 1 &&
					 rules_severity_rank("critical") == 4 && rules_severity_rank("bogus") == -1);
	CHECK_STR("component names", rules_component_name(COMP_LOG4J1), "log4j-1.x");
}

int main(void)
{
	test_base();
	test_errors();
	test_edited_default();
	test_refs();
	test_severity();
	UNIT_EXIT();
}
