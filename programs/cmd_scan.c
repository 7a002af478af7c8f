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
#include "report/proc_report.h"
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
	snprintf(out, n, "%s/scan.cache", hostinfo_state_dir(dir, sizeof dir));
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
	jsonw_field_strv(coverage, "paths", roots, nroots);
	jsonw_field_bool(coverage, true, "processes", wo->whole_host && processes);
	jsonw_field_strv(coverage, "exclude", wo->excludes, wo->nexcludes);
	jsonw_field_bool(coverage, true, "one_file_system", wo->one_file_system);
	jsonw_field_bool(coverage, true, "follow_symlinks", wo->follow_symlinks);
	buf_addc(coverage, '}');
	buf_adds(options, "{");
	char name[128];
	jsonw_field_str(options, false, "rules", cli_rules_name(rules_file, name, sizeof name));
	jsonw_field_int(options, true, "max_depth", so->max_depth);
	jsonw_field_bool(options, true, "bytecode_only", so->bytecode_only);
	jsonw_field_bool(options, true, "sha256", so->sha256 != SHA_NONE);
	jsonw_field_str(options, true, "sha256_policy", scan_opts_sha_name(so->sha256));
	jsonw_field_bool(options, true, "cache", cache);
	jsonw_field_int(options, true, "time_budget", budget);
	jsonw_field_int(options, true, "threads", wo->threads);
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

/* Everything one `log4scan scan` holds from phase to phase (scan_main). */
struct scan_run {
	struct scan_opts so;
	struct walk_opts wo;
	const char *format, *output, *rules_file, *cache_file;
	struct fail_on fail;
	bool quiet, use_cache, processes, read_environ, low_priority, use_syslog, no_progress, json;
	long max_cpu, max_io, max_mem, budget;
	struct submit_cli sc;
	const char *const *roots;
	size_t nroots;
	struct buf envelope;
	struct rules *rules;
	FILE *f;
	struct scan_out out;
	char *sub_body;
	size_t sub_len;
	FILE *sub_f;
	struct cache *cache;
	struct governor gov;
	struct scan_stats st;
	struct walk_result wr;
	int walk_rc;
	double secs;
};

/* A phase's result when the run goes on (else: the exit status). */
#define SCAN_GO (-1)

/* The command line into r; SCAN_GO, or the exit status (--help, an error). */
static int scan_parse(struct scan_run *r, int argc, char **argv)
{
	long n;
	int c;
	optind = 1;
	int li = 0;
	while ((c = getopt_long(argc, argv, "o:qh", scan_options, &li)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			r->format = optarg;
			break;
		case 'o': r->output = optarg; break;
		case OPT_RULES: r->rules_file = optarg; break;
		case OPT_FAILON:
			if (!cli_fail_on(optarg, &r->fail))
				return EXIT_FAILED;
			break;
		case OPT_BYTECODE: r->so.bytecode_only = true; break;
		case OPT_NOSHA: r->so.sha256 = SHA_NONE; break;
		case OPT_SHA:
			if (!scan_opts_sha_parse(optarg, &r->so.sha256)) {
				cli_error("--sha256 takes affected, all or none");
				return EXIT_FAILED;
			}
			break;
		case OPT_MAXHASH:
			if (!cli_parse_num(optarg, 1, 1L << 30, &n)) {
				cli_error("--max-hash-size takes a positive number");
				return EXIT_FAILED;
			}
			r->so.max_hash_bytes = (uint64_t)n << 20;
			break;
		case OPT_NOPROC: r->processes = false; break;
		case OPT_ENVIRON: r->read_environ = true; break;
		case OPT_PRIORITY:
			if (!cli_priority(optarg, &r->low_priority))
				return EXIT_FAILED;
			break;
		case OPT_CACHE:
			r->use_cache = true;
			r->cache_file = optarg;
			break;
		case OPT_MAXCPU:
		case OPT_MAXIO:
		case OPT_MAXMEM:
		case OPT_BUDGET:
			if (!cli_parse_num(optarg, 1, c == OPT_MAXCPU ? 100 * 256 : 1L << 30, &n)) {
				cli_error("%s takes a positive number", argv[optind - 1]);
				return EXIT_FAILED;
			}
			*(c == OPT_MAXCPU  ? &r->max_cpu
			  : c == OPT_MAXIO ? &r->max_io
			  : c == OPT_MAXMEM ? &r->max_mem
					    : &r->budget) = n;
			break;
		case OPT_SYSLOG: r->use_syslog = true; break;
		case OPT_SUBMITOPT: {
			bool bad;
			submit_cli_option(&r->sc, scan_options[li].name, optarg, &bad);
			if (bad)
				return EXIT_FAILED;
			break;
		}
		case OPT_NOPROGRESS: r->no_progress = true; break;
		case 'q': r->quiet = true; break;
		case 'h':
			fputs(scan_usage, stdout);
			free(r->wo.excludes);
			return EXIT_CLEAN;
		default: {
			int rc = cli_scan_option(c, optarg, &r->so, &r->wo);
			if (rc > 0)
				break;
			if (rc == 0)
				fputs(scan_usage, stderr);
			free(r->wo.excludes);
			return EXIT_FAILED;
		}
		}
	}
	return SCAN_GO;
}

