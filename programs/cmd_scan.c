/* cmd_scan.c - `log4scan scan`: options, output, exit status.  The walk,
 * the archive reading and the verdicts are all in lib/. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cli.h"
#include "cli_config.h"
#include "cli_progress.h"
#include "cli_syslog.h"
#include "proc/proc.h"
#include "report/report.h"
#include "rules/rules.h"
#include "scan/scan.h"
#include "submit/hostinfo.h"
#include "submit_cli.h"
#include "sys/sandbox.h"
#include "util/jsonw.h"
#include "walk/cache.h"
#include "walk/govern.h"
#include "walk/walk.h"

static const char scan_usage[] =
	"usage: log4scan scan [OPTIONS] [PATH...]\n"
	"\n"
	"Find every Log4j under PATH (default: every local filesystem from /, skipping\n"
	"pseudo and network filesystems) and say which CVEs apply.\n"
	"\n"
	"  --format FORMAT        text (default on a terminal), json (JSON Lines, default\n"
	"                         otherwise), csv, sarif or cyclonedx\n"
	"  -o, --output FILE      write the report to FILE\n"
	"  --exclude GLOB         skip paths matching GLOB (fnmatch; repeatable)\n"
	"  --one-file-system      do not cross into other filesystems\n"
	"  --follow-symlinks      follow symbolic links (loop-safe); off by default\n"
	"  --scan-backups         also scan log4scan backup directories (marked with\n"
	"                         LOG4SCAN-BACKUP.TAG by `log4scan fix`); passed over and\n"
	"                         listed as skipped by default\n"
	"  --max-depth N          archive nesting levels to follow (default 16)\n"
	"  --max-nested-size N    largest compressed nested archive held in memory, MiB\n"
	"                         (default 32); larger ones are streamed\n"
	"  --max-inflate N        bytes inflated per top-level file, MiB (default 1024)\n"
	"  --max-inflate-total N  bytes inflated in the whole scan, MiB (default 65536)\n"
	"  --threads N            worker threads (default: online CPUs)\n"
	"  --rules FILE           use this rules file instead of the built-in one\n"
	FAIL_ON_USAGE
	"  --bytecode-only        ignore pom.properties and MANIFEST.MF (audit mode)\n"
	"  --cache[=FILE]         reuse results for files unchanged since the last run\n"
	"                         (default FILE: /var/lib/log4scan/scan.cache, or\n"
	"                         $XDG_STATE_HOME/log4scan/scan.cache when not root)\n"
	"  --max-cpu PERCENT      keep CPU use under PERCENT of one CPU (duty cycle)\n"
	"  --max-io MB            keep reads under MB MiB per second\n"
	"  --max-memory MB        shrink the per-thread caps (and threads) to fit MB MiB\n"
	"  --time-budget SECONDS  stop cleanly after SECONDS; what was not reached is listed\n"
	"  --sha256=affected|all|none  which archives holding findings get the SHA-256\n"
	"                         of their bytes: affected (default) those with a\n"
	"                         vulnerable or mitigated finding, all (complete SBOMs),\n"
	"                         none; every archive finding has cd_sha256 anyway\n"
	"  --no-sha256            the same as --sha256=none\n"
	"  --max-hash-size N      archives larger than N MiB are not hashed (default 1024)\n"
	"  --no-processes         whole-host scan: leave out the running JVMs (see `log4scan ps`)\n"
	"  --read-environ         process view: also read LOG4J_* variables of JVMs\n"
	"  --priority low|normal  low (default): nice 10 and low I/O priority\n"
	"  --syslog               also send each finding to syslog/journald (authpriv)\n"
	SUBMIT_USAGE
	CLI_CONFIG_USAGE
	"  --no-progress          no progress line on a terminal\n"
	"  -q, --quiet            text format: print only vulnerable and mitigated findings;\n"
	"                         no progress line\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 nothing vulnerable, 1 vulnerable found (or a JVM of unknown status;\n"
	"see --fail-on), 2 the scan failed.\n";

enum { OPT_FORMAT = 256, OPT_RULES, OPT_FAILON, OPT_BYTECODE, OPT_NOSHA, OPT_SHA, OPT_MAXHASH, OPT_CACHE,
       OPT_MAXCPU, OPT_MAXIO, OPT_MAXMEM, OPT_BUDGET, OPT_NOPROC, OPT_ENVIRON, OPT_PRIORITY,
       OPT_SYSLOG, OPT_NOPROGRESS, OPT_SUBMITOPT };

struct scan_out {
	struct report_writer *sub; /* --submit: the same records as JSON, in memory */
	struct report_writer *w;
	struct fail_on fail;
	bool failed_threshold;
	bool syslog;
	struct cli_progress *progress;
};

