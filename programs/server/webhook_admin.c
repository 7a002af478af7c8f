/* webhook_admin.c - webhook targets: add, delete, test, list (webhook.h),
 * for the CLI (webhook_cli.c) and the API (api_webhooks.c).  URLs are
 * parsed by libcurl's URL parser, the one that will send to them. */
#include "webhook.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "util/jsonw.h"
#include "store.h"

bool webhook_kinds_parse(const char *list, struct buf *out, struct buf *err)
{
	static const char *const kinds[] = {"device_critical_exposed", "device_attacked", "archive_vulnerable",
					    "rules_changed"};
	enum { NK = sizeof kinds / sizeof kinds[0] };
	bool want[NK] = {false}, any = false;
	for (const char *s = list ? list : ""; *s;) {
		while (*s == ' ' || *s == ',')
			s++;
		size_t n = strcspn(s, ", ");
		if (!n)
			break;
		size_t k = 0;
		while (k < NK && (strlen(kinds[k]) != n || strncmp(kinds[k], s, n)))
			k++;
		if (k == NK) {
			buf_printf(err, "unknown event '%.*s' (events: %s)", (int)(n > 64 ? 64 : n), s, WEBHOOK_KINDS);
			return false;
		}
		want[k] = any = true;
		s += n;
	}
	for (size_t k = 0; k < NK; k++)
		if (want[k] || !any) {
			if (out->len)
				buf_addc(out, ',');
			buf_adds(out, kinds[k]);
		}
	return true;
}

bool webhook_url_check(const char *url, struct buf *err)
{
	size_t n = strlen(url);
	if (n > 2048) {
		buf_adds(err, "the URL is longer than 2048 bytes");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f) {
			buf_adds(err, "the URL has a space or a control character");
			return false;
		}
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *pw = NULL;
	bool ok = false;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0))
		buf_adds(err, "not a URL (want http://HOST/... or https://HOST/...)");
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || (strcmp(scheme, "http") && strcmp(scheme, "https")))
		buf_adds(err, "only http and https URLs");
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) || !*host)
		buf_adds(err, "the URL has no host");
	else if (!curl_url_get(u, CURLUPART_USER, &user, 0) || !curl_url_get(u, CURLUPART_PASSWORD, &pw, 0))
		buf_adds(err, "no user name or password in the URL (the secret signs each request)");
	else
		ok = true;
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(pw);
	curl_url_cleanup(u);
	return ok;
}

void webhook_url_shown(const char *url, struct buf *out)
{
	const char *q = strpbrk(url, "?#");
	if (!q) {
		buf_adds(out, url);
		return;
	}
	buf_add(out, url, (size_t)(q - url));
	if (*q == '?')
		buf_adds(out, "?...");
}

bool webhook_secret_check(const char *secret, struct buf *err)
{
	size_t n = secret ? strlen(secret) : 0;
	if (n < 16 || n > 1024) {
		buf_adds(err, "the secret must be 16 to 1024 bytes");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)secret[i] < 0x20 || secret[i] == 0x7f) {
			buf_adds(err, "the secret has a control character");
			return false;
		}
	return true;
}

bool webhook_add_fields(const char *body, size_t len, struct buf *url, struct buf *secret, struct buf *kinds,
			struct buf *err)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	json_t *u = json_object_get(o, "url"), *s = json_object_get(o, "secret"), *ev = json_object_get(o, "events");
	struct buf list = BUF_INIT, canon = BUF_INIT;
	bool ok = false;
	if (!json_is_object(o) || !json_is_string(u) || !json_is_string(s) || (ev && !json_is_array(ev))) {
		buf_adds(err, "expected {\"url\":\"https://...\",\"secret\":\"...\",\"events\":[...]}");
		goto out;
	}
	size_t i;
	json_t *e;
	json_array_foreach(ev, i, e) {
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e)) {
			buf_adds(err, "events must be strings");
			goto out;
		}
		if (list.len)
			buf_addc(&list, ',');
		buf_adds(&list, json_string_value(e));
	}
	if (ev && !json_array_size(ev)) {
		buf_printf(err, "events is empty (leave it out for all: %s)", WEBHOOK_KINDS);
		goto out;
	}
	/* a NUL inside a string would cut it short further on: refused */
	if (strlen(json_string_value(u)) != json_string_length(u) || strlen(json_string_value(s)) != json_string_length(s)) {
		buf_adds(err, "a NUL in the URL or the secret");
		goto out;
	}
	if (!webhook_kinds_parse(buf_cstr(&list), &canon, err) || !webhook_url_check(json_string_value(u), err) ||
	    !webhook_secret_check(json_string_value(s), err))
		goto out;
	buf_adds(url, json_string_value(u));
	buf_adds(secret, json_string_value(s));
	buf_add(kinds, canon.data, canon.len);
	ok = true;
out:
	json_decref(o);
	buf_free(&list);
	buf_free(&canon);
	return ok;
}

