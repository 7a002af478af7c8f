/* http.c - libmicrohttpd glue: request life cycle, limits, authentication,
 * rate limiting, routing and the headers every answer carries.
 *
 * libmicrohttpd runs one thread per connection (handlers may wait on the
 * database).  A request is seen three ways: first call (headers only; the
 * ingest endpoint is authenticated and its Content-Length checked here, so
 * an unauthenticated or oversized upload is refused before its body is
 * read), zero or more calls with body data (kept up to the report size
 * limit; a chunked body that goes over it closes the connection), and a
 * last call that dispatches.
 *
 * Who may call what:
 *   POST /api/v1/reports, GET /api/v1/reports/known   agent token (Bearer)
 *   GET  /api/v1/...                                   read token or session
 *   POST /api/v1/login                                 anyone (rate limited per IP)
 *   POST /api/v1/logout                                session + CSRF header
 *   GET  / and /assets/...                             anyone (static files)
 * An unknown or revoked token is 401; a known token used outside its role is
 * 403; a session can never submit reports; more than --rate requests per
 * second (bucket of --burst) from one token is 429 with Retry-After. */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "auth.h"
#include "jsonw.h"

long long now_s(void) { return (long long)time(NULL); }

/* ---- rate limiting: token buckets keyed by a short string ---- */

#define RL_SLOTS 4096
#define RL_PROBE 8
struct rl_slot { char key[72]; double tokens, last; };
struct ratelimit {
	pthread_mutex_t mu;
	struct rl_slot s[RL_SLOTS];
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 0 allowed; otherwise the seconds to wait */
static long rl_take(struct ratelimit *rl, const char *key, double rate, double burst)
{
	if (rate <= 0)
		return 0;
	unsigned h = 2166136261u;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	double now = mono();
	long wait = 0;
	pthread_mutex_lock(&rl->mu);
	struct rl_slot *slot = NULL, *oldest = NULL;
	for (int k = 0; k < RL_PROBE; k++) {
		struct rl_slot *s = &rl->s[(h + (unsigned)k) % RL_SLOTS];
		if (!strcmp(s->key, key)) {
			slot = s;
			break;
		}
		if (!oldest || s->last < oldest->last)
			oldest = s;
	}
	if (!slot) {
		slot = oldest;
		snprintf(slot->key, sizeof slot->key, "%s", key);
		slot->tokens = burst;
		slot->last = now;
	}
	slot->tokens += (now - slot->last) * rate;
	if (slot->tokens > burst)
		slot->tokens = burst;
	slot->last = now;
	if (slot->tokens >= 1)
		slot->tokens -= 1;
	else
		wait = (long)((1 - slot->tokens) / rate) + 1;
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

/* ---- token cache: a token seen in the last TOKEN_TTL seconds is not
 * looked up again (revoking a token takes effect within that time) ---- */

#define TOKEN_SLOTS 1024
#define TOKEN_TTL 10.0
struct token_cache {
	pthread_mutex_t mu;
	struct { char hash[65]; long long id; char role[16]; double until; } s[TOKEN_SLOTS];
};
static struct token_cache tcache = {PTHREAD_MUTEX_INITIALIZER, {{"", 0, "", 0}}};

static int token_lookup(struct server *srv, const char *hash, long long *id, char role[16], struct buf *err)
{
	unsigned slot = (unsigned)strtoul((char[9]){hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7], 0},
					  NULL, 16) % TOKEN_SLOTS;
	double now = mono();
	pthread_mutex_lock(&tcache.mu);
	if (!strcmp(tcache.s[slot].hash, hash) && tcache.s[slot].until > now) {
		*id = tcache.s[slot].id;
		memcpy(role, tcache.s[slot].role, 16);
		pthread_mutex_unlock(&tcache.mu);
		return 1;
	}
	pthread_mutex_unlock(&tcache.mu);
	int found = store_token_lookup(srv->st, hash, id, role, err);
	if (found == 1) {
		pthread_mutex_lock(&tcache.mu);
		memcpy(tcache.s[slot].hash, hash, 65);
		tcache.s[slot].id = *id;
		memcpy(tcache.s[slot].role, role, 16);
		tcache.s[slot].until = now + TOKEN_TTL;
		pthread_mutex_unlock(&tcache.mu);
	}
	return found;
}

/* ---- request helpers ---- */

const char *req_arg(struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result arg_utf8(void *ctx, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	bool *ok = ctx;
	if ((key && !utf8_valid(key, strlen(key))) || (value && !utf8_valid(value, strlen(value)))) {
		*ok = false;
		return MHD_NO;
	}
	return MHD_YES;
}

bool req_args_utf8(struct req *rq)
{
	bool ok = true;
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, arg_utf8, &ok);
	return ok;
}

const char *req_header(struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

void req_error(struct req *rq, int status, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	rq->status = status;
	rq->ctype = "application/json";
	buf_reset(&rq->out);
	buf_adds(&rq->out, "{\"error\":");
	json_str(&rq->out, msg.data ? msg.data : "", msg.len);
	buf_adds(&rq->out, "}\n");
	buf_free(&msg);
}

static void client_ip(struct req *rq, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, n, "?");
	if (ci && ci->client_addr) {
		socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								      : sizeof(struct sockaddr_in);
		getnameinfo(ci->client_addr, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST);
	}
}

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
	const char *authz = req_header(rq, "Authorization");
	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) || strlen(authz + 7) > 256) {
			req_error(rq, 401, "Authorization must be \"Bearer <token>\"");
			return false;
		}
		const char *tok = authz + 7;
		while (*tok == ' ')
			tok++;
		char hex[65], role[16];
		auth_sha256_hex(tok, strlen(tok), hex);
		int found = token_lookup(srv, hex, &rq->token_id, role, &err);
		buf_free(&err);
		if (found < 0) {
			req_error(rq, 503, "database unavailable");
			return false;
		}
		if (!found) {
			req_error(rq, 401, "unknown or revoked token");
			return false;
		}
		rq->auth = !strcmp(role, "agent") ? AUTH_AGENT : AUTH_READ;
		char key[32];
		snprintf(key, sizeof key, "t%lld", rq->token_id);
		long wait = rl_take(srv->rl, key, srv->cfg.rate, srv->cfg.burst);
		if (wait) {
			rq->retry_after = wait;
			req_error(rq, 429, "too many requests for this token; retry after %ld s", wait);
			return false;
		}
		return true;
	}
	const char *sid = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, cookie_name(srv));
	if (sid && strlen(sid) == 64) {
		char hex[65];
		auth_sha256_hex(sid, strlen(sid), hex);
		int found = store_session_get(srv->st, hex, now_s(), &rq->user_id, &rq->user, &rq->csrf, &err);
		if (found > 0)
			rq->auth = AUTH_SESSION;
	}
	buf_free(&err);
	return true;
}

