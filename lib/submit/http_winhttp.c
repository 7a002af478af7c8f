/* http_winhttp.c - http_request() over WinHTTP, the Windows transport
 * (see http_client.h; lib/submit/http_curl.c is the Linux one).
 *
 * WinHTTP is part of Windows (winhttp.dll, there since XP SP1), so the
 * agent ships no HTTP or TLS library: certificates are checked against the
 * machine's certificate store (a collector signed by an internal CA is
 * trusted once Group Policy or Intune puts that CA in Trusted Root, as for
 * every Windows program; there is no --cacert), and the proxy is the
 * system's: automatic (WPAD and the configured script) on Windows 8.1 and
 * later, the `netsh winhttp set proxy` setting before.  Redirects are not
 * followed, like libcurl's setup on Linux.  Every failure comes back as a
 * message naming the URL and the WinHTTP error. */
#include "submit/http_client.h"

#include <windows.h>
#include <winhttp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#ifndef L4S_VERSION
#define L4S_VERSION "0.0.0"
#endif
#ifndef WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY
#define WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY 4
#endif

int http_load(struct buf *msg)
{
	(void)msg; /* winhttp.dll is imported: it is there, or the program would not have started */
	return 0;
}

static wchar_t *widen(const char *s, size_t n)
{
	int w = MultiByteToWideChar(CP_UTF8, 0, s, (int)n, NULL, 0);
	wchar_t *out = xcalloc((size_t)w + 1, sizeof *out);
	if (w > 0)
		MultiByteToWideChar(CP_UTF8, 0, s, (int)n, out, w);
	return out;
}

/* The WinHTTP errors an operator meets, in words; others by number. */
static void say_error(struct buf *msg, const char *url, const char *what, DWORD e)
{
	static const struct {
		DWORD code;
		const char *text;
	} known[] = {
		{ERROR_WINHTTP_CANNOT_CONNECT, "cannot connect"},
		{ERROR_WINHTTP_CONNECTION_ERROR, "the connection was reset"},
		{ERROR_WINHTTP_NAME_NOT_RESOLVED, "the host name does not resolve"},
		{ERROR_WINHTTP_TIMEOUT, "timed out"},
		{ERROR_WINHTTP_SECURE_FAILURE, "the TLS certificate is not trusted by this machine (or the "
					       "TLS handshake failed)"},
		{ERROR_WINHTTP_SECURE_INVALID_CA, "the certificate's CA is not in this machine's trusted roots"},
		{ERROR_WINHTTP_SECURE_CERT_CN_INVALID, "the certificate does not name this host"},
		{ERROR_WINHTTP_SECURE_CERT_DATE_INVALID, "the certificate has expired or is not valid yet"},
		{ERROR_WINHTTP_INVALID_URL, "not a valid URL"},
		{ERROR_WINHTTP_UNRECOGNIZED_SCHEME, "only http:// and https:// URLs are supported"},
		{ERROR_WINHTTP_INVALID_SERVER_RESPONSE, "the server's answer is not HTTP"},
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (known[i].code == e) {
			buf_printf(msg, "submit: %s: %s (WinHTTP %s, error %lu)\n", url, known[i].text, what,
				   (unsigned long)e);
			return;
		}
	}
	buf_printf(msg, "submit: %s: WinHTTP %s failed (error %lu)\n", url, what, (unsigned long)e);
}

/* all of "Name: value" lines, CRLF-separated, as one wide string */
static wchar_t *header_block(const char *const *headers)
{
	struct buf b = BUF_INIT;
	for (const char *const *p = headers; p && *p; p++) {
		buf_adds(&b, *p);
		buf_adds(&b, "\r\n");
	}
	wchar_t *w = widen(b.data ? b.data : "", b.len);
	buf_free(&b);
	return w;
}

static HINTERNET open_session(long timeout_s)
{
	const wchar_t *agent = L"log4scan/" L4S_VERSION;
	HINTERNET s = WinHttpOpen(agent, WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY, WINHTTP_NO_PROXY_NAME,
				  WINHTTP_NO_PROXY_BYPASS, 0);
	if (!s) /* before Windows 8.1: the configured WinHTTP proxy, if any */
		s = WinHttpOpen(agent, WINHTTP_ACCESS_TYPE_DEFAULT_PROXY, WINHTTP_NO_PROXY_NAME,
				WINHTTP_NO_PROXY_BYPASS, 0);
	if (s) {
		int total = (int)(timeout_s > 0 ? timeout_s : 60) * 1000;
		WinHttpSetTimeouts(s, total, total < 15000 ? total : 15000, total, total);
	}
	return s;
}

