/* store_rules.c - the collector's active rules, their history, and the
 * re-judging of stored findings when they change (see store_rules.h). */
#include "store_rules.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "detect/detect.h"
#include "detect/facts.h"
#include "util/jsonw.h"
#include "rules/rules.h"
#include "store_internal.h"
#include "store_rejudge.h"
#include "webhook.h"

extern const char l4s_default_rules[];

/* Every rules object parsed by this process stays until store_close: a
 * report being judged may hold one while another thread switches. */
struct rules_cache {
	pthread_mutex_t mu;
	struct {
		long long id;
		struct rules *r;
		char sha256[65]; /* of the text */
		char *text;
	} *v;
	size_t n;
	long long active;
	time_t checked;
	bool have;
	/* a re-judging started by the server (store_rules_activate_bg) */
	pthread_t bg;
	bool bg_started;            /* bg to be joined */
	bool bg_busy;               /* still running (mu) */
	bool cancel;                /* store_close: stop between batches (mu) */
	long long bg_id, bg_now;
	struct store *bg_st;
};

static bool cancelled(struct rules_cache *rc)
{
	pthread_mutex_lock(&rc->mu);
	bool c = rc->cancel;
	pthread_mutex_unlock(&rc->mu);
	return c;
}

static struct rules_cache *cache_of(struct store *st)
{
	static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&init_mu);
	if (!st->rules) {
		st->rules = xcalloc(1, sizeof *st->rules);
		pthread_mutex_init(&st->rules->mu, NULL);
		st->rules_close = store_rules_close;
	}
	pthread_mutex_unlock(&init_mu);
	return st->rules;
}

void store_rules_close(struct store *st)
{
	struct rules_cache *rc = st->rules;
	if (!rc)
		return;
	pthread_mutex_lock(&rc->mu);
	rc->cancel = true;
	pthread_mutex_unlock(&rc->mu);
	if (rc->bg_started)
		pthread_join(rc->bg, NULL);
	for (size_t i = 0; i < rc->n; i++) {
		rules_free(rc->v[i].r);
		free(rc->v[i].text);
	}
	free(rc->v);
	pthread_mutex_destroy(&rc->mu);
	free(rc);
	st->rules = NULL;
}

static int body_row(void *ctx, const struct dbrow *r)
{
	buf_adds(ctx, dbrow_text(r, 0));
	return 1;
}

int store_rules_body(struct store *st, long long id, struct buf *out, struct buf *err)
{
	if (id == 0) {
		buf_adds(out, l4s_default_rules);
		return 1;
	}
	struct buf tmp = BUF_INIT;
	int n = 0;
	struct dbv p[1] = {dv_int(id)};
	int rc = store_query(st, "SELECT body, 1 FROM rules WHERE id = ?", p, 1, body_row, &tmp, err);
	if (rc == DB_OK && tmp.data) {
		buf_add(out, tmp.data, tmp.len);
		n = 1;
	} else if (rc == DB_OK) {
		/* an empty body cannot have been stored (it has no releases) */
		n = 0;
	}
	buf_free(&tmp);
	return rc ? -1 : n;
}

/* The parsed rules of id, from the cache or the database (cache locked). */
static struct rules *rules_of(struct store *st, struct rules_cache *rc, long long id, struct buf *err)
{
	for (size_t i = 0; i < rc->n; i++)
		if (rc->v[i].id == id)
			return rc->v[i].r;
	size_t at = rc->n;
	struct buf body = BUF_INIT;
	int found = store_rules_body(st, id, &body, err);
	struct rules *r = NULL;
	if (found == 1)
		r = rules_parse(body.data ? body.data : "", body.len, err);
	else if (found == 0)
		buf_printf(err, "no rules %lld", id);
	if (r) {
		rc->v = xrealloc(rc->v, (rc->n + 1) * sizeof *rc->v);
		rc->v[at].id = id;
		rc->v[at].r = r;
		auth_sha256_hex(body.data ? body.data : "", body.len, rc->v[at].sha256);
		rc->v[at].text = xstrndup(body.data ? body.data : "", body.len);
		rc->n++;
	}
	buf_free(&body);
	return r;
}

