/* http.c - the collector's HTTP server: libmicrohttpd's daemon and
 * callbacks, a request's life cycle, and the headers every answer carries.
 *
 * libmicrohttpd runs one thread per connection (handlers may wait on the
 * database).  A request is seen three ways: first call (headers only; an
 * upload to the ingest endpoint is authenticated and its Content-Length
 * checked then, by http_route_upload(), so an unauthenticated or oversized
 * upload is refused before its body is read), zero or more calls with body
 * data (kept up to the report size limit; a chunked body that goes over it
 * closes the connection), and a last call that hands the request to
 * http_route() and sends its answer. */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api.h"
#include "http_conn.h"
#include "http_limit.h"
#include "http_req.h"
#include "http_route.h"
#include "metrics.h"

/* ---- libmicrohttpd callbacks ---- */

struct server_http {
	struct MHD_Daemon *d;
	struct server *srv;
	struct conn_guard *guard;
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
	int status = rq->status ? rq->status : 500;
	metrics_request(status);
	metrics_route_time(rq->url, metrics_now_ns() - rq->t0);
	if (!strcmp(rq->method, "POST") && !strcmp(rq->url, "/api/v1/reports"))
		metrics_report_answered(status);
	enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

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
		rq->t0 = metrics_now_ns();
		*con_cls = rq;
		/* refuse an upload before reading it; look credentials up now,
		 * so that the connection guard knows which requests have them */
		bool fine = true;
		if (!strcmp(method, "POST") && !strcmp(url, "/api/v1/reports"))
			fine = http_route_upload(rq);
		else if ((!strncmp(url, "/api/v1/", 8) && strcmp(url, "/api/v1/login")) || !strcmp(url, "/metrics"))
			fine = http_route_auth(rq);
		if (rq->auth != AUTH_NONE)
			http_conn_authed(conn);
		return fine ? MHD_YES : respond(rq);
	}
	if (rq->status) {          /* already answered; drop any body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t max = !strcmp(url, "/api/v1/reports") ? srv->cfg.limits.max_bytes : 64 * 1024;
		if (rq->body.len + *upload_size > max) {
			rq->too_large = true;
			if (!strcmp(url, "/api/v1/reports"))
				metrics_report_refused(REFUSED_TOO_LARGE);
			return MHD_NO;     /* close the connection */
		}
		buf_add(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	http_conn_received(conn);
	http_route(rq);
	return respond(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	if (!rq)
		return;
	http_conn_next(conn);
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
	srv->rl = http_limit_new();
	metrics_start();
	api_metrics_routes();
	if (!(h->guard = http_conn_start(&srv->cfg))) {
		buf_printf(err, "cannot start the connection watchdog thread");
		goto fail;
	}
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
		/* idle; http_conn.c keeps the total deadline of a request */
		{MHD_OPTION_CONNECTION_TIMEOUT, srv->cfg.request_timeout, NULL},
		{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
		{MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)http_conn_notify, h->guard},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
		{MHD_OPTION_END, 0, NULL},
	};
	if (!h->cert)
		opts[5].option = opts[6].option = MHD_OPTION_END;
	h->d = MHD_start_daemon(flags, 0, http_conn_accept, h->guard, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
				MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!h->d) {
		buf_printf(err, "cannot listen on %s (address in use, or TLS key/certificate not usable)", srv->cfg.listen);
		goto fail;
	}
	return h;
fail:
	http_conn_stop(h->guard);
	http_limit_free(srv->rl);
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
	http_conn_stop(h->guard);
	http_limit_free(h->srv->rl);
	h->srv->rl = NULL;
	free(h->cert);
	free(h->key);
	free(h);
}
