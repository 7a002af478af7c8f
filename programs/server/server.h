/* server.h - what the collector's parts share: the configuration, one
 * HTTP request as the handlers see it, and the handlers' entry points.
 *
 * http.c owns the request life cycle (libmicrohttpd), authentication and
 * rate limits, then calls api_*() for /api/v1/... and dashboard_serve() for
 * the embedded dashboard.  Handlers fill in status, content type and body;
 * http.c adds the security headers to every answer. */
#ifndef L4S_SERVER_SERVER_H
#define L4S_SERVER_SERVER_H

#include <pthread.h>
#include <stdbool.h>

#include "buf.h"
#include "report_parse.h"
#include "store.h"

struct ratelimit;

struct server_config {
	const char *listen;          /* host:port */
	const char *db_url;
	const char *tls_cert, *tls_key;
	bool secure_cookies;         /* TLS, or --secure-cookies behind a TLS proxy */
	int stale_days;
	double rate;                 /* requests per second per token */
	double burst;
	int pool;                    /* database connections */
	int max_connections;
	int session_hours;
	struct ingest_limits limits;
};

struct server {
	struct server_config cfg;
	struct store *st;
	struct ratelimit *rl;
};

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

const char *req_arg(struct req *rq, const char *name);
bool req_args_utf8(struct req *rq);    /* every query parameter (name and value) is valid UTF-8 */
const char *req_header(struct req *rq, const char *name);

/* Error answer {"error":"..."} */
void req_error(struct req *rq, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* api.c */
void api_ingest(struct req *rq);
void api_known(struct req *rq);
void api_get(struct req *rq, const char *path);   /* path after /api/v1/ */

/* {"user":..,"password":..} from a login body (api.c) */
bool json_login_fields(const char *body, size_t len, struct buf *user, struct buf *pw);

/* dashboard.c: false when the path is not a dashboard asset */
bool dashboard_serve(struct req *rq, const char *path);

/* http.c */
struct server_http;
struct server_http *http_start(struct server *srv, struct buf *err);
void http_stop(struct server_http *h);
unsigned http_port(struct server_http *h);

long long now_s(void);

#endif
