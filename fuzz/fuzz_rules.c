/* fuzz_rules.c - libFuzzer harness for the rules-file parser.
 *
 * rules_parse() on arbitrary text must either refuse it with a message that
 * starts with "line N:" or a completeness complaint, or return rules that
 * hold together: every hash and marker set names only declared releases,
 * and evaluating every declared release (as detect_evaluate() does for a
 * finding) neither crashes nor yields an unknown status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "rules.h"

static bool no_class(void *ctx, const char *cls)
{
	(void)ctx;
	return cls[0] == 'n'; /* some classes present, some absent */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	struct rules *r = rules_parse((const char *)data, size, &err);
	if (!r) {
		if (!err.len)
			abort(); /* a refusal must say why */
		buf_free(&err);
		return 0;
	}
	buf_free(&err);
	for (int c = 0; c < COMP_COUNT; c++) {
		int n = (int)r->nreleases[c];
		for (size_t i = 0; i < r->nhashes; i++)
			if (r->hashes[i].comp == (enum component)c && vset_last(&r->hashes[i].versions) >= n)
				abort();
		for (size_t i = 0; i < r->nmarkers; i++)
			if (r->markers[i].comp == (enum component)c && vset_last(&r->markers[i].versions) >= n)
				abort();
		for (int k = 0; k < n && k < 64; k++) {
			struct finding f;
			memset(&f, 0, sizeof f);
			f.comp = (enum component)c;
			detect_evaluate(r, &f, r->releases[c][k], NULL, &(struct class_probe){no_class, NULL, NULL});
			if (f.status > ST_VULNERABLE || !f.severity)
				abort();
			struct vset s;
			vset_fill(&s, k + 1);
			detect_evaluate(r, &f, NULL, &s, &(struct class_probe){no_class, NULL, NULL});
			if (f.status > ST_VULNERABLE)
				abort();
		}
	}
	rules_free(r);
	return 0;
}
