/* db.h - the one small SQL interface both storage backends implement.
 *
 * The collector's SQL is written once, in the common subset of SQLite and
 * PostgreSQL, with `?` placeholders; every value goes in as a bound
 * parameter (never spliced into SQL text).  The PostgreSQL driver rewrites
 * `?` to `$1..$n`.  A `struct db` is a pool of connections: a request
 * borrows one with db_acquire() and gives it back with db_release(), so
 * several requests run at once (SQLite in WAL mode: readers in parallel, one
 * writer; PostgreSQL: row locks).
 *
 * Rows come back through a callback; columns are read by index, typed as
 * NULL, integer or text.  Errors: functions return DB_OK, DB_ERR (message in
 * dbc_error()) or DB_RETRY (busy / deadlock / serialization failure: the
 * caller rolls back and runs the transaction again). */
#ifndef L4S_SERVER_DB_H
#define L4S_SERVER_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

enum { DB_OK = 0, DB_ERR = -1, DB_RETRY = -2 };
enum dbt { DBV_NULL, DBV_INT, DBV_TEXT };

struct dbv {
	enum dbt t;
	long long i;
	const char *s;
};
static inline struct dbv dv_int(long long i) { struct dbv v = {DBV_INT, i, 0}; return v; }
static inline struct dbv dv_text(const char *s) { struct dbv v = {s ? DBV_TEXT : DBV_NULL, 0, s}; return v; }
static inline struct dbv dv_null(void) { struct dbv v = {DBV_NULL, 0, 0}; return v; }

struct dbrow;
int dbrow_ncols(const struct dbrow *r);
const char *dbrow_name(const struct dbrow *r, int col);
enum dbt dbrow_type(const struct dbrow *r, int col);
long long dbrow_int(const struct dbrow *r, int col);      /* 0 for NULL */
const char *dbrow_text(const struct dbrow *r, int col);   /* "" for NULL */
/* return non-zero to stop reading rows */
typedef int (*db_row_fn)(void *ctx, const struct dbrow *r);
/* A list of ids: db_ints_row (a db_row_fn, ctx a struct db_ints) appends
 * each row's first column; the caller frees v. */
struct db_ints {
	long long *v;
	size_t n, cap;
};
int db_ints_row(void *ctx, const struct dbrow *r);

enum db_kind { DB_SQLITE, DB_PG };
struct db;
struct dbc;

/* url: "postgresql://..." / "postgres://..." or a SQLite file path
 * (optionally "sqlite:PATH"). */
struct db *db_open(const char *url, int pool_size, struct buf *err);
void db_close(struct db *db);
enum db_kind db_kind(const struct db *db);

struct dbc *db_acquire(struct db *db);
/* the connection for ingest writes (SQLite: always the same one) */
struct dbc *db_acquire_writer(struct db *db);
void db_release(struct db *db, struct dbc *c);

int dbc_exec(struct dbc *c, const char *sql, const struct dbv *p, int np, db_row_fn fn, void *ctx);
/* several statements without parameters (migrations) */
int dbc_script(struct dbc *c, const char *sql);
int dbc_begin(struct dbc *c);      /* a write transaction */
int dbc_commit(struct dbc *c);
void dbc_rollback(struct dbc *c);
const char *dbc_error(const struct dbc *c);
/* first column of the first row as an integer (dflt when no row) */
int dbc_int(struct dbc *c, const char *sql, const struct dbv *p, int np, long long dflt, long long *out);

#endif
