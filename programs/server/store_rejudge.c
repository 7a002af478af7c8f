/* store_rejudge.c - the counting half of re-judging (see store_rejudge.h).
 *
 * The final transaction of a re-judging used to count everything again in
 * SQL (one GROUP BY with COUNT(DISTINCT device) per aggregate kind, the
 * per-CVE ones expanding every finding's CVE list, then two set
 * differences): minutes at 2,000,000 findings, ingest waiting.  Here it is
 * one read of the findings in device order, in pages of device ids: each
 * distinct (status, component, version, archive, severity, CVE list) of a
 * finding is worked out once into its aggregate keys and CVEs (a fleet has
 * few of them: the same jars everywhere), a key counts a device the first
 * time it meets it (the rows come grouped by device), and the aggregates
 * are written back at the end.  Rows go to the database as one JSON
 * parameter per statement (json_each / jsonb_array_elements), so that
 * PostgreSQL takes a batch in one round trip. */
#include "store_rejudge.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_internal.h"
#include "util/jsonw.h"

/* ---- strings interned to indices */

struct rj_tab {
	char **s;
	size_t n, cap;
	uint32_t *slot; /* index + 1; 0: empty */
	size_t nslot;
};

static uint64_t rj_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static void rj_tab_grow(struct rj_tab *t)
{
	size_t ns = t->nslot ? 2 * t->nslot : 1024;
	uint32_t *sl = xcalloc(ns, sizeof *sl);
	for (size_t i = 0; i < t->n; i++) {
		size_t at = (size_t)(rj_hash(t->s[i], strlen(t->s[i])) & (ns - 1));
		while (sl[at])
			at = (at + 1) & (ns - 1);
		sl[at] = (uint32_t)i + 1;
	}
	free(t->slot);
	t->slot = sl;
	t->nslot = ns;
}

/* the index of s[0..n) (n bytes, no NUL inside), added when new */
static size_t rj_tab_get(struct rj_tab *t, const char *s, size_t n, bool *added)
{
	if (2 * (t->n + 1) > t->nslot)
		rj_tab_grow(t);
	size_t at = (size_t)(rj_hash(s, n) & (t->nslot - 1));
	for (; t->slot[at]; at = (at + 1) & (t->nslot - 1)) {
		const char *o = t->s[t->slot[at] - 1];
		if (!strncmp(o, s, n) && !o[n]) {
			*added = false;
			return t->slot[at] - 1;
		}
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->s = xrealloc(t->s, t->cap * sizeof *t->s);
	}
	t->s[t->n] = xstrndup(s, n);
	t->slot[at] = (uint32_t)t->n + 1;
	*added = true;
	return t->n++;
}

static void rj_tab_free(struct rj_tab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->slot);
	memset(t, 0, sizeof *t);
}

/* ---- (CVE, device) pairs */

struct rj_pair {
	uint32_t cve;
	long long dev;
};

struct rj_pairs {
	struct rj_pair *v;
	size_t n, cap;
};

static void pairs_add(struct rj_pairs *p, uint32_t cve, long long dev)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4096;
		p->v = xrealloc(p->v, p->cap * sizeof *p->v);
	}
	p->v[p->n++] = (struct rj_pair){cve, dev};
}

static int pair_cmp(const void *x, const void *y)
{
	const struct rj_pair *a = x, *b = y;
	if (a->cve != b->cve)
		return a->cve < b->cve ? -1 : 1;
	return a->dev < b->dev ? -1 : a->dev > b->dev;
}

/* sorted, each pair once */
static void pairs_sort(struct rj_pairs *p)
{
	if (p->n)
		qsort(p->v, p->n, sizeof *p->v, pair_cmp);
	size_t u = 0;
	for (size_t i = 0; i < p->n; i++)
		if (!u || pair_cmp(&p->v[u - 1], &p->v[i]))
			p->v[u++] = p->v[i];
	p->n = u;
}

/* ---- state */

struct rj_agg {
	const char *kind, *status;
	char *key, *sub, *label;
	long long files, devices, last_dev;
};

