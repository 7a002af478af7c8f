/* http_route.h - who may call what (see http_route.c): http.c hands every
 * request here once its body is in, and a report upload once more, before. */
#ifndef L4S_SERVER_HTTP_ROUTE_H
#define L4S_SERVER_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "http_req.h"

/* Answer the request (authenticating it first where the path needs it). */
void http_route(struct req *rq);

/* POST /api/v1/reports, when only its headers are in: false after
 * answering (401/403 not an agent token, 429, 413 larger than the report
 * limit), so an unauthenticated or oversized upload is refused before its
 * body is read; true to read the body (its buffer reserved). */
bool http_route_upload(struct req *rq);

/* Any other request under /api/v1/ but login, when only its headers are
 * in: its credentials looked up (so the connection guard, http_conn.h,
 * knows it carries some); false after answering (401, 429, 503). */
bool http_route_auth(struct req *rq);

/* The fields of a login body, {"user":"...","password":"..."} (JSON, any
 * bytes from anyone): true with both appended when both are strings,
 * the user shorter than 256 bytes and the password than 1024.  Pure, for
 * fuzz/fuzz_login.c. */
struct buf;
bool http_route_login_fields(const char *body, size_t len, struct buf *user, struct buf *pw);

#endif
