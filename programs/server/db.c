/* db.c - the connection pool and the backend-neutral half of db.h.
 *
 * db_open() picks the driver from the URL and opens pool_size connections up
 * front (so a bad URL fails at start, not at the first request).  A request
 * thread takes a free connection, waiting on a condition variable when all
 * are busy.  For SQLite, write transactions queue on a mutex (one writer at
 * a time is SQLite's rule; queueing beats its sleeping busy handler), and a
 * server (pool > 1) checkpoints the WAL from a background thread every
 * 250 ms, so no request pays for a checkpoint and its fsync (see
 * checkpoint() for how the WAL is kept from growing). */
#include "db_internal.h"
#include "metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dbc {
	void *conn;
	const struct db_driver *drv;
	struct db *db;
	struct buf err;
	bool busy;
	bool holds_write;
};

struct db {
	enum db_kind kind;
	const struct db_driver *drv;
	struct dbc *conns;
	int n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* SQLite has one writer at a time; waiting here (a queue) is far
	 * cheaper than SQLite's busy handler, which sleeps and polls. */
	pthread_mutex_t write_mu;
	/* SQLite: WAL checkpoints run here, not in the request that commits */
	void *ckpt_conn;
	pthread_t ckpt_thread;
	bool ckpt_running, ckpt_stop;
	pthread_mutex_t ckpt_mu;
	pthread_cond_t ckpt_cv;
};

/* A PASSIVE checkpoint (one nobody waits for) running beside the writer
 * never catches up with it, so no commit ever finds the WAL fully copied and
 * starts it over: under steady ingest the file grew without end (5.5 GB after
 * 60,000 reports), every commit appending beyond its end, where the kernel
 * allocates and zeroes new pages (a quarter of the collector's CPU at 100,000
 * devices).  So once the WAL holds WAL_RESTART_FRAMES, the checkpointer takes
 * the writer's connection for a last PASSIVE pass over the few frames the
 * others left: with no commit in between it copies them all, and the next
 * commit starts the WAL over (unless a reader is still in it: then the next
 * round tries again; under the benchmark's load nearly every round works, and
 * the file stays under 64 MB).  A RESTART checkpoint would also wait for
 * readers, in SQLite's busy handler's sleeps of up to 100 ms, with ingest
 * standing. */
#define WAL_RESTART_FRAMES 8192 /* 32 MiB of 4 KiB pages */

static int wal_frames_cb(void *ctx, const struct dbrow *r)
{
	*(long long *)ctx = dbrow_int(r, 1); /* busy, log, checkpointed */
	return 1;
}

static void checkpoint(struct db *db, struct buf *err)
{
	long long frames = 0;
	buf_reset(err);
	if (db->drv->exec(db->ckpt_conn, "PRAGMA wal_checkpoint(PASSIVE)", NULL, 0, wal_frames_cb, &frames, err) !=
		    DB_OK ||
	    frames < WAL_RESTART_FRAMES)
		return;
	/* once more first, for what came in meanwhile: what is left for the
	 * pass that holds the writer back is then small (7-20 ms here) */
	db->drv->exec(db->ckpt_conn, "PRAGMA wal_checkpoint(PASSIVE)", NULL, 0, NULL, NULL, err);
	struct dbc *w = db_acquire_writer(db);
	db->drv->exec(db->ckpt_conn, "PRAGMA wal_checkpoint(PASSIVE)", NULL, 0, NULL, NULL, err);
	db_release(db, w);
}

static void *checkpointer(void *arg)
{
	struct db *db = arg;
	struct buf err = BUF_INIT;
	pthread_mutex_lock(&db->ckpt_mu);
	while (!db->ckpt_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&db->ckpt_cv, &db->ckpt_mu, &ts);
		if (db->ckpt_stop)
			break;
		pthread_mutex_unlock(&db->ckpt_mu);
		checkpoint(db, &err);
		pthread_mutex_lock(&db->ckpt_mu);
	}
	pthread_mutex_unlock(&db->ckpt_mu);
	buf_reset(&err);
	db->drv->script(db->ckpt_conn, "PRAGMA wal_checkpoint(TRUNCATE)", &err);
	buf_free(&err);
	return NULL;
}

int dbrow_ncols(const struct dbrow *r) { return r->ncols; }
const char *dbrow_name(const struct dbrow *r, int col) { return r->name(r, col); }
enum dbt dbrow_type(const struct dbrow *r, int col) { return col < r->ncols ? r->type(r, col) : DBV_NULL; }
long long dbrow_int(const struct dbrow *r, int col) { return col < r->ncols ? r->get_int(r, col) : 0; }
const char *dbrow_text(const struct dbrow *r, int col) { return col < r->ncols ? r->get_text(r, col) : ""; }

int db_ints_row(void *ctx, const struct dbrow *r)
{
	struct db_ints *x = ctx;
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->v = xrealloc(x->v, x->cap * sizeof *x->v);
	}
	x->v[x->n++] = dbrow_int(r, 0);
	return 0;
}