long http_request(const struct http_request *r, struct buf *answer, struct buf *msg)
{
	long status = 0;
	wchar_t *url = widen(r->url, strlen(r->url)), *headers = header_block(r->headers);
	wchar_t host[256], path[4096];
	URL_COMPONENTS u;
	memset(&u, 0, sizeof u);
	u.dwStructSize = sizeof u;
	u.lpszHostName = host;
	u.dwHostNameLength = sizeof host / sizeof host[0];
	u.lpszUrlPath = path;
	u.dwUrlPathLength = sizeof path / sizeof path[0];
	u.dwSchemeLength = (DWORD)-1;
	u.dwExtraInfoLength = (DWORD)-1;
	HINTERNET s = NULL, c = NULL, q = NULL;
	if (!WinHttpCrackUrl(url, 0, 0, &u)) {
		say_error(msg, r->url, "URL parsing", GetLastError());
		goto out;
	}
	/* the query string (?ids=...) is in the extra info, right after the path */
	wchar_t *target = xcalloc(wcslen(path) + u.dwExtraInfoLength + 1, sizeof *target);
	wcscpy(target, path);
	if (u.lpszExtraInfo && u.dwExtraInfoLength)
		wcsncat(target, u.lpszExtraInfo, u.dwExtraInfoLength);
	bool tls = u.nScheme == INTERNET_SCHEME_HTTPS;
	if (!(s = open_session(r->timeout_s))) {
		say_error(msg, r->url, "session", GetLastError());
		free(target);
		goto out;
	}
	if (!(c = WinHttpConnect(s, host, u.nPort, 0))) {
		say_error(msg, r->url, "connect", GetLastError());
		free(target);
		goto out;
	}
	q = WinHttpOpenRequest(c, r->body ? L"POST" : L"GET", target, NULL, WINHTTP_NO_REFERER,
			       WINHTTP_DEFAULT_ACCEPT_TYPES, tls ? WINHTTP_FLAG_SECURE : 0);
	free(target);
	if (!q) {
		say_error(msg, r->url, "request", GetLastError());
		goto out;
	}
	DWORD opt = WINHTTP_DISABLE_REDIRECTS;
	WinHttpSetOption(q, WINHTTP_OPTION_DISABLE_FEATURE, &opt, sizeof opt);
	if (tls && r->insecure) {
		opt = SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_CN_INVALID |
		      SECURITY_FLAG_IGNORE_CERT_DATE_INVALID;
		WinHttpSetOption(q, WINHTTP_OPTION_SECURITY_FLAGS, &opt, sizeof opt);
	}
	if (headers[0] && !WinHttpAddRequestHeaders(q, headers, (DWORD)-1, WINHTTP_ADDREQ_FLAG_ADD)) {
		say_error(msg, r->url, "headers", GetLastError());
		goto out;
	}
	DWORD len = (DWORD)(r->body ? r->body_len : 0);
	if (!WinHttpSendRequest(q, WINHTTP_NO_ADDITIONAL_HEADERS, 0, (LPVOID)(r->body ? r->body : NULL), len, len,
				0) ||
	    !WinHttpReceiveResponse(q, NULL)) {
		say_error(msg, r->url, "send", GetLastError());
		goto out;
	}
	DWORD code = 0, size = sizeof code;
	if (!WinHttpQueryHeaders(q, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER, WINHTTP_HEADER_NAME_BY_INDEX,
				 &code, &size, WINHTTP_NO_HEADER_INDEX)) {
		say_error(msg, r->url, "status", GetLastError());
		goto out;
	}
	size_t max = r->max_answer ? r->max_answer : (1u << 20);
	char chunk[16384];
	for (;;) {
		DWORD got = 0;
		if (!WinHttpReadData(q, chunk, sizeof chunk, &got)) {
			say_error(msg, r->url, "receive", GetLastError());
			goto out;
		}
		if (!got)
			break;
		if (answer->len + got > max) {
			buf_printf(msg, "submit: %s: the answer is longer than %zu bytes\n", r->url, max);
			goto out;
		}
		buf_add(answer, chunk, got);
	}
	status = (long)code;
out:
	if (q)
		WinHttpCloseHandle(q);
	if (c)
		WinHttpCloseHandle(c);
	if (s)
		WinHttpCloseHandle(s);
	free(url);
	free(headers);
	return status;
}