/* State changes by a session: the CSRF token in a header (which another
 * site cannot set without a CORS preflight we never allow), and an Origin,
 * when the browser sends one, that is this server. */
static bool same_origin(struct req *rq)
{
	const char *origin = req_header(rq, "Origin"), *host = req_header(rq, "Host");
	if (!origin)
		return true;
	if (!host)
		return false;
	const char *p = strstr(origin, "://");
	return p && !strcmp(p + 3, host);
}

static void do_login(struct req *rq)
{
	struct server *srv = rq->srv;
	char ip[64], key[80];
	client_ip(rq, ip, sizeof ip);
	snprintf(key, sizeof key, "login:%s", ip);
	long wait = rl_take(srv->rl, key, 0.2, 10);
	if (wait) {
		rq->retry_after = wait;
		req_error(rq, 429, "too many login attempts; retry after %ld s", wait);
		return;
	}
	const char *ct = req_header(rq, "Content-Type");
	if (!ct || strncmp(ct, "application/json", 16) || !same_origin(rq)) {
		req_error(rq, 403, "login must be a same-origin JSON request");
		return;
	}
	struct buf user = BUF_INIT, pw = BUF_INIT, hash = BUF_INIT, err = BUF_INIT;
	if (!json_login_fields(buf_cstr(&rq->body), rq->body.len, &user, &pw)) {
		req_error(rq, 400, "expected {\"user\":\"...\",\"password\":\"...\"}");
		goto out;
	}
	long long uid = 0;
	int found = store_user_get(srv->st, buf_cstr(&user), &uid, &hash, &err);
	if (found < 0) {
		req_error(rq, 503, "database unavailable");
		goto out;
	}
	/* verify against a dummy hash for unknown users: same cost either way */
	static const char dummy[] = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
				    "0Ybkcb3V2hWQs5lZDAjV9bTrDQRG0wqvkKs4Lm3xTyE";
	bool ok = auth_password_verify(found ? buf_cstr(&hash) : dummy, buf_cstr(&pw)) && found;
	if (!ok) {
		req_error(rq, 401, "wrong user name or password");
		goto out;
	}
	char sid[65], csrf[65], sidhash[65];
	if (auth_random_hex(sid, 32) || auth_random_hex(csrf, 32)) {
		req_error(rq, 500, "no randomness");
		goto out;
	}
	auth_sha256_hex(sid, 64, sidhash);
	long long now = now_s(), ttl = (long long)srv->cfg.session_hours * 3600;
	if (store_session_add(srv->st, sidhash, uid, csrf, now, now + ttl, &err)) {
		req_error(rq, 503, "database unavailable");
		goto out;
	}
	buf_printf(&rq->cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", cookie_name(srv), sid, ttl,
		   srv->cfg.secure_cookies ? "; Secure" : "");
	rq->status = 200;
	rq->ctype = "application/json";
	buf_adds(&rq->out, "{\"user\":");
	json_cstr(&rq->out, buf_cstr(&user));
	buf_printf(&rq->out, ",\"csrf\":\"%s\"}\n", csrf);
out:
	buf_free(&user);
	buf_free(&pw);
	buf_free(&hash);
	buf_free(&err);
}

