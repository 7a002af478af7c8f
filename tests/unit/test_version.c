/* test_version.c - unit tests for version parsing/ordering (lib/rules/version.c)
 * and the CVE evaluation over the built-in rules (verdict_evaluate): for each
 * release shape, which CVEs apply, the status, the severity and the release
 * to upgrade to; release sets (bytecode ranges) and removed-class mitigation.
 * Expected CVE lists follow the Apache security page as recorded in
 * ../shared/corpus/manifest.tsv. */
#include <stdlib.h>

#include "detect/detect.h"
#include "rules/rules.h"
#include "rules/version.h"
#include "unit.h"

static int cmp(const char *a, const char *b)
{
	return version_strcmp(a, b);
}

static void test_order(void)
{
	/* strictly ascending */
	static const char *asc[] = {"2.0-alpha1", "2.0-alpha2", "2.0-beta2", "2.0-beta9", "2.0-beta10",
				    "2.0-rc1", "2.0-rc2", "2.0-SNAPSHOT", "2.0", "2.0.1", "2.0.2",
				    "2.1", "2.3", "2.3.1", "2.3.2", "2.4", "2.9.1", "2.10.0",
				    "2.12.4", "2.17.0", "2.17.1-SNAPSHOT", "2.17.1", "2.17.2",
				    "2.100.0", "3.0.0-beta1", "3.0.0"};
	size_t n = sizeof asc / sizeof asc[0];
	int bad = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int c = cmp(asc[i], asc[j]), want = i < j ? -1 : i > j ? 1 : 0;
			if ((c > 0) - (c < 0) != want) {
				printf("#   %s vs %s: %d, want %d\n", asc[i], asc[j], c, want);
				bad++;
			}
		}
	CHECK("version: maven order over 26 shapes (all pairs)", bad == 0);
	CHECK("version: 2.0 == 2.0.0", cmp("2.0", "2.0.0") == 0);
	CHECK("version: 2.17.1 == 2.17.1.0", cmp("2.17.1", "2.17.1.0") == 0);
	CHECK("version: vendor build sorts with its release", cmp("2.17.1.redhat-00001", "2.17.1") == 0);
	CHECK("version: vendor build above previous release", cmp("2.17.1.redhat-00001", "2.17.0") > 0);
	CHECK("version: numbers compare numerically (2.9.1 < 2.10.0)", cmp("2.9.1", "2.10.0") < 0);
	CHECK("version: stage words are case-insensitive", cmp("2.0-BETA9", "2.0-beta9") == 0);
	CHECK("version: fourth component counts", cmp("1.2.17.1", "1.2.17") > 0);
	CHECK("version: 1.x below 2.x", cmp("1.2.17", "2.0-alpha1") < 0);
	CHECK("version: unparsable sorts first", cmp("", "0.0") < 0 && cmp("x", "2.0") < 0);
	CHECK("version: two unparsable compare equal", cmp("abc", "xyz") == 0);
	struct version v;
	CHECK("version: parse rejects leading letters", !version_parse("v2.14.1", &v));
	CHECK("version: parse rejects empty", !version_parse("", &v));
	CHECK("version: parse accepts 2.14.1", version_parse("2.14.1", &v) && v.num[0] == 2 &&
						       v.num[1] == 14 && v.num[2] == 1 && v.stage == 5);
	CHECK("version: parse beta number", version_parse("2.0-beta9", &v) && v.stage == 2 && v.stage_num == 9);
	CHECK("version: huge numbers do not overflow",
	      version_parse("99999999999999999999.1", &v) && v.num[0] >= 0 && v.num[1] == 1);
	CHECK("version: huge stage number does not overflow",
	      version_parse("2.0-rc99999999999999999", &v) && v.stage == 3 && v.stage_num >= 0);
	CHECK("version: trailing dot", version_parse("2.", &v) && v.num[0] == 2 && v.num[1] == 0);
}

