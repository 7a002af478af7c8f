/* cli.c - small helpers the agent's subcommands share: error messages,
 * number options, and loading the rules (built-in or --rules FILE). */
#include <errno.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proc/proc.h"
#include "submit/hostinfo.h"
#include "util/buf.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("log4scan: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

bool cli_parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool cli_text_or_json(const char *cmd, const char *format)
{
	if (!strcmp(format, "text") || !strcmp(format, "json"))
		return true;
	cli_error("%s: --format must be text or json, not '%s'", cmd, format);
	return false;
}

bool cli_fail_on(const char *arg, struct fail_on *out)
{
	struct fail_on f = {-1, false};
	bool any = false;
	for (const char *p = arg; *p;) {
		size_t n = strcspn(p, ",");
		char word[16];
		snprintf(word, sizeof word, "%.*s", (int)(n < sizeof word ? n : sizeof word - 1), p);
		int rank = n < sizeof word ? rules_severity_rank(word) : -1;
		if (n < sizeof word && !strcmp(word, "unknown")) {
			f.unknown = true;
		} else if (rank >= 1 && f.rank < 0) {
			f.rank = rank;
		} else {
			cli_error("--fail-on takes a severity (critical, high, medium, low) and/or unknown, "
				  "comma-separated, not '%s'",
				  arg);
			return false;
		}
		any = true;
		p += n + (p[n] == ',');
	}
	if (!any) {
		cli_error("--fail-on needs a value: critical, high, medium, low and/or unknown");
		return false;
	}
	*out = f;
	return true;
}

bool fail_on_finding(const struct fail_on *f, const struct finding *x)
{
	return x->status == ST_VULNERABLE && (f->rank < 0 || rules_severity_rank(x->severity) >= f->rank);
}

bool fail_on_jvm(const struct fail_on *f, int proc_status)
{
	return proc_status == PST_UNKNOWN && f->unknown;
}

int cli_scan_option(int code, const char *arg, struct scan_opts *so, struct walk_opts *wo)
{
	long n;
	switch (code) {
	case CLI_OPT_EXCLUDE:
		wo->excludes = realloc(wo->excludes, (wo->nexcludes + 1) * sizeof *wo->excludes);
		if (!wo->excludes)
			abort();
		wo->excludes[wo->nexcludes++] = arg;
		return 1;
	case CLI_OPT_ONEFS:
		wo->one_file_system = true;
		return 1;
	case CLI_OPT_FOLLOW:
		wo->follow_symlinks = true;
		return 1;
	case CLI_OPT_MAXDEPTH:
		if (!cli_parse_num(arg, 0, 64, &n)) {
			cli_error("--max-depth takes a number from 0 to 64");
			return -1;
		}
		so->max_depth = (int)n;
		return 1;
	case CLI_OPT_NESTED:
	case CLI_OPT_INFLATE:
	case CLI_OPT_INFLATE_TOTAL:
		if (!cli_parse_num(arg, 1, code == CLI_OPT_INFLATE_TOTAL ? 1L << 30 : 1L << 20, &n)) {
			cli_error("%s takes a size in MiB", code == CLI_OPT_NESTED ? "--max-nested-size"
							  : code == CLI_OPT_INFLATE ? "--max-inflate"
										    : "--max-inflate-total");
			return -1;
		}
		if (code == CLI_OPT_NESTED)
			so->max_nested_bytes = (uint64_t)n << 20;
		else if (code == CLI_OPT_INFLATE)
			so->max_file_inflate = (uint64_t)n << 20;
		else
			so->max_scan_inflate = (uint64_t)n << 20;
		return 1;
	case CLI_OPT_SCAN_BACKUPS:
		wo->scan_backups = true;
		return 1;
	case CLI_OPT_THREADS:
		if (!cli_parse_num(arg, 1, 256, &n)) {
			cli_error("--threads takes a number from 1 to 256");
			return -1;
		}
		wo->threads = (int)n;
		return 1;
	}
	return 0;
}

bool cli_priority(const char *arg, bool *low)
{
	if (strcmp(arg, "low") && strcmp(arg, "normal")) {
		cli_error("--priority takes low or normal, not '%s'", arg);
		return false;
	}
	*low = !strcmp(arg, "low");
	return true;
}

void cli_confine(enum sandbox_role role, bool low_priority, bool allow_network)
{
	struct buf err = BUF_INIT;
	if (low_priority && sandbox_priority_lower(&err) < 0)
		cli_error("could not lower priority: %s", buf_cstr(&err));
	buf_reset(&err);
	struct sandbox_opts sbo = {.role = role, .allow_network = allow_network};
	if (sandbox_install(&sbo, &err) < 0)
		cli_error("warning: seccomp sandbox not installed: %s", buf_cstr(&err));
	buf_free(&err);
}

/* A rules file is small; 64 MiB bounds a mistaken --rules /dev/zero. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (64 << 20))
		buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return buf_detach(&b);
}

void cli_collector_rules_path(char *out, size_t n)
{
	char dir[4000];
	snprintf(out, n, "%s/collector.rules", hostinfo_state_dir(dir, sizeof dir));
}

void cli_sha256_hex(const void *p, size_t n, char out[65])
{
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_init(&c);
	sha256_update(&c, n, p);
	sha256_digest(&c, sizeof d, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The collector's rules kept by --submit, when readable and valid: their
 * text's SHA-256 in sha (may be NULL). */
static struct rules *collector_rules(char sha[65])
{
	char path[4096];
	cli_collector_rules_path(path, sizeof path);
	size_t len;
	char *text = slurp(path, &len);
	if (!text)
		return NULL;
	struct buf err = BUF_INIT;
	struct rules *r = rules_parse(text, len, &err);
	if (!r)
		cli_error("warning: %s: %s: using the built-in rules", path, buf_cstr(&err));
	else if (sha)
		cli_sha256_hex(text, len, sha);
	buf_free(&err);
	free(text);
	return r;
}

const char *cli_rules_name(const char *file, char *out, size_t n)
{
	if (file)
		return file;
	char sha[65];
	struct rules *r = collector_rules(sha);
	if (!r)
		return "built-in";
	rules_free(r);
	snprintf(out, n, "collector:%s", sha);
	return out;
}

struct rules *cli_load_rules(const char *file)
{
	struct buf err = BUF_INIT;
	struct rules *r;
	if (!file && (r = collector_rules(NULL))) {
		/* the collector's, fetched by an earlier --submit */
	} else if (file) {
		size_t len;
		char *text = slurp(file, &len);
		if (!text) {
			cli_error("cannot read rules file %s: %s", file, strerror(errno));
			return NULL;
		}
		r = rules_parse(text, len, &err);
		free(text);
		if (!r)
			cli_error("rules file %s: %s", file, buf_cstr(&err));
	} else if (!(r = rules_default(&err))) {
		cli_error("built-in rules: %s", buf_cstr(&err));
	}
	buf_free(&err);
	return r;
}
