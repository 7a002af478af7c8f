/* http_req.c - the request accessors (see http_req.h): query parameters,
 * headers, cookies and the client's address from libmicrohttpd, and the
 * error answer. */
#include "http_req.h"

#include <arpa/inet.h>
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

static void remember(const char **names, int *n, int max, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(names[i], name))
			return;
	if (*n < max)
		names[(*n)++] = name;
}

const char *http_req_arg(struct req *rq, const char *name)
{
	remember(rq->args_read, &rq->nargs_read, (int)(sizeof rq->args_read / sizeof rq->args_read[0]), name);
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

static bool flag_value(const char *v, bool *on)
{
	*on = v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"));
	return !v || !*v || *on || !strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no");
}

bool http_req_flag(struct req *rq, const char *name)
{
	remember(rq->flags_read, &rq->nflags_read, (int)(sizeof rq->flags_read / sizeof rq->flags_read[0]), name);
	bool on;
	flag_value(http_req_arg(rq, name), &on);
	return on;
}

/* a parameter's name for a message: at most 64 bytes, whole characters */
static int name_len(const char *key)
{
	size_t n = strlen(key);
	if (n <= 64)
		return (int)n;
	n = 64;
	while (n && ((unsigned char)key[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

struct utf8_walk { const char *bad_key; bool bad_name; };

static enum MHD_Result arg_utf8(void *ctx, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct utf8_walk *w = ctx;
	if (key && !jsonw_utf8_valid(key, strlen(key))) {
		w->bad_name = true;
		return MHD_NO;
	}
	if (value && !jsonw_utf8_valid(value, strlen(value))) {
		w->bad_key = key;
		return MHD_NO;
	}
	return MHD_YES;
}

bool http_req_args_utf8(struct req *rq)
{
	struct utf8_walk w = {NULL, false};
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, arg_utf8, &w);
	if (w.bad_name)
		http_req_error(rq, 400, "a query parameter's name is not valid UTF-8");
	else if (w.bad_key)
		http_req_error(rq, 400, "query parameter '%.*s' is not valid UTF-8", name_len(w.bad_key), w.bad_key);
	return !w.bad_name && !w.bad_key;
}

struct args_walk {
	struct req *rq;
	int seen[64];   /* as many as args_read */
	const char *unknown, *twice, *notflag;
};

static enum MHD_Result arg_known(void *ctx, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct args_walk *w = ctx;
	struct req *rq = w->rq;
	int i = 0;
	while (i < rq->nargs_read && strcmp(rq->args_read[i], key))
		i++;
	if (i == rq->nargs_read) {
		w->unknown = key;
		return MHD_NO;
	}
	if (++w->seen[i] > 1) {
		w->twice = key;
		return MHD_NO;
	}
	for (int f = 0; f < rq->nflags_read; f++) {
		bool on;
		if (!strcmp(rq->flags_read[f], key) && !flag_value(value, &on)) {
			w->notflag = key;
			return MHD_NO;
		}
	}
	return MHD_YES;
}

/* 400 for an unknown parameter, naming those the route takes: in the text,
 * and as "parameters" (and "flags", those of them read as flags) for a
 * program (tests/t_server_openapi.py checks them against the API's
 * description) */
static void unknown_arg(struct req *rq, const char *k)
{
	struct buf msg = BUF_INIT;
	buf_printf(&msg, "unknown query parameter '%.*s' for %s", name_len(k), k, rq->url);
	for (int i = 0; i < rq->nargs_read; i++)
		buf_printf(&msg, "%s%s", i ? ", " : "; it takes: ", rq->args_read[i]);
	if (!rq->nargs_read)
		buf_adds(&msg, "; it takes none");
	http_req_error(rq, 400, "%s", buf_cstr(&msg));
	buf_free(&msg);
	rq->out.len -= 2;   /* the closing "}\n" */
	buf_adds(&rq->out, ",\"parameters\":[");
	for (int i = 0; i < rq->nargs_read; i++) {
		if (i)
			buf_addc(&rq->out, ',');
		jsonw_cstr(&rq->out, rq->args_read[i]);
	}
	buf_adds(&rq->out, "],\"flags\":[");
	for (int i = 0; i < rq->nflags_read; i++) {
		if (i)
			buf_addc(&rq->out, ',');
		jsonw_cstr(&rq->out, rq->flags_read[i]);
	}
	buf_adds(&rq->out, "]}\n");
}

void http_req_args_check(struct req *rq)
{
	if (rq->status >= 400)
		return;
	struct args_walk w = {.rq = rq};
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, arg_known, &w);
	const char *k = w.unknown ? w.unknown : w.twice ? w.twice : w.notflag;
	if (!k)
		return;
	rq->disposition = NULL;
	if (w.unknown)
		unknown_arg(rq, k);
	else if (w.twice)
		http_req_error(rq, 400, "query parameter '%.*s' given more than once", name_len(k), k);
	else
		http_req_error(rq, 400, "%.*s must be 1, true, yes, 0, false or no", name_len(k), k);
}

const char *http_req_header(struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *http_req_cookie(struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

bool http_req_addr_norm(const char *s, char *out, size_t n)
{
	unsigned char a[sizeof(struct in6_addr)];
	char tmp[INET6_ADDRSTRLEN];
	if (inet_pton(AF_INET, s, a) == 1)
		inet_ntop(AF_INET, a, tmp, sizeof tmp);
	else if (inet_pton(AF_INET6, s, a) == 1) {
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a))
			inet_ntop(AF_INET, a + 12, tmp, sizeof tmp);
		else
			inet_ntop(AF_INET6, a, tmp, sizeof tmp);
	} else
		return false;
	snprintf(out, n, "%s", tmp);
	return true;
}

bool http_req_trusted_proxy(const struct server_config *cfg, const char *addr)
{
	for (int i = 0; i < cfg->ntrusted_proxies; i++)
		if (!strcmp(cfg->trusted_proxy[i], addr))
			return true;
	return false;
}

void http_req_sockaddr_text(const void *sa_, char *out, size_t n)
{
	const struct sockaddr *sa = sa_;
	char tmp[INET6_ADDRSTRLEN] = "?";
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, tmp, sizeof tmp);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, tmp, sizeof tmp);
	if (!http_req_addr_norm(tmp, out, n))
		snprintf(out, n, "?");
}

void http_req_forwarded(const struct server_config *cfg, const char *xff, char *out, size_t n)
{
	/* right to left: each hop appended the address it saw */
	size_t end = strlen(xff);
	while (end) {
		size_t start = end;
		while (start && xff[start - 1] != ',')
			start--;
		size_t a = start, b = end;
		while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
			a++;
		while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
			b--;
		char hop[INET6_ADDRSTRLEN + 8], norm[INET6_ADDRSTRLEN];
		if (b - a >= sizeof hop)
			return;
		memcpy(hop, xff + a, b - a);
		hop[b - a] = 0;
		if (!http_req_addr_norm(hop, norm, sizeof norm))
			return;             /* not an address: the last trusted hop stands */
		snprintf(out, n, "%s", norm);
		if (!http_req_trusted_proxy(cfg, norm))
			return;
		end = start ? start - 1 : 0;
	}
}

void http_req_client_ip(struct req *rq, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	http_req_sockaddr_text(ci ? ci->client_addr : NULL, out, n);
	const char *xff = http_req_header(rq, "X-Forwarded-For");
	if (xff && http_req_trusted_proxy(&rq->srv->cfg, out))
		http_req_forwarded(&rq->srv->cfg, xff, out, n);
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
	jsonw_str(&rq->out, msg.data ? msg.data : "", msg.len);
	buf_adds(&rq->out, "}\n");
	buf_free(&msg);
}
