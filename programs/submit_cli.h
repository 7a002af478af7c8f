/* submit_cli.h - what the agent's report-writing commands (scan, ps, logs)
 * share about reports: the envelope that opens every JSON report (host,
 * agent id, options, coverage; lib/submit/envelope.h), the --tag options that go
 * in it, and the --submit options with the call that sends a finished
 * report to the collector or spools it when the collector cannot be
 * reached (lib/submit/submit.c does the work).
 *
 * Builds without a transport (the static agent, -DL4S_NO_SUBMIT) have the
 * envelope and --tag but no --submit: their reports are sent by
 * `log4scan submit FILE` from another host (see programs/cmd_submit.c). */
#ifndef L4S_SUBMIT_CLI_H
#define L4S_SUBMIT_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct submit_cli {
	const char *url;        /* --submit URL; NULL: not submitting */
	const char *token;      /* --token T, or $LOG4SCAN_TOKEN */
	const char *token_file; /* --token-file F (keeps the token out of `ps`) */
	const char *spool_dir;  /* --spool-dir D */
	const char *cacert;     /* --cacert F */
	const char *tags[16];   /* --tag T (repeatable) */
	size_t ntags;
	bool replace_tags;      /* --replace-tags */
	char *token_buf;        /* owned: the token read from token_file */
};

#ifndef L4S_NO_SUBMIT
#define SUBMIT_SEND_USAGE \
	"  --submit URL           also send the report to a log4scan-server collector\n" \
	"  --token T              enrollment token (or $LOG4SCAN_TOKEN, or --token-file F)\n" \
	"  --token-file F         read the token from F (keeps it out of the process list)\n" \
	"  --spool-dir D          keep unsent reports here (default STATE/spool)\n" \
	SUBMIT_CACERT_USAGE
#ifdef _WIN32
#define SUBMIT_CACERT_USAGE "" /* Windows trusts its own certificate store */
#else
#define SUBMIT_CACERT_USAGE \
	"  --cacert F             CA bundle that signs the collector's certificate\n"
#endif
#define SUBMIT_SEND_OPTIONS(code) \
	{"submit", required_argument, NULL, code}, {"token", required_argument, NULL, code}, \
	{"token-file", required_argument, NULL, code}, {"spool-dir", required_argument, NULL, code}, \
	{"cacert", required_argument, NULL, code},
#else
#define SUBMIT_SEND_USAGE ""
#define SUBMIT_SEND_OPTIONS(code)
#endif
#define SUBMIT_USAGE SUBMIT_SEND_USAGE \
	"  --tag T                label this host in the collector (repeatable; goes in the\n" \
	"                         report envelope: --submit or --format json)\n" \
	"  --replace-tags         these tags replace the host's tags in the collector\n" \
	"                         (default: they are added to them)\n"
/* the getopt_long entries, each with the given code */
#define SUBMIT_OPTIONS(code) \
	SUBMIT_SEND_OPTIONS(code) {"tag", required_argument, NULL, code}, \
	{"replace-tags", no_argument, NULL, code}

/* Handle one of the options above (name without dashes, value NULL for
 * --replace-tags); false if not ours.  *bad when its value is wrong
 * (message printed). */
bool submit_cli_option(struct submit_cli *c, const char *name, const char *value, bool *bad);
/* Check the options once parsed (json: the report is written as JSON, so
 * --tag has an envelope to go in); false with a message when incomplete.
 * Loads the transport when submitting: call it before the sandbox. */
bool submit_cli_ready(struct submit_cli *c, bool json);
/* Does this run need an envelope (JSON output or --submit)? */
bool submit_cli_wants_envelope(const struct submit_cli *c, bool json);
/* Append this run's envelope line to out (report id in id).  options_json
 * and coverage_json are JSON objects (or NULL).  -1 with the reason
 * printed; warnings are printed and do not fail. */
int submit_cli_envelope(struct submit_cli *c, const char *command, const char *options_json,
			const char *coverage_json, struct buf *out, char id[37]);
/* Send (or spool) a report: body is JSON Lines that starts with its
 * envelope.  0 when sent or safely spooled, -1 when the report could be
 * neither sent nor spooled, or the collector refused it (said on stderr). */
int submit_cli_send(struct submit_cli *c, const char *body, size_t len);
void submit_cli_free(struct submit_cli *c);

#endif
