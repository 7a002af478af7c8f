/* http_route.c - who may call what: authentication (tokens, sessions), rate
 * limits, login and logout, and the routing to the handlers.
 *
 *   POST /api/v1/reports, GET /api/v1/reports/known   agent token (Bearer)
 *   GET  /api/v1/...                                   read token or session
 *   POST /api/v1/login                                 anyone (limited per client
 *                                                      address and per account)
 *   POST /api/v1/logout                                session + CSRF header
 *   POST /api/v1/webhooks[/ID/delete|/ID/test]          an admin's session + CSRF header
 *                                                      (route_admin)
 *   audit, users, tokens, devices/ID/retire ...        an admin's session (+ CSRF
 *                                                      header for a change; api_team.c)
 *   GET  / and /assets/...                             anyone (static files)
 *   GET  /api/v1/openapi.json                          anyone (the API's description)
 *   GET  /metrics                                      metrics token (Bearer) only
 * An unknown or revoked token is 401; a known token used outside its role is
 * 403; a session can never submit reports; more than --rate requests per
 * second (bucket of --burst) from one token is 429 with Retry-After.
 * Credentials are looked up as soon as the headers are in (http_route_auth,
 * http_route_upload), so that the connection guard (http_conn.h) knows which
 * connections carry them. */
#include "http_route.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "dashboard.h"
#include "http_limit.h"
#include "util/jsonw.h"
#include "store.h"
#include "store_team.h"

static const char *cookie_name(struct server *srv)
{
	return srv->cfg.secure_cookies ? "__Host-l4s_session" : "l4s_session";
}

/* Resolve the credentials the request carries.  Returns false after
 * answering (401 / 429). */
static bool authenticate(struct req *rq)
{
	struct server *srv = rq->srv;
	struct buf err = BUF_INIT;
	const char *authz = http_req_header(rq, "Authorization");
	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) || strlen(authz + 7) > 256) {
			http_req_error(rq, 401, "Authorization must be \"Bearer <token>\"");
			return false;
		}
		const char *tok = authz + 7;
		while (*tok == ' ')
			tok++;
		char hex[65], role[16];
		auth_sha256_hex(tok, strlen(tok), hex);
		int found = http_limit_token(srv, hex, &rq->token_id, role, &err);
		buf_free(&err);
		if (found < 0) {
			http_req_error(rq, 503, "database unavailable");
			return false;
		}
		if (!found) {
			http_req_error(rq, 401, "unknown or revoked token");
			return false;
		}
		rq->auth = !strcmp(role, "agent") ? AUTH_AGENT : !strcmp(role, "metrics") ? AUTH_METRICS : AUTH_READ;
		char key[32];
		snprintf(key, sizeof key, "t%lld", rq->token_id);
		long wait = http_limit_take(srv->rl, key, srv->cfg.rate, srv->cfg.burst);
		if (wait) {
			rq->retry_after = wait;
			http_req_error(rq, 429, "too many requests for this token; retry after %ld s", wait);
			return false;
		}
		return true;
	}
	const char *sid = http_req_cookie(rq, cookie_name(srv));
	if (sid && strlen(sid) == 64) {
		char hex[65];
		auth_sha256_hex(sid, strlen(sid), hex);
		char role[16];
		int found = store_session_get(srv->st, hex, http_req_now(), &rq->user_id, &rq->user, &rq->csrf, role, &err);
		if (found > 0) {
			rq->auth = AUTH_SESSION;
			rq->admin = !strcmp(role, "admin");
		}
	}
	buf_free(&err);
	return true;
}

bool http_route_auth(struct req *rq)
{
	rq->authed_early = true;
	return authenticate(rq);
}

#define BODY_RESERVE_MAX (1024 * 1024)

bool http_route_upload(struct req *rq)
{
	struct server *srv = rq->srv;
	rq->authed_early = true;
	if (!authenticate(rq))
		return false;
	if (rq->auth != AUTH_AGENT) {
		http_req_error(rq, rq->auth == AUTH_NONE ? 401 : 403,
			       rq->auth == AUTH_NONE ? "an agent token is required (Authorization: Bearer ...)"
						     : "only agent tokens may submit reports");
		return false;
	}
	const char *cl = http_req_header(rq, "Content-Length");
	unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
	if (len > srv->cfg.limits.max_bytes) {
		http_req_error(rq, 413, "report is larger than %zu bytes", srv->cfg.limits.max_bytes);
		return false;
	}
	/* the body in one allocation, not a dozen growing ones; a claimed
	 * length is a claim, so at most 1 MiB up front */
	if (len)
		buf_reserve(&rq->body, (size_t)(len < BODY_RESERVE_MAX ? len : BODY_RESERVE_MAX));
	return true;
}

