/* cmd_fix.c - `log4scan fix`: options and output.
 *
 * fix lowers its priority and confines itself (sandbox.h, role fix) like
 * scan, scans the given paths exactly as `scan` does (same walk, same
 * detector), collects the top-level files and exploded class directories
 * that hold a finding a class removal mitigates, then fixes them one at a
 * time with lib/fix/fix_*.c and prints one line (or JSON record) per file.
 * `restore` is cmd_restore.c. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_config.h"
#include "fix/fix.h"
#include "report/report.h"
#include "rules/rules.h"
#include "scan/scan.h"
#include "util/jsonw.h"
#include "walk/backup_tag.h"
#include "walk/walk.h"

static const char fix_usage[] =
	"usage: log4scan fix [OPTIONS] PATH...\n"
	"\n"
	"Scan PATH as `log4scan scan` does, then rewrite every archive that holds a\n"
	"vulnerable log4j-core 2.x (at any nesting depth: jar in war in ear, fat jars)\n"
	"so that the classes the rules name as mitigations are gone - for the default\n"
	"rules lookup/JndiLookup.class, under any relocated package too.  Every other\n"
	"entry keeps its bytes (copied raw, never recompressed), the file keeps its\n"
	"owner, group, mode and mtime, and it is replaced atomically only after the new\n"
	"copy is verified and the original is backed up.  From an exploded class\n"
	"directory (WEB-INF/classes, shaded classes) the same classes are moved into\n"
	"the backup directory.\n"
	"\n"
	"  --dry-run              say what would change; write nothing\n"
	"  --backup-dir DIR       where originals go, with manifest.tsv for `restore`\n"
	"                         (default " FIX_DEFAULT_BACKUP_DIR "; mode 0700; a new or\n"
	"                         empty directory, or one fix used before).  On the same\n"
	"                         filesystem a backup is a hard link (no copy).  It is\n"
	"                         marked with " BACKUP_TAG_NAME ": scans pass it over\n"
	"                         (--scan-backups includes it)\n"
	"  --fix-log4j1           also remove, from Log4j 1.x, the classes its CVEs need:\n"
	"                         JMSAppender, SocketServer, JMSSink, JDBCAppender and the\n"
	"                         chainsaw package.  Off by default: applications that\n"
	"                         configure those appenders fail at startup without them.\n"
	"  --fix-signed           also fix signed jars (META-INF/*.SF).  The other entries'\n"
	"                         signatures stay valid: the JVM checks each entry it loads\n"
	"                         against the signed manifest and does not miss the\n"
	"                         removed ones.  A signed archive whose nested archive\n"
	"                         would change is never fixed (its digest would break).\n"
	"  --mtime keep|now       modification time of the fixed file (default keep)\n"
	"  --priority low|normal  low (default): nice 10 and low I/O priority, as scan\n"
	"  --format text|json     text on a terminal, JSON Lines otherwise\n"
	"  -o, --output FILE      write the report to FILE\n"
	"  --exclude GLOB         skip paths matching GLOB (repeatable)\n"
	"  --one-file-system, --follow-symlinks, --max-depth N, --max-nested-size N,\n"
	"  --max-inflate N, --max-inflate-total N, --threads N, --rules FILE,\n"
	"  --scan-backups         as for `log4scan scan`\n"
	"  -h, --help\n"
	"\n"
	"Exit status:\n"
	"  0  everything found is fixed (or was not vulnerable), and no running process\n"
	"     holds an old copy\n"
	"  1  something vulnerable remains on disk: dry run, skipped (signed, tar, in use\n"
	"     on Windows), or not fixable by removing classes (upgrade it)\n"
	"  2  a fix failed (the original is untouched) or the command failed\n"
	"  3  everything on disk is fixed, but a running process (a JVM) still has an\n"
	"     old, vulnerable copy open or loaded (\"restart required\", with its pids):\n"
	"     the host stays exploitable until it restarts\n"
	"When several hold, the first of 2, 1, 3 is the status.\n";

enum { OPT_FORMAT = 256, OPT_RULES, OPT_DRYRUN, OPT_BACKUP, OPT_L1, OPT_SIGNED,
       OPT_MTIME, OPT_PRIORITY };

/* fix's exit status beyond cli.h's: fixed on disk, restart required */
enum { EXIT_RESTART = 3 };