/* what a distinct finding shape contributes */
struct rj_sig {
	uint32_t *keys, *cves;
	size_t nkeys, ncves;
	int st; /* 0 vulnerable, 1 mitigated, 2 other */
	bool critical;
};

struct rejudge {
	bool pg;
	struct rj_tab cves;       /* CVE ids */
	long long *cve_last;      /* per CVE: the last device that listed it */
	struct rj_pairs before, after;
	struct db_ints retired;   /* sorted */
	struct rj_tab akeys;      /* "kind\x1fkey\x1fsub\x1fstatus" */
	struct rj_agg *aggs;
	struct rj_tab sigs;
	struct rj_sig *sigv;
	struct rejudge_news news;
};

struct rejudge *store_rejudge_new(bool pg)
{
	struct rejudge *rj = xcalloc(1, sizeof *rj);
	rj->pg = pg;
	return rj;
}

static void news_free(struct rejudge_news *n)
{
	strv_free(n->akeys, n->nakeys);
	free(n->akey_devices);
	free(n->critical);
	memset(n, 0, sizeof *n);
}

const struct rejudge_news *store_rejudge_news(const struct rejudge *rj)
{
	return &rj->news;
}

static void counts_free(struct rejudge *rj)
{
	for (size_t i = 0; i < rj->akeys.n; i++) {
		free(rj->aggs[i].key);
		free(rj->aggs[i].sub);
		free(rj->aggs[i].label);
	}
	free(rj->aggs);
	rj->aggs = NULL;
	rj_tab_free(&rj->akeys);
	for (size_t i = 0; i < rj->sigs.n; i++) {
		free(rj->sigv[i].keys);
		free(rj->sigv[i].cves);
	}
	free(rj->sigv);
	rj->sigv = NULL;
	rj_tab_free(&rj->sigs);
	free(rj->after.v);
	rj->after = (struct rj_pairs){0};
}

void store_rejudge_free(struct rejudge *rj)
{
	if (!rj)
		return;
	counts_free(rj);
	news_free(&rj->news);
	rj_tab_free(&rj->cves);
	free(rj->cve_last);
	free(rj->before.v);
	free(rj->retired.v);
	free(rj);
}

static uint32_t cve_index(struct rejudge *rj, const char *s, size_t n)
{
	bool added;
	size_t i = rj_tab_get(&rj->cves, s, n, &added);
	if (added) {
		rj->cve_last = xrealloc(rj->cve_last, rj->cves.cap * sizeof *rj->cve_last);
		rj->cve_last[i] = -1;
	}
	return (uint32_t)i;
}

/* The CVE ids of a stored cves_json (report_parse's compact array of
 * strings; anything else through jansson), appended to out as indices. */
static void cves_of(struct rejudge *rj, const char *js, uint32_t **out, size_t *n)
{
	const char *p = js;
	size_t mark = *n;
	if (*p == '[' && !strchr(p, '\\')) {
		p++;
		while (*p == '"') {
			const char *q = strchr(p + 1, '"');
			if (!q)
				break;
			*out = xrealloc(*out, (*n + 1) * sizeof **out);
			(*out)[(*n)++] = cve_index(rj, p + 1, (size_t)(q - p - 1));
			p = q + 1;
			if (*p == ',' && p[1] == '"')
				p++;
		}
		if (*p == ']' && !p[1])
			return;
		*n = mark; /* not that shape after all */
	}
	json_t *a = json_loads(js, 0, NULL);
	size_t i;
	json_t *e;
	if (a && json_is_array(a))
		json_array_foreach(a, i, e)
			if (json_is_string(e) && !memchr(json_string_value(e), 0, json_string_length(e))) {
				*out = xrealloc(*out, (*n + 1) * sizeof **out);
				(*out)[(*n)++] = cve_index(rj, json_string_value(e), json_string_length(e));
			}
	json_decref(a);
}

