/* detect.h - decide what Log4j an archive (or exploded class directory)
 * holds, which version, and which CVEs apply.
 *
 * The detector sees a container as a list of entry names and a way to read
 * one entry; it never cares whether that is a zip or a directory.  It reads
 * only the few entries that carry evidence (pom.properties, the manifest,
 * the fingerprinted classes), so the cost is independent of archive size.
 *
 * A container may hold several copies (a fat jar, a shaded copy beside the
 * original, Log4j 1.x beside log4j-api): each copy is the set of classes
 * under one package root, stored with one suffix (see detect.c), and is
 * judged on its own classes, whatever else shares the container.
 *
 * The class files decide: they are what the JVM runs.  SHA-256 fingerprints
 * and constant-pool markers from the rules narrow the releases a copy can
 * be.  Metadata (the component's META-INF/maven/.../pom.properties, then
 * its MANIFEST.MF) names the exact version only when it names a known
 * release that the class evidence allows; any other claim (a vendor string,
 * a release the classes exclude, text that is not a version) is shown in the
 * evidence and the class evidence stands.  A file name is never evidence. */
#ifndef L4S_DETECT_H
#define L4S_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/facts.h"
#include "rules/rules.h"
#include "util/buf.h"

struct libdeflate_decompressor;

enum status { ST_SAFE = 0, ST_MITIGATED = 1, ST_VULNERABLE = 2 };
const char *finding_status_name(enum status s);

#define MAX_CVES 32

struct finding {
	enum component comp;
	char *root;                  /* package root inside the container */
	char version[96];            /* "2.14.1", "2.14.0..2.14.1" or "" */
	const char *version_source;  /* pom.properties, manifest, bytecode,
					bytecode-over-metadata, unknown */
	enum status status;
	const struct rule_cve *cves[MAX_CVES];      /* CVEs that apply */
	size_t ncves;
	const struct rule_cve *mitigated[MAX_CVES]; /* CVEs mitigated by a removed class */
	size_t nmitigated;
	const char *severity;        /* highest among cves, "none" when empty */
	char fixed_in[32];           /* version to move to, "" when none */
	const char *advice;          /* from the rules, may be NULL */
	char **evidence;
	size_t nevidence;
	/* Filled in by the scanner: */
	char *path;
	char sha256[65];             /* SHA-256 of the archive, per the hashing policy, or "" */
	char cd_sha256[65];          /* SHA-256 of its central directory's bytes, or "" (scan.h) */
	char *hash_note;             /* why sha256 is absent although the policy asked for it, or NULL */
	long pid;                    /* process view: the JVM that has it loaded, else 0 */
	/* Container images (image.c); all NULL otherwise: */
	char *image;                 /* repository name, or the image id when untagged */
	char *tag;                   /* may be NULL */
	char *layer;                 /* digest of the layer that holds it */
	char *note;                  /* why it is not in the final filesystem, or NULL */
	bool removed;                /* deleted or replaced by a later layer */
	char *facts;                 /* what the verdict was decided on, facts.h text form */
};

void finding_free(struct finding *f);
/* Deep copy (for formats that render at the end, and for a finding
 * reported under several paths). */
void finding_copy(struct finding *dst, const struct finding *src);
void finding_add_evidence(struct finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What the detector needs from a container. */
struct container {
	size_t n;
	/* Name of entry i (bytes, not NUL-terminated) and its length. */
	const char *(*name)(void *ctx, size_t i, size_t *len);
	/* Read entry i whole (at most max bytes). */
	bool (*read)(void *ctx, size_t i, uint64_t max, unsigned char **out, size_t *len,
		     struct buf *err);
	void *ctx;
};

struct detect_opts {
	bool bytecode_only;  /* ignore pom.properties and MANIFEST.MF */
	uint64_t max_class_bytes;
};

struct detect_error {
	size_t entry;  /* index of the entry that could not be read */
	char *msg;
};

struct detect_result {
	struct finding *findings;
	size_t nfindings;
	struct detect_error *errors;
	size_t nerrors;
};

/* Length of a class entry's name without its extension (.class, or the
 * .esclazz/.classdata of Java agents), 0 when it is not a class. */
size_t detect_class_stem(const char *name, size_t len);

/* The version_source of a finding whose metadata named a version the class
 * evidence did not confirm (the class files decided). */
extern const char VS_BYTECODE_OVER_METADATA[];

/* True when an entry name could matter to the detector (so a caller that
 * lists entries can skip the rest cheaply). */
bool detect_wants(const char *name, size_t len);

/* True when the detector may read this entry's bytes (not just its name):
 * the manifest, pom.properties and the fingerprinted classes. */
bool detect_needs_data(const struct rules *r, const char *name, size_t len);

void detect_run(const struct rules *r, const struct detect_opts *o, const struct container *c,
		struct detect_result *res);
void detect_result_free(struct detect_result *res);

/* What the CVE evaluation may ask about a copy's classes (names relative to
 * its package root; a trailing '/' names a whole package). */
struct class_probe {
	bool (*has)(void *ctx, const char *cls);
	/* Does class cls refer to class ref?  NULL: no class refers to any. */
	bool (*refers)(void *ctx, const char *cls, const char *ref);
	void *ctx;
	/* Does the probe know whether cls is present?  NULL: it knows every
	 * class.  An unknown class never clears a CVE (unless-class). */
	bool (*known)(void *ctx, const char *cls);
};

/* CVE evaluation for a known version string or a release set; exposed for
 * tests and for the fixer. */
void verdict_evaluate(const struct rules *r, struct finding *f, const char *exact,
		     const struct vset *set, const struct class_probe *p);
/* The verdict: facts + rules -> version (as far as the facts name one),
 * version_source, status, CVEs, mitigated CVEs, severity, fixed_in and
 * advice of f (comp set by the caller).  Pure: reads nothing else; the
 * agent calls it for what it detects, the collector for stored findings
 * when its rules change.  A class the facts do not mention counts as
 * present for requires-class and mitigated-if-absent and as absent for
 * unless-class; an unknown unless-refers as not referring: unknown facts
 * never hide a CVE. */
void verdict_judge(const struct rules *r, const struct facts *fx, struct finding *f);

/* Evidence lines for the class-decided part of an evaluated finding: each
 * mitigated CVE's removed class, the classes the component's CVEs require
 * that are present, and why a CVE whose class is present does not apply.
 * suffix is how the copy stores its classes (".class"). */
void verdict_class_evidence(const struct rules *r, struct finding *f, const struct class_probe *p,
			   const char *suffix);

#endif