/* State changes by a session: the CSRF token in a header (which another
 * site cannot set without a CORS preflight we never allow), and an Origin,
 * when the browser sends one, that is this server. */
static bool same_origin(struct req *rq)
{
	const char *origin = http_req_header(rq, "Origin"), *host = http_req_header(rq, "Host");
	if (!origin)
		return true;
	if (!host)
		return false;
	const char *p = strstr(origin, "://");
	return p && !strcmp(p + 3, host);
}

/* {"user":..,"password":..} from a login body (http_route.h) */
bool http_route_login_fields(const char *body, size_t len, struct buf *user, struct buf *pw)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	json_t *u = json_object_get(o, "user"), *p = json_object_get(o, "password");
	bool ok = json_is_string(u) && json_is_string(p) && json_string_length(u) < 256 && json_string_length(p) < 1024;
	if (ok) {
		buf_adds(user, json_string_value(u));
		buf_adds(pw, json_string_value(p));
	}
	json_decref(o);
	return ok;
}

/* Login limits.  Per client address (http_req_client_ip: X-Forwarded-For
 * only from a --trusted-proxy): every attempt takes from a bucket of 10
 * refilled at one per 5 s.  Per account: failures take from a bucket of 20
 * refilled at one per 30 s; when it is empty the account is locked, but
 * only against the addresses that have themselves failed for it (3 failures,
 * one back per minute): a correct password from an address without
 * failures of its own is never refused because of other addresses'
 * failures.  A lockout is logged once, when it begins. */
#define LOGIN_ADDR_RATE 0.2
#define LOGIN_ADDR_BURST 10
#define LOGIN_ACCT_RATE (1.0 / 30)
#define LOGIN_ACCT_BURST 20
#define LOGIN_PAIR_RATE (1.0 / 60)
#define LOGIN_PAIR_BURST 3

/* a user name for the log: printable ASCII, at most 64 bytes */
static void log_name(const char *s, char out[68])
{
	size_t i = 0;
	for (; s[i] && i < 64; i++)
		out[i] = s[i] > 0x20 && s[i] < 0x7f && s[i] != '\\' && s[i] != '"' ? s[i] : '?';
	out[i] = 0;
	if (s[i])
		memcpy(out + 64, "...", 4);
}

/* a lockout is logged when it begins, and again at most every 10 minutes
 * while it lasts (an attacker must not fill the log) */
static bool log_now(struct ratelimit *rl, const char *key)
{
	char k[96];
	snprintf(k, sizeof k, "l%s", key);
	return !http_limit_take(rl, k, 1.0 / 600, 1);
}

/* an audit row about a login (issue 20 point 9): the user name as given,
 * the client's address; a failure to write it is logged, not answered */
static void login_audit(struct req *rq, const char *kind, const char *user, const char *ip, const char *detail)
{
	struct buf err = BUF_INIT;
	struct store_actor who = {strcmp(kind, "login") ? "" : user, ip};
	if (store_audit_add(rq->srv->st, http_req_now(), kind, &who, user, detail, &err))
		fprintf(stderr, "log4scan-server: audit: %s\n", buf_cstr(&err));
	buf_free(&err);
}

static void login_failed(struct req *rq, const char *user, const char *ip, const char *akey, const char *pkey)
{
	struct ratelimit *rl = rq->srv->rl;
	char name[68];
	login_audit(rq, "login_failed", user, ip, "");
	if (!http_limit_take(rl, akey, LOGIN_ACCT_RATE, LOGIN_ACCT_BURST) &&
	    http_limit_wait(rl, akey, LOGIN_ACCT_RATE, LOGIN_ACCT_BURST) && log_now(rl, akey)) {
		log_name(user, name);
		fprintf(stderr, "log4scan-server: login: account \"%s\" locked after %d failed logins (the last from %s):"
			" addresses that failed for it wait, others may still log in\n", name, LOGIN_ACCT_BURST, ip);
		login_audit(rq, "lockout", user, ip, "account locked against the addresses that failed for it");
	}
	if (!http_limit_take(rl, pkey, LOGIN_PAIR_RATE, LOGIN_PAIR_BURST) &&
	    http_limit_wait(rl, pkey, LOGIN_PAIR_RATE, LOGIN_PAIR_BURST) &&
	    http_limit_wait(rl, akey, LOGIN_ACCT_RATE, LOGIN_ACCT_BURST) && log_now(rl, pkey)) {
		log_name(user, name);
		fprintf(stderr, "log4scan-server: login: %s locked out of account \"%s\" after %d failures\n", ip, name,
			LOGIN_PAIR_BURST);
		login_audit(rq, "lockout", user, ip, "this address locked out of the account");
	}
}