struct db *db_open(const char *url, int pool_size, struct buf *err)
{
	struct db *db = xcalloc(1, sizeof *db);
	if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11)) {
		db->kind = DB_PG;
		db->drv = &db_pg_driver;
	} else {
		db->kind = DB_SQLITE;
		db->drv = &db_sqlite_driver;
		if (!strncmp(url, "sqlite:", 7))
			url += 7;
	}
	if (pool_size < 1)
		pool_size = 1;
	db->conns = xcalloc((size_t)pool_size, sizeof *db->conns);
	pthread_mutex_init(&db->mu, NULL);
	pthread_cond_init(&db->cv, NULL);
	pthread_mutex_init(&db->write_mu, NULL);
	for (int i = 0; i < pool_size; i++) {
		db->conns[i].drv = db->drv;
		db->conns[i].db = db;
		db->conns[i].conn = db->drv->open(url, err);
		if (!db->conns[i].conn) {
			db_close(db);
			return NULL;
		}
		db->n++;
	}
	pthread_mutex_init(&db->ckpt_mu, NULL);
	pthread_cond_init(&db->ckpt_cv, NULL);
	if (db->kind == DB_SQLITE && pool_size > 1 && (db->ckpt_conn = db->drv->open(url, err))) {
		for (int i = 0; i < db->n; i++)
			db->drv->script(db->conns[i].conn, "PRAGMA wal_autocheckpoint=0", err);
		buf_reset(err);
		db->ckpt_running = pthread_create(&db->ckpt_thread, NULL, checkpointer, db) == 0;
		if (!db->ckpt_running)
			for (int i = 0; i < db->n; i++)
				db->drv->script(db->conns[i].conn, "PRAGMA wal_autocheckpoint=1000", err);
	}
	return db;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->ckpt_running) {
		pthread_mutex_lock(&db->ckpt_mu);
		db->ckpt_stop = true;
		pthread_cond_signal(&db->ckpt_cv);
		pthread_mutex_unlock(&db->ckpt_mu);
		pthread_join(db->ckpt_thread, NULL);
	}
	if (db->ckpt_conn)
		db->drv->close(db->ckpt_conn);
	for (int i = 0; i < db->n; i++) {
		db->drv->close(db->conns[i].conn);
		buf_free(&db->conns[i].err);
	}
	free(db->conns);
	pthread_mutex_destroy(&db->mu);
	pthread_cond_destroy(&db->cv);
	pthread_mutex_destroy(&db->write_mu);
	pthread_mutex_destroy(&db->ckpt_mu);
	pthread_cond_destroy(&db->ckpt_cv);
	free(db);
}

enum db_kind db_kind(const struct db *db) { return db->kind; }

/* SQLite with a pool: connection 0 is the writer's (its page cache stays
 * valid from one transaction to the next); readers get the others. */
static int first_reader(const struct db *db) { return db->kind == DB_SQLITE && db->n > 1 ? 1 : 0; }

struct dbc *db_acquire_writer(struct db *db)
{
	if (!first_reader(db))
		return db_acquire(db);
	pthread_mutex_lock(&db->mu);
	if (db->conns[0].busy)
		metrics_pool_wait();
	while (db->conns[0].busy)
		pthread_cond_wait(&db->cv, &db->mu);
	db->conns[0].busy = true;
	pthread_mutex_unlock(&db->mu);
	metrics_pool_busy(1);
	return &db->conns[0];
}

struct dbc *db_acquire(struct db *db)
{
	pthread_mutex_lock(&db->mu);
	for (bool waited = false;; waited = true) {
		for (int i = first_reader(db); i < db->n; i++) {
			if (!db->conns[i].busy) {
				db->conns[i].busy = true;
				pthread_mutex_unlock(&db->mu);
				metrics_pool_busy(1);
				return &db->conns[i];
			}
		}
		if (!waited)
			metrics_pool_wait();
		pthread_cond_wait(&db->cv, &db->mu);
	}
}

void db_release(struct db *db, struct dbc *c)
{
	pthread_mutex_lock(&db->mu);
	c->busy = false;
	pthread_cond_broadcast(&db->cv);
	pthread_mutex_unlock(&db->mu);
	metrics_pool_busy(-1);
}

int dbc_exec(struct dbc *c, const char *sql, const struct dbv *p, int np, db_row_fn fn, void *ctx)
{
	buf_reset(&c->err);
	uint64_t t0 = metrics_now_ns();
	int rc = c->drv->exec(c->conn, sql, p, np, fn, ctx, &c->err);
	metrics_db_time(metrics_now_ns() - t0);
	return rc;
}

int dbc_script(struct dbc *c, const char *sql)
{
	buf_reset(&c->err);
	return c->drv->script(c->conn, sql, &c->err);
}

static void write_done(struct dbc *c)
{
	if (c->holds_write) {
		c->holds_write = false;
		pthread_mutex_unlock(&c->db->write_mu);
	}
}

int dbc_begin(struct dbc *c)
{
	if (c->db->kind == DB_SQLITE && !c->holds_write) {
		pthread_mutex_lock(&c->db->write_mu);
		c->holds_write = true;
	}
	int rc = dbc_exec(c, c->drv->begin_sql, NULL, 0, NULL, NULL);
	if (rc)
		write_done(c);
	return rc;
}

int dbc_commit(struct dbc *c)
{
	int rc = dbc_exec(c, "COMMIT", NULL, 0, NULL, NULL);
	if (rc == DB_OK)
		write_done(c);
	return rc;   /* on failure the caller rolls back, which releases */
}

void dbc_rollback(struct dbc *c)
{
	struct buf keep = c->err;   /* keep the error that caused the rollback */
	c->err = (struct buf)BUF_INIT;
	c->drv->exec(c->conn, "ROLLBACK", NULL, 0, NULL, NULL, &c->err);
	buf_free(&c->err);
	c->err = keep;
	write_done(c);
}

const char *dbc_error(const struct dbc *c) { return c->err.len ? c->err.data : "database error"; }

struct int_ctx { long long v; bool got; };
static int int_row(void *ctx, const struct dbrow *r)
{
	struct int_ctx *ic = ctx;
	ic->v = dbrow_int(r, 0);
	ic->got = true;
	return 1;
}

int dbc_int(struct dbc *c, const char *sql, const struct dbv *p, int np, long long dflt, long long *out)
{
	struct int_ctx ic = {dflt, false};
	int rc = dbc_exec(c, sql, p, np, int_row, &ic);
	*out = ic.got ? ic.v : dflt;
	return rc;
}
