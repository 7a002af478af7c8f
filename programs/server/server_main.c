/* server_main.c - the log4scan-server command line.
 *
 *   log4scan-server [serve] [--listen HOST:PORT] [--db URL] [options]
 *   log4scan-server token create --name NAME [--role agent|read|metrics]
 *   log4scan-server token revoke|delete --name NAME
 *   log4scan-server token list
 *   log4scan-server user add NAME [--role admin|viewer] [--password-file FILE] [--replace]
 *   log4scan-server user list | delete NAME | role NAME --role admin|viewer
 *   log4scan-server device list-retired | retire ID | unretire ID | delete ID
 *   log4scan-server migrate                  create / upgrade the schema
 *   log4scan-server check-report [FILE]      validate a report offline
 *   log4scan-server import FILE...           store reports carried in by hand
 *   log4scan-server webhook add URL --secret-file FILE [--events LIST] | list | delete ID | test ID
 *
 * --db is a SQLite file (default log4scan.db, or $LOG4SCAN_DB) or a
 * postgresql:// URL.  Every subcommand opens the database, which applies any
 * pending migration first.  The server runs until SIGINT/SIGTERM; the
 * listening address is printed on stderr ("listening on http://...") so that
 * --listen 127.0.0.1:0 (any free port) can be used by scripts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "regdomain.h"
#include "auth.h"
#include "http.h"
#include "http_req.h"
#include "util/jsonw.h"
#include "report_parse.h"
#include "server.h"
#include "server_sandbox.h"
#include "store.h"
#include "store_rules.h"
#include "store_team.h"
#include "webhook.h"

static const char USAGE[] =
	"usage: log4scan-server [serve] [--listen HOST:PORT] [--db URL] [options]\n"
	"       log4scan-server token create --name NAME [--role agent|read|metrics]\n"
	"       log4scan-server token revoke|delete --name NAME\n"
	"       log4scan-server token list\n"
	"       log4scan-server user add NAME [--role admin|viewer] [--password-file FILE] [--replace]\n"
	"       log4scan-server user list | delete NAME | role NAME --role admin|viewer\n"
	"       log4scan-server device list-retired | retire ID | unretire ID | delete ID\n"
	"       log4scan-server migrate\n"
	"       log4scan-server check-report [FILE]\n"
	"       log4scan-server import FILE|- ...   store saved reports (air-gapped hosts)\n"
	"       log4scan-server rules load FILE | list | show ID | rollback ID\n"
	"                              the rules that judge the fleet (re-judges stored findings)\n"
	"       log4scan-server webhook add URL --secret-file FILE [--events LIST] | list | delete ID | test ID\n"
	"                              signed POSTs when a device becomes critically exposed or is\n"
	"                              attacked, or an archive is first seen vulnerable\n"
	"\n"
	"options:\n"
	"  --db URL               SQLite file (default log4scan.db) or postgresql://user@host/db\n"
	"  --listen HOST:PORT     address to serve (default 127.0.0.1:8080; port 0 = any free port)\n"
	"  --tls-cert FILE --tls-key FILE   serve HTTPS (PEM files)\n"
	"  --secure-cookies       mark session cookies Secure (set automatically with TLS;\n"
	"                         use it behind a TLS-terminating reverse proxy)\n"
	"  --stale-days N         devices without a report for N days are stale (default 7)\n"
	"  --audit-days N         keep the audit log N days (default 365; 0: forever)\n"
	"  --rate N --burst N     requests per second per token, and the bucket size\n"
	"                         (default 100 and 1000; --rate 0 disables the limit)\n"
	"  --max-report-bytes N   largest accepted report (default 16 MiB)\n"
	"  --max-records N        most records in one report (default 100000)\n"
	"  --pool N               database connections (default 8 SQLite, 16 PostgreSQL)\n"
	"  --max-connections N    concurrent HTTP connections (default 512); a quarter of\n"
	"                         them is kept for requests with a token or a session\n"
	"  --max-per-address N    concurrent connections from one client address\n"
	"                         (default 32; 0 = no limit; trusted proxies are exempt)\n"
	"  --request-timeout N    seconds a request has for its headers and body, however\n"
	"                         it trickles (default 60)\n"
	"  --trusted-proxy ADDR   a reverse proxy (numeric address; repeat for more) whose\n"
	"                         X-Forwarded-For names the client; from any other peer\n"
	"                         that header is ignored\n"
	"  --session-hours N      dashboard session lifetime (default 12)\n"
	"  --webhook-backoff N    seconds before a failed webhook delivery is retried, doubling\n"
	"                         each time up to an hour (default 30)\n"
	"  --webhook-attempts N   attempts before a delivery is marked failed (default 8)\n"
	"  --no-sandbox           serve without the seccomp allow-list (log4scan-server(8))\n";

static int die_usage(const char *fmt, const char *arg)
{
	fputs("log4scan-server: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	fputs(USAGE, stderr);
	return 2;
}

static bool num_arg(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

struct opts {
	struct server_config cfg;
	const char *name, *role, *password_file;
	const char *secret_file, *events;  /* webhook add */
	bool replace;
	bool no_sandbox;            /* --no-sandbox */
	const char *positional[64];  /* the command, its words, import's files */
	int npos;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long long n;
