/* cmd_restore.c - `log4scan restore`: options and output.
 *
 * Puts back the originals `log4scan fix` replaced, or lists, forgets or
 * prunes the fixes its backup manifest records; the work is in
 * lib/fix/fix_restore.c.  restore confines itself like fix (sandbox.h, role
 * restore): it writes files, and never needs ptrace, other processes'
 * memory or the network. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_config.h"
#include "fix/fix.h"
#include "report/report.h"
#include "util/jsonw.h"

static const char restore_usage[] =
	"usage: log4scan restore [OPTIONS] [PATH...]\n"
	"\n"
	"Put back the originals that `log4scan fix` replaced, byte for byte, newest\n"
	"fix first (only those at or below PATH when given).  A file is restored only\n"
	"if it is still exactly what the fix wrote (sha256); one changed since is left\n"
	"alone and reported.  For an exploded class directory, the classes fix moved\n"
	"into the backup go back where no other file has taken their place.\n"
	"\n"
	"  --backup-dir DIR       the fix's backup directory (default " FIX_DEFAULT_BACKUP_DIR ")\n"
	"  --dry-run              say what would be done; write nothing\n"
	"  --list                 show every fix the manifest records: time, state\n"
	"                         (active, restored, abandoned, forgotten, pruned),\n"
	"                         path and backup\n"
	"  --force PATH...        put the original back even where the file changed\n"
	"                         since the fix (an upgrade): the current file is kept\n"
	"                         beside it as NAME.replaced\n"
	"  --forget PATH...       drop the entries of PATH from the manifest; their\n"
	"                         backup files stay where they are\n"
	"  --prune-older-than DAYS\n"
	"                         remove the backups of fixes made more than DAYS days\n"
	"                         ago whose file is still the one fix wrote (or, once\n"
	"                         restored, still the original); the others are kept\n"
	"                         and listed with the reason\n"
	"  --format text|json     text on a terminal, JSON Lines otherwise\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 everything restored (or already original, forgotten, pruned),\n"
	"or nothing to restore (a backup directory without a manifest: a fix stopped\n"
	"before its first backup); 2 a file was refused or could not be restored, or\n"
	"the command failed.\n";

enum { OPT_FORMAT = 256, OPT_DRYRUN, OPT_BACKUP, OPT_LIST, OPT_FORCE, OPT_FORGET, OPT_PRUNE };

struct restore_out {
	FILE *f;
	bool json;
	unsigned long count[RESTORE_LISTED + 1];
};

static void list_line(struct buf *b, const struct restore_result *r)
{
	char when[32] = "?";
	time_t t = (time_t)r->time;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(b, "%s  %-9s ", when, r->state);
	if (r->dir)
		buf_printf(b, "dir (%zu class%s) ", r->nfiles, r->nfiles == 1 ? "" : "es");
	jsonw_text_escape(b, r->path);
	buf_adds(b, "  backup ");
	jsonw_text_escape(b, r->backup);
	buf_addc(b, '\n');
}

static void on_restore(void *ctx, const struct restore_result *r)
{
	struct restore_out *o = ctx;
	struct buf b = BUF_INIT;
	o->count[r->action]++;
	if (o->json) {
		buf_adds(&b, r->action == RESTORE_LISTED ? "{\"kind\":\"restore-entry\"" : "{\"kind\":\"restore\"");
		jsonw_field_str(&b, true, "path", r->path);
		if (r->action != RESTORE_LISTED)
			jsonw_field_str(&b, true, "action", fix_restore_action_name(r->action));
		jsonw_field_str(&b, true, "backup", r->backup);
		jsonw_field_str(&b, true, "id", r->id);
		jsonw_field_str(&b, true, "type", r->dir ? "dir" : "file");
		if (r->dir)
			buf_printf(&b, ",\"classes\":%zu", r->nfiles);
		buf_printf(&b, ",\"fixed_at\":%lld", r->time);
		jsonw_field_str(&b, true, "state", r->state);
		if (r->message)
			jsonw_field_str(&b, true, "message", r->message);
		buf_adds(&b, "}\n");
	} else if (r->action == RESTORE_LISTED) {
		list_line(&b, r);
	} else {
		static const char *verb[] = {"restored", "would restore", "unchanged", "REFUSED", "FAILED",
					     "forgotten", "would forget", "pruned", "would prune", "kept", ""};
		buf_printf(&b, "%s ", verb[r->action]);
		jsonw_text_escape(&b, r->path);
		buf_adds(&b, r->action == RESTORE_FORGOTTEN || r->action == RESTORE_WOULD_FORGET ? " (backup " : " from ");
		jsonw_text_escape(&b, r->backup);
		if (r->action == RESTORE_FORGOTTEN || r->action == RESTORE_WOULD_FORGET)
			buf_addc(&b, ')');
		if (r->message) {
			buf_adds(&b, ": ");
			jsonw_text_escape(&b, r->message);
		}
		buf_addc(&b, '\n');
	}
	fwrite(b.data, 1, b.len, o->f);
	buf_free(&b);
}

static void summary(const struct restore_out *o, enum restore_mode mode)
{
	const unsigned long *c = o->count;
	if (o->json && mode == RESTORE_LIST)
		printf("{\"kind\":\"restore-summary\",\"entries\":%lu}\n", c[RESTORE_LISTED]);
	else if (o->json)
		printf("{\"kind\":\"restore-summary\",\"restored\":%lu,\"would_restore\":%lu,\"already\":%lu,"
		       "\"refused\":%lu,\"failed\":%lu,\"forgotten\":%lu,\"pruned\":%lu,\"would_prune\":%lu,"
		       "\"kept\":%lu}\n",
		       c[RESTORE_DONE], c[RESTORE_WOULD], c[RESTORE_ALREADY], c[RESTORE_REFUSED], c[RESTORE_FAILED],
		       c[RESTORE_FORGOTTEN] + c[RESTORE_WOULD_FORGET], c[RESTORE_PRUNED], c[RESTORE_WOULD_PRUNE],
		       c[RESTORE_KEPT]);
	else if (mode == RESTORE_LIST)
		printf("%lu fixes recorded\n", c[RESTORE_LISTED]);
	else if (mode == RESTORE_FORGET)
		printf("%lu entries forgotten\n", c[RESTORE_FORGOTTEN] + c[RESTORE_WOULD_FORGET]);
	else if (mode == RESTORE_PRUNE)
		printf("%lu backups pruned, %lu kept, %lu failed\n", c[RESTORE_PRUNED] + c[RESTORE_WOULD_PRUNE],
		       c[RESTORE_KEPT], c[RESTORE_FAILED]);
	else
		printf("%lu restored, %lu already original, %lu refused, %lu failed\n",
		       c[RESTORE_DONE] + c[RESTORE_WOULD], c[RESTORE_ALREADY], c[RESTORE_REFUSED], c[RESTORE_FAILED]);
}

/* One mode at a time; --force and --forget act only on the PATHs named. */
static bool set_mode(struct restore_opts *ro, enum restore_mode m, const char *opt)
{
	if (ro->mode != RESTORE_PUT_BACK && ro->mode != m) {
		cli_error("restore: %s cannot be combined with --list, --forget or --prune-older-than", opt);
		return false;
	}
	ro->mode = m;
	return true;
}

