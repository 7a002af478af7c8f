/* store_ingest.c - report ingest (store_ingest, see store.h).
 *
 * Ingest of one report (ingest_tx) is atomic: its own SAVEPOINT inside a
 * group commit (see ingest_grouped; on PostgreSQL a report that meets a
 * deadlock or serialization failure there is re-run in a transaction of its
 * own, ingest_single); it is acknowledged only after the COMMIT:
 *   1. upsert the device row, reading it back (RETURNING; in PostgreSQL
 *      this row lock serialises two reports of the same device; SQLite has
 *      a single writer anyway)
 *   2+3. record the report in the history; a duplicate (device, report_id)
 *      inserts nothing: roll back, answer "duplicate"
 *   4. if it is not older than the current state, replace findings /
 *      processes / errors as its command says (a device's first report has
 *      nothing to replace); append attempts.  Findings go in as multi-row
 *      INSERTs, their archives (sha256) into `archives` first.
 *   5. update the device counters, the aggregates (delta between the
 *      device's findings before and after) and today's trend row: SQLite
 *      applies the summed deltas of a whole group commit at once;
 *      PostgreSQL appends them to agg_batch, merged by store_merge() (no
 *      hot rows locked by concurrent ingests)
 * Busy / deadlock / serialization failures re-run the transaction.
 * What needs no database (device identity, counts, findings hash, the
 * aggregate keys of the new findings, archives, attempt fingerprints) is
 * worked out first by the request's own thread (struct plan), so SQLite's
 * one writer does only the SQL; it also keeps the archive ids it has seen
 * (struct archmap) instead of looking each finding's up. */
#include "store.h"

#include <jansson.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- ingest ---- */

struct dev_state {
	long long id, scan_created, ps_created, last_created, n_reports;
	long long n_vulnerable, n_mitigated, n_safe, n_processes, n_restart, n_attempts, n_errors, exposed, attacked;
	char findings_hash[65];
	bool found;
};

static int dev_cb(void *ctx, const struct dbrow *r)
{
	struct dev_state *d = ctx;
	long long *f[] = {&d->id, &d->scan_created, &d->ps_created, &d->last_created, &d->n_reports,
			  &d->n_vulnerable, &d->n_mitigated, &d->n_safe, &d->n_processes, &d->n_restart,
			  &d->n_attempts, &d->n_errors, &d->exposed, &d->attacked};
	int n = (int)(sizeof f / sizeof f[0]);
	for (int i = 0; i < n; i++)
		*f[i] = dbrow_int(r, i);
	snprintf(d->findings_hash, sizeof d->findings_hash, "%s", dbrow_text(r, n));
	d->found = true;
	return 1;
}

/* One finding as the aggregates see it. */
struct fkey {
	char *status, *component, *version, *sha256, *cves_json;
	bool has_pid;
};

struct fkeys { struct fkey *v; size_t n, cap; };

static void fkeys_add(struct fkeys *k, const char *status, const char *component, const char *version,
		      const char *sha256, const char *cves_json, bool has_pid)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 32;
		k->v = xrealloc(k->v, k->cap * sizeof *k->v);
	}
	struct fkey *f = &k->v[k->n++];
	f->status = xstrdup(status ? status : "");
	f->component = xstrdup(component ? component : "");
	f->version = xstrdup(version ? version : "");
	f->sha256 = sha256 && *sha256 ? xstrdup(sha256) : NULL;
	f->cves_json = xstrdup(cves_json ? cves_json : "[]");
	f->has_pid = has_pid;
}

static void fkeys_free(struct fkeys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].status);
		free(k->v[i].component);
		free(k->v[i].version);
		free(k->v[i].sha256);
		free(k->v[i].cves_json);
	}
	free(k->v);
	k->v = NULL;
	k->n = k->cap = 0;
}

static int fkeys_cb(void *ctx, const struct dbrow *r)
{
	fkeys_add(ctx, dbrow_text(r, 0), dbrow_text(r, 1), dbrow_text(r, 2),
		  dbrow_type(r, 3) == DBV_NULL ? NULL : dbrow_text(r, 3), dbrow_text(r, 4), dbrow_int(r, 5) != 0);
	return 0;
}

/* Strings that live as long as the list that made them: bump-allocated
 * from 4 KB chunks, freed all at once (no malloc per key). */
struct spchunk { struct spchunk *next; size_t used, cap; char data[]; };
struct spool { struct spchunk *head; };

static const char *spool_dup(struct spool *p, const char *s)
{
	size_t n = strlen(s) + 1;
	if (!p->head || p->head->cap - p->head->used < n) {
		size_t cap = n > 4000 ? n : 4000;
		struct spchunk *c = xmalloc(sizeof *c + cap);
		c->next = p->head;
		c->used = 0;
		c->cap = cap;
		p->head = c;
	}
	char *d = p->head->data + p->head->used;
	memcpy(d, s, n);
	p->head->used += n;
	return d;
}

static void spool_free(struct spool *p)
{
	for (struct spchunk *c = p->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	p->head = NULL;
}

/* An aggregate key with its file counts before and after this report.  The
 * strings are not copied by akeys_add: they belong to the report, to the
 * caller, or to the list's pool (akeys_str). */
struct akey {
	const char *kind, *key, *sub, *label, *status;
	long long before, after;     /* one device's files, before and after a report */
	long long dfiles, ddev;      /* reduced: what changes in agg */
};
struct akeys { struct akey *v; size_t n, cap; struct spool pool; };

static const char *akeys_str(struct akeys *a, const char *s) { return spool_dup(&a->pool, s); }

static struct akey *akeys_add(struct akeys *a, const char *kind, const char *key, const char *sub,
			      const char *status, const char *label, bool after)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	struct akey *k = &a->v[a->n++];
	k->kind = kind;
	k->key = key;
	k->sub = sub;
	k->label = label;
	k->status = status;
	k->before = after ? 0 : 1;
	k->after = after ? 1 : 0;
	k->dfiles = k->ddev = 0;
	return k;
}

/* a copy of e (its strings into a's pool) */
static struct akey *akeys_copy(struct akeys *a, const struct akey *e)
{
	struct akey *k = akeys_add(a, e->kind, akeys_str(a, e->key), akeys_str(a, e->sub), e->status,
				   *e->label ? akeys_str(a, e->label) : "", true);
	k->before = e->before;
	k->after = e->after;
	k->dfiles = e->dfiles;
	k->ddev = e->ddev;
	return k;
}

static const char *intern_status(const char *s)
{
	if (!strcmp(s, "vulnerable"))
		return "vulnerable";
	if (!strcmp(s, "mitigated"))
		return "mitigated";
	return "safe";
}

/* A CVE's keys: its files, and its files per version (what lets the API
 * answer a CVE filter from the version index, see api.c) */
static void add_cve(struct akeys *a, const char *cve, const char *version, const char *status, bool after)
{
	akeys_add(a, "cve", cve, "", status, "", after);
	akeys_add(a, "cvever", cve, version, status, "", after);
}

