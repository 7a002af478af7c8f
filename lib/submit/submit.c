/* submit.c - deliver reports to log4scan-server with an on-disk spool (see
 * submit.h).
 *
 * Spool files are named "<19-digit unix time in ns>-<report uuid>.ndjson", so the
 * directory listing sorted by name is oldest first and the report id is
 * known without reading the file.  Nothing here prints or exits.  They are written as ".tmp-<uuid>" and
 * renamed, so a crash never leaves half a report under a spool name. */
#include "submit/submit.h"
#include "submit/submit_internal.h"

#include "submit/envelope.h"
#include "submit/http_client.h"
#include "util/uuid.h"

#include <ctype.h>
#include <nettle/sha2.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ANSWER (1u << 20)

/* ---- HTTP ---- */

/* ---- what submit reads: the collector's answers, the spool's names ---- */

bool submit_answer_accepted(const char *answer)
{
	return answer && strstr(answer, "\"accepted\":true") != NULL;
}

/* {"known":["uuid",...]}: every quoted UUID marks the ids equal to it */
void submit_known_parse(const char *answer, const char *const *ids, size_t n, bool *known)
{
	for (const char *q = answer ? strchr(answer, '"') : NULL; q; q = strchr(q + 1, '"')) {
		if (strlen(q + 1) < 37 || !uuid_at(q + 1) || q[37] != '"')
			continue;
		for (size_t i = 0; i < n; i++)
			if (!strncasecmp(ids[i], q + 1, 36))
				known[i] = true;
		q += 37;
	}
}

/* 19 digits, '-', uuid, ".ndjson" */
bool submit_spool_name(const char *name)
{
	size_t len = strlen(name);
	return len == 19 + 1 + 36 + 7 && !strcmp(name + len - 7, ".ndjson") && name[19] == '-' &&
	       uuid_at(name + 20);
}

static void base_url(const struct l4s_submit_opts *o, struct buf *u, const char *path)
{
	size_t n = strlen(o->url);
	while (n && o->url[n - 1] == '/')
		n--;
	static const char suffix[] = "/api/v1/reports";
	if (n >= sizeof suffix - 1 && !memcmp(o->url + n - (sizeof suffix - 1), suffix, sizeof suffix - 1))
		n -= sizeof suffix - 1;
	buf_add(u, o->url, n);
	buf_adds(u, path);
}

/* One request.  Returns the HTTP status, or 0 when the server could not be
 * reached (reason in msg). */
static long http(const struct l4s_submit_opts *o, const char *path, const char *body, size_t len, struct buf *answer,
		 struct buf *msg)
{
	struct buf url = BUF_INIT, auth = BUF_INIT;
	base_url(o, &url, path);
	buf_printf(&auth, "Authorization: Bearer %s", o->token);
	const char *headers[] = {buf_cstr(&auth), "Content-Type: application/x-ndjson", "Accept: application/json", NULL};
	struct http_request r = {
		.url = buf_cstr(&url),
		.headers = headers,
		.body = body,
		.body_len = len,
		.cacert = o->cacert,
		.insecure = o->insecure,
		.timeout_s = o->timeout_s > 0 ? o->timeout_s : 60L,
		.max_answer = MAX_ANSWER,
	};
	long status = http_request(&r, answer, msg);
	buf_free(&url);
	buf_free(&auth);
	return status;
}

/* the "error" text of a JSON answer, for messages */
void submit_answer_reason(const char *answer, struct buf *out)
{
	const char *s = answer ? strstr(answer, "\"error\":\"") : NULL;
	if (!s) {
		buf_adds(out, "no reason given");
		return;
	}
	for (s += 9; *s && *s != '"' && out->len < 300; s++) {
		if (*s == '\\' && s[1])
			s++;
		buf_addc(out, (unsigned char)*s < 0x20 ? '?' : *s);
	}
}

/* What an answer means for the report.  Only what may succeed later is
 * worth keeping: no answer at all (network), 408, 429 and 5xx.  A report the
 * server finds invalid (400, 413, 422) would be refused again; any other
 * answer (401 unknown token, 403 a read token, 404 a wrong URL, a redirect)
 * is a configuration error an operator must see now, not a spool that fills
 * up quietly. */
enum post_result { POST_OK, POST_INVALID, POST_REFUSED, POST_RETRY };