const struct option restore_options[] = {
	{"backup-dir", required_argument, NULL, OPT_BACKUP},
	{"dry-run", no_argument, NULL, OPT_DRYRUN},
	{"list", no_argument, NULL, OPT_LIST},
	{"force", no_argument, NULL, OPT_FORCE},
	{"forget", no_argument, NULL, OPT_FORGET},
	{"prune-older-than", required_argument, NULL, OPT_PRUNE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cmd_restore(int argc, char **argv)
{
	const struct option *opts = restore_options;
	if (cli_config_command(&argc, &argv, opts) < 0)
		return EXIT_FAILED;
	struct restore_opts ro = {.backup_dir = FIX_DEFAULT_BACKUP_DIR, .mode = RESTORE_PUT_BACK};
	const char *format = NULL;
	long days;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_BACKUP: ro.backup_dir = optarg; break;
		case OPT_DRYRUN: ro.dry_run = true; break;
		case OPT_FORCE: ro.force = true; break;
		case OPT_LIST:
			if (!set_mode(&ro, RESTORE_LIST, "--list"))
				return EXIT_FAILED;
			break;
		case OPT_FORGET:
			if (!set_mode(&ro, RESTORE_FORGET, "--forget"))
				return EXIT_FAILED;
			break;
		case OPT_PRUNE:
			if (!cli_parse_num(optarg, 0, 100000, &days)) {
				cli_error("--prune-older-than takes a number of days (0 to 100000)");
				return EXIT_FAILED;
			}
			if (!set_mode(&ro, RESTORE_PRUNE, "--prune-older-than"))
				return EXIT_FAILED;
			ro.prune_before = (long long)time(NULL) - days * 86400LL;
			break;
		case OPT_FORMAT:
			format = optarg;
			if (!cli_text_or_json("restore", format))
				return EXIT_FAILED;
			break;
		case 'h': fputs(restore_usage, stdout); return EXIT_CLEAN;
		default: fputs(restore_usage, stderr); return EXIT_FAILED;
		}
	}
	ro.only = (const char *const *)(argv + optind);
	ro.nonly = (size_t)(argc - optind);
	if ((ro.force || ro.mode == RESTORE_FORGET) && !ro.nonly) {
		cli_error("restore: %s acts only on the PATHs it is given", ro.force ? "--force" : "--forget");
		return EXIT_FAILED;
	}
	if (ro.force && ro.mode != RESTORE_PUT_BACK) {
		cli_error("restore: --force only goes with putting originals back");
		return EXIT_FAILED;
	}
	cli_confine(SANDBOX_RESTORE, false, false);
	struct restore_out o = {.f = stdout};
	o.json = format ? !strcmp(format, "json") : !isatty(fileno(stdout));
	struct buf err = BUF_INIT;
	int bad = fix_restore(&ro, on_restore, &o, &err);
	if (bad == FIX_RESTORE_NOTHING) {
		if (o.json) {
			struct buf b = BUF_INIT;
			buf_adds(&b, "{\"kind\":\"restore-summary\",\"restored\":0");
			jsonw_field_str(&b, true, "message", buf_cstr(&err));
			buf_adds(&b, "}\n");
			fputs(buf_cstr(&b), stdout);
			buf_free(&b);
		} else {
			printf("%s\n", buf_cstr(&err));
		}
		buf_free(&err);
		return fflush(stdout) != 0 ? EXIT_FAILED : EXIT_CLEAN;
	}
	if (bad < 0) {
		cli_error("%s", buf_cstr(&err));
		buf_free(&err);
		return EXIT_FAILED;
	}
	buf_free(&err);
	summary(&o, ro.mode);
	if (fflush(stdout) != 0)
		return EXIT_FAILED;
	return bad ? EXIT_FAILED : EXIT_CLEAN;
}