static int int_row(void *ctx, const struct dbrow *r)
{
	*(long long *)ctx = dbrow_int(r, 0);
	return 1;
}

static const struct rules *active(struct store *st, long long *id, char sha256[65], struct buf *text);

const struct rules *store_rules_active(struct store *st, long long *id)
{
	return active(st, id, NULL, NULL);
}

bool store_rules_active_text(struct store *st, char sha256[65], struct buf *text)
{
	long long id;
	return active(st, &id, sha256, text) != NULL;
}

static const struct rules *active(struct store *st, long long *id, char sha256[65], struct buf *text)
{
	struct rules_cache *rc = cache_of(st);
	pthread_mutex_lock(&rc->mu);
	time_t now = time(NULL);
	if (!rc->have || now != rc->checked) {
		long long active = -1;
		struct buf err = BUF_INIT;
		if (store_query(st, "SELECT active FROM rules_state WHERE one = 1", NULL, 0, int_row, &active, &err) ==
			    DB_OK &&
		    active >= 0) {
			rc->active = active;
			rc->have = true;
			rc->checked = now;
		}
		buf_free(&err);
	}
	struct rules *r = NULL;
	if (rc->have) {
		struct buf err = BUF_INIT;
		r = rules_of(st, rc, rc->active, &err);
		buf_free(&err);
		*id = rc->active;
		for (size_t i = 0; r && i < rc->n; i++)
			if (rc->v[i].r == r) {
				if (sha256)
					memcpy(sha256, rc->v[i].sha256, 65);
				if (text)
					buf_adds(text, rc->v[i].text);
			}
	}
	pthread_mutex_unlock(&rc->mu);
	return r;
}

static enum component component_of(const char *s, bool *ok)
{
	*ok = true;
	if (s && !strcmp(s, "log4j-core"))
		return COMP_CORE;
	if (s && !strcmp(s, "log4j-1.x"))
		return COMP_LOG4J1;
	*ok = false;
	return COMP_CORE;
}

/* The verdict of facts under r, as the columns store them. */
struct judged {
	const char *status, *severity, *version_source;
	char version[96], fixed_in[32];
	struct buf cves; /* compact JSON array, as report_parse writes it */
};

static bool judge_facts(const struct rules *r, const char *component, const char *facts, struct judged *j)
{
	bool ok;
	struct finding f;
	memset(&f, 0, sizeof f);
	f.comp = component_of(component, &ok);
	struct facts fx;
	struct buf err = BUF_INIT;
	if (!ok || !facts || !facts_parse(facts, strlen(facts), &fx, &err)) {
		buf_free(&err);
		return false;
	}
	buf_free(&err);
	verdict_judge(r, &fx, &f);
	facts_free(&fx);
	j->status = finding_status_name(f.status);
	j->severity = f.severity;
	j->version_source = f.version_source;
	snprintf(j->version, sizeof j->version, "%s", f.version);
	snprintf(j->fixed_in, sizeof j->fixed_in, "%s", f.fixed_in);
	buf_reset(&j->cves);
	buf_addc(&j->cves, '[');
	for (size_t i = 0; i < f.ncves; i++) {
		if (i)
			buf_addc(&j->cves, ',');
		jsonw_cstr(&j->cves, f.cves[i]->id);
	}
	buf_addc(&j->cves, ']');
	finding_free(&f);
	return true;
}

void store_rules_judge_report(struct store *st, struct report *r)
{
	long long id;
	const struct rules *rules = NULL;
	struct judged j = {.cves = BUF_INIT};
	for (size_t i = 0; i < r->n_findings; i++) {
		struct rp_finding *f = &r->findings[i];
		if (!f->facts)
			continue;
		if (!rules && !(rules = store_rules_active(st, &id)))
			break;
		if (!judge_facts(rules, f->component, f->facts, &j))
			continue;
		f->judged = true;
		f->judged_by = id;
		f->status = j.status;
		f->severity = j.severity;
		f->version_source = j.version_source;
		snprintf(f->judged_version, sizeof f->judged_version, "%s", j.version);
		f->version = f->judged_version;
		snprintf(f->judged_fixed_in, sizeof f->judged_fixed_in, "%s", j.fixed_in);
		f->fixed_in = f->judged_fixed_in[0] ? f->judged_fixed_in : NULL;
		free(f->cves_json);
		f->cves_json = xstrdup(buf_cstr(&j.cves));
	}
	buf_free(&j.cves);
}