#define NEED() do { if (!v) return die_usage("%s needs a value", a); i++; } while (0)
		if (!strcmp(a, "--listen")) { NEED(); o->cfg.listen = v; }
		else if (!strcmp(a, "--db")) { NEED(); o->cfg.db_url = v; }
		else if (!strcmp(a, "--tls-cert")) { NEED(); o->cfg.tls_cert = v; }
		else if (!strcmp(a, "--tls-key")) { NEED(); o->cfg.tls_key = v; }
		else if (!strcmp(a, "--secure-cookies")) o->cfg.secure_cookies = true;
		else if (!strcmp(a, "--name")) { NEED(); o->name = v; }
		else if (!strcmp(a, "--role")) { NEED(); o->role = v; }
		else if (!strcmp(a, "--password-file")) { NEED(); o->password_file = v; }
		else if (!strcmp(a, "--secret-file")) { NEED(); o->secret_file = v; }
		else if (!strcmp(a, "--events")) { NEED(); o->events = v; }
		else if (!strcmp(a, "--webhook-backoff") || !strcmp(a, "--webhook-attempts")) {
			NEED();
			if (!num_arg(v, 1, 86400, &n)) return die_usage("bad %s", a);
			if (a[10] == 'b')
				o->cfg.webhook_backoff = (int)n;
			else
				o->cfg.webhook_attempts = (int)n;
		}
		else if (!strcmp(a, "--replace")) o->replace = true;
		else if (!strcmp(a, "--no-sandbox")) o->no_sandbox = true;
		else if (!strcmp(a, "--audit-days")) {
			NEED();
			if (!num_arg(v, 0, 36500, &n)) return die_usage("bad --audit-days %s", v);
			o->cfg.audit_days = (int)n;
		}
		else if (!strcmp(a, "--stale-days")) {
			NEED();
			if (!num_arg(v, 1, 3650, &n)) return die_usage("bad --stale-days %s", v);
			o->cfg.stale_days = (int)n;
		} else if (!strcmp(a, "--rate") || !strcmp(a, "--burst")) {
			NEED();
			if (!num_arg(v, 0, 1000000, &n)) return die_usage("bad rate/burst %s", v);
			if (a[2] == 'r')
				o->cfg.rate = (double)n;
			else
				o->cfg.burst = (double)n;
		} else if (!strcmp(a, "--max-report-bytes")) {
			NEED();
			if (!num_arg(v, 1024, 1LL << 31, &n)) return die_usage("bad --max-report-bytes %s", v);
			o->cfg.limits.max_bytes = (size_t)n;
		} else if (!strcmp(a, "--max-records")) {
			NEED();
			if (!num_arg(v, 1, 10000000, &n)) return die_usage("bad --max-records %s", v);
			o->cfg.limits.max_records = (size_t)n;
		} else if (!strcmp(a, "--pool")) {
			NEED();
			if (!num_arg(v, 1, 256, &n)) return die_usage("bad --pool %s", v);
			o->cfg.pool = (int)n;
		} else if (!strcmp(a, "--max-connections")) {
			NEED();
			if (!num_arg(v, 1, 100000, &n)) return die_usage("bad --max-connections %s", v);
			o->cfg.max_connections = (int)n;
		} else if (!strcmp(a, "--max-per-address")) {
			NEED();
			if (!num_arg(v, 0, 100000, &n)) return die_usage("bad --max-per-address %s", v);
			o->cfg.max_per_address = (int)n;
		} else if (!strcmp(a, "--request-timeout")) {
			NEED();
			if (!num_arg(v, 1, 86400, &n)) return die_usage("bad --request-timeout %s", v);
			o->cfg.request_timeout = (int)n;
		} else if (!strcmp(a, "--trusted-proxy")) {
			NEED();
			if (o->cfg.ntrusted_proxies == 16)
				return die_usage("at most 16 --trusted-proxy (%s)", v);
			if (!http_req_addr_norm(v, o->cfg.trusted_proxy[o->cfg.ntrusted_proxies], 48))
				return die_usage("--trusted-proxy needs a numeric IPv4 or IPv6 address, not %s", v);
			o->cfg.ntrusted_proxies++;
		} else if (!strcmp(a, "--session-hours")) {
			NEED();
			if (!num_arg(v, 1, 24 * 365, &n)) return die_usage("bad --session-hours %s", v);
			o->cfg.session_hours = (int)n;
		} else if (a[0] == '-' && a[1]) {
			return die_usage("unknown option %s", a);
		} else {
			if (o->npos == 64)
				return die_usage("too many arguments (%s)", a);
			o->positional[o->npos++] = a;
		}
