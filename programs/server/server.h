/* server.h - the collector's configuration, and struct server: what every
 * part that serves requests reaches through a request (rq->srv).
 *
 * server_main.c fills both from the command line; http.c serves them
 * (http.h); one request is struct req (http_req.h). */
#ifndef L4S_SERVER_SERVER_H
#define L4S_SERVER_SERVER_H

#include <stdbool.h>

#include "report_parse.h"

struct store;
struct ratelimit;

struct server_config {
	const char *listen;          /* host:port */
	const char *db_url;
	const char *tls_cert, *tls_key;
	bool secure_cookies;         /* TLS, or --secure-cookies behind a TLS proxy */
	int stale_days;
	int audit_days;              /* audit rows kept this many days (0: forever) */
	double rate;                 /* requests per second per token */
	double burst;
	int pool;                    /* database connections */
	int max_connections;
	int max_per_address;         /* connections from one address (0: no limit) */
	int request_timeout;         /* seconds for a request's headers and body */
	/* proxies whose X-Forwarded-For names the client (numeric, as
	 * inet_ntop writes them) */
	char trusted_proxy[16][48];
	int ntrusted_proxies;
	int session_hours;
	struct report_limits limits;
	/* webhooks (webhook.h): first retry after webhook_backoff seconds,
	 * doubling; failed after webhook_attempts attempts */
	int webhook_backoff, webhook_attempts;
};

struct server {
	struct server_config cfg;
	struct store *st;
	struct ratelimit *rl;        /* http_limit.h */
};

#endif
