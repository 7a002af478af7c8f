/* cmd_logs.c - `log4scan logs`: hunt for Log4Shell exploitation attempts in
 * log files, directories of them (recursively, symlinks not followed), or
 * standard input.
 *
 * Each input is read in large blocks and fed to a hunter (lib/logs/loghunt.h);
 * gzip input is recognised by its magic bytes, not its name, and inflated
 * on the fly member after member.  The hunter's callback prints one record
 * per attempt (text, or JSON Lines with "kind":"attempt" and its status),
 * unreadable inputs become "kind":"error" records and the scan goes on, and
 * a "kind":"summary" record groups the attempts by callback host and by
 * day.  Broken attempts (lookups Log4j would not make) are reported with
 * their status but are not counted as attempts, tallied or submitted.
 * Exit status: 0 no attempt, 1 attempts found (performed, performed_alone
 * or bound), 2 nothing could be read or the arguments were wrong. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "cli_config.h"
#include "logs/loghunt.h"
#include "submit_cli.h"
#include "sys/sandbox.h"
#include "util/buf.h"
#include "util/jsonw.h"

#define READ_SIZE (256u << 10)
#define MAX_DIR_DEPTH 64

struct logs {
	FILE *out;
	bool json;
	struct loghunt *hunter;
	struct lh_tally by_host, by_day;
	unsigned long long files, errors, symlinks, not_regular;
	struct timespec start;
	struct buf line;
	unsigned char *in, *inflated;
	bool write_failed;
	struct buf *submit; /* --submit: every record also as JSON, for the collector */
};

/* The record just rendered in L->line goes to the report being submitted. */
static void emit_submit(struct logs *L)
{
	buf_add(L->submit, L->line.data ? L->line.data : "", L->line.len);
	buf_addc(L->submit, '\n');
	buf_reset(&L->line);
}

static void emit(struct logs *L)
{
	buf_addc(&L->line, '\n');
	if (fwrite(L->line.data, 1, L->line.len, L->out) != L->line.len)
		L->write_failed = true;
	buf_reset(&L->line);
}

/* jsonw_text_escape for bytes that may include NUL. */
static void text_escape_n(struct buf *b, const char *s, size_t n)
{
	while (n) {
		size_t k = strnlen(s, n);
		char *part = xstrndup(s, k);
		jsonw_text_escape(b, part);
		free(part);
		s += k;
		n -= k;
		if (n) {
			buf_adds(b, "\\x00");
			s++;
			n--;
		}
	}
}

/* "key":"value" for bytes that may include NUL or non-UTF-8. */
static void json_field_bytes(struct buf *b, const char *key, const char *s, size_t n)
{
	buf_addc(b, ',');
	jsonw_cstr(b, key);
	buf_addc(b, ':');
	bool clean = jsonw_str(b, s, n) && !memchr(s, 0, n);
	if (!clean) {
		buf_printf(b, ",\"%s_b64\":\"", key);
		jsonw_base64(b, (const unsigned char *)s, n);
		buf_addc(b, '"');
	}
}

static void report_error(struct logs *L, const char *path, const char *msg)
{
	L->errors++;
	for (int pass = 0; pass < (L->submit ? 2 : 1); pass++) {
		bool json = pass ? true : L->json;
		if (json) {
			buf_adds(&L->line, "{\"kind\":\"error\"");
			jsonw_field_str(&L->line, true, "path", path);
			jsonw_field_str(&L->line, true, "error", msg);
			buf_addc(&L->line, '}');
		} else {
			jsonw_text_escape(&L->line, path);
			buf_adds(&L->line, ": error: ");
			jsonw_text_escape(&L->line, msg);
		}
		if (pass)
			emit_submit(L);
		else
			emit(L);
	}
}

/* The text report's first line of an attempt, after "path:line: ". */
static void text_headline(struct buf *b, const struct lh_attempt *a)
{
	switch (a->status) {
	case LH_BOUND:
		buf_printf(b, "possible attempt, not evaluated: %s bound", loghunt_bound_name(a->bound));
		return;
	case LH_BROKEN:
		buf_adds(b, "broken attempt ");
		jsonw_text_escape(b, a->decoded);
		buf_adds(b, " (Log4j would not look it up)");
		return;
	default:
		buf_adds(b, "attempt ");
		jsonw_text_escape(b, a->decoded);
		if (a->status == LH_PERFORMED_ALONE)
			buf_adds(b, " (when logged apart from the line's earlier text)");
	}
}

