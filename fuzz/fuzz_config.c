/* fuzz_config.c - libFuzzer harness for the agent's configuration file
 * parser (programs/cli_config.c, cli_config_parse()), which every command
 * runs over /etc/log4scan/agent.conf or the file --config names.
 *
 * Whatever the bytes, it either refuses them with a message naming the file
 * and line, or turns them into arguments that the command's own getopt
 * table accepts: each one is "--NAME" or "--NAME=VALUE" with NAME an option
 * of `log4scan scan` (never config, no-config or help), a flag never gets a
 * value, and getopt_long() over the result sees no unknown option and no
 * missing argument. */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../programs/cli_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_config_args a = {0};
	struct buf err = BUF_INIT;
	char *argv0 = "log4scan";
	a.argv = calloc(2, sizeof *a.argv);
	a.argv[0] = argv0;
	a.argc = 1;
	int rc = cli_config_parse((const char *)data, size, "fuzz.conf", scan_options, &a, &err);
	if (rc < 0) {
		if (strncmp(buf_cstr(&err), "fuzz.conf:", 10))
			abort(); /* an error names the file and the line */
	} else {
		if (err.len || !a.argv || a.argv[a.argc])
			abort();
		for (int i = 1; i < a.argc; i++) {
			const char *s = a.argv[i];
			if (strncmp(s, "--", 2))
				abort();
			size_t n = strcspn(s + 2, "=");
			const struct option *o = scan_options;
			while (o->name && (strlen(o->name) != n || strncmp(o->name, s + 2, n)))
				o++;
			if (!o->name || !strcmp(o->name, "config") || !strcmp(o->name, "no-config") ||
			    !strcmp(o->name, "help") || (o->has_arg == no_argument && s[2 + n]))
				abort();
		}
		opterr = 0;
		optind = 0;
		int c;
		while ((c = getopt_long(a.argc, a.argv, "", scan_options, NULL)) != -1)
			if (c == '?' || c == ':')
				abort();
	}
	buf_free(&err);
	cli_config_args_free(&a);
	return 0;
}
