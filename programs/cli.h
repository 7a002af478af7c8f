/* cli.h - what the agent's subcommands share: the command table entry
 * points, output selection and the exit-status convention.
 *
 * Exit status of every subcommand: 0 nothing found that matters,
 * 1 something vulnerable (or an attempt) found, 2 the command itself failed
 * (bad arguments, nothing could be read).  Per-file errors are reported as
 * records and do not change the status. */
#ifndef L4S_CLI_H
#define L4S_CLI_H

#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>

#include "rules/rules.h"
#include "scan/scan.h"
#include "sys/sandbox.h"
#include "walk/walk.h"

enum { EXIT_CLEAN = 0, EXIT_FOUND = 1, EXIT_FAILED = 2 };

int cmd_scan(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_fix(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_submit(int argc, char **argv);

/* Print "log4scan: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A whole decimal number in [lo, hi]. */
bool cli_parse_num(const char *s, long lo, long hi, long *out);
/* --format of the commands that write text or JSON: false (and the error
 * said, naming cmd) for anything else */
bool cli_text_or_json(const char *cmd, const char *format);
/* --fail-on LIST: what makes the exit status 1.  LIST is comma-separated:
 * at most one severity (critical, high, medium, low: a vulnerable finding
 * rated at least that) and/or "unknown" (a JVM that could not be inspected:
 * its jars are not known).  Without the option: any vulnerable finding, and
 * unknown.  With it: exactly what it lists (no severity listed: any). */
struct fail_on {
	int rank;     /* lowest rules_severity_rank that fails; -1: any vulnerable */
	bool unknown; /* a JVM of unknown status fails */
};
#define FAIL_ON_DEFAULT {-1, true}
#define FAIL_ON_USAGE \
	"  --fail-on LIST         what makes the exit status 1, comma-separated: a severity\n" \
	"                         (critical, high, medium, low: vulnerable at least that)\n" \
	"                         and/or unknown (a JVM that could not be inspected);\n" \
	"                         default: any vulnerable finding, and unknown\n"
/* false (the error said) for a bad LIST */
bool cli_fail_on(const char *arg, struct fail_on *out);
/* does this finding / this JVM status fail the run? */
bool fail_on_finding(const struct fail_on *f, const struct finding *x);
bool fail_on_jvm(const struct fail_on *f, int proc_status);


/* The rules: FILE (--rules); else the collector's, kept in the state
 * directory by an earlier --submit (cli_collector_rules_path); else the
 * built-in ones.  NULL, with the reason printed, when they cannot be
 * loaded. */
struct rules *cli_load_rules(const char *file);
/* Which rules cli_load_rules(file) uses, for the report: FILE, "built-in"
 * or "collector:SHA256" (in out). */
const char *cli_rules_name(const char *file, char *out, size_t n);
void cli_collector_rules_path(char *out, size_t n);
void cli_sha256_hex(const void *p, size_t n, char out[65]);

/* The walk and archive options `scan` and `fix` share (fix finds archives
 * exactly as scan does).  Put CLI_SCAN_OPTIONS in the getopt_long table;
 * cli_scan_option() handles their codes: 1 handled, 0 not one of them,
 * -1 a bad value (the message is printed). */
enum { CLI_OPT_EXCLUDE = 1000, CLI_OPT_ONEFS, CLI_OPT_FOLLOW, CLI_OPT_MAXDEPTH, CLI_OPT_NESTED,
       CLI_OPT_INFLATE, CLI_OPT_INFLATE_TOTAL, CLI_OPT_THREADS, CLI_OPT_SCAN_BACKUPS };
#define CLI_SCAN_OPTIONS \
	{"exclude", required_argument, NULL, CLI_OPT_EXCLUDE}, \
	{"one-file-system", no_argument, NULL, CLI_OPT_ONEFS}, \
	{"follow-symlinks", no_argument, NULL, CLI_OPT_FOLLOW}, \
	{"max-depth", required_argument, NULL, CLI_OPT_MAXDEPTH}, \
	{"max-nested-size", required_argument, NULL, CLI_OPT_NESTED}, \
	{"max-inflate", required_argument, NULL, CLI_OPT_INFLATE}, \
	{"max-inflate-total", required_argument, NULL, CLI_OPT_INFLATE_TOTAL}, \
	{"threads", required_argument, NULL, CLI_OPT_THREADS}, \
	{"scan-backups", no_argument, NULL, CLI_OPT_SCAN_BACKUPS}
int cli_scan_option(int code, const char *arg, struct scan_opts *so, struct walk_opts *wo);

/* --priority low|normal of scan, ps and fix: false (the error said) for
 * anything else. */
bool cli_priority(const char *arg, bool *low);
/* What every command that reads the host does first: lower its priority
 * (unless --priority normal), then install the seccomp filter of its role
 * (lib/sys/sandbox.h).  Either failing is a warning: the command goes on. */
void cli_confine(enum sandbox_role role, bool low_priority, bool allow_network);

#endif
