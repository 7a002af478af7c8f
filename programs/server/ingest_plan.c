/* ingest_plan.c - what storing a report needs and no database: the
 * report's plan (device identity, counts, findings hash, the aggregate keys
 * of the findings it would store, their distinct archives, the attempts'
 * fingerprints), worked out by the request's own thread before it queues
 * for the writer (SQLite has one; its time is the ingest rate); and the
 * aggregate keys and deltas the transactions add up (see ingest_internal.h). */
#include "ingest_internal.h"

#include <jansson.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fkeys_add(struct fkeys *k, const char *status, const char *component, const char *version,
		      const char *sha256, const char *cves_json, bool has_pid, const char *severity, const char *path,
		      bool shadowed)
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
	f->severity = severity ? xstrdup(severity) : NULL;
	f->path = xstrdup(path ? path : "");
	f->shadowed = shadowed;
}

void ingest_fkeys_free(struct fkeys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].status);
		free(k->v[i].component);
		free(k->v[i].version);
		free(k->v[i].sha256);
		free(k->v[i].cves_json);
		free(k->v[i].severity);
		free(k->v[i].path);
	}
	free(k->v);
	k->v = NULL;
	k->n = k->cap = 0;
}

int ingest_fkeys_row(void *ctx, const struct dbrow *r)
{
	fkeys_add(ctx, dbrow_text(r, 0), dbrow_text(r, 1), dbrow_text(r, 2),
		  dbrow_type(r, 3) == DBV_NULL ? NULL : dbrow_text(r, 3), dbrow_text(r, 4), dbrow_int(r, 5) != 0,
		  dbrow_type(r, 6) == DBV_NULL ? NULL : dbrow_text(r, 6), dbrow_text(r, 7), dbrow_int(r, 8) != 0);
	return 0;
}

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

static const char *akeys_str(struct akeys *a, const char *s) { return spool_dup(&a->pool, s); }

struct akey *ingest_akeys_add(struct akeys *a, const char *kind, const char *key, const char *sub,
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
struct akey *ingest_akeys_copy(struct akeys *a, const struct akey *e)
{
	struct akey *k = ingest_akeys_add(a, e->kind, akeys_str(a, e->key), akeys_str(a, e->sub), e->status,
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
 * answer a CVE filter from the version index, see api_list.c) */
static void add_cve(struct akeys *a, const char *cve, const char *version, const char *status, bool after)
{
	ingest_akeys_add(a, "cve", cve, "", status, "", after);
	ingest_akeys_add(a, "cvever", cve, version, status, "", after);
}

const char *ingest_severity_key(const char *s)
{
	static const char *const known[] = {"critical", "high", "medium", "low", "none"};
	if (!s)
		return "none";
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return "unknown";
}

/* The keys of one finding (its strings must outlive a). */
void ingest_akeys_from(struct akeys *a, const struct fkey *f, bool after)
{
	const char *status = intern_status(f->status);
	ingest_akeys_add(a, "version", f->version, f->component, status, "", after);
	ingest_akeys_add(a, "severity", ingest_severity_key(f->severity), "", status, "", after);
	if (f->sha256) {
		struct buf label = BUF_INIT;
		buf_printf(&label, "%s %s", f->component, f->version);
		ingest_akeys_add(a, "sha256", f->sha256, "", status, akeys_str(a, buf_cstr(&label)), after);
		buf_free(&label);
	}
	/* cves_json is report_parse's compact serialisation of an array of
	 * strings: read it directly unless a string has an escape (then jansson) */
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

void ingest_akeys_free(struct akeys *a)
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
				       f->severity, f->fixed_in, f->sha256, f->cves_json, f->evidence_json, f->cd_sha256,
				       f->image, f->tag, f->layer, f->note,
				       f->has_in_final ? (f->in_final_image ? "1" : "0") : NULL, f->facts};
		for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
			const char *p = parts[k] ? parts[k] : "\x01";
			sha256_update(&h, strlen(p) + 1, (const uint8_t *)p);
		}
		char pid[32];
		snprintf(pid, sizeof pid, "%lld", f->has_pid ? f->pid : -1);
		sha256_update(&h, strlen(pid) + 1, (const uint8_t *)pid);
		snprintf(pid, sizeof pid, "%lld", f->judged ? f->judged_by : -1);
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

int ingest_str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void ingest_disk_add(struct disk_copies *d, const char *path, const char *key)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->v = xrealloc(d->v, d->cap * sizeof *d->v);
	}
	d->v[d->n++] = (struct disk_copy){path, key && *key ? key : NULL};
}

