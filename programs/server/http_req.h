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

#include "util/buf.h"
#include "server.h"

enum auth_kind { AUTH_NONE, AUTH_AGENT, AUTH_READ, AUTH_SESSION };

struct req {
	struct server *srv;
	void *conn;                  /* struct MHD_Connection * */
	const char *method, *url;
	struct buf body;
	bool too_large;
	enum auth_kind auth;
	long long token_id, user_id;
	struct buf user, csrf;
	/* the answer */
	int status;
	const char *ctype;
	struct buf out;
	struct buf cookie;           /* Set-Cookie value, when not empty */
	const char *disposition;     /* Content-Disposition, for CSV */
	long retry_after;
};

const char *http_req_arg(struct req *rq, const char *name);
bool http_req_args_utf8(struct req *rq);    /* every query parameter (name and value) is valid UTF-8 */
const char *http_req_header(struct req *rq, const char *name);
const char *http_req_cookie(struct req *rq, const char *name);
/* the client's address, numeric ("?" when unknown) */
void http_req_client_ip(struct req *rq, char *out, size_t n);

/* Error answer {"error":"..."} */
void http_req_error(struct req *rq, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* seconds since the epoch: the clock requests are stamped and judged by */
long long http_req_now(void);

#endif