/* What can only be done before the sandbox: syslog's socket, the report's
 * format, --submit's transport, the memory caps, the roots (none: the
 * whole host), and the envelope (the host's addresses come over netlink). */
static int scan_prepare(struct scan_run *r, int argc, char **argv)
{
	/* Before the sandbox: openlog(LOG_NDELAY) connects to /dev/log now. */
	if (r->use_syslog)
		cli_syslog_open();
	/* JSON when asked, or by default when the report does not go to a
	 * terminal (decided here: --submit loads its transport before the
	 * sandbox) */
	r->json = r->format ? !strcmp(r->format, "json") : r->output ? true : !isatty(STDOUT_FILENO);
	if (!r->format)
		r->format = r->json ? "json" : "text";
	if (!submit_cli_ready(&r->sc, r->json)) {
		free(r->wo.excludes);
		return EXIT_FAILED;
	}
	if (r->max_mem && shrink_to_memory(&r->so, &r->wo, r->max_mem) < 0) {
		cli_error("--max-memory %ld MiB is too small to scan (at least 16)", r->max_mem);
		free(r->wo.excludes);
		return EXIT_FAILED;
	}

	static const char *const host_root[] = {"/"};
	r->roots = (const char *const *)(argv + optind);
	r->nroots = (size_t)(argc - optind);
	if (!r->nroots) {
		r->roots = host_root;
		r->nroots = 1;
		r->wo.whole_host = true;
	}

	/* The envelope opens the JSON report and what --submit sends.  Made
	 * before the sandbox: the host's addresses are read over a netlink
	 * socket, which the sandbox forbids like any socket but AF_UNIX. */
	char report_id[37];
	if (submit_cli_wants_envelope(&r->sc, r->json)) {
		struct buf options = BUF_INIT, coverage = BUF_INIT;
		scan_envelope_fields(&options, &coverage, &r->so, &r->wo, r->roots, r->nroots, r->processes,
				     r->rules_file, r->use_cache, r->budget);
		int erc = submit_cli_envelope(&r->sc, "scan", buf_cstr(&options), buf_cstr(&coverage), &r->envelope,
					      report_id);
		buf_free(&options);
		buf_free(&coverage);
		if (erc < 0) {
			free(r->wo.excludes);
			return EXIT_FAILED;
		}
	}
	return SCAN_GO;
}

/* Confined, then the rules, the report's file and writer (the envelope
 * first), and --submit's copy in memory. */
static int scan_open(struct scan_run *r)
{
	/* Restrict ourselves before reading anything: no ptrace, no other
	 * process's memory, no network socket unless a collector was named
	 * (sandbox.h, role scan). */
	cli_confine(SANDBOX_SCAN, r->low_priority, r->sc.url != NULL);

	struct buf err = BUF_INIT;
	r->rules = cli_load_rules(r->rules_file);
	if (!r->rules) {
		buf_free(&r->envelope);
		free(r->wo.excludes);
		return EXIT_FAILED;
	}

	r->f = stdout;
	if (r->output && !(r->f = fopen(r->output, "w"))) {
		cli_error("cannot write %s: %s", r->output, strerror(errno));
		buf_free(&r->envelope);
		rules_free(r->rules);
		free(r->wo.excludes);
		return EXIT_FAILED;
	}
	r->out = (struct scan_out){.fail = r->fail, .syslog = r->use_syslog};
	r->out.w = report_writer_new(r->format, r->f, r->quiet, &err);
	if (!r->out.w) {
		cli_error("%s", buf_cstr(&err));
		buf_free(&err);
		if (r->output)
			fclose(r->f);
		rules_free(r->rules);
		free(r->wo.excludes);
		return EXIT_FAILED;
	}

	if (r->json)
		fwrite(r->envelope.data, 1, r->envelope.len, r->f);

	/* --submit: the same records, as JSON Lines, into memory. */
	if (r->sc.url) {
		r->sub_f = open_memstream(&r->sub_body, &r->sub_len);
		r->out.sub = r->sub_f ? report_writer_new("json", r->sub_f, false, &err) : NULL;
		if (!r->out.sub) {
			cli_error("cannot prepare the report for --submit");
			return EXIT_FAILED;
		}
		fwrite(r->envelope.data, 1, r->envelope.len, r->sub_f);
	}
	buf_free(&r->envelope);
	buf_free(&err);
	return SCAN_GO;
}