/* The keys of one finding (its strings must outlive a). */
static void akeys_from(struct akeys *a, const struct fkey *f, bool after)
{
	const char *status = intern_status(f->status);
	akeys_add(a, "version", f->version, f->component, status, "", after);
	if (f->sha256) {
		struct buf label = BUF_INIT;
		buf_printf(&label, "%s %s", f->component, f->version);
		akeys_add(a, "sha256", f->sha256, "", status, akeys_str(a, buf_cstr(&label)), after);
		buf_free(&label);
	}
	/* cves_json is ingest's compact serialisation of an array of strings:
	 * read it directly unless a string has an escape (then jansson) */
	const char *p = f->cves_json;
	if (*p == '[' && !strchr(p, '\\')) {
		size_t mark = a->n;
		char tmp[256];
		p++;
		while (*p == '"') {
			const char *q = strchr(p + 1, '"');
			if (!q || (size_t)(q - p - 1) >= sizeof tmp)
				break;
			memcpy(tmp, p + 1, (size_t)(q - p - 1));
			tmp[q - p - 1] = 0;
			add_cve(a, akeys_str(a, tmp), f->version, status, after);
			p = q + 1;
			if (*p == ',' && p[1] == '"')
				p++;
		}
		if (*p == ']' && !p[1])
			return;
		a->n = mark;   /* not that shape after all */
	}
	json_t *cves = json_loads(f->cves_json, 0, NULL);
	size_t i;
	json_t *e;
	if (cves && json_is_array(cves))
		json_array_foreach(cves, i, e)
			if (json_is_string(e))
				add_cve(a, akeys_str(a, json_string_value(e)), f->version, status, after);
	json_decref(cves);
}

static int akey_cmp(const void *x, const void *y)
{
	const struct akey *a = x, *b = y;
	int c = strcmp(a->kind, b->kind);
	if (!c)
		c = strcmp(a->key, b->key);
	if (!c)
		c = strcmp(a->sub, b->sub);
	if (!c)
		c = strcmp(a->status, b->status);
	return c;
}

static void akeys_free(struct akeys *a)
{
	spool_free(&a->pool);
	free(a->v);
	memset(a, 0, sizeof *a);
}

/* SHA-256 over every stored field of a report's findings, in order */
static void findings_hash(const struct report *r, char out[65])
{
	struct sha256_ctx h;
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_init(&h);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct rp_finding *f = &r->findings[i];
		const char *parts[] = {f->path, f->path_b64, f->component, f->version, f->version_source, f->status,
				       f->severity, f->fixed_in, f->sha256, f->cves_json, f->evidence_json};
		for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
			const char *p = parts[k] ? parts[k] : "\x01";
			sha256_update(&h, strlen(p) + 1, (const uint8_t *)p);
		}
		char pid[32];
		snprintf(pid, sizeof pid, "%lld", f->has_pid ? f->pid : -1);
		sha256_update(&h, strlen(pid) + 1, (const uint8_t *)pid);
	}
	sha256_digest(&h, sizeof d, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Sort, and sum the entries of each key into one (pointers stay valid). */
static void akeys_sum(struct akeys *a)
{
	if (a->n)
		qsort(a->v, a->n, sizeof *a->v, akey_cmp);
	size_t u = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (u && !akey_cmp(&a->v[u - 1], &a->v[i])) {
			a->v[u - 1].before += a->v[i].before;
			a->v[u - 1].after += a->v[i].after;
		} else {
			a->v[u++] = a->v[i];
		}
	}
	a->n = u;
}

static void attempt_fp(const struct rp_attempt *a, char out[33]);
static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

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
	const char **shas;           /* their distinct sha256 values, sorted */
	size_t n_shas;
	char (*fps)[33];             /* attempt_fp() of each attempt */
};

static void plan_make(struct plan *pl, const struct report *r)
{
	memset(pl, 0, sizeof *pl);
	report_device_ident(r, &pl->ident);
	pl->is_scan = !strcmp(r->command, "scan");
	pl->is_ps = !strcmp(r->command, "ps");
	if (pl->is_scan)
		findings_hash(r, pl->fhash);
	pl->shas = xcalloc(r->n_findings + 1, sizeof *pl->shas);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct rp_finding *f = &r->findings[i];
		bool v = !strcmp(f->status, "vulnerable"), m = !strcmp(f->status, "mitigated");
		pl->vuln += v;
		if (!(pl->is_scan || (pl->is_ps && f->has_pid)))
			continue;   /* a ps report speaks only for running processes */
		pl->nv += v;
		pl->nm += m;
		pl->ns += !v && !m;
		struct fkey fk = {(char *)f->status, (char *)(f->component ? f->component : ""),
				  (char *)(f->version ? f->version : ""), (char *)f->sha256, f->cves_json, f->has_pid};
		akeys_from(&pl->after, &fk, true);
		if (f->sha256)
			pl->shas[pl->n_shas++] = f->sha256;
	}
	akeys_sum(&pl->after);
	if (pl->n_shas)
		qsort(pl->shas, pl->n_shas, sizeof *pl->shas, str_cmp);
	size_t u = 0;
	for (size_t i = 0; i < pl->n_shas; i++)
		if (!u || strcmp(pl->shas[u - 1], pl->shas[i]))
			pl->shas[u++] = pl->shas[i];
	pl->n_shas = u;
	pl->fps = xcalloc(r->n_attempts + 1, sizeof *pl->fps);
	for (size_t i = 0; i < r->n_attempts; i++)
		attempt_fp(&r->attempts[i], pl->fps[i]);
}

static void plan_free(struct plan *pl)
{
	buf_free(&pl->ident);
	akeys_free(&pl->after);
	free(pl->shas);
	free(pl->fps);
}

