/* claims.h - what a copy's metadata says its version is, and whether the
 * class evidence lets that stand.
 *
 * pom.properties and MANIFEST.MF are text anyone can write: a vendor
 * rebuild calls itself 2.17.3, a repackaged jar keeps the pom of another
 * release, a hostile one says anything.  A claim is believed only when it
 * names a known release of the component (by version order, so
 * "2.17.1.redhat-00001" names 2.17.1 and "2.17.1-SNAPSHOT" names none) that
 * the class evidence allows; otherwise the finding's evidence shows the
 * claim and why it was not believed, and the class files decide. */
#ifndef L4S_CLAIMS_H
#define L4S_CLAIMS_H

#include <stdbool.h>

#include "detect/detect.h"
#include "rules/rules.h"

struct claim {
	const char *source; /* "pom.properties" or "manifest" */
	char text[96];      /* the value as written, cut to fit */
	bool cut;           /* it was longer than text */
};

/* Is the claim's text a version at all (whole, printable, no quotes)? */
bool claims_is_version(const struct claim *c);
/* The "version=" of a pom.properties text. */
bool claims_from_pom(const char *text, struct claim *c);
/* Implementation-Version (else Bundle-Version) of a manifest, when the
 * manifest is about component comp (its Implementation-Title or
 * Bundle-SymbolicName says so) and not, say, about the application a fat
 * jar was built for. */
bool claims_from_manifest(const char *mf, enum component comp, struct claim *c);
/* Is the claim believed for a copy of comp whose class evidence allows the
 * releases in set (any release when !constrained)?  When not, an evidence
 * line on f says why. */
bool claims_judge(const struct rules *r, enum component comp, const struct vset *set, bool constrained,
		 const struct claim *c, struct finding *f);

#endif
