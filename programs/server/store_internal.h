/* store_internal.h - how the store's files fit together, for store*.c and
 * ingest_*.c only: the state ingest keeps between reports, and the life
 * cycle hooks store.c calls.
 *
 * store.c opens the database, then store_ingest_open() and the migrations
 * (store_schema.c); store_close() stops the merger (store_merge_stop), closes
 * the database, then store_ingest_close(). */
#ifndef L4S_SERVER_STORE_INTERNAL_H
#define L4S_SERVER_STORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "util/buf.h"
#include "store.h"

struct gc_item;
struct pathmap;
struct ingest_state {
	/* group commit queue (store_ingest.c) */
	pthread_mutex_t gc_mu;
	struct gc_item *gc_head, **gc_tail;
	int gc_leaders;
	struct pathmap *archmap;       /* the writer's archive key -> archives.id (a map as the paths') */
	struct pathmap *pathmap;       /* the writer's path -> paths.id (ingest_paths.c) */
	struct pathmap *pg_pathmap;    /* PostgreSQL: the committed path -> paths.id, on path_mu */
	pthread_mutex_t path_mu;
	/* PostgreSQL: merges agg_batch into agg / trend (store_merge.c); waits
	 * on gc_mu */
	pthread_t merge_thread;
	pthread_cond_t merge_cv;
	bool merge_running, merge_stop;
	/* reports per token and day not yet in the audit log
	 * (ingest_audit_note), and when they were last written */
	pthread_mutex_t audit_mu;
	struct audit_pending { long long token_id, n, at; } *audit_v;
	size_t audit_n, audit_cap;
	long long audit_flushed;
};

/* store_schema.c: create or upgrade the schema (st->schema_version set) */
int store_schema_migrate(struct store *st, struct buf *err);
/* cve_info.c: the cve_info table (each CVE's score, severity and title)
 * made exactly the CVE table of rules r, in c's open transaction (pg: the
 * connection is PostgreSQL's) */
struct rules;
struct dbc;
int cve_info_write(struct dbc *c, bool pg, const struct rules *r);
/* the same from the active rules (rules_state.active: the built-in ones
 * or a stored version), in a transaction of its own, at every start;
 * stored rules this build's parser refuses leave the table as it is, with
 * a warning on stderr */
int cve_info_load(struct store *st, struct buf *err);

/* store_ingest.c: st->ing made, and freed (with what ingest keeps between
 * reports) */
void store_ingest_open(struct store *st);
void store_ingest_close(struct store *st);
/* ingest_device.c: n reports taken with token_id, for the audit log;
 * _flush writes those noted unless it did less than min_gap seconds ago
 * (after a batch on SQLite, the merger on PostgreSQL, store_close) */
void ingest_audit_note(struct store *st, long long token_id, long long n, long long now);
void ingest_audit_flush(struct store *st, long long min_gap);

/* store_merge.c: stop the merger thread, if running, after a last merge */
void store_merge_stop(struct store *st);

#endif