int store_rules_add(struct store *st, const char *source, const char *text, size_t len, long long now,
		    long long *id, struct buf *err)
{
	struct buf why = BUF_INIT;
	if (memchr(text, 0, len)) {
		buf_printf(err, "%s: not a rules file (it holds a NUL byte)", source);
		return DB_ERR;
	}
	struct rules *r = rules_parse(text, len, &why);
	if (!r) {
		buf_printf(err, "%s: %s", source, buf_cstr(&why));
		buf_free(&why);
		return DB_ERR;
	}
	buf_free(&why);
	struct buf cves = BUF_INIT;
	for (size_t i = 0; i < r->ncves; i++)
		buf_printf(&cves, "%s%s", i ? " " : "", r->cves[i].id);
	char hex[65];
	auth_sha256_hex(text, len, hex);
	char *body = xstrndup(text, len);
	struct dbv p[] = {dv_text(hex), dv_text(body), dv_text(source), dv_int(now), dv_int((long long)r->ncves),
			  dv_text(buf_cstr(&cves))};
	struct dbc *c = db_acquire(st->db);
	int rc = dbc_begin(c);
	if (rc == DB_OK)
		rc = dbc_exec(c, "INSERT INTO rules(sha256, body, source, loaded, ncves, cves) VALUES(?, ?, ?, ?, ?, ?)", p,
			      6, NULL, NULL);
	if (rc == DB_OK)
		rc = dbc_int(c, "SELECT MAX(id) FROM rules", NULL, 0, 0, id);
	if (rc == DB_OK)
		rc = dbc_commit(c);
	if (rc) {
		buf_printf(err, "%s", dbc_error(c));
		dbc_rollback(c);
	}
	db_release(st->db, c);
	free(body);
	buf_free(&cves);
	rules_free(r);
	return rc ? DB_ERR : DB_OK;
}

/* ---- re-judging */

#define BATCH 10000

struct row {
	long long id;
	char *component, *facts, *status, *severity, *fixed_in, *cves, *version, *vs;
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static char *dup_col(const struct dbrow *r, int col)
{
	return dbrow_type(r, col) == DBV_NULL ? NULL : xstrdup(dbrow_text(r, col));
}

static int collect_row(void *ctx, const struct dbrow *r)
{
	struct rows *rs = ctx;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : BATCH;
		rs->v = xrealloc(rs->v, rs->cap * sizeof *rs->v);
	}
	struct row *w = &rs->v[rs->n++];
	w->id = dbrow_int(r, 0);
	w->component = dup_col(r, 1);
	w->facts = dup_col(r, 2);
	w->status = dup_col(r, 3);
	w->severity = dup_col(r, 4);
	w->fixed_in = dup_col(r, 5);
	w->cves = dup_col(r, 6);
	w->version = dup_col(r, 7);
	w->vs = dup_col(r, 8);
	return 0;
}

static void rows_clear(struct rows *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct row *w = &rs->v[i];
		free(w->component);
		free(w->facts);
		free(w->status);
		free(w->severity);
		free(w->fixed_in);
		free(w->cves);
		free(w->version);
		free(w->vs);
	}
	rs->n = 0;
}