static void do_login(struct req *rq)
{
	struct server *srv = rq->srv;
	char ip[64], key[80], akey[80], pkey[80], hex[65];
	http_req_client_ip(rq, ip, sizeof ip);
	snprintf(key, sizeof key, "login:%s", ip);
	long wait = http_limit_take(srv->rl, key, LOGIN_ADDR_RATE, LOGIN_ADDR_BURST);
	if (wait) {
		rq->retry_after = wait;
		http_req_error(rq, 429, "too many login attempts from %s; retry after %ld s", ip, wait);
		return;
	}
	if (http_limit_wait(srv->rl, key, LOGIN_ADDR_RATE, LOGIN_ADDR_BURST) && log_now(srv->rl, key))
		fprintf(stderr, "log4scan-server: login: %s used its %d attempts; one more each %d s\n", ip,
			LOGIN_ADDR_BURST, (int)(1 / LOGIN_ADDR_RATE));
	const char *ct = http_req_header(rq, "Content-Type");
	if (!ct || strncmp(ct, "application/json", 16) || !same_origin(rq)) {
		http_req_error(rq, 403, "login must be a same-origin JSON request");
		return;
	}
	struct buf user = BUF_INIT, pw = BUF_INIT, hash = BUF_INIT, err = BUF_INIT, pair = BUF_INIT;
	if (!http_route_login_fields(buf_cstr(&rq->body), rq->body.len, &user, &pw)) {
		http_req_error(rq, 400, "expected {\"user\":\"...\",\"password\":\"...\"}");
		goto out;
	}
	/* bucket keys of a fixed size whatever the name */
	auth_sha256_hex(user.data, user.len, hex);
	snprintf(akey, sizeof akey, "a:%s", hex);
	buf_printf(&pair, "%s", ip);
	buf_addc(&pair, 0);
	buf_add(&pair, user.data, user.len);
	auth_sha256_hex(pair.data, pair.len, hex);
	snprintf(pkey, sizeof pkey, "p:%s", hex);
	if (http_limit_wait(srv->rl, akey, LOGIN_ACCT_RATE, LOGIN_ACCT_BURST) &&
	    (wait = http_limit_wait(srv->rl, pkey, LOGIN_PAIR_RATE, LOGIN_PAIR_BURST))) {
		rq->retry_after = wait;
		http_req_error(rq, 429, "too many failed logins for this account from %s; retry after %ld s", ip, wait);
		goto out;
	}
	long long uid = 0;
	int found = store_user_get(srv->st, buf_cstr(&user), &uid, &hash, &err);
	if (found < 0) {
		http_req_error(rq, 503, "database unavailable");
		goto out;
	}
	/* verify against a dummy hash for unknown users: same cost either way */
	static const char dummy[] = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
				    "0Ybkcb3V2hWQs5lZDAjV9bTrDQRG0wqvkKs4Lm3xTyE";
	bool ok = auth_password_verify(found ? buf_cstr(&hash) : dummy, buf_cstr(&pw)) && found;
	if (!ok) {
		login_failed(rq, buf_cstr(&user), ip, akey, pkey);
		http_req_error(rq, 401, "wrong user name or password");
		goto out;
	}
	char sid[65], csrf[65], sidhash[65];
	if (auth_random_hex(sid, 32) || auth_random_hex(csrf, 32)) {
		http_req_error(rq, 500, "no randomness");
		goto out;
	}
	auth_sha256_hex(sid, 64, sidhash);
	long long now = http_req_now(), ttl = (long long)srv->cfg.session_hours * 3600;
	if (store_session_add(srv->st, sidhash, uid, csrf, now, now + ttl, &err)) {
		http_req_error(rq, 503, "database unavailable");
		goto out;
	}
	buf_printf(&rq->cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", cookie_name(srv), sid, ttl,
		   srv->cfg.secure_cookies ? "; Secure" : "");
	login_audit(rq, "login", buf_cstr(&user), ip, "");
	/* the role the session has (the dashboard shows an admin's controls) */
	char role[16] = "";
	long long suid = 0;
	struct buf su = BUF_INIT, sc = BUF_INIT;
	store_session_get(srv->st, sidhash, now, &suid, &su, &sc, role, &err);
	buf_free(&su);
	buf_free(&sc);
	rq->status = 200;
	rq->ctype = "application/json";
	buf_adds(&rq->out, "{\"user\":");
	jsonw_cstr(&rq->out, buf_cstr(&user));
	buf_printf(&rq->out, ",\"csrf\":\"%s\",\"role\":\"%s\"}\n", csrf, strcmp(role, "admin") ? "viewer" : "admin");
out:
	buf_free(&pair);
	buf_free(&user);
	buf_free(&pw);
	buf_free(&hash);
	buf_free(&err);
}