static int copy_cmp(const void *a, const void *b)
{
	return strcmp(((const struct disk_copy *)a)->path, ((const struct disk_copy *)b)->path);
}

void ingest_disk_sort(struct disk_copies *d)
{
	if (d->n)
		qsort(d->v, d->n, sizeof *d->v, copy_cmp);
}

const char *ingest_disk_match(const struct disk_copies *d, const char *path, const char *key)
{
	struct disk_copy k = {path, NULL};
	const struct disk_copy *e = d->n ? bsearch(&k, d->v, d->n, sizeof *d->v, copy_cmp) : NULL;
	if (e)
		return e->path;
	if (!key || !*key)
		return NULL;   /* no content to go by: a path alone proves nothing */
	while (*path == '/')
		path++;
	size_t rl = strlen(path);
	for (size_t i = 0; rl && i < d->n; i++) {
		const struct disk_copy *c = &d->v[i];
		size_t n = strlen(c->path);
		if (c->key && n > rl && c->path[n - rl - 1] == '/' && !strcmp(c->path + n - rl, path) &&
		    !strcmp(c->key, key))
			return c->path;
	}
	return NULL;
}

void ingest_disk_free(struct disk_copies *d)
{
	free(d->v);
	*d = (struct disk_copies){0};
}

char *ingest_loaded_as_note(const char *path, const char *note)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "loaded as %s", path);
	if (note && *note)
		buf_printf(&b, "; %s", note);
	return buf_detach(&b);
}

/* scan: shadow[i] for each finding with a pid that is a JVM's copy of a
 * file the disk scan lists (ingest_disk_match), and shadow_path[i] when it
 * has another path there */
static void plan_shadow(struct plan *pl, const struct report *r)
{
	struct disk_copies disk = {0};
	for (size_t i = 0; i < r->n_findings; i++)
		if (!r->findings[i].has_pid)
			ingest_disk_add(&disk, r->findings[i].path, r->findings[i].archive_key);
	ingest_disk_sort(&disk);
	for (size_t i = 0; disk.n && i < r->n_findings; i++) {
		const struct rp_finding *f = &r->findings[i];
		const char *at = f->has_pid ? ingest_disk_match(&disk, f->path, f->archive_key) : NULL;
		pl->shadow[i] = at != NULL;
		if (at && strcmp(at, f->path))
			pl->shadow_path[i] = at;
	}
	ingest_disk_free(&disk);
}

/* A skipped directory or mount that still leaves the scan whole: a pseudo
 * filesystem, the user's own exclusion, a second way to the same place,
 * log4scan's backups */
static bool skip_benign(const char *reason)
{
	static const char *const ok[] = {"pseudo filesystem", "excluded by the user", "already visited",
					 "log4scan backup directory"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!strncmp(reason, ok[i], strlen(ok[i])))
			return true;
	return false;
}

static long long jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) && json_integer_value(v) > 0 ? (long long)json_integer_value(v) : 0;
}

/* scan: what the run covered, from the envelope's "coverage" and the
 * summary's skipped, not_reached and errors: pl->coverage, coverage_json */
