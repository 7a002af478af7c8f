/* webhook_send.c - the webhook delivery thread (design in webhook.h).
 *
 * Once a second, or at once after a delivery, it reads up to 16 due
 * deliveries (pending, next try reached, not claimed by a live lease),
 * claims each (an UPDATE that only one server's can win: several servers on
 * one PostgreSQL database never send one twice), POSTs it with libcurl and
 * records the attempt: 2xx delivered; anything else (3xx included: no
 * redirect is followed; a timeout, a refused connection) retried after
 * backoff * 2^(attempt-1) seconds (at most an hour), failed after the last
 * attempt.  A delivery whose claim outlived a crash (lease passed) is sent
 * again: receivers should be idempotent on X-Log4scan-Delivery.  Events and
 * log lines older than 30 days are pruned once an hour.  What the receiver
 * answers is read and dropped (at most 64 KiB). */
#include "webhook.h"

#include <curl/curl.h>
#include <nettle/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/jsonw.h"
#include "store.h"

#define BATCH 16
#define LEASE 300            /* seconds a claim holds, longer than any attempt */
#define KEEP_DAYS 30

struct webhook_sender {
	struct store *st;
	struct webhook_opts o;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	long long last_error;        /* when the last failed read was logged */
};

void webhook_sign(const char *secret, long long ts, const char *body, size_t len, char out[72])
{
	struct hmac_sha256_ctx h;
	uint8_t d[SHA256_DIGEST_SIZE];
	char t[32];
	int n = snprintf(t, sizeof t, "%lld.", ts);
	hmac_sha256_set_key(&h, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&h, (size_t)n, (const uint8_t *)t);
	hmac_sha256_update(&h, len, (const uint8_t *)body);
	hmac_sha256_digest(&h, sizeof d, d);
	memcpy(out, "sha256=", 7);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
}

void webhook_body(struct buf *out, long long event_id, const char *kind, long long created, const char *data_json)
{
	buf_printf(out, "{\"id\":%lld", event_id);
	jsonw_field_str(out, true, "event", kind);
	buf_printf(out, ",\"created\":%lld,\"data\":%s}", created, data_json && *data_json ? data_json : "{}");
}

struct due {
	long long id, event_id, hook_id, attempts, created;
	char *url, *secret, *kind, *data;
};

struct due_list { struct due v[BATCH]; int n; };

static int due_row(void *ctx, const struct dbrow *r)
{
	struct due_list *l = ctx;
	if (l->n == BATCH)
		return 1;
	struct due *d = &l->v[l->n++];
	d->id = dbrow_int(r, 0);
	d->event_id = dbrow_int(r, 1);
	d->hook_id = dbrow_int(r, 2);
	d->attempts = dbrow_int(r, 3);
	d->url = xstrdup(dbrow_text(r, 4));
	d->secret = xstrdup(dbrow_text(r, 5));
	d->kind = xstrdup(dbrow_text(r, 6));
	d->created = dbrow_int(r, 7);
	d->data = xstrdup(dbrow_text(r, 8));
	return 0;
}

static void due_free(struct due *d)
{
	free(d->url);
	if (d->secret)
		memset(d->secret, 0, strlen(d->secret));
	free(d->secret);
	free(d->kind);
	free(d->data);
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	size_t *got = ctx;
	*got += size * n;
	return *got > 65536 ? 0 : size * n;
}

static bool stopping(struct webhook_sender *s)
{
	pthread_mutex_lock(&s->mu);
	bool stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

/* a transfer in flight is cut when the server stops */
static int progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	return stopping(ctx) ? 1 : 0;
}

/* One POST: the HTTP status (0 when there was none) and, for a failure,
 * a short reason in err. */