static bool same(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Verdicts already computed in this re-judging, by component and facts
 * (a fleet has few distinct facts: the same jars everywhere). */
#define MEMO_SIZE 4096
struct memo {
	struct {
		char *key;
		struct judged j;
		bool ok;
	} v[MEMO_SIZE];
	size_t n;
};

static void memo_free(struct memo *m)
{
	for (size_t i = 0; i < MEMO_SIZE; i++)
		if (m->v[i].key) {
			free(m->v[i].key);
			buf_free(&m->v[i].j.cves);
			m->v[i].key = NULL;
		}
	m->n = 0;
}

static const struct judged *memo_judge(struct memo *m, const struct rules *r, const char *component,
				       const char *facts)
{
	if (!facts)
		return NULL;
	struct buf key = BUF_INIT;
	buf_printf(&key, "%s\n%s", component ? component : "", facts);
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < key.len; i++)
		h = (h ^ (unsigned char)key.data[i]) * 0x100000001b3ULL;
	size_t at = (size_t)(h % MEMO_SIZE);
	while (m->v[at].key && strcmp(m->v[at].key, key.data))
		at = (at + 1) % MEMO_SIZE;
	if (!m->v[at].key) {
		if (m->n >= MEMO_SIZE / 2) { /* full enough: start over */
			memo_free(m);
			at = (size_t)(h % MEMO_SIZE);
		}
		m->v[at].key = buf_detach(&key);
		m->v[at].j = (struct judged){.cves = BUF_INIT};
		m->v[at].ok = judge_facts(r, component, facts, &m->v[at].j);
		m->n++;
	}
	buf_free(&key);
	return m->v[at].ok ? &m->v[at].j : NULL;
}

/* Judge rows under r and write those whose verdict changed (one
 * statement), then mark the rest of the id range [lo, hi] judged by id (the
 * rows without facts excepted). */
static int judge_rows(struct dbc *c, bool pg, const struct rules *r, long long id, const struct rows *rs,
		      long long lo, long long hi, struct memo *memo, long long *changed)
{
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < rs->n; i++) {
		const struct row *w = &rs->v[i];
		const struct judged *j = memo_judge(memo, r, w->component, w->facts);
		if (!j)
			continue;
		const char *fixed = j->fixed_in[0] ? j->fixed_in : NULL;
		if (same(w->status, j->status) && same(w->severity, j->severity) && same(w->fixed_in, fixed) &&
		    same(w->cves, buf_cstr((struct buf *)&j->cves)) && same(w->version, j->version) &&
		    same(w->vs, j->version_source))
			continue;
		store_rejudge_row(&out, w->id, j->status, j->severity, fixed, buf_cstr((struct buf *)&j->cves), j->version,
			    j->version_source);
		(*changed)++;
	}
	int rc = store_rejudge_write(c, pg, &out, id);
	buf_free(&out);
	if (rc == DB_OK) {
		struct dbv p[] = {dv_int(id), dv_int(lo), dv_int(hi), dv_int(id)};
		rc = dbc_exec(c, "UPDATE findings SET judged_by = ? WHERE id >= ? AND id <= ? AND facts IS NOT NULL"
				 " AND (judged_by IS NULL OR judged_by <> ?)",
			      p, 4, NULL, NULL);
	}
	return rc;
}

static const char SELECT_ROWS[] = "SELECT id, component, facts, status, severity, fixed_in, cves_json, version,"
				  " version_source FROM findings";

/* The final transaction (see store_rules.h): the findings stored since
 * their batch was judged, then the counts again (store_rejudge.c), the
 * record of what changed, and the switch. */