static bool is_retired(const struct rejudge *rj, long long dev)
{
	size_t lo = 0, hi = rj->retired.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (rj->retired.v[mid] == dev)
			return true;
		if (rj->retired.v[mid] < dev)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int load_retired(struct rejudge *rj, struct dbc *c)
{
	free(rj->retired.v);
	rj->retired = (struct db_ints){0};
	return dbc_exec(c, "SELECT id FROM devices WHERE retired <> 0 ORDER BY id", NULL, 0, db_ints_row, &rj->retired);
}

/* ---- before */

struct before_ctx {
	struct rejudge *rj;
	long long last;
	size_t rows;
	uint32_t *tmp;
};

static int before_row(void *ctx, const struct dbrow *r)
{
	struct before_ctx *b = ctx;
	b->last = dbrow_int(r, 0);
	b->rows++;
	long long dev = dbrow_int(r, 1);
	if (is_retired(b->rj, dev))
		return 0;
	size_t n = 0;
	cves_of(b->rj, dbrow_text(r, 2), &b->tmp, &n);
	for (size_t i = 0; i < n; i++)
		pairs_add(&b->rj->before, b->tmp[i], dev);
	return 0;
}

#define PAGE 100000

int store_rejudge_before(struct rejudge *rj, struct dbc *c)
{
	int rc = load_retired(rj, c);
	struct before_ctx b = {rj, 0, 0, NULL};
	rj->before.n = 0;
	while (rc == DB_OK) {
		b.rows = 0;
		rc = dbc_exec(c, "SELECT id, device_id, cves_json FROM findings WHERE id > ? AND cves_json <> '[]'"
				 " ORDER BY id LIMIT 100000",
			      (struct dbv[]){dv_int(b.last)}, 1, before_row, &b);
		if (b.rows < PAGE)
			break;
	}
	free(b.tmp);
	pairs_sort(&rj->before);
	return rc;
}

/* ---- rows as one JSON parameter */

void store_rejudge_row(struct buf *rows, long long id, const char *status, const char *severity, const char *fixed_in,
		 const char *cves_json, const char *version, const char *version_source)
{
	buf_addc(rows, rows->len ? ',' : '[');
	buf_printf(rows, "[%lld", id);
	const char *v[] = {status, severity, fixed_in, cves_json, version, version_source};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		buf_addc(rows, ',');
		if (v[i])
			jsonw_cstr(rows, v[i]);
		else
			buf_adds(rows, "null");
	}
	buf_addc(rows, ']');
}

/* "(SELECT col AS name, ... FROM <the JSON parameter's rows>) x": types
 * 'i' integer, 't' text, one per name */
static void json_rows(struct buf *sql, bool pg, const char *const *names, const char *types)
{
	buf_adds(sql, "(SELECT ");
	for (size_t i = 0; types[i]; i++) {
		if (i)
			buf_adds(sql, ", ");
		if (pg)
			buf_printf(sql, types[i] == 'i' ? "(e->>%zu)::bigint" : "e->>%zu", i);
		else
			buf_printf(sql, "json_extract(e.value, '$[%zu]')", i);
		buf_printf(sql, " AS %s", names[i]);
	}
	buf_adds(sql, pg ? " FROM jsonb_array_elements(CAST(? AS jsonb)) e) x" : " FROM json_each(?) e) x");
}

int store_rejudge_write(struct dbc *c, bool pg, const struct buf *rows, long long rules_id)
{
	if (!rows->len)
		return DB_OK;
	struct buf sql = BUF_INIT, arr = BUF_INIT;
	buf_add(&arr, rows->data, rows->len);
	buf_addc(&arr, ']');
	static const char *const names[] = {"id", "st", "sev", "fi", "cv", "ve", "vs"};
	buf_adds(&sql, "UPDATE findings SET status = x.st, severity = x.sev, fixed_in = x.fi, cves_json = x.cv,"
		       " version = x.ve, version_source = x.vs, judged_by = ? FROM ");
	json_rows(&sql, pg, names, "itttttt");
	buf_adds(&sql, " WHERE findings.id = x.id");
	struct dbv p[] = {dv_int(rules_id), dv_text(buf_cstr(&arr))};
	int rc = dbc_exec(c, buf_cstr(&sql), p, 2, NULL, NULL);
	buf_free(&sql);
	buf_free(&arr);
	return rc;
}

