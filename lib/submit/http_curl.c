/* http_curl.c - http_request() over libcurl, loaded at run time (see
 * http_client.h).
 *
 * Only the nine curl_* functions below are used; they are looked up with
 * dlsym() once, under pthread_once, from the ABI-stable libcurl.so.4.  The
 * types and constants still come from <curl/curl.h>, so a mismatch is a
 * compile error, not a run-time surprise.  (The static agent, built with
 * L4S_NO_SUBMIT, never references this file.) */
#include "submit/http_client.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>

#ifndef L4S_VERSION
#define L4S_VERSION "0.0.0"
#endif

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(load_error, sizeof load_error, "cannot load libcurl (install the libcurl4 package): %s",
			 e ? e : "unknown error");
		return;
	}
	/* dlsym returns void *; POSIX guarantees it converts to a function
	 * pointer, ISO C does not, hence memcpy. */
	struct {
		const char *name;
		void *slot;
		size_t size;
	} syms[] = {
#define SYM(f, n) {"curl_" n, &curl.f, sizeof curl.f}
		SYM(global_init, "global_init"),   SYM(easy_init, "easy_init"),
		SYM(easy_setopt, "easy_setopt"),   SYM(easy_perform, "easy_perform"),
		SYM(easy_getinfo, "easy_getinfo"), SYM(easy_strerror, "easy_strerror"),
		SYM(easy_cleanup, "easy_cleanup"), SYM(slist_append, "slist_append"),
		SYM(slist_free_all, "slist_free_all"),
#undef SYM
	};
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		void *p = dlsym(h, syms[i].name);
		if (!p) {
			snprintf(load_error, sizeof load_error, "libcurl.so.4 has no %s", syms[i].name);
			curl.easy_init = NULL;
			return;
		}
		memcpy(syms[i].slot, &p, syms[i].size);
	}
	/* Once per process, before any other thread uses curl; never cleaned up
	 * (the process ends soon after a submission). */
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_error, sizeof load_error, "cannot initialise libcurl");
		curl.easy_init = NULL;
	}
}

int http_load(struct buf *msg)
{
	pthread_once(&load_once, load);
	if (curl.easy_init)
		return 0;
	buf_printf(msg, "submit: %s\n", load_error);
	return -1;
}

struct answer_sink {
	struct buf *b;
	size_t max;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct answer_sink *s = ctx;
	size_t n = size * nmemb;
	if (s->b->len + n > s->max)
		return 0;
	buf_add(s->b, p, n);
	return n;
}

long http_request(const struct http_request *r, struct buf *answer, struct buf *msg)
{
	if (http_load(msg) < 0)
		return 0;
	CURL *c = curl.easy_init();
	if (!c) {
		buf_printf(msg, "submit: cannot initialise libcurl\n");
		return 0;
	}
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	for (const char *const *p = r->headers; p && *p; p++)
		h = curl.slist_append(h, *p);
	struct answer_sink sink = {answer, r->max_answer ? r->max_answer : (1u << 20)};
	curl.easy_setopt(c, CURLOPT_URL, r->url);
	curl.easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl.easy_setopt(c, CURLOPT_TIMEOUT, r->timeout_s > 0 ? r->timeout_s : 60L);
	curl.easy_setopt(c, CURLOPT_USERAGENT, "log4scan/" L4S_VERSION);
	curl.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl.easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, r->insecure ? 0L : 1L);
	curl.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, r->insecure ? 0L : 2L);
	if (r->cacert)
		curl.easy_setopt(c, CURLOPT_CAINFO, r->cacert);
	if (r->body) {
		curl.easy_setopt(c, CURLOPT_POST, 1L);
		curl.easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
		curl.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	}
	long status = 0;
	CURLcode rc = curl.easy_perform(c);
	if (rc == CURLE_OK)
		curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		buf_printf(msg, "submit: %s: %s\n", r->url, errbuf[0] ? errbuf : curl.easy_strerror(rc));
	curl.slist_free_all(h);
	curl.easy_cleanup(c);
	return status;
}
