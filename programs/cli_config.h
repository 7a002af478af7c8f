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

#include "buf.h"

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

#endif