#undef NEED
	}
	return 0;
}

static struct store *open_store(struct opts *o, int pool)
{
	struct buf err = BUF_INIT;
	struct store *st = store_open(o->cfg.db_url, pool, &err);
	if (!st)
		fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
	buf_free(&err);
	return st;
}

/* ---- token and user (issue 20 point 9: store_team.h) ---- */

static const struct store_actor CLI_ACTOR = {"cli", ""};

/* an epoch time as ISO 8601 UTC ("never" for 0) */
static const char *iso(long long t, char out[32])
{
	if (!t)
		return strcpy(out, "never");
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

/* the NAME of token revoke / delete: --name NAME or the word after */
static const char *sub_name(struct opts *o)
{
	return o->name ? o->name : o->npos > 2 ? o->positional[2] : NULL;
}

static int cmd_token(struct opts *o)
{
	const char *sub = o->npos > 1 ? o->positional[1] : "";
	const char *name = sub_name(o);
	struct buf err = BUF_INIT;
	int rc = 0;
	if (strcmp(sub, "create") && strcmp(sub, "revoke") && strcmp(sub, "delete"))
		return die_usage("token needs create, revoke, delete or list%s", "");
	if (!name || !*name || strlen(name) > 128)
		return die_usage("token %s needs --name NAME", sub);
	const char *role = o->role ? o->role : "agent";
	/* metrics: GET /metrics only (metrics.h) */
	if (!strcmp(sub, "create") && strcmp(role, "agent") && strcmp(role, "read") && strcmp(role, "metrics"))
		return die_usage("--role must be agent, read or metrics, not %s", role);
	struct store *st = open_store(o, 1);
	if (!st)
		return 1;
	if (strcmp(sub, "create")) {
		bool del = !strcmp(sub, "delete");
		rc = (del ? store_token_delete(st, name, &CLI_ACTOR, &err)
			  : store_token_revoke_by(st, name, (long long)time(NULL), &CLI_ACTOR, &err)) ? 1 : 0;
		if (rc)
			fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
		else
			fprintf(stderr, "log4scan-server: token %s %s\n", name, del ? "deleted" : "revoked");
	} else {
		struct buf tok = BUF_INIT;
		char hex[65];
		if (auth_new_token(&tok)) {
			fprintf(stderr, "log4scan-server: no randomness available\n");
			rc = 1;
		} else {
			auth_sha256_hex(tok.data, tok.len, hex);
			if (store_token_create(st, name, role, hex, (long long)time(NULL), &CLI_ACTOR, &err)) {
				fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
				rc = 1;
			} else {
				/* printed once: only its hash is kept */
				printf("%s\n", buf_cstr(&tok));
				fprintf(stderr, "log4scan-server: %s token \"%s\" created; it is shown only once\n", role,
					name);
			}
		}
		buf_free(&tok);
	}
	buf_free(&err);
	store_close(st);
	return rc;
}

static int print_token_row(void *ctx, const struct dbrow *r)
{
	(void)ctx;
	char c[32], u[32], v[32];
	printf("%-24s %-6s created %s  last used %-20s %s%s\n", dbrow_text(r, 0), dbrow_text(r, 1),
	       iso(dbrow_int(r, 2), c), iso(dbrow_int(r, 4), u), dbrow_int(r, 3) ? "revoked " : "active",
	       dbrow_int(r, 3) ? iso(dbrow_int(r, 3), v) : "");
	return 0;
}

static int print_user_row(void *ctx, const struct dbrow *r)
{
	(void)ctx;
	char c[32], l[32];
	printf("%-24s %-6s created %s  last login %s\n", dbrow_text(r, 0), dbrow_text(r, 1), iso(dbrow_int(r, 2), c),
	       iso(dbrow_int(r, 3), l));
	return 0;
}

/* token list, user list */
static int cmd_list(struct opts *o, bool users)
{
	struct store *st = open_store(o, 1);
	struct buf err = BUF_INIT;
	if (!st)
		return 1;
	int rc = users ? store_query(st, "SELECT u.name, u.role, u.created, (SELECT MAX(a.at) FROM audit a"
					 " WHERE a.kind = 'login' AND a.subject = u.name) FROM users u ORDER BY u.name",
				     NULL, 0, print_user_row, NULL, &err)
		       : store_query(st, "SELECT name, role, created, revoked, last_used FROM tokens ORDER BY id", NULL, 0,
				     print_token_row, NULL, &err);
	if (rc)
		fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
	buf_free(&err);
	store_close(st);
	return rc ? 1 : 0;
}

static int read_password(const char *file, struct buf *pw)
{
	FILE *f = file ? fopen(file, "r") : stdin;
	if (!f) {
		fprintf(stderr, "log4scan-server: cannot read %s: %s\n", file, strerror(errno));
		return -1;
	}
	struct termios old, quiet;
	bool tty = !file && isatty(0) && tcgetattr(0, &old) == 0;
	if (tty) {
		fputs("password: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSANOW, &quiet);
	}
	char line[1024];
	bool got = fgets(line, sizeof line, f) != NULL;
	if (tty) {
		tcsetattr(0, TCSANOW, &old);
		fputs("\n", stderr);
	}
	if (file)
		fclose(f);
	if (!got)
		return -1;
	line[strcspn(line, "\r\n")] = 0;
	buf_adds(pw, line);
	return 0;
}

/* user add NAME [--role R] | list | delete NAME | role NAME --role R */
static int cmd_user(struct opts *o)
{
	const char *sub = o->npos > 1 ? o->positional[1] : "";
	const char *name = o->npos > 2 ? o->positional[2] : o->name;
	if (!strcmp(sub, "list"))
		return cmd_list(o, true);
	if (strcmp(sub, "add") && strcmp(sub, "delete") && strcmp(sub, "role"))
		return die_usage("user needs add NAME, list, delete NAME or role NAME --role admin|viewer%s", "");
	if (!name || !*name || strlen(name) > 128)
		return die_usage("user %s needs a NAME", sub);
	const char *role = o->role ? o->role : !strcmp(sub, "role") && o->npos > 3 ? o->positional[3] : NULL;
	if ((role || !strcmp(sub, "role")) && !store_role_valid(role))
		return die_usage("--role must be admin or viewer%s", "");
	struct buf pw = BUF_INIT, hash = BUF_INIT, err = BUF_INIT;
	int rc = 1;
	if (strcmp(sub, "add")) {
		struct store *st = open_store(o, 1);
		if (!st)
			return 1;
		bool del = !strcmp(sub, "delete");
		if (del ? store_user_delete(st, name, true, &CLI_ACTOR, &err)
			: store_user_role(st, name, role, &CLI_ACTOR, &err)) {
			fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
		} else {
			fprintf(stderr, "log4scan-server: user %s %s%s\n", name, del ? "deleted" : "is now ", del ? "" : role);
			rc = 0;
		}
		store_close(st);
		buf_free(&err);
		return rc;
	}
	if (read_password(o->password_file, &pw) || pw.len < 8) {
		fprintf(stderr, "log4scan-server: give a password of at least 8 characters on stdin or with --password-file\n");
		goto out;
	}
	if (auth_password_hash(buf_cstr(&pw), &hash, &err)) {
		fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
		goto out;
	}
	struct store *st = open_store(o, 1);
	if (!st)
		goto out;
	char given[16] = "";
	if (store_user_save(st, name, buf_cstr(&hash), role, o->replace, &CLI_ACTOR, given, &err))
		fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
	else {
		fprintf(stderr, "log4scan-server: user %s %s (role %s)\n", name, o->replace ? "set" : "added", given);
		rc = 0;
	}
	store_close(st);
out:
	buf_free(&pw);
	buf_free(&hash);
	buf_free(&err);
	return rc;
}

static int cmd_check(struct opts *o)
{
	const char *file = o->npos > 1 ? o->positional[1] : NULL;
	FILE *f = file ? fopen(file, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "log4scan-server: cannot read %s: %s\n", file, strerror(errno));
		return 2;
	}
	struct buf body = BUF_INIT, err = BUF_INIT;
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(&body, tmp, n);
	if (file)
		fclose(f);
	struct report r;
	int rc = 0;
	if (report_parse(&r, body.data ? body.data : "", body.len, &o->cfg.limits, &err)) {
		struct buf out = BUF_INIT;
		buf_adds(&out, "{\"valid\":false,\"error\":");
		jsonw_cstr(&out, buf_cstr(&err));
		buf_adds(&out, "}\n");
		fputs(buf_cstr(&out), stdout);
		buf_free(&out);
		rc = 1;
	} else {
		struct buf ident = BUF_INIT, out = BUF_INIT;
		report_device_ident(&r, &ident);
		buf_printf(&out, "{\"valid\":true,\"report_id\":\"%s\",\"device\":", r.report_id);
		jsonw_cstr(&out, buf_cstr(&ident));
		buf_adds(&out, ",\"command\":");
		jsonw_cstr(&out, r.command);
		buf_printf(&out, ",\"findings\":%zu,\"processes\":%zu,\"attempts\":%zu,\"errors\":%zu,\"unknown\":%zu}\n",
			   r.n_findings, r.n_processes, r.n_attempts, r.n_errors, r.n_unknown);
		fputs(buf_cstr(&out), stdout);
		buf_free(&out);
		buf_free(&ident);
		report_free(&r);
	}
	buf_free(&body);
	buf_free(&err);
	return rc;
}

/* a line that starts a report envelope starts a report (several reports
 * may follow one another in a file, as `cat *.json` makes them) */
static bool envelope_line(const char *p, size_t n)
{
	static const char start[] = "{\"kind\":\"report\"";
	return n >= sizeof start - 1 && !memcmp(p, start, sizeof start - 1);
}

/* Store the reports of one file as if their agents had sent them (token id
 * 0 in their history: imported).  Returns how many failed. */
static int import_file(struct opts *o, struct store *st, const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "log4scan-server: import: cannot read %s: %s\n", file, strerror(errno));
		return 1;
	}
	struct buf body = BUF_INIT;
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0 && body.len <= 16 * o->cfg.limits.max_bytes)
		buf_add(&body, tmp, n);
	if (f != stdin)
		fclose(f);
	int failed = 0, index = 0;
	const char *p = body.data ? body.data : "";
	for (size_t at = 0, end; at < body.len || !index; at = end) {
		end = at;
		do {
			const char *nl = memchr(p + end, '\n', body.len - end);
			end = nl ? (size_t)(nl - p) + 1 : body.len;
		} while (end < body.len && !envelope_line(p + end, body.len - end));
		index++;
		struct report r;
		struct buf err = BUF_INIT;
		struct ingest_result res;
		if (report_parse(&r, p + at, end - at, &o->cfg.limits, &err)) {
			fprintf(stderr, "log4scan-server: import: %s: report %d: %s\n", file, index, buf_cstr(&err));
			failed++;
		} else if ((store_rules_judge_report(st, &r), store_ingest(st, &r, 0, (long long)time(NULL), &res, &err))) {
			fprintf(stderr, "log4scan-server: import: %s: report %s: %s\n", file, r.report_id, buf_cstr(&err));
			failed++;
			report_free(&r);
		} else {
			printf("{\"imported\":true,\"report_id\":\"%s\",\"duplicate\":%s,\"device_id\":%lld}\n", r.report_id,
			       res.duplicate ? "true" : "false", res.device_id);
			report_free(&r);
		}
		buf_free(&err);
		if (!body.len)
			break;
	}
	buf_free(&body);
	return failed;
}