/* ---- the recount */

static const char *const ST_NAME[] = {"vulnerable", "mitigated", "safe"};

static uint32_t agg_index(struct rejudge *rj, const char *kind, const char *key, const char *sub, int st,
			  const char *label)
{
	struct buf k = BUF_INIT;
	buf_printf(&k, "%s\x1f%s\x1f%s\x1f%s", kind, key, sub, ST_NAME[st]);
	bool added;
	size_t i = rj_tab_get(&rj->akeys, k.data, k.len, &added);
	buf_free(&k);
	if (added) {
		rj->aggs = xrealloc(rj->aggs, rj->akeys.cap * sizeof *rj->aggs);
		rj->aggs[i] = (struct rj_agg){kind, ST_NAME[st], xstrdup(key), xstrdup(sub), xstrdup(label ? label : ""),
					      0, 0, -1};
	} else if (label && strcmp(label, rj->aggs[i].label) < 0) {
		free(rj->aggs[i].label);
		rj->aggs[i].label = xstrdup(label);
	}
	return (uint32_t)i;
}

static void sig_key(struct rj_sig *g, uint32_t k)
{
	g->keys = xrealloc(g->keys, (g->nkeys + 1) * sizeof *g->keys);
	g->keys[g->nkeys++] = k;
}

/* columns: device_id, status, component, version, archive key, cves_json,
 * severity, shadowed */
static const struct rj_sig *sig_of(struct rejudge *rj, const struct dbrow *r)
{
	const char *status = dbrow_text(r, 1), *component = dbrow_text(r, 2), *version = dbrow_text(r, 3);
	const char *sha = dbrow_type(r, 4) == DBV_NULL ? NULL : dbrow_text(r, 4);
	const char *cves = dbrow_text(r, 5);
	const char *sev = ingest_severity_key(dbrow_type(r, 6) == DBV_NULL ? NULL : dbrow_text(r, 6));
	int st = !strcmp(status, "vulnerable") ? 0 : !strcmp(status, "mitigated") ? 1 : 2;
	struct buf k = BUF_INIT;
	buf_printf(&k, "%d\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", st, component, version, sha ? sha : "\x01", sev, cves);
	bool added;
	size_t i = rj_tab_get(&rj->sigs, k.data, k.len, &added);
	buf_free(&k);
	if (!added)
		return &rj->sigv[i];
	rj->sigv = xrealloc(rj->sigv, rj->sigs.cap * sizeof *rj->sigv);
	struct rj_sig *g = &rj->sigv[i];
	memset(g, 0, sizeof *g);
	g->st = st;
	g->critical = st == 0 && dbrow_type(r, 6) != DBV_NULL && !strcmp(dbrow_text(r, 6), "critical");
	/* the keys ingest counts (ingest_akeys_from) */
	sig_key(g, agg_index(rj, "version", version, component, st, NULL));
	sig_key(g, agg_index(rj, "severity", sev, "", st, NULL));
	if (sha && *sha) {
		struct buf label = BUF_INIT;
		buf_printf(&label, "%s %s", component, version);
		sig_key(g, agg_index(rj, "sha256", sha, "", st, buf_cstr(&label)));
		buf_free(&label);
	}
	cves_of(rj, cves, &g->cves, &g->ncves);
	for (size_t c = 0; c < g->ncves; c++) {
		const char *id = rj->cves.s[g->cves[c]];
		sig_key(g, agg_index(rj, "cve", id, "", st, NULL));
		sig_key(g, agg_index(rj, "cvever", id, version, st, NULL));
	}
	return g;
}

struct dev_row {
	long long id, v, m, s, c;
	bool seen;
};

struct pass {
	struct rejudge *rj;
	struct dev_row *devs; /* the page's devices, by id */
	size_t ndevs, cap;
	size_t at;            /* devs[at]: the device of the rows being read */
};