static void on_attempt(void *ctx, const struct lh_attempt *a)
{
	struct logs *L = ctx;
	bool working = a->status != LH_BROKEN;
	if (working) {
		loghunt_tally_add(&L->by_host, a->host);
		loghunt_tally_add(&L->by_day, a->day ? a->day : "unknown");
	}
	struct buf *b = &L->line;
	/* The collector counts every attempt it receives as one that works:
	 * broken ones stay in the local report. */
	for (int pass = 0; pass < (L->submit && working ? 2 : 1); pass++) {
		bool json = pass ? true : L->json;
		if (json) {
			buf_adds(b, "{\"kind\":\"attempt\"");
			jsonw_field_str(b, true, "path", a->path);
			jsonw_field_int(b, true, "line", (long long)a->line);
			jsonw_field_int(b, true, "offset", (long long)a->offset);
			jsonw_field_str_or_null(b, true, "timestamp", a->timestamp);
			jsonw_field_str(b, true, "status", loghunt_status_name(a->status));
			if (a->status == LH_BOUND)
				jsonw_field_str(b, true, "bound", loghunt_bound_name(a->bound));
			json_field_bytes(b, "raw", a->raw, a->raw_len);
			jsonw_field_str(b, true, "decoded", a->decoded);
			jsonw_field_str(b, true, "protocol", a->protocol);
			jsonw_field_str(b, true, "host", a->host);
			if (a->port >= 0)
				jsonw_field_int(b, true, "port", a->port);
			else
				buf_adds(b, ",\"port\":null");
			jsonw_field_str_or_null(b, true, "client", a->client);
			buf_adds(b, ",\"exfil\":[");
			for (size_t i = 0; i < a->n_exfil; i++) {
				if (i)
					buf_addc(b, ',');
				jsonw_cstr(b, a->exfil[i]);
			}
			buf_addc(b, ']');
			if (a->payload)
				json_field_bytes(b, "payload", a->payload, a->payload_len);
			buf_addc(b, '}');
		} else {
			jsonw_text_escape(b, a->path);
			buf_printf(b, ":%llu: ", a->line);
			text_headline(b, a);
			buf_adds(b, "\n    ");
			if (a->status != LH_BOUND) {
				buf_adds(b, a->protocol[0] ? a->protocol : "unknown protocol");
				if (a->host[0]) {
					buf_adds(b, " host ");
					jsonw_text_escape(b, a->host);
				}
				if (a->port >= 0)
					buf_printf(b, " port %d", a->port);
				buf_adds(b, ", ");
			}
			if (a->client) {
				buf_adds(b, "client ");
				jsonw_text_escape(b, a->client);
				buf_adds(b, ", ");
			}
			if (a->timestamp) {
				buf_adds(b, "at ");
				jsonw_text_escape(b, a->timestamp);
				buf_adds(b, ", ");
			}
			buf_printf(b, "offset %llu\n    raw: ", a->offset);
			text_escape_n(b, a->raw, a->raw_len);
			if (a->n_exfil) {
				buf_adds(b, "\n    exfil:");
				for (size_t i = 0; i < a->n_exfil; i++) {
					buf_addc(b, ' ');
					jsonw_text_escape(b, a->exfil[i]);
				}
			}
			if (a->payload) {
				buf_adds(b, "\n    payload: ");
				text_escape_n(b, a->payload, a->payload_len);
			}
		}
		if (pass)
			emit_submit(L);
		else
			emit(L);
	}
}