static long post(struct webhook_sender *s, const struct due *d, struct buf *err)
{
	const struct webhook_opts *o = &s->o;
	struct buf body = BUF_INIT, h = BUF_INIT;
	webhook_body(&body, d->event_id, d->kind, d->created, d->data);
	long long ts = (long long)time(NULL);
	char sig[72];
	webhook_sign(d->secret, ts, body.data, body.len, sig);
	struct curl_slist *hs = NULL;
	const char *hv[] = {"Content-Type: application/json", ("User-Agent: log4scan-server/" L4S_VERSION), "Expect:"};
	for (size_t i = 0; i < sizeof hv / sizeof hv[0]; i++)
		hs = curl_slist_append(hs, hv[i]);
	buf_printf(&h, "X-Log4scan-Event: %s", d->kind);
	hs = curl_slist_append(hs, buf_cstr(&h));
	buf_reset(&h);
	buf_printf(&h, "X-Log4scan-Delivery: %lld", d->id);
	hs = curl_slist_append(hs, buf_cstr(&h));
	buf_reset(&h);
	buf_printf(&h, "X-Log4scan-Timestamp: %lld", ts);
	hs = curl_slist_append(hs, buf_cstr(&h));
	buf_reset(&h);
	buf_printf(&h, "X-Log4scan-Signature: %s", sig);
	hs = curl_slist_append(hs, buf_cstr(&h));
	size_t got = 0;
	long status = 0;
	char ebuf[CURL_ERROR_SIZE] = "";
	CURL *c = curl_easy_init();
	CURLcode rc = CURLE_FAILED_INIT;
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, d->url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)o->connect_timeout);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)o->timeout);
		curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
		curl_easy_setopt(c, CURLOPT_PROXY, "");   /* no proxy from the environment */
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
	}
	if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
		buf_adds(err, *ebuf ? ebuf : curl_easy_strerror(rc));
	else if (status >= 300 && status < 400)
		buf_printf(err, "HTTP %ld: a redirect, not followed", status);
	else if (status < 200 || status >= 300)
		buf_printf(err, "HTTP %ld", status);
	curl_slist_free_all(hs);
	buf_free(&body);
	buf_free(&h);
	return status;
}

static long long backoff(const struct webhook_opts *o, long long attempts)
{
	long long s = o->backoff;
	for (long long i = 1; i < attempts && s < 3600; i++)
		s *= 2;
	return s < 3600 ? s : 3600;
}

/* send one claimed delivery (no database connection held meanwhile) and
 * record what happened */
static void deliver(struct webhook_sender *s, struct due *d)
{
	struct buf err = BUF_INIT, shown = BUF_INIT;
	long status = post(s, d, &err);
	struct dbc *c = db_acquire(s->st->db);
	if (err.len && stopping(s)) {
		/* cut by the server's stop: not an attempt; the next server sends it */
		struct dbv p[1] = {dv_int(d->id)};
		dbc_exec(c, "UPDATE webhook_deliveries SET lease = 0 WHERE id = ?", p, 1, NULL, NULL);
		db_release(s->st->db, c);
		buf_free(&err);
		return;
	}
	long long now = (long long)time(NULL), n = d->attempts + 1;
	bool ok = !err.len;
	const char *state = ok ? "delivered" : n >= s->o.max_attempts ? "failed" : "pending";
	webhook_url_shown(d->url, &shown);
	struct dbv up[7] = {dv_text(state), dv_int(n), dv_int(now + backoff(&s->o, n)),
			    status ? dv_int(status) : dv_null(), dv_text(ok ? NULL : buf_cstr(&err)),
			    ok || n >= s->o.max_attempts ? dv_int(now) : dv_null(), dv_int(d->id)};
	struct dbv lg[9] = {dv_int(d->id), dv_int(d->hook_id), dv_int(d->event_id), dv_text(d->kind),
			    dv_text(buf_cstr(&shown)), dv_int(now), dv_int(n), status ? dv_int(status) : dv_null(),
			    dv_text(ok ? NULL : buf_cstr(&err))};
	int rc = dbc_begin(c);
	if (rc == DB_OK)
		rc = dbc_exec(c, "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_at = ?, lease = 0,"
				 " last_status = ?, last_error = ?, done_at = ? WHERE id = ?", up, 7, NULL, NULL);
	if (rc == DB_OK)
		rc = dbc_exec(c, "INSERT INTO webhook_log(delivery_id, webhook_id, event_id, kind, url, at, attempt,"
				 " status, error) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)", lg, 9, NULL, NULL);
	if (rc == DB_OK)
		rc = dbc_commit(c);
	if (rc != DB_OK) {
		fprintf(stderr, "log4scan-server: webhook %lld: delivery %lld: cannot record the attempt: %s\n",
			d->hook_id, d->id, dbc_error(c));
		dbc_rollback(c);
	} else if (!ok) {
		/* the error is libcurl's or "HTTP N": never the URL's query or the secret */
		fprintf(stderr, "log4scan-server: webhook %lld: delivery %lld (%s) attempt %lld %s: %s\n", d->hook_id, d->id,
			d->kind, n, !strcmp(state, "failed") ? "failed for good" : "failed, will retry", buf_cstr(&err));
	}
	db_release(s->st->db, c);
	buf_free(&err);
	buf_free(&shown);
}