static void utc_day(long long t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* One device's before/after entries -> (key, files delta, devices delta),
 * appended to out (strings copied into out's pool). */
static void akeys_reduce(struct akeys *a, struct akeys *out)
{
	if (a->n)
		qsort(a->v, a->n, sizeof *a->v, akey_cmp);
	size_t i = 0;
	while (i < a->n) {
		size_t j = i;
		long long before = 0, after = 0;
		while (j < a->n && !akey_cmp(&a->v[i], &a->v[j])) {
			before += a->v[j].before;
			after += a->v[j].after;
			j++;
		}
		long long dfiles = after - before, ddev = (after > 0) - (before > 0);
		if (dfiles || ddev) {
			struct akey *k = akeys_copy(out, &a->v[i]);
			k->dfiles = dfiles;
			k->ddev = ddev;
		}
		i = j;
	}
}

/* The fleet-wide changes of one or more reports, applied together. */
struct deltas {
	struct akeys agg;            /* reduced entries */
	long long trend[9];
};

static void deltas_free(struct deltas *d)
{
	akeys_free(&d->agg);
	memset(d, 0, sizeof *d);
}

/* Sort the entries and sum those of each key into one; keys whose sum is
 * zero are dropped. */
static void deltas_sum(struct deltas *dl)
{
	struct akeys *a = &dl->agg;
	if (a->n)
		qsort(a->v, a->n, sizeof *a->v, akey_cmp);
	size_t u = 0;
	for (size_t i = 0, j; i < a->n; i = j) {
		long long dfiles = 0, ddev = 0;
		for (j = i; j < a->n && !akey_cmp(&a->v[i], &a->v[j]); j++) {
			dfiles += a->v[j].dfiles;
			ddev += a->v[j].ddev;
		}
		if (!dfiles && !ddev)
			continue;
		a->v[u] = a->v[i];
		a->v[u].dfiles = dfiles;
		a->v[u].ddev = ddev;
		u++;
	}
	a->n = u;
}

/* SQLite: upsert the summed entries in key order, then today's trend row. */
static int apply_deltas(struct dbc *c, struct deltas *dl, long long now)
{
	deltas_sum(dl);
	for (size_t i = 0; i < dl->agg.n; i++) {
		const struct akey *k = &dl->agg.v[i];
		struct dbv p[7] = {dv_text(k->kind), dv_text(k->key), dv_text(k->sub), dv_text(k->status),
				   dv_int(k->dfiles), dv_int(k->ddev), dv_text(k->label)};
		int rc = dbc_exec(c, "INSERT INTO agg(kind, akey, sub, status, files, devices, label)"
				     " VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind, akey, sub, status) DO UPDATE"
				     " SET files = agg.files + excluded.files, devices = agg.devices + excluded.devices",
				  p, 7, NULL, NULL);
		if (rc)
			return rc;
	}
	bool any = false;
	for (int k = 0; k < 9; k++)
		any |= dl->trend[k] != 0;
	if (!any)
		return DB_OK;
	char day[11];
	utc_day(now, day);
	struct dbv dp[1] = {dv_text(day)};
	int rc;
	if ((rc = dbc_exec(c, "INSERT INTO trend(day, devices, devices_vulnerable, exposed, attacked, vulnerable,"
			      " mitigated, safe, restart, attempts) SELECT ?, devices, devices_vulnerable, exposed,"
			      " attacked, vulnerable, mitigated, safe, restart, attempts FROM trend WHERE 1 = 1"
			      " ORDER BY day DESC LIMIT 1 ON CONFLICT(day) DO NOTHING", dp, 1, NULL, NULL)) ||
	    (rc = dbc_exec(c, "INSERT INTO trend(day) VALUES(?) ON CONFLICT(day) DO NOTHING", dp, 1, NULL, NULL)))
		return rc;
	struct dbv tp[10];
	for (int k = 0; k < 9; k++)
		tp[k] = dv_int(dl->trend[k]);
	tp[9] = dv_text(day);
	return dbc_exec(c, "UPDATE trend SET devices = devices + ?, devices_vulnerable = devices_vulnerable + ?,"
			   " exposed = exposed + ?, attacked = attacked + ?, vulnerable = vulnerable + ?,"
			   " mitigated = mitigated + ?, safe = safe + ?, restart = restart + ?,"
			   " attempts = attempts + ? WHERE day = ?", tp, 10, NULL, NULL);
}

static void attempt_fp(const struct rp_attempt *a, char out[33])
{
	struct sha256_ctx h;
	uint8_t d[SHA256_DIGEST_SIZE];
	char num[64];
	sha256_init(&h);
	const char *parts[] = {a->path, a->raw, a->decoded};
	for (int i = 0; i < 3; i++) {
		const char *s = parts[i] ? parts[i] : "";
		sha256_update(&h, strlen(s) + 1, (const uint8_t *)s);
	}
	snprintf(num, sizeof num, "%lld:%lld", a->has_line ? a->line : -1, a->has_offset ? a->offset : -1);
	sha256_update(&h, strlen(num), (const uint8_t *)num);
	sha256_digest(&h, sizeof d, d);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}


static struct dbv opt_int(bool has, long long v) { return has ? dv_int(v) : dv_null(); }

/* INSERT of n rows of np parameters each, as few statements as possible:
 * chunks of 16, 4 and 1 rows (three statement texts to prepare, and on
 * PostgreSQL one round trip per chunk instead of per row).  head ends
 * before VALUES, row is "(?, ...)". */
static int insert_rows(struct dbc *c, const char *head, const char *row, const char *tail, int np,
		       const struct dbv *p, size_t n)
{
	static const size_t chunks[] = {16, 4, 1};
	struct buf sql = BUF_INIT;
	size_t done = 0;
	int rc = DB_OK;
	for (int k = 0; k < 3 && rc == DB_OK; k++) {
		if (n - done < chunks[k])
			continue;
		buf_reset(&sql);
		buf_adds(&sql, head);
		buf_adds(&sql, " VALUES ");
		for (size_t i = 0; i < chunks[k]; i++) {
			if (i)
				buf_addc(&sql, ',');
			buf_adds(&sql, row);
		}
		buf_adds(&sql, tail);
		while (rc == DB_OK && n - done >= chunks[k]) {
			rc = dbc_exec(c, buf_cstr(&sql), p + done * (size_t)np, (int)chunks[k] * np, NULL, NULL);
			done += chunks[k];
		}
	}
	buf_free(&sql);
	return rc;
}

/* a PostgreSQL array literal element: "..." with \ and " escaped, or NULL */
static void arr_add(struct buf *b, const char *s)
{
	buf_addc(b, b->len ? ',' : '{');
	if (!s) {
		buf_adds(b, "NULL");
		return;
	}
	buf_addc(b, '"');
	while (*s) {
		size_t n = strcspn(s, "\"\\");   /* the runs between characters to escape, whole */
		buf_add(b, s, n);
		s += n;
		if (*s) {
			buf_addc(b, '\\');
			buf_addc(b, *s++);
		}
	}
	buf_addc(b, '"');
}

static const char *arr_end(struct buf *b)
{
	if (!b->len)
		buf_addc(b, '{');
	buf_addc(b, '}');
	return buf_cstr(b);
}

/* PostgreSQL: the archives rows of shas[0..n) (sorted, distinct), one
 * INSERT.  Sorted: concurrent transactions adding the same new archives
 * take them in one order. */
static int insert_archives(struct dbc *c, const char *const *shas, size_t n)
{
	if (!n)
		return DB_OK;
	struct buf sh = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		arr_add(&sh, shas[i]);
	struct dbv p[1] = {dv_text(arr_end(&sh))};
	int rc = dbc_exec(c, "INSERT INTO archives(sha256) SELECT unnest(?::text[]) ON CONFLICT(sha256) DO NOTHING",
			  p, 1, NULL, NULL);
	buf_free(&sh);
	return rc;
}

/* PostgreSQL: the report's findings (with ps_only: those with a pid) in one
 * INSERT of arrays (unnest; one round trip whatever their number), their
 * archives in one before it: the distinct sha256 values in sorted order
 * (concurrent transactions adding the same new archives take them in one
 * order and cannot deadlock; an existing one is not locked). */
static int insert_findings(struct dbc *c, const struct report *r, const struct plan *pl, long long device_id,
			   bool ps_only, bool archives_known)
{
	enum { NCOL = 12 };
	struct buf col[NCOL];
	for (int k = 0; k < NCOL; k++)
		col[k] = (struct buf)BUF_INIT;
	size_t n = 0;
	char num[32];
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct rp_finding *f = &r->findings[i];
		if (ps_only && !f->has_pid)
			continue;   /* a ps report speaks only for running processes */
		snprintf(num, sizeof num, "%lld", f->pid);
		const char *v[NCOL] = {f->path, f->path_b64, f->component ? f->component : "", f->version ? f->version : "",
				       f->version_source, f->status, f->severity, f->fixed_in, f->sha256, f->cves_json,
				       f->evidence_json, f->has_pid ? num : NULL};
		for (int k = 0; k < NCOL; k++)
			arr_add(&col[k], v[k]);
		n++;
	}
	int rc = archives_known ? DB_OK : insert_archives(c, pl->shas, pl->n_shas);
	if (rc == DB_OK && n) {
		struct dbv p[2 + NCOL] = {dv_int(device_id), dv_text(r->report_id)};
		for (int k = 0; k < NCOL; k++)
			p[2 + k] = dv_text(arr_end(&col[k]));
		rc = dbc_exec(c, "INSERT INTO findings(device_id, report_id, path, path_b64, component, version,"
				 " version_source, status, severity, fixed_in, sha256, cves_json, evidence_json, pid,"
				 " archive_id)"
				 " SELECT ?, ?, u.path, u.path_b64, u.component, u.version, u.vs, u.status, u.severity,"
				 " u.fixed_in, u.sha256, u.cves, u.evidence, u.pid,"
				 " (SELECT a.id FROM archives a WHERE a.sha256 = u.sha256)"
				 " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],"
				 " ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[]) WITH ORDINALITY"
				 " AS u(path, path_b64, component, version, vs, status, severity, fixed_in, sha256, cves,"
				 " evidence, pid, ord)"
				 " ORDER BY u.ord",
			      p, 2 + NCOL, NULL, NULL);
	}
	for (int k = 0; k < NCOL; k++)
		buf_free(&col[k]);
	return rc;
}

/* ---- SQLite: the writer's archive ids ----
 *
 * archives rows are never changed or deleted, so sha256 -> id, once
 * committed, stays true.  The single SQLite writer keeps those it has seen
 * in a hash table (bounded: past ARCHMAP_MAX it asks the database), and
 * binds archive_id directly instead of a subquery per finding.  Ids it
 * learns inside a group commit are kept aside (struct arch_new) and enter
 * the table only after the COMMIT, those of a report rolled back to its
 * savepoint are dropped: the table never holds an id that is not in the
 * database. */

#define ARCHMAP_MAX (1u << 17)   /* slots; filled to half at most */

struct archmap {
	struct { char sha[65]; long long id; } *v;
	size_t cap, n;
};

static size_t archmap_slot(const struct archmap *m, const char *sha)
{
	uint32_t h = 2166136261u;
	for (const char *p = sha; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	size_t i = h & (m->cap - 1);
	while (m->v[i].id && strcmp(m->v[i].sha, sha))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static long long archmap_get(const struct archmap *m, const char *sha)
{
	return m->cap ? m->v[archmap_slot(m, sha)].id : 0;
}

static void archmap_put(struct archmap *m, const char *sha, long long id)
{
	if (strlen(sha) > 64)
		return;
	if (2 * (m->n + 1) > m->cap) {
		if (m->cap >= ARCHMAP_MAX)
			return;   /* full: the rest is looked up in the database */
		struct archmap old = *m;
		m->cap = m->cap ? 2 * m->cap : 1024;
		m->v = xcalloc(m->cap, sizeof *m->v);
		m->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.v[i].id)
				archmap_put(m, old.v[i].sha, old.v[i].id);
		free(old.v);
	}
	size_t i = archmap_slot(m, sha);
	if (!m->v[i].id) {
		snprintf(m->v[i].sha, sizeof m->v[i].sha, "%s", sha);
		m->v[i].id = id;
		m->n++;
	}
}

void store_ingest_close(struct store *st)
{
	if (st->archmap)
		free(st->archmap->v);
	free(st->archmap);
	st->archmap = NULL;
}

/* ids learnt in the current group commit, not yet in the table */
struct arch_new {
	struct archmap *map;
	struct { const char *sha; long long id; } *v;
	size_t n, cap;
};

static int archive_id(struct dbc *c, struct arch_new *an, const char *sha, long long *id)
{
	*id = archmap_get(an->map, sha);
	if (*id)
		return DB_OK;
	struct dbv p[1] = {dv_text(sha)};
	int rc = dbc_int(c, "SELECT id FROM archives WHERE sha256 = ?", p, 1, 0, id);
	if (rc == DB_OK && !*id)
		rc = dbc_int(c, "INSERT INTO archives(sha256) VALUES(?) RETURNING id", p, 1, 0, id);
	if (rc == DB_OK && !*id)
		rc = DB_ERR;
	if (rc == DB_OK) {
		if (an->n == an->cap) {
			an->cap = an->cap ? 2 * an->cap : 64;
			an->v = xrealloc(an->v, an->cap * sizeof *an->v);
		}
		an->v[an->n].sha = sha;
		an->v[an->n++].id = *id;
	}
	return rc;
}

/* SQLite: the findings with their archive ids bound (see above). */
static int insert_findings_sqlite(struct dbc *c, const struct report *r, const struct plan *pl,
				  long long device_id, bool ps_only, struct arch_new *an)
{
	int rc = DB_OK;
	long long *ids = xcalloc(pl->n_shas + 1, sizeof *ids);
	for (size_t i = 0; i < pl->n_shas && rc == DB_OK; i++)
		rc = archive_id(c, an, pl->shas[i], &ids[i]);
	struct dbv *q = xcalloc(15 * (r->n_findings + 1), sizeof *q);
	size_t n = 0;
	for (size_t i = 0; i < r->n_findings && rc == DB_OK; i++) {
		const struct rp_finding *f = &r->findings[i];
		if (ps_only && !f->has_pid)
			continue;   /* a ps report speaks only for running processes */
		struct dbv aid = dv_null();
		if (f->sha256) {
			const char **k = bsearch(&f->sha256, pl->shas, pl->n_shas, sizeof *pl->shas, str_cmp);
			if (!k) {
				rc = DB_ERR;
				break;
			}
			aid = dv_int(ids[k - pl->shas]);
		}
		struct dbv row[15] = {dv_int(device_id), dv_text(r->report_id), dv_text(f->path), dv_text(f->path_b64),
				      dv_text(f->component ? f->component : ""), dv_text(f->version ? f->version : ""),
				      dv_text(f->version_source), dv_text(f->status), dv_text(f->severity),
				      dv_text(f->fixed_in), dv_text(f->sha256), dv_text(f->cves_json),
				      dv_text(f->evidence_json), opt_int(f->has_pid, f->pid), aid};
		memcpy(q + 15 * n++, row, sizeof row);
	}
	if (rc == DB_OK && n)
		rc = insert_rows(c, "INSERT INTO findings(device_id, report_id, path, path_b64, component, version,"
				    " version_source, status, severity, fixed_in, sha256, cves_json, evidence_json, pid,"
				    " archive_id)", "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 15, q, n);
	free(ids);
	free(q);
	return rc;
}

/* The report's changes to its device; the fleet-wide deltas (agg, trend)
 * are added to dl for the caller to apply.  an: SQLite's archive ids (NULL
 * on PostgreSQL). */
static int ingest_tx(struct dbc *c, const struct report *r, const struct plan *pl, long long token_id,
		     long long now, struct ingest_result *res, struct deltas *dl, struct arch_new *an,
		     bool archives_known)
{
	const char *ident = buf_cstr((struct buf *)&pl->ident);
	int rc;
	struct dev_state d = {0};
	struct fkeys before = {0};
	struct akeys ak = {0};
	memset(res, 0, sizeof *res);

	/* 1. the device row, locked */
	{
		struct dbv p[3] = {dv_text(ident), dv_int(now), dv_int(now)};
		if ((rc = dbc_exec(c, "INSERT INTO devices(ident, first_seen, last_seen) VALUES(?, ?, ?)"
				      " ON CONFLICT(ident) DO UPDATE SET ident = excluded.ident"
				      " RETURNING id, scan_created, ps_created, last_created, n_reports, n_vulnerable,"
				      " n_mitigated, n_safe, n_processes, n_restart, n_attempts, n_errors, exposed, attacked,"
				      " findings_hash", p, 3, dev_cb, &d)))
			goto out;
		if (!d.found) {
			rc = DB_ERR;
			goto out;
		}
		res->device_id = d.id;
	}
	/* what this report replaces */
	bool is_scan = pl->is_scan, is_ps = pl->is_ps;
	bool repl_findings_all = is_scan && r->created_epoch >= d.scan_created;
	bool repl_findings_pid = is_ps && r->created_epoch >= d.ps_created;
	bool repl_processes = (is_scan && r->created_epoch >= d.scan_created) || repl_findings_pid;
	bool repl_errors = repl_findings_all;
	/* findings in a report of another command (or an older one) are not current state */
	bool store_findings = repl_findings_all || repl_findings_pid;
	res->applied = repl_findings_all || repl_processes || r->n_attempts;

	/* 3. history */
	{
		struct dbv p[13] = {dv_int(d.id), dv_text(r->report_id), dv_text(r->command), dv_int(r->created_epoch),
				    dv_int(now), dv_int(token_id), dv_text(r->agent_version ? r->agent_version : ""),
				    dv_int((long long)r->n_findings), dv_int(pl->vuln), dv_int((long long)r->n_processes),
				    dv_int((long long)r->n_attempts), dv_int((long long)r->n_errors),
				    dv_int(res->applied ? 1 : 0)};
		struct dbv q[14];
		memcpy(q, p, sizeof p);
		q[13] = dv_text(r->summary_json);
		/* 2. idempotency: a report id the device already sent inserts nothing */
		long long id = 0;
		if ((rc = dbc_int(c, "INSERT INTO reports(device_id, report_id, command, created, received, token_id,"
				     " agent_version, n_findings, n_vulnerable, n_processes, n_attempts, n_errors, applied,"
				     " summary_json) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
				     " ON CONFLICT(device_id, report_id) DO NOTHING RETURNING id", q, 14, 0, &id)))
			goto out;
		if (!id) {
			memset(res, 0, sizeof *res);
			res->device_id = d.id;
			res->duplicate = true;
			goto out;
		}
	}
	/* a device's first report: it has no findings, processes or errors yet */
	bool fresh = d.n_reports == 0;
	/* 4a. findings */
	long long nv = d.n_vulnerable, nm = d.n_mitigated, ns = d.n_safe;
	char fhash[65];
	snprintf(fhash, sizeof fhash, "%s", d.findings_hash);
	if (repl_findings_all) {
		memcpy(fhash, pl->fhash, sizeof fhash);
		if (!strcmp(fhash, d.findings_hash) && d.n_reports > 0)
			store_findings = false;   /* the same findings as now: nothing to rewrite */
	} else if (repl_findings_pid) {
		fhash[0] = 0;                     /* changed in part: no longer the hash of a scan */
	}
	if (store_findings) {
		struct dbv p[1] = {dv_int(d.id)};
		if (!fresh && (rc = dbc_exec(c, "SELECT status, component, version, sha256, cves_json,"
					       " CASE WHEN pid IS NULL THEN 0 ELSE 1 END FROM findings WHERE device_id = ?",
					    p, 1, fkeys_cb, &before)))
			goto out;
		if (!fresh && (rc = dbc_exec(c, repl_findings_all ? "DELETE FROM findings WHERE device_id = ?"
								  : "DELETE FROM findings WHERE device_id = ? AND pid IS NOT NULL",
					     p, 1, NULL, NULL)))
			goto out;
		nv = nm = ns = 0;
		for (size_t i = 0; i < before.n; i++) {
			akeys_from(&ak, &before.v[i], false);
			bool kept = !repl_findings_all && !before.v[i].has_pid;
			if (kept) {
				akeys_from(&ak, &before.v[i], true);
				const char *s = before.v[i].status;
				nv += !strcmp(s, "vulnerable");
				nm += !strcmp(s, "mitigated");
				ns += !strcmp(s, "safe");
			}
		}
		if ((rc = an ? insert_findings_sqlite(c, r, pl, d.id, repl_findings_pid, an)
			     : insert_findings(c, r, pl, d.id, repl_findings_pid, archives_known)))
			goto out;
		/* the new findings: counted and keyed by plan_make() */
		for (size_t i = 0; i < pl->after.n; i++)
			*akeys_add(&ak, "", "", "", "", "", true) = pl->after.v[i];
		nv += pl->nv;
		nm += pl->nm;
		ns += pl->ns;
	}
	/* 4b. processes */
	long long nproc = d.n_processes, nrestart = d.n_restart, exposed = d.exposed;
	if (repl_processes) {
		struct dbv p[1] = {dv_int(d.id)};
		if (!fresh && (rc = dbc_exec(c, "DELETE FROM processes WHERE device_id = ?", p, 1, NULL, NULL)))
			goto out;
		nproc = (long long)r->n_processes;
		nrestart = exposed = 0;
		for (size_t i = 0; i < r->n_processes; i++) {
			const struct rp_process *pr = &r->processes[i];
			struct dbv q[12] = {dv_int(d.id), dv_int(pr->pid), dv_text(pr->user), dv_text(pr->command),
					    dv_text(pr->start_time), dv_text(pr->container), dv_text(pr->status),
					    dv_int(pr->restart_required), dv_text(pr->listening_json),
					    dv_int(pr->n_listening), dv_text(pr->jars_json), dv_text(pr->mitigations_json)};
			if ((rc = dbc_exec(c, "INSERT INTO processes(device_id, pid, username, command, start_time, container,"
					      " status, restart_required, listening_json, n_listening, jars_json, mitigations_json)"
					      " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", q, 12, NULL, NULL)))
				goto out;
			nrestart += pr->restart_required;
			if (!strcmp(pr->status, "vulnerable") && pr->n_listening > 0)
				exposed = 1;
		}
	}
	/* 4c. errors */
	long long nerr = d.n_errors;
	if (repl_errors) {
		struct dbv p[1] = {dv_int(d.id)};
		if (!fresh && (rc = dbc_exec(c, "DELETE FROM scan_errors WHERE device_id = ?", p, 1, NULL, NULL)))
			goto out;
		nerr = (long long)r->n_errors;
		for (size_t i = 0; i < r->n_errors && i < 1000; i++) {
			struct dbv q[3] = {dv_int(d.id), dv_text(r->errors[i].path), dv_text(r->errors[i].error)};
			if ((rc = dbc_exec(c, "INSERT INTO scan_errors(device_id, path, error) VALUES(?, ?, ?)", q, 3,
					   NULL, NULL)))
				goto out;
		}
	}
	/* 4d. attempts (appended, de-duplicated).  "seen": the device already had
	 * an attempt calling back to that host before this report. */
	long long natt = d.n_attempts;
	bool *seen = xcalloc(r->n_attempts ? r->n_attempts : 1, sizeof *seen);
	for (size_t i = 0; i < r->n_attempts; i++) {
		const struct rp_attempt *a = &r->attempts[i];
		long long n = 0;
		struct dbv hp[2] = {dv_text(a->host ? a->host : ""), dv_int(d.id)};
		if (!a->host)
			continue;
		if ((rc = dbc_int(c, "SELECT COUNT(*) FROM (SELECT 1 FROM attempts WHERE host = ? AND device_id = ?"
				     " LIMIT 1) t", hp, 2, 0, &n))) {
			free(seen);
			goto out;
		}
		seen[i] = n > 0;
	}
	for (size_t i = 0; i < r->n_attempts; i++) {
		const struct rp_attempt *a = &r->attempts[i];
		struct dbv q[15] = {dv_int(d.id), dv_text(r->report_id), dv_text(pl->fps[i]), dv_text(a->path),
				    opt_int(a->has_line, a->line), opt_int(a->has_offset, a->offset), dv_text(a->timestamp),
				    dv_text(a->raw), dv_text(a->decoded), dv_text(a->protocol),
				    dv_text(a->host ? a->host : ""), opt_int(a->has_port, a->port), dv_text(a->client),
				    dv_text(a->exfil_json), dv_int(now)};
		long long inserted = 0;
		if ((rc = dbc_int(c, "INSERT INTO attempts(device_id, report_id, fp, path, line, byte_offset, ts, raw,"
				     " decoded, protocol, host, port, client, exfil_json, received)"
				     " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
				     " ON CONFLICT(device_id, fp) DO NOTHING RETURNING id", q, 15, 0, &inserted))) {
			free(seen);
			goto out;
		}
		if (!inserted)
			continue;
		natt++;
		res->attempts_new++;
		if (a->host) {
			/* one more attempt for the host; one more device unless seen before */
			akeys_add(&ak, "callback", a->host, "", "", "", true);
			if (seen[i]) {
				akeys_add(&ak, "callback", a->host, "", "", "", true);
				ak.v[ak.n - 1].before = 1;
			}
		}
	}
	free(seen);
	/* 5. counters, aggregates, trend */
	{
		long long attacked = natt > 0;
		long long priority = exposed * 2 + attacked;
		bool newer = r->created_epoch >= d.last_created;
		struct dbv p[] = {
			dv_int(now), dv_text(r->report_id), dv_int(d.n_reports + 1),
			dv_int(repl_findings_all ? r->created_epoch : d.scan_created),
			dv_int(repl_processes && is_ps ? r->created_epoch : d.ps_created),
			dv_int(nv), dv_int(nm), dv_int(ns), dv_int(nproc), dv_int(nrestart), dv_int(natt), dv_int(nerr),
			dv_int(exposed), dv_int(attacked), dv_int(priority),
			dv_int(newer), dv_text(r->hostname ? r->hostname : ""), dv_text(r->machine_id),
			dv_text(r->os ? r->os : ""), dv_text(r->kernel ? r->kernel : ""), dv_text(r->ips_json),
			dv_text(r->tags_json), dv_text(r->agent_version ? r->agent_version : ""),
			dv_int(r->created_epoch), dv_text(fhash), dv_int(d.id)};
		if ((rc = dbc_exec(c, "UPDATE devices SET last_seen = ?, last_report_id = ?, n_reports = ?,"
				      " scan_created = ?, ps_created = ?, n_vulnerable = ?, n_mitigated = ?, n_safe = ?,"
				      " n_processes = ?, n_restart = ?, n_attempts = ?, n_errors = ?, exposed = ?,"
				      " attacked = ?, priority = ?,"
				      " hostname = CASE WHEN ? = 1 THEN ? ELSE hostname END, machine_id = ?,"
				      " os = ?, kernel = ?, ips_json = ?, tags_json = ?, agent_version = ?,"
				      " last_created = CASE WHEN last_created > ? THEN last_created ELSE ? END,"
				      " findings_hash = ? WHERE id = ?",
				   (struct dbv[]){p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11],
						  p[12], p[13], p[14], p[15], p[16], p[17], p[18], p[19], p[20], p[21],
						  p[22], p[23], p[23], p[24], p[25]},
				   27, NULL, NULL)))
			goto out;
		akeys_reduce(&ak, &dl->agg);
		long long dv[9] = {
			d.n_reports == 0, (nv > 0) - (d.n_vulnerable > 0), exposed - d.exposed, attacked - d.attacked,
			nv - d.n_vulnerable, nm - d.n_mitigated, ns - d.n_safe, nrestart - d.n_restart, natt - d.n_attempts};
		for (int i = 0; i < 9; i++)
			dl->trend[i] += dv[i];
	}
	rc = DB_OK;
out:
	fkeys_free(&before);
	akeys_free(&ak);
	return rc;
}

/* ---- PostgreSQL: aggregate deltas without hot rows ----
 *
 * Every report changes a few shared rows (per CVE / version / archive
 * aggregates, today's trend row).  Updating them in the report's own
 * transaction serialises all concurrent ingests on those row locks.
 * Instead each transaction (a batch of reports, see ingest_grouped)
 * appends its summed deltas as one agg_batch row of parallel arrays (an
 * INSERT of a new row locks nothing shared), so an acknowledged report's
 * deltas are durable with it.  store_merge() folds the pending rows (and any
 * agg_delta rows, the per-key form written before schema 5) into agg and
 * trend in one transaction (merges are
 * serialised by an advisory lock; the rows it deletes are exactly the ones
 * it adds up).  It runs from a background thread every MERGE_MS and before
 * any read of agg or trend (store_query), so readers always see every
 * committed report. */

#define MERGE_MS 1000

static int append_deltas(struct dbc *c, struct deltas *dl, long long now)
{
	struct buf col[7] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
	char num[32], day[11];
	size_t n = 0;
	deltas_sum(dl);   /* a batch's: one row per key */
	for (size_t i = 0; i < dl->agg.n; i++) {
		const struct akey *a = &dl->agg.v[i];
		arr_add(&col[0], a->kind);
		arr_add(&col[1], a->key);
		arr_add(&col[2], a->sub);
		arr_add(&col[3], a->status);
		snprintf(num, sizeof num, "%lld", a->dfiles);
		arr_add(&col[4], num);
		snprintf(num, sizeof num, "%lld", a->ddev);
		arr_add(&col[5], num);
		arr_add(&col[6], a->label);
		n++;
	}
	utc_day(now, day);
	for (int k = 0; k < 9; k++) {
		if (!dl->trend[k])
			continue;
		char sub[12];
		snprintf(sub, sizeof sub, "%d", k);
		arr_add(&col[0], "trend");
		arr_add(&col[1], day);
		arr_add(&col[2], sub);
		arr_add(&col[3], "");
		snprintf(num, sizeof num, "%lld", dl->trend[k]);
		arr_add(&col[4], num);
		arr_add(&col[5], "0");
		arr_add(&col[6], "");
		n++;
	}
	int rc = DB_OK;
	if (n) {
		struct dbv p[7];
		for (int k = 0; k < 7; k++) {
			buf_addc(&col[k], '}');
			p[k] = dv_text(buf_cstr(&col[k]));
		}
		/* gen: see migration 7 */
		rc = dbc_exec(c, "INSERT INTO agg_batch(gen, kinds, akeys, subs, statuses, files, devices, labels)"
				 " VALUES(7, ?, ?, ?, ?, ?, ?, ?)", p, 7, NULL, NULL);
	}
	for (int k = 0; k < 7; k++)
		buf_free(&col[k]);
	return rc;
}

static int trend_sum_cb(void *ctx, const struct dbrow *r)
{
	struct deltas *dl = ctx;
	long long k = dbrow_int(r, 0);
	if (k >= 0 && k < 9)
		dl->trend[k] += dbrow_int(r, 1);
	return 0;
}

static int merge_tx(struct dbc *c, long long now)
{
	long long pending = 0;
	int rc = dbc_int(c, "SELECT CASE WHEN EXISTS(SELECT 1 FROM agg_batch) OR EXISTS(SELECT 1 FROM agg_delta)"
			    " THEN 1 ELSE 0 END", NULL, 0, 0, &pending);
	if (rc || !pending)
		return rc;
	struct deltas dl = {0};
	if ((rc = dbc_begin(c)))
		return rc;
	rc = dbc_exec(c, "SELECT pg_advisory_xact_lock(7444002)", NULL, 0, NULL, NULL);
	/* the agg rows in key order (ORDER BY in the INSERT's SELECT): the same
	 * lock order as any other writer of agg */
	if (rc == DB_OK)
		rc = dbc_exec(c, "WITH b AS (DELETE FROM agg_batch RETURNING kinds, akeys, subs, statuses, files, devices, labels),"
				 " o AS (DELETE FROM agg_delta RETURNING kind, akey, sub, status, files, devices, label),"
				 " d AS (SELECT u.* FROM b, unnest(b.kinds::text[], b.akeys::text[], b.subs::text[],"
				 "   b.statuses::text[], b.files::bigint[], b.devices::bigint[], b.labels::text[])"
				 "   AS u(kind, akey, sub, status, files, devices, label)"
				 "  UNION ALL SELECT * FROM o),"
				 " a AS (INSERT INTO agg(kind, akey, sub, status, files, devices, label)"
				 "  SELECT kind, akey, sub, status, SUM(files), SUM(devices), MAX(label) FROM d"
				 "  WHERE kind <> 'trend' GROUP BY kind, akey, sub, status ORDER BY kind, akey, sub, status"
				 "  ON CONFLICT(kind, akey, sub, status) DO UPDATE"
				 "  SET files = agg.files + excluded.files, devices = agg.devices + excluded.devices)"
				 " SELECT CAST(sub AS BIGINT), SUM(files) FROM d WHERE kind = 'trend' GROUP BY sub",
			      NULL, 0, trend_sum_cb, &dl);
	if (rc == DB_OK)
		rc = apply_deltas(c, &dl, now);
	deltas_free(&dl);
	if (rc == DB_OK)
		rc = dbc_commit(c);
	if (rc)
		dbc_rollback(c);
	return rc;
}

int store_merge(struct store *st, struct buf *err)
{
	if (db_kind(st->db) != DB_PG)
		return DB_OK;
	struct dbc *c = db_acquire(st->db);
	int rc = DB_ERR;
	for (int attempt = 0; attempt < 8; attempt++) {
		rc = merge_tx(c, (long long)time(NULL));
		if (rc != DB_RETRY)
			break;
		usleep(1000u << attempt);
	}
	if (rc && err)
		buf_printf(err, "%s", dbc_error(c));
	db_release(st->db, c);
	return rc ? DB_ERR : DB_OK;
}

static void *merger(void *arg)
{
	struct store *st = arg;
	pthread_mutex_lock(&st->gc_mu);
	while (!st->merge_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += MERGE_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&st->merge_cv, &st->gc_mu, &ts);
		if (st->merge_stop)
			break;
		pthread_mutex_unlock(&st->gc_mu);
		store_merge(st, NULL);
		pthread_mutex_lock(&st->gc_mu);
	}
	pthread_mutex_unlock(&st->gc_mu);
	return NULL;
}

void store_start_merger(struct store *st)
{
	if (db_kind(st->db) != DB_PG || st->merge_running)
		return;
	st->merge_running = pthread_create(&st->merge_thread, NULL, merger, st) == 0;
}

/* One report in its own transaction (PostgreSQL: concurrent writers, row
 * locks, retries on deadlock / serialization failure). */
static int ingest_single(struct store *st, const struct report *r, const struct plan *pl, long long token_id,
			 long long now, struct ingest_result *res, struct buf *err)
{
	struct dbc *c = db_acquire(st->db);
	int rc = DB_ERR;
	for (int attempt = 0; attempt < 8; attempt++) {
		if ((rc = dbc_begin(c)) == DB_OK) {
			struct deltas dl = {0};
			rc = ingest_tx(c, r, pl, token_id, now, res, &dl, NULL, false);
			if (rc == DB_OK && res->duplicate) {
				deltas_free(&dl);
				dbc_rollback(c);
				break;
			}
			if (rc == DB_OK)
				rc = append_deltas(c, &dl, now);
			deltas_free(&dl);
			if (rc == DB_OK)
				rc = dbc_commit(c);
			if (rc == DB_OK)
				break;
			dbc_rollback(c);
		}
		if (rc != DB_RETRY)
			break;
		usleep(1000u << attempt);
	}
	if (rc)
		buf_printf(err, "%s", dbc_error(c));
	db_release(st->db, c);
	return rc ? DB_ERR : DB_OK;
}

/* Group commit.  Every commit costs a WAL flush (and on PostgreSQL its
 * round trips and an agg_batch row), so reports that arrive together are
 * written in one transaction: each in its own SAVEPOINT (a report that
 * fails is rolled back alone), answered only after the COMMIT, and the
 * batch's aggregate deltas are summed once.  A request whose report is
 * still queued and that finds a free writer slot becomes a leader: it takes
 * its own report and the queue's first ones (up to GC_MAX_BATCH, or
 * GC_PG_BATCH), writes them, wakes each request of the batch and hands the
 * lead to the first one still queued.  Each request
 * waits on its own condition variable, so a commit wakes only the requests
 * it answers.  A crash loses only the batches in flight, none of which was
 * acknowledged.
 *
 * SQLite has one writer: one leader at a time.  PostgreSQL takes
 * GC_PG_LEADERS batches at once, which cannot deadlock with each other (or
 * with another server's): the only shared rows a batch writes are device
 * rows, taken in ident order, and archive rows, inserted and committed
 * before the batch in sha256 order (a row of `archives` is content-addressed
 * and never changes, so one whose report then fails is harmless).  A report
 * that still meets a deadlock or serialization failure is rolled back to its
 * savepoint and re-run by itself after the batch (ingest_single).  Batches
 * stay under 64 reports there: past 64 subtransactions PostgreSQL's
 * snapshots overflow to pg_subtrans and every session slows down. */
struct gc_item {
	const struct report *r;
	const struct plan *pl;
	long long token_id, now;
	struct ingest_result *res;
	struct buf *err;
	int rc;
	bool done, solo;
	bool queued;          /* in st->gc_head's list, not yet taken by a leader */
	pthread_cond_t cv;
	struct gc_item *next;
};

#define GC_MAX_BATCH 64
#define GC_PG_BATCH 32
#define GC_PG_LEADERS 2

static int item_ident_cmp(const void *a, const void *b)
{
	const struct gc_item *x = *(struct gc_item *const *)a, *y = *(struct gc_item *const *)b;
	return strcmp(buf_cstr((struct buf *)&x->pl->ident), buf_cstr((struct buf *)&y->pl->ident));
}

/* PostgreSQL: the batch's archives, sorted, in their own transaction. */
static int pg_insert_archives(struct dbc *c, struct gc_item **v, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i]->pl->n_shas;
	if (!total)
		return DB_OK;
	const char **all = xcalloc(total, sizeof *all);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < v[i]->pl->n_shas; j++)
			all[k++] = v[i]->pl->shas[j];
	qsort(all, total, sizeof *all, str_cmp);
	size_t u = 0;
	for (size_t i = 0; i < total; i++)
		if (!u || strcmp(all[u - 1], all[i]))
			all[u++] = all[i];
	int rc = insert_archives(c, all, u);
	free(all);
	return rc;
}

