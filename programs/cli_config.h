/* cli_config.h - the agent's configuration file, as options.
 *
 * /etc/log4scan/agent.conf holds one option per line, named exactly like
 * the long command-line options of `log4scan scan`:
 *
 *     # comment (whole lines only: a '#' inside a value is part of it)
 *     exclude = /srv/cache
 *     exclude /var/lib/docker         ('=' is optional)
 *     one-file-system = yes           (flags: yes/no, true/false, on/off, 1/0)
 *     cache = yes                     (optional value: yes/no, or the value;
 *                                      a file named "yes" is "./yes")
 *     threads = 2
 *     output = "/var/lib/log4scan/last scan.json"   (quotes keep spaces)
 *
 * The file is turned into arguments placed before the command line's, so
 * the command line wins: for an option given once (format, threads...) the
 * last occurrence counts, and that is the command line's; a repeatable
 * option (exclude) accumulates from both.  A flag set in the file cannot be
 * turned off from the command line; leave it out of the file instead.
 * `--config FILE` reads another file, `--no-config` none; both are taken out
 * of the arguments before the command parses them. */
#ifndef L4S_CLI_CONFIG_H
#define L4S_CLI_CONFIG_H

#include <getopt.h>
#include <stdbool.h>

#include "util/buf.h"

#ifndef L4S_AGENT_CONF
#define L4S_AGENT_CONF "/etc/log4scan/agent.conf"
#endif

struct cli_config_args {
	int argc;
	char **argv;  /* NULL-terminated; argv[0] is the caller's argv[0] */
	char **owned; /* the strings made from the file */
	size_t nowned;
};

/* Build the arguments: argv[0], the options of the configuration file,
 * then argv[1..] without --config FILE / --config=FILE / --no-config.
 * The file is default_path unless --config names one; a missing default
 * file is no error, a missing named one is.  Each name is checked against
 * `opts` (the command's getopt_long table).  Returns 0, or -1 with
 * "FILE:LINE: reason" in err. */
int cli_config_args_build(int argc, char **argv, const char *default_path, const struct option *opts,
			  struct cli_config_args *out, struct buf *err);
void cli_config_args_free(struct cli_config_args *a);

/* Parse configuration text (for tests and for cli_config_args_build): append
 * the arguments it stands for to out (owned strings).  `name` labels
 * errors.  Returns 0 or -1 with err set. */
int cli_config_parse(const char *text, size_t len, const char *name, const struct option *opts,
		     struct cli_config_args *out, struct buf *err);

/* Every command reads the agent's configuration file (agent.conf): its
 * options come before the command line's (which wins), --config FILE reads
 * another, --no-config none.  A name in the file must be an option of some
 * log4scan command (a typo stops the command with file and line); each
 * command takes the ones it has and passes over the others, so one file
 * serves scan, ps, logs, fix, restore and submit (e.g. submit = URL and
 * tag = prod for all that report, exclude for scan and fix).
 * cli_config_command() replaces *argc and *argv with the combined
 * arguments (kept until the program exits); -1 with the reason printed. */
int cli_config_command(int *argc, char ***argv, const struct option *mine);
/* each command's getopt table, for the check above */
extern const struct option scan_options[], ps_options[], logs_options[], fix_options[], restore_options[],
	submit_options[];
/* where the configuration is read from by default, for --help */
#ifdef _WIN32
#define L4S_AGENT_CONF_SHOWN "%ProgramData%\\log4scan\\agent.conf"
#else
#define L4S_AGENT_CONF_SHOWN "/etc/log4scan/agent.conf"
#endif
#define CLI_CONFIG_USAGE \
	"  --config FILE          read options from FILE (default " L4S_AGENT_CONF_SHOWN ")\n" \
	"  --no-config            read no configuration file\n"

#endif
