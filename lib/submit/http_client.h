/* http_client.h - the agent's one HTTP request, behind a small interface.
 *
 * The agent talks HTTP only for --submit, so the transport is loaded only
 * then: on Linux, http_curl.c dlopen()s libcurl (libcurl.so.4) the first
 * time it is needed, so a scan that submits nothing never maps libcurl and
 * its TLS, Kerberos and LDAP stack (about 10 MB of start-up and 25 shared
 * objects).  The caller loads it before installing the seccomp sandbox. */
#ifndef L4S_HTTP_CLIENT_H
#define L4S_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct http_request {
	const char *url;            /* absolute http:// or https:// URL */
	const char *const *headers; /* "Name: value" lines, NULL-terminated */
	const char *body;           /* POST body; NULL for GET */
	size_t body_len;
	const char *cacert;         /* PEM bundle, NULL: the system CAs */
	bool insecure;              /* do not verify TLS (testing only) */
	long timeout_s;             /* whole request */
	size_t max_answer;          /* longer answers fail the request */
};

/* Load the transport (idempotent, thread-safe).  0, or -1 with the reason
 * in msg (e.g. libcurl is not installed). */
int http_load(struct buf *msg);

/* One request.  Returns the HTTP status with the answer's body appended to
 * answer, or 0 when no answer came (the reason, naming the URL, in msg). */
long http_request(const struct http_request *r, struct buf *answer, struct buf *msg);

#endif
