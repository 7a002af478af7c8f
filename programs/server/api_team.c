/* api_team.c - the admin's routes (issue 20 point 9): the audit log, users,
 * tokens, and devices retired or deleted.
 *
 *   GET    audit?kind=K&since=T&actor=A   the audit log, newest first (paged, CSV)
 *   GET    users, tokens                  the accounts (no secret, no hash)
 *   POST   users {"name","password","role"}     a user (role: admin | viewer)
 *   POST   users/NAME/role {"role"}       its role
 *   DELETE users/NAME                     a user and its sessions
 *   POST   tokens {"name","role"}         a token (agent | read | metrics), shown once
 *   POST   tokens/NAME/revoke             the active token of that name
 *   DELETE tokens/NAME                    every token of that name
 *   POST   devices/ID/retire, devices/ID/unretire
 *   DELETE devices/ID
 * Only an admin's session reaches them (http_route.c: 401 without
 * credentials, 403 for a viewer, a read or agent token; a change needs the
 * session's CSRF header and a same-origin request).  Each change is written
 * to the audit log with the admin's name and address (store_team.h). */
#include "api_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "store_team.h"
#include "util/jsonw.h"

int api_team_match(const char *path, const char *method)
{
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST"),
	     del = !strcmp(method, "DELETE");
	if (!strcmp(path, "audit") || !strcmp(path, "users") || !strcmp(path, "tokens"))
		return get ? 1 : post && strcmp(path, "audit") ? 2 : -1;
	/* users/NAME and tokens/NAME: DELETE; users/NAME/role and
	 * tokens/NAME/revoke: POST; anything else under them: no such endpoint */
	bool users = !strncmp(path, "users/", 6);
	if (users || !strncmp(path, "tokens/", 7)) {
		const char *slash = strchr(path + (users ? 6 : 7), '/');
		if (!slash)
			return del ? 2 : -1;
		if (!strcmp(slash, users ? "/role" : "/revoke"))
			return post ? 2 : -1;
		return 0;
	}
	if (!strncmp(path, "devices/", 8)) {
		const char *slash = strchr(path + 8, '/');
		if (slash && (!strcmp(slash, "/retire") || !strcmp(slash, "/unretire")))
			return post ? 2 : -1;
		if (!slash && del)
			return 2;
	}
	return 0;
}

bool api_retired_arg(struct req *rq, struct qb *q, const char *retired_col, const char *device_col, bool by_device)
{
	const char *v = api_arg(rq, "retired");
	bool only = v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"));
	bool all = v && !strcmp(v, "all");
	if (v && !only && !all && strcmp(v, "0") && strcmp(v, "false") && strcmp(v, "no")) {
		http_req_error(rq, 400, "retired must be 0 (the default), 1 (only retired devices) or all");
		return false;
	}
	/* one device's rows (device=ID) are its history, retired or not (a
	 * list without a device filter does not read the parameter, so that
	 * it stays unknown there: a 400) */
	if (all || (!v && by_device && api_arg(rq, "device")))
		return true;
	struct buf c = BUF_INIT;
	if (retired_col)
		buf_printf(&c, "%s %s 0", retired_col, only ? "<>" : "=");
	else
		buf_printf(&c, "%s %s (SELECT id FROM devices WHERE retired <> 0)", device_col, only ? "IN" : "NOT IN");
	qb_cond(q, buf_cstr(&c), 0);
	buf_free(&c);
	return true;
}

static void answer_json(struct req *rq, int status)
{
	rq->status = status;
	rq->ctype = "application/json";
}