static int dev_row(void *ctx, const struct dbrow *r)
{
	struct pass *p = ctx;
	if (p->ndevs == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 1024;
		p->devs = xrealloc(p->devs, p->cap * sizeof *p->devs);
	}
	p->devs[p->ndevs++] = (struct dev_row){dbrow_int(r, 0), 0, 0, 0, 0, false};
	return 0;
}

static int finding_row(void *ctx, const struct dbrow *r)
{
	struct pass *p = ctx;
	struct rejudge *rj = p->rj;
	long long dev = dbrow_int(r, 0);
	while (p->at < p->ndevs && p->devs[p->at].id < dev)
		p->at++;
	const struct rj_sig *g = sig_of(rj, r);
	bool shadowed = dbrow_int(r, 7) != 0;
	if (!shadowed && p->at < p->ndevs && p->devs[p->at].id == dev) {
		struct dev_row *d = &p->devs[p->at];
		d->seen = true;
		if (g->st == 0)
			d->v++;
		else if (g->st == 1)
			d->m++;
		else
			d->s++;
		d->c += g->critical;
	}
	if (is_retired(rj, dev))
		return 0;
	for (size_t i = 0; i < g->ncves; i++)
		if (rj->cve_last[g->cves[i]] != dev) {
			rj->cve_last[g->cves[i]] = dev;
			pairs_add(&rj->after, g->cves[i], dev);
		}
	if (shadowed)
		return 0;
	for (size_t i = 0; i < g->nkeys; i++) {
		struct rj_agg *a = &rj->aggs[g->keys[i]];
		a->files++;
		if (a->last_dev != dev) {
			a->last_dev = dev;
			a->devices++;
		}
	}
	return 0;
}

struct old_counts {
	struct dev_row *devs;
	size_t n, at;
	struct buf *rows;
};

/* the page's devices whose stored counters differ from those counted */
static int old_row(void *ctx, const struct dbrow *r)
{
	struct old_counts *o = ctx;
	long long id = dbrow_int(r, 0);
	while (o->at < o->n && o->devs[o->at].id < id)
		o->at++;
	if (o->at == o->n || o->devs[o->at].id != id || !o->devs[o->at].seen)
		return 0;
	const struct dev_row *d = &o->devs[o->at];
	if (d->v == dbrow_int(r, 1) && d->m == dbrow_int(r, 2) && d->s == dbrow_int(r, 3) && d->c == dbrow_int(r, 4))
		return 0;
	buf_addc(o->rows, o->rows->len ? ',' : '[');
	buf_printf(o->rows, "[%lld,%lld,%lld,%lld,%lld]", d->id, d->v, d->m, d->s, d->c);
	return 0;
}

#define DEV_PAGE 2000

static int write_counters(struct dbc *c, bool pg, struct buf *rows)
{
	if (!rows->len)
		return DB_OK;
	buf_addc(rows, ']');
	static const char *const names[] = {"id", "v", "m", "s", "c"};
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "UPDATE devices SET n_vulnerable = x.v, n_mitigated = x.m, n_safe = x.s, n_critical = x.c FROM ");
	json_rows(&sql, pg, names, "iiiii");
	buf_adds(&sql, " WHERE devices.id = x.id");
	int rc = dbc_exec(c, buf_cstr(&sql), (struct dbv[]){dv_text(buf_cstr(rows))}, 1, NULL, NULL);
	buf_free(&sql);
	buf_reset(rows);
	return rc;
}