static int cmd_import(struct opts *o)
{
	if (o->npos < 2)
		return die_usage("import needs %s", "a FILE (or - for standard input)");
	struct store *st = open_store(o, 1);
	if (!st)
		return 1;
	int failed = 0;
	for (int i = 1; i < o->npos; i++)
		failed += import_file(o, st, o->positional[i]);
	store_close(st);
	return failed ? 1 : 0;
}

static double rules_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ctx: the time of the last batch (what follows it is the final step) */
static void rules_progress(void *ctx, long long done, long long total)
{
	*(double *)ctx = rules_now();
	fprintf(stderr, "log4scan-server: rules: %lld of %lld findings judged\n", done, total);
}

static int rules_activate(struct store *st, long long id)
{
	struct buf err = BUF_INIT;
	double t0 = rules_now(), batches = t0;
	int rc = store_rules_activate(st, id, (long long)time(NULL), rules_progress, &batches, &err);
	double t1 = rules_now();
	if (rc)
		fprintf(stderr, "log4scan-server: rules: %s\n", buf_cstr(&err));
	else
		fprintf(stderr, "log4scan-server: rules %lld active: every stored finding with facts judged by them"
				" (batches %.1f s, final step %.1f s)\n",
			id, batches - t0, t1 - batches);
	buf_free(&err);
	return rc ? 1 : 0;
}