static void audit_list(struct req *rq)
{
	const char *kind = api_arg(rq, "kind"), *actor = api_arg(rq, "actor"), *since = api_arg(rq, "since");
	long long t = 0;
	if (since && !api_parse_num(since, &t)) {
		http_req_error(rq, 400, "since must be a time in seconds since the epoch");
		return;
	}
	store_audit_sync(rq->srv->st);
	struct qb q = {0};
	buf_adds(&q.sql, "SELECT id, at, kind, actor, subject, client, detail, count FROM audit");
	if (kind)
		qb_cond(&q, "kind = ?", 1, dv_text(kind));
	if (actor)
		qb_cond(&q, "actor = ?", 1, dv_text(actor));
	if (since)
		qb_cond(&q, "at >= ?", 1, dv_int(t));
	api_run_list(rq, &q, "at DESC, id DESC", "audit");
	qb_free(&q);
}

static void accounts_list(struct req *rq, bool users)
{
	struct qb q = {0};
	buf_adds(&q.sql, users ? "SELECT u.name, u.role, u.created, (SELECT MAX(a.at) FROM audit a"
				 " WHERE a.kind = 'login' AND a.subject = u.name) AS last_login FROM users u"
			       : "SELECT id, name, role, created, last_used, revoked FROM tokens");
	api_run_list(rq, &q, users ? "u.name" : "id", users ? "users" : "tokens");
	qb_free(&q);
}

/* a string member of the body, NULL when absent or not a string */
static const char *member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool name_ok(struct req *rq, const char *name, const char *what)
{
	if (!name || !*name || strlen(name) > 128) {
		http_req_error(rq, 400, "%s needs a name of 1 to 128 bytes", what);
		return false;
	}
	return true;
}

/* a refusal from store_team (its message) or a database failure */
static void refused(struct req *rq, struct buf *err)
{
	const char *m = buf_cstr(err);
	bool missing = !strncmp(m, "no ", 3);
	bool conflict = strstr(m, "exists") || strstr(m, "last admin");
	if (missing || conflict || strstr(m, "role"))
		http_req_error(rq, missing ? 404 : conflict ? 409 : 400, "%s", m);
	else
		api_query_failed(rq, err);
}

static void ok_body(struct req *rq, const char *key, const char *value)
{
	buf_adds(&rq->out, "{\"ok\":true,");
	jsonw_field_str(&rq->out, false, key, value);
	buf_adds(&rq->out, "}\n");
	answer_json(rq, 200);
}

static void user_change(struct req *rq, const char *path, const struct store_actor *who, json_t *body)
{
	struct buf err = BUF_INIT, hash = BUF_INIT;
	const char *name = path + 6;
	if (!strcmp(path, "users")) {
		name = member(body, "name");
		const char *pw = member(body, "password"), *role = member(body, "role");
		char given[16] = "";
		if (!name_ok(rq, name, "a user"))
			goto out;
		if (!pw || strlen(pw) < 8 || strlen(pw) > 1000) {
			http_req_error(rq, 400, "a password of 8 to 1000 bytes is required");
			goto out;
		}
		if (auth_password_hash(pw, &hash, &err))
			api_query_failed(rq, &err);
		else if (store_user_save(rq->srv->st, name, buf_cstr(&hash), role ? role : "viewer", false, who, given,
					 &err))
			refused(rq, &err);
		else
			ok_body(rq, "role", given);
		goto out;
	}
	const char *slash = strchr(name, '/');
	if (slash && !strcmp(slash, "/role") && !strcmp(rq->method, "POST")) {
		char n[129];
		snprintf(n, sizeof n, "%.*s", (int)(slash - name), name);
		if (store_user_role(rq->srv->st, n, member(body, "role"), who, &err))
			refused(rq, &err);
		else
			ok_body(rq, "role", member(body, "role"));
	} else if (!slash && !strcmp(rq->method, "DELETE")) {
		if (store_user_delete(rq->srv->st, name, false, who, &err))
			refused(rq, &err);
		else
			ok_body(rq, "deleted", name);
	} else {
		http_req_error(rq, 404, "no such endpoint");
	}
out:
	buf_free(&err);
	buf_free(&hash);
}

