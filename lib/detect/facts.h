/* facts.h - what the rules act on, recorded with every finding, so that a
 * finding can be judged again under other rules without its archive.
 *
 * The detector reduces a copy to a few facts: its component, the releases
 * its class files allow (runs of releases "A..B", in version order, or
 * "any" when no fingerprint constrained it), the version claims of its
 * metadata (strongest first), and, for every class the component's CVEs
 * name (mitigated-if-absent, requires-class, unless-class), whether it is
 * present, and for every unless-refers pair whether the class refers to
 * the other.  verdict_judge() (verdict.c) turns facts + rules into the
 * verdict; the agent calls it for its own findings, the collector for the
 * stored ones when its rules change.
 *
 * Text form (docs/schema.md, "facts"): blank-separated tokens,
 *   v1              format version, first
 *   set=RUNS        the class evidence allows these releases (comma list
 *                   of A or A..B, inclusive; "set=" alone: no known
 *                   release); absent: unconstrained
 *   pom=V  mf=V     a metadata claim that is a version (pom.properties,
 *                   manifest), in the order they are weighed
 *   pom?   mf?      a claim that is not a version
 *   +CLASS  -CLASS  the class is present / absent
 *   @CLASS>REF      the class refers to REF;  !CLASS>REF  it does not
 * A class the facts do not mention is unknown: the verdict takes the
 * reading that does not hide a CVE (see verdict.c). */
#ifndef L4S_FACTS_H
#define L4S_FACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define FACTS_MAX_TEXT 8192
#define FACTS_MAX_ITEMS 256

struct facts_claim {
	const char *source; /* "pom.properties" or "manifest" */
	char text[96];      /* "" when ok is false */
	bool ok;            /* the claim is a version string */
};

struct facts_run {
	char *lo, *hi;
};

struct facts_class {
	char *cls;
	bool present;
};

struct facts_ref {
	char *cls, *ref;
	bool yes;
};

struct facts {
	bool constrained;
	struct facts_run *runs;
	size_t nruns;
	struct facts_claim claims[2];
	size_t nclaims;
	struct facts_class *classes;
	size_t nclasses;
	struct facts_ref *refs;
	size_t nrefs;
};

void facts_free(struct facts *fx);
void facts_add_run(struct facts *fx, const char *lo, const char *hi);
/* Adds a claim (ignored beyond two).  text may be NULL: not a version. */
void facts_add_claim(struct facts *fx, const char *source, const char *text);
/* Records a class once (later calls for the same class are ignored). */
void facts_add_class(struct facts *fx, const char *cls, bool present);
void facts_add_ref(struct facts *fx, const char *cls, const char *ref, bool yes);
/* Lookups: 1 yes, 0 no, -1 unknown. */
int facts_has(const struct facts *fx, const char *cls);
int facts_refers(const struct facts *fx, const char *cls, const char *ref);

/* The text form, appended to out.  Names that cannot be written (blanks,
 * control or non-ASCII bytes, '>' in a class) are left out: unknown. */
void facts_format(const struct facts *fx, struct buf *out);
/* Parse the text form (untrusted: from a report or a database).  False
 * and a reason in err when it is not valid facts; fx is then empty. */
bool facts_parse(const char *text, size_t len, struct facts *fx, struct buf *err);

#endif