static void on_batch(void *ctx, struct scan_batch *b)
{
	struct scan_out *o = ctx;
	cli_progress_hold(o->progress);
	for (size_t i = 0; i < b->n; i++) {
		struct scan_record *r = &b->rec[i];
		if (r->kind == REC_FINDING) {
			const struct finding *f = &r->f;
			if (fail_on_finding(&o->fail, f))
				o->failed_threshold = true;
			o->w->ops->finding(o->w, f);
			if (o->sub)
				o->sub->ops->finding(o->sub, f);
			if (o->syslog)
				cli_syslog_finding(f);
		} else {
			o->w->ops->error(o->w, r->path, r->msg);
			if (o->sub)
				o->sub->ops->error(o->sub, r->path, r->msg);
		}
	}
	cli_progress_release(o->progress);
}

/* The process view: one "process" record per JVM, then its findings. */
static void on_jvm(void *ctx, struct proc_jvm *j)
{
	struct scan_out *o = ctx;
	if (fail_on_jvm(&o->fail, j->status))
		o->failed_threshold = true;
	struct buf b = BUF_INIT;
	proc_jvm_json(&b, j);
	o->w->ops->record(o->w, "process", buf_cstr(&b));
	if (o->sub)
		o->sub->ops->record(o->sub, "process", buf_cstr(&b));
	buf_reset(&b);
	proc_jvm_text(&b, j);
	buf_add(&o->w->preface_text, b.data ? b.data : "", b.len);
	buf_free(&b);
	on_batch(o, &j->batch);
}

/* --max-memory: the scanner's memory is a small constant plus, per thread,
 * what one top-level file may inflate; shrink those caps (and the number of
 * threads when even that is too much) so the total fits. */
static int shrink_to_memory(struct scan_opts *so, struct walk_opts *wo, long mb)
{
	const uint64_t base = 12ULL << 20, per_thread_min = 4ULL << 20;
	uint64_t total = (uint64_t)mb << 20;
	if (total < base + per_thread_min)
		return -1;
	uint64_t avail = total - base;
	if ((uint64_t)wo->threads * per_thread_min > avail)
		wo->threads = (int)(avail / per_thread_min);
	uint64_t per = avail / (uint64_t)wo->threads;
	if (so->max_file_inflate > per)
		so->max_file_inflate = per;
	if (so->max_nested_bytes > per / 2)
		so->max_nested_bytes = per / 2;
	if (so->max_cd_bytes > per / 4)
		so->max_cd_bytes = per / 4;
	if (so->max_class_bytes > per / 4)
		so->max_class_bytes = per / 4;
	return 0;
}

static const char *default_cache_path(char *out, size_t n)
{
	char dir[3000];
	snprintf(out, n, "%s/scan.cache", l4s_state_dir(dir, sizeof dir));
	return out;
}

/* The envelope's "options" (what changes the verdicts and the cost) and
 * "coverage" (what the run was asked to look at; what it could not reach
 * is in the summary's "skipped" and "not_reached"). */