static int finish(struct store *st, struct dbc *c, struct rejudge *rj, const struct rules *r, long long id,
		  long long prev, long long now, struct memo *memo, long long *changed)
{
	bool pg = db_kind(st->db) == DB_PG;
	int rc = dbc_begin(c);
	if (rc == DB_OK && pg) {
		/* pending aggregate deltas are of findings already committed:
		 * counted by the recount below, so they must all be merged, and
		 * no new one may come in until the switch commits */
		rc = dbc_exec(c, "LOCK TABLE agg_batch, agg_delta IN EXCLUSIVE MODE", NULL, 0, NULL, NULL);
		long long pending = 0;
		if (rc == DB_OK)
			rc = dbc_int(c, "SELECT (SELECT COUNT(*) FROM agg_batch) + (SELECT COUNT(*) FROM agg_delta)",
				     NULL, 0, 0, &pending);
		if (rc == DB_OK && pending)
			rc = DB_RETRY;
	}
	/* findings stored since their batch was judged */
	struct rows rs = {0};
	struct buf sql = BUF_INIT;
	buf_printf(&sql, "%s WHERE facts IS NOT NULL AND (judged_by IS NULL OR judged_by <> ?) ORDER BY id", SELECT_ROWS);
	struct dbv p1[] = {dv_int(id)};
	if (rc == DB_OK)
		rc = dbc_exec(c, buf_cstr(&sql), p1, 1, collect_row, &rs);
	buf_free(&sql);
	if (rc == DB_OK && rs.n)
		rc = judge_rows(c, pg, r, id, &rs, rs.v[0].id, rs.v[rs.n - 1].id, memo, changed);
	rows_clear(&rs);
	free(rs.v);
	long long first_change = 0;
	if (rc == DB_OK)
		rc = dbc_int(c, "SELECT COALESCE(MAX(id), 0) FROM rules_changes", NULL, 0, 0, &first_change);
	if (rc == DB_OK)
		rc = store_rejudge_finish(rj, c, id, prev, now);
	if (rc == DB_OK)
		rc = dbc_exec(c, "UPDATE rules_state SET active = ?, finished = ? WHERE one = 1",
			      (struct dbv[]){dv_int(id), dv_int(now)}, 2, NULL, NULL);
	/* the CVE table's scores and titles: those of the rules that judged,
	 * switched with them (cve_info.c; after the row above, the order a
	 * starting server's cve_info_load takes them in) */
	if (rc == DB_OK)
		rc = cve_info_write(c, pg, r);
	/* the webhook event that sums the change up (webhook_events.c) */
	if (rc == DB_OK)
		rc = webhook_events_rules_changed(c, id, prev, now, first_change);
	/* and those of the archives and devices it made so */
	const struct rejudge_news *nw = store_rejudge_news(rj);
	if (rc == DB_OK)
		rc = webhook_events_rejudged(c, pg, id, prev, now, nw->critical, nw->ncritical, nw->akeys,
					     nw->akey_devices, nw->nakeys);
	if (rc == DB_OK)
		rc = dbc_commit(c);
	if (rc)
		dbc_rollback(c);
	return rc;
}

