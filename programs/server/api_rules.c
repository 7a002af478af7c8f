/* api_rules.c - GET /api/v1/rules (the active rules, the re-judging in
 * progress, every rules file kept), GET /api/v1/rules/changes (what each
 * change of rules did: per CVE, how many devices became affected and how
 * many no longer are; the devices themselves are a filter of the devices
 * list, api_list.c) and POST /api/v1/rules/rollback (an admin makes rules
 * kept before active again).  See store_rules.h. */
#include "api_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_rules.h"
#include "store_team.h"

bool api_rules(struct req *rq, const char *path)
{
	int (*fn)(struct store *, struct buf *, struct buf *) =
		!strcmp(path, "rules") ? store_rules_json
		: !strcmp(path, "rules/changes") ? store_rules_changes_json
		: NULL;
	if (!fn)
		return false;
	struct buf err = BUF_INIT;
	if (fn(rq->srv->st, &rq->out, &err)) {
		buf_reset(&rq->out);
		http_req_error(rq, 500, "query failed");
	} else {
		buf_addc(&rq->out, '\n');
		rq->status = 200;
		rq->ctype = "application/json";
	}
	buf_free(&err);
	return true;
}

void api_rules_rollback(struct req *rq)
{
	json_t *body = json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, 0, NULL);
	json_t *jid = json_object_get(body, "id");
	if (!json_is_object(body) || !json_is_integer(jid) || json_integer_value(jid) < 0 || json_object_size(body) != 1) {
		json_decref(body);
		http_req_error(rq, 400, "the body must be {\"id\":N}, N a rules id of GET /api/v1/rules (0: built-in)");
		return;
	}
	long long id = (long long)json_integer_value(jid);
	json_decref(body);
	struct buf err = BUF_INIT;
	long long now = (long long)time(NULL);
	int rc = store_rules_activate_bg(rq->srv->st, id, now, &err);
	if (rc == 1) {
		http_req_error(rq, 409, "%s", buf_cstr(&err));
	} else if (rc == 2) {
		http_req_error(rq, 404, "no rules with that id");
	} else if (rc) {
		api_query_failed(rq, &err);
	} else {
		char ip[64], subject[64];
		http_req_client_ip(rq, ip, sizeof ip);
		struct store_actor who = {buf_cstr(&rq->user), ip};
		snprintf(subject, sizeof subject, "rules %lld", id);
		buf_reset(&err);
		store_audit_add(rq->srv->st, now, "rules_rollback", &who, subject, "", &err);
		rq->status = 202;
		rq->ctype = "application/json";
		buf_printf(&rq->out, "{\"target\":%lld,\"judging\":true}\n", id);
	}
	buf_free(&err);
}
