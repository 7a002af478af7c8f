/* submit_cli.h - the agent commands' --submit options and the call that
 * sends a finished report (envelope + records) to the collector, or spools
 * it when the collector cannot be reached (lib/submit.c does the work). */
#ifndef L4S_SUBMIT_CLI_H
#define L4S_SUBMIT_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct submit_cli {
	const char *url;        /* --submit URL; NULL: not submitting */
	const char *token;      /* --token T, or $LOG4SCAN_TOKEN */
	const char *token_file; /* --token-file F (keeps the token out of `ps`) */
	const char *spool_dir;  /* --spool-dir D */
	const char *cacert;     /* --cacert F */
	const char *tags[16];   /* --tag T (repeatable) */
	size_t ntags;
	char *token_buf;        /* owned: the token read from token_file */
};

#define SUBMIT_USAGE \
	"  --submit URL           also send the report to a log4scan-server collector\n" \
	"  --token T              enrollment token (or $LOG4SCAN_TOKEN, or --token-file F)\n" \
	"  --token-file F         read the token from F (keeps it out of the process list)\n" \
	"  --spool-dir D          keep unsent reports here (default /var/lib/log4scan/spool)\n" \
	"  --cacert F             CA bundle that signs the collector's certificate\n" \
	"  --tag T                label this host in the collector (repeatable)\n"

/* Handle one of the options above (name without dashes); false if not ours
 * or if its value is bad (message printed). */
bool submit_cli_option(struct submit_cli *c, const char *name, const char *value, bool *bad);
/* Check the options once parsed; false with a message when incomplete. */
bool submit_cli_ready(struct submit_cli *c);
/* Send (or spool) records, a JSON Lines text, as a report of `command`.
 * Returns 0 when sent or safely spooled, -1 when the report could be
 * neither sent nor spooled. */
int submit_cli_send(struct submit_cli *c, const char *command, const char *records, size_t len);
void submit_cli_free(struct submit_cli *c);

#endif