static void do_logout(struct req *rq)
{
	const char *sid = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, cookie_name(rq->srv));
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

static void route(struct req *rq)
{
	const char *url = rq->url;
	bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	bool post = !strcmp(rq->method, "POST");
	if (strncmp(url, "/api/", 5)) {
		if (!get) {
			req_error(rq, 405, "method not allowed");
			return;
		}
		if (!dashboard_serve(rq, url))
			req_error(rq, 404, "not found");
		return;
	}
	if (strncmp(url, "/api/v1/", 8)) {
		req_error(rq, 404, "unknown API version");
		return;
	}
	const char *p = url + 8;
	if (!strcmp(p, "login")) {
		if (!post)
			req_error(rq, 405, "use POST");
		else
			do_login(rq);
		return;
	}
	if (rq->auth == AUTH_NONE && !authenticate(rq))
		return;
	if (!strcmp(p, "reports") && !get) {
		if (!post)
			req_error(rq, 405, "use POST");
		else if (rq->auth == AUTH_AGENT)
			api_ingest(rq);
		else if (rq->auth == AUTH_NONE)
			req_error(rq, 401, "an agent token is required (Authorization: Bearer ...)");
		else
			req_error(rq, 403, "only agent tokens may submit reports");
		return;
	}
	if (!strcmp(p, "reports/known")) {
		if (!get)
			req_error(rq, 405, "use GET");
		else if (rq->auth == AUTH_AGENT || rq->auth == AUTH_READ)
			api_known(rq);
		else if (rq->auth == AUTH_NONE)
			req_error(rq, 401, "a token is required");
		else
			req_error(rq, 403, "a token is required");
		return;
	}
	if (!strcmp(p, "logout")) {
		const char *tok = req_header(rq, "X-CSRF-Token");
		if (!post)
			req_error(rq, 405, "use POST");
		else if (rq->auth != AUTH_SESSION)
			req_error(rq, 401, "not logged in");
		else if (!tok || !auth_ct_equal(tok, buf_cstr(&rq->csrf)) || !same_origin(rq))
			req_error(rq, 403, "missing or wrong CSRF token");
		else
			do_logout(rq);
		return;
	}
	if (!get) {
		req_error(rq, 405, "method not allowed");
		return;
	}
	if (rq->auth == AUTH_NONE) {
		req_error(rq, 401, "login or a read token is required");
		return;
	}
	if (rq->auth == AUTH_AGENT) {
		req_error(rq, 403, "agent tokens cannot read the dashboard API");
		return;
	}
	if (!strcmp(p, "session")) {
		if (rq->auth != AUTH_SESSION) {
			req_error(rq, 403, "not a session");
			return;
		}
		rq->status = 200;
		rq->ctype = "application/json";
		buf_adds(&rq->out, "{\"user\":");
		json_cstr(&rq->out, buf_cstr(&rq->user));
		buf_printf(&rq->out, ",\"csrf\":\"%s\"}\n", buf_cstr(&rq->csrf));
		return;
	}
	api_get(rq, p);
}

/* ---- libmicrohttpd callbacks ---- */

struct server_http {
	struct MHD_Daemon *d;
	struct server *srv;
	char *cert, *key;
};

static const char CSP[] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
			  " connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none';"
			  " form-action 'self'";

static enum MHD_Result respond(struct req *rq)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(rq->out.len, rq->out.len ? rq->out.data : (void *)"",
								 MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", rq->ctype ? rq->ctype : "application/json");
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (rq->srv->cfg.tls_cert)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
	if (rq->cookie.len)
		MHD_add_response_header(r, "Set-Cookie", buf_cstr(&rq->cookie));
	if (rq->disposition)
		MHD_add_response_header(r, "Content-Disposition", rq->disposition);
	if (rq->retry_after) {
		char s[32];
		snprintf(s, sizeof s, "%ld", rq->retry_after);
		MHD_add_response_header(r, "Retry-After", s);
	}
	if (rq->status == 401 && !strncmp(rq->url, "/api/", 5))
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"log4scan\"");
	enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)(rq->status ? rq->status : 500), r);
	MHD_destroy_response(r);
	return ret;
}