static enum post_result classify(long st)
{
	if (st >= 200 && st < 300)
		return POST_OK;
	if (st == 0 || st == 408 || st == 429 || st >= 500)
		return POST_RETRY;
	if (st == 400 || st == 413 || st == 422)
		return POST_INVALID;
	return POST_REFUSED;
}

static const char *refusal_hint(long st)
{
	switch (st) {
	case 401: return " (is the token right? log4scan-server token create --name HOST makes one)";
	case 403: return " (an agent token is needed to submit: this one is not)";
	case 404: return " (is the URL that of a log4scan-server collector?)";
	default: return st >= 300 && st < 400 ? " (redirects are not followed: give the final URL)" : "";
	}
}

/* The collector's rules hash in an accepted answer ("rules_sha256"). */
static void answer_rules(const char *a, char out[65])
{
	const char *k = strstr(a, "\"rules_sha256\":\"");
	if (!k)
		return;
	k += 16;
	for (int i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)k[i]) || isupper((unsigned char)k[i]))
			return;
	if (k[64] != '"')
		return;
	memcpy(out, k, 64);
	out[64] = 0;
}

static enum post_result post(const struct l4s_submit_opts *o, const char *body, size_t len, const char *id,
			     struct buf *msg, char *rules_sha)
{
	struct buf answer = BUF_INIT;
	long st = http(o, "/api/v1/reports", body, len, &answer, msg);
	enum post_result r = classify(st);
	bool accepted = st == 200 && submit_answer_accepted(buf_cstr(&answer));
	if (r == POST_OK && !accepted)
		r = POST_RETRY; /* a success that is not the collector's answer */
	if (accepted) {
		if (rules_sha)
			answer_rules(buf_cstr(&answer), rules_sha);
	} else if (r == POST_RETRY && st >= 200 && st < 300) {
		buf_printf(msg, "submit: the server's answer for report %s is not a collector's: %.100s\n", id,
			   buf_cstr(&answer));
	} else if (r == POST_INVALID) {
		buf_printf(msg, "submit: the server rejected report %s (HTTP %ld): ", id, st);
		submit_answer_reason(answer.len ? answer.data : NULL, msg);
		buf_addc(msg, '\n');
	} else if (r == POST_REFUSED) {
		buf_printf(msg, "submit: the server refused report %s (HTTP %ld): ", id, st);
		submit_answer_reason(answer.len ? answer.data : NULL, msg);
		buf_printf(msg, "%s\n", refusal_hint(st));
	} else if (st) {
		buf_printf(msg, "submit: the server could not take report %s now (HTTP %ld): ", id, st);
		submit_answer_reason(answer.len ? answer.data : NULL, msg);
		buf_addc(msg, '\n');
	}
	buf_free(&answer);
	return r;
}

/* The known-query; returns the HTTP status of the first failing request
 * (0: not reached), or 200 when every answer came. */
static long known_query(const struct l4s_submit_opts *o, const char *const *ids, size_t n, bool *known,
			struct buf *msg)
{
	for (size_t i = 0; i < n; i++)
		known[i] = false;
	for (size_t start = 0; start < n; start += 100) {
		size_t end = start + 100 < n ? start + 100 : n;
		struct buf path = BUF_INIT, answer = BUF_INIT;
		buf_adds(&path, "/api/v1/reports/known?ids=");
		for (size_t i = start; i < end; i++)
			buf_printf(&path, "%s%s", i > start ? "," : "", ids[i]);
		long st = http(o, buf_cstr(&path), NULL, 0, &answer, msg);
		buf_free(&path);
		if (st != 200) {
			if (st) {
				buf_printf(msg, "submit: cannot ask the server which reports it has (HTTP %ld): ", st);
				submit_answer_reason(answer.len ? answer.data : NULL, msg);
				buf_printf(msg, "%s\n", classify(st) == POST_REFUSED ? refusal_hint(st) : "");
			}
			buf_free(&answer);
			return st;
		}
		submit_known_parse(buf_cstr(&answer), ids + start, end - start, known + start);
		buf_free(&answer);
	}
	return 200;
}

int submit_known(const struct l4s_submit_opts *o, const char *const *ids, size_t n, bool *known, struct buf *msg)
{
	return known_query(o, ids, n, known, msg) == 200 ? 0 : -1;
}

/* ---- spool ---- */

struct entry { char name[64]; char id[37]; off_t size; };

static int by_name(const void *a, const void *b) { return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name); }