static int write_aggs(struct rejudge *rj, struct dbc *c)
{
	int rc = dbc_exec(c, "DELETE FROM agg WHERE kind IN ('version', 'severity', 'sha256', 'cve', 'cvever')", NULL,
			  0, NULL, NULL);
	static const char *const names[] = {"kind", "akey", "sub", "st", "files", "devices", "label"};
	struct buf sql = BUF_INIT, rows = BUF_INIT;
	buf_adds(&sql, "INSERT INTO agg(kind, akey, sub, status, files, devices, label)"
		       " SELECT x.kind, x.akey, x.sub, x.st, x.files, x.devices, x.label FROM ");
	json_rows(&sql, rj->pg, names, "ttttiit");
	for (size_t i = 0; rc == DB_OK && i <= rj->akeys.n; i++) {
		if (i < rj->akeys.n && rj->aggs[i].files) {
			const struct rj_agg *a = &rj->aggs[i];
			buf_addc(&rows, rows.len ? ',' : '[');
			buf_addc(&rows, '[');
			const char *v[] = {a->kind, a->key, a->sub, a->status};
			for (size_t k = 0; k < 4; k++) {
				jsonw_cstr(&rows, v[k]);
				buf_addc(&rows, ',');
			}
			buf_printf(&rows, "%lld,%lld,", a->files, a->devices);
			jsonw_cstr(&rows, a->label);
			buf_addc(&rows, ']');
		}
		if (rows.len && (i == rj->akeys.n || rows.len > (1u << 20))) {
			buf_addc(&rows, ']');
			rc = dbc_exec(c, buf_cstr(&sql), (struct dbv[]){dv_text(buf_cstr(&rows))}, 1, NULL, NULL);
			buf_reset(&rows);
		}
	}
	buf_free(&sql);
	buf_free(&rows);
	return rc;
}

/* ---- what changed */

static int id_row(void *ctx, const struct dbrow *r)
{
	*(long long *)ctx = dbrow_int(r, 0);
	return 1;
}

static int write_devices(struct dbc *c, bool pg, long long change_id, bool newly, const long long *dev, size_t n)
{
	int rc = DB_OK;
	struct buf rows = BUF_INIT;
	const char *sql = pg ? "INSERT INTO rules_change_devices(change_id, device_id, newly)"
			       " SELECT ?, CAST(e AS BIGINT), ? FROM jsonb_array_elements_text(CAST(? AS jsonb)) e"
			     : "INSERT INTO rules_change_devices(change_id, device_id, newly)"
			       " SELECT ?, e.value, ? FROM json_each(?) e";
	for (size_t i = 0; rc == DB_OK && i < n; i++) {
		buf_printf(&rows, "%c%lld", rows.len ? ',' : '[', dev[i]);
		if (i + 1 == n || rows.len > (1u << 20)) {
			buf_addc(&rows, ']');
			struct dbv p[] = {dv_int(change_id), dv_int(newly), dv_text(buf_cstr(&rows))};
			rc = dbc_exec(c, sql, p, 3, NULL, NULL);
			buf_reset(&rows);
		}
	}
	buf_free(&rows);
	return rc;
}

static int name_cmp(const void *x, const void *y, void *ctx)
{
	const struct rj_tab *t = ctx;
	return strcmp(t->s[*(const uint32_t *)x], t->s[*(const uint32_t *)y]);
}

