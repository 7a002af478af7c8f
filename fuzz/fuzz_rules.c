/* fuzz_rules.c - libFuzzer harness for the rules-file parser.
 *
 * rules_parse() on arbitrary text must either refuse it with a message that
 * starts with "line N:" or a completeness complaint, or return rules that
 * hold together: every hash and marker set names only declared releases,
 * and evaluating every declared release (as verdict_evaluate() does for a
 * finding, with some classes present and some calling others) neither
 * crashes nor yields an unknown status, and the evidence lines for it are
 * well formed.  Every release must be found again by its version and named
 * by the set text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "rules/rules.h"

static bool no_class(void *ctx, const char *cls)
{
	(void)ctx;
	return cls[0] == 'n'; /* some classes present, some absent */
}

static bool refers(void *ctx, const char *cls, const char *ref)
{
	(void)ctx;
	return cls[0] == 'n' && ref[0] != 'x'; /* some fixes called, some not */
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
			if (r->hashes[i].comp == (enum component)c && version_set_last(&r->hashes[i].versions) >= n)
				abort();
		for (size_t i = 0; i < r->nmarkers; i++)
			if (r->markers[i].comp == (enum component)c && version_set_last(&r->markers[i].versions) >= n)
				abort();
		struct class_probe probe = {no_class, refers, NULL, NULL};
		for (int k = 0; k < n && k < 64; k++) {
			struct finding f;
			memset(&f, 0, sizeof f);
			f.comp = (enum component)c;
			verdict_evaluate(r, &f, r->releases[c][k], NULL, &probe);
			if (f.status > ST_VULNERABLE || !f.severity)
				abort();
			verdict_class_evidence(r, &f, &probe, ".class");
			for (size_t e = 0; e < f.nevidence; e++)
				if (!f.evidence[e] || !strlen(f.evidence[e]))
					abort();
			finding_free(&f);
			f.comp = (enum component)c;
			struct vset s;
			version_set_fill(&s, k + 1);
			verdict_evaluate(r, &f, NULL, &s, &probe);
			if (f.status > ST_VULNERABLE)
				abort();
			if (rules_release_of(r, (enum component)c, &r->release_v[c][k]) != k)
				abort(); /* releases ascend strictly: only itself is equal */
			char txt[256];
			rules_set_text(r, (enum component)c, &s, txt, sizeof txt);
			if (!txt[0])
				abort();
		}
	}
	rules_free(r);
	return 0;
}