/* --cache (keyed by the rules, the version and every scan option), and
 * the CPU / IO / time budgets. */
static void scan_budgets(struct scan_run *r)
{
	if (r->use_cache) {
		char def[4096];
		struct buf err = BUF_INIT;
		if (!r->cache_file)
			r->cache_file = default_cache_path(def, sizeof def);
		r->cache = cache_open(r->cache_file, cache_digest(r->rules, L4S_VERSION, &r->so), &err);
		if (err.len)
			cli_error("%s", buf_cstr(&err));
		buf_free(&err);
		r->wo.cache = r->cache;
	}
	if (r->max_cpu || r->max_io || r->budget) {
		governor_init(&r->gov, (double)r->max_cpu, (double)r->max_io, (double)r->budget);
		r->wo.gov = &r->gov;
	}
}

/* The walk over the roots, then (whole host) the running JVMs; timed. */
static void scan_walk(struct scan_run *r)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->out.progress = r->quiet || r->no_progress ? NULL : cli_progress_start(&r->st, STDERR_FILENO);
	r->wo.on_dir = cli_progress_dir;
	r->wo.on_dir_ctx = r->out.progress;
	r->walk_rc = walk_run(r->roots, r->nroots, &r->wo, r->rules, &r->so, &r->st, on_batch, &r->out, &r->wr);
	cli_progress_stop(r->out.progress);
	struct proc_summary psum = {0};
	if (r->wo.whole_host && r->processes && r->walk_rc == 0) {
		struct proc_opts popts = {.read_environ = r->read_environ};
		if (proc_scan_all(r->rules, &r->so, &popts, &r->st, on_jvm, &r->out, &psum) < 0)
			cli_error("cannot list /proc: process view left out");
		else
			proc_summary_json_fields(&r->out.w->summary_json, &psum);
		if (r->out.sub)
			proc_summary_json_fields(&r->out.sub->summary_json, &psum);
		if (psum.jvms)
			proc_summary_text(&r->out.w->summary_text, &psum);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* The cache written, the report finished (and sent with --submit), and
 * the exit status: 2 the scan or its report failed, 1 the --fail-on
 * threshold was met, 0 else. */
static int scan_finish(struct scan_run *r)
{
	if (r->cache) {
		struct buf err = BUF_INIT;
		if (!cache_commit(r->cache, &err))
			cli_error("%s", buf_cstr(&err));
		buf_free(&err);
		cache_close(r->cache);
	}
	r->out.w->ops->finish(r->out.w, &r->st, r->secs, &r->wr);
	report_writer_free(r->out.w);
	bool submit_failed = false;
	if (r->out.sub) {
		r->out.sub->ops->finish(r->out.sub, &r->st, r->secs, &r->wr);
		report_writer_free(r->out.sub);
		fclose(r->sub_f);
		submit_failed = submit_cli_send(&r->sc, r->sub_body, r->sub_len) < 0;
		free(r->sub_body);
	}
	submit_cli_free(&r->sc);
	bool write_failed = fflush(r->f) != 0 || ferror(r->f);
	if (r->output)
		write_failed |= fclose(r->f) != 0;
	if (write_failed)
		cli_error("error writing the report");

	int status = EXIT_CLEAN;
	if (r->walk_rc < 0 || write_failed || submit_failed ||
	    (r->wr.roots_failed && r->wr.roots_failed == r->nroots))
		status = EXIT_FAILED;
	else if (r->out.failed_threshold)
		status = EXIT_FOUND;
	walk_result_free(&r->wr);
	rules_free(r->rules);
	free(r->wo.excludes);
	return status;
}

/* `log4scan scan`: options, what must precede the sandbox, the outputs,
 * the budgets, the walk, the report and the status. */
static int scan_main(int argc, char **argv)
{
	struct scan_run run = {0}, *r = &run;
	scan_opts_default(&r->so);
	r->wo.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	r->fail = (struct fail_on)FAIL_ON_DEFAULT;
	r->processes = r->low_priority = true;
	r->envelope = (struct buf)BUF_INIT;

	int rc = scan_parse(r, argc, argv);
	if (rc == SCAN_GO)
		rc = scan_prepare(r, argc, argv);
	if (rc == SCAN_GO)
		rc = scan_open(r);
	if (rc != SCAN_GO)
		return rc;
	scan_budgets(r);
	scan_walk(r);
	return scan_finish(r);
}

int cmd_scan(int argc, char **argv)
{
	if (cli_config_command(&argc, &argv, scan_options) < 0)
		return EXIT_FAILED;
	return scan_main(argc, argv);
}
