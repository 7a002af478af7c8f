/* ingest_internal.h - storing a report, in parts: what the files of ingest
 * share, for ingest_*.c, store_ingest.c and store_merge.c only.
 *
 * Who calls what: store_ingest() (store_ingest.c: group commit) makes a
 * plan of each report (ingest_plan.c: pure, no SQL), runs each report's
 * transaction (ingest_tx.c) and applies the fleet-wide deltas of the batch
 * (store_merge.c: SQLite at once, PostgreSQL appended and merged later). */
#ifndef L4S_SERVER_INGEST_INTERNAL_H
#define L4S_SERVER_INGEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "db.h"
#include "report_parse.h"
#include "store_internal.h"

/* One finding as the aggregates see it (sha256: its archive key,
 * rp_finding.archive_key: the agg kind 'sha256' and `archives` hold it). */
struct fkey {
	char *status, *component, *version, *sha256, *cves_json, *severity, *path;
	bool has_pid;
	bool shadowed;               /* a running JVM's copy of a file the disk scan lists: not counted */
};

struct fkeys { struct fkey *v; size_t n, cap; };

/* Strings that live as long as the list that made them: bump-allocated
 * from 4 KB chunks, freed all at once (no malloc per key). */
struct spchunk { struct spchunk *next; size_t used, cap; char data[]; };
struct spool { struct spchunk *head; };

/* An aggregate key with its file counts before and after this report.  The
 * strings are not copied by ingest_akeys_add: they belong to the report, to
 * the caller, or to the list's pool. */
struct akey {
	const char *kind, *key, *sub, *label, *status;
	long long before, after;     /* one device's files, before and after a report */
	long long dfiles, ddev;      /* reduced: what changes in agg */
};
struct akeys { struct akey *v; size_t n, cap; struct spool pool; };

/* Everything about a report that does not depend on the database, worked
 * out by the request's own thread before it queues for the writer (SQLite
 * has one; its time is the ingest rate): the device identity, counts, the
 * findings hash, the aggregate keys of the findings it would store, their
 * distinct archives and the attempts' fingerprints. */
struct plan {
	struct buf ident;
	bool is_scan, is_ps;
	long long vuln;              /* all findings, for the history row */
	long long nv, nm, ns;        /* the findings it stores (scan: all, ps: with a pid) by status */
	char fhash[65];              /* scan: findings_hash() */
	struct akeys after;          /* their aggregate keys, summed per key (after = files) */
	const char **shas;           /* their distinct archive keys (rp_finding.archive_key), sorted */
	size_t n_shas;
	const char **paths;          /* the distinct paths it stores (ingest_paths.c), sorted */
	long long *path_ids;         /* PostgreSQL: their ids when the group commit knows them, else 0 */
	size_t n_paths;
	char (*fps)[33];             /* attempt_fp() of each attempt */
	bool *shadow;                /* scan: finding i is a JVM's copy of one of the report's disk findings */
	const char **shadow_path;    /* scan: for such a copy matched by content and path suffix (a JVM in a
	                              * container names the file inside it), the disk finding's path; else NULL */
	long long ncrit;             /* the critical vulnerable files it stores (not shadowed) */
	/* scan: what the run covered (docs/api.md, "Coverage"): "full",
	 * "partial" or "unknown", and the details as a JSON object */
	const char *coverage;
	char *coverage_json;
};

/* The fleet-wide changes of one or more reports, applied together. */
struct deltas {
	struct akeys agg;            /* reduced entries */
	long long trend[9];
};

/* SQLite: archive ids learnt in the current group commit, not yet in the
 * writer's table (a struct pathmap, ingest_paths.c) */
struct pathmap;
struct arch_new {
	struct pathmap *map;
	struct { const char *sha; long long id; } *v;
	size_t n, cap;
	/* and the path ids (struct pathmap, ingest_paths.c): their paths owned */
	struct pathmap *pmap;
	struct { char *path; long long id; } *pv;
	size_t pn, pcap;
};

/* ---- ingest_plan.c: no SQL ---- */

void ingest_plan_make(struct plan *pl, const struct report *r);
void ingest_plan_free(struct plan *pl);
/* PostgreSQL: the path id ingest_pg_path_ids() found for the report's
 * stored path (0: none; the INSERT looks it up) */
long long ingest_plan_path_id(const struct plan *pl, const char *path);

/* A db_row_fn: a row (status, component, version, sha256, cves_json,
 * has_pid, severity, path, shadowed) appended to the struct fkeys ctx. */
int ingest_fkeys_row(void *ctx, const struct dbrow *r);
void ingest_fkeys_free(struct fkeys *k);

/* one entry, counting 1 before (after false) or 1 after the report */
struct akey *ingest_akeys_add(struct akeys *a, const char *kind, const char *key, const char *sub,
			      const char *status, const char *label, bool after);
/* a copy of e (its strings into a's pool) */
struct akey *ingest_akeys_copy(struct akeys *a, const struct akey *e);
/* a finding's severity as an aggregate key: critical, high, medium, low,
 * none (also when absent) or unknown */
const char *ingest_severity_key(const char *s);
/* the keys of one finding (its strings must outlive a) */
void ingest_akeys_from(struct akeys *a, const struct fkey *f, bool after);
/* one device's before/after entries -> (key, files delta, devices delta),
 * appended to out (strings copied into out's pool) */