static int record_changes(struct rejudge *rj, struct dbc *c, long long rules_id, long long prev, long long now)
{
	size_t nc = rj->cves.n;
	/* per CVE: its ranges in before and after (both sorted by cve, dev) */
	size_t *b0 = xcalloc(nc + 1, sizeof *b0), *a0 = xcalloc(nc + 1, sizeof *a0);
	for (size_t i = 0; i < rj->before.n; i++)
		b0[rj->before.v[i].cve + 1]++;
	for (size_t i = 0; i < rj->after.n; i++)
		a0[rj->after.v[i].cve + 1]++;
	for (size_t i = 0; i < nc; i++) {
		b0[i + 1] += b0[i];
		a0[i + 1] += a0[i];
	}
	uint32_t *order = xmalloc((nc ? nc : 1) * sizeof *order);
	for (size_t i = 0; i < nc; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, nc, sizeof *order, name_cmp, &rj->cves);
	long long *newly = xmalloc((rj->after.n + 1) * sizeof *newly);
	long long *gone = xmalloc((rj->before.n + 1) * sizeof *gone);
	int rc = DB_OK;
	for (size_t k = 0; rc == DB_OK && k < nc; k++) {
		uint32_t cv = order[k];
		size_t i = b0[cv], ie = b0[cv + 1], j = a0[cv], je = a0[cv + 1], nn = 0, ng = 0;
		while (i < ie || j < je) {
			if (j == je || (i < ie && rj->before.v[i].dev < rj->after.v[j].dev))
				gone[ng++] = rj->before.v[i++].dev;
			else if (i == ie || rj->after.v[j].dev < rj->before.v[i].dev)
				newly[nn++] = rj->after.v[j++].dev;
			else
				i++, j++;
		}
		if (!nn && !ng)
			continue;
		struct dbv p[] = {dv_int(rules_id), dv_int(prev), dv_int(now), dv_text(rj->cves.s[cv]),
				  dv_int((long long)nn), dv_int((long long)ng)};
		rc = dbc_exec(c, "INSERT INTO rules_changes(rules_id, prev_id, at, cve, newly, no_longer)"
				 " VALUES(?, ?, ?, ?, ?, ?)",
			      p, 6, NULL, NULL);
		long long change = 0;
		if (rc == DB_OK)
			rc = dbc_exec(c, "SELECT MAX(id) FROM rules_changes", NULL, 0, id_row, &change);
		if (rc == DB_OK)
			rc = write_devices(c, rj->pg, change, true, newly, nn);
		if (rc == DB_OK)
			rc = write_devices(c, rj->pg, change, false, gone, ng);
	}
	free(newly);
	free(gone);
	free(order);
	free(b0);
	free(a0);
	return rc;
}

/* ---- what the change made so (the webhook events, store_rejudge_news) */

static int old_akey_row(void *ctx, const struct dbrow *r)
{
	bool added;
	const char *k = dbrow_text(r, 0);
	rj_tab_get(ctx, k, strlen(k), &added);
	return 0;
}

static int akey_order(const void *x, const void *y, void *ctx)
{
	const struct rj_agg *a = ctx;
	return strcmp(a[*(const uint32_t *)x].key, a[*(const uint32_t *)y].key);
}

/* After the recount, before write_aggs replaces them: the archive keys
 * vulnerable now that the stored aggregates (the previous rules', kept by
 * ingest) do not have as vulnerable.  One read of those rows (a fleet has
 * few distinct archives), nothing when no archive key is vulnerable now. */
static int new_archives(struct rejudge *rj, struct dbc *c)
{
	uint32_t *v = xmalloc((rj->akeys.n + 1) * sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < rj->akeys.n; i++) {
		const struct rj_agg *a = &rj->aggs[i];
		if (a->files && !strcmp(a->kind, "sha256") && a->status == ST_NAME[0])
			v[n++] = (uint32_t)i;
	}
	if (!n) {
		free(v);
		return DB_OK;
	}
	struct rj_tab old = {0};
	int rc = dbc_exec(c, "SELECT akey FROM agg WHERE kind = 'sha256' AND status = 'vulnerable'", NULL, 0,
			  old_akey_row, &old);
	qsort_r(v, n, sizeof *v, akey_order, rj->aggs);
	struct rejudge_news *nw = &rj->news;
	nw->akeys = xmalloc(n * sizeof *nw->akeys);
	nw->akey_devices = xmalloc(n * sizeof *nw->akey_devices);
	for (size_t i = 0; rc == DB_OK && i < n; i++) {
		const struct rj_agg *a = &rj->aggs[v[i]];
		bool added;
		rj_tab_get(&old, a->key, strlen(a->key), &added);
		if (!added)
			continue;
		nw->akey_devices[nw->nakeys] = a->devices;
		nw->akeys[nw->nakeys++] = xstrdup(a->key);
	}
	rj_tab_free(&old);
	free(v);
	return rc;
}

/* the devices (not retired) critically exposed, by id */
static int critical_ids(struct dbc *c, struct db_ints *out)
{
	return dbc_exec(c, "SELECT id FROM devices WHERE critical_exposed = 1 AND retired = 0 ORDER BY id", NULL, 0,
			db_ints_row, out);
}