/* One attempt at writing the batch v[0..n) in one transaction.  Returns the
 * batch's status; each item's own is in it->rc (it->solo: re-run alone). */
static int gc_write(struct store *st, struct dbc *c, struct gc_item **v, size_t n, struct arch_new *an)
{
	bool pg = db_kind(st->db) == DB_PG;
	struct deltas all = {0};
	for (size_t i = 0; i < n; i++) {
		v[i]->rc = DB_ERR;
		v[i]->solo = false;
		buf_reset(v[i]->err);
	}
	int rc = pg ? pg_insert_archives(c, v, n) : DB_OK;
	if (rc)
		return rc;
	if ((rc = dbc_begin(c)))
		return rc;
	for (size_t i = 0; i < n && rc == DB_OK; i++) {
		struct gc_item *it = v[i];
		struct deltas dl = {0};
		size_t mark = an->n;
		it->rc = dbc_exec(c, "SAVEPOINT report", NULL, 0, NULL, NULL);
		if (it->rc == DB_OK)
			it->rc = ingest_tx(c, it->r, it->pl, it->token_id, it->now, it->res, &dl, pg ? NULL : an, pg);
		if (it->rc == DB_OK && !it->res->duplicate)
			it->rc = dbc_exec(c, "RELEASE report", NULL, 0, NULL, NULL);
		if (it->rc == DB_OK && !it->res->duplicate) {
			/* this report is in: its fleet-wide deltas join the batch's */
			for (size_t k = 0; k < dl.agg.n; k++)
				akeys_copy(&all.agg, &dl.agg.v[k]);
			for (int k = 0; k < 9; k++)
				all.trend[k] += dl.trend[k];
		} else {
			if (it->rc)
				buf_printf(it->err, "%s", dbc_error(c));
			int rb = dbc_exec(c, "ROLLBACK TO report", NULL, 0, NULL, NULL);
			if (!rb)
				rb = dbc_exec(c, "RELEASE report", NULL, 0, NULL, NULL);
			if (rb)   /* the transaction itself is gone: re-run the batch if either failure says so */
				rc = it->rc == DB_RETRY || rb == DB_RETRY ? DB_RETRY : DB_ERR;
			else if (pg && it->rc == DB_RETRY)
				it->solo = true;
			an->n = mark;   /* archives it added are gone again */
		}
		deltas_free(&dl);
	}
	if (rc == DB_OK)
		rc = pg ? append_deltas(c, &all, v[0]->now) : apply_deltas(c, &all, v[0]->now);
	deltas_free(&all);
	if (rc == DB_OK)
		rc = dbc_commit(c);
	if (rc)
		dbc_rollback(c);
	return rc;
}

