/* test_fmt.c - unit tests of the ecosystem helpers: the configuration file
 * (programs/cli_config.c), the syslog message (programs/cli_syslog.c), the
 * progress line (programs/cli_progress.c) and URI escaping (fmt_csv.c). */
#include <stdlib.h>
#include <unistd.h>

#include "../../programs/cli_config.h"
#include "../../programs/cli_progress.h"
#include "../../programs/cli_syslog.h"
#include "report/formats.h"
#include "unit.h"

static const struct option opts[] = {
	{"format", required_argument, NULL, 1},
	{"output", required_argument, NULL, 'o'},
	{"exclude", required_argument, NULL, 2},
	{"one-file-system", no_argument, NULL, 3},
	{"cache", optional_argument, NULL, 4},
	{"quiet", no_argument, NULL, 'q'},
	{NULL, 0, NULL, 0},
};

static char *joined(const struct cli_config_args *a)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < a->argc; i++)
		buf_printf(&b, "%s%s", i ? "|" : "", a->argv[i]);
	return buf_detach(&b);
}

static void test_config(void)
{
	struct cli_config_args a = {0};
	struct buf err = BUF_INIT;
	const char *text = "# comment\n"
			   "  format = csv  \n"
			   "\n"
			   "exclude /srv/a b/*\n"
			   "exclude=-x\n"
			   "one-file-system = yes\n"
			   "cache = no\n"
			   "output = \" spaced \"\r\n"
			   "quiet off";
	int rc = cli_config_parse(text, strlen(text), "t.conf", opts, &a, &err);
	char *j = joined(&a);
	CHECK("config parses", rc == 0);
	CHECK_STR("config arguments", j,
		  "--format=csv|--exclude=/srv/a b/*|--exclude=-x|--one-file-system|--output= spaced ");
	free(j);
	cli_config_args_free(&a);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{"format = csv\nbogus = 1\n", "t.conf:2: unknown option 'bogus'"},
		{"one-file-system = maybe\n", "t.conf:1: 'one-file-system' is a flag: yes or no, not 'maybe'"},
		{"format\n", "t.conf:1: 'format' needs a value"},
		{"config = /x\n", "t.conf:1: unknown option 'config'"},
		{"Format = csv\n", "t.conf:1: expected 'name = value'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		buf_reset(&err);
		struct cli_config_args z = {0};
		rc = cli_config_parse(bad[i].text, strlen(bad[i].text), "t.conf", opts, &z, &err);
		char name[64];
		snprintf(name, sizeof name, "config rejects case %zu", i);
		CHECK(name, rc < 0);
		snprintf(name, sizeof name, "config rejects case %zu: message", i);
		CHECK_STR(name, buf_cstr(&err), bad[i].want);
		cli_config_args_free(&z);
	}

	/* cache = yes: the option without a value; cache = FILE: with it. */
	const char *c2 = "cache = yes\ncache = /var/x\n";
	cli_config_args_free(&a);
	buf_reset(&err);
	cli_config_parse(c2, strlen(c2), "t.conf", opts, &a, &err);
	j = joined(&a);
	CHECK_STR("config optional values", j, "--cache|--cache=/var/x");
	free(j);
	cli_config_args_free(&a);

	/* Building argv: file options first, --config/--no-config removed, an
	 * option value that looks like --config is left alone. */
	char tmpl[] = "/tmp/l4s-conf-XXXXXX";
	int fd = mkstemp(tmpl);
	const char *file = "format = sarif\nexclude = /a\n";
	CHECK("temp config written", fd >= 0 && write(fd, file, strlen(file)) == (ssize_t)strlen(file));
	close(fd);
	char *argv1[] = {"scan", "--exclude", "--config", "--config", tmpl, "-o", "--no-config", "/srv", NULL};
	buf_reset(&err);
	rc = cli_config_args_build(8, argv1, "/nonexistent/agent.conf", opts, &a, &err);
	j = joined(&a);
	CHECK("config build ok", rc == 0);
	CHECK_STR("config build argv", j, "scan|--format=sarif|--exclude=/a|--exclude|--config|-o|--no-config|/srv");
	CHECK("config build argv NULL-terminated", a.argv[a.argc] == NULL);
	free(j);
	cli_config_args_free(&a);

	char *argv2[] = {"scan", "--no-config", "--format", "json", NULL};
	buf_reset(&err);
	rc = cli_config_args_build(4, argv2, tmpl, opts, &a, &err);
	j = joined(&a);
	CHECK_STR("--no-config reads nothing", j, "scan|--format|json");
	free(j);
	cli_config_args_free(&a);

	char *argv3[] = {"scan", "/srv", NULL};
	buf_reset(&err);
	rc = cli_config_args_build(2, argv3, "/nonexistent/agent.conf", opts, &a, &err);
	CHECK("missing default config is fine", rc == 0 && a.argc == 2);
	cli_config_args_free(&a);

	char *argv4[] = {"scan", "--config=/nonexistent/x.conf", NULL};
	buf_reset(&err);
	rc = cli_config_args_build(2, argv4, NULL, opts, &a, &err);
	CHECK("missing named config is an error", rc < 0 && strstr(buf_cstr(&err), "/nonexistent/x.conf"));
	cli_config_args_free(&a);
	unlink(tmpl);
	buf_free(&err);
}

