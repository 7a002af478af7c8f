/* http_req.h - one HTTP request as the collector's parts see it: what it
 * asks (method, URL, query parameters, headers, cookies, body), who asks
 * (the credentials http_route.c found), and the answer a handler fills in
 * (status, content type, body, extra headers).
 *
 * The bottom of the HTTP side, and all that the handlers (api_*.c,
 * dashboard.c) share with it: http.c makes a request and sends its answer,
 * adding the security headers to every one; http_route.c decides who may
 * call what and calls a handler. */
#ifndef L4S_SERVER_HTTP_REQ_H
#define L4S_SERVER_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "server.h"

/* AUTH_METRICS: a token of role metrics, for GET /metrics only */
enum auth_kind { AUTH_NONE, AUTH_AGENT, AUTH_READ, AUTH_SESSION, AUTH_METRICS };

struct req {
	struct server *srv;
	void *conn;                  /* struct MHD_Connection * */
	const char *method, *url;
	uint64_t t0;                 /* when the request began (metrics_now_ns) */
	struct buf body;
	bool too_large;
	enum auth_kind auth;
	long long token_id, user_id;
	struct buf user, csrf;
	bool admin;                  /* a session of an admin (store_team.h) */
	/* the answer */
	int status;
	const char *ctype;
	struct buf out;
	struct buf cookie;           /* Set-Cookie value, when not empty */
	const char *disposition;     /* Content-Disposition, for CSV */
	long retry_after;
	/* the query parameters a handler asked for (http_req_arg): any other
	 * is refused as unknown (http_req_args_check) */
	const char *args_read[64];
	int nargs_read;
	/* those read as flags (1/true/yes or 0/false/no) */
	const char *flags_read[32];
	int nflags_read;
	bool authed_early;           /* authenticate() ran on the first call (http.c) */
};

/* A query parameter (NULL when absent); the name is remembered as one this
 * request's handler knows. */
const char *http_req_arg(struct req *rq, const char *name);
/* The same, read as a flag: "1", "true", "yes" true; absent, empty, "0",
 * "false", "no" false; anything else is refused by http_req_args_check. */
bool http_req_flag(struct req *rq, const char *name);
/* Every query parameter (name and value) is valid UTF-8: false after
 * answering 400 naming the first that is not. */
bool http_req_args_utf8(struct req *rq);
/* After a handler: a query parameter it never asked for, one given twice,
 * or a flag that is not a flag replaces its answer with a 400 naming the
 * parameter (a misspelt filter must not look like an answer).  An answer
 * that is already an error is kept. */
void http_req_args_check(struct req *rq);
const char *http_req_header(struct req *rq, const char *name);
const char *http_req_cookie(struct req *rq, const char *name);
/* The client's address, numeric ("?" when unknown): the connection's peer,
 * or, when the peer is a --trusted-proxy, the rightmost address of
 * X-Forwarded-For that is not a trusted proxy itself (a header a client
 * sends straight to the server is ignored; one that names no valid address
 * leaves the peer). */
void http_req_client_ip(struct req *rq, char *out, size_t n);
/* The client an X-Forwarded-For value names, out holding the trusted peer it
 * came from: out becomes the rightmost hop that is not a trusted proxy (or
 * stays the last trusted one when a hop is not an address). */
void http_req_forwarded(const struct server_config *cfg, const char *xff, char *out, size_t n);
/* A numeric IPv4 or IPv6 address in its canonical text (an IPv4-mapped
 * IPv6 address as IPv4); false when s is not one. */
bool http_req_addr_norm(const char *s, char *out, size_t n);
/* addr (canonical) is one of cfg's trusted proxies */
bool http_req_trusted_proxy(const struct server_config *cfg, const char *addr);
/* A socket address in canonical text ("?" when unknown). */
void http_req_sockaddr_text(const void *sa, char *out, size_t n);

/* Error answer {"error":"..."} */
void http_req_error(struct req *rq, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* seconds since the epoch: the clock requests are stamped and judged by */
long long http_req_now(void);

#endif
