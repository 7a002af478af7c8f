/* cmd_ps.c - `log4scan ps`: which running JVMs have a vulnerable Log4j
 * loaded.  Lowers its own priority, locks itself down with the seccomp
 * sandbox, then lets lib/proc/proc_linux.c walk /proc (through lib/proc/procfs_linux.c only) and
 * prints one block (text) or one "process" record plus its "finding"
 * records (JSON Lines) per JVM, and a summary. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_config.h"
#include "proc/proc.h"
#include "report/proc_report.h"
#include "report/report.h"
#include "rules/rules.h"
#include "scan/scan.h"
#include "submit_cli.h"
#include "sys/sandbox.h"

static const char ps_usage[] =
#ifdef _WIN32
	"usage: log4scan ps [OPTIONS] [PATH...]\n"
	"\n"
	"List the processes that have a Log4j-bearing jar open: the jars under PATH\n"
	"(default: every fixed drive) are found by scanning, then the Restart Manager is\n"
	"asked which processes use each one - no process is ever opened or read.\n"
	"\n"
	"  --format text|json     text on a terminal, JSON Lines otherwise\n"
	"  -o, --output FILE      write the report to FILE\n"
	"  --priority low|normal  low (default): background processing mode\n"
	FAIL_ON_USAGE
	SUBMIT_USAGE
	CLI_CONFIG_USAGE
	"  -h, --help\n"
	"\n"
	"Exit status: 0 no vulnerable process, 1 a vulnerable one found, 2 the command failed.\n";
#else
	"usage: log4scan ps [OPTIONS]\n"
	"\n"
	"List every running JVM with the Log4j it has loaded (open or mapped jars, nested\n"
	"jars in fat jars included), its status and CVEs, the ports it listens on, the\n"
	"mitigations visible on its command line, and whether it must be restarted because\n"
	"the jar it loaded has been replaced on disk.  Only /proc/PID/{stat,status,cmdline,\n"
	"cgroup,maps,fd,map_files,root,net} are read: never process memory.\n"
	"\n"
	"  --format text|json     text on a terminal, JSON Lines otherwise\n"
	"  -o, --output FILE      write the report to FILE\n"
	"  --read-environ         also read /proc/PID/environ of JVMs, for LOG4J_* variables\n"
	"                         and JAVA_TOOL_OPTIONS (off by default: environments hold\n"
	"                         secrets; only those names are looked at, nothing is printed)\n"
	"  --priority low|normal  low (default): nice 10 and lowest best-effort I/O priority\n"
	FAIL_ON_USAGE
	SUBMIT_USAGE
	CLI_CONFIG_USAGE
	"  -h, --help\n"
	"\n"
	"A JVM whose fd/ or maps cannot be read is listed as \"unknown\" with the file and\n"
	"the error, never as safe: run as root (with CAP_SYS_PTRACE) to inspect them all.\n"
	"Exit status: 0 no vulnerable JVM, 1 a vulnerable JVM found (or one of unknown\n"
	"status; see --fail-on), 2 the command failed.\n";
#endif

enum { OPT_FORMAT = 256, OPT_ENVIRON, OPT_PRIORITY, OPT_FAILON, OPT_SUBMITOPT };

struct ps_out {
	FILE *f;
	bool json;
	struct fail_on fail;
	bool failed;        /* something --fail-on counts */
	struct buf *sub;    /* --submit: the JSON report, for the collector */
	struct buf text[5]; /* exposed, vulnerable, unknown, mitigated, safe */
};

static void on_jvm(void *ctx, struct proc_jvm *j)
{
	struct ps_out *o = ctx;
	for (size_t i = 0; i < j->batch.n; i++)
		if (j->batch.rec[i].kind == REC_FINDING && fail_on_finding(&o->fail, &j->batch.rec[i].f))
			o->failed = true;
	if (fail_on_jvm(&o->fail, j->status))
		o->failed = true;
	if (!o->json) {
		int bucket = j->status == PST_VULNERABLE ? (j->nlistening ? 0 : 1)
			     : j->status == PST_UNKNOWN  ? 2
			     : j->status == PST_MITIGATED ? 3
							  : 4;
		proc_jvm_text(&o->text[bucket], j);
		buf_addc(&o->text[bucket], '\n');
		if (!o->sub)
			return;
	}
	struct buf b = BUF_INIT;
	proc_jvm_json(&b, j);
	buf_addc(&b, '\n');
	for (size_t i = 0; i < j->batch.n; i++) {
		const struct scan_record *r = &j->batch.rec[i];
		if (r->kind == REC_FINDING)
			report_finding_json(&b, &r->f);
		else
			report_error_json(&b, r->path, r->msg);
	}
	if (o->json)
		fwrite(b.data, 1, b.len, o->f);
	if (o->sub)
		buf_add(o->sub, b.data, b.len);
	buf_free(&b);
}