static bool rules_id_arg(const char *s, long long *id)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return false;
	*id = v;
	return true;
}

/* rules load FILE | list | show ID | rollback ID (store_rules.h) */
static int cmd_rules(struct opts *o)
{
	const char *sub = o->npos > 1 ? o->positional[1] : "";
	const char *arg = o->npos > 2 ? o->positional[2] : NULL;
	long long id = 0;
	if (!strcmp(sub, "load") ? !arg
	    : !strcmp(sub, "show") || !strcmp(sub, "rollback") ? !arg || !rules_id_arg(arg, &id)
	    : strcmp(sub, "list"))
		return die_usage("rules needs load FILE, list, show ID or rollback ID%s", "");
	struct buf text = BUF_INIT, err = BUF_INIT;
	if (!strcmp(sub, "load")) {
		/* read and check the file before touching the database */
		FILE *f = fopen(arg, "rb");
		if (!f) {
			fprintf(stderr, "log4scan-server: %s: %s\n", arg, strerror(errno));
			return 1;
		}
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len < (8u << 20))
			buf_add(&text, chunk, n);
		bool bad = ferror(f) || text.len >= (8u << 20);
		fclose(f);
		if (bad) {
			fprintf(stderr, "log4scan-server: %s: cannot read it (or larger than 8 MiB)\n", arg);
			buf_free(&text);
			return 1;
		}
	}
	struct store *st = open_store(o, 1);
	if (!st) {
		buf_free(&text);
		return 1;
	}
	int rc = 0;
	if (!strcmp(sub, "load")) {
		if (store_rules_add(st, arg, text.data ? text.data : "", text.len, (long long)time(NULL), &id, &err)) {
			fprintf(stderr, "log4scan-server: rules not loaded: %s\n", buf_cstr(&err));
			rc = 1;
		} else {
			fprintf(stderr, "log4scan-server: %s loaded as rules %lld\n", arg, id);
			rc = rules_activate(st, id);
		}
	} else if (!strcmp(sub, "rollback")) {
		int found = store_rules_body(st, id, &text, &err);
		if (found != 1) {
			fprintf(stderr, "log4scan-server: rules: %s\n", found < 0 ? buf_cstr(&err) : "no rules with that id");
			rc = 1;
		} else {
			rc = rules_activate(st, id);
		}
	} else if (!strcmp(sub, "show")) {
		int found = store_rules_body(st, id, &text, &err);
		if (found != 1) {
			fprintf(stderr, "log4scan-server: rules: %s\n", found < 0 ? buf_cstr(&err) : "no rules with that id");
			rc = 1;
		} else {
			fwrite(text.data, 1, text.len, stdout);
		}
	} else {
		struct buf out = BUF_INIT;
		if (store_rules_json(st, &out, &err)) {
			fprintf(stderr, "log4scan-server: rules: %s\n", buf_cstr(&err));
			rc = 1;
		} else {
			printf("%s\n", buf_cstr(&out));
		}
		buf_free(&out);
	}
	buf_free(&text);
	buf_free(&err);
	store_close(st);
	return rc;
}