/* one pass: the due deliveries, each claimed then sent; how many were sent */
static int pass(struct webhook_sender *s)
{
	struct dbc *c = db_acquire(s->st->db);
	long long now = (long long)time(NULL);
	struct due_list l = {.n = 0};
	struct dbv p[2] = {dv_int(now), dv_int(now)};
	int rc = dbc_exec(c, "SELECT d.id, d.event_id, d.webhook_id, d.attempts, w.url, w.secret, e.kind, e.created,"
			     " e.data_json FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id"
			     " JOIN webhook_events e ON e.id = d.event_id"
			     " WHERE d.state = 'pending' AND d.next_at <= ? AND d.lease < ? ORDER BY d.next_at, d.id LIMIT 16",
			  p, 2, due_row, &l);
	if (rc && now - s->last_error >= 60) {   /* a database that is down: once a minute */
		fprintf(stderr, "log4scan-server: webhooks: reading the due deliveries: %s\n", dbc_error(c));
		s->last_error = now;
	}
	db_release(s->st->db, c);
	int sent = 0;
	for (int i = 0; i < l.n; i++) {
		bool stop = stopping(s);
		long long won = 0;
		now = (long long)time(NULL);
		struct dbv q[3] = {dv_int(now + LEASE), dv_int(l.v[i].id), dv_int(now)};
		if (!stop && rc == DB_OK) {
			c = db_acquire(s->st->db);
			if (dbc_int(c, "UPDATE webhook_deliveries SET lease = ? WHERE id = ? AND state = 'pending'"
				       " AND lease < ? RETURNING id", q, 3, 0, &won) != DB_OK)
				won = 0;
			db_release(s->st->db, c);
		}
		if (won) {
			deliver(s, &l.v[i]);
			sent++;
		}
		due_free(&l.v[i]);
	}
	return sent;
}

static void prune(struct webhook_sender *s)
{
	struct buf err = BUF_INIT;
	struct dbv p[1] = {dv_int((long long)time(NULL) - KEEP_DAYS * 86400LL)};
	if (store_query(s->st, "DELETE FROM webhook_log WHERE at < ?", p, 1, NULL, NULL, &err) ||
	    store_query(s->st, "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND event_id IN"
			       " (SELECT id FROM webhook_events WHERE created < ?)", p, 1, NULL, NULL, &err) ||
	    store_query(s->st, "DELETE FROM webhook_events WHERE created < ? AND NOT EXISTS (SELECT 1 FROM"
			       " webhook_deliveries d WHERE d.event_id = webhook_events.id)", p, 1, NULL, NULL, &err))
		fprintf(stderr, "log4scan-server: webhooks: pruning: %s\n", buf_cstr(&err));
	buf_free(&err);
}

static void *run(void *arg)
{
	struct webhook_sender *s = arg;
	long long last_prune = 0;
	for (;;) {
		if (stopping(s))
			break;
		long long now = (long long)time(NULL);
		if (now - last_prune >= 3600) {
			prune(s);
			last_prune = now;
		}
		if (pass(s))
			continue;   /* more may be due */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_mutex_lock(&s->mu);
		if (!s->stop)
			pthread_cond_timedwait(&s->cv, &s->mu, &until);
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

struct webhook_sender *webhook_sender_start(struct store *st, const struct webhook_opts *o, struct buf *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		buf_adds(err, "webhooks: curl_global_init failed");
		return NULL;
	}
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	if (!v || v->version_num < 0x075500) {
		buf_adds(err, "webhooks: libcurl 7.85 or later is needed (CURLOPT_PROTOCOLS_STR)");
		curl_global_cleanup();
		return NULL;
	}
	struct webhook_sender *s = xcalloc(1, sizeof *s);
	s->st = st;
	s->o = *o;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->th, NULL, run, s)) {
		buf_adds(err, "webhooks: cannot start the delivery thread");
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		curl_global_cleanup();
		return NULL;
	}
	return s;
}

void webhook_sender_stop(struct webhook_sender *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
	curl_global_cleanup();
}
