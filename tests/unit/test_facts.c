/* test_facts.c - unit tests for a finding's facts (lib/detect/facts.c) and the
 * verdict from facts (verdict_judge, lib/detect/verdict.c): the text form round
 * trips and refuses what is not facts; with the rules that produced them,
 * facts give the verdict verdict_evaluate gives; under other rules (a CVE
 * added, a release added) the verdict follows the new rules; a class the
 * facts do not know never hides a CVE. */
#include <stdlib.h>

#include "detect/detect.h"
#include "detect/facts.h"
#include "rules/rules.h"
#include "unit.h"

static bool all_present(void *ctx, const char *cls)
{
	return true;
}

static bool parse_cstr(const char *s, struct facts *fx)
{
	struct buf err = BUF_INIT;
	bool ok = facts_parse(s, strlen(s), fx, &err);
	buf_free(&err);
	return ok;
}

static void test_text(void)
{
	static const char *good[] = {
		"v1",
		"v1 set=",
		"v1 set=2.14.0..2.14.1 +lookup/JndiLookup",
		"v1 set=2.0-beta9..2.3.1,2.4..2.12.1,2.13.0 pom=2.14.1 mf? +lookup/JndiLookup",
		"v1 mf=1.2.17 +net/SocketServer -chainsaw/ @net/JMSSink>net/JNDIUtil !chainsaw/A$B>net/X",
		"v1 pom? mf=2.17.1.redhat-00001",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct facts fx;
		bool ok = parse_cstr(good[i], &fx);
		struct buf out = BUF_INIT;
		if (ok)
			facts_format(&fx, &out);
		char name[160];
		snprintf(name, sizeof name, "facts: \"%.100s\" parses and formats back", good[i]);
		CHECK_STR(name, ok ? buf_cstr(&out) : "(refused)", good[i]);
		buf_free(&out);
		facts_free(&fx);
	}
	static const char *bad[] = {
		"", "v2", "set=2.14.1", "v1 set=2.14.1 set=2.15.0", "v1 set=..2.1", "v1 set=2.1..",
		"v1 set=2.1,", "v1 set=,2.1", "v1 pom=", "v1 pom=1 mf=2 pom=3", "v1 +", "v1 +a +a",
		"v1 +a>b", "v1 @a", "v1 @a>", "v1 @>b", "v1 @a>b>c", "v1 x", "v1 +a\tb", "v1 pom=\xc3\xa9",
		"v1 set=1..2..3",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct facts fx;
		struct buf err = BUF_INIT;
		bool ok = facts_parse(bad[i], strlen(bad[i]), &fx, &err);
		char name[160];
		snprintf(name, sizeof name, "facts: \"%s\" refused with a reason", bad[i]);
		CHECK(name, !ok && err.len > 0 && fx.nruns == 0 && fx.nclasses == 0);
		buf_free(&err);
		facts_free(&fx);
	}
	/* a name the text form cannot carry is left out (unknown), not garbled */
	struct facts fx;
	memset(&fx, 0, sizeof fx);
	facts_add_class(&fx, "has space", true);
	facts_add_class(&fx, "ok/Name", false);
	struct buf out = BUF_INIT;
	facts_format(&fx, &out);
	CHECK_STR("facts: unwritable class left out", buf_cstr(&out), "v1 -ok/Name");
	buf_free(&out);
	facts_free(&fx);
}

static bool same_ids(const struct rule_cve *const *a, size_t na, const struct rule_cve *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i]->id, b[i]->id))
			return false;
	return true;
}

static bool same_verdict(const struct finding *a, const struct finding *b)
{
	return a->status == b->status && same_ids(a->cves, a->ncves, b->cves, b->ncves) &&
	       same_ids(a->mitigated, a->nmitigated, b->mitigated, b->nmitigated) &&
	       !strcmp(a->severity, b->severity) && !strcmp(a->fixed_in, b->fixed_in);
}