static void scan_envelope_fields(struct buf *options, struct buf *coverage, const struct scan_opts *so,
				 const struct walk_opts *wo, const char *const *roots, size_t nroots, bool processes,
				 const char *rules_file, bool cache, long budget)
{
	buf_printf(coverage, "{\"whole_host\":%s", wo->whole_host ? "true" : "false");
	json_field_strv(coverage, "paths", roots, nroots);
	json_field_bool(coverage, true, "processes", wo->whole_host && processes);
	json_field_strv(coverage, "exclude", wo->excludes, wo->nexcludes);
	json_field_bool(coverage, true, "one_file_system", wo->one_file_system);
	json_field_bool(coverage, true, "follow_symlinks", wo->follow_symlinks);
	buf_addc(coverage, '}');
	buf_adds(options, "{");
	char name[128];
	json_field_str(options, false, "rules", cli_rules_name(rules_file, name, sizeof name));
	json_field_int(options, true, "max_depth", so->max_depth);
	json_field_bool(options, true, "bytecode_only", so->bytecode_only);
	json_field_bool(options, true, "sha256", so->sha256 != SHA_NONE);
	json_field_str(options, true, "sha256_policy", scan_opts_sha_name(so->sha256));
	json_field_bool(options, true, "cache", cache);
	json_field_int(options, true, "time_budget", budget);
	json_field_int(options, true, "threads", wo->threads);
	buf_addc(options, '}');
}