struct fix_out {
	FILE *f;
	bool json;
	const struct fix_opts *fo;
	char **tops;        /* top-level files to fix, in scan order */
	size_t ntops;
	unsigned long unfixable;
	struct buf line;
};

static void print_line(struct fix_out *o)
{
	fwrite(o->line.data, 1, o->line.len, o->f);
	buf_reset(&o->line);
}

/* A vulnerable finding that fix leaves as it is, and why. */
static void report_unfixed(struct fix_out *o, const char *path, const char *why)
{
	o->unfixable++;
	if (o->json) {
		buf_adds(&o->line, "{\"kind\":\"fix\"");
		jsonw_field_str(&o->line, true, "path", path);
		jsonw_field_str(&o->line, true, "action", "not-fixable");
		jsonw_field_str(&o->line, true, "message", why);
		buf_adds(&o->line, "}\n");
	} else {
		buf_adds(&o->line, "not fixed ");
		jsonw_text_escape(&o->line, path);
		buf_printf(&o->line, ": %s\n", why);
	}
	print_line(o);
}

static void on_batch(void *ctx, struct scan_batch *b)
{
	struct fix_out *o = ctx;
	for (size_t i = 0; i < b->n; i++) {
		struct scan_record *r = &b->rec[i];
		if (r->kind == REC_ERROR) {
			if (o->json) {
				report_error_json(&o->line, r->path, r->msg);
				print_line(o);
			} else {
				struct buf e = BUF_INIT;
				buf_adds(&e, "log4scan: ");
				jsonw_text_escape(&e, r->path);
				buf_printf(&e, ": %s\n", r->msg);
				fputs(buf_cstr(&e), stderr);
				buf_free(&e);
			}
			continue;
		}
		struct buf why = BUF_INIT;
		if (fix_wanted(o->fo, &r->f, &why)) {
			char *top = fix_top_path(r->f.path);
			if (!top) {
				report_unfixed(o, r->f.path, "no longer on disk");
			} else if (o->ntops && !strcmp(o->tops[o->ntops - 1], top)) {
				free(top);
			} else {
				o->tops = xrealloc(o->tops, (o->ntops + 1) * sizeof *o->tops);
				o->tops[o->ntops++] = top;
			}
		} else if (r->f.status == ST_VULNERABLE) {
			report_unfixed(o, r->f.path, buf_cstr(&why));
		}
		buf_free(&why);
	}
}

/* The directories the walk passed over, and why (a backup directory,
 * --exclude, another filesystem...): a JSON array ending the summary
 * record, or one text line each before the summary line. */
static void not_scanned(struct fix_out *o, const struct walk_result *wr)
{
	struct buf *b = &o->line;
	if (o->json)
		buf_adds(b, ",\"not_scanned\":[");
	for (size_t i = 0; i < wr->nskipped; i++) {
		if (o->json) {
			buf_adds(b, i ? ",{" : "{");
			jsonw_field_str(b, false, "path", wr->skipped[i].path);
			jsonw_field_str(b, true, "reason", wr->skipped[i].reason);
			buf_addc(b, '}');
		} else {
			buf_adds(b, "not scanned: ");
			jsonw_text_escape(b, wr->skipped[i].path);
			buf_printf(b, " (%s)\n", wr->skipped[i].reason);
		}
	}
	if (o->json)
		buf_adds(b, "]}\n");
}