/* ADMIN-ONLY routes call this first (one call each, marked "ADMIN-ONLY"):
 * an admin's session with its CSRF token and a same-origin request
 * (tokens never manage anything; viewers read only).  false after
 * answering. */
static bool route_admin(struct req *rq)
{
	const char *tok = http_req_header(rq, "X-CSRF-Token");
	if (rq->auth == AUTH_NONE)
		http_req_error(rq, 401, "login required");
	else if (rq->auth != AUTH_SESSION || !rq->admin)
		http_req_error(rq, 403, "only an admin may do this (tokens and viewers cannot manage the server)");
	else if (!tok || !auth_ct_equal(tok, buf_cstr(&rq->csrf)) || !same_origin(rq))
		http_req_error(rq, 403, "missing or wrong CSRF token");
	else
		return true;
	return false;
}

static void do_logout(struct req *rq)
{
	const char *sid = http_req_cookie(rq, cookie_name(rq->srv));
	char hex[65];
	struct buf err = BUF_INIT;
	auth_sha256_hex(sid, strlen(sid), hex);
	store_session_del(rq->srv->st, hex, &err);
	buf_free(&err);
	buf_printf(&rq->cookie, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s", cookie_name(rq->srv),
		   rq->srv->cfg.secure_cookies ? "; Secure" : "");
	rq->status = 200;
	rq->ctype = "application/json";
	buf_adds(&rq->out, "{\"logged_out\":true}\n");
}