/* --config and --no-config are handled by cli_config() before getopt. */
const struct option scan_options[] = {
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	CLI_SCAN_OPTIONS,
	{"rules", required_argument, NULL, OPT_RULES},
	{"fail-on", required_argument, NULL, OPT_FAILON},
	{"bytecode-only", no_argument, NULL, OPT_BYTECODE},
	{"no-sha256", no_argument, NULL, OPT_NOSHA},
	{"sha256", required_argument, NULL, OPT_SHA},
	{"max-hash-size", required_argument, NULL, OPT_MAXHASH},
	{"cache", optional_argument, NULL, OPT_CACHE},
	{"max-cpu", required_argument, NULL, OPT_MAXCPU},
	{"max-io", required_argument, NULL, OPT_MAXIO},
	{"max-memory", required_argument, NULL, OPT_MAXMEM},
	{"time-budget", required_argument, NULL, OPT_BUDGET},
	{"no-processes", no_argument, NULL, OPT_NOPROC},
	{"read-environ", no_argument, NULL, OPT_ENVIRON},
	{"priority", required_argument, NULL, OPT_PRIORITY},
	{"syslog", no_argument, NULL, OPT_SYSLOG},
	SUBMIT_OPTIONS(OPT_SUBMITOPT),
	{"no-progress", no_argument, NULL, OPT_NOPROGRESS},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int scan_main(int argc, char **argv)
{
	struct scan_opts so;
	scan_opts_default(&so);
	struct walk_opts wo = {0};
	long n;
	wo.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	const char *format = NULL, *output = NULL, *rules_file = NULL;
	struct fail_on fail = FAIL_ON_DEFAULT;
	bool quiet = false;
	const char *cache_file = NULL;
	bool use_cache = false;
	long max_cpu = 0, max_io = 0, max_mem = 0, budget = 0;
	bool processes = true, read_environ = false, low_priority = true;
	bool use_syslog = false, no_progress = false;
	int c;
	optind = 1;
	struct submit_cli sc = {0};
	int li = 0;
	while ((c = getopt_long(argc, argv, "o:qh", scan_options, &li)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			format = optarg;
			break;
		case 'o': output = optarg; break;
		case OPT_RULES: rules_file = optarg; break;
		case OPT_FAILON:
			if (!cli_fail_on(optarg, &fail))
				return EXIT_FAILED;
			break;
		case OPT_BYTECODE: so.bytecode_only = true; break;
		case OPT_NOSHA: so.sha256 = SHA_NONE; break;
		case OPT_SHA:
			if (!scan_opts_sha_parse(optarg, &so.sha256)) {
				cli_error("--sha256 takes affected, all or none");
				return EXIT_FAILED;
			}
			break;
		case OPT_MAXHASH:
			if (!cli_parse_num(optarg, 1, 1L << 30, &n)) {
				cli_error("--max-hash-size takes a positive number");
				return EXIT_FAILED;
			}
			so.max_hash_bytes = (uint64_t)n << 20;
			break;
		case OPT_NOPROC: processes = false; break;
		case OPT_ENVIRON: read_environ = true; break;
		case OPT_PRIORITY:
			if (!cli_priority(optarg, &low_priority))
				return EXIT_FAILED;
			break;
		case OPT_CACHE:
			use_cache = true;
			cache_file = optarg;
			break;
		case OPT_MAXCPU:
		case OPT_MAXIO:
		case OPT_MAXMEM:
		case OPT_BUDGET:
			if (!cli_parse_num(optarg, 1, c == OPT_MAXCPU ? 100 * 256 : 1L << 30, &n)) {
				cli_error("%s takes a positive number", argv[optind - 1]);
				return EXIT_FAILED;
			}
			*(c == OPT_MAXCPU ? &max_cpu : c == OPT_MAXIO ? &max_io : c == OPT_MAXMEM ? &max_mem : &budget) = n;
			break;
		case OPT_SYSLOG: use_syslog = true; break;
		case OPT_SUBMITOPT: {
			bool bad;
			submit_cli_option(&sc, scan_options[li].name, optarg, &bad);
			if (bad)
				return EXIT_FAILED;
			break;
		}
		case OPT_NOPROGRESS: no_progress = true; break;
		case 'q': quiet = true; break;
		case 'h':
			fputs(scan_usage, stdout);
			free(wo.excludes);
			return EXIT_CLEAN;
		default: {
			int r = cli_scan_option(c, optarg, &so, &wo);
			if (r > 0)
				break;
			if (r == 0)
				fputs(scan_usage, stderr);
			free(wo.excludes);
			return EXIT_FAILED;
		}
		}
	}

	/* Before the sandbox: openlog(LOG_NDELAY) connects to /dev/log now. */
	if (use_syslog)
		cli_syslog_open();
	/* JSON when asked, or by default when the report does not go to a
	 * terminal (decided here: --submit loads its transport before the
	 * sandbox) */
	bool json = format ? !strcmp(format, "json") : output ? true : !isatty(STDOUT_FILENO);
	if (!format)
		format = json ? "json" : "text";
	if (!submit_cli_ready(&sc, json)) {
		free(wo.excludes);
		return EXIT_FAILED;
	}
	if (max_mem && shrink_to_memory(&so, &wo, max_mem) < 0) {
		cli_error("--max-memory %ld MiB is too small to scan (at least 16)", max_mem);
		free(wo.excludes);
		return EXIT_FAILED;
	}

	const char *host_root[] = {"/"};
	const char *const *roots = (const char *const *)(argv + optind);
	size_t nroots = (size_t)(argc - optind);
	if (!nroots) {
		roots = host_root;
		nroots = 1;
		wo.whole_host = true;
	}

	/* The envelope opens the JSON report and what --submit sends.  Made
	 * before the sandbox: the host's addresses are read over a netlink
	 * socket, which the sandbox forbids like any socket but AF_UNIX. */
	struct buf envelope = BUF_INIT;
	char report_id[37];
	if (submit_cli_wants_envelope(&sc, json)) {
		struct buf options = BUF_INIT, coverage = BUF_INIT;
		scan_envelope_fields(&options, &coverage, &so, &wo, roots, nroots, processes, rules_file, use_cache,
				     budget);
		int erc = submit_cli_envelope(&sc, "scan", buf_cstr(&options), buf_cstr(&coverage), &envelope, report_id);
		buf_free(&options);
		buf_free(&coverage);
		if (erc < 0) {
			free(wo.excludes);
			return EXIT_FAILED;
		}
	}

	/* Restrict ourselves before reading anything: no ptrace, no other
	 * process's memory, no network socket unless a collector was named
	 * (sandbox.h, role scan). */
	cli_confine(SANDBOX_SCAN, low_priority, sc.url != NULL);

	struct buf err = BUF_INIT;
	struct rules *rules = cli_load_rules(rules_file);
	if (!rules) {
		buf_free(&envelope);
		free(wo.excludes);
		return EXIT_FAILED;
	}

	FILE *f = stdout;
	if (output && !(f = fopen(output, "w"))) {
		cli_error("cannot write %s: %s", output, strerror(errno));
		buf_free(&envelope);
		rules_free(rules);
		free(wo.excludes);
		return EXIT_FAILED;
	}
	struct scan_out out = {.fail = fail, .syslog = use_syslog};
	out.w = report_writer_new(format, f, quiet, &err);
	if (!out.w) {
		cli_error("%s", buf_cstr(&err));
		buf_free(&err);
		if (output)
			fclose(f);
		rules_free(rules);
		free(wo.excludes);
		return EXIT_FAILED;
	}

	if (json)
		fwrite(envelope.data, 1, envelope.len, f);

	/* --submit: the same records, as JSON Lines, into memory. */
	char *sub_body = NULL;
	size_t sub_len = 0;
	FILE *sub_f = NULL;
	if (sc.url) {
		sub_f = open_memstream(&sub_body, &sub_len);
		out.sub = sub_f ? report_writer_new("json", sub_f, false, &err) : NULL;
		if (!out.sub) {
			cli_error("cannot prepare the report for --submit");
			return EXIT_FAILED;
		}
		fwrite(envelope.data, 1, envelope.len, sub_f);
	}
	buf_free(&envelope);

	struct cache *cache = NULL;
	if (use_cache) {
		char def[4096];
		if (!cache_file)
			cache_file = default_cache_path(def, sizeof def);
		cache = cache_open(cache_file, cache_digest(rules, L4S_VERSION, &so), &err);
		if (err.len)
			cli_error("%s", buf_cstr(&err));
		buf_reset(&err);
		wo.cache = cache;
	}
	struct governor gov;
	if (max_cpu || max_io || budget) {
		governor_init(&gov, (double)max_cpu, (double)max_io, (double)budget);
		wo.gov = &gov;
	}

	struct scan_stats st = {0};
	struct walk_result wr;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	out.progress = quiet || no_progress ? NULL : cli_progress_start(&st, STDERR_FILENO);
	wo.on_dir = cli_progress_dir;
	wo.on_dir_ctx = out.progress;
	int rc = walk_run(roots, nroots, &wo, rules, &so, &st, on_batch, &out, &wr);
	cli_progress_stop(out.progress);
	struct proc_summary psum = {0};
	if (wo.whole_host && processes && rc == 0) {
		struct proc_opts popts = {.read_environ = read_environ};
		if (proc_scan_all(rules, &so, &popts, &st, on_jvm, &out, &psum) < 0)
			cli_error("cannot list /proc: process view left out");
		else
			proc_summary_json_fields(&out.w->summary_json, &psum);
		if (out.sub)
			proc_summary_json_fields(&out.sub->summary_json, &psum);
		if (psum.jvms)
			proc_summary_text(&out.w->summary_text, &psum);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	if (cache) {
		if (!cache_commit(cache, &err))
			cli_error("%s", buf_cstr(&err));
		buf_reset(&err);
		cache_close(cache);
	}
	out.w->ops->finish(out.w, &st, secs, &wr);
	report_writer_free(out.w);
	bool submit_failed = false;
	if (out.sub) {
		out.sub->ops->finish(out.sub, &st, secs, &wr);
		report_writer_free(out.sub);
		fclose(sub_f);
		submit_failed = submit_cli_send(&sc, sub_body, sub_len) < 0;
		free(sub_body);
	}
	submit_cli_free(&sc);
	bool write_failed = fflush(f) != 0 || ferror(f);
	if (output)
		write_failed |= fclose(f) != 0;
	if (write_failed)
		cli_error("error writing the report");

	int status = EXIT_CLEAN;
	if (rc < 0 || write_failed || submit_failed || (wr.roots_failed && wr.roots_failed == nroots))
		status = EXIT_FAILED;
	else if (out.failed_threshold)
		status = EXIT_FOUND;
	walk_result_free(&wr);
	rules_free(rules);
	free(wo.excludes);
	return status;
}

int cmd_scan(int argc, char **argv)
{
	if (cli_config_command(&argc, &argv, scan_options) < 0)
		return EXIT_FAILED;
	return scan_main(argc, argv);
}
