/* report_parse.c - parse and validate one NDJSON report (see report_parse.h).
 *
 * The body is split on '\n'; each non-empty line must be one JSON object
 * (jansson rejects invalid UTF-8 and NUL bytes in strings).  Line 1 is the
 * envelope; the rest are records dispatched on "kind".  Every check failure
 * names the line and the field. */
#include "report_parse.h"

#include "detect/facts.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/jsonw.h"
#include "util/uuid.h"

struct pctx {
	struct report *r;
	const struct report_limits *lim;
	struct buf *err;
	size_t lineno;
	const char *kind;
};

static int fail(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct pctx *c, const char *fmt, ...)
{
	va_list ap;
	buf_reset(c->err);
	buf_printf(c->err, "line %zu: %s: ", c->lineno, c->kind);
	va_start(ap, fmt);
	buf_vprintf(c->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* A string field: NULL when absent or null; -1 when of the wrong type. */
static int get_str(struct pctx *c, json_t *o, const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(c, "\"%s\" is required", key);
		return 0;
	}
	if (!json_is_string(v))
		return fail(c, "\"%s\" must be a string", key);
	if (json_string_length(v) > c->lim->max_field)
		return fail(c, "\"%s\" is longer than %zu bytes", key, c->lim->max_field);
	*out = json_string_value(v);
	return 0;
}

static int get_int(struct pctx *c, json_t *o, const char *key, bool required, long long lo, long long hi,
		   long long *out, bool *has)
{
	json_t *v = json_object_get(o, key);
	*out = 0;
	if (has)
		*has = false;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(c, "\"%s\" is required", key);
		return 0;
	}
	if (!json_is_integer(v))
		return fail(c, "\"%s\" must be an integer", key);
	long long x = json_integer_value(v);
	if (x < lo || x > hi)
		return fail(c, "\"%s\" is out of range", key);
	*out = x;
	if (has)
		*has = true;
	return 0;
}

static int get_bool(struct pctx *c, json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);
	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return fail(c, "\"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

/* An array of strings, returned as compact JSON text ("[]" when absent). */
static int get_str_array(struct pctx *c, json_t *o, const char *key, size_t max_items, char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		*out = xstrdup("[]");
		return 0;
	}
	if (!json_is_array(v))
		return fail(c, "\"%s\" must be an array of strings", key);
	if (json_array_size(v) > max_items)
		return fail(c, "\"%s\" has more than %zu items", key, max_items);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return fail(c, "\"%s\" must be an array of strings", key);
		if (json_string_length(e) > c->lim->max_field)
			return fail(c, "\"%s\" has an item longer than %zu bytes", key, c->lim->max_field);
	}
	/* compact JSON text of the array, written here (json_dumps costs
	 * several allocations per call, and a report has two arrays a finding) */
	struct buf b = BUF_INIT;
	buf_addc(&b, '[');
	json_array_foreach(v, i, e) {
		if (i)
			buf_addc(&b, ',');
		jsonw_str(&b, json_string_value(e), json_string_length(e));
	}
	buf_addc(&b, ']');
	*out = buf_detach(&b);
	return 0;
}

static bool one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

static const char *const STATUSES[] = {"vulnerable", "mitigated", "safe", NULL};

static int get_status(struct pctx *c, json_t *o, bool required, const char **out)
{
	if (get_str(c, o, "status", required, out))
		return -1;
	if (*out && !one_of(*out, STATUSES))
		return fail(c, "\"status\" must be one of vulnerable, mitigated, safe");
	return 0;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[n] == 0;
}