static bool jndi_absent(void *ctx, const char *cls)
{
	return strcmp(cls, "lookup/JndiLookup") != 0;
}

/* Every release of every component, exact and as a one-release set, with
 * JndiLookup present and absent: the verdict from facts is the evaluation's. */
static void test_same_as_evaluate(const struct rules *r)
{
	int bad = 0, n = 0;
	for (int c = 0; c < COMP_COUNT; c++)
		for (size_t k = 0; k < r->nreleases[c]; k++)
			for (int absent = 0; absent < 2; absent++)
				for (int as_claim = 0; as_claim < 2; as_claim++) {
					struct finding want, got;
					memset(&want, 0, sizeof want);
					memset(&got, 0, sizeof got);
					want.comp = got.comp = (enum component)c;
					struct vset s;
					memset(&s, 0, sizeof s);
					version_set_add(&s, (int)k);
					struct class_probe p = {absent ? jndi_absent : all_present, NULL, NULL, NULL};
					verdict_evaluate(r, &want, as_claim ? r->releases[c][k] : NULL,
							as_claim ? NULL : &s, &p);
					struct facts fx;
					memset(&fx, 0, sizeof fx);
					fx.constrained = true;
					facts_add_run(&fx, r->releases[c][k], r->releases[c][k]);
					if (as_claim)
						facts_add_claim(&fx, "pom.properties", r->releases[c][k]);
					for (size_t i = 0; i < r->ncves; i++)
						for (size_t m = 0; m < r->cves[i].nmitigated; m++)
							facts_add_class(&fx, r->cves[i].mitigated_if_absent[m],
									p.has(NULL, r->cves[i].mitigated_if_absent[m]));
					for (size_t i = 0; i < r->ncves; i++) {
						for (size_t m = 0; m < r->cves[i].nrequires; m++)
							facts_add_class(&fx, r->cves[i].requires_class[m], true);
						for (size_t m = 0; m < r->cves[i].nunless; m++)
							facts_add_class(&fx, r->cves[i].unless_class[m], true);
					}
					verdict_judge(r, &fx, &got);
					n++;
					if (!same_verdict(&want, &got) ||
					    strcmp(got.version, r->releases[c][k]) ||
					    strcmp(got.version_source, as_claim ? "pom.properties" : "bytecode")) {
						printf("#   %s %s absent=%d claim=%d: %s/%zu vs %s/%zu (%s)\n",
						       rules_component_name((enum component)c), r->releases[c][k], absent,
						       as_claim, finding_status_name(want.status), want.ncves,
						       finding_status_name(got.status), got.ncves, got.version);
						bad++;
					}
					facts_free(&fx);
				}
	char name[120];
	snprintf(name, sizeof name, "verdict: facts give detect_evaluate's verdict (%d cases)", n);
	CHECK(name, bad == 0 && n > 100);
}

static struct rules *with_extra(const char *extra)
{
	extern const char l4s_default_rules[];
	struct buf t = BUF_INIT, err = BUF_INIT;
	buf_adds(&t, l4s_default_rules);
	buf_adds(&t, extra);
	struct rules *r = rules_parse(t.data, t.len, &err);
	if (!r)
		printf("#   %s\n", buf_cstr(&err));
	buf_free(&t);
	buf_free(&err);
	return r;
}

static bool has_id(const struct rule_cve *const *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i]->id, id))
			return true;
	return false;
}

static void judge(const struct rules *r, const char *text, struct finding *f)
{
	struct facts fx;
	memset(f, 0, sizeof *f);
	f->comp = COMP_CORE;
	if (!parse_cstr(text, &fx))
		printf("#   does not parse: %s\n", text);
	verdict_judge(r, &fx, f);
	facts_free(&fx);
}

