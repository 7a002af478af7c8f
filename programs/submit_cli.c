/* submit_cli.c - the report envelope, --tag and the --submit options shared
 * by `scan`, `ps` and `logs` (see submit_cli.h). */
#include "submit_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rules/rules.h"
#include "submit/envelope.h"
#include "submit/hostinfo.h"
#include "submit/http_client.h"
#include "submit/submit.h"
#include "util/buf.h"

bool submit_cli_option(struct submit_cli *c, const char *name, const char *value, bool *bad)
{
	*bad = false;
	if (!strcmp(name, "tag")) {
		if (c->ntags == sizeof c->tags / sizeof c->tags[0]) {
			cli_error("at most %zu --tag options", c->ntags);
			*bad = true;
		} else {
			c->tags[c->ntags++] = value;
		}
		return true;
	}
	if (!strcmp(name, "replace-tags")) {
		c->replace_tags = true;
		return true;
	}
#ifndef L4S_NO_SUBMIT
	if (!strcmp(name, "submit"))
		c->url = value;
	else if (!strcmp(name, "token"))
		c->token = value;
	else if (!strcmp(name, "token-file"))
		c->token_file = value;
	else if (!strcmp(name, "spool-dir"))
		c->spool_dir = value;
	else if (!strcmp(name, "cacert"))
		c->cacert = value;
	else
		return false;
	return true;
#else
	return false;
#endif
}

bool submit_cli_wants_envelope(const struct submit_cli *c, bool json)
{
	return json || c->url;
}

#ifndef L4S_NO_SUBMIT
static char *read_token(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char line[512];
	char *r = fgets(line, sizeof line, f);
	fclose(f);
	if (!r) {
		errno = 0;
		return NULL;
	}
	line[strcspn(line, "\r\n")] = 0;
	return xstrdup(line);
}
#endif

bool submit_cli_ready(struct submit_cli *c, bool json)
{
	if ((c->ntags || c->replace_tags) && !submit_cli_wants_envelope(c, json)) {
		cli_error("--tag and --replace-tags label the report envelope: they go with --format json"
#ifndef L4S_NO_SUBMIT
			  " or --submit URL"
#endif
		);
		return false;
	}
#ifdef L4S_NO_SUBMIT
	return true;
#else
	if (!c->url) {
		if (c->token || c->token_file || c->spool_dir || c->cacert) {
			cli_error("--token, --token-file, --spool-dir and --cacert go with --submit URL");
			return false;
		}
		return true;
	}
#ifdef _WIN32
	if (c->cacert) {
		cli_error("--cacert is not used on Windows: the collector's certificate is checked against "
			  "the Windows certificate store (put its CA in Trusted Root Certification Authorities)");
		return false;
	}
#endif
	if (c->token_file) {
		if (!(c->token_buf = read_token(c->token_file))) {
			cli_error("cannot read a token from %s: %s", c->token_file, errno ? strerror(errno) : "empty file");
			return false;
		}
		c->token = c->token_buf;
	}
	if (!c->token)
		c->token = getenv("LOG4SCAN_TOKEN");
	if (!c->token || !*c->token) {
		cli_error("--submit needs a token: --token, --token-file or $LOG4SCAN_TOKEN");
		return false;
	}
	/* The transport is loaded now, before the sandbox goes up. */
	struct buf msg = BUF_INIT;
	bool ok = http_load(&msg) == 0;
	if (!ok) {
		while (msg.len && msg.data[msg.len - 1] == '\n')
			msg.len--;
		cli_error("%.*s", (int)msg.len, msg.data);
	}
	buf_free(&msg);
	return ok;
#endif
}

/* each line of msg already says what it is about ("submit: ...",
 * "warning: ...") */