bool report_id_valid(const char *s)
{
	return strlen(s) == 36 && uuid_at(s);
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* RFC 3339 timestamp -> seconds since the epoch; -1 when malformed. */
static long long parse_rfc3339(const char *s)
{
	/* YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm) */
	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	int Y = digits(s, 4), M = digits(s + 5, 2), D = digits(s + 8, 2);
	int h = digits(s + 11, 2), m = digits(s + 14, 2), sec = digits(s + 17, 2);
	if (Y < 1970 || Y > 9999 || M < 1 || M > 12 || D < 1 || D > 31 || h < 0 || h > 23 || m < 0 || m > 59 ||
	    sec < 0 || sec > 60)
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	long long off = 0;
	if ((*p == 'Z' || *p == 'z') && p[1] == 0) {
		off = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int oh = digits(p + 1, 2), om = digits(p + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		off = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
	} else {
		return -1;
	}
	struct tm tm = {0};
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	return (long long)timegm(&tm) - off;
}

static int parse_envelope(struct pctx *c, json_t *o)
{
	struct report *r = c->r;
	const char *kind = NULL, *id = NULL;
	c->kind = "envelope";
	if (get_str(c, o, "kind", false, &kind))
		return -1;
	if (!kind || strcmp(kind, "report")) {
		/* say what came instead: most often a --format json file from an
		 * agent before 0.2, whose first record is a finding */
		if (kind && strlen(kind) < 32)
			return fail(c, "the report envelope is missing: the first line must be {\"kind\":\"report\","
				       "\"report_id\":...,\"created\":...,\"command\":...,\"host\":{...}} (docs/schema.md), "
				       "not a \"%s\" record; write the report with `log4scan scan --format json` and send "
				       "it with `log4scan submit FILE`",
				    kind);
		return fail(c, "the report envelope is missing: the first line must be {\"kind\":\"report\","
			       "\"report_id\":...,\"created\":...,\"command\":...,\"host\":{...}} (docs/schema.md)");
	}
	if (get_str(c, o, "report_id", true, &id))
		return -1;
	if (!report_id_valid(id))
		return fail(c, "\"report_id\" must be a UUID");
	for (int i = 0; i < 36; i++)
		r->report_id[i] = (char)tolower((unsigned char)id[i]);
	if (get_str(c, o, "created", true, &r->created))
		return -1;
	r->created_epoch = parse_rfc3339(r->created);
	if (r->created_epoch < 0)
		return fail(c, "\"created\" must be an RFC 3339 time such as 2026-11-27T21:00:00Z");
	if (get_str(c, o, "command", true, &r->command) || get_str(c, o, "agent_version", false, &r->agent_version))
		return -1;
	if (!*r->command || strlen(r->command) > 32)
		return fail(c, "\"command\" must be a short name such as scan, logs or ps");
	json_t *h = json_object_get(o, "host");
	if (!h || !json_is_object(h))
		return fail(c, "\"host\" must be an object");
	const char *mid = NULL, *aid = NULL;
	if (get_bool(c, o, "replace_tags", &r->replace_tags) || get_str(c, h, "agent_id", false, &aid))
		return -1;
	if (aid && *aid) {
		if (!report_id_valid(aid))
			return fail(c, "\"host.agent_id\" must be a UUID");
		for (int i = 0; i < 36; i++)
			r->agent_id[i] = (char)tolower((unsigned char)aid[i]);
	}
	if (get_str(c, h, "hostname", false, &r->hostname) || get_str(c, h, "machine_id", false, &mid) ||
	    get_str(c, h, "os", false, &r->os) || get_str(c, h, "kernel", false, &r->kernel) ||
	    get_str_array(c, h, "ips", 256, &r->ips_json) || get_str_array(c, h, "tags", 64, &r->tags_json))
		return -1;
	if (mid && *mid) {
		if (strlen(mid) != 32 || !all_hex(mid, 32))
			return fail(c, "\"host.machine_id\" must be 32 hexadecimal digits");
		for (int i = 0; i < 32; i++)
			r->machine_id[i] = (char)tolower((unsigned char)mid[i]);
	}
	if (r->hostname && strlen(r->hostname) > 255)
		return fail(c, "\"host.hostname\" is longer than 255 bytes");
	json_t *cov = json_object_get(o, "coverage");
	if (cov && !json_is_null(cov)) {
		if (!json_is_object(cov))
			return fail(c, "\"coverage\" must be an object");
		r->has_coverage = true;
		if (get_bool(c, cov, "whole_host", &r->cov_whole_host) || get_bool(c, cov, "processes", &r->cov_processes) ||
		    get_str_array(c, cov, "paths", 256, &r->cov_paths_json) ||
		    get_str_array(c, cov, "exclude", 256, &r->cov_exclude_json))
			return -1;
	}
	if (!r->machine_id[0] && (!r->hostname || !*r->hostname))
		return fail(c, "\"host\" needs a machine_id or a hostname");
	return 0;
}

#define GROW(arr, n, cap) do { \
	if ((n) == (cap)) { (cap) = (cap) ? (cap) * 2 : 16; (arr) = xrealloc((arr), (cap) * sizeof *(arr)); } \
} while (0)

struct caps { size_t f, p, a, e, l; };

static int parse_finding(struct pctx *c, json_t *o, struct caps *cap)
{
	struct report *r = c->r;
	GROW(r->findings, r->n_findings, cap->f);
	struct rp_finding *f = &r->findings[r->n_findings];
	memset(f, 0, sizeof *f);
	r->n_findings++;
	f->line = (int)c->lineno;
	if (get_str(c, o, "path", true, &f->path) || get_str(c, o, "path_b64", false, &f->path_b64) ||
	    get_str(c, o, "component", false, &f->component) || get_str(c, o, "version", false, &f->version) ||
	    get_str(c, o, "version_source", false, &f->version_source) || get_status(c, o, true, &f->status) ||
	    get_str(c, o, "severity", false, &f->severity) || get_str(c, o, "fixed_in", false, &f->fixed_in) ||
	    get_str(c, o, "sha256", false, &f->sha256) || get_str(c, o, "cd_sha256", false, &f->cd_sha256) ||
	    get_int(c, o, "pid", false, 0, 0x7fffffff, &f->pid, &f->has_pid) ||
	    get_str(c, o, "image", false, &f->image) || get_str(c, o, "tag", false, &f->tag) ||
	    get_str(c, o, "layer", false, &f->layer) || get_str(c, o, "note", false, &f->note) ||
	    get_str(c, o, "facts", false, &f->facts) ||
	    get_str_array(c, o, "cves", 64, &f->cves_json) || get_str_array(c, o, "evidence", 64, &f->evidence_json))
		return -1;
	if (f->sha256 && !*f->sha256)
		f->sha256 = NULL;
	json_t *fin = json_object_get(o, "in_final_image");
	if (fin && !json_is_null(fin)) {
		if (!json_is_boolean(fin))
			return fail(c, "\"in_final_image\" must be true or false");
		f->has_in_final = true;
		f->in_final_image = json_is_true(fin);
	}
	if (f->image && !*f->image)
		f->image = NULL;
	if ((f->image && strlen(f->image) > 512) || (f->tag && strlen(f->tag) > 256) ||
	    (f->layer && strlen(f->layer) > 256))
		return fail(c, "\"image\", \"tag\" or \"layer\" is too long (512, 256, 256 bytes)");
	if (f->sha256 && (strlen(f->sha256) != 64 || !all_hex(f->sha256, 64)))
		return fail(c, "\"sha256\" must be 64 hexadecimal digits");
	if (f->cd_sha256 && !*f->cd_sha256)
		f->cd_sha256 = NULL;
	if (f->cd_sha256 && (strlen(f->cd_sha256) != 64 || !all_hex(f->cd_sha256, 64)))
		return fail(c, "\"cd_sha256\" must be 64 hexadecimal digits");
	if (f->sha256)
		snprintf(f->archive_key, sizeof f->archive_key, "%s", f->sha256);
	else if (f->cd_sha256)
		snprintf(f->archive_key, sizeof f->archive_key, "cd:%s", f->cd_sha256);
	if (f->component && strlen(f->component) > 64)
		return fail(c, "\"component\" is longer than 64 bytes");
	if (f->version && strlen(f->version) > 64)
		return fail(c, "\"version\" is longer than 64 bytes");
	if (f->facts) {
		/* checked now, so the store holds only facts it can judge again */
		struct facts fx;
		struct buf why = BUF_INIT;
		bool ok = facts_parse(f->facts, strlen(f->facts), &fx, &why);
		facts_free(&fx);
		if (!ok) {
			fail(c, "\"facts\": %s", buf_cstr(&why));
			buf_free(&why);
			return -1;
		}
		buf_free(&why);
	}
	json_t *cv = json_object_get(o, "cves");
	size_t i;
	json_t *e;
	if (cv && json_is_array(cv))
		json_array_foreach(cv, i, e)
			if (json_string_length(e) > 32)
				return fail(c, "\"cves\" has an item longer than 32 bytes");
	return 0;
}

static int parse_process(struct pctx *c, json_t *o, struct caps *cap)
{
	struct report *r = c->r;
	GROW(r->processes, r->n_processes, cap->p);
	struct rp_process *p = &r->processes[r->n_processes];
	memset(p, 0, sizeof *p);
	r->n_processes++;
	if (get_int(c, o, "pid", true, 0, 0x7fffffff, &p->pid, NULL) || get_str(c, o, "user", false, &p->user) ||
	    get_str(c, o, "command", false, &p->command) || get_str(c, o, "start_time", false, &p->start_time) ||
	    get_str(c, o, "container", false, &p->container) || get_status(c, o, false, &p->status) ||
	    get_bool(c, o, "restart_required", &p->restart_required) ||
	    get_str_array(c, o, "jars", 4096, &p->jars_json) ||
	    get_str_array(c, o, "mitigations", 64, &p->mitigations_json))
		return -1;
	if (!p->status)
		p->status = "safe";
	/* listening: keep only the known fields, checked */
	json_t *l = json_object_get(o, "listening");
	json_t *out = json_array();
	if (l && !json_is_null(l)) {
		if (!json_is_array(l) || json_array_size(l) > 1024) {
			json_decref(out);
			return fail(c, "\"listening\" must be an array of at most 1024 {proto,addr,port} objects");
		}
		size_t i;
		json_t *e;
		json_array_foreach(l, i, e) {
			json_t *proto = json_object_get(e, "proto"), *addr = json_object_get(e, "addr");
			json_t *port = json_object_get(e, "port");
			if (!json_is_object(e) || (proto && !json_is_string(proto)) || (addr && !json_is_string(addr)) ||
			    !json_is_integer(port) || json_integer_value(port) < 0 || json_integer_value(port) > 65535 ||
			    (proto && json_string_length(proto) > 16) || (addr && json_string_length(addr) > 64)) {
				json_decref(out);
				return fail(c, "\"listening\" must be an array of {proto,addr,port} objects");
			}
			if (!report_addr_loopback(addr ? json_string_value(addr) : ""))
				p->n_public++;
			json_array_append_new(out, json_pack("{s:s,s:s,s:I}", "proto", proto ? json_string_value(proto) : "tcp",
							     "addr", addr ? json_string_value(addr) : "",
							     "port", (json_int_t)json_integer_value(port)));
		}
	}
	p->n_listening = (int)json_array_size(out);
	char *s = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	p->listening_json = xstrdup(s ? s : "[]");
	free(s);
	return 0;
}

static int parse_attempt(struct pctx *c, json_t *o, struct caps *cap)
{
	struct report *r = c->r;
	GROW(r->attempts, r->n_attempts, cap->a);
	struct rp_attempt *a = &r->attempts[r->n_attempts];
	memset(a, 0, sizeof *a);
	r->n_attempts++;
	if (get_str(c, o, "path", false, &a->path) || get_str(c, o, "timestamp", false, &a->timestamp) ||
	    get_str(c, o, "raw", false, &a->raw) || get_str(c, o, "decoded", false, &a->decoded) ||
	    get_str(c, o, "protocol", false, &a->protocol) || get_str(c, o, "host", false, &a->host) ||
	    get_str(c, o, "client", false, &a->client) || get_str(c, o, "payload", false, &a->payload) ||
	    get_str(c, o, "payload_b64", false, &a->payload_b64) ||
	    get_int(c, o, "line", false, 0, (1LL << 53), &a->line, &a->has_line) ||
	    get_int(c, o, "offset", false, 0, (1LL << 62), &a->offset, &a->has_offset) ||
	    get_int(c, o, "port", false, 0, 65535, &a->port, &a->has_port) ||
	    get_str_array(c, o, "exfil", 64, &a->exfil_json))
		return -1;
	if (!a->raw && !a->decoded)
		return fail(c, "needs \"raw\" or \"decoded\"");
	if (a->host && strlen(a->host) > 255)
		return fail(c, "\"host\" is longer than 255 bytes");
	if (a->protocol && strlen(a->protocol) > 32)
		return fail(c, "\"protocol\" is longer than 32 bytes");
	return 0;
}

static int parse_error(struct pctx *c, json_t *o, struct caps *cap)
{
	struct report *r = c->r;
	GROW(r->errors, r->n_errors, cap->e);
	struct rp_error *e = &r->errors[r->n_errors];
	memset(e, 0, sizeof *e);
	r->n_errors++;
	return get_str(c, o, "path", false, &e->path) || get_str(c, o, "error", false, &e->error) ? -1 : 0;
}

int report_parse(struct report *r, const char *body, size_t len, const struct report_limits *lim, struct buf *err)
{
	struct report_limits dflt = REPORT_LIMITS_DEFAULT;
	struct caps cap = {0, 0, 0, 0, 0};
	struct pctx c = {r, lim ? lim : &dflt, err, 0, "report"};
	memset(r, 0, sizeof *r);
	if (len > c.lim->max_bytes) {
		buf_printf(err, "report is larger than %zu bytes", c.lim->max_bytes);
		return -1;
	}
	size_t pos = 0;
	bool have_env = false;
	while (pos < len) {
		const char *nl = memchr(body + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - body) : len;
		size_t n = end - pos;
		const char *line = body + pos;
		pos = end + 1;
		c.lineno++;
		if (n && line[n - 1] == '\r')
			n--;
		size_t k = 0;
		while (k < n && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k == n)
			continue;
		c.kind = have_env ? "record" : "envelope";
		json_error_t je;
		json_t *o = json_loadb(line, n, 0, &je);
		if (!o) {
			fail(&c, "malformed JSON: %s (column %d)", je.text, je.column);
			goto bad;
		}
		GROW(r->lines, r->n_lines, cap.l);
		r->lines[r->n_lines++] = o;
		if (!json_is_object(o)) {
			fail(&c, "each line must be a JSON object");
			goto bad;
		}
		if (!have_env) {
			if (parse_envelope(&c, o))
				goto bad;
			have_env = true;
			continue;
		}
		if (++r->n_records > c.lim->max_records) {
			fail(&c, "more than %zu records", c.lim->max_records);
			goto bad;
		}
		const char *kind = NULL;
		if (get_str(&c, o, "kind", true, &kind))
			goto bad;
		c.kind = kind;
		int rc = 0;
		if (!strcmp(kind, "finding")) {
			rc = parse_finding(&c, o, &cap);
		} else if (!strcmp(kind, "process")) {
			rc = parse_process(&c, o, &cap);
		} else if (!strcmp(kind, "attempt")) {
			rc = parse_attempt(&c, o, &cap);
		} else if (!strcmp(kind, "error")) {
			rc = parse_error(&c, o, &cap);
		} else if (!strcmp(kind, "summary")) {
			char *s = json_dumps(o, JSON_COMPACT);
			free(r->summary_json);
			r->summary_json = s ? xstrdup(s) : NULL;
			free(s);
		} else {
			r->n_unknown++;
		}
		if (rc)
			goto bad;
	}
	if (!have_env) {
		buf_printf(err, "empty report: the first line must be the report envelope");
		goto bad;
	}
	return 0;
bad:
	report_free(r);
	return -1;
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		free(r->findings[i].cves_json);
		free(r->findings[i].evidence_json);
	}
	for (size_t i = 0; i < r->n_processes; i++) {
		free(r->processes[i].listening_json);
		free(r->processes[i].jars_json);
		free(r->processes[i].mitigations_json);
	}
	for (size_t i = 0; i < r->n_attempts; i++)
		free(r->attempts[i].exfil_json);
	for (size_t i = 0; i < r->n_lines; i++)
		json_decref(r->lines[i]);
	free(r->findings);
	free(r->processes);
	free(r->attempts);
	free(r->errors);
	free(r->lines);
	free(r->ips_json);
	free(r->tags_json);
	free(r->summary_json);
	free(r->cov_paths_json);
	free(r->cov_exclude_json);
	memset(r, 0, sizeof *r);
}

bool report_addr_loopback(const char *a)
{
	if (!strncmp(a, "::ffff:", 7) || !strncmp(a, "::FFFF:", 7))
		a += 7;
	if (!strncmp(a, "127.", 4) || !strcmp(a, "localhost"))
		return true;
	/* ::1 in any spelling: only zero groups, then a final 1 */
	size_t n = strlen(a);
	if (n < 3 || a[n - 1] != '1' || a[n - 2] != ':')
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (a[i] != '0' && a[i] != ':')
			return false;
	return true;
}

void report_device_legacy_ident(const struct report *r, struct buf *out)
{
	if (r->machine_id[0])
		buf_adds(out, r->machine_id);
	else
		buf_printf(out, "host:%s", r->hostname ? r->hostname : "");
}

void report_device_ident(const struct report *r, struct buf *out)
{
	report_device_legacy_ident(r, out);
	if (r->agent_id[0])
		buf_printf(out, "/%s", r->agent_id);
}