/* Read until buf holds at least `want` bytes or end of input. */
static ssize_t read_some(int fd, unsigned char *buf, size_t cap, size_t want)
{
	size_t got = 0;
	while (got < want) {
		ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Inflate gzip members from fd (first `have` bytes already in L->in). */
static void hunt_gzip(struct logs *L, int fd, const char *path, size_t have)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, 15 + 32) != Z_OK) {
		report_error(L, path, "cannot start gzip decoder");
		return;
	}
	zs.next_in = L->in;
	zs.avail_in = (uInt)have;
	bool eof = false, in_member = true;
	unsigned members = 0;
	for (;;) {
		if (zs.avail_in == 0 && !eof) {
			ssize_t r = read_some(fd, L->in, READ_SIZE, 1);
			if (r < 0) {
				report_error(L, path, strerror(errno));
				break;
			}
			if (r == 0)
				eof = true;
			zs.next_in = L->in;
			zs.avail_in = (uInt)r;
		}
		if (zs.avail_in == 0 && eof) {
			if (in_member)
				report_error(L, path, "truncated gzip data");
			break;
		}
		if (!in_member) {
			inflateReset(&zs);
			in_member = true;
		}
		zs.next_out = L->inflated;
		zs.avail_out = READ_SIZE;
		int rc = inflate(&zs, Z_NO_FLUSH);
		size_t got = READ_SIZE - zs.avail_out;
		if (got)
			loghunt_feed(L->hunter, L->inflated, got);
		if (rc == Z_STREAM_END) {
			members++;
			in_member = false;
		} else if (rc == Z_BUF_ERROR) {
			if (zs.avail_in != 0) {
				report_error(L, path, "gzip decoder made no progress");
				break;
			}
		} else if (rc != Z_OK) {
			char msg[200];
			if (members && rc == Z_DATA_ERROR && !got)
				snprintf(msg, sizeof msg, "trailing garbage after gzip data ignored");
			else
				snprintf(msg, sizeof msg, "corrupt gzip data: %s", zs.msg ? zs.msg : "error");
			report_error(L, path, msg);
			break;
		}
	}
	inflateEnd(&zs);
}

/* Hunt one open input.  Returns false when it could not be read at all. */
static bool hunt_fd(struct logs *L, int fd, const char *path)
{
	ssize_t n = read_some(fd, L->in, READ_SIZE, 2);
	if (n < 0) {
		report_error(L, path, strerror(errno));
		return false;
	}
	L->files++;
	loghunt_begin(L->hunter, path);
	if (n >= 2 && L->in[0] == 0x1f && L->in[1] == 0x8b) {
		hunt_gzip(L, fd, path, (size_t)n);
	} else {
		while (n > 0) {
			loghunt_feed(L->hunter, L->in, (size_t)n);
			n = read_some(fd, L->in, READ_SIZE, 1);
		}
		if (n < 0)
			report_error(L, path, strerror(errno));
	}
	loghunt_end(L->hunter);
	return true;
}

static bool hunt_file(struct logs *L, const char *path, bool top)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (top ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		report_error(L, path, strerror(errno));
		return false;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		L->not_regular++;
		report_error(L, path, "not a regular file, skipped");
		close(fd);
		return false;
	}
	bool ok = hunt_fd(L, fd, path);
	close(fd);
	return ok;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns true when at least one file was read. */
static bool hunt_path(struct logs *L, const char *path, bool top, int depth)
{
	struct stat st;
	if ((top ? stat(path, &st) : lstat(path, &st)) < 0) {
		report_error(L, path, strerror(errno));
		return false;
	}
	if (S_ISLNK(st.st_mode)) {
		L->symlinks++;          /* not followed below the paths given */
		return false;
	}
	if (S_ISREG(st.st_mode))
		return hunt_file(L, path, top);
	if (!S_ISDIR(st.st_mode)) {
		L->not_regular++;
		report_error(L, path, S_ISFIFO(st.st_mode) ? "a FIFO, skipped" :
				      S_ISSOCK(st.st_mode) ? "a socket, skipped" :
							     "a device, skipped");
		return false;
	}
	if (depth >= MAX_DIR_DEPTH) {
		report_error(L, path, "directories nested too deeply, skipped");
		return false;
	}
	DIR *d = opendir(path);
	if (!d) {
		report_error(L, path, strerror(errno));
		return false;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			names = xrealloc(names, cap * sizeof *names);
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, by_name);
	bool any = n == 0;          /* an empty directory was read fine */
	struct buf child = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		buf_reset(&child);
		buf_adds(&child, path);
		if (child.len && child.data[child.len - 1] != '/' && child.data[child.len - 1] != L4S_PATH_SEP)
			buf_addc(&child, L4S_PATH_SEP);
		buf_adds(&child, names[i]);
		any |= hunt_path(L, buf_cstr(&child), false, depth + 1);
		free(names[i]);
	}
	buf_free(&child);
	free(names);
	return any;
}