static void test_other_rules(const struct rules *d)
{
	struct rules *r = with_extra("cve CVE-2099-0001 log4j-core 9.1 \"fictional\"\n"
				     "affected CVE-2099-0001 2.17.0 2.18.0\n"
				     "fixed CVE-2099-0001 2.18.0\n"
				     "mitigated-if-absent CVE-2099-0001 lookup/JndiLookup\n"
				     "cve CVE-2099-0002 log4j-core 5.0 \"needs a class\"\n"
				     "affected CVE-2099-0002 2.19.0 *\n"
				     "requires-class CVE-2099-0002 appender/Fictional\n"
				     "unless-class CVE-2099-0002 appender/FictionalFix\n"
				     "releases log4j-core 2.26.0\n");
	CHECK("verdict: extended rules parse", r != NULL);
	if (!r)
		return;
	struct finding f;
	judge(d, "v1 set=2.17.1 pom=2.17.1 +lookup/JndiLookup", &f);
	CHECK("verdict: 2.17.1 safe under the default rules", f.status == ST_SAFE);
	judge(r, "v1 set=2.17.1 pom=2.17.1 +lookup/JndiLookup", &f);
	CHECK("verdict: 2.17.1 vulnerable to the added CVE", f.status == ST_VULNERABLE &&
	      f.ncves == 1 && has_id(f.cves, f.ncves, "CVE-2099-0001") && !strcmp(f.severity, "critical"));
	CHECK_STR("verdict: fixed_in follows the added CVE", f.fixed_in, "2.18.0");
	judge(r, "v1 set=2.17.0..2.17.1 -lookup/JndiLookup", &f);
	CHECK("verdict: the added CVE mitigated by the class removed",
	      f.status == ST_MITIGATED && has_id(f.mitigated, f.nmitigated, "CVE-2099-0001"));
	judge(r, "v1 set=2.18.0 +lookup/JndiLookup", &f);
	CHECK("verdict: 2.18.0 outside the added range", f.status == ST_SAFE);
	/* requires-class and unless-class the facts do not mention */
	judge(r, "v1 set=2.19.0 pom=2.19.0 +lookup/JndiLookup", &f);
	CHECK("verdict: unknown required class counts as present",
	      f.status == ST_VULNERABLE && has_id(f.cves, f.ncves, "CVE-2099-0002"));
	judge(r, "v1 set=2.19.0 +lookup/JndiLookup -appender/Fictional", &f);
	CHECK("verdict: required class known absent: CVE does not apply", f.status == ST_SAFE);
	judge(r, "v1 set=2.19.0 +appender/Fictional +appender/FictionalFix", &f);
	CHECK("verdict: unless-class known present clears it", f.status == ST_SAFE);
	/* a claim of a release the old rules did not know: believed now */
	judge(d, "v1 pom=2.26.0", &f);
	CHECK_STR("verdict: unknown release claim not believed (default rules)", f.version_source, "unknown");
	judge(r, "v1 pom=2.26.0", &f);
	CHECK_STR("verdict: claim believed once the rules know the release", f.version, "2.26.0");
	CHECK("verdict: 2.26.0 judged by the added CVE", has_id(f.cves, f.ncves, "CVE-2099-0002"));
	/* a claim the class set excludes is not believed; the set decides */
	judge(d, "v1 set=2.14.0..2.14.1 pom=2.17.1 +lookup/JndiLookup", &f);
	CHECK("verdict: claim outside the set not believed",
	      !strcmp(f.version, "2.14.0..2.14.1") && !strcmp(f.version_source, "bytecode-over-metadata") &&
	      f.status == ST_VULNERABLE);
	/* no set, no claim: every CVE of the component applies */
	judge(d, "v1 +lookup/JndiLookup", &f);
	CHECK("verdict: unknown version: vulnerable", f.status == ST_VULNERABLE && f.ncves >= 5 &&
	      !f.fixed_in[0]);
	rules_free(r);
}

int main(void)
{
	test_text();
	struct buf err = BUF_INIT;
	struct rules *d = rules_default(&err);
	CHECK("rules: default parses", d != NULL);
	if (d) {
		test_same_as_evaluate(d);
		test_other_rules(d);
	}
	rules_free(d);
	buf_free(&err);
	UNIT_EXIT();
}
