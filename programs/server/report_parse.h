/* report_parse.h - parsing and validating an agent's NDJSON report.
 *
 * report_parse() needs neither HTTP nor a database, so the fuzzer
 * (fuzz/fuzz_report.c), `log4scan-server check-report` and the ingest
 * endpoint all run exactly the same code.  Everything in a report is
 * attacker-controlled: sizes are capped, every known field is type-checked,
 * enumerations are checked against their allowed values, and the first
 * problem is returned as a one-line reason for the 400 answer.  Unknown
 * record kinds and unknown fields are ignored (forward compatibility).
 *
 * The parsed strings point into jansson objects owned by the report; they
 * live until report_free().  Arrays (cves, ips, jars...) are kept as compact
 * JSON text re-serialised by jansson, so the database stores only JSON this
 * program wrote. */
#ifndef L4S_SERVER_REPORT_PARSE_H
#define L4S_SERVER_REPORT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct rp_finding {
	const char *path, *path_b64, *component, *version, *version_source;
	const char *status, *severity, *fixed_in, *sha256;
	const char *cd_sha256;       /* digest of the archive's central directory (docs/schema.md) */
	/* The archive it is in, as the collector groups findings (dedup,
	 * remediation items, drill-down): its sha256 when the agent hashed it,
	 * else "cd:" and its cd_sha256 (an agent's default hashes only affected
	 * archives), else "" (an exploded directory) */
	char archive_key[68];
	const char *image, *tag, *layer, *note;    /* from a container image (docs/schema.md) */
	char *cves_json, *evidence_json;
	long long pid;
	bool has_pid;
	bool has_in_final, in_final_image;         /* in_final_image, when sent */
	int line;
	/* What the verdict was decided on (lib/detect/facts.h text form, checked), or
	 * NULL: an agent older than facts; its verdict stands, not re-judgeable. */
	const char *facts;
	/* Set when the collector judged it with its rules (store_rules.c):
	 * judged_by is their id (0 the compiled-in default), the strings below
	 * are what status/version/... then point to. */
	bool judged;
	long long judged_by;
	char judged_version[96], judged_fixed_in[32];
};

struct rp_process {
	long long pid;
	const char *user, *command, *start_time, *container, *status;
	char *listening_json, *jars_json, *mitigations_json;
	int n_listening;
	int n_public;                  /* listeners on an address other than loopback */
	bool restart_required;
};

struct rp_attempt {
	const char *path, *timestamp, *raw, *decoded, *protocol, *host, *client;
	const char *payload, *payload_b64;   /* a Base64 URL's decoded command (issue 20) */
	long long line, offset, port;
	bool has_line, has_offset, has_port;
	char *exfil_json;
};

struct rp_error {
	const char *path, *error;
};

struct report {
	char report_id[37];            /* lower-case uuid */
	char machine_id[33];           /* lower-case hex, "" when absent */
	char agent_id[37];             /* the install's id, lower-case UUID, "" when absent */
	bool replace_tags;             /* the report's tags replace the device's (default: added) */
	const char *created, *command, *agent_version;
	long long created_epoch;
	const char *hostname, *os, *kernel;
	char *ips_json, *tags_json;
	struct rp_finding *findings;
	size_t n_findings;
	struct rp_process *processes;
	size_t n_processes;
	struct rp_attempt *attempts;
	size_t n_attempts;
	struct rp_error *errors;
	size_t n_errors;
	char *summary_json;            /* the summary record as sent, or NULL */
	/* the envelope's "coverage" (what the run was asked to look at) */
	bool has_coverage, cov_whole_host, cov_processes;
	char *cov_paths_json, *cov_exclude_json;   /* JSON arrays of strings, or NULL */
	size_t n_records, n_unknown;
	void **lines;                  /* json_t *, owners of the strings */
	size_t n_lines;
};

struct report_limits {
	size_t max_bytes;      /* whole body */
	size_t max_records;    /* records after the envelope */
	size_t max_field;      /* one string field */
};
#define REPORT_LIMITS_DEFAULT {16u << 20, 100000, 65536}

/* 0 on success; -1 with a reason in err (the report is then freed). */
int report_parse(struct report *r, const char *body, size_t len, const struct report_limits *lim, struct buf *err);
void report_free(struct report *r);

/* Device identity: the machine ("machine_id", or "host:<hostname>" when
 * there is none) and, from agents that send one, "/<agent_id>": two
 * installs that share a machine id (clones) are two devices. */
void report_device_ident(const struct report *r, struct buf *out);
/* The identity the same machine had before agents sent an agent id (the
 * machine part alone): a device under it is adopted by the first report
 * that carries an agent id. */
void report_device_legacy_ident(const struct report *r, struct buf *out);

/* addr (a listener's address) is a loopback one: 127.0.0.0/8, ::1,
 * ::ffff:127.x.y.z or "localhost"; "" and wildcards are not */
bool report_addr_loopback(const char *addr);

/* s is a report id: a UUID (36 characters, either case) and nothing more */
bool report_id_valid(const char *s);

#endif