static size_t list_spool(const char *dir, struct entry **out)
{
	DIR *d = opendir(dir);
	size_t n = 0, cap = 0;
	*out = NULL;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (!submit_spool_name(e->d_name))
			continue;
		char path[4096];
		struct stat stt;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &stt) || !S_ISREG(stt.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		memcpy((*out)[n].name, e->d_name, len + 1);   /* len checked above: 63 */
		memcpy((*out)[n].id, e->d_name + 20, 36);
		(*out)[n].id[36] = 0;
		(*out)[n].size = stt.st_size;
		n++;
	}
	closedir(d);
	if (n)
		qsort(*out, n, sizeof **out, by_name);
	return n;
}

static void spool_path(const char *dir, const char *name, char *out, size_t n) { snprintf(out, n, "%s/%s", dir, name); }

static bool read_file(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	char tmp[65536];
	ssize_t r;
	while ((r = read(fd, tmp, sizeof tmp)) > 0)
		buf_add(b, tmp, (size_t)r);
	close(fd);
	return r == 0;
}

static int spool_write(const struct l4s_submit_opts *o, const char *body, size_t len, const char *id, struct buf *msg)
{
	if (mkdir(o->spool_dir, 0700) && errno != EEXIST) {
		buf_printf(msg, "submit: cannot create spool directory %s: %s\n", o->spool_dir, strerror(errno));
		return -1;
	}
	char tmp[4096], final[4096], name[64];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, sizeof name, "%019lld-%s.ndjson", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, id);
	snprintf(tmp, sizeof tmp, "%s/.tmp-%s", o->spool_dir, id);
	spool_path(o->spool_dir, name, final, sizeof final);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		buf_printf(msg, "submit: cannot write to spool %s: %s\n", o->spool_dir, strerror(errno));
		return -1;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, body + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			buf_printf(msg, "submit: cannot write to spool %s: %s\n", o->spool_dir, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) || close(fd) || rename(tmp, final)) {
		buf_printf(msg, "submit: cannot write to spool %s: %s\n", o->spool_dir, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Drop the oldest spooled reports until the spool is within its bounds. */
static void spool_trim(const struct l4s_submit_opts *o, struct l4s_submit_stats *st, struct buf *msg)
{
	size_t max_files = o->spool_max_files ? o->spool_max_files : 100;
	size_t max_bytes = o->spool_max_bytes ? o->spool_max_bytes : (256u << 20);
	struct entry *e;
	size_t n = list_spool(o->spool_dir, &e), bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += (size_t)e[i].size;
	size_t i = 0;
	while (i < n && (n - i > max_files || bytes > max_bytes)) {
		char path[4096];
		spool_path(o->spool_dir, e[i].name, path, sizeof path);
		if (unlink(path) == 0) {
			buf_printf(msg, "warning: spool full (%zu reports, %zu bytes): dropped the oldest report %s\n", n - i,
				   bytes, e[i].id);
			st->spool_dropped++;
		}
		bytes -= (size_t)e[i].size;
		i++;
	}
	free(e);
}

/* Send what earlier runs left.  POST_OK when the server took them all (or
 * there were none), POST_RETRY when it cannot be used now, POST_REFUSED when
 * it refuses this agent (the spool is kept for when that is mended). */
static enum post_result spool_flush(const struct l4s_submit_opts *o, struct l4s_submit_stats *st, struct buf *msg)
{
	struct entry *e;
	size_t n = list_spool(o->spool_dir, &e);
	if (!n)
		return POST_OK;
	const char **ids = xcalloc(n, sizeof *ids);
	bool *known = xcalloc(n, sizeof *known);
	for (size_t i = 0; i < n; i++)
		ids[i] = e[i].id;
	long qs = known_query(o, ids, n, known, msg);
	enum post_result state = qs == 200 ? POST_OK : classify(qs) == POST_RETRY ? POST_RETRY : POST_REFUSED;
	for (size_t i = 0; state == POST_OK && i < n; i++) {
		char path[4096];
		spool_path(o->spool_dir, e[i].name, path, sizeof path);
		if (known[i]) {
			unlink(path);
			st->spool_known++;
			continue;
		}
		struct buf body = BUF_INIT;
		if (!read_file(path, &body)) {
			buf_free(&body);
			continue;
		}
		enum post_result r = post(o, body.data ? body.data : "", body.len, e[i].id, msg, NULL);
		buf_free(&body);
		if (r == POST_OK) {
			unlink(path);
			st->spool_sent++;
		} else if (r == POST_INVALID) {
			unlink(path);
			buf_printf(msg, "warning: dropped spooled report %s that the server refuses\n", e[i].id);
			st->spool_dropped++;
		} else {
			state = r;
		}
	}
	free(ids);
	free(known);
	free(e);
	return state;
}

int submit_send(const struct l4s_submit_opts *o, const char *body, size_t len, struct l4s_submit_stats *stats,
	       struct buf *msg)
{
	struct l4s_submit_stats dummy;
	struct l4s_submit_stats *st = stats ? stats : &dummy;
	memset(st, 0, sizeof *st);
	char id[37];
	if (!o->url || !*o->url || !o->token || !*o->token) {
		buf_printf(msg, "submit: a server URL and a token are needed\n");
		return L4S_SUBMIT_FAILED;
	}
	if (strpbrk(o->token, "\r\n \t")) {
		buf_printf(msg, "submit: the token contains white space\n");
		return L4S_SUBMIT_FAILED;
	}
	if (strncmp(o->url, "https://", 8) && strncmp(o->url, "http://", 7)) {
		buf_printf(msg, "submit: the server URL must start with https:// (or http://)\n");
		return L4S_SUBMIT_FAILED;
	}
	if (!envelope_report_id(body, len, id)) {
		buf_printf(msg, "submit: the report has no envelope with a report_id\n");
		return L4S_SUBMIT_FAILED;
	}
	if (http_load(msg) < 0)
		return L4S_SUBMIT_FAILED;
	if (!strncmp(o->url, "http://", 7) && strncmp(o->url, "http://127.", 11) && strncmp(o->url, "http://localhost", 16) &&
	    strncmp(o->url, "http://[::1]", 12))
		buf_printf(msg, "warning: sending the report without TLS (http://)\n");
	enum post_result r = o->spool_dir ? spool_flush(o, st, msg) : POST_OK;
	if (r == POST_OK)
		r = post(o, body, len, id, msg, st->rules_sha256);
	int result;
	if (r == POST_OK) {
		result = L4S_SUBMIT_SENT;
	} else if (r == POST_INVALID) {
		result = L4S_SUBMIT_FAILED;
	} else if (r == POST_REFUSED) {
		buf_printf(msg, "submit: report %s was not sent and not spooled: mend the configuration, then "
				"send the saved report with `log4scan submit FILE`\n",
			   id);
		result = L4S_SUBMIT_FAILED;
	} else if (!o->spool_dir) {
		buf_printf(msg, "submit: report %s not delivered and no spool directory is set\n", id);
		result = L4S_SUBMIT_FAILED;
	} else if (len > (o->spool_max_bytes ? o->spool_max_bytes : (256u << 20))) {
		buf_printf(msg, "submit: report %s is larger than the spool and is lost\n", id);
		result = L4S_SUBMIT_FAILED;
	} else if (spool_write(o, body, len, id, msg)) {
		result = L4S_SUBMIT_FAILED;
	} else {
		buf_printf(msg, "submit: collector not reached; report %s kept in %s for the next run\n", id,
			   o->spool_dir);
		spool_trim(o, st, msg);
		result = L4S_SUBMIT_SPOOLED;
	}
	if (o->spool_dir) {
		struct entry *e;
		st->spool_left = list_spool(o->spool_dir, &e);
		free(e);
	}
	return result;
}

int submit_fetch_rules(const struct l4s_submit_opts *o, const char *want_sha256, struct buf *text, struct buf *msg)
{
	struct buf answer = BUF_INIT;
	long st = http(o, "/api/v1/rules/active", NULL, 0, &answer, msg);
	if (st != 200) {
		if (st) {
			buf_printf(msg, "submit: cannot fetch the collector's rules (HTTP %ld): ", st);
			submit_answer_reason(answer.len ? answer.data : NULL, msg);
			buf_addc(msg, '\n');
		}
		buf_free(&answer);
		return -1;
	}
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[65];
	sha256_init(&c);
	sha256_update(&c, answer.len, (const uint8_t *)(answer.data ? answer.data : ""));
	sha256_digest(&c, sizeof d, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	if (strcmp(hex, want_sha256)) {
		buf_printf(msg, "submit: the collector's rules do not match their SHA-256 (%.12s..., announced %.12s...):"
				" not used\n", hex, want_sha256);
		buf_free(&answer);
		return -1;
	}
	buf_add(text, answer.data ? answer.data : "", answer.len);
	buf_free(&answer);
	return 0;
}
