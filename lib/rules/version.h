/* version.h - Log4j version numbers: parsing, ordering, and sets of releases.
 *
 * Ordering follows Maven for the shapes Log4j uses:
 *   2.0-alpha1 < 2.0-beta9 < 2.0-rc2 < 2.0 = 2.0.0 < 2.0.1 < 2.1 < ... < 2.17.1
 * Anything after the numbers that is not alpha/beta/rc (a vendor suffix such
 * as "2.17.1.redhat-00001" or "-SNAPSHOT") is kept for display; a SNAPSHOT
 * sorts just before its release, a vendor build sorts with its release. */
#ifndef L4S_VERSION_H
#define L4S_VERSION_H

#include <stdbool.h>
#include <stdint.h>

struct version {
	int num[4];  /* major.minor.patch.fourth, missing parts are 0 */
	int stage;   /* 1 alpha, 2 beta, 3 rc, 4 snapshot, 5 release */
	int stage_num;
};

/* Returns false when s does not start with a number. */
bool version_parse(const char *s, struct version *v);
int version_cmp(const struct version *a, const struct version *b);
/* Compare two version strings; unparsable strings sort first. */
int version_strcmp(const char *a, const char *b);

/* A set of releases: bit i stands for the i-th release of a component's
 * ordered release list in the rules (see rules.h). */
#define VSET_WORDS 4
#define VSET_MAX (64 * VSET_WORDS)
struct vset {
	uint64_t w[VSET_WORDS];
};

static inline void version_set_add(struct vset *s, int i) { s->w[i / 64] |= 1ULL << (i % 64); }
static inline bool version_set_has(const struct vset *s, int i) { return s->w[i / 64] >> (i % 64) & 1; }
void version_set_fill(struct vset *s, int n);  /* the first n releases */
void version_set_and(struct vset *s, const struct vset *t);
bool version_set_empty(const struct vset *s);
int version_set_count(const struct vset *s);
int version_set_first(const struct vset *s);   /* -1 when empty */
int version_set_last(const struct vset *s);

#endif
