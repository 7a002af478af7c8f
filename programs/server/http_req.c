/* http_req.c - the request accessors (see http_req.h): query parameters,
 * headers, cookies and the client's address from libmicrohttpd, and the
 * error answer. */
#include "http_req.h"

#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/jsonw.h"

long long http_req_now(void) { return (long long)time(NULL); }

const char *http_req_arg(struct req *rq, const char *name)
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

bool http_req_args_utf8(struct req *rq)
{
	bool ok = true;
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, arg_utf8, &ok);
	return ok;
}

const char *http_req_header(struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *http_req_cookie(struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

void http_req_client_ip(struct req *rq, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, n, "?");
	if (ci && ci->client_addr) {
		socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								      : sizeof(struct sockaddr_in);
		getnameinfo(ci->client_addr, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST);
	}
}

void http_req_error(struct req *rq, int status, const char *fmt, ...)
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
