/* fuzz_report.c - libFuzzer harness for the collector's report parser.
 *
 * Every byte of a report reaching POST /api/v1/reports is attacker-chosen;
 * this feeds arbitrary bodies to report_parse() (programs/server/report_parse.c,
 * from the collector's library build/libserver.a: it needs jansson but no
 * HTTP and no database) with small limits so the size and record caps are
 * exercised too.  A parsed report is walked field by field so that every
 * pointer it hands out is read, and the arrays it re-serialises (cves,
 * evidence, ips, tags, jars, exfil...) must parse back as JSON arrays of
 * strings.  The ingest plan is made from it too (ingest_plan.c: no SQL):
 * its coverage verdict and details (summary and envelope are hostile) must
 * be one of the states and a JSON object, a shadowed finding one with a
 * pid, and a process's non-loopback listeners at most its listeners. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../programs/server/ingest_internal.h"
#include "../programs/server/report_parse.h"

static size_t touch(const char *s) { return s ? strlen(s) : 0; }

/* the text must be a JSON array of strings */
static size_t str_array(const char *s)
{
	json_t *a = json_loads(s, 0, NULL);
	size_t i;
	json_t *e;
	if (!a || !json_is_array(a))
		__builtin_trap();
	json_array_foreach(a, i, e)
		if (!json_is_string(e))
			__builtin_trap();
	json_decref(a);
	return strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_limits lim = {1u << 16, 64, 4096};
	struct report r;
	struct buf err = BUF_INIT;
	volatile size_t sink = 0;
	if (report_parse(&r, (const char *)data, size, &lim, &err) == 0) {
		struct buf ident = BUF_INIT;
		report_device_ident(&r, &ident);
		sink += ident.len + touch(r.created) + touch(r.command) + str_array(r.ips_json) + str_array(r.tags_json);
		for (size_t i = 0; i < r.n_findings; i++)
			sink += touch(r.findings[i].path) + touch(r.findings[i].status) + str_array(r.findings[i].cves_json) +
				str_array(r.findings[i].evidence_json) + touch(r.findings[i].sha256) +
				touch(r.findings[i].image) + touch(r.findings[i].tag) + touch(r.findings[i].layer) +
				touch(r.findings[i].note);
		for (size_t i = 0; i < r.n_processes; i++) {
			sink += touch(r.processes[i].listening_json) + str_array(r.processes[i].jars_json) +
				str_array(r.processes[i].mitigations_json) +
				touch(r.processes[i].status);
			if (r.processes[i].n_public < 0 || r.processes[i].n_public > r.processes[i].n_listening)
				__builtin_trap();
		}
		if (r.has_coverage)
			sink += str_array(r.cov_paths_json) + str_array(r.cov_exclude_json);
		struct plan pl;
		ingest_plan_make(&pl, &r);
		if (pl.is_scan) {
			json_t *c = json_loads(pl.coverage_json, 0, NULL);
			if (!json_is_object(c) || (strcmp(pl.coverage, "full") && strcmp(pl.coverage, "partial") &&
						   strcmp(pl.coverage, "unknown")))
				__builtin_trap();
			json_decref(c);
		}
		for (size_t i = 0; i < r.n_findings; i++)
			if (pl.shadow[i] && !r.findings[i].has_pid)
				__builtin_trap();
		ingest_plan_free(&pl);
		for (size_t i = 0; i < r.n_attempts; i++)
			sink += touch(r.attempts[i].raw) + touch(r.attempts[i].decoded) + str_array(r.attempts[i].exfil_json);
		buf_free(&ident);
		report_free(&r);
	} else if (!err.len) {
		__builtin_trap();   /* a rejection always has a reason */
	}
	buf_free(&err);
	(void)sink;
	return 0;
}
