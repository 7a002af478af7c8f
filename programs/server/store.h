/* store.h - the collector's storage: schema, migrations, ingest, accounts.
 *
 * Built on db.h, so the same code runs on SQLite and PostgreSQL.  The
 * schema is created and upgraded by the server itself: MIGRATIONS in
 * store_schema.c is an append-only list of versioned steps, each applied
 * once in its own transaction and recorded in schema_migrations.
 *
 * Data model (the "current state" of the fleet plus history):
 *   devices   one row per device (identity: machine-id, else hostname), with
 *             its counters (findings by status, exposed, attacked, ...)
 *   findings / processes / scan_errors
 *             the device's current state: a `scan` report replaces all three,
 *             a `ps` report replaces the processes and the findings that came
 *             from running processes (those with a pid)
 *   attempts  events, appended: a `logs` report adds its attempts,
 *             de-duplicated by (device, path, line, offset, raw, decoded), so
 *             rotated logs never erase the evidence of an attack
 *   reports   every accepted report (history; idempotency by device+id)
 *   agg       per (CVE | version | sha256 | callback host, status): how many
 *             files and devices, kept exact incrementally at ingest
 *             (PostgreSQL: through agg_batch, see store_merge.c)
 *   archives  each distinct sha256 once; findings.archive_id points here
 *   trend     fleet totals per UTC day, updated at ingest
 * A report older (by "created") than the device's current state of the same
 * kind is kept in the history but does not replace newer state. */
#ifndef L4S_SERVER_STORE_H
#define L4S_SERVER_STORE_H

#include <stdbool.h>

#include "db.h"
#include "report_parse.h"

struct ingest_state;
struct rules_cache;
struct store {
	struct db *db;
	int schema_version;
	struct ingest_state *ing;      /* group commit, archive ids, merger (store_internal.h) */
	struct rules_cache *rules;     /* parsed rules, the active id (store_rules.c) */
	void (*rules_close)(struct store *); /* set with rules by store_rules.c, called by store_close
	                                      * (store.c calls no store_rules function: no call cycle) */
};

struct store *store_open(const char *url, int pool_size, struct buf *err);
void store_close(struct store *st);
int store_latest_schema(void);
/* PostgreSQL: fold pending aggregate deltas into agg and trend (no-op on
 * SQLite); store_query does it before reading either table.  The server
 * starts a thread that does it every second. */
int store_merge(struct store *st, struct buf *err);
void store_start_merger(struct store *st);

/* Run fn on every row of one query; DB_OK / DB_ERR with err set. */
int store_query(struct store *st, const char *sql, const struct dbv *p, int np, db_row_fn fn, void *ctx,
		struct buf *err);

/* store_query with PostgreSQL planner settings for this query alone:
 * plan (SET LOCAL statements) and the query in one read-only
 * transaction.  A plain store_query on SQLite or without plan. */
int store_query_planned(struct store *st, const char *plan, const char *sql, const struct dbv *p, int np,
			db_row_fn fn, void *ctx, struct buf *err);

/* A change: fn in one write transaction on the writer connection, re-run
 * (with a growing pause) on a busy / serialization failure.  fn returns
 * DB_OK, DB_RETRY or DB_ERR (err set by fn for a refusal; from the
 * connection otherwise).  DB_OK or DB_ERR. */
typedef int (*store_tx_fn)(struct dbc *c, void *ctx, struct buf *err);
int store_tx(struct store *st, store_tx_fn fn, void *ctx, struct buf *err);

/* Accounts (users, tokens and their changes: store_team.h).  hash_hex is
 * the SHA-256 of the secret (tokens, sessions). */
/* 1 found, 0 not found, -1 error */
int store_user_get(struct store *st, const char *name, long long *id, struct buf *pwhash, struct buf *err);
int store_token_lookup(struct store *st, const char *hash_hex, long long *id, char role[16], struct buf *err);
int store_session_add(struct store *st, const char *hash_hex, long long user_id, const char *csrf,
		      long long now, long long expires, struct buf *err);
/* role: the user's, admin or viewer (store_team.h) */
int store_session_get(struct store *st, const char *hash_hex, long long now, long long *user_id,
		      struct buf *user, struct buf *csrf, char role[16], struct buf *err);
int store_session_del(struct store *st, const char *hash_hex, struct buf *err);

struct ingest_result {
	bool duplicate;
	bool applied;          /* replaced the device's current state */
	long long device_id;
	long long attempts_new;
};
int store_ingest(struct store *st, const struct report *r, long long token_id, long long now,
		 struct ingest_result *res, struct buf *err);

#endif