static void test_vset(void)
{
	struct vset s, t;
	version_set_fill(&s, 0);
	CHECK("vset: fill 0 is empty", version_set_empty(&s) && version_set_first(&s) == -1 && version_set_last(&s) == -1);
	version_set_fill(&s, 64);
	CHECK("vset: fill 64", version_set_count(&s) == 64 && version_set_first(&s) == 0 && version_set_last(&s) == 63);
	version_set_fill(&s, 65);
	CHECK("vset: fill 65 crosses a word", version_set_count(&s) == 65 && version_set_last(&s) == 64);
	version_set_fill(&s, VSET_MAX);
	CHECK("vset: fill VSET_MAX", version_set_count(&s) == VSET_MAX && version_set_last(&s) == VSET_MAX - 1);
	version_set_fill(&s, VSET_MAX + 10);
	CHECK("vset: fill beyond VSET_MAX is clamped", version_set_count(&s) == VSET_MAX);
	memset(&t, 0, sizeof t);
	version_set_add(&t, 63);
	version_set_add(&t, 64);
	version_set_add(&t, 200);
	CHECK("vset: has", version_set_has(&t, 63) && version_set_has(&t, 64) && version_set_has(&t, 200) && !version_set_has(&t, 0));
	version_set_fill(&s, 100);
	version_set_and(&s, &t);
	CHECK("vset: and", version_set_count(&s) == 2 && version_set_first(&s) == 63 && version_set_last(&s) == 64);
	memset(&t, 0, sizeof t);
	version_set_and(&s, &t);
	CHECK("vset: and with empty", version_set_empty(&s));
}

static const struct rules *R;

static bool all_present(void *ctx, const char *cls)
{
	(void)ctx;
	(void)cls;
	return true;
}

static bool jndilookup_absent(void *ctx, const char *cls)
{
	(void)ctx;
	return strcmp(cls, "lookup/JndiLookup") != 0;
}

