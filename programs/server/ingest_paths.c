/* ingest_paths.c - the distinct paths of stored findings (table `paths`,
 * schema 17): each path once, with an id that findings.path_id holds (an
 * index of small integers on findings).  A fleet repeats its paths (the
 * same software on many hosts: 2,000,000 findings, about 10,000 paths),
 * so the path substring filter (`findings?path=`) matches the few thousand
 * rows of `paths` and reads the findings of the matching ids by their
 * index instead of testing every finding (api_list.c).
 *
 * paths rows are never changed or deleted (a path no finding has any more
 * only costs the filter a row to test), so path -> id, once committed,
 * stays true.  SQLite: its one writer keeps the ids it has seen (struct
 * pathmap, like the archive ids of ingest_tx.c) and binds path_id
 * directly; ids learnt inside a group commit wait in struct arch_new until
 * the COMMIT.  PostgreSQL: a batch's paths are inserted before it, sorted,
 * in their own transaction (as its archives: concurrent batches cannot
 * deadlock on them), and each finding's INSERT looks its id up. */
#include "ingest_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PATHMAP_MAX (1u << 18)   /* slots; filled to half at most */

struct pathmap {
	struct { char *path; long long id; } *v;
	size_t cap, n, max;
};

static size_t pathmap_slot(const struct pathmap *m, const char *path)
{
	uint32_t h = 2166136261u;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	size_t i = h & (m->cap - 1);
	while (m->v[i].id && strcmp(m->v[i].path, path))
		i = (i + 1) & (m->cap - 1);
	return i;
}

long long ingest_pathmap_get(const struct pathmap *m, const char *path)
{
	return m->cap ? m->v[pathmap_slot(m, path)].id : 0;
}

struct pathmap *ingest_pathmap_new(size_t max)
{
	struct pathmap *m = xcalloc(1, sizeof *m);
	m->max = max ? max : PATHMAP_MAX;
	return m;
}

void ingest_pathmap_free(struct pathmap *m)
{
	if (m) {
		for (size_t i = 0; i < m->cap; i++)
			free(m->v[i].path);
		free(m->v);
	}
	free(m);
}

/* path -> id, once its transaction is committed; takes path (malloc'd) */
static void pathmap_put(struct pathmap *m, char *path, long long id)
{
	if (2 * (m->n + 1) > m->cap) {
		if (m->cap >= m->max) {
			free(path);   /* full: the rest is looked up in the database */
			return;
		}
		struct pathmap old = *m;
		m->cap = m->cap ? 2 * m->cap : 1024;
		m->v = xcalloc(m->cap, sizeof *m->v);
		m->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.v[i].id)
				pathmap_put(m, old.v[i].path, old.v[i].id);
		free(old.v);
	}
	size_t i = pathmap_slot(m, path);
	if (!m->v[i].id) {
		m->v[i].path = path;
		m->v[i].id = id;
		m->n++;
	} else {
		free(path);
	}
}

void ingest_pathmap_add(struct pathmap *m, const char *path, long long id)
{
	pathmap_put(m, xstrdup(path), id);
}

void ingest_paths_commit(struct arch_new *an, bool committed)
{
	for (size_t i = 0; i < an->pn; i++) {
		if (committed && an->pmap)
			pathmap_put(an->pmap, an->pv[i].path, an->pv[i].id);
		else
			free(an->pv[i].path);
	}
	an->pn = 0;
}

void ingest_paths_rollback(struct arch_new *an, size_t mark)
{
	while (an->pn > mark)
		free(an->pv[--an->pn].path);
}

int ingest_path_id(struct dbc *c, struct arch_new *an, const char *path, long long *id)
{
	if ((*id = ingest_pathmap_get(an->pmap, path)))
		return DB_OK;
	for (size_t i = an->pn; i-- > 0;)   /* learnt earlier in this group commit */
		if (!strcmp(an->pv[i].path, path)) {
			*id = an->pv[i].id;
			return DB_OK;
		}
	struct dbv p[1] = {dv_text(path)};
	int rc = dbc_int(c, "SELECT id FROM paths WHERE path = ?", p, 1, 0, id);
	if (rc == DB_OK && !*id)
		rc = dbc_int(c, "INSERT INTO paths(path) VALUES(?) RETURNING id", p, 1, 0, id);
	if (rc == DB_OK && !*id)
		rc = DB_ERR;
	if (rc == DB_OK) {
		if (an->pn == an->pcap) {
			an->pcap = an->pcap ? 2 * an->pcap : 64;
			an->pv = xrealloc(an->pv, an->pcap * sizeof *an->pv);
		}
		an->pv[an->pn].path = xstrdup(path);
		an->pv[an->pn++].id = *id;
	}
	return rc;
}

int ingest_insert_paths(struct dbc *c, const char *const *paths, size_t n)
{
	if (!n)
		return DB_OK;
	struct buf a = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		ingest_pg_array_add(&a, paths[i]);
	struct dbv p[1] = {dv_text(ingest_pg_array_end(&a))};
	/* those already there are skipped before the INSERT (no sequence
	 * value, no speculative insertion: the common case) */
	int rc = dbc_exec(c, "INSERT INTO paths(path) SELECT x.path FROM unnest(?::text[]) WITH ORDINALITY AS x(path, ord)"
			     " WHERE NOT EXISTS (SELECT 1 FROM paths p WHERE md5(p.path) = md5(x.path) AND p.path = x.path)"
			     " ORDER BY x.ord ON CONFLICT (md5(path)) DO NOTHING",
			  p, 1, NULL, NULL);
	buf_free(&a);
	return rc;
}

struct pg_found { const char *const *paths; size_t n; long long *ids; };

static int pg_found_row(void *ctx, const struct dbrow *r)
{
	struct pg_found *f = ctx;
	const char *path = dbrow_text(r, 1);
	const char *const *k = bsearch(&path, f->paths, f->n, sizeof *f->paths, ingest_str_cmp);
	if (k)
		f->ids[k - f->paths] = dbrow_int(r, 0);
	return 0;
}

int ingest_pg_path_ids(struct dbc *c, struct pathmap *m, pthread_mutex_t *mu, const char *const *paths, size_t n,
		       long long *ids)
{
	const char **miss = xcalloc(n + 1, sizeof *miss);
	size_t nm = 0;
	pthread_mutex_lock(mu);
	for (size_t i = 0; i < n; i++)
		if (!(ids[i] = ingest_pathmap_get(m, paths[i])))
			miss[nm++] = paths[i];
	pthread_mutex_unlock(mu);
	int rc = nm ? ingest_insert_paths(c, miss, nm) : DB_OK;
	if (rc == DB_OK && nm) {
		struct buf a = BUF_INIT;
		for (size_t i = 0; i < nm; i++)
			ingest_pg_array_add(&a, miss[i]);
		struct dbv p[1] = {dv_text(ingest_pg_array_end(&a))};
		struct pg_found f = {paths, n, ids};
		rc = dbc_exec(c, "SELECT p.id, p.path FROM unnest(?::text[]) AS x(path)"
				 " JOIN paths p ON md5(p.path) = md5(x.path) AND p.path = x.path",
			      p, 1, pg_found_row, &f);
		buf_free(&a);
		if (rc == DB_OK) {   /* autocommit: these rows are committed */
			pthread_mutex_lock(mu);
			for (size_t i = 0; i < n; i++)
				if (ids[i] && !ingest_pathmap_get(m, paths[i]))
					ingest_pathmap_add(m, paths[i], ids[i]);
			pthread_mutex_unlock(mu);
		}
	}
	free(miss);
	return rc;
}
