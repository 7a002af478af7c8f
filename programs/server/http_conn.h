/* http_conn.h - what keeps slow clients from taking every connection (see
 * http_conn.c): a total deadline for each request's headers and body, a
 * limit of connections per client address, and a share of the connection
 * slots kept for requests that carry a token or a session.
 *
 * http.c gives these to libmicrohttpd (the accept policy and the
 * connection notifications) and tells the guard where each connection's
 * request stands. */
#ifndef L4S_SERVER_HTTP_CONN_H
#define L4S_SERVER_HTTP_CONN_H

#include <microhttpd.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "server.h"

struct conn_guard;

/* The guard for cfg (max_connections, max_per_address, request_timeout,
 * trusted proxies), with its watchdog thread running; NULL when the thread
 * cannot start. */
struct conn_guard *http_conn_start(const struct server_config *cfg);
void http_conn_stop(struct conn_guard *g);

/* libmicrohttpd's accept policy (cls: the guard): MHD_NO when the address
 * already holds max_per_address connections (a trusted proxy never does).
 * When connections without credentials fill their share (all slots but a
 * quarter), the one of them that has waited longest for its request is
 * closed to make room. */
enum MHD_Result http_conn_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION (cls: the guard). */
void http_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode code);

/* The connection's request carries valid credentials: it is no longer one
 * that may be closed to make room. */
void http_conn_authed(struct MHD_Connection *c);
/* Its request is in (headers and body): the deadline stops. */
void http_conn_received(struct MHD_Connection *c);
/* Its answer is sent: the next request on it starts a new deadline, without
 * credentials until it shows them. */
void http_conn_next(struct MHD_Connection *c);

#endif