static void gc_run(struct store *st, struct gc_item **v, size_t n)
{
	bool pg = db_kind(st->db) == DB_PG;
	if (pg)
		qsort(v, n, sizeof *v, item_ident_cmp);   /* device rows in one order */
	struct dbc *c = db_acquire_writer(st->db);
	if (!pg && !st->archmap)
		st->archmap = xcalloc(1, sizeof *st->archmap);
	struct arch_new an = {st->archmap, NULL, 0, 0};
	int rc = DB_ERR;
	for (int attempt = 0; attempt < 8; attempt++) {
		an.n = 0;
		rc = gc_write(st, c, v, n, &an);
		if (rc != DB_RETRY)
			break;
		usleep(1000u << attempt);
	}
	if (rc == DB_OK)
		for (size_t i = 0; i < an.n; i++)
			archmap_put(st->archmap, an.v[i].sha, an.v[i].id);
	free(an.v);
	for (size_t i = 0; i < n; i++) {
		if (rc && !v[i]->rc) {
			v[i]->rc = rc;
			buf_printf(v[i]->err, "%s", dbc_error(c));
		}
	}
	db_release(st->db, c);
	for (size_t i = 0; i < n; i++)
		v[i]->solo &= rc == DB_OK;   /* re-run alone only what a committed batch left out */
}