static void print_result(struct fix_out *o, const struct fix_result *r)
{
	struct buf *b = &o->line;
	if (o->json) {
		buf_adds(b, "{\"kind\":\"fix\"");
		jsonw_field_str(b, true, "path", r->path);
		jsonw_field_str(b, true, "action", fix_action_name(r->action));
		buf_adds(b, ",\"removed\":[");
		for (size_t i = 0; i < r->nremoved; i++) {
			if (i)
				buf_addc(b, ',');
			jsonw_cstr(b, r->removed[i]);
		}
		buf_adds(b, "],\"mitigated_cves\":[");
		for (size_t i = 0; i < r->ncves; i++) {
			if (i)
				buf_addc(b, ',');
			jsonw_cstr(b, r->cves[i]);
		}
		buf_addc(b, ']');
		if (r->status)
			jsonw_field_str(b, true, "status", r->status);
		if (r->backup)
			jsonw_field_str(b, true, "backup", r->backup);
		if (r->npids) {
			jsonw_field_bool(b, true, "restart_required", true);
			buf_adds(b, ",\"pids\":[");
			for (size_t i = 0; i < r->npids; i++)
				buf_printf(b, "%s%ld", i ? "," : "", r->pids[i]);
			buf_addc(b, ']');
		}
		if (r->message)
			jsonw_field_str(b, true, "message", r->message);
		buf_adds(b, "}\n");
		print_line(o);
		return;
	}
	static const char *verb[] = {"unchanged", "would fix", "fixed", "skipped", "FAILED"};
	buf_printf(b, "%s ", verb[r->action]);
	jsonw_text_escape(b, r->path);
	if (r->nremoved && (r->action == FIX_FIXED || r->action == FIX_WOULD_FIX)) {
		buf_adds(b, r->action == FIX_FIXED ? ": removed " : ": would remove ");
		for (size_t i = 0; i < r->nremoved && i < 8; i++) {
			if (i)
				buf_adds(b, ", ");
			jsonw_text_escape(b, r->removed[i]);
		}
		if (r->nremoved > 8)
			buf_printf(b, " and %zu more entries", r->nremoved - 8);
		buf_adds(b, " (mitigates");
		for (size_t i = 0; i < r->ncves; i++)
			buf_printf(b, "%s %s", i ? "," : "", r->cves[i]);
		buf_addc(b, ')');
	}
	if (r->status)
		buf_printf(b, "; now %s", r->status);
	if (r->backup) {
		buf_adds(b, "; backup ");
		jsonw_text_escape(b, r->backup);
	}
	if (r->npids) {
		buf_adds(b, "; restart required: pid");
		for (size_t i = 0; i < r->npids; i++)
			buf_printf(b, "%s %ld", i ? "," : "", r->pids[i]);
	}
	if (r->message) {
		buf_adds(b, r->action == FIX_FIXED ? "; note: " : ": ");
		jsonw_text_escape(b, r->message);
	}
	buf_addc(b, '\n');
	print_line(o);
}