void http_route(struct req *rq)
{
	const char *url = rq->url;
	bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	bool post = !strcmp(rq->method, "POST");
	if (!strcmp(url, "/metrics")) {
		if (rq->auth == AUTH_NONE && !rq->authed_early && !authenticate(rq))
			return;
		if (!get)
			http_req_error(rq, 405, "use GET");
		else if (rq->auth == AUTH_NONE)
			http_req_error(rq, 401, "a metrics token is required (Authorization: Bearer ...)");
		else if (rq->auth != AUTH_METRICS)
			http_req_error(rq, 403, "only metrics tokens may read /metrics");
		else if (http_req_args_utf8(rq)) {
			api_metrics(rq);
			http_req_args_check(rq);
		}
		return;
	}
	if (strncmp(url, "/api/", 5)) {
		if (!get) {
			http_req_error(rq, 405, "method not allowed");
			return;
		}
		if (!dashboard_serve(rq, url))
			http_req_error(rq, 404, "not found");
		return;
	}
	if (strncmp(url, "/api/v1/", 8)) {
		http_req_error(rq, 404, "unknown API version");
		return;
	}
	const char *p = url + 8;
	if (!strcmp(p, "openapi.json")) {
		if (!get)
			http_req_error(rq, 405, "use GET");
		else if (http_req_args_utf8(rq)) {
			api_openapi(rq);
			http_req_args_check(rq);
		}
		return;
	}
	if (!strcmp(p, "login")) {
		if (!post)
			http_req_error(rq, 405, "use POST");
		else
			do_login(rq);
		return;
	}
	if (rq->auth == AUTH_NONE && !rq->authed_early && !authenticate(rq))
		return;
	if (!strcmp(p, "reports") && !get) {
		if (!post)
			http_req_error(rq, 405, "use POST");
		else if (rq->auth == AUTH_AGENT)
			api_ingest(rq);
		else if (rq->auth == AUTH_NONE)
			http_req_error(rq, 401, "an agent token is required (Authorization: Bearer ...)");
		else
			http_req_error(rq, 403, "only agent tokens may submit reports");
		return;
	}
	if (!strcmp(p, "reports/known")) {
		if (!get)
			http_req_error(rq, 405, "use GET");
		else if (rq->auth == AUTH_AGENT || rq->auth == AUTH_READ) {
			if (http_req_args_utf8(rq)) {
				api_known(rq);
				http_req_args_check(rq);
			}
		}
		else if (rq->auth == AUTH_NONE)
			http_req_error(rq, 401, "a token is required");
		else
			http_req_error(rq, 403, "a token is required");
		return;
	}
	if (!strcmp(p, "rules/active")) {
		if (!get)
			http_req_error(rq, 405, "use GET");
		else if (rq->auth == AUTH_METRICS)
			http_req_error(rq, 403, "metrics tokens read /metrics only");
		else if (rq->auth != AUTH_NONE) {
			if (http_req_args_utf8(rq)) {
				api_rules_active(rq);
				http_req_args_check(rq);
			}
		}
		else
			http_req_error(rq, 401, "a token is required");
		return;
	}
	if (!strcmp(p, "logout")) {
		const char *tok = http_req_header(rq, "X-CSRF-Token");
		if (!post)
			http_req_error(rq, 405, "use POST");
		else if (rq->auth != AUTH_SESSION)
			http_req_error(rq, 401, "not logged in");
		else if (!tok || !auth_ct_equal(tok, buf_cstr(&rq->csrf)) || !same_origin(rq))
			http_req_error(rq, 403, "missing or wrong CSRF token");
		else
			do_logout(rq);
		return;
	}
	/* webhook targets: add, delete, test (api_webhooks.c) - ADMIN-ONLY */
	if (!strcmp(p, "rules/rollback")) {   /* issue 22: an admin's session, with its CSRF token */
		if (!post)
			http_req_error(rq, 405, "use POST");
		else if (route_admin(rq))
			api_rules_rollback(rq);
		return;
	}
	if (post && !strncmp(p, "webhooks", 8) && (!p[8] || p[8] == '/')) {
		if (api_webhooks_get_only(p))
			http_req_error(rq, 405, "use GET");
		else if (route_admin(rq))
			api_webhooks_post(rq, p);
		return;
	}
	/* issue 20 point 9: an admin's session only (api_team.c) */
	int team = api_team_match(p, rq->method);
	if (team) {
		const char *tok = http_req_header(rq, "X-CSRF-Token");
		if (team < 0)
			http_req_error(rq, 405, "method not allowed");
		else if (rq->auth == AUTH_NONE)
			http_req_error(rq, 401, "login as an admin");
		else if (rq->auth != AUTH_SESSION || !rq->admin)
			http_req_error(rq, 403, "only an admin may do this");
		else if (team == 2 && (!tok || !auth_ct_equal(tok, buf_cstr(&rq->csrf)) || !same_origin(rq)))
			http_req_error(rq, 403, "missing or wrong CSRF token");
		else if (http_req_args_utf8(rq)) {
			api_team(rq, p);
			http_req_args_check(rq);
		}
		return;
	}
	if (!get) {
		http_req_error(rq, 405, "method not allowed");
		return;
	}
	if (rq->auth == AUTH_NONE) {
		http_req_error(rq, 401, "login or a read token is required");
		return;
	}
	if (rq->auth == AUTH_AGENT) {
		http_req_error(rq, 403, "agent tokens cannot read the dashboard API");
		return;
	}
	if (rq->auth == AUTH_METRICS) {
		http_req_error(rq, 403, "metrics tokens read /metrics only");
		return;
	}
	if (!strcmp(p, "session")) {
		if (rq->auth != AUTH_SESSION) {
			http_req_error(rq, 403, "not a session");
			return;
		}
		rq->status = 200;
		rq->ctype = "application/json";
		buf_adds(&rq->out, "{\"user\":");
		jsonw_cstr(&rq->out, buf_cstr(&rq->user));
		buf_printf(&rq->out, ",\"csrf\":\"%s\",\"role\":\"%s\"}\n", buf_cstr(&rq->csrf),
			   rq->admin ? "admin" : "viewer");
		http_req_args_check(rq);
		return;
	}
	/* filters are compared with stored text, which is valid UTF-8 (and
	 * PostgreSQL refuses a parameter that is not): say so instead of a 500 */
	if (!http_req_args_utf8(rq))
		return;
	api_get(rq, p);
	http_req_args_check(rq);
}
