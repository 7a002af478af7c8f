/* store_schema.c - the collector's schema: MIGRATIONS, an append-only list
 * of versioned steps, each applied once in its own transaction and
 * recorded in schema_migrations (see store.h for the data model). */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* %ID% is the auto-increment primary key of the backend; %PG{...}% is
 * there on PostgreSQL only, %SQLITE{...}% on SQLite only. */
static const char *const MIGRATIONS[] = {
	/* 1: the initial schema */
	"CREATE TABLE users (id %ID%, name TEXT NOT NULL UNIQUE, pwhash TEXT NOT NULL, created BIGINT NOT NULL);"
	"CREATE TABLE tokens (id %ID%, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,"
	"  created BIGINT NOT NULL, revoked BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE sessions (hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL, csrf TEXT NOT NULL,"
	"  created BIGINT NOT NULL, expires BIGINT NOT NULL);"
	"CREATE TABLE devices (id %ID%, ident TEXT NOT NULL UNIQUE, hostname TEXT NOT NULL DEFAULT '',"
	"  machine_id TEXT NOT NULL DEFAULT '', os TEXT NOT NULL DEFAULT '', kernel TEXT NOT NULL DEFAULT '',"
	"  ips_json TEXT NOT NULL DEFAULT '[]', tags_json TEXT NOT NULL DEFAULT '[]',"
	"  agent_version TEXT NOT NULL DEFAULT '', first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,"
	"  last_created BIGINT NOT NULL DEFAULT 0, scan_created BIGINT NOT NULL DEFAULT 0,"
	"  ps_created BIGINT NOT NULL DEFAULT 0, logs_created BIGINT NOT NULL DEFAULT 0,"
	"  last_report_id TEXT NOT NULL DEFAULT '', n_reports BIGINT NOT NULL DEFAULT 0,"
	"  n_vulnerable BIGINT NOT NULL DEFAULT 0, n_mitigated BIGINT NOT NULL DEFAULT 0,"
	"  n_safe BIGINT NOT NULL DEFAULT 0, n_processes BIGINT NOT NULL DEFAULT 0,"
	"  n_restart BIGINT NOT NULL DEFAULT 0, n_attempts BIGINT NOT NULL DEFAULT 0,"
	"  n_errors BIGINT NOT NULL DEFAULT 0, exposed BIGINT NOT NULL DEFAULT 0,"
	"  attacked BIGINT NOT NULL DEFAULT 0, priority BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX devices_priority ON devices(priority DESC, n_vulnerable DESC, id);"
	"CREATE INDEX devices_last_seen ON devices(last_seen);"
	"CREATE INDEX devices_hostname ON devices(hostname);"
	"CREATE TABLE reports (id %ID%, device_id BIGINT NOT NULL, report_id TEXT NOT NULL, command TEXT NOT NULL,"
	"  created BIGINT NOT NULL, received BIGINT NOT NULL, token_id BIGINT NOT NULL,"
	"  agent_version TEXT NOT NULL DEFAULT '', n_findings BIGINT NOT NULL, n_vulnerable BIGINT NOT NULL,"
	"  n_processes BIGINT NOT NULL, n_attempts BIGINT NOT NULL, n_errors BIGINT NOT NULL,"
	"  applied BIGINT NOT NULL, summary_json TEXT, UNIQUE(device_id, report_id));"
	"CREATE INDEX reports_report_id ON reports(report_id);"
	"CREATE TABLE findings (id %ID%, device_id BIGINT NOT NULL, report_id TEXT NOT NULL, path TEXT NOT NULL,"
	"  path_b64 TEXT, component TEXT NOT NULL DEFAULT '', version TEXT NOT NULL DEFAULT '',"
	"  version_source TEXT, status TEXT NOT NULL, severity TEXT, fixed_in TEXT, sha256 TEXT,"
	"  cves_json TEXT NOT NULL DEFAULT '[]', evidence_json TEXT NOT NULL DEFAULT '[]', pid BIGINT);"
	"CREATE INDEX findings_device ON findings(device_id);"
	"CREATE INDEX findings_version ON findings(version, id);"

	"CREATE TABLE processes (id %ID%, device_id BIGINT NOT NULL, pid BIGINT NOT NULL, username TEXT,"
	"  command TEXT, start_time TEXT, container TEXT, status TEXT NOT NULL, restart_required BIGINT NOT NULL,"
	"  listening_json TEXT NOT NULL, n_listening BIGINT NOT NULL, jars_json TEXT NOT NULL,"
	"  mitigations_json TEXT NOT NULL);"
	"CREATE INDEX processes_device ON processes(device_id);"
	"CREATE TABLE attempts (id %ID%, device_id BIGINT NOT NULL, report_id TEXT NOT NULL, fp TEXT NOT NULL,"
	"  path TEXT, line BIGINT, byte_offset BIGINT, ts TEXT, raw TEXT, decoded TEXT, protocol TEXT,"
	"  host TEXT NOT NULL DEFAULT '', port BIGINT, client TEXT, exfil_json TEXT NOT NULL, received BIGINT NOT NULL,"
	"  UNIQUE(device_id, fp));"
	"CREATE INDEX attempts_host ON attempts(host, device_id);"
	"CREATE TABLE scan_errors (id %ID%, device_id BIGINT NOT NULL, path TEXT, error TEXT);"
	"CREATE INDEX scan_errors_device ON scan_errors(device_id);"
	"CREATE TABLE agg (kind TEXT NOT NULL, akey TEXT NOT NULL, sub TEXT NOT NULL, status TEXT NOT NULL,"
	"  files BIGINT NOT NULL, devices BIGINT NOT NULL, label TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY(kind, akey, sub, status));"
	"CREATE INDEX agg_rank ON agg(kind, devices DESC);"
	"CREATE TABLE trend (day TEXT PRIMARY KEY, devices BIGINT NOT NULL DEFAULT 0,"
	"  devices_vulnerable BIGINT NOT NULL DEFAULT 0, exposed BIGINT NOT NULL DEFAULT 0,"
	"  attacked BIGINT NOT NULL DEFAULT 0, vulnerable BIGINT NOT NULL DEFAULT 0,"
	"  mitigated BIGINT NOT NULL DEFAULT 0, safe BIGINT NOT NULL DEFAULT 0,"
	"  restart BIGINT NOT NULL DEFAULT 0, attempts BIGINT NOT NULL DEFAULT 0);",
	/* 2: a device's attempts, newest first */
	"CREATE INDEX attempts_device ON attempts(device_id, id);",
	/* 3: hash of the device's current findings: an unchanged re-report
	 * (the common case) does not rewrite them */
	"ALTER TABLE devices ADD COLUMN findings_hash TEXT NOT NULL DEFAULT '';",
	/* 4: drill-down by archive: each distinct sha256 once in `archives`, an
	 * integer archive_id on findings (an index of small integers is far
	 * cheaper to maintain at ingest than one of 64-character strings);
	 * agg_delta: PostgreSQL ingest appends its aggregate and trend deltas
	 * here (no shared row is locked), merged into agg/trend by
	 * store_merge() (see store_merge.c) */
	"CREATE TABLE archives (id %ID%, sha256 TEXT NOT NULL UNIQUE);"
	"ALTER TABLE findings ADD COLUMN archive_id BIGINT;"
	"INSERT INTO archives(sha256) SELECT DISTINCT sha256 FROM findings WHERE sha256 IS NOT NULL;"
	"UPDATE findings SET archive_id = (SELECT a.id FROM archives a WHERE a.sha256 = findings.sha256)"
	"  WHERE sha256 IS NOT NULL;"
	"CREATE INDEX findings_archive ON findings(archive_id);"
	"CREATE TABLE agg_delta (id %ID%, kind TEXT NOT NULL, akey TEXT NOT NULL, sub TEXT NOT NULL,"
	"  status TEXT NOT NULL, files BIGINT NOT NULL, devices BIGINT NOT NULL, label TEXT NOT NULL DEFAULT '');",
	/* 5: PostgreSQL ingest appends one row per transaction, its deltas as
	 * parallel arrays (array literals in TEXT columns, so that the one
	 * schema also creates on SQLite, which never uses the table), instead of
	 * one agg_delta row per aggregate key: 1 row instead of about 150 per
	 * batch, and store_merge() deletes 1 instead of 150.  agg_delta stays
	 * and is still merged: an older server may write it during an upgrade. */
	"CREATE TABLE agg_batch (id %ID%, kinds TEXT NOT NULL, akeys TEXT NOT NULL, subs TEXT NOT NULL,"
	"  statuses TEXT NOT NULL, files TEXT NOT NULL, devices TEXT NOT NULL, labels TEXT NOT NULL);"
	/* PostgreSQL: each merge updates every agg row it touches; without an
	 * index on the changing `devices` column and with room on each page,
	 * those updates are HOT (no index entry, dead versions pruned in place)
	 * instead of piling up versions every lookup has to step over (a merge
	 * took 100 ms for 500 rows).  The top-N reads sort agg's few rows. */
	"%PG{DROP INDEX agg_rank; ALTER TABLE agg SET (fillfactor = 50);}%",
	/* 6: PostgreSQL: the drill-down by archive in id order straight from
	 * the index, and the devices holding an archive without a visit to
	 * each finding's row (SQLite's index on archive_id already ends in the
	 * rowid, and 100,000 devices by archive take 10 ms there) */
	"%PG{DROP INDEX findings_archive;"
	" CREATE INDEX findings_archive ON findings(archive_id, id) INCLUDE (device_id);}%",
	/* 7: each CVE's files per version (agg kind 'cvever', kept by ingest
	 * from now on; the API narrows a CVE filter to those versions), counted
	 * here for the findings already stored (those of deltas still pending
	 * too: they are committed).  PostgreSQL: a server from before this
	 * schema still running in a rolling upgrade would ingest without cvever
	 * deltas, so the delta tables gain a column it does not fill: its
	 * ingest fails (503, the agent retries) instead of skewing cvever; its
	 * merges and reads go on. */
	"%PG{ALTER TABLE agg_batch ADD COLUMN gen BIGINT NOT NULL DEFAULT 7;"
	" ALTER TABLE agg_batch ALTER COLUMN gen DROP DEFAULT;"
	" ALTER TABLE agg_delta ADD COLUMN gen BIGINT NOT NULL DEFAULT 4;"
	" ALTER TABLE agg_delta ALTER COLUMN gen DROP DEFAULT;}%"
	"INSERT INTO agg(kind, akey, sub, status, files, devices, label)"
	" SELECT 'cvever', c.value, f.version,"
	"  CASE WHEN f.status IN ('vulnerable', 'mitigated') THEN f.status ELSE 'safe' END,"
	"  COUNT(*), COUNT(DISTINCT f.device_id), ''"
	" FROM findings f, %PG{jsonb_array_elements_text(f.cves_json::jsonb)}%%SQLITE{json_each(f.cves_json)}% c"
	" WHERE %PG{true}%%SQLITE{json_valid(f.cves_json) AND c.type = 'text'}%"
	" GROUP BY 2, 3, 4;",
	/* 8: each install's own id (issue 19): a device is a machine id and an
	 * agent id, so clones that share a machine id stay apart; devices of
	 * one machine id are found by it to flag the sharing */
	"ALTER TABLE devices ADD COLUMN agent_id TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX devices_machine_id ON devices(machine_id);",
	/* 9: the dashboard's answers (issue 20):
	 * - findings: `shadowed` = 1 on a running JVM's copy of a file that the
	 *   device's disk scan lists at the same path (the file is counted once,
	 *   on its disk row, "loaded by pid N"); the container context of a
	 *   finding from an image (image, tag, layer, in_final_image, note).
	 *   Rows stored before are not shadowed: findings_hash is cleared so
	 *   that each device's next scan rewrites (and recounts) them.
	 * - agg kind 'severity' (akey: the rating, status): files and devices.
	 * - processes.n_public: listeners on a non-loopback address; a device
	 *   is exposed only by those (recounted here from listening_json), and
	 *   critically exposed (critical_exposed) when such a JVM has a critical
	 *   vulnerable copy loaded; priority = 4 * critical_exposed
	 *   + 2 * exposed + attacked (its index answers both).
	 * - devices: n_critical (critical vulnerable files), coverage (of the
	 *   last scan: full, partial, unknown, none) and its details.
	 * - cve_info: each CVE's CVSS and title, from the rules the server was
	 *   built with (refreshed at every start; since issue 22 from the
	 *   active rules, cve_info.c).
	 * PostgreSQL: a server from before this schema would ingest without
	 * these keys; its agg_batch rows (gen 7) are refused from now on, so
	 * its ingest fails (503, the agent retries) instead of skewing them. */
	"ALTER TABLE findings ADD COLUMN shadowed BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE findings ADD COLUMN image TEXT;"
	"ALTER TABLE findings ADD COLUMN image_tag TEXT;"
	"ALTER TABLE findings ADD COLUMN layer TEXT;"
	"ALTER TABLE findings ADD COLUMN in_final_image BIGINT;"
	"ALTER TABLE findings ADD COLUMN note TEXT;"
	"CREATE INDEX findings_image ON findings(image, device_id) WHERE image IS NOT NULL;"
	/* a file's loaded copies, looked up for each row a findings list shows
	 * (only the shadowed rows: small, cheap to keep) */
	"CREATE INDEX findings_loaded ON findings(device_id, path) WHERE shadowed = 1;"
	"ALTER TABLE processes ADD COLUMN n_public BIGINT NOT NULL DEFAULT 0;"
	"UPDATE processes SET n_public = (SELECT COUNT(*) FROM"
	" %PG{jsonb_array_elements(processes.listening_json::jsonb) j WHERE NOT (j->>'addr' LIKE '127.%'"
	"  OR j->>'addr' LIKE '::ffff:127.%' OR j->>'addr' IN ('::1', 'localhost'))}%"
	"%SQLITE{json_each(processes.listening_json) j WHERE NOT (json_extract(j.value, '$.addr') LIKE '127.%'"
	"  OR json_extract(j.value, '$.addr') LIKE '::ffff:127.%'"
	"  OR json_extract(j.value, '$.addr') IN ('::1', 'localhost'))}%);"
	"ALTER TABLE devices ADD COLUMN n_critical BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE devices ADD COLUMN critical_exposed BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE devices ADD COLUMN coverage TEXT NOT NULL DEFAULT 'none';"
	"ALTER TABLE devices ADD COLUMN coverage_json TEXT NOT NULL DEFAULT '{}';"
	"ALTER TABLE reports ADD COLUMN coverage TEXT;"
	"UPDATE devices SET findings_hash = '',"
	" n_critical = (SELECT COUNT(*) FROM findings f WHERE f.device_id = devices.id AND f.status = 'vulnerable'"
	"  AND f.severity = 'critical'),"
	" exposed = CASE WHEN EXISTS (SELECT 1 FROM processes p WHERE p.device_id = devices.id"
	"  AND p.status = 'vulnerable' AND p.n_public > 0) THEN 1 ELSE 0 END,"
	" critical_exposed = CASE WHEN EXISTS (SELECT 1 FROM processes p JOIN findings f ON f.device_id = p.device_id"
	"  AND f.pid = p.pid WHERE p.device_id = devices.id AND p.status = 'vulnerable' AND p.n_public > 0"
	"  AND f.status = 'vulnerable' AND f.severity = 'critical') THEN 1 ELSE 0 END;"
	"UPDATE devices SET priority = 4 * critical_exposed + 2 * exposed + attacked;"
	"UPDATE trend SET exposed = (SELECT COUNT(*) FROM devices WHERE exposed = 1)"
	" WHERE day = (SELECT MAX(day) FROM trend);"
	"CREATE INDEX devices_coverage ON devices(coverage);"
	"INSERT INTO agg(kind, akey, sub, status, files, devices, label)"
	" SELECT 'severity', CASE WHEN f.severity IN ('critical', 'high', 'medium', 'low', 'none') THEN f.severity"
	"  WHEN f.severity IS NULL THEN 'none' ELSE 'unknown' END, '',"
	"  CASE WHEN f.status IN ('vulnerable', 'mitigated') THEN f.status ELSE 'safe' END,"
	"  COUNT(*), COUNT(DISTINCT f.device_id), '' FROM findings f GROUP BY 2, 4;"
	"CREATE TABLE cve_info (cve TEXT PRIMARY KEY, component TEXT NOT NULL, cvss TEXT NOT NULL,"
	"  cvss10 BIGINT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL);"
	"%PG{ALTER TABLE agg_batch ADD CONSTRAINT agg_batch_gen9 CHECK (gen >= 9) NOT VALID;}%",
	/* 10: cd_sha256, the digest of an archive's central directory (issue
	 * 17): agents hash by default only archives with a vulnerable or
	 * mitigated finding, and every archive finding has cd_sha256.  Where a
	 * finding has no sha256, its archive key (archives.sha256, agg kind
	 * 'sha256') is "cd:" and its cd_sha256 (rp_finding.archive_key); rows
	 * stored before have none, as before. */
	"ALTER TABLE findings ADD COLUMN cd_sha256 TEXT;",
	/* 11: the collector's rules and re-judging (issue 22, store_rules.c):
	 * every rules file loaded, kept (id 0, the compiled-in default, is not
	 * stored); which one is active and which one a re-judging is working
	 * towards, with its progress; what each change did to each CVE's
	 * devices.  Each finding keeps its facts (NULL: an agent older than
	 * facts, not re-judgeable) and the rules that judged it (NULL: the
	 * agent's own verdict). */
	"CREATE TABLE rules (id %ID%, sha256 TEXT NOT NULL, body TEXT NOT NULL, source TEXT NOT NULL,"
	"  loaded BIGINT NOT NULL, ncves BIGINT NOT NULL, cves TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE rules_state (one BIGINT PRIMARY KEY, active BIGINT NOT NULL, target BIGINT NOT NULL,"
	"  judged BIGINT NOT NULL, total BIGINT NOT NULL, started BIGINT NOT NULL, finished BIGINT NOT NULL);"
	"INSERT INTO rules_state VALUES(1, 0, 0, 0, 0, 0, 0);"
	"CREATE TABLE rules_changes (id %ID%, rules_id BIGINT NOT NULL, prev_id BIGINT NOT NULL,"
	"  at BIGINT NOT NULL, cve TEXT NOT NULL, newly BIGINT NOT NULL, no_longer BIGINT NOT NULL);"
	"CREATE INDEX rules_changes_rules ON rules_changes(rules_id, id);"
	"CREATE TABLE rules_before (cve TEXT NOT NULL, device_id BIGINT NOT NULL);"
	"CREATE TABLE rules_after (cve TEXT NOT NULL, device_id BIGINT NOT NULL);"
	"ALTER TABLE findings ADD COLUMN facts TEXT;"
	"ALTER TABLE findings ADD COLUMN judged_by BIGINT;",
	/* 12: an attempt keeps (issue 20 point 7)
	 * what the agent decoded: the command of a Base64 URL (`payload`, and
	 * `payload_b64` when it is not UTF-8).  Attempts stored before have
	 * none (the agent's report did not keep them). */
	"ALTER TABLE attempts ADD COLUMN payload TEXT;"
	"ALTER TABLE attempts ADD COLUMN payload_b64 TEXT;"
	/* the callback host's registrable domain, the name to block (Public
	 * Suffix List, regdomain.c), worked out at ingest; older rows have
	 * none */
	"ALTER TABLE attempts ADD COLUMN domain TEXT;",
	/* 13 (branch hooks, issue 20 point 10): webhooks (webhook.h).  Targets
	 * (the secret is kept as given: it signs, so it cannot be a hash); the
	 * events ingest queues in its own transaction; one delivery per event
	 * and target, with its attempts and next try; a log line per attempt
	 * (the target's shown URL copied, so it outlives the target); and every
	 * archive key (sha256 or "cd:" cd_sha256) ever seen vulnerable, those
	 * already stored counted as seen so that the upgrade announces none. */
	"CREATE TABLE webhooks (id %ID%, url TEXT NOT NULL, secret TEXT NOT NULL, events TEXT NOT NULL,"
	"  created BIGINT NOT NULL, created_by TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE webhook_events (id %ID%, kind TEXT NOT NULL, created BIGINT NOT NULL, device_id BIGINT,"
	"  data_json TEXT NOT NULL);"
	"CREATE INDEX webhook_events_created ON webhook_events(created);"
	"CREATE TABLE webhook_deliveries (id %ID%, event_id BIGINT NOT NULL, webhook_id BIGINT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending', attempts BIGINT NOT NULL DEFAULT 0,"
	"  next_at BIGINT NOT NULL DEFAULT 0, lease BIGINT NOT NULL DEFAULT 0, last_status BIGINT,"
	"  last_error TEXT, done_at BIGINT);"
	"CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_at);"
	"CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, state);"
	"CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);"
	"CREATE TABLE webhook_log (id %ID%, delivery_id BIGINT NOT NULL, webhook_id BIGINT NOT NULL,"
	"  event_id BIGINT NOT NULL, kind TEXT NOT NULL, url TEXT NOT NULL, at BIGINT NOT NULL,"
	"  attempt BIGINT NOT NULL, status BIGINT, error TEXT);"
	"CREATE INDEX webhook_log_hook ON webhook_log(webhook_id, id);"
	"CREATE TABLE vuln_archives (akey TEXT PRIMARY KEY, first_seen BIGINT NOT NULL);"
	"INSERT INTO vuln_archives(akey, first_seen) SELECT DISTINCT a.sha256, 0 FROM archives a"
	"  JOIN findings f ON f.archive_id = a.id WHERE f.status = 'vulnerable';",
	/* 14 (branch team, issue 20 point 9): running it for a team.
	 * - users.role: admin (manages users, tokens, devices; reads the audit
	 *   log) or viewer (reads); the users from before roles are admins.
	 * - tokens.last_used: when the token was last seen (written at most
	 *   once a minute per token, see store_token_lookup); token names
	 *   unique among tokens not revoked (older duplicates keep theirs).
	 * - audit: who did what (store_team.c); one row per event, but ingests
	 *   are one row per token per UTC day with a count (akey
	 *   'ingest:TOKEN_ID:DAY', unique; NULL elsewhere).
	 * - devices.retired: when it was retired (0: active); retired devices
	 *   are out of every count, list and aggregate (their agg and trend
	 *   contributions are taken out when retired) but keep their rows;
	 *   reappeared: when a retired device's report brought it back. */
	"ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';"
	"ALTER TABLE tokens ADD COLUMN last_used BIGINT NOT NULL DEFAULT 0;"
	"CREATE TABLE audit (id %ID%, at BIGINT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL DEFAULT '',"
	"  subject TEXT NOT NULL DEFAULT '', client TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',"
	"  count BIGINT NOT NULL DEFAULT 1, akey TEXT UNIQUE);"
	"CREATE INDEX audit_kind ON audit(kind, at);"
	"CREATE INDEX audit_at ON audit(at);"
	"ALTER TABLE devices ADD COLUMN retired BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE devices ADD COLUMN reappeared BIGINT NOT NULL DEFAULT 0;"
	"CREATE INDEX devices_retired ON devices(retired) WHERE retired <> 0;",
	/* 15 (branch rejudge, issue 22): which devices each change of rules
	 * made newly affected by a CVE (newly 1) or no longer (newly 0), one
	 * row per device under its rules_changes row (the dashboard's drill
	 * down); the before/after snapshot tables are no longer used (the
	 * re-judging counts in memory, store_rejudge.c). */
	"CREATE TABLE rules_change_devices (change_id BIGINT NOT NULL, device_id BIGINT NOT NULL,"
	"  newly BIGINT NOT NULL);"
	"CREATE INDEX rules_change_devices_change ON rules_change_devices(change_id, newly, device_id);"
	"DROP TABLE IF EXISTS rules_before;"
	"DROP TABLE IF EXISTS rules_after;",
	/* 16 (branch cveinfo, issue 22): the webhook event rules_changed (one
	 * per change of rules that changed which devices a CVE affects,
	 * webhook_events.c).  A target subscribed to every kind there was (the
	 * default) gets it too; one that chose some keeps its choice. */
	"UPDATE webhooks SET events = events || ',rules_changed'"
	"  WHERE events = 'device_critical_exposed,device_attacked,archive_vulnerable';",
	/* 17 (branch pathsearch, issue 20): the path substring filter without
	 * a walk of the findings.  Each distinct path of a finding once in
	 * `paths` (ingest_paths.c), an integer path_id on findings and its
	 * index: `findings?path=` matches the rows of `paths` (a fleet repeats
	 * its paths: about 10,000 for 2,000,000 findings) and reads the
	 * findings of the ids that match through the index (api_list.c).
	 * The index leads with id >> 12, the finding's block of 4,096 ids:
	 * new findings go into the last block's few pages (one on path_id
	 * alone takes each insert to a random page of the whole index: 25-35%
	 * more CPU per new report on SQLite); the filter seeks each block
	 * (489 at 2,000,000 findings).
	 * PostgreSQL: unique by md5(path), as a B-tree entry cannot hold a
	 * path of more than about 2,700 bytes (reports take up to 64 KB). */
	"CREATE TABLE paths (id %ID%, path TEXT NOT NULL%SQLITE{ UNIQUE}%);"
	"%PG{CREATE UNIQUE INDEX paths_md5 ON paths(md5(path));}%"
	"INSERT INTO paths(path) SELECT DISTINCT path FROM findings ORDER BY path;"
	"ALTER TABLE findings ADD COLUMN path_id BIGINT;"
	"UPDATE findings SET path_id = (SELECT p.id FROM paths p WHERE %PG{md5(p.path) = md5(findings.path) AND }%"
	"  p.path = findings.path);"
	"CREATE INDEX findings_path ON findings((id >> 12), path_id);",
	/* 18: a file's loaded copies are looked up by device only (a device's
	 * shadowed rows are the few files its JVMs hold; the path is compared
	 * on those rows).  The index of 7 held the path too, and a PostgreSQL
	 * B-tree entry cannot hold more than about 2,700 bytes: a JVM that had
	 * loaded a file with a longer, incompressible path made every report of
	 * its device fail (t_server_dash long-path). */
	"DROP INDEX findings_loaded;"
	"CREATE INDEX findings_loaded ON findings(device_id) WHERE shadowed = 1;",
};
#define N_MIGRATIONS ((int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]))

