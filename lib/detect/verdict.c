/* verdict.c - a copy's version (exact, or a set of releases) and classes
 * to its CVEs, status, severity and the release to move to: the rules
 * evaluated (see detect.h).
 *
 * A CVE applies when the version is in its affected ranges (any release of
 * a set; every CVE when the version is unknown), a class it requires is
 * present, and no class shows it fixed: an unless-class present, or an
 * unless-refers class that calls its fix.  When a class whose removal
 * mitigates it is absent, it is listed as mitigated instead.
 *
 * verdict_judge() is the same evaluation from a finding's recorded facts
 * (facts.h): the claims are weighed as claims.c does, the release set is
 * re-read against the rules in use.  This file, facts.c, rules.c and
 * version.c are all the collector links of the agent's knowledge. */
#include "detect/detect.h"

#include <stdlib.h>

#include <stdio.h>
#include <string.h>

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
			if (cve->comp != comp || !rules_cve_affects(cve, &cur))
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

/* Does a class the CVE names show it does not apply here?  Writes which
 * (for the evidence) into why. */
static bool cve_cleared(const struct rule_cve *cve, const struct class_probe *p, char *why, size_t wl)
{
	for (size_t k = 0; k < cve->nunless; k++)
		if ((!p->known || p->known(p->ctx, cve->unless_class[k])) && p->has(p->ctx, cve->unless_class[k])) {
			snprintf(why, wl, "%s is present", cve->unless_class[k]);
			return true;
		}
	for (size_t k = 0; p->refers && k < cve->nunless_refs; k++) {
		const struct rule_ref *rf = &cve->unless_refs[k];
		if (p->refers(p->ctx, rf->cls, rf->ref)) {
			snprintf(why, wl, "%s refers to %s", rf->cls, rf->ref);
			return true;
		}
	}
	return false;
}

static bool cve_requirement_met(const struct rule_cve *cve, const struct class_probe *p)
{
	if (!cve->nrequires)
		return true;
	for (size_t k = 0; k < cve->nrequires; k++)
		if (p->has(p->ctx, cve->requires_class[k]))
			return true;
	return false;
}

void verdict_evaluate(const struct rules *r, struct finding *f, const char *exact,
		     const struct vset *set, const struct class_probe *p)
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
	} else if (set && !version_set_empty(set)) {
		top = r->release_v[f->comp][version_set_last(set)];
		have_top = true;
	}
	for (size_t i = 0; i < r->ncves; i++) {
		const struct rule_cve *cve = &r->cves[i];
		if (cve->comp != f->comp)
			continue;
		bool hit = false;
		if (have_exact) {
			hit = rules_cve_affects(cve, &ev);
		} else if (set && !version_set_empty(set)) {
			for (size_t k = 0; k < r->nreleases[f->comp] && !hit; k++)
				hit = version_set_has(set, (int)k) && rules_cve_affects(cve, &r->release_v[f->comp][k]);
		} else {
			hit = true; /* version unknown: cannot rule it out */
		}
		char why[8];
		if (!hit || !cve_requirement_met(cve, p) || cve_cleared(cve, p, why, sizeof why))
			continue;
		bool removed = false;
		for (size_t k = 0; k < cve->nmitigated && !removed; k++)
			removed = !p->has(p->ctx, cve->mitigated_if_absent[k]);
		if (removed) {
			if (f->nmitigated < MAX_CVES)
				f->mitigated[f->nmitigated++] = cve;
			continue;
		}
		if (f->ncves < MAX_CVES)
			f->cves[f->ncves++] = cve;
		int rank = rules_severity_rank(rules_severity_of(cve->cvss));
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


static bool listed(const struct rule_cve *const *v, size_t n, const struct rule_cve *cve)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == cve)
			return true;
	return false;
}

/* Evidence for the class-decided CVEs: the dangerous classes present, and
 * why one that is present does not count. */
void verdict_class_evidence(const struct rules *r, struct finding *f, const struct class_probe *p,
			   const char *suffix)
{
	for (size_t i = 0; i < f->nmitigated; i++)
		finding_add_evidence(f, "%s mitigated: %s%s removed", f->mitigated[i]->id,
				     f->mitigated[i]->mitigated_if_absent[0], suffix);
	for (size_t i = 0; i < r->ncves; i++) {
		const struct rule_cve *cve = &r->cves[i];
		if (cve->comp != f->comp || !cve->nrequires)
			continue;
		for (size_t k = 0; k < cve->nrequires; k++)
			if (p->has(p->ctx, cve->requires_class[k]))
				finding_add_evidence(f, "has %s", cve->requires_class[k]);
		char why[256];
		if (cve_requirement_met(cve, p) && !listed(f->cves, f->ncves, cve) &&
		    cve_cleared(cve, p, why, sizeof why))
			finding_add_evidence(f, "%s does not apply: %s", cve->id, why);
	}
}


/* ---- judging from facts */

static bool facts_probe_has(void *ctx, const char *cls)
{
	return facts_has(ctx, cls) != 0; /* unknown: present */
}

static bool facts_probe_known(void *ctx, const char *cls)
{
	return facts_has(ctx, cls) >= 0;
}

static bool facts_probe_refers(void *ctx, const char *cls, const char *ref)
{
	return facts_refers(ctx, cls, ref) == 1; /* unknown: does not */
}

static bool in_runs(const struct facts *fx, const struct version *v)
{
	for (size_t i = 0; i < fx->nruns; i++) {
		struct version lo, hi;
		if (version_parse(fx->runs[i].lo, &lo) && version_parse(fx->runs[i].hi, &hi) &&
		    version_cmp(&lo, v) <= 0 && version_cmp(v, &hi) <= 0)
			return true;
	}
	return false;
}

void verdict_judge(const struct rules *r, const struct facts *fx, struct finding *f)
{
	enum component comp = f->comp;
	/* the releases of these rules that the class evidence allows */
	struct vset set;
	memset(&set, 0, sizeof set);
	for (size_t k = 0; k < r->nreleases[comp] && k < VSET_MAX; k++)
		if (in_runs(fx, &r->release_v[comp][k]))
			version_set_add(&set, (int)k);
	/* the first claim that names a release of these rules the classes allow */
	const struct facts_claim *believed = NULL;
	for (size_t i = 0; i < fx->nclaims && !believed; i++) {
		const struct facts_claim *c = &fx->claims[i];
		struct version v;
		if (!c->ok || !version_parse(c->text, &v) || rules_release_of(r, comp, &v) < 0)
			continue;
		if (fx->constrained && !in_runs(fx, &v))
			continue;
		believed = c;
	}
	f->version[0] = 0;
	if (believed) {
		snprintf(f->version, sizeof f->version, "%s", believed->text);
		f->version_source = believed->source;
	} else if (fx->constrained && !version_set_empty(&set)) {
		rules_set_text(r, comp, &set, f->version, sizeof f->version);
		f->version_source = fx->nclaims ? VS_BYTECODE_OVER_METADATA : "bytecode";
	} else {
		f->version_source = "unknown";
	}
	struct class_probe p = {facts_probe_has, facts_probe_refers, (void *)fx, facts_probe_known};
	verdict_evaluate(r, f, believed ? believed->text : NULL,
			believed ? NULL : (fx->constrained ? &set : NULL), &p);
}