#define BODY_RESERVE_MAX (1024 * 1024)

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	struct req *rq = *con_cls;
	if (!rq) {
		rq = xcalloc(1, sizeof *rq);
		rq->srv = srv;
		rq->conn = conn;
		rq->method = method;
		rq->url = url;
		*con_cls = rq;
		/* refuse an upload before reading it */
		if (!strcmp(method, "POST") && !strcmp(url, "/api/v1/reports")) {
			if (!authenticate(rq))
				return respond(rq);
			if (rq->auth != AUTH_AGENT) {
				req_error(rq, rq->auth == AUTH_NONE ? 401 : 403,
					  rq->auth == AUTH_NONE ? "an agent token is required (Authorization: Bearer ...)"
								: "only agent tokens may submit reports");
				return respond(rq);
			}
			const char *cl = req_header(rq, "Content-Length");
			unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
			if (len > srv->cfg.limits.max_bytes) {
				req_error(rq, 413, "report is larger than %zu bytes", srv->cfg.limits.max_bytes);
				return respond(rq);
			}
			/* the body in one allocation, not a dozen growing ones; a
			 * claimed length is a claim, so at most 1 MiB up front */
			if (len)
				buf_reserve(&rq->body, (size_t)(len < BODY_RESERVE_MAX ? len : BODY_RESERVE_MAX));
		}
		return MHD_YES;
	}
	if (rq->status) {          /* already answered; drop any body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t max = !strcmp(url, "/api/v1/reports") ? srv->cfg.limits.max_bytes : 64 * 1024;
		if (rq->body.len + *upload_size > max) {
			rq->too_large = true;
			return MHD_NO;     /* close the connection */
		}
		buf_add(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	route(rq);
	return respond(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	if (!rq)
		return;
	buf_free(&rq->body);
	buf_free(&rq->out);
	buf_free(&rq->user);
	buf_free(&rq->csrf);
	buf_free(&rq->cookie);
	free(rq);
	*con_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	fputs("log4scan-server: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static char *slurp(const char *path, struct buf *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		buf_printf(err, "cannot read %s", path);
		return NULL;
	}
	struct buf b = BUF_INIT;
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(&b, tmp, n);
	fclose(f);
	buf_cstr(&b);
	return buf_detach(&b);
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, struct buf *err)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof host) {
		buf_printf(err, "--listen must be HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)");
		return -1;
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535) {
		buf_printf(err, "bad port in --listen %s", s);
		return -1;
	}
	char *h = host;
	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = 0;
		h++;
	}
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, h, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
	} else if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
	} else {
		buf_printf(err, "--listen needs a numeric address, not %s", h);
		return -1;
	}
	return 0;
}

struct server_http *http_start(struct server *srv, struct buf *err)
{
	struct sockaddr_storage ss;
	if (parse_listen(srv->cfg.listen, &ss, err))
		return NULL;
	struct server_http *h = xcalloc(1, sizeof *h);
	h->srv = srv;
	srv->rl = xcalloc(1, sizeof *srv->rl);
	pthread_mutex_init(&srv->rl->mu, NULL);
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			 MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (srv->cfg.tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			buf_printf(err, "this libmicrohttpd has no TLS support; use a TLS reverse proxy");
			goto fail;
		}
		if (!(h->cert = slurp(srv->cfg.tls_cert, err)) || !(h->key = slurp(srv->cfg.tls_key, err)))
			goto fail;
		flags |= MHD_USE_TLS;
	}
	struct MHD_OptionItem opts[] = {
		{MHD_OPTION_SOCK_ADDR, 0, &ss},
		{MHD_OPTION_CONNECTION_LIMIT, srv->cfg.max_connections, NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
		{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
		{MHD_OPTION_END, 0, NULL},
	};
	if (!h->cert)
		opts[4].option = opts[5].option = MHD_OPTION_END;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
				MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!h->d) {
		buf_printf(err, "cannot listen on %s (address in use, or TLS key/certificate not usable)", srv->cfg.listen);
		goto fail;
	}
	return h;
fail:
	pthread_mutex_destroy(&srv->rl->mu);
	free(srv->rl);
	srv->rl = NULL;
	free(h->cert);
	free(h->key);
	free(h);
	return NULL;
}

unsigned http_port(struct server_http *h)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	return i ? i->port : 0;
}

void http_stop(struct server_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->srv->rl->mu);
	free(h->srv->rl);
	h->srv->rl = NULL;
	free(h->cert);
	free(h->key);
	free(h);
}