static int print_device_row(void *ctx, const struct dbrow *r)
{
	(void)ctx;
	char t[32];
	printf("%-8lld %-32s retired %s  %s\n", dbrow_int(r, 0), dbrow_text(r, 1), iso(dbrow_int(r, 2), t),
	       dbrow_text(r, 3));
	return 0;
}

/* device list-retired | retire ID | unretire ID | delete ID (store_team.h) */
static int cmd_device(struct opts *o)
{
	const char *sub = o->npos > 1 ? o->positional[1] : "";
	long long id = 0;
	bool list = !strcmp(sub, "list-retired");
	if (!list && ((strcmp(sub, "retire") && strcmp(sub, "unretire") && strcmp(sub, "delete")) || o->npos < 3 ||
		      !rules_id_arg(o->positional[2], &id)))
		return die_usage("device needs list-retired, retire ID, unretire ID or delete ID%s", "");
	struct store *st = open_store(o, 1);
	if (!st)
		return 1;
	struct buf err = BUF_INIT;
	int rc = 1, found;
	bool changed = true;
	long long now = (long long)time(NULL);
	if (list) {
		found = store_query(st, "SELECT id, hostname, retired, ident FROM devices WHERE retired <> 0 ORDER BY id",
				    NULL, 0, print_device_row, NULL, &err) ? -1 : 1;
	} else if (!strcmp(sub, "delete")) {
		found = store_device_delete(st, id, now, &CLI_ACTOR, &err);
	} else {
		found = store_device_retire(st, id, !strcmp(sub, "retire"), now, &CLI_ACTOR, &changed, &err);
	}
	if (found < 0)
		fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
	else if (!found)
		fprintf(stderr, "log4scan-server: no device %lld\n", id);
	else {
		if (!list)
			fprintf(stderr, "log4scan-server: device %lld %s%s\n", id, changed ? "" : "was already ",
				!strcmp(sub, "delete") ? "deleted" : !strcmp(sub, "retire") ? "retired" : "active");
		rc = 0;
	}
	buf_free(&err);
	store_close(st);
	return rc;
}