static void plan_coverage(struct plan *pl, const struct report *r)
{
	json_t *o = json_object(), *reasons = json_array(), *skipped = json_array();
	json_t *sum = r->summary_json ? json_loads(r->summary_json, 0, NULL) : NULL;
	bool partial = false, unknown = !r->has_coverage;
	if (r->has_coverage) {
		json_object_set_new(o, "whole_host", json_boolean(r->cov_whole_host));
		json_object_set_new(o, "processes", json_boolean(r->cov_processes));
		json_object_set_new(o, "paths", json_loads(r->cov_paths_json ? r->cov_paths_json : "[]", 0, NULL));
		json_object_set_new(o, "exclude", json_loads(r->cov_exclude_json ? r->cov_exclude_json : "[]", 0, NULL));
		if (!r->cov_whole_host) {
			partial = true;
			json_array_append_new(reasons, json_string("not a whole-host scan (only the paths listed)"));
		}
	} else {
		json_array_append_new(reasons, json_string("the agent did not say what it covered (no \"coverage\" "
							   "in its report: an agent from before coverage reporting)"));
	}
	long long not_reached = 0, n_skipped = 0, n_gaps = 0;
	if (json_is_object(sum)) {
		not_reached = jint(sum, "not_reached");
		json_t *sk = json_object_get(sum, "skipped"), *e;
		size_t i;
		if (json_is_array(sk))
			json_array_foreach(sk, i, e) {
				json_t *path = json_object_get(e, "path"), *why = json_object_get(e, "reason");
				if (!json_is_string(path) || !json_is_string(why))
					continue;
				bool gap = !skip_benign(json_string_value(why));
				n_skipped++;
				n_gaps += gap;
				if (json_array_size(skipped) < 100)
					json_array_append_new(skipped, json_pack("{s:O,s:O,s:b}", "path", path, "reason", why,
										 "gap", gap));
			}
		json_t *sec = json_object_get(sum, "seconds");
		if (json_is_number(sec))
			json_object_set_new(o, "seconds", json_real(json_number_value(sec)));
		json_object_set_new(o, "files", json_integer(jint(sum, "files")));
	} else {
		partial = true;
		json_array_append_new(reasons, json_string("the report has no summary: the scan may not have finished"));
	}
	char msg[160];
	if (not_reached) {
		partial = true;
		snprintf(msg, sizeof msg, "%lld files found but not scanned (time budget)", not_reached);
		json_array_append_new(reasons, json_string(msg));
	}
	if (n_gaps) {
		partial = true;
		snprintf(msg, sizeof msg, "%lld directories or mounts not scanned (network or other filesystem, "
			 "unreadable, too deep, time budget)", n_gaps);
		json_array_append_new(reasons, json_string(msg));
	}
	if (r->n_errors) {
		partial = true;
		snprintf(msg, sizeof msg, "%zu files could not be read", r->n_errors);
		json_array_append_new(reasons, json_string(msg));
	}
	pl->coverage = partial ? "partial" : unknown ? "unknown" : "full";
	json_object_set_new(o, "state", json_string(pl->coverage));
	json_object_set_new(o, "reasons", reasons);
	json_object_set_new(o, "skipped", skipped);
	json_object_set_new(o, "skipped_total", json_integer(n_skipped));
	json_object_set_new(o, "not_reached", json_integer(not_reached));
	json_object_set_new(o, "errors", json_integer((json_int_t)r->n_errors));
	json_object_set_new(o, "agent_version", json_string(r->agent_version ? r->agent_version : ""));
	json_object_set_new(o, "created", json_integer(r->created_epoch));
	json_object_set_new(o, "report_id", json_string(r->report_id));
	char *txt = json_dumps(o, JSON_COMPACT);
	pl->coverage_json = xstrdup(txt ? txt : "{}");
	free(txt);
	json_decref(o);
	json_decref(sum);
}

long long ingest_plan_path_id(const struct plan *pl, const char *path)
{
	const char **k = pl->n_paths ? bsearch(&path, pl->paths, pl->n_paths, sizeof *pl->paths, ingest_str_cmp) : NULL;
	return k ? pl->path_ids[k - pl->paths] : 0;
}

/* the report's distinct stored paths (table paths, ingest_paths.c) */
static void plan_paths(struct plan *pl, const struct report *r)
{
	pl->paths = xcalloc(r->n_findings + 1, sizeof *pl->paths);
	pl->n_paths = 0;
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct rp_finding *f = &r->findings[i];
		if (!(pl->is_scan || (pl->is_ps && f->has_pid)))
			continue;   /* a ps report stores only running processes' copies */
		pl->paths[pl->n_paths++] = pl->shadow_path[i] ? pl->shadow_path[i] : f->path;
	}
	if (pl->n_paths)
		qsort(pl->paths, pl->n_paths, sizeof *pl->paths, ingest_str_cmp);
	size_t u = 0;
	for (size_t i = 0; i < pl->n_paths; i++)
		if (!u || strcmp(pl->paths[u - 1], pl->paths[i]))
			pl->paths[u++] = pl->paths[i];
	pl->n_paths = u;
	pl->path_ids = xcalloc(u + 1, sizeof *pl->path_ids);
}