int store_rules_activate(struct store *st, long long id, long long now,
			 void (*progress)(void *ctx, long long done, long long total), void *ctx, struct buf *err)
{
	struct rules_cache *cache = cache_of(st);
	pthread_mutex_lock(&cache->mu);
	struct rules *r = rules_of(st, cache, id, err);
	pthread_mutex_unlock(&cache->mu);
	if (!r)
		return DB_ERR;
	bool pg = db_kind(st->db) == DB_PG;
	struct memo *memo = xcalloc(1, sizeof *memo);
	struct dbc *c = db_acquire(st->db);
	long long total = 0, prev = 0, done = 0, changed = 0;
	int rc = dbc_int(c, "SELECT active FROM rules_state WHERE one = 1", NULL, 0, 0, &prev);
	if (rc == DB_OK)
		rc = dbc_int(c, "SELECT COUNT(*) FROM findings WHERE facts IS NOT NULL", NULL, 0, 0, &total);
	if (rc == DB_OK)
		rc = dbc_exec(c, "UPDATE rules_state SET target = ?, judged = 0, total = ?, started = ?, finished = 0"
				 " WHERE one = 1",
			      (struct dbv[]){dv_int(id), dv_int(total), dv_int(now)}, 3, NULL, NULL);
	/* before: which devices each CVE affects on the dashboard now */
	struct rejudge *rj = store_rejudge_new(pg);
	if (rc == DB_OK)
		rc = store_rejudge_before(rj, c);
	/* batches, each its own transaction: ingest goes on between them */
	long long last = 0;
	struct rows rs = {0};
	struct buf sql = BUF_INIT;
	buf_printf(&sql, "%s WHERE id > ? AND facts IS NOT NULL ORDER BY id LIMIT %d", SELECT_ROWS, BATCH);
	while (rc == DB_OK) {
		rows_clear(&rs);
		rc = dbc_exec(c, buf_cstr(&sql), (struct dbv[]){dv_int(last)}, 1, collect_row, &rs);
		if (rc || !rs.n)
			break;
		for (int attempt = 0; attempt < 5; attempt++) {
			rc = dbc_begin(c);
			if (rc == DB_OK)
				rc = judge_rows(c, pg, r, id, &rs, last + 1, rs.v[rs.n - 1].id, memo, &changed);
			done += (long long)rs.n;
			if (rc == DB_OK)
				rc = dbc_exec(c, "UPDATE rules_state SET judged = ? WHERE one = 1",
					      (struct dbv[]){dv_int(done)}, 1, NULL, NULL);
			if (rc == DB_OK)
				rc = dbc_commit(c);
			if (rc == DB_OK)
				break;
			dbc_rollback(c);
			done -= (long long)rs.n;
			if (rc != DB_RETRY)
				break;
		}
		last = rs.v[rs.n - 1].id;
		if (progress && rc == DB_OK)
			progress(ctx, done, total);
		if (rc == DB_OK && cancelled(cache)) {
			/* the server stops: the previous rules stay active */
			dbc_exec(c, "UPDATE rules_state SET started = 0 WHERE one = 1", NULL, 0, NULL, NULL);
			buf_printf(err, "re-judging for rules %lld stopped (the server is stopping); run it again", id);
			rc = DB_ERR;
		}
	}
	rows_clear(&rs);
	free(rs.v);
	buf_free(&sql);
	for (int attempt = 0; rc == DB_OK && attempt < 50; attempt++) {
		if (pg) {
			/* store_merge takes a connection of its own (the pool may
			 * hold one) */
			db_release(st->db, c);
			int mrc = store_merge(st, err);
			c = db_acquire(st->db);
			if (mrc)
				break;
		}
		rc = finish(st, c, rj, r, id, prev, now, memo, &changed);
		if (rc != DB_RETRY)
			break;
		rc = DB_OK;
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (rc && !err->len)
		buf_printf(err, "%s", dbc_error(c));
	else if (!rc && err->len)
		rc = DB_ERR;
	db_release(st->db, c);
	memo_free(memo);
	free(memo);
	store_rejudge_free(rj);
	/* this process sees the switch at once */
	pthread_mutex_lock(&cache->mu);
	cache->have = false;
	pthread_mutex_unlock(&cache->mu);
	return rc ? DB_ERR : DB_OK;
}

/* ---- re-judging in the server's background */

static void *bg_run(void *arg)
{
	struct rules_cache *rc = arg;
	struct buf err = BUF_INIT;
	if (store_rules_activate(rc->bg_st, rc->bg_id, rc->bg_now, NULL, NULL, &err))
		fprintf(stderr, "log4scan-server: rules %lld: %s\n", rc->bg_id, buf_cstr(&err));
	else
		fprintf(stderr, "log4scan-server: rules %lld active: every stored finding with facts judged by them\n",
			rc->bg_id);
	buf_free(&err);
	pthread_mutex_lock(&rc->mu);
	rc->bg_busy = false;
	pthread_mutex_unlock(&rc->mu);
	return NULL;
}

static int judging_row(void *ctx, const struct dbrow *r)
{
	*(bool *)ctx = dbrow_int(r, 0) != 0 && dbrow_int(r, 1) == 0;
	return 1;
}

int store_rules_activate_bg(struct store *st, long long id, long long now, struct buf *err)
{
	struct rules_cache *rc = cache_of(st);
	bool judging = false;
	if (store_query(st, "SELECT started, finished FROM rules_state WHERE one = 1", NULL, 0, judging_row, &judging,
			err))
		return -1;
	pthread_mutex_lock(&rc->mu);
	int out = 0;
	if (rc->bg_busy || judging || rc->cancel) {
		buf_printf(err, "a re-judging is in progress (GET /api/v1/rules); try again when it has ended");
		out = 1;
	} else if (!rules_of(st, rc, id, err)) {
		out = 2;
	} else {
		if (rc->bg_started)
			pthread_join(rc->bg, NULL); /* finished: bg_busy is false */
		rc->bg_st = st;
		rc->bg_id = id;
		rc->bg_now = now;
		rc->bg_busy = true;
		rc->bg_started = pthread_create(&rc->bg, NULL, bg_run, rc) == 0;
		if (!rc->bg_started) {
			rc->bg_busy = false;
			buf_printf(err, "cannot start a thread");
			out = -1;
		}
	}
	pthread_mutex_unlock(&rc->mu);
	return out;
}

/* ---- JSON for the API and the command line */

static int rules_row(void *ctx, const struct dbrow *r)
{
	struct buf *b = ctx;
	if (b->len && b->data[b->len - 1] == '}')
		buf_addc(b, ',');
	buf_adds(b, "{");
	jsonw_field_int(b, false, "id", dbrow_int(r, 0));
	jsonw_field_str(b, true, "sha256", dbrow_text(r, 1));
	jsonw_field_str(b, true, "source", dbrow_text(r, 2));
	jsonw_field_int(b, true, "loaded", dbrow_int(r, 3));
	jsonw_field_int(b, true, "ncves", dbrow_int(r, 4));
	jsonw_field_str(b, true, "cves", dbrow_text(r, 5));
	buf_addc(b, '}');
	return 0;
}

struct state {
	long long active, target, judged, total, started, finished;
	bool have;
};

static int state_row(void *ctx, const struct dbrow *r)
{
	struct state *s = ctx;
	s->active = dbrow_int(r, 0);
	s->target = dbrow_int(r, 1);
	s->judged = dbrow_int(r, 2);
	s->total = dbrow_int(r, 3);
	s->started = dbrow_int(r, 4);
	s->finished = dbrow_int(r, 5);
	s->have = true;
	return 1;
}

int store_rules_json(struct store *st, struct buf *out, struct buf *err)
{
	struct state s = {0};
	if (store_query(st, "SELECT active, target, judged, total, started, finished FROM rules_state WHERE one = 1",
			NULL, 0, state_row, &s, err))
		return DB_ERR;
	char hex[65];
	auth_sha256_hex(l4s_default_rules, strlen(l4s_default_rules), hex);
	buf_adds(out, "{");
	jsonw_field_int(out, false, "active", s.active);
	if (s.have && s.started && !s.finished) {
		buf_adds(out, ",\"judging\":{");
		jsonw_field_int(out, false, "target", s.target);
		jsonw_field_int(out, true, "judged", s.judged);
		jsonw_field_int(out, true, "total", s.total);
		jsonw_field_int(out, true, "started", s.started);
		buf_addc(out, '}');
	} else {
		buf_adds(out, ",\"judging\":null");
		jsonw_field_int(out, true, "last_change", s.finished);
	}
	buf_adds(out, ",\"rules\":[{\"id\":0");
	jsonw_field_str(out, true, "sha256", hex);
	jsonw_field_str(out, true, "source", "built-in");
	buf_adds(out, ",\"loaded\":0}");
	struct buf rows = BUF_INIT;
	int rc = store_query(st, "SELECT id, sha256, source, loaded, ncves, cves FROM rules ORDER BY id", NULL, 0,
			     rules_row, &rows, err);
	if (rows.len) {
		buf_addc(out, ',');
		buf_add(out, rows.data, rows.len);
	}
	buf_free(&rows);
	buf_adds(out, "]}");
	return rc;
}

static int change_row(void *ctx, const struct dbrow *r)
{
	struct buf *b = ctx;
	if (b->len && b->data[b->len - 1] == '}')
		buf_addc(b, ',');
	buf_adds(b, "{");
	jsonw_field_int(b, false, "id", dbrow_int(r, 6));
	jsonw_field_int(b, true, "rules_id", dbrow_int(r, 0));
	jsonw_field_int(b, true, "prev_id", dbrow_int(r, 1));
	jsonw_field_int(b, true, "at", dbrow_int(r, 2));
	jsonw_field_str(b, true, "cve", dbrow_text(r, 3));
	jsonw_field_int(b, true, "newly", dbrow_int(r, 4));
	jsonw_field_int(b, true, "no_longer", dbrow_int(r, 5));
	buf_addc(b, '}');
	return 0;
}

int store_rules_changes_json(struct store *st, struct buf *out, struct buf *err)
{
	struct buf rows = BUF_INIT;
	int rc = store_query(st, "SELECT rules_id, prev_id, at, cve, newly, no_longer, id FROM rules_changes"
				 " ORDER BY id DESC LIMIT 1000",
			     NULL, 0, change_row, &rows, err);
	buf_adds(out, "{\"changes\":[");
	if (rows.len)
		buf_add(out, rows.data, rows.len);
	buf_adds(out, "]}");
	buf_free(&rows);
	return rc;
}