static void test_syslog(void)
{
	static struct rule_cve c1 = {.id = "CVE-2021-44228", .cvss = 10.0};
	static struct rule_cve c2 = {.id = "CVE-2021-45046", .cvss = 9.0};
	struct finding f = {0};
	f.comp = COMP_CORE;
	strcpy(f.version, "2.14.1");
	f.status = ST_VULNERABLE;
	f.cves[0] = &c1;
	f.ncves = 1;
	f.mitigated[0] = &c2;
	f.nmitigated = 1;
	f.severity = "critical";
	f.path = "/srv/a \"b\" ]c\\d.jar!/x.jar";
	struct buf b = BUF_INIT;
	cli_syslog_format(&b, &f);
	CHECK_STR("syslog message", buf_cstr(&b),
		  "[log4scan@32473 path=\"/srv/a \\\"b\\\" \\]c\\\\d.jar!/x.jar\" component=\"log4j-core\" "
		  "version=\"2.14.1\" status=\"vulnerable\" severity=\"critical\" cves=\"CVE-2021-44228\" "
		  "mitigated_cves=\"CVE-2021-45046\"] log4j-core 2.14.1 vulnerable (critical): "
		  "/srv/a \\\"b\\\" \\]c\\\\d.jar!/x.jar");
	buf_reset(&b);
	f.path = "/srv/caf\xe9\n.jar";
	cli_syslog_format(&b, &f);
	CHECK("syslog hostile path: no newline", !strchr(buf_cstr(&b), '\n'));
	CHECK("syslog hostile path: replaced and b64",
	      strstr(buf_cstr(&b), "path=\"/srv/caf??.jar\" path_b64=\"L3Nydi9jYWbpCi5qYXI=\""));
	buf_free(&b);
}

static void test_progress(void)
{
	struct buf b = BUF_INIT;
	cli_progress_line(&b, 1500, 20, 3 << 20, 2.0, "/usr/share/java", 120);
	CHECK_STR("progress line", buf_cstr(&b),
		  "1500 files, 20 archives, 3.0 MiB (750 files/s, 1.5 MiB/s)  /usr/share/java");
	buf_reset(&b);
	cli_progress_line(&b, 1500, 20, 3 << 20, 2.0, "/very/long/directory/name/that/does/not/fit/here", 70);
	CHECK("progress line fits 70 columns", b.len <= 69);
	CHECK("progress line keeps the tail of the directory", strstr(buf_cstr(&b), "...") &&
	      b.len >= 5 && !strcmp(b.data + b.len - 5, "/here"));
	buf_reset(&b);
	cli_progress_line(&b, 1, 0, 10, 1.0, "/tmp/\x1b[31mred", 120);
	CHECK("progress line escapes terminal controls", !strchr(buf_cstr(&b), '\x1b'));
	buf_reset(&b);
	cli_progress_line(&b, 123456789, 1234567, 1ULL << 40, 1000.0, "/x", 20);
	CHECK("progress line narrow terminal", b.len <= 19);
	buf_free(&b);
}

static void test_uri(void)
{
	struct buf b = BUF_INIT;
	fmt_uri_escape(&b, "/srv/a b%,\xe9~.jar", 16, true);
	CHECK_STR("uri escape path", buf_cstr(&b), "/srv/a%20b%25%2C%E9~.jar");
	buf_reset(&b);
	fmt_uri_escape(&b, "2.0-beta9/x@y", 13, false);
	CHECK_STR("uri escape purl segment", buf_cstr(&b), "2.0-beta9%2Fx%40y");
	buf_free(&b);
}

int main(void)
{
	test_config();
	test_syslog();
	test_progress();
	test_uri();
	UNIT_EXIT();
}