int store_latest_schema(void) { return N_MIGRATIONS; }

static void expand(struct buf *out, const char *sql, enum db_kind k)
{
	const char *id = k == DB_PG ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY";
	static const struct { const char *open; enum db_kind kind; } only[] = {{"%PG{", DB_PG}, {"%SQLITE{", DB_SQLITE}};
	for (const char *s = sql; *s;) {
		const char *end = NULL;
		size_t o = 0, len = 0;
		for (; o < sizeof only / sizeof only[0]; o++) {
			len = strlen(only[o].open);
			if (!strncmp(s, only[o].open, len) && (end = strstr(s, "}%")))
				break;
		}
		if (end) {
			if (k == only[o].kind)
				buf_add(out, s + len, (size_t)(end - s - len));
			s = end + 2;
		} else if (!strncmp(s, "%ID%", 4)) {
			buf_adds(out, id);
			s += 4;
		} else {
			buf_addc(out, *s++);
		}
	}
}

int store_schema_migrate(struct store *st, struct buf *err)
{
	struct dbc *c = db_acquire(st->db);
	int rc = DB_ERR;
	bool pg = db_kind(st->db) == DB_PG;
	if (pg && dbc_exec(c, "SELECT pg_advisory_lock(7444001)", NULL, 0, NULL, NULL)) {
		buf_printf(err, "migration lock: %s", dbc_error(c));
		goto out;
	}
	if (dbc_script(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY,"
			  " applied BIGINT NOT NULL)")) {
		buf_printf(err, "cannot create schema_migrations: %s", dbc_error(c));
		goto unlock;
	}
	long long have = 0;
	if (dbc_int(c, "SELECT COALESCE(MAX(version),0) FROM schema_migrations", NULL, 0, 0, &have)) {
		buf_printf(err, "cannot read schema version: %s", dbc_error(c));
		goto unlock;
	}
	if (have > N_MIGRATIONS) {
		buf_printf(err, "the database schema (version %lld) is newer than this server (%d); upgrade the server",
			   have, N_MIGRATIONS);
		goto unlock;
	}
	for (int v = (int)have + 1; v <= N_MIGRATIONS; v++) {
		struct buf sql = BUF_INIT;
		expand(&sql, MIGRATIONS[v - 1], db_kind(st->db));
		struct dbv p[2] = {dv_int(v), dv_int((long long)time(NULL))};
		if (dbc_begin(c) || dbc_script(c, buf_cstr(&sql)) ||
		    dbc_exec(c, "INSERT INTO schema_migrations(version, applied) VALUES(?, ?)", p, 2, NULL, NULL) ||
		    dbc_commit(c)) {
			buf_printf(err, "migration %d failed: %s", v, dbc_error(c));
			dbc_rollback(c);
			buf_free(&sql);
			goto unlock;
		}
		buf_free(&sql);
	}
	st->schema_version = N_MIGRATIONS;
	rc = DB_OK;
unlock:
	if (pg)
		dbc_exec(c, "SELECT pg_advisory_unlock(7444001)", NULL, 0, NULL, NULL);
out:
	db_release(st->db, c);
	return rc;
}