static void token_change(struct req *rq, const char *path, const struct store_actor *who, json_t *body)
{
	struct buf err = BUF_INIT, tok = BUF_INIT;
	const char *name = path + 7, *slash = strchr(name, '/');
	if (!strcmp(path, "tokens")) {
		name = member(body, "name");
		const char *role = member(body, "role") ? member(body, "role") : "agent";
		char hex[65];
		if (!name_ok(rq, name, "a token"))
			goto out;
		if (auth_new_token(&tok)) {
			http_req_error(rq, 500, "no randomness");
			goto out;
		}
		auth_sha256_hex(tok.data, tok.len, hex);
		if (store_token_create(rq->srv->st, name, role, hex, http_req_now(), who, &err)) {
			refused(rq, &err);
			goto out;
		}
		/* shown once: only its hash is kept */
		buf_adds(&rq->out, "{");
		jsonw_field_str(&rq->out, false, "name", name);
		jsonw_field_str(&rq->out, true, "role", role);
		jsonw_field_str(&rq->out, true, "token", buf_cstr(&tok));
		buf_adds(&rq->out, "}\n");
		answer_json(rq, 201);
	} else if (slash && !strcmp(slash, "/revoke") && !strcmp(rq->method, "POST")) {
		char n[129];
		snprintf(n, sizeof n, "%.*s", (int)(slash - name), name);
		if (store_token_revoke_by(rq->srv->st, n, http_req_now(), who, &err))
			refused(rq, &err);
		else
			ok_body(rq, "revoked", n);
	} else if (!slash && !strcmp(rq->method, "DELETE")) {
		if (store_token_delete(rq->srv->st, name, who, &err))
			refused(rq, &err);
		else
			ok_body(rq, "deleted", name);
	} else {
		http_req_error(rq, 404, "no such endpoint");
	}
out:
	buf_free(&err);
	buf_free(&tok);
}

static void device_change(struct req *rq, const char *path, const struct store_actor *who)
{
	const char *idtext = path + 8, *slash = strchr(idtext, '/');
	char num[24];
	long long id;
	snprintf(num, sizeof num, "%.*s", (int)(slash ? slash - idtext : (long)strlen(idtext)), idtext);
	if (!api_parse_num(num, &id)) {
		http_req_error(rq, 404, "no such device");
		return;
	}
	struct buf err = BUF_INIT;
	bool changed = true;
	int found = slash ? store_device_retire(rq->srv->st, id, !strcmp(slash, "/retire"), http_req_now(), who,
						&changed, &err)
			  : store_device_delete(rq->srv->st, id, http_req_now(), who, &err);
	if (found < 0)
		api_query_failed(rq, &err);
	else if (!found)
		http_req_error(rq, 404, "no such device");
	else {
		buf_printf(&rq->out, "{\"id\":%lld,\"%s\":true,\"changed\":%s}\n", id,
			   !slash ? "deleted" : !strcmp(slash, "/retire") ? "retired" : "active", changed ? "true" : "false");
		answer_json(rq, 200);
	}
	buf_free(&err);
}

void api_team(struct req *rq, const char *path)
{
	bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	if (get) {
		if (!strcmp(path, "audit"))
			audit_list(rq);
		else
			accounts_list(rq, !strcmp(path, "users"));
		return;
	}
	char ip[64];
	http_req_client_ip(rq, ip, sizeof ip);
	struct store_actor who = {buf_cstr(&rq->user), ip};
	if (!strncmp(path, "devices/", 8)) {
		device_change(rq, path, &who);
		return;
	}
	json_t *body = NULL;
	if (rq->body.len) {
		body = json_loadb(rq->body.data, rq->body.len, 0, NULL);
		if (!json_is_object(body)) {
			json_decref(body);
			http_req_error(rq, 400, "the body must be a JSON object");
			return;
		}
	}
	if (!strncmp(path, "users", 5))
		user_change(rq, path, &who, body);
	else
		token_change(rq, path, &who, body);
	json_decref(body);
}