/* "CVE-a,CVE-b" in rules order */
static void cves_of(const struct finding *f, char *out, size_t n)
{
	out[0] = 0;
	for (size_t i = 0; i < f->ncves; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", f->cves[i]->id);
}

static void eval_exact(const char *v, enum component comp, bool (*has)(void *, const char *),
		       const char *want_cves, enum status want_status, const char *want_fixed,
		       const char *want_sev)
{
	struct finding f;
	memset(&f, 0, sizeof f);
	f.comp = comp;
	verdict_evaluate(R, &f, v, NULL, &(struct class_probe){has, NULL, NULL, NULL});
	char got[512], name[160];
	cves_of(&f, got, sizeof got);
	snprintf(name, sizeof name, "cve: %s %s cves", rules_component_name(comp), v);
	CHECK_STR(name, got, want_cves);
	snprintf(name, sizeof name, "cve: %s %s status", rules_component_name(comp), v);
	CHECK_STR(name, finding_status_name(f.status), finding_status_name(want_status));
	snprintf(name, sizeof name, "cve: %s %s fixed_in", rules_component_name(comp), v);
	CHECK_STR(name, f.fixed_in, want_fixed);
	snprintf(name, sizeof name, "cve: %s %s severity", rules_component_name(comp), v);
	CHECK_STR(name, f.severity, want_sev);
}

#define ALL4 "CVE-2021-44228,CVE-2021-45046,CVE-2021-45105,CVE-2021-44832"

static void test_cves(void)
{
	eval_exact("2.14.1", COMP_CORE, all_present, ALL4, ST_VULNERABLE, "2.17.1", "critical");
	eval_exact("2.14.0", COMP_CORE, all_present, ALL4, ST_VULNERABLE, "2.17.1", "critical");
	eval_exact("2.1", COMP_CORE, all_present, ALL4 ",CVE-2017-5645,CVE-2020-9488", ST_VULNERABLE,
		   "2.12.4", "critical");
	eval_exact("2.0-beta9", COMP_CORE, all_present, ALL4 ",CVE-2017-5645,CVE-2020-9488",
		   ST_VULNERABLE, "2.12.4", "critical");
	eval_exact("2.0-beta2", COMP_CORE, all_present, "CVE-2021-45105,CVE-2017-5645,CVE-2020-9488",
		   ST_VULNERABLE, "2.12.4", "high");
	eval_exact("2.12.1", COMP_CORE, all_present, ALL4 ",CVE-2020-9488", ST_VULNERABLE, "2.12.4", "critical");
	eval_exact("2.12.2", COMP_CORE, all_present, "CVE-2021-45105,CVE-2021-44832,CVE-2020-9488",
		   ST_VULNERABLE, "2.12.4", "medium");
	eval_exact("2.12.3", COMP_CORE, all_present, "CVE-2021-44832", ST_VULNERABLE, "2.12.4", "medium");
	eval_exact("2.12.4", COMP_CORE, all_present, "", ST_SAFE, "", "none");
	eval_exact("2.3.1", COMP_CORE, all_present, "CVE-2021-44832,CVE-2017-5645,CVE-2020-9488",
		   ST_VULNERABLE, "2.12.4", "high");
	eval_exact("2.3.2", COMP_CORE, all_present, "CVE-2017-5645,CVE-2020-9488", ST_VULNERABLE,
		   "2.12.4", "high");
	eval_exact("2.15.0", COMP_CORE, all_present, "CVE-2021-45046,CVE-2021-45105,CVE-2021-44832",
		   ST_VULNERABLE, "2.17.1", "critical");
	eval_exact("2.16.0", COMP_CORE, all_present, "CVE-2021-45105,CVE-2021-44832", ST_VULNERABLE,
		   "2.17.1", "medium");
	eval_exact("2.17.0", COMP_CORE, all_present, "CVE-2021-44832", ST_VULNERABLE, "2.17.1", "medium");
	eval_exact("2.17.1", COMP_CORE, all_present, "", ST_SAFE, "", "none");
	eval_exact("2.19.0", COMP_CORE, all_present, "", ST_SAFE, "", "none");
	eval_exact("2.13.1", COMP_CORE, all_present, ALL4 ",CVE-2020-9488", ST_VULNERABLE, "2.17.1", "critical");
	eval_exact("2.13.2", COMP_CORE, all_present, ALL4, ST_VULNERABLE, "2.17.1", "critical");
	eval_exact("2.8.2", COMP_CORE, all_present, ALL4 ",CVE-2020-9488", ST_VULNERABLE, "2.12.4", "critical");
	/* a vendor rebuild of a fixed release is fixed; a snapshot of it is not */
	eval_exact("2.17.1.redhat-00001", COMP_CORE, all_present, "", ST_SAFE, "", "none");
	eval_exact("2.17.1-SNAPSHOT", COMP_CORE, all_present, "CVE-2021-44832", ST_VULNERABLE, "2.17.1", "medium");
	/* a version we never heard of above every range */
	eval_exact("2.99.0", COMP_CORE, all_present, "", ST_SAFE, "", "none");

	/* JndiLookup.class removed: the two JNDI CVEs become mitigated */
	struct finding f;
	memset(&f, 0, sizeof f);
	f.comp = COMP_CORE;
	verdict_evaluate(R, &f, "2.14.1", NULL, &(struct class_probe){jndilookup_absent, NULL, NULL, NULL});
	char got[512];
	cves_of(&f, got, sizeof got);
	CHECK_STR("cve: 2.14.1 without JndiLookup residual", got, "CVE-2021-45105,CVE-2021-44832");
	CHECK("cve: 2.14.1 without JndiLookup is mitigated", f.status == ST_MITIGATED);
	CHECK("cve: 2.14.1 without JndiLookup lists 2 mitigated",
	      f.nmitigated == 2 && !strcmp(f.mitigated[0]->id, "CVE-2021-44228") &&
		      !strcmp(f.mitigated[1]->id, "CVE-2021-45046"));
	CHECK_STR("cve: mitigated keeps fixed_in", f.fixed_in, "2.17.1");
	CHECK_STR("cve: mitigated severity is residual", f.severity, "medium");
	/* 2.17.0 without JndiLookup: nothing to mitigate, still vulnerable */
	memset(&f, 0, sizeof f);
	f.comp = COMP_CORE;
	verdict_evaluate(R, &f, "2.17.0", NULL, &(struct class_probe){jndilookup_absent, NULL, NULL, NULL});
	CHECK("cve: 2.17.0 without JndiLookup stays vulnerable", f.status == ST_VULNERABLE && f.nmitigated == 0);

	/* version unknown: nothing rules a CVE out */
	memset(&f, 0, sizeof f);
	f.comp = COMP_CORE;
	verdict_evaluate(R, &f, NULL, NULL, &(struct class_probe){all_present, NULL, NULL, NULL});
	CHECK("cve: unknown version gets every core CVE", f.ncves == 6 && f.status == ST_VULNERABLE);
	CHECK_STR("cve: unknown version has no fixed_in", f.fixed_in, "");

	/* a release set (bytecode range) */
	struct vset s;
	memset(&s, 0, sizeof s);
	version_set_add(&s, rules_release_index(R, COMP_CORE, "2.14.0"));
	version_set_add(&s, rules_release_index(R, COMP_CORE, "2.14.1"));
	memset(&f, 0, sizeof f);
	f.comp = COMP_CORE;
	verdict_evaluate(R, &f, NULL, &s, &(struct class_probe){all_present, NULL, NULL, NULL});
	cves_of(&f, got, sizeof got);
	CHECK_STR("cve: set 2.14.0..2.14.1", got, ALL4);
	CHECK_STR("cve: set 2.14.0..2.14.1 fixed_in", f.fixed_in, "2.17.1");
	/* a set spanning safe and affected releases: any affected release counts */
	memset(&s, 0, sizeof s);
	version_set_add(&s, rules_release_index(R, COMP_CORE, "2.17.0"));
	version_set_add(&s, rules_release_index(R, COMP_CORE, "2.17.1"));
	memset(&f, 0, sizeof f);
	f.comp = COMP_CORE;
	verdict_evaluate(R, &f, NULL, &s, &(struct class_probe){all_present, NULL, NULL, NULL});
	cves_of(&f, got, sizeof got);
	CHECK_STR("cve: set 2.17.0..2.17.1 keeps CVE-2021-44832", got, "CVE-2021-44832");
	/* a safe-only set */
	memset(&s, 0, sizeof s);
	version_set_add(&s, rules_release_index(R, COMP_CORE, "2.17.1"));
	version_set_add(&s, rules_release_index(R, COMP_CORE, "2.19.0"));
	memset(&f, 0, sizeof f);
	f.comp = COMP_CORE;
	verdict_evaluate(R, &f, NULL, &s, &(struct class_probe){all_present, NULL, NULL, NULL});
	CHECK("cve: set 2.17.1..2.19.0 is safe", f.status == ST_SAFE && f.ncves == 0);

	/* Log4j 1.x: decided by the classes present */
	memset(&f, 0, sizeof f);
	f.comp = COMP_LOG4J1;
	verdict_evaluate(R, &f, "1.2.17", NULL, &(struct class_probe){all_present, NULL, NULL, NULL});
	/* all_present includes the hardening classes, so only the CVEs without
	 * an unless-class remain (with no refers callback, no class is seen to
	 * call a fix) */
	cves_of(&f, got, sizeof got);
	CHECK_STR("cve: 1.2.17 with hardening classes", got, "CVE-2021-4104,CVE-2022-23302,CVE-2022-23307");
	CHECK("cve: 1.x advice present", f.advice && strstr(f.advice, "end of life"));
	CHECK_STR("cve: 1.x has no fixed release", f.fixed_in, "");
}

static bool l1_vanilla(void *ctx, const char *cls)
{
	(void)ctx;
	return strcmp(cls, "net/HardenedObjectInputStream") && strcmp(cls, "jdbc/JdbcPatternParser");
}

static bool l1_debian(void *ctx, const char *cls)
{
	(void)ctx;
	return strcmp(cls, "net/JMSAppender") && strcmp(cls, "net/JMSSink") && strcmp(cls, "net/SocketServer");
}

/* Who calls what, as "CLASS>REF;" pairs in ctx. */
static bool refers_from(void *ctx, const char *cls, const char *ref)
{
	char pair[256];
	snprintf(pair, sizeof pair, "%s>%s;", cls, ref);
	return strstr(ctx, pair) != NULL;
}

static void eval_probe(const char *name, const char *v, bool (*has)(void *, const char *), const char *calls,
		       const char *want_cves)
{
	struct finding f;
	memset(&f, 0, sizeof f);
	f.comp = COMP_LOG4J1;
	struct class_probe p = {has, calls ? refers_from : NULL, (void *)calls, NULL};
	verdict_evaluate(R, &f, v, NULL, &p);
	char got[512];
	cves_of(&f, got, sizeof got);
	CHECK_STR(name, got, want_cves);
}

static void test_log4j1(void)
{
	eval_exact("1.2.17", COMP_LOG4J1, l1_vanilla,
		   "CVE-2019-17571,CVE-2021-4104,CVE-2022-23302,CVE-2022-23305,CVE-2022-23307", ST_VULNERABLE,
		   "", "critical");
	/* Debian's 1.2.17-11: JMS classes gone, chainsaw reads through the
	 * hardened stream */
	eval_probe("cve: 1.x Debian 1.2.17-11", "1.2.17", l1_debian,
		   "chainsaw/LoggingReceiver$Slurper>net/HardenedLoggingEventInputStream;", "");
	eval_probe("cve: 1.x Debian without the chainsaw fix", "1.2.17", l1_debian, "", "CVE-2022-23307");
	/* reload4j, as its tags have it (every class present) */
	eval_probe("cve: reload4j 1.2.18.0", "1.2.18.0", l1_vanilla, "net/JMSAppender>net/JNDIUtil;",
		   "CVE-2019-17571,CVE-2022-23302,CVE-2022-23305,CVE-2022-23307");
	eval_probe("cve: reload4j 1.2.18.1", "1.2.18.1", l1_vanilla,
		   "net/JMSAppender>net/JNDIUtil;net/JMSSink>net/JNDIUtil;"
		   "chainsaw/LoggingReceiver$Slurper>net/HardenedLoggingEventInputStream;",
		   "CVE-2019-17571,CVE-2022-23305");
	eval_probe("cve: reload4j 1.2.25", "1.2.25", all_present,
		   "net/JMSAppender>net/JNDIUtil;net/JMSSink>net/JNDIUtil;"
		   "chainsaw/LoggingReceiver$Slurper>net/HardenedLoggingEventInputStream;", "");
	/* the version plays no part for 1.x: an unknown one is judged by classes */
	eval_probe("cve: 1.x version unknown", NULL, l1_vanilla, "",
		   "CVE-2019-17571,CVE-2021-4104,CVE-2022-23302,CVE-2022-23305,CVE-2022-23307");
	CHECK("rules: reload4j releases are 1.x releases",
	      rules_release_index(R, COMP_LOG4J1, "1.2.18.2") > rules_release_index(R, COMP_LOG4J1, "1.2.17") &&
		      rules_release_index(R, COMP_LOG4J1, "1.2.26") > 0);
}

int main(void)
{
	struct buf err = BUF_INIT;
	struct rules *r = rules_default(&err);
	CHECK("built-in rules parse", r != NULL);
	if (!r) {
		printf("# %s\n", buf_cstr(&err));
		UNIT_EXIT();
	}
	R = r;
	test_order();
	test_vset();
	test_cves();
	test_log4j1();
	rules_free(r);
	buf_free(&err);
	UNIT_EXIT();
}