/* Mark v[0..n) done and wake them.  Items live on their own threads'
 * stacks: once one is done and the lock released it may be gone, so the
 * leader splits its batch into arrays before the first wake and never
 * touches a woken item again. */
static void gc_wake(struct store *st, struct gc_item **v, size_t n, const struct gc_item *me)
{
	pthread_mutex_lock(&st->gc_mu);
	for (size_t i = 0; i < n; i++) {
		v[i]->done = true;
		if (v[i] != me)
			pthread_cond_signal(&v[i]->cv);
	}
	pthread_mutex_unlock(&st->gc_mu);
}

static int ingest_grouped(struct store *st, const struct report *r, const struct plan *pl, long long token_id,
			  long long now, struct ingest_result *res, struct buf *err)
{
	bool pg = db_kind(st->db) == DB_PG;
	int max_batch = pg ? GC_PG_BATCH : GC_MAX_BATCH, max_leaders = pg ? GC_PG_LEADERS : 1;
	struct gc_item me = {r, pl, token_id, now, res, err, DB_ERR, false, false, true, PTHREAD_COND_INITIALIZER,
			     NULL};
	pthread_mutex_lock(&st->gc_mu);
	*st->gc_tail = &me;
	st->gc_tail = &me.next;
	while (!me.done) {
		/* lead only while this report is still queued: a leader's own report
		 * is always in its batch, so a wake-up sent to the queue's head never
		 * reaches a thread busy leading */
		if (!me.queued || st->gc_leaders >= max_leaders) {
			pthread_cond_wait(&me.cv, &st->gc_mu);
			continue;
		}
		st->gc_leaders++;
		struct gc_item **pp = &st->gc_head;
		while (*pp != &me)
			pp = &(*pp)->next;
		*pp = me.next;
		if (st->gc_tail == &me.next)
			st->gc_tail = pp;
		/* this report, then up to max_batch - 1 from the head */
		struct gc_item *v[GC_MAX_BATCH] = {&me};
		size_t n = 1;
		while (st->gc_head && n < (size_t)max_batch) {
			v[n++] = st->gc_head;
			st->gc_head = st->gc_head->next;
		}
		if (!st->gc_head)
			st->gc_tail = &st->gc_head;
		for (size_t i = 0; i < n; i++)
			v[i]->queued = false;
		if (st->gc_head && st->gc_leaders < max_leaders)
			pthread_cond_signal(&st->gc_head->cv);   /* another writer slot is free */
		pthread_mutex_unlock(&st->gc_mu);
		gc_run(st, v, n);
		/* the committed reports are answered first; a report the batch left
		 * out (a deadlock) then runs alone */
		struct gc_item *done[GC_MAX_BATCH], *solo[GC_MAX_BATCH];
		size_t nd = 0, ns = 0;
		for (size_t i = 0; i < n; i++) {
			if (v[i]->solo)
				solo[ns++] = v[i];
			else
				done[nd++] = v[i];
		}
		gc_wake(st, done, nd, &me);
		for (size_t i = 0; i < ns; i++) {
			buf_reset(solo[i]->err);
			solo[i]->rc = ingest_single(st, solo[i]->r, solo[i]->pl, solo[i]->token_id, solo[i]->now,
						    solo[i]->res, solo[i]->err);
		}
		gc_wake(st, solo, ns, &me);
		pthread_mutex_lock(&st->gc_mu);
		st->gc_leaders--;
		if (st->gc_head)
			pthread_cond_signal(&st->gc_head->cv);   /* the next leader */
	}
	pthread_mutex_unlock(&st->gc_mu);
	pthread_cond_destroy(&me.cv);
	return me.rc ? DB_ERR : DB_OK;
}

int store_ingest(struct store *st, const struct report *r, long long token_id, long long now,
		 struct ingest_result *res, struct buf *err)
{
	struct plan pl;
	plan_make(&pl, r);
	memset(res, 0, sizeof *res);
	int rc = ingest_grouped(st, r, &pl, token_id, now, res, err);
	plan_free(&pl);
	return rc;
}
