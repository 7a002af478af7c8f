/* rules.h - the CVE knowledge and the version fingerprints, as data.
 *
 * Everything log4scan knows about which Log4j is vulnerable lives in one
 * rules file (rules/log4j.rules, compiled in as the default; `--rules FILE`
 * replaces it at run time).  The code below only evaluates that table:
 *   - releases:  the ordered list of known releases of each component,
 *   - cve:       affected version ranges, fixed versions, CVSS score,
 *                the classes whose presence or absence changes the verdict,
 *   - hash:      SHA-256 of a class file as shipped in given releases,
 *   - marker:    a string constant a class does or does not contain, and
 *                the releases that are consistent with that.
 * See rules/log4j.rules for the syntax. */
#ifndef L4S_RULES_H
#define L4S_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/version.h"
#include "util/buf.h"

enum component { COMP_CORE = 0, COMP_LOG4J1 = 1, COMP_COUNT };

struct rule_range {
	struct version from, to; /* [from, to); to_open: no upper bound */
	bool to_open;
};

/* "CLASS refers to REF": both relative to the copy's package root. */
struct rule_ref {
	char *cls;
	char *ref;
};

struct rule_cve {
	char *id;
	enum component comp;
	double cvss;
	char *title;
	char *source;
	struct rule_range *affected;
	size_t naffected;
	char **fixed; /* versions that fix it, one per release line */
	size_t nfixed;
	char **mitigated_if_absent; /* classes whose removal mitigates it */
	size_t nmitigated;
	char **requires_class; /* applies only when one of these is present */
	size_t nrequires;
	char **unless_class; /* does not apply when one of these is present */
	size_t nunless;
	struct rule_ref *unless_refs; /* does not apply when cls refers to ref */
	size_t nunless_refs;
};

struct rule_hash {
	enum component comp;
	char *cls;
	unsigned char sha256[32];
	struct vset versions;
};

struct rule_marker {
	enum component comp;
	char *cls;
	bool has; /* true: "has STRING"; false: "lacks STRING" */
	char *str;
	struct vset versions;
};

struct rules {
	char **releases[COMP_COUNT];
	struct version *release_v[COMP_COUNT];
	size_t nreleases[COMP_COUNT];
	struct rule_cve *cves;
	size_t ncves;
	struct rule_hash *hashes;
	size_t nhashes;
	struct rule_marker *markers;
	size_t nmarkers;
	char *advice[COMP_COUNT];
	uint64_t digest; /* of the rules text: a cache made with other rules is void */
};

/* Parse rules text.  On error returns NULL and writes "LINE: reason" to err. */
struct rules *rules_parse(const char *text, size_t len, struct buf *err);
/* The rules compiled into the binary. */
struct rules *rules_default(struct buf *err);
void rules_free(struct rules *r);

const char *rules_component_name(enum component c);
const char *rules_severity_of(double cvss); /* critical/high/medium/low/none */
int rules_severity_rank(const char *sev);   /* none 0 .. critical 4, -1 unknown */

/* Index of version string v in the component's release list, or -1. */
int rules_release_index(const struct rules *r, enum component c, const char *v);
/* Index of the release that version v names (equal in version order:
 * "2.17.1.redhat-00001" names 2.17.1), or -1. */
int rules_release_of(const struct rules *r, enum component c, const struct version *v);
/* A release set as text: "2.14.1", "2.14.0..2.14.1" (lowest..highest), or
 * "" when empty. */
void rules_set_text(const struct rules *r, enum component c, const struct vset *s, char *out, size_t outlen);
bool rules_cve_affects(const struct rule_cve *cve, const struct version *v);

#endif