/* --audit-days: delete audit rows older than that (logged when any) */
static void audit_prune(struct server *srv)
{
	if (!srv->cfg.audit_days)
		return;
	struct buf err = BUF_INIT;
	long long n = 0;
	if (store_audit_prune(srv->st, (long long)time(NULL) - srv->cfg.audit_days * 86400LL, &n, &err))
		fprintf(stderr, "log4scan-server: pruning the audit log: %s\n", buf_cstr(&err));
	else if (n)
		fprintf(stderr, "log4scan-server: audit log: %lld rows older than %d days deleted\n", n, srv->cfg.audit_days);
	buf_free(&err);
}

/* the main thread's wait: a signal of set (returned), or an hour gone (the
 * audit log pruned, 0 returned) */
static int audit_wait(struct server *srv, const sigset_t *set)
{
	struct timespec hour = {3600, 0};
	int sig = sigtimedwait(set, NULL, &hour);
	if (sig > 0)
		return sig;
	if (errno == EAGAIN)
		audit_prune(srv);
	return 0;
}

static int cmd_serve(struct opts *o)
{
	struct server srv;
	memset(&srv, 0, sizeof srv);
	srv.cfg = o->cfg;
	if (!!srv.cfg.tls_cert != !!srv.cfg.tls_key) {
		fprintf(stderr, "log4scan-server: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (srv.cfg.tls_cert)
		srv.cfg.secure_cookies = true;
	/* signals: handled by this thread only */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	srv.st = open_store(o, srv.cfg.pool);
	if (!srv.st)
		return 1;
	/* callback hosts' domains to block (issue 20); read before the threads */
	if (regdomain_load(REGDOMAIN_LIST))
		fprintf(stderr, "log4scan-server: %s: cannot read (install publicsuffix); callback hosts get no domain\n",
			REGDOMAIN_LIST);
	store_start_merger(srv.st);
	struct buf err = BUF_INIT;
	/* webhook deliveries: libcurl initialised before the sandbox */
	struct webhook_opts wo = {srv.cfg.webhook_backoff, srv.cfg.webhook_attempts, 10, 30};
	struct webhook_sender *ws = webhook_sender_start(srv.st, &wo, &err);
	if (!ws) {
		fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
		buf_free(&err);
		store_close(srv.st);
		return 1;
	}
	struct server_http *h = http_start(&srv, &err);
	if (!h) {
		fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
		buf_free(&err);
		webhook_sender_stop(ws);
		store_close(srv.st);
		return 1;
	}
	/* everything opened and bound: from here on, the allow-list (server_sandbox.h) */
	if (!o->no_sandbox && server_sandbox_install(&err)) {
		fprintf(stderr, "log4scan-server: %s\n", buf_cstr(&err));
		http_stop(h);
		webhook_sender_stop(ws);
		store_close(srv.st);
		buf_free(&err);
		return 1;
	}
	char host[256];
	const char *colon = strrchr(srv.cfg.listen, ':');
	snprintf(host, sizeof host, "%.*s", (int)(colon - srv.cfg.listen), srv.cfg.listen);
	audit_prune(&srv);
	fprintf(stderr, "log4scan-server: listening on %s://%s:%u (database %s, schema version %d)\n",
		srv.cfg.tls_cert ? "https" : "http", host, http_port(h),
		db_kind(srv.st->db) == DB_PG ? "PostgreSQL" : srv.cfg.db_url, srv.st->schema_version);
	fflush(stderr);
	/* the main thread waits for a signal, and prunes the audit log once an
	 * hour (and once before listening, above) */
	int sig = 0;
	while ((sig = audit_wait(&srv, &set)) <= 0)
		;
	fprintf(stderr, "log4scan-server: signal %d, stopping\n", sig);
	http_stop(h);
	webhook_sender_stop(ws);
	store_close(srv.st);
	buf_free(&err);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof o);
	struct report_limits lim = REPORT_LIMITS_DEFAULT;
	o.cfg.limits = lim;
	o.cfg.listen = "127.0.0.1:8080";
	o.cfg.db_url = getenv("LOG4SCAN_DB") ? getenv("LOG4SCAN_DB") : "log4scan.db";
	o.cfg.stale_days = 7;
	o.cfg.audit_days = 365;
	o.cfg.rate = 100;
	o.cfg.burst = 1000;
	o.cfg.max_connections = 512;
	o.cfg.max_per_address = 32;
	o.cfg.request_timeout = 60;
	o.cfg.session_hours = 12;
	o.cfg.webhook_backoff = 30;
	o.cfg.webhook_attempts = 8;
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("log4scan-server %s (schema version %d)\n", L4S_VERSION, store_latest_schema());
		return 0;
	}
	if (parse_opts(argc - 1, argv + 1, &o))
		return 2;
	if (!o.cfg.pool)
		o.cfg.pool = strncmp(o.cfg.db_url, "postgres", 8) ? 8 : 16;
	const char *cmd = o.npos ? o.positional[0] : "serve";
	if (!strcmp(cmd, "serve"))
		return cmd_serve(&o);
	if (!strcmp(cmd, "token"))
		return o.npos > 1 && !strcmp(o.positional[1], "list") ? cmd_list(&o, false) : cmd_token(&o);
	if (!strcmp(cmd, "user"))
		return cmd_user(&o);
	if (!strcmp(cmd, "check-report"))
		return cmd_check(&o);
	if (!strcmp(cmd, "import"))
		return cmd_import(&o);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(&o);
	if (!strcmp(cmd, "webhook")) {
		struct store *st = open_store(&o, 1);
		if (!st)
			return 1;
		int rc = webhook_cli(st, o.positional + 1, o.npos - 1, o.secret_file, o.events);
		store_close(st);
		return rc;
	}
	if (!strcmp(cmd, "device"))
		return cmd_device(&o);
	if (!strcmp(cmd, "migrate")) {
		struct store *st = open_store(&o, 1);
		if (!st)
			return 1;
		fprintf(stderr, "log4scan-server: schema version %d\n", st->schema_version);
		store_close(st);
		return 0;
	}
	return die_usage("unknown command %s", cmd);
}
