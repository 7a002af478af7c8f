/* webhook_cli.c - `log4scan-server webhook add URL --secret-file FILE
 * [--events LIST] | list | delete ID | test ID` (webhook.h).  The secret is
 * read from a file (first line), never from the command line, where other
 * users could read it in the process list; it is never printed. */
#include "webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

static int usage(const char *why)
{
	fprintf(stderr, "log4scan-server: webhook: %s\n"
			"usage: log4scan-server webhook add URL --secret-file FILE [--events LIST]\n"
			"       log4scan-server webhook list | delete ID | test ID\n"
			"events: %s (default: all)\n", why, WEBHOOK_KINDS);
	return 2;
}

static int read_secret(const char *file, struct buf *out)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "log4scan-server: webhook: cannot read %s: %s\n", file, strerror(errno));
		return -1;
	}
	char line[1100];
	bool got = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	if (!got) {
		fprintf(stderr, "log4scan-server: webhook: %s is empty\n", file);
		return -1;
	}
	line[strcspn(line, "\r\n")] = 0;
	buf_adds(out, line);
	memset(line, 0, sizeof line);
	return 0;
}

static bool id_arg(const char *s, long long *id)
{
	char *end;
	errno = 0;
	long long v = s ? strtoll(s, &end, 10) : 0;
	if (!s || errno || end == s || *end || v < 1)
		return false;
	*id = v;
	return true;
}

static int list(struct store *st)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	int rc = webhook_list_json(st, &out, &err);
	if (rc)
		fprintf(stderr, "log4scan-server: webhook list: %s\n", buf_cstr(&err));
	else
		printf("%s\n", buf_cstr(&out));
	buf_free(&out);
	buf_free(&err);
	return rc ? 1 : 0;
}

int webhook_cli(struct store *st, const char *const *words, int nwords, const char *secret_file, const char *events)
{
	const char *sub = nwords > 0 ? words[0] : "";
	struct buf err = BUF_INIT, secret = BUF_INIT;
	long long id = 0, now = (long long)time(NULL);
	int rc = 1;
	if (!strcmp(sub, "list") && nwords == 1)
		return list(st);
	if (!strcmp(sub, "add")) {
		if (nwords != 2)
			return usage("add needs one URL");
		if (!secret_file)
			return usage("add needs --secret-file FILE (its first line is the secret)");
		if (read_secret(secret_file, &secret))
			return 1;
		if (webhook_add(st, words[1], buf_cstr(&secret), events, "cli", now, &id, &err))
			fprintf(stderr, "log4scan-server: webhook add: %s\n", buf_cstr(&err));
		else {
			struct buf shown = BUF_INIT;
			webhook_url_shown(words[1], &shown);
			printf("%lld\n", id);
			fprintf(stderr, "log4scan-server: webhook %lld added: %s\n", id, buf_cstr(&shown));
			buf_free(&shown);
			rc = 0;
		}
	} else if (!strcmp(sub, "delete") || !strcmp(sub, "test")) {
		if (nwords != 2 || !id_arg(words[1], &id))
			return usage("delete and test need a webhook ID (see webhook list)");
		int found = sub[0] == 'd' ? webhook_delete(st, id, &err) : webhook_test(st, id, now, NULL, &err);
		if (found < 0)
			fprintf(stderr, "log4scan-server: webhook %s: %s\n", sub, buf_cstr(&err));
		else if (!found)
			fprintf(stderr, "log4scan-server: webhook %s: no webhook %lld\n", sub, id);
		else {
			fprintf(stderr, "log4scan-server: webhook %lld %s\n", id,
				sub[0] == 'd' ? "deleted (its pending deliveries cancelled)"
					      : "test queued (a running server sends it)");
			rc = 0;
		}
	} else {
		rc = usage("needs add, list, delete or test");
	}
	if (secret.data)
		memset(secret.data, 0, secret.len);
	buf_free(&secret);
	buf_free(&err);
	return rc;
}