static void print_lines(struct buf *msg)
{
	for (const char *p = buf_cstr(msg); *p;) {
		size_t n = strcspn(p, "\n");
		fprintf(stderr, "log4scan: %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

int submit_cli_envelope(struct submit_cli *c, const char *command, const char *options_json,
			const char *coverage_json, struct buf *out, char id[37])
{
	struct buf warn = BUF_INIT;
	struct l4s_envelope_opts eo = {
		.command = command,
		.tags = c->tags,
		.ntags = c->ntags,
		.replace_tags = c->replace_tags,
		.options_json = options_json,
		.coverage_json = coverage_json,
	};
	int rc = envelope_build(out, &eo, id, &warn);
	print_lines(&warn);
	if (rc < 0)
		cli_error("cannot write the report envelope");
	buf_free(&warn);
	return rc;
}

#ifndef L4S_NO_SUBMIT
/* The collector judges with rules whose SHA-256 is want: when ours (the
 * collector's kept from before, else the built-in ones) differ, fetch
 * them, check them, and keep them in the state directory for the next run
 * (cli_load_rules).  A failure is a warning: this run's report is sent. */
static void follow_rules(const struct l4s_submit_opts *so, const char *want)
{
	extern const char l4s_default_rules[];
	char path[4096], have[65], tmp[4200];
	cli_collector_rules_path(path, sizeof path);
	FILE *f = fopen(path, "rb");
	struct buf text = BUF_INIT, msg = BUF_INIT, err = BUF_INIT;
	if (f) {
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len < (64u << 20))
			buf_add(&text, chunk, n);
		fclose(f);
		cli_sha256_hex(text.data ? text.data : "", text.len, have);
	} else {
		cli_sha256_hex(l4s_default_rules, strlen(l4s_default_rules), have);
	}
	buf_reset(&text);
	if (!strcmp(have, want))
		goto out;
	if (submit_fetch_rules(so, want, &text, &msg)) {
		print_lines(&msg);
		goto out;
	}
	struct rules *r = rules_parse(text.data ? text.data : "", text.len, &err);
	if (!r) {
		cli_error("warning: the collector's rules are not valid here (%s): not used", buf_cstr(&err));
		goto out;
	}
	rules_free(r);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, text.data, text.len) == (ssize_t)text.len && !fsync(fd);
	if (fd >= 0 && close(fd))
		ok = false;
	if (ok && !rename(tmp, path)) {
		fprintf(stderr, "log4scan: the collector's rules (%.12s...) kept in %s: used from the next run\n", want,
			path);
	} else {
		cli_error("warning: cannot keep the collector's rules in %s: %s", path, strerror(errno));
		unlink(tmp);
	}
out:
	buf_free(&text);
	buf_free(&msg);
	buf_free(&err);
}

int submit_cli_send(struct submit_cli *c, const char *body, size_t len)
{
	struct buf msg = BUF_INIT;
	char spool[4096], id[37] = "?";
	envelope_report_id(body, len, id);
	struct l4s_submit_opts so = {0};
	so.url = c->url;
	so.token = c->token;
	if (c->spool_dir) {
		so.spool_dir = c->spool_dir;
	} else {
		char state[4000];
		snprintf(spool, sizeof spool, "%s/spool", hostinfo_state_dir(state, sizeof state));
		mkdir(spool, 0700);
		so.spool_dir = spool;
	}
	so.cacert = c->cacert;
	struct l4s_submit_stats stats = {0};
	int rc = submit_send(&so, body, len, &stats, &msg);
	print_lines(&msg);
	if (rc == L4S_SUBMIT_SENT)
		fprintf(stderr, "log4scan: report %s sent to %s\n", id, c->url);
	if (rc == L4S_SUBMIT_SENT && stats.rules_sha256[0])
		follow_rules(&so, stats.rules_sha256);
	buf_free(&msg);
	return rc == L4S_SUBMIT_FAILED ? -1 : 0;
}
#else
int submit_cli_send(struct submit_cli *c, const char *body, size_t len)
{
	(void)c, (void)body, (void)len;
	cli_error("this build of log4scan cannot send reports");
	return -1;
}
#endif

void submit_cli_free(struct submit_cli *c)
{
	free(c->token_buf);
	c->token_buf = NULL;
}