void ingest_plan_make(struct plan *pl, const struct report *r)
{
	memset(pl, 0, sizeof *pl);
	report_device_ident(r, &pl->ident);
	pl->is_scan = !strcmp(r->command, "scan");
	pl->is_ps = !strcmp(r->command, "ps");
	pl->shadow = xcalloc(r->n_findings + 1, sizeof *pl->shadow);
	pl->shadow_path = xcalloc(r->n_findings + 1, sizeof *pl->shadow_path);
	if (pl->is_scan) {
		findings_hash(r, pl->fhash);
		plan_shadow(pl, r);
		plan_coverage(pl, r);
	}
	pl->shas = xcalloc(r->n_findings + 1, sizeof *pl->shas);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct rp_finding *f = &r->findings[i];
		bool v = !strcmp(f->status, "vulnerable"), m = !strcmp(f->status, "mitigated");
		if (!pl->shadow[i])
			pl->vuln += v;
		if (!(pl->is_scan || (pl->is_ps && f->has_pid)))
			continue;   /* a ps report speaks only for running processes */
		if (*f->archive_key)
			pl->shas[pl->n_shas++] = f->archive_key;   /* stored all the same: its row needs the archive */
		if (pl->shadow[i])
			continue;   /* the file is counted once, on its disk row */
		pl->nv += v;
		pl->nm += m;
		pl->ns += !v && !m;
		pl->ncrit += v && f->severity && !strcmp(f->severity, "critical");
		struct fkey fk = {(char *)f->status, (char *)(f->component ? f->component : ""),
				  (char *)(f->version ? f->version : ""), (char *)(*f->archive_key ? f->archive_key : NULL),
				  f->cves_json, (char *)f->severity, (char *)f->path, f->has_pid, false};
		ingest_akeys_from(&pl->after, &fk, true);
	}
	akeys_sum(&pl->after);
	if (pl->n_shas)
		qsort(pl->shas, pl->n_shas, sizeof *pl->shas, ingest_str_cmp);
	size_t u = 0;
	for (size_t i = 0; i < pl->n_shas; i++)
		if (!u || strcmp(pl->shas[u - 1], pl->shas[i]))
			pl->shas[u++] = pl->shas[i];
	pl->n_shas = u;
	plan_paths(pl, r);
	pl->fps = xcalloc(r->n_attempts + 1, sizeof *pl->fps);
	for (size_t i = 0; i < r->n_attempts; i++)
		attempt_fp(&r->attempts[i], pl->fps[i]);
}

void ingest_plan_free(struct plan *pl)
{
	buf_free(&pl->ident);
	ingest_akeys_free(&pl->after);
	free(pl->shas);
	free(pl->paths);
	free(pl->path_ids);
	free(pl->fps);
	free(pl->shadow);
	free(pl->shadow_path);
	free(pl->coverage_json);
}

void ingest_utc_day(long long t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* One device's before/after entries -> (key, files delta, devices delta),
 * appended to out (strings copied into out's pool). */
void ingest_akeys_reduce(struct akeys *a, struct akeys *out)
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
			struct akey *k = ingest_akeys_copy(out, &a->v[i]);
			k->dfiles = dfiles;
			k->ddev = ddev;
		}
		i = j;
	}
}

void ingest_deltas_free(struct deltas *d)
{
	ingest_akeys_free(&d->agg);
	memset(d, 0, sizeof *d);
}

/* Sort the entries and sum those of each key into one; keys whose sum is
 * zero are dropped. */
void ingest_deltas_sum(struct deltas *dl)
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

void ingest_pg_array_add(struct buf *b, const char *s)
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

const char *ingest_pg_array_end(struct buf *b)
{
	if (!b->len)
		buf_addc(b, '{');
	buf_addc(b, '}');
	return buf_cstr(b);
}

char *ingest_tags_merge(const char *device_json, const char *report_json, bool replace)
{
	json_t *dev = replace ? NULL : json_loads(device_json ? device_json : "[]", 0, NULL);
	json_t *rep = json_loads(report_json ? report_json : "[]", 0, NULL);
	json_t *all = json_array();
	json_t *lists[2] = {dev, rep};
	for (int l = 0; l < 2; l++) {
		size_t i;
		json_t *v;
		if (!json_is_array(lists[l]))
			continue;
		json_array_foreach(lists[l], i, v) {
			bool seen = !json_is_string(v) || json_array_size(all) >= 64;
			size_t k;
			json_t *w;
			json_array_foreach(all, k, w) {
				seen |= json_equal(v, w);
			}
			if (!seen)
				json_array_append(all, v);
		}
	}
	char *s = json_dumps(all, JSON_COMPACT);
	char *out = xstrdup(s ? s : "[]");
	free(s);
	json_decref(all);
	json_decref(dev);
	json_decref(rep);
	return out;
}
