/* db_internal.h - what a storage backend implements behind db.h, for db.c
 * and its drivers (db_sqlite.c, db_pg.c) only: nothing else reaches a driver
 * but through db.c.
 *
 * A driver opens and closes one connection, runs one statement with bound
 * parameters (rows to a callback, through a struct dbrow of its own) or a
 * script of several, and names the SQL that begins a write transaction. */
#ifndef L4S_SERVER_DB_INTERNAL_H
#define L4S_SERVER_DB_INTERNAL_H

#include "db.h"

struct db_driver {
	void *(*open)(const char *url, struct buf *err);
	void (*close)(void *conn);
	int (*exec)(void *conn, const char *sql, const struct dbv *p, int np, db_row_fn fn, void *ctx, struct buf *err);
	int (*script)(void *conn, const char *sql, struct buf *err);
	const char *begin_sql;
};
extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

/* row access, implemented by each driver behind struct dbrow */
struct dbrow {
	const void *impl;
	int ncols;
	const char *(*name)(const struct dbrow *r, int col);
	enum dbt (*type)(const struct dbrow *r, int col);
	long long (*get_int)(const struct dbrow *r, int col);
	const char *(*get_text)(const struct dbrow *r, int col);
	int rowno;
};

#endif
