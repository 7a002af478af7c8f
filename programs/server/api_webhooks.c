/* api_webhooks.c - the webhooks API (webhook.h):
 *   GET  webhooks                      the targets (never their secrets) with
 *                                      their deliveries pending / delivered /
 *                                      failed and the last attempt
 *   GET  webhooks/log[?webhook=ID]     the delivery log, newest first: one row
 *                                      per attempt (time, target, event, HTTP
 *                                      status or error); paged, format=csv
 *   GET  webhooks/events               the events queued, newest first
 *   POST webhooks                      add {"url":..,"secret":..,"events":[..]}
 *   POST webhooks/ID/delete            delete (pending deliveries cancelled)
 *   POST webhooks/ID/test              queue a test event for that target
 * The POSTs are admin actions: http_route.c lets them through only after
 * its route_admin() check. */
#include "api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook.h"

static void answer_json(struct req *rq, int status)
{
	rq->status = status;
	rq->ctype = "application/json";
}

bool api_webhooks_get(struct req *rq, const char *path)
{
	if (!strcmp(path, "webhooks")) {
		struct buf err = BUF_INIT;
		if (webhook_list_json(rq->srv->st, &rq->out, &err)) {
			buf_reset(&rq->out);
			api_query_failed(rq, &err);
		} else {
			buf_addc(&rq->out, '\n');
			answer_json(rq, 200);
		}
		buf_free(&err);
		return true;
	}
	if (!strcmp(path, "webhooks/log")) {
		struct qb q = {0};
		buf_adds(&q.sql, "SELECT id, at, webhook_id, url, event_id, kind AS event, delivery_id, attempt, status,"
				 " error FROM webhook_log");
		const char *w = api_arg(rq, "webhook");
		long long id;
		if (w && !api_parse_num(w, &id)) {
			http_req_error(rq, 400, "webhook must be a webhook id");
			qb_free(&q);
			return true;
		}
		if (w)
			qb_cond(&q, "webhook_id = ?", 1, dv_int(id));
		api_run_list(rq, &q, "id DESC", "webhook-log");
		qb_free(&q);
		return true;
	}
	if (!strcmp(path, "webhooks/events")) {
		struct qb q = {0};
		buf_adds(&q.sql, "SELECT e.id, e.kind AS event, e.created, e.device_id, e.data_json,"
				 " (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.event_id = e.id) AS deliveries"
				 " FROM webhook_events e");
		const char *k = api_arg(rq, "event");
		if (k)
			qb_cond(&q, "e.kind = ?", 1, dv_text(k));
		api_run_list(rq, &q, "e.id DESC", "webhook-events");
		qb_free(&q);
		return true;
	}
	return false;
}

static void add(struct req *rq)
{
	struct buf url = BUF_INIT, secret = BUF_INIT, kinds = BUF_INIT, err = BUF_INIT;
	long long id = 0;
	if (!webhook_add_fields(rq->body.data ? rq->body.data : "", rq->body.len, &url, &secret, &kinds, &err))
		http_req_error(rq, 400, "%s", buf_cstr(&err));
	else if (webhook_add(rq->srv->st, buf_cstr(&url), buf_cstr(&secret), buf_cstr(&kinds), buf_cstr(&rq->user),
			     http_req_now(), &id, &err))
		api_query_failed(rq, &err);
	else {
		fprintf(stderr, "log4scan-server: webhook %lld added by %s\n", id, buf_cstr(&rq->user));
		buf_printf(&rq->out, "{\"id\":%lld}\n", id);
		answer_json(rq, 201);
	}
	if (secret.data)
		memset(secret.data, 0, secret.len);
	buf_free(&url);
	buf_free(&secret);
	buf_free(&kinds);
	buf_free(&err);
}

bool api_webhooks_get_only(const char *path)
{
	return !strcmp(path, "webhooks/log") || !strcmp(path, "webhooks/events");
}

void api_webhooks_post(struct req *rq, const char *path)
{
	if (!strcmp(path, "webhooks")) {
		add(rq);
		return;
	}
	long long id = 0;
	char *end = NULL;
	if (strncmp(path, "webhooks/", 9) || !(id = strtoll(path + 9, &end, 10)) || id < 0 ||
	    (strcmp(end, "/delete") && strcmp(end, "/test"))) {
		http_req_error(rq, 404, "no such endpoint");
		return;
	}
	struct buf err = BUF_INIT;
	bool del = !strcmp(end, "/delete");
	long long event = 0;
	int found = del ? webhook_delete(rq->srv->st, id, &err) : webhook_test(rq->srv->st, id, http_req_now(), &event, &err);
	if (found < 0)
		api_query_failed(rq, &err);
	else if (!found)
		http_req_error(rq, 404, "no such webhook");
	else {
		fprintf(stderr, "log4scan-server: webhook %lld %s by %s\n", id, del ? "deleted" : "tested", buf_cstr(&rq->user));
		if (del)
			buf_printf(&rq->out, "{\"deleted\":%lld}\n", id);
		else
			buf_printf(&rq->out, "{\"test_event\":%lld}\n", event);
		answer_json(rq, 200);
	}
	buf_free(&err);
}
