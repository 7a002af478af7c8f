/* log4scan.c - the agent's entry point: picks the subcommand.
 *
 * Each subcommand lives in its own programs/cmd_*.c and only parses options,
 * calls the library and prints; the work is in lib/. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"scan", cmd_scan, "find Log4j on disk and classify it (default: whole host)"},
	{"logs", cmd_logs, "hunt for Log4Shell exploitation attempts in log files"},
	{"fix", cmd_fix, "remove the vulnerable classes from archives in place (with backup)"},
	{"restore", cmd_restore, "put back the originals that fix replaced"},
	{"ps", cmd_ps, "running JVMs and the Log4j they have loaded (reads /proc, never memory)"},
	{"submit", cmd_submit, "send saved JSON reports (from this host or another) to the collector"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: log4scan COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`log4scan COMMAND --help` describes a command's options.\n"
		   "Exit status: 0 nothing vulnerable found, 1 vulnerable found, 2 the command failed.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_FAILED;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_CLEAN;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("log4scan %s\n", L4S_VERSION);
		return EXIT_CLEAN;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	cli_error("unknown command '%s' (try --help)", argv[1]);
	return EXIT_FAILED;
}
