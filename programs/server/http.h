/* http.h - the collector's HTTP server (libmicrohttpd, see http.c): start it
 * on cfg.listen, ask which port it got, stop it. */
#ifndef L4S_SERVER_HTTP_H
#define L4S_SERVER_HTTP_H

#include "util/buf.h"
#include "server.h"

struct server_http;
struct server_http *http_start(struct server *srv, struct buf *err);
void http_stop(struct server_http *h);
unsigned http_port(struct server_http *h);

#endif