/* a JVM listening beyond loopback with a critical vulnerable copy loaded
 * (as ingest_tx.c and migration 9 decide it), and the priority */
static const char *const EXPOSED[] = {
	"UPDATE devices SET critical_exposed = CASE WHEN EXISTS (SELECT 1 FROM processes p JOIN findings f"
	"  ON f.device_id = p.device_id AND f.pid = p.pid WHERE p.device_id = devices.id AND p.status = 'vulnerable'"
	"  AND p.n_public > 0 AND f.status = 'vulnerable' AND f.severity = 'critical') THEN 1 ELSE 0 END"
	" WHERE exposed = 1 OR critical_exposed = 1",
	"UPDATE devices SET priority = 4 * critical_exposed + 2 * exposed + attacked"
	" WHERE priority <> 4 * critical_exposed + 2 * exposed + attacked",
};

int store_rejudge_finish(struct rejudge *rj, struct dbc *c, long long rules_id, long long prev, long long now)
{
	counts_free(rj);
	for (size_t i = 0; i < rj->cves.n; i++)
		rj->cve_last[i] = -1;
	long long lo = 0, hi = -1;
	int rc = load_retired(rj, c);
	if (rc == DB_OK)
		rc = dbc_exec(c, "SELECT MIN(id) FROM devices", NULL, 0, id_row, &lo);
	if (rc == DB_OK)
		rc = dbc_exec(c, "SELECT MAX(id) FROM devices", NULL, 0, id_row, &hi);
	struct pass p = {rj, NULL, 0, 0, 0};
	struct buf changed = BUF_INIT;
	for (long long at = lo; rc == DB_OK && at <= hi; at += DEV_PAGE) {
		struct dbv range[] = {dv_int(at), dv_int(at + DEV_PAGE)};
		p.ndevs = p.at = 0;
		rc = dbc_exec(c, "SELECT id FROM devices WHERE id >= ? AND id < ? ORDER BY id", range, 2, dev_row, &p);
		if (rc == DB_OK)
			rc = dbc_exec(c, "SELECT device_id, status, component, version, COALESCE(sha256, 'cd:' || cd_sha256),"
					 " cves_json, severity, shadowed FROM findings WHERE device_id >= ? AND device_id < ?"
					 " ORDER BY device_id",
				      range, 2, finding_row, &p);
		struct old_counts o = {p.devs, p.ndevs, 0, &changed};
		if (rc == DB_OK)
			rc = dbc_exec(c, "SELECT id, n_vulnerable, n_mitigated, n_safe, n_critical FROM devices"
					 " WHERE id >= ? AND id < ? ORDER BY id",
				      range, 2, old_row, &o);
		if (rc == DB_OK)
			rc = write_counters(c, rj->pg, &changed);
	}
	free(p.devs);
	buf_free(&changed);
	news_free(&rj->news);
	if (rc == DB_OK)
		rc = new_archives(rj, c);
	if (rc == DB_OK)
		rc = write_aggs(rj, c);
	struct db_ints was = {0}, now_ce = {0};
	if (rc == DB_OK)
		rc = critical_ids(c, &was);
	for (size_t i = 0; rc == DB_OK && i < sizeof EXPOSED / sizeof EXPOSED[0]; i++)
		rc = dbc_exec(c, EXPOSED[i], NULL, 0, NULL, NULL);
	if (rc == DB_OK)
		rc = critical_ids(c, &now_ce);
	/* critically exposed now and not before (both by id) */
	size_t nce = 0;
	for (size_t i = 0, j = 0; rc == DB_OK && i < now_ce.n; i++) {
		while (j < was.n && was.v[j] < now_ce.v[i])
			j++;
		if (j == was.n || was.v[j] != now_ce.v[i])
			now_ce.v[nce++] = now_ce.v[i];
	}
	rj->news.critical = now_ce.v;
	rj->news.ncritical = nce;
	free(was.v);
	pairs_sort(&rj->after);
	if (rc == DB_OK)
		rc = record_changes(rj, c, rules_id, prev, now);
	return rc;
}