static void tally_json(struct buf *b, const char *name, const char *key, struct lh_tally *t)
{
	buf_printf(b, ",\"%s\":[", name);
	for (size_t i = 0; i < t->n; i++) {
		buf_adds(b, i ? ",{" : "{");
		jsonw_field_str(b, false, key, t->v[i].key);
		jsonw_field_int(b, true, "attempts", (long long)t->v[i].count);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

static void tally_text(struct buf *b, const char *title, struct lh_tally *t)
{
	if (!t->n)
		return;
	buf_printf(b, "\n  %s:", title);
	for (size_t i = 0; i < t->n; i++) {
		buf_adds(b, i ? ", " : " ");
		if (t->v[i].key[0])
			jsonw_text_escape(b, t->v[i].key);
		else
			buf_adds(b, "(none)");
		buf_printf(b, " (%llu)", t->v[i].count);
	}
}

static void summary(struct logs *L)
{
	const struct lh_stats *st = loghunt_stats(L->hunter);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double seconds = (double)(now.tv_sec - L->start.tv_sec) + (now.tv_nsec - L->start.tv_nsec) / 1e9;
	loghunt_tally_sort(&L->by_host);
	loghunt_tally_sort(&L->by_day);
	struct buf *b = &L->line;
	for (int pass = 0; pass < (L->submit ? 2 : 1); pass++) {
		bool json = pass ? true : L->json;
		if (json) {
			buf_adds(b, "{\"kind\":\"summary\"");
			jsonw_field_int(b, true, "files", (long long)L->files);
			jsonw_field_int(b, true, "bytes", (long long)st->bytes);
			jsonw_field_int(b, true, "lines", (long long)st->lines);
			jsonw_field_int(b, true, "attempts", (long long)st->attempts);
			jsonw_field_int(b, true, "bound_attempts", (long long)st->bound);
			jsonw_field_int(b, true, "broken_attempts", (long long)st->broken);
			jsonw_field_int(b, true, "errors", (long long)L->errors);
			jsonw_field_int(b, true, "lines_over_budget", (long long)st->lines_over_budget);
			jsonw_field_int(b, true, "not_regular", (long long)L->not_regular);
			jsonw_field_int(b, true, "symlinks_not_followed", (long long)L->symlinks);
			buf_printf(b, ",\"seconds\":%.3f", seconds);
			tally_json(b, "by_host", "host", &L->by_host);
			tally_json(b, "by_day", "day", &L->by_day);
			buf_addc(b, '}');
		} else {
			buf_printf(b, "summary: %llu attempt%s", st->attempts, st->attempts == 1 ? "" : "s");
			if (st->bound)
				buf_printf(b, " (%llu at a bound)", st->bound);
			buf_printf(b, " in %llu lines of %llu file%s (%llu bytes), %llu error%s", st->lines, L->files,
				   L->files == 1 ? "" : "s", st->bytes, L->errors, L->errors == 1 ? "" : "s");
			if (st->broken)
				buf_printf(b, ", %llu broken attempt%s", st->broken, st->broken == 1 ? "" : "s");
			buf_printf(b, ", %.1f s", seconds);
			if (L->symlinks)
				buf_printf(b, ", %llu symlink%s not followed", L->symlinks, L->symlinks == 1 ? "" : "s");
			if (st->lines_over_budget)
				buf_printf(b, ", %llu hostile line%s not fully evaluated", st->lines_over_budget,
					   st->lines_over_budget == 1 ? "" : "s");
			tally_text(b, "by callback host", &L->by_host);
			tally_text(b, "by day", &L->by_day);
		}
		if (pass)
			emit_submit(L);
		else
			emit(L);
	}
}

static void usage(FILE *f)
{
	fputs("usage: log4scan logs [OPTIONS] PATH|- ...\n"
	      "\n"
	      "Find Log4Shell exploitation attempts (${jndi:...} lookups, obfuscated or\n"
	      "URL/unicode/HTML-escaped) in log files.  Directories are read recursively\n"
	      "(symbolic links inside them are not followed); gzip files are recognised by\n"
	      "content; - reads standard input.\n"
	      "\n"
	      "  --format text|json  text (default) or JSON Lines: the report envelope, one\n"
	      "                      \"attempt\" record per attempt, \"error\" records, a final\n"
	      "                      \"summary\"\n"
	      "  -o, --output FILE   write there instead of standard output\n"
	      SUBMIT_USAGE
	      CLI_CONFIG_USAGE
	      "\n"
	      "Exit status: 0 no attempt found, 1 attempts found, 2 the command failed.\n",
	      f);
}

enum { OPT_FORMAT = 256, OPT_SUBMITOPT };

const struct option logs_options[] = {
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	SUBMIT_OPTIONS(OPT_SUBMITOPT),
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The envelope's "coverage": the inputs named. */
static void logs_coverage(struct buf *b, char **paths, size_t n)
{
	buf_adds(b, "{\"paths\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(b, ',');
		jsonw_cstr(b, paths[i]);
	}
	buf_adds(b, "]}");
}

int cmd_logs(int argc, char **argv)
{
	if (cli_config_command(&argc, &argv, logs_options) < 0)
		return EXIT_FAILED;
	const char *format = "text", *output = NULL;
	struct submit_cli sc = {0};
	int c, li = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", logs_options, &li)) != -1) {
		switch (c) {
		case OPT_FORMAT: format = optarg; break;
		case 'o': output = optarg; break;
		case OPT_SUBMITOPT: {
			bool bad;
			submit_cli_option(&sc, logs_options[li].name, optarg, &bad);
			if (bad)
				return EXIT_FAILED;
			break;
		}
		case 'h': usage(stdout); return EXIT_CLEAN;
		default: usage(stderr); return EXIT_FAILED;
		}
	}
	char **paths = argv + optind;
	size_t n_paths = (size_t)(argc - optind);
	if (!cli_text_or_json("logs", format))
		return EXIT_FAILED;
	if (!n_paths) {
		cli_error("logs: no path given (use - for standard input; try --help)");
		return EXIT_FAILED;
	}
	bool json = !strcmp(format, "json");
	if (!submit_cli_ready(&sc, json))
		return EXIT_FAILED;
	/* the envelope before the sandbox: the host's addresses come over a
	 * netlink socket, which the sandbox forbids */
	struct buf submit_body = BUF_INIT, envelope = BUF_INIT;
	if (submit_cli_wants_envelope(&sc, json)) {
		struct buf coverage = BUF_INIT;
		char id[37];
		logs_coverage(&coverage, paths, n_paths);
		int erc = submit_cli_envelope(&sc, "logs", NULL, buf_cstr(&coverage), &envelope, id);
		buf_free(&coverage);
		if (erc < 0)
			return EXIT_FAILED;
	}
	/* Restrict ourselves before reading anything (sandbox.h, role logs);
	 * the network only when a collector was named.  Priority unchanged. */
	cli_confine(SANDBOX_LOGS, false, sc.url != NULL);
	struct logs L = {.json = json, .line = BUF_INIT};
	if (sc.url) {
		L.submit = &submit_body;
		buf_add(&submit_body, envelope.data, envelope.len);
	}
	L.out = stdout;
	if (output && !(L.out = fopen(output, "w"))) {
		cli_error("logs: cannot write %s: %s", output, strerror(errno));
		buf_free(&envelope);
		buf_free(&submit_body);
		return EXIT_FAILED;
	}
	if (json && fwrite(envelope.data, 1, envelope.len, L.out) != envelope.len)
		L.write_failed = true;
	buf_free(&envelope);
	clock_gettime(CLOCK_MONOTONIC, &L.start);
	L.hunter = loghunt_new(on_attempt, &L);
	L.in = xmalloc(READ_SIZE);
	L.inflated = xmalloc(READ_SIZE);
	bool any_read = false;
	for (size_t i = 0; i < n_paths; i++) {
		if (!strcmp(paths[i], "-"))
			any_read |= hunt_fd(&L, STDIN_FILENO, "-");
		else
			any_read |= hunt_path(&L, paths[i], true, 0);
	}
	summary(&L);
	unsigned long long attempts = loghunt_stats(L.hunter)->attempts;
	bool submit_failed = false;
	if (sc.url)
		submit_failed = submit_cli_send(&sc, buf_cstr(&submit_body), submit_body.len) < 0;
	submit_cli_free(&sc);
	buf_free(&submit_body);
	if (fflush(L.out) != 0 || L.write_failed)
		L.write_failed = true;
	if (output && fclose(L.out) != 0)
		L.write_failed = true;
	loghunt_free(L.hunter);
	loghunt_tally_free(&L.by_host);
	loghunt_tally_free(&L.by_day);
	buf_free(&L.line);
	free(L.in);
	free(L.inflated);
	if (L.write_failed) {
		cli_error("logs: cannot write the report");
		return EXIT_FAILED;
	}
	if (submit_failed)
		return EXIT_FAILED;
	if (attempts)
		return EXIT_FOUND;
	return any_read ? EXIT_CLEAN : EXIT_FAILED;
}
