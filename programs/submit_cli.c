/* submit_cli.c - the --submit options shared by `scan` and `logs` (see
 * submit_cli.h). */
#include "submit_cli.h"

#ifndef L4S_NO_SUBMIT /* the static agent has no libcurl, hence no --submit */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "hostinfo.h"
#include "http_client.h"
#include "submit.h"

bool submit_cli_option(struct submit_cli *c, const char *name, const char *value, bool *bad)
{
	*bad = false;
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
	else if (!strcmp(name, "tag")) {
		if (c->ntags == sizeof c->tags / sizeof c->tags[0]) {
			cli_error("at most %zu --tag options", c->ntags);
			*bad = true;
		} else {
			c->tags[c->ntags++] = value;
		}
	} else
		return false;
	return true;
}

static char *read_token(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char line[512];
	char *r = fgets(line, sizeof line, f);
	fclose(f);
	if (!r)
		return NULL;
	line[strcspn(line, "\r\n")] = 0;
	return xstrdup(line);
}

bool submit_cli_ready(struct submit_cli *c)
{
	if (!c->url) {
		if (c->token || c->token_file || c->spool_dir || c->cacert || c->ntags) {
			cli_error("--token, --spool-dir, --cacert and --tag go with --submit URL");
			return false;
		}
		return true;
	}
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
	bool ok = l4s_http_load(&msg) == 0;
	if (!ok) {
		while (msg.len && msg.data[msg.len - 1] == '\n')
			msg.len--;
		cli_error("%.*s", (int)msg.len, msg.data);
	}
	buf_free(&msg);
	return ok;
}

static const char *default_spool(char *out, size_t n)
{
	if (geteuid() == 0) {
		mkdir("/var/lib/log4scan", 0700);
		snprintf(out, n, "/var/lib/log4scan/spool");
	} else {
		const char *home = getenv("HOME");
		snprintf(out, n, "%s/.local/state/log4scan/spool", home ? home : "/tmp");
		char parent[4096];
		snprintf(parent, sizeof parent, "%s/.local", home ? home : "/tmp");
		mkdir(parent, 0700);
		snprintf(parent, sizeof parent, "%s/.local/state", home ? home : "/tmp");
		mkdir(parent, 0700);
		snprintf(parent, sizeof parent, "%s/.local/state/log4scan", home ? home : "/tmp");
		mkdir(parent, 0700);
	}
	mkdir(out, 0700);
	return out;
}

int submit_cli_send(struct submit_cli *c, const char *command, const char *records, size_t len)
{
	struct buf body = BUF_INIT, msg = BUF_INIT;
	char id[37];
	struct l4s_envelope_opts eo = {command, c->tags, c->ntags, NULL};
	if (l4s_envelope(&body, &eo, id, &msg) < 0) {
		cli_error("cannot build the report envelope: %s", buf_cstr(&msg));
		buf_free(&body);
		buf_free(&msg);
		return -1;
	}
	buf_add(&body, records, len);
	char spool[4096];
	struct l4s_submit_opts so = {0};
	so.url = c->url;
	so.token = c->token;
	so.spool_dir = c->spool_dir ? c->spool_dir : default_spool(spool, sizeof spool);
	so.cacert = c->cacert;
	struct l4s_submit_stats stats = {0};
	int rc = l4s_submit(&so, body.data, body.len, &stats, &msg);
	/* each line of msg already says what it is about ("submit: ...",
	 * "warning: ...") */
	for (const char *p = buf_cstr(&msg); *p;) {
		size_t n = strcspn(p, "\n");
		fprintf(stderr, "log4scan: %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
	int out = 0;
	if (rc == L4S_SUBMIT_SENT)
		fprintf(stderr, "log4scan: report %s sent to %s\n", id, c->url);
	else if (rc == L4S_SUBMIT_SPOOLED)
		;
	else
		out = -1;
	buf_free(&body);
	buf_free(&msg);
	return out;
}

void submit_cli_free(struct submit_cli *c)
{
	free(c->token_buf);
	c->token_buf = NULL;
}

#endif
