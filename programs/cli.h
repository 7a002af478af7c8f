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
#include <stdio.h>

#include "rules.h"

enum { EXIT_CLEAN = 0, EXIT_FOUND = 1, EXIT_FAILED = 2 };

int cmd_scan(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_fix(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_ps(int argc, char **argv);

/* Print "log4scan: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A whole decimal number in [lo, hi]. */
bool cli_parse_num(const char *s, long lo, long hi, long *out);
/* The rules: FILE (--rules), or the built-in ones when file is NULL.  NULL,
 * with the reason printed, when they cannot be loaded. */
struct rules *cli_load_rules(const char *file);

#endif