int webhook_add(struct store *st, const char *url, const char *secret, const char *kinds, const char *by,
		long long now, long long *id, struct buf *err)
{
	struct buf k = BUF_INIT;
	int rc = DB_ERR;
	if (!webhook_url_check(url, err) || !webhook_kinds_parse(kinds, &k, err) || !webhook_secret_check(secret, err))
		goto out;
	struct dbv p[5] = {dv_text(url), dv_text(secret), dv_text(buf_cstr(&k)), dv_int(now), dv_text(by ? by : "")};
	struct dbc *c = db_acquire(st->db);
	*id = 0;
	rc = dbc_int(c, "INSERT INTO webhooks(url, secret, events, created, created_by) VALUES(?, ?, ?, ?, ?)"
			" RETURNING id", p, 5, 0, id);
	if (rc)
		buf_printf(err, "%s", dbc_error(c));
	db_release(st->db, c);
out:
	buf_free(&k);
	return rc;
}

/* webhook_delete / webhook_test in one transaction (store_tx) */
struct hook_op { long long id, now, found, event_id; };

static int delete_tx(struct dbc *c, void *ctx, struct buf *err)
{
	struct hook_op *o = ctx;
	struct dbv p[1] = {dv_int(o->id)};
	o->found = 0;
	int rc = dbc_int(c, "DELETE FROM webhooks WHERE id = ? RETURNING id", p, 1, 0, &o->found);
	if (rc == DB_OK && o->found)
		rc = dbc_exec(c, "UPDATE webhook_deliveries SET state = 'cancelled' WHERE webhook_id = ?"
				 " AND state = 'pending'", p, 1, NULL, NULL);
	return rc;
}

int webhook_delete(struct store *st, long long id, struct buf *err)
{
	struct hook_op o = {id, 0, 0, 0};
	return store_tx(st, delete_tx, &o, err) ? -1 : o.found ? 1 : 0;
}

static int test_tx(struct dbc *c, void *ctx, struct buf *err)
{
	struct hook_op *o = ctx;
	struct dbv p[1] = {dv_int(o->id)};
	o->found = 0;
	int rc = dbc_int(c, "SELECT id FROM webhooks WHERE id = ?", p, 1, 0, &o->found);
	if (rc == DB_OK && o->found) {
		char data[96];
		snprintf(data, sizeof data, "{\"webhook\":%lld,\"message\":\"a test from log4scan-server\"}", o->id);
		rc = webhook_event_queue(c, "test", o->now, 0, data, o->id, &o->event_id);
	}
	return rc;
}

int webhook_test(struct store *st, long long id, long long now, long long *event_id, struct buf *err)
{
	struct hook_op o = {id, now, 0, 0};
	int rc = store_tx(st, test_tx, &o, err);
	if (event_id)
		*event_id = o.event_id;
	return rc ? -1 : o.found ? 1 : 0;
}

struct list_ctx { struct buf *out; int n; };
static int list_row(void *ctx, const struct dbrow *r)
{
	struct list_ctx *l = ctx;
	struct buf *o = l->out, url = BUF_INIT;
	webhook_url_shown(dbrow_text(r, 1), &url);
	buf_printf(o, "%s{\"id\":%lld", l->n++ ? "," : "", dbrow_int(r, 0));
	jsonw_field_str(o, true, "url", buf_cstr(&url));
	buf_adds(o, ",\"events\":[");
	const char *e = dbrow_text(r, 2);
	for (bool first = true; *e; first = false) {
		size_t n = strcspn(e, ",");
		if (!first)
			buf_addc(o, ',');
		jsonw_str(o, e, n);
		e += n + (e[n] == ',');
	}
	buf_printf(o, "],\"created\":%lld", dbrow_int(r, 3));
	jsonw_field_str(o, true, "created_by", dbrow_text(r, 4));
	buf_printf(o, ",\"pending\":%lld,\"delivered\":%lld,\"failed\":%lld", dbrow_int(r, 5), dbrow_int(r, 6),
		   dbrow_int(r, 7));
	if (dbrow_type(r, 8) == DBV_NULL)
		buf_adds(o, ",\"last_attempt\":null,\"last_status\":null,\"last_error\":null}");
	else {
		buf_printf(o, ",\"last_attempt\":%lld,\"last_status\":", dbrow_int(r, 8));
		if (dbrow_type(r, 9) == DBV_NULL)
			buf_adds(o, "null");
		else
			buf_printf(o, "%lld", dbrow_int(r, 9));
		jsonw_field_str_or_null(o, true, "last_error", dbrow_type(r, 10) == DBV_NULL ? NULL : dbrow_text(r, 10));
		buf_addc(o, '}');
	}
	buf_free(&url);
	return 0;
}

int webhook_list_json(struct store *st, struct buf *out, struct buf *err)
{
	struct list_ctx l = {out, 0};
	buf_adds(out, "{\"webhooks\":[");
	int rc = store_query(st,
			     "SELECT w.id, w.url, w.events, w.created, w.created_by,"
			     " (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending'),"
			     " (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'delivered'),"
			     " (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'failed'),"
			     " l.at, l.status, l.error FROM webhooks w LEFT JOIN webhook_log l ON l.id ="
			     " (SELECT MAX(id) FROM webhook_log x WHERE x.webhook_id = w.id) ORDER BY w.id",
			     NULL, 0, list_row, &l, err);
	buf_adds(out, "]}");
	return rc;
}
