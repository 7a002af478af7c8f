/* cmd_fix.c - `log4scan fix` and `log4scan restore`: options and output.
 *
 * fix scans the given paths exactly as `scan` does (same walk, same
 * detector), collects the top-level files that hold a finding a class
 * removal mitigates, then fixes them one at a time with lib/fix.c and prints
 * one line (or JSON record) per file.  restore reads the backup manifest and
 * puts the originals back.  All the work is in lib/fix.c. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_config.h"
#include "fix.h"
#include "jsonw.h"
#include "report.h"
#include "rules.h"
#include "scan.h"
#include "walk.h"

#define DEFAULT_BACKUP_DIR "/var/backups/log4scan"

static const char fix_usage[] =
	"usage: log4scan fix [OPTIONS] PATH...\n"
	"\n"
	"Scan PATH as `log4scan scan` does, then rewrite every archive that holds a\n"
	"vulnerable log4j-core 2.x (at any nesting depth: jar in war in ear, fat jars)\n"
	"so that the classes the rules name as mitigations are gone - for the default\n"
	"rules lookup/JndiLookup.class, under any relocated package too.  Every other\n"
	"entry keeps its bytes (copied raw, never recompressed), the file keeps its\n"
	"owner, group, mode and mtime, and it is replaced atomically only after the new\n"
	"copy is verified and the original is backed up.\n"
	"\n"
	"  --dry-run              say what would change; write nothing\n"
	"  --backup-dir DIR       where originals go, with manifest.tsv for `restore`\n"
	"                         (default " DEFAULT_BACKUP_DIR "; mode 0700).  On the\n"
	"                         same filesystem a backup is a hard link (no copy).\n"
	"                         The backups are the vulnerable originals: a later scan\n"
	"                         of the backup directory reports them.\n"
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
	"  --format text|json     text on a terminal, JSON Lines otherwise\n"
	"  -o, --output FILE      write the report to FILE\n"
	"  --exclude GLOB         skip paths matching GLOB (repeatable)\n"
	"  --one-file-system, --follow-symlinks, --max-depth N, --max-nested-size N,\n"
	"  --max-inflate N, --max-inflate-total N, --threads N, --rules FILE\n"
	"                         as for `log4scan scan`\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 everything found is fixed (or was not vulnerable), 1 something\n"
	"vulnerable remains (dry run, skipped, or not fixable by removing classes),\n"
	"2 a fix failed (the original is untouched) or the command failed.\n";

static const char restore_usage[] =
	"usage: log4scan restore [OPTIONS] [PATH...]\n"
	"\n"
	"Put back the originals that `log4scan fix` replaced, byte for byte, newest\n"
	"fix first (only those at or below PATH when given).  A file is restored only\n"
	"if it is still exactly what the fix wrote (sha256); one changed since is left\n"
	"alone and reported.\n"
	"\n"
	"  --backup-dir DIR       the fix's backup directory (default " DEFAULT_BACKUP_DIR ")\n"
	"  --dry-run              say what would be restored; write nothing\n"
	"  --format text|json     text on a terminal, JSON Lines otherwise\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 everything restored (or already original), 2 a file was\n"
	"refused or could not be restored, or the command failed.\n";

enum { OPT_FORMAT = 256, OPT_RULES, OPT_DRYRUN, OPT_BACKUP, OPT_L1, OPT_SIGNED,
       OPT_MTIME };

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
		json_field_str(&o->line, true, "path", path);
		json_field_str(&o->line, true, "action", "not-fixable");
		json_field_str(&o->line, true, "message", why);
		buf_adds(&o->line, "}\n");
	} else {
		buf_adds(&o->line, "not fixed ");
		text_escape(&o->line, path);
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
				text_escape(&e, r->path);
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
				report_unfixed(o, r->f.path, "exploded class directory: remove the classes by hand");
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

static void print_result(struct fix_out *o, const struct fix_result *r)
{
	struct buf *b = &o->line;
	if (o->json) {
		buf_adds(b, "{\"kind\":\"fix\"");
		json_field_str(b, true, "path", r->path);
		json_field_str(b, true, "action", fix_action_name(r->action));
		buf_adds(b, ",\"removed\":[");
		for (size_t i = 0; i < r->nremoved; i++) {
			if (i)
				buf_addc(b, ',');
			json_cstr(b, r->removed[i]);
		}
		buf_adds(b, "],\"mitigated_cves\":[");
		for (size_t i = 0; i < r->ncves; i++) {
			if (i)
				buf_addc(b, ',');
			json_cstr(b, r->cves[i]);
		}
		buf_addc(b, ']');
		if (r->status)
			json_field_str(b, true, "status", r->status);
		if (r->backup)
			json_field_str(b, true, "backup", r->backup);
		if (r->npids) {
			json_field_bool(b, true, "restart_required", true);
			buf_adds(b, ",\"pids\":[");
			for (size_t i = 0; i < r->npids; i++)
				buf_printf(b, "%s%ld", i ? "," : "", r->pids[i]);
			buf_addc(b, ']');
		}
		if (r->message)
			json_field_str(b, true, "message", r->message);
		buf_adds(b, "}\n");
		print_line(o);
		return;
	}
	static const char *verb[] = {"unchanged", "would fix", "fixed", "skipped", "FAILED"};
	buf_printf(b, "%s ", verb[r->action]);
	text_escape(b, r->path);
	if (r->nremoved && (r->action == FIX_FIXED || r->action == FIX_WOULD_FIX)) {
		buf_adds(b, r->action == FIX_FIXED ? ": removed " : ": would remove ");
		for (size_t i = 0; i < r->nremoved && i < 8; i++) {
			if (i)
				buf_adds(b, ", ");
			text_escape(b, r->removed[i]);
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
		text_escape(b, r->backup);
	}
	if (r->npids) {
		buf_adds(b, "; restart required: pid");
		for (size_t i = 0; i < r->npids; i++)
			buf_printf(b, "%s %ld", i ? "," : "", r->pids[i]);
	}
	if (r->message) {
		buf_adds(b, r->action == FIX_FIXED ? "; note: " : ": ");
		text_escape(b, r->message);
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
	so.want_sha256 = false;
	struct walk_opts wo = {0};
	wo.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	struct fix_opts fo = {.so = &so, .backup_dir = DEFAULT_BACKUP_DIR, .keep_mtime = true};
	const char *format = NULL, *output = NULL, *rules_file = NULL;
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
	struct rules *rules = cli_load_rules(rules_file);
	if (!rules)
		goto out;
	fo.rules = rules;
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

	struct scan_stats st = {0};
	struct walk_result wr;
	size_t nroots = (size_t)(argc - optind);
	int rc = walk_run((const char *const *)(argv + optind), nroots, &wo, rules, &so, &st, on_batch, &o,
			  &wr);
	unsigned long cnt[5] = {0};
	for (size_t i = 0; i < o.ntops; i++) {
		struct fix_result r;
		fix_file(fx, o.tops[i], &r);
		cnt[r.action]++;
		print_result(&o, &r);
		fix_result_free(&r);
		free(o.tops[i]);
	}
	free(o.tops);
	if (o.json) {
		buf_printf(&o.line,
			   "{\"kind\":\"fix-summary\",\"fixed\":%lu,\"would_fix\":%lu,\"skipped\":%lu,"
			   "\"failed\":%lu,\"unchanged\":%lu,\"not_fixable\":%lu,\"scan_errors\":%llu,\"dry_run\":%s}\n",
			   cnt[FIX_FIXED], cnt[FIX_WOULD_FIX], cnt[FIX_SKIPPED], cnt[FIX_FAILED], cnt[FIX_NOTHING],
			   o.unfixable, (unsigned long long)st.errors, fo.dry_run ? "true" : "false");
	} else {
		buf_printf(&o.line, "%lu %s, %lu skipped, %lu failed, %lu not fixable (of %llu files scanned)\n",
			   fo.dry_run ? cnt[FIX_WOULD_FIX] : cnt[FIX_FIXED], fo.dry_run ? "would be fixed" : "fixed",
			   cnt[FIX_SKIPPED], cnt[FIX_FAILED], o.unfixable, (unsigned long long)st.files);
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
	else
		status = EXIT_CLEAN;
	walk_result_free(&wr);
	fixer_free(fx);
	rules_free(rules);
out:
	free(wo.excludes);
	return status;
}

struct restore_out {
	FILE *f;
	bool json;
	unsigned long count[5];
};

static void on_restore(void *ctx, const struct restore_result *r)
{
	struct restore_out *o = ctx;
	struct buf b = BUF_INIT;
	o->count[r->action]++;
	if (o->json) {
		buf_adds(&b, "{\"kind\":\"restore\"");
		json_field_str(&b, true, "path", r->path);
		json_field_str(&b, true, "action", restore_action_name(r->action));
		json_field_str(&b, true, "backup", r->backup);
		if (r->message)
			json_field_str(&b, true, "message", r->message);
		buf_adds(&b, "}\n");
	} else {
		static const char *verb[] = {"restored", "would restore", "unchanged", "REFUSED", "FAILED"};
		buf_printf(&b, "%s ", verb[r->action]);
		text_escape(&b, r->path);
		buf_adds(&b, " from ");
		text_escape(&b, r->backup);
		if (r->message) {
			buf_adds(&b, ": ");
			text_escape(&b, r->message);
		}
		buf_addc(&b, '\n');
	}
	fwrite(b.data, 1, b.len, o->f);
	buf_free(&b);
}

const struct option restore_options[] = {
	{"backup-dir", required_argument, NULL, OPT_BACKUP},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_restore(int argc, char **argv)
{
	const struct option *opts = restore_options;
	if (cli_config_command(&argc, &argv, opts) < 0)
		return EXIT_FAILED;
	const char *dir = DEFAULT_BACKUP_DIR, *format = NULL;
	bool dry = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_BACKUP: dir = optarg; break;
		case OPT_DRYRUN: dry = true; break;
		case OPT_FORMAT:
			format = optarg;
			if (!cli_text_or_json("restore", format))
				return EXIT_FAILED;
			break;
		case 'h': fputs(restore_usage, stdout); return EXIT_CLEAN;
		default: fputs(restore_usage, stderr); return EXIT_FAILED;
		}
	}
	struct restore_out o = {.f = stdout};
	o.json = format ? !strcmp(format, "json") : !isatty(fileno(stdout));
	struct buf err = BUF_INIT;
	int bad = fix_restore(dir, (const char *const *)(argv + optind), (size_t)(argc - optind), dry,
			      on_restore, &o, &err);
	if (bad < 0) {
		cli_error("%s", buf_cstr(&err));
		buf_free(&err);
		return EXIT_FAILED;
	}
	buf_free(&err);
	if (o.json)
		printf("{\"kind\":\"restore-summary\",\"restored\":%lu,\"would_restore\":%lu,\"already\":%lu,"
		       "\"refused\":%lu,\"failed\":%lu}\n",
		       o.count[RESTORE_DONE], o.count[RESTORE_WOULD], o.count[RESTORE_ALREADY],
		       o.count[RESTORE_REFUSED], o.count[RESTORE_FAILED]);
	else
		printf("%lu restored, %lu already original, %lu refused, %lu failed\n", o.count[RESTORE_DONE],
		       o.count[RESTORE_ALREADY], o.count[RESTORE_REFUSED], o.count[RESTORE_FAILED]);
	if (fflush(stdout) != 0)
		return EXIT_FAILED;
	return bad ? EXIT_FAILED : EXIT_CLEAN;
}