const struct option ps_options[] = {
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	{"read-environ", no_argument, NULL, OPT_ENVIRON},
	{"priority", required_argument, NULL, OPT_PRIORITY},
	{"fail-on", required_argument, NULL, OPT_FAILON},
	SUBMIT_OPTIONS(OPT_SUBMITOPT),
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_ps(int argc, char **argv)
{
	if (cli_config_command(&argc, &argv, ps_options) < 0)
		return EXIT_FAILED;
	const char *format = NULL, *output = NULL;
	struct proc_opts po = {0};
	bool low = true;
	struct fail_on fail = FAIL_ON_DEFAULT;
	struct submit_cli sc = {0};
	int c, li = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", ps_options, &li)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			format = optarg;
			if (!cli_text_or_json("ps", format))
				return EXIT_FAILED;
			break;
		case 'o': output = optarg; break;
		case OPT_ENVIRON: po.read_environ = true; break;
		case OPT_PRIORITY:
			if (!cli_priority(optarg, &low))
				return EXIT_FAILED;
			break;
		case OPT_FAILON:
			if (!cli_fail_on(optarg, &fail))
				return EXIT_FAILED;
			break;
		case OPT_SUBMITOPT: {
			bool bad;
			submit_cli_option(&sc, ps_options[li].name, optarg, &bad);
			if (bad)
				return EXIT_FAILED;
			break;
		}
		case 'h': fputs(ps_usage, stdout); return EXIT_CLEAN;
		default: fputs(ps_usage, stderr); return EXIT_FAILED;
		}
	}
#ifdef _WIN32
	/* Windows finds processes from files (lib/proc/proc_win32.c): where to look
	 * for the jars, every fixed drive by default. */
	po.roots = (const char *const *)(argv + optind);
	po.nroots = (size_t)(argc - optind);
#else
	if (optind < argc) {
		cli_error("ps takes no arguments (try --help)");
		return EXIT_FAILED;
	}
#endif

	bool json = format ? !strcmp(format, "json") : output ? true : !isatty(STDOUT_FILENO);
	if (!submit_cli_ready(&sc, json))
		return EXIT_FAILED;
	/* the envelope before the sandbox: the host's addresses come over a
	 * netlink socket, which the sandbox forbids */
	struct buf envelope = BUF_INIT;
	if (submit_cli_wants_envelope(&sc, json)) {
		char id[37];
		char options[64];
		snprintf(options, sizeof options, "{\"read_environ\":%s}", po.read_environ ? "true" : "false");
		if (submit_cli_envelope(&sc, "ps", options, "{\"processes\":true}", &envelope, id) < 0)
			return EXIT_FAILED;
	}
	/* Restrict ourselves before reading anything (sandbox.h, role ps): the
	 * network and the spool only when a collector was named. */
	cli_confine(SANDBOX_PS, low, sc.url != NULL);
	struct buf err = BUF_INIT;

	struct rules *rules = rules_default(&err);
	if (!rules) {
		cli_error("built-in rules: %s", buf_cstr(&err));
		buf_free(&err);
		buf_free(&envelope);
		return EXIT_FAILED;
	}
	buf_free(&err);

	struct ps_out out = {.f = stdout, .fail = fail, .json = json};
	struct buf sub = BUF_INIT;
	if (sc.url) {
		out.sub = &sub;
		buf_add(&sub, envelope.data, envelope.len);
	}
	if (output && !(out.f = fopen(output, "w"))) {
		cli_error("cannot write %s: %s", output, strerror(errno));
		rules_free(rules);
		buf_free(&envelope);
		buf_free(&sub);
		return EXIT_FAILED;
	}
	if (json)
		fwrite(envelope.data, 1, envelope.len, out.f);
	buf_free(&envelope);

	struct scan_opts so;
	scan_opts_default(&so);
	struct scan_stats st = {0};
	struct proc_summary sum = {0};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = proc_scan_all(rules, &so, &po, &st, on_jvm, &out, &sum);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rc < 0)
		cli_error("cannot list /proc: %s", strerror(errno));

	struct buf b = BUF_INIT, sj = BUF_INIT;
	report_summary_json(&sj, &st, secs, NULL);
	/* the scan summary's fields, then the process counts */
	if (sj.len >= 2 && sj.data[sj.len - 2] == '}')
		sj.len -= 2;
	proc_summary_json_fields(&sj, &sum);
	buf_adds(&sj, "}\n");
	if (out.json) {
		buf_add(&b, sj.data, sj.len);
	} else {
		for (int i = 0; i < 5; i++)
			buf_add(&b, out.text[i].data, out.text[i].len);
		if (!sum.jvms)
			buf_adds(&b, "no running JVM found\n");
		proc_summary_text(&b, &sum);
		buf_printf(&b, "%llu archives opened, %llu errors; %.2f s\n",
			   (unsigned long long)st.archives, (unsigned long long)st.errors, secs);
	}
	bool submit_failed = false;
	if (out.sub) {
		buf_add(out.sub, sj.data, sj.len);
		submit_failed = submit_cli_send(&sc, sub.data, sub.len) < 0;
	}
	submit_cli_free(&sc);
	buf_free(&sub);
	buf_free(&sj);
	fwrite(b.data, 1, b.len, out.f);
	buf_free(&b);
	for (int i = 0; i < 5; i++)
		buf_free(&out.text[i]);
	bool write_failed = fflush(out.f) != 0 || ferror(out.f);
	if (output)
		write_failed |= fclose(out.f) != 0;
	if (write_failed)
		cli_error("error writing the report");
	rules_free(rules);
	if (rc < 0 || write_failed || submit_failed)
		return EXIT_FAILED;
	return out.failed ? EXIT_FOUND : EXIT_CLEAN;
}