const struct option fix_options[] = {
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"backup-dir", required_argument, NULL, OPT_BACKUP},
	{"fix-log4j1", no_argument, NULL, OPT_L1},
	{"fix-signed", no_argument, NULL, OPT_SIGNED},
	{"mtime", required_argument, NULL, OPT_MTIME},
	{"priority", required_argument, NULL, OPT_PRIORITY},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	CLI_SCAN_OPTIONS,
	{"rules", required_argument, NULL, OPT_RULES},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_fix(int argc, char **argv)
{
	const struct option *opts = fix_options;
	if (cli_config_command(&argc, &argv, opts) < 0)
		return EXIT_FAILED;
	struct scan_opts so;
	scan_opts_default(&so);
	so.sha256 = SHA_NONE;
	struct walk_opts wo = {0};
	wo.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct fix_opts fo = {.so = &so, .backup_dir = FIX_DEFAULT_BACKUP_DIR, .keep_mtime = true};
	const char *format = NULL, *output = NULL, *rules_file = NULL;
	bool low_priority = true;
	int c, status = EXIT_FAILED;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DRYRUN: fo.dry_run = true; break;
		case OPT_BACKUP: fo.backup_dir = optarg; break;
		case OPT_L1: fo.fix_log4j1 = true; break;
		case OPT_SIGNED: fo.fix_signed = true; break;
		case OPT_MTIME:
			if (strcmp(optarg, "keep") && strcmp(optarg, "now")) {
				cli_error("--mtime must be keep or now");
				goto out;
			}
			fo.keep_mtime = !strcmp(optarg, "keep");
			break;
		case OPT_FORMAT:
			format = optarg;
			if (!cli_text_or_json("fix", format))
				goto out;
			break;
		case OPT_PRIORITY:
			if (!cli_priority(optarg, &low_priority))
				goto out;
			break;
		case 'o': output = optarg; break;
		case OPT_RULES: rules_file = optarg; break;
		case 'h':
			fputs(fix_usage, stdout);
			status = EXIT_CLEAN;
			goto out;
		default: {
			int r = cli_scan_option(c, optarg, &so, &wo);
			if (r > 0)
				break;
			if (r == 0)
				fputs(fix_usage, stderr);
			goto out;
		}
		}
	}
	if (optind >= argc) {
		cli_error("fix needs at least one PATH (it never defaults to the whole host)");
		fputs(fix_usage, stderr);
		goto out;
	}
	/* Before reading anything: priority as scan's, and the fix role's
	 * sandbox (sandbox.h: writing files, never ptrace, other processes'
	 * memory or the network). */
	cli_confine(SANDBOX_FIX, low_priority, false);
	struct rules *rules = cli_load_rules(rules_file);
	if (!rules)
		goto out;
	fo.rules = rules;
	/* one --max-inflate-total for the whole run: the walk, then each file's
	 * plan and rescan */
	struct scan_stats st = {0};
	fo.run_stats = &st;
	struct buf err = BUF_INIT;
	struct fixer *fx = fixer_new(&fo, &err);
	if (!fx) {
		cli_error("%s; nothing changed", buf_cstr(&err));
		buf_free(&err);
		rules_free(rules);
		goto out;
	}
	buf_free(&err);
	struct fix_out o = {.f = stdout, .fo = &fo};
	if (output && !(o.f = fopen(output, "w"))) {
		cli_error("cannot write %s: %s", output, strerror(errno));
		fixer_free(fx);
		rules_free(rules);
		goto out;
	}
	o.json = format ? !strcmp(format, "json") : !isatty(fileno(o.f));

	struct walk_result wr;
	size_t nroots = (size_t)(argc - optind);
	int rc = walk_run((const char *const *)(argv + optind), nroots, &wo, rules, &so, &st, on_batch, &o,
			  &wr);
	unsigned long cnt[5] = {0}, restart = 0;
	for (size_t i = 0; i < o.ntops; i++) {
		struct fix_result r;
		fix_file(fx, o.tops[i], &r);
		cnt[r.action]++;
		restart += r.action == FIX_FIXED && r.npids;
		print_result(&o, &r);
		fix_result_free(&r);
		free(o.tops[i]);
	}
	free(o.tops);
	if (o.json) {
		buf_printf(&o.line,
			   "{\"kind\":\"fix-summary\",\"fixed\":%lu,\"would_fix\":%lu,\"skipped\":%lu,"
			   "\"failed\":%lu,\"unchanged\":%lu,\"not_fixable\":%lu,\"restart_required\":%lu,"
			   "\"scan_errors\":%llu,\"dry_run\":%s",
			   cnt[FIX_FIXED], cnt[FIX_WOULD_FIX], cnt[FIX_SKIPPED], cnt[FIX_FAILED], cnt[FIX_NOTHING],
			   o.unfixable, restart, (unsigned long long)st.errors, fo.dry_run ? "true" : "false");
		not_scanned(&o, &wr);
	} else {
		not_scanned(&o, &wr);
		buf_printf(&o.line, "%lu %s, %lu skipped, %lu failed, %lu not fixable (of %llu files scanned)",
			   fo.dry_run ? cnt[FIX_WOULD_FIX] : cnt[FIX_FIXED], fo.dry_run ? "would be fixed" : "fixed",
			   cnt[FIX_SKIPPED], cnt[FIX_FAILED], o.unfixable, (unsigned long long)st.files);
		if (restart)
			buf_printf(&o.line, "; restart required: %lu fixed %s still held by a running JVM", restart,
				   restart == 1 ? "file is" : "files are");
		buf_addc(&o.line, '\n');
	}
	print_line(&o);
	buf_free(&o.line);
	bool write_failed = fflush(o.f) != 0 || ferror(o.f);
	if (output)
		write_failed |= fclose(o.f) != 0;
	if (write_failed)
		cli_error("error writing the report");
	if (rc < 0 || write_failed || cnt[FIX_FAILED] || (wr.roots_failed && wr.roots_failed == nroots))
		status = EXIT_FAILED;
	else if (cnt[FIX_WOULD_FIX] || cnt[FIX_SKIPPED] || o.unfixable)
		status = EXIT_FOUND;
	else if (restart)
		status = EXIT_RESTART;
	else
		status = EXIT_CLEAN;
	walk_result_free(&wr);
	fixer_free(fx);
	rules_free(rules);
out:
	free(wo.excludes);
	return status;
}