void ingest_akeys_reduce(struct akeys *a, struct akeys *out);
void ingest_akeys_free(struct akeys *a);

/* Sort the entries and sum those of each key into one; keys whose sum is
 * zero are dropped. */
void ingest_deltas_sum(struct deltas *dl);
void ingest_deltas_free(struct deltas *d);

/* "YYYY-MM-DD" of t, in UTC: a trend row's day */
void ingest_utc_day(long long t, char out[11]);
/* A device's tags after a report (compact JSON array, caller frees): the
 * report's replace them when replace, else they are added to the device's
 * (each tag once, the device's first, in their order; at most 64). */
char *ingest_tags_merge(const char *device_json, const char *report_json, bool replace);
/* strcmp of two const char * in an array (qsort, bsearch) */
int ingest_str_cmp(const void *a, const void *b);

/* The files a device's disk scan lists (path and archive key: sha256 or
 * "cd:" digest), to tell which file a running JVM's copy is. */
struct disk_copy { const char *path, *key; };
struct disk_copies { struct disk_copy *v; size_t n, cap; };
void ingest_disk_add(struct disk_copies *d, const char *path, const char *key);
void ingest_disk_sort(struct disk_copies *d);
/* The disk path of a JVM's copy at path with archive key key: the same
 * path; else (a JVM in a container, or under another mount, names the file
 * by its own path) the file with the same archive whose path ends with
 * this one's (after a '/'), the first in path order; NULL when none. */
const char *ingest_disk_match(const struct disk_copies *d, const char *path, const char *key);
void ingest_disk_free(struct disk_copies *d);
/* The note stored on a copy matched by suffix: "loaded as PATH" (and the
 * finding's own note), caller frees. */
char *ingest_loaded_as_note(const char *path, const char *note);
/* A PostgreSQL array literal, one element at a time: "..." with \ and "
 * escaped, or NULL; _end closes it ("{}" when empty) and returns the text. */
void ingest_pg_array_add(struct buf *b, const char *s);
const char *ingest_pg_array_end(struct buf *b);

/* ---- ingest_tx.c: one report's transaction ---- */

/* The report's changes to its device; the fleet-wide deltas (agg, trend)
 * are added to dl for the caller to apply.  an: SQLite's archive ids (NULL
 * on PostgreSQL); archives_known: PostgreSQL, the report's archives are
 * already in (the group commit inserts a batch's before it). */
int ingest_tx(struct dbc *c, const struct report *r, const struct plan *pl, long long token_id, long long now,
	      struct ingest_result *res, struct deltas *dl, struct arch_new *an, bool archives_known);
/* PostgreSQL: the archives rows of shas[0..n) (sorted, distinct), one INSERT */
int ingest_insert_archives(struct dbc *c, const char *const *shas, size_t n);
/* SQLite: the writer's table of archive ids (see ingest_tx.c); _put adds
 * an id once its transaction is committed */

/* ---- ingest_paths.c: the distinct paths of findings (table paths) ---- */

/* SQLite: the id of path in `paths` (added if new), from the writer's
 * table or learnt into an */
int ingest_path_id(struct dbc *c, struct arch_new *an, const char *path, long long *id);
/* SQLite: the ids an learnt after mark are gone (their report rolled back) */
void ingest_paths_rollback(struct arch_new *an, size_t mark);
/* SQLite: the ids an learnt enter the writer's table when committed, else
 * are dropped; an->pn is 0 after */
void ingest_paths_commit(struct arch_new *an, bool committed);
/* a string -> id map of at most max slots (0: the paths' default) */
struct pathmap *ingest_pathmap_new(size_t max);
void ingest_pathmap_free(struct pathmap *m);
/* the id of a committed path (0: not known); _add copies path */
long long ingest_pathmap_get(const struct pathmap *m, const char *path);
void ingest_pathmap_add(struct pathmap *m, const char *path, long long id);
/* PostgreSQL: the ids of paths[0..n) (sorted, distinct) into ids[], 0
 * where unknown, from the ids known to m (on mu) or else inserted and
 * looked up (committed: autocommit statements), then learnt by m */
int ingest_pg_path_ids(struct dbc *c, struct pathmap *m, pthread_mutex_t *mu, const char *const *paths, size_t n,
		       long long *ids);
/* PostgreSQL: the paths rows of paths[0..n) (sorted, distinct), one INSERT */
int ingest_insert_paths(struct dbc *c, const char *const *paths, size_t n);

/* ---- store_merge.c: the fleet-wide deltas ---- */

/* SQLite (and the PostgreSQL merge): add dl to agg and today's trend row. */
int store_merge_apply(struct dbc *c, struct deltas *dl, long long now);
/* PostgreSQL: append dl as one agg_batch row, for store_merge(). */
int store_merge_append(struct dbc *c, struct deltas *dl, long long now);

/* ---- ingest_device.c: a device's share of the counters, the audit's ingest rows ---- */

/* Add (sign > 0) or take out (sign < 0) everything device_id's stored rows
 * add to agg and to the trend's totals, into dl (the caller holds the
 * device row and applies dl). */
int ingest_device_contrib(struct dbc *c, long long device_id, int sign, struct deltas *dl);
/* n more reports taken with token_id (0: imported) on now's UTC day */
int ingest_audit_count(struct dbc *c, long long token_id, long long n, long long now);

#endif
