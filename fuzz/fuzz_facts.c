/* fuzz_facts.c - libFuzzer harness for the facts text form (lib/detect/facts.c)
 * and the verdict from facts (verdict_judge).
 *
 * facts_parse() on arbitrary bytes either refuses them with a reason and
 * leaves nothing allocated, or returns facts whose text form parses again
 * to the same text (format is a fixed point); judging them under the
 * default rules, for either component, gives a known status, severity
 * and version source, and a safe status lists no CVE. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "detect/facts.h"
#include "rules/rules.h"

static struct rules *R;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	if (!R && !(R = rules_default(&err)))
		abort();
	struct facts fx;
	if (!facts_parse((const char *)data, size, &fx, &err)) {
		if (!err.len || fx.nruns || fx.nclasses || fx.nrefs || fx.nclaims)
			abort();
		buf_free(&err);
		return 0;
	}
	struct buf a = BUF_INIT, b = BUF_INIT;
	facts_format(&fx, &a);
	struct facts again;
	if (!facts_parse(a.data, a.len, &again, &err))
		abort(); /* what we write, we read */
	facts_format(&again, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len))
		abort();
	for (int c = 0; c < COMP_COUNT; c++) {
		struct finding f;
		memset(&f, 0, sizeof f);
		f.comp = (enum component)c;
		verdict_judge(R, &fx, &f);
		if (f.status > ST_VULNERABLE || !f.severity || !f.version_source || rules_severity_rank(f.severity) < 0 ||
		    (f.status == ST_SAFE && (f.ncves || f.nmitigated)))
			abort();
	}
	facts_free(&fx);
	facts_free(&again);
	buf_free(&a);
	buf_free(&b);
	buf_free(&err);
	return 0;
}
