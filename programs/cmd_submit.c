/* cmd_submit.c - `log4scan submit FILE...`: send saved reports to the
 * collector.
 *
 * For hosts that cannot send their own: the static agent (no transport is
 * linked into it) and air-gapped hosts write their report with
 * `scan --format json -o FILE`; the file is carried to a host that reaches
 * the collector and sent from there.  Each report goes as it was written:
 * its envelope names the host that wrote it, so it lands on that host's
 * device, not on the sender's.  A file may hold several reports one after
 * the other (`cat *.json | log4scan submit -`): each line that starts an
 * envelope starts a report.  Delivery is that of --submit (lib/submit/submit.c):
 * reports spooled when the collector cannot be reached, sent again with
 * their report id so the collector takes each once; refused reports and
 * wrong tokens fail loudly. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_config.h"
#include "submit/envelope.h"
#include "submit_cli.h"
#include "sys/sandbox.h"
#include "util/buf.h"

enum { OPT_SUBMITOPT = 256 };
const struct option submit_options[] = {
	SUBMIT_SEND_OPTIONS(OPT_SUBMITOPT)
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#ifdef L4S_NO_SUBMIT
int cmd_submit(int argc, char **argv)
{
	(void)argc, (void)argv;
	cli_error("submit: this build (the static agent) has no HTTP/TLS transport: copy the report "
		  "(`log4scan scan --format json -o FILE`) to a host with the packaged log4scan and run "
		  "`log4scan submit FILE` there (README, \"Enrolling hosts\")");
	return EXIT_FAILED;
}
#else

#define MAX_FILE (256u << 20) /* the spool's own bound */

static const char submit_usage[] =
	"usage: log4scan submit [OPTIONS] FILE|- ...\n"
	"\n"
	"Send reports saved with `log4scan scan|ps|logs --format json -o FILE` (on this\n"
	"host or another: each report keeps the identity of the host that wrote it) to\n"
	"a log4scan-server collector.  A file may hold several reports; - reads standard\n"
	"input.  Reports the collector cannot take now are spooled and sent by the next\n"
	"run, as with --submit.\n"
	"\n"
	SUBMIT_SEND_USAGE
	CLI_CONFIG_USAGE
	"  -h, --help\n"
	"\n"
	"Exit status: 0 every report sent or spooled, 2 a file could not be read, was not\n"
	"a report, or the collector refused a report (the reason is printed).\n";

/* read a whole file (or standard input), at most MAX_FILE bytes */
static bool slurp(const char *path, struct buf *b)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		cli_error("submit: cannot read %s: %s", path, strerror(errno));
		return false;
	}
	char chunk[65536];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof chunk)) > 0 && b->len <= MAX_FILE)
		buf_add(b, chunk, (size_t)r);
	int e = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	if (r < 0) {
		cli_error("submit: cannot read %s: %s", path, strerror(e));
		return false;
	}
	if (b->len > MAX_FILE) {
		cli_error("submit: %s is larger than %u MiB", path, MAX_FILE >> 20);
		return false;
	}
	return true;
}

static bool envelope_at(const char *p, size_t n)
{
	static const char start[] = "{\"kind\":\"report\"";
	return n >= sizeof start - 1 && !memcmp(p, start, sizeof start - 1);
}

/* Send the reports of one file; false when any could not be. */
static bool submit_file(struct submit_cli *sc, const char *path)
{
	struct buf b = BUF_INIT;
	if (!slurp(path, &b)) {
		buf_free(&b);
		return false;
	}
	const char *p = b.data ? b.data : "";
	size_t n = b.len;
	char id[37];
	if (!n || !envelope_at(p, n) || !envelope_report_id(p, n, id)) {
		cli_error("submit: %s: line 1 is not a report envelope ({\"kind\":\"report\",\"report_id\":...}): "
			  "write the report with `log4scan scan --format json` of this version (docs/schema.md)",
			  path);
		buf_free(&b);
		return false;
	}
	bool ok = true;
	size_t reports = 0;
	for (size_t at = 0; at < n;) {
		/* this report runs to the next line that starts an envelope */
		size_t end = at;
		do {
			const char *nl = memchr(p + end, '\n', n - end);
			end = nl ? (size_t)(nl - p) + 1 : n;
		} while (end < n && !envelope_at(p + end, n - end));
		if (!envelope_report_id(p + at, end - at, id)) {
			cli_error("submit: %s: report %zu has no report_id in its envelope", path, reports + 1);
			ok = false;
		} else if (submit_cli_send(sc, p + at, end - at) < 0) {
			ok = false;
		}
		reports++;
		at = end;
	}
	buf_free(&b);
	return ok;
}

int cmd_submit(int argc, char **argv)
{
	if (cli_config_command(&argc, &argv, submit_options) < 0)
		return EXIT_FAILED;
	struct submit_cli sc = {0};
	int c, li = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", submit_options, &li)) != -1) {
		switch (c) {
		case OPT_SUBMITOPT: {
			bool bad;
			submit_cli_option(&sc, submit_options[li].name, optarg, &bad);
			if (bad)
				return EXIT_FAILED;
			break;
		}
		case 'h': fputs(submit_usage, stdout); return EXIT_CLEAN;
		default: fputs(submit_usage, stderr); return EXIT_FAILED;
		}
	}
	if (optind >= argc) {
		cli_error("submit: no report given (FILE, or - for standard input; try --help)");
		return EXIT_FAILED;
	}
	if (!sc.url) {
		cli_error("submit: no collector given: --submit URL (or submit = URL in the configuration)");
		return EXIT_FAILED;
	}
	if (!submit_cli_ready(&sc, true))
		return EXIT_FAILED;
	/* sandbox.h, role submit: the network and the spool, nothing else */
	cli_confine(SANDBOX_SUBMIT, false, true);
	bool ok = true;
	for (int i = optind; i < argc; i++)
		ok &= submit_file(&sc, argv[i]);
	submit_cli_free(&sc);
	return ok ? EXIT_CLEAN : EXIT_FAILED;
}
#endif
