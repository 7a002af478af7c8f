"""t_server_agg.py - the fleet counters behind the CVE filter, on SQLite and
PostgreSQL, and concurrent batches over shared devices on PostgreSQL.

- A CVE filter narrowed to the versions the counters name (agg kind
  'cvever') answers exactly what the plain walk of the findings answers,
  also for CVE and version strings full of quotes, backslashes, braces,
  commas, NULL, control and non-ASCII characters and LIKE wildcards; the
  narrowing is really used (moving a CVE's per-version rows to a version
  nobody has changes the answer); more versions than it narrows to, and
  every filter at once, still answer; a CVE in another case answers as the
  backend's LIKE does (SQLite folds ASCII case).
- Migration 7's backfill, run again over stored findings, equals a recount
  and what ingest itself had kept.
- PostgreSQL: 16 clients x 12 reports all on the same 5 devices (two
  batches at once take device rows in one order: no deadlock), one of them
  losing its database connection mid-batch (the batch is re-run): every
  report is accepted and stored once, and the counters equal a recount;
  then one device retired and one deleted (issue 20 point 9), and they
  still equal a recount over the active devices.
- (t_server_team.py checks every aggregate kind and the trend's newest row
  against a recount through retire, unretire, reappearance and delete.)"""
import os
import sys
import threading
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (Server, check, check_eq, cli, db_sql, envelope, finding, make_token,  # noqa: E402
                           mid, new_db, not_ok, ok, report)


def rows(s):
    return sorted(x for x in s.splitlines() if x)


def run(kind):
    t = kind + "-"
    db = new_db(kind, "review")
    p = cli(db, "migrate")
    check(t + "migrate", p.returncode == 0, p.stderr)
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    s = Server(db, name=kind + "-review")
    # a few devices with CVEs in several versions and statuses
    for i in range(6):
        fs = [finding("/srv/%d/a.jar" % i, version="2.14.%d" % (i % 3), cves=["CVE-2021-44228", "CVE-2021-45046"]),
              finding("/srv/%d/b.jar" % i, version="2.16.0", status="mitigated", cves=["CVE-2021-45105"]),
              finding("/srv/%d/c.jar" % i, version="1.2.17", component="log4j-1.x", status="safe",
                      cves=["CVE-2021-4104", "CVE-2021-4104"])]
        st, js = s.submit(agent, report(envelope(mid(100 + i), "h%d" % i), fs))
        check(t + "submit-%d" % i, st == 200, js)

    odd_cves = ['a"b', 'x\\y', '\u0001ctl', '\u00e9t\u00e9', '{q},"', 'NULL', '%_']
    fs = [finding("/srv/odd/%d.jar" % i, version=v, cves=odd_cves) for i, v in enumerate(['1"{,}', 'v\\w', 'NULL', ''])]
    st, js = s.submit(agent, report(envelope(mid(200), "odd"), fs))
    check(t + "submit-odd", st == 200, js)
    for c in odd_cves:
        u = "/api/v1/findings?cve=" + urllib.parse.quote(c)
        a = s.get_json(u, reader)["items"]
        # force the walk for this CVE: spoil its totals
        cc = c.replace("'", "''")
        db_sql(db, "UPDATE agg SET files = files + 1000 WHERE kind = 'cve' AND akey = '%s'" % cc)
        b = s.get_json(u, reader)["items"]
        db_sql(db, "UPDATE agg SET files = files - 1000 WHERE kind = 'cve' AND akey = '%s'" % cc)
        check(t + "odd-cve-narrowed-equals-walk-%r" % c, a == b and len(a) == 4, (c, len(a), len(b)))

    fs = [finding("/srv/many/%d.jar" % i, version="3.%d" % i, cves=["CVE-MANY"]) for i in range(17)]
    st, js = s.submit(agent, report(envelope(mid(300), "many"), fs))
    a = s.get_json("/api/v1/findings?cve=CVE-MANY&limit=500", reader)["items"]
    b = s.get_json("/api/v1/devices?cve=CVE-MANY", reader)["items"]
    c = s.get_json("/api/v1/devices?cve=CVE-2021-44228&sha256=" + "ab" * 32, reader)["items"]
    d = s.get_json("/api/v1/devices?cve=CVE-2021-44228&status=vulnerable&version=2.14.1&component=log4j-core&tag=prod&q=h&host=x&stale=1", reader)["items"]
    check(t + "too-many-versions", len(a) == 17 and len(b) == 1 and c == [] and d == [], (len(a), len(b), c, d))

    # --- 1. case: the plain walk (LIKE) vs the narrowed filter for a lower-case CVE
    q = "/api/v1/findings?cve=cve-2021-44228"
    narrowed = s.get_json(q, reader)["items"]
    saved = db_sql(db, "SELECT COUNT(*) FROM agg WHERE kind = 'cvever'")
    # --- 2. narrowing is really used: move the cvever rows of one version to
    # another version with the same totals; the narrowed answer changes
    real = s.get_json("/api/v1/findings?cve=CVE-2021-45105", reader)["items"]
    db_sql(db, "UPDATE agg SET sub = '9.9.9' WHERE kind = 'cvever' AND akey = 'CVE-2021-45105'")
    fake = s.get_json("/api/v1/findings?cve=CVE-2021-45105", reader)["items"]
    check(t + "narrowing-is-used", len(real) == 6 and fake == [], (len(real), len(fake)))
    db_sql(db, "UPDATE agg SET sub = '2.16.0' WHERE kind = 'cvever' AND akey = 'CVE-2021-45105'")

    # what the filter (f.cves_json LIKE ? ESCAPE) gave before the narrowing
    walked = int(db_sql(db, "SELECT COUNT(*) FROM findings f WHERE f.cves_json LIKE '%\"cve-2021-44228\"%' ESCAPE '\\'"))
    check(t + "lowercase-cve-as-before", len(narrowed) == walked,
          "API now %d, the LIKE filter alone %d (cvever rows %s)" % (len(narrowed), walked, saved))
    check(t + "clean-exit-1", s.stop() == 0, s.log_text()[-800:])

    # --- 3. migration 7's backfill over existing findings: back to schema 6 and migrate again
    recount_from = ("jsonb_array_elements_text(f.cves_json::jsonb) c(value)" if kind == "pg"
                    else "json_each(f.cves_json) c")
    want = rows(db_sql(db, "SELECT c.value, f.version, f.status, COUNT(*), COUNT(DISTINCT f.device_id)"
                           " FROM findings f, " + recount_from + " GROUP BY c.value, f.version, f.status"))
    ingest_cvever = rows(db_sql(db, "SELECT akey, sub, status, files, devices FROM agg WHERE kind = 'cvever' AND files <> 0"))
    db_sql(db, "DELETE FROM agg WHERE kind = 'cvever'")
    # (and the migrations after it, undone, so that all run again in order)
    db_sql(db, "DELETE FROM schema_migrations WHERE version >= 7")
    # (and the migration of issue 20 after it)
    for sql in ("DROP INDEX findings_image", "DROP INDEX findings_loaded", "DROP INDEX devices_coverage",
                "DROP TABLE cve_info", "DELETE FROM agg WHERE kind = 'severity'") + tuple(
            "ALTER TABLE %s DROP COLUMN %s" % tc for tc in (
                ("findings", "shadowed"), ("findings", "image"), ("findings", "image_tag"), ("findings", "layer"),
                ("findings", "in_final_image"), ("findings", "note"), ("processes", "n_public"),
                ("devices", "n_critical"), ("devices", "critical_exposed"), ("devices", "coverage"),
                ("devices", "coverage_json"), ("reports", "coverage"),
                ("findings", "cd_sha256"))):   # (and issue 17's)
        db_sql(db, sql)
    db_sql(db, "DROP INDEX devices_machine_id")
    db_sql(db, "ALTER TABLE devices DROP COLUMN agent_id")
    # (and the rules migration, issue 22's, undone too)
    # (migration 11; migration 15, branch rejudge, dropped its snapshot
    # tables and added rules_change_devices)
    db_sql(db, "DROP TABLE rules; DROP TABLE rules_state; DROP TABLE rules_changes; DROP TABLE rules_change_devices")
    db_sql(db, "ALTER TABLE findings DROP COLUMN facts")
    db_sql(db, "ALTER TABLE findings DROP COLUMN judged_by")
    # (and issue 20 point 7's: what an attempt decoded)
    for col in ("payload", "payload_b64", "domain"):
        db_sql(db, "ALTER TABLE attempts DROP COLUMN " + col)
    # (and issue 20 point 9's, branch team: roles, last use, audit, retired)
    db_sql(db, "DROP TABLE audit")
    db_sql(db, "DROP INDEX devices_retired")
    for tc in (("users", "role"), ("tokens", "last_used"), ("devices", "retired"), ("devices", "reappeared")):
        db_sql(db, "ALTER TABLE %s DROP COLUMN %s" % tc)
    if kind == "pg":
        db_sql(db, "ALTER TABLE agg_batch DROP COLUMN gen; ALTER TABLE agg_delta DROP COLUMN gen")
    # (and the webhooks migration, issue 20 point 10's)
    db_sql(db, "DROP TABLE webhooks; DROP TABLE webhook_events; DROP TABLE webhook_deliveries;"
               " DROP TABLE webhook_log; DROP TABLE vuln_archives")
    # (and migration 17's, branch pathsearch: the distinct paths)
    db_sql(db, "DROP INDEX findings_path")
    db_sql(db, "ALTER TABLE findings DROP COLUMN path_id")
    db_sql(db, "DROP TABLE paths")
    p = cli(db, "migrate")
    check(t + "remigrate-7", p.returncode == 0, p.stderr)
    # the archives already stored as vulnerable count as seen (no webhook event for them)
    check_eq(t + "vuln-archives-backfill",
             rows(db_sql(db, "SELECT akey FROM vuln_archives ORDER BY 1")),
             rows(db_sql(db, "SELECT DISTINCT a.sha256 FROM archives a JOIN findings f ON f.archive_id = a.id"
                             " WHERE f.status = 'vulnerable' ORDER BY 1")))
    check(t + "vuln-archives-some", len(rows(db_sql(db, "SELECT akey FROM vuln_archives"))) > 0)
    got = rows(db_sql(db, "SELECT akey, sub, status, files, devices FROM agg WHERE kind = 'cvever'"))
    check_eq(t + "backfill-equals-recount", got, want)
    check_eq(t + "backfill-equals-ingest", got, ingest_cvever)
    # issue 20's migration over stored findings: the severity counters equal a recount
    check_eq(t + "severity-backfill-equals-recount",
             rows(db_sql(db, "SELECT akey, status, files, devices FROM agg WHERE kind = 'severity'")),
             rows(db_sql(db, "SELECT COALESCE(severity, 'none'), status, COUNT(*), COUNT(DISTINCT device_id)"
                             " FROM findings GROUP BY 1, 2")))
    check_eq(t + "migration-clears-findings-hash", db_sql(db, "SELECT COUNT(*) FROM devices WHERE findings_hash <> ''"),
             "0")


kinds = sys.argv[1:] or ["sqlite", "pg"]
for k in kinds:
    try:
        run(k)
    except Exception as e:
        not_ok(k + "-exception", e)


def run_pg_concurrency():
    t = "pg-"
    db = new_db("pg", "review_conc")
    cli(db, "migrate")
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    # the first insert of a finding under /reset/ kills its own backend (the
    # collector's connection is lost mid-batch)
    db_sql(db, "CREATE SEQUENCE reset_seq; CREATE FUNCTION reset_me() RETURNS trigger AS $$ BEGIN"
               " IF NEW.path LIKE '%/reset/%' AND nextval('reset_seq') = 1 THEN"
               " PERFORM pg_terminate_backend(pg_backend_pid()); END IF; RETURN NEW; END $$ LANGUAGE plpgsql;"
               " CREATE TRIGGER reset_me BEFORE INSERT ON findings FOR EACH ROW EXECUTE FUNCTION reset_me();")
    s = Server(db, "--rate", "0", name="pg-review-conc")
    THREADS, PER = int(os.environ.get("RV_THREADS", 16)), int(os.environ.get("RV_PER", 12))
    res, lock = {}, threading.Lock()
    bar = threading.Barrier(THREADS)

    def client(n):
        bar.wait()
        for i in range(PER):
            d = (n * 7 + i) % 5          # every thread reports on the same 5 devices
            rid = str(uuid.uuid4())
            path = "/srv/reset/%d-%d.jar" % (n, i) if (n, i) == (3, 2) else "/srv/%d/%d.jar" % (n, i)
            fs = [finding(path, version="2.1%d.0" % (i % 4), cves=["CVE-2021-44228", "CVE-%d" % (n % 3)],
                          sha256="%064x" % (n * 100 + i)),
                  finding("/srv/common.jar", version="2.17.1", status="safe", cves=[], sha256="%064x" % 7)]
            env = envelope(mid(5000 + d), "shared%d" % d, report_id=rid,
                           created="2026-11-28T00:00:00Z" if (n, i) == (3, 2) else "2026-11-27T%02d:%02d:00Z" % (n % 24, i))
            try:
                st, js = s.submit(agent, report(env, fs))
            except Exception as e:
                st, js = -1, str(e)
            with lock:
                res[(n, i)] = (st, js, rid)

    ths = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    bad = [(k, v[:2]) for k, v in res.items() if v[0] != 200 or v[1].get("duplicate")]
    check(t + "shared-devices-all-accepted", not bad, (len(bad), bad[:3], s.log_text()[-600:]))
    check_eq(t + "reset-fired-once-then-retried", db_sql(db, "SELECT last_value, is_called FROM reset_seq"), "2|t")
    check_eq(t + "reports-stored-once", db_sql(db, "SELECT COUNT(*), COUNT(DISTINCT report_id) FROM reports"),
             "%d|%d" % (THREADS * PER, THREADS * PER))
    s.get_json("/api/v1/summary", reader)   # merges
    check_eq(t + "agg-version-matches-rows",
             rows(db_sql(db, "SELECT akey, sub, status, files, devices FROM agg WHERE kind = 'version'"
                             " AND (files <> 0 OR devices <> 0)")),
             rows(db_sql(db, "SELECT version, component, status, COUNT(*), COUNT(DISTINCT device_id)"
                             " FROM findings GROUP BY version, component, status")))
    check_eq(t + "agg-cvever-matches-rows",
             rows(db_sql(db, "SELECT akey, sub, status, files, devices FROM agg WHERE kind = 'cvever'"
                             " AND (files <> 0 OR devices <> 0)")),
             rows(db_sql(db, "SELECT c.value, f.version, f.status, COUNT(*), COUNT(DISTINCT f.device_id)"
                             " FROM findings f, jsonb_array_elements_text(f.cves_json::jsonb) c(value)"
                             " GROUP BY c.value, f.version, f.status")))
    # issue 20 point 9: a device retired, another deleted, while the
    # counters above are the fleet's: they still equal a recount over the
    # active devices' rows (retire and delete take each device's share out)
    ids = db_sql(db, "SELECT id FROM devices ORDER BY id").split()
    p = cli(db, "device", "retire", ids[0])
    check(t + "retire-one", p.returncode == 0, p.stderr)
    p = cli(db, "device", "delete", ids[1])
    check(t + "delete-one", p.returncode == 0, p.stderr)
    s.get_json("/api/v1/summary", reader)   # merges
    check_eq(t + "agg-version-after-retire-delete",
             rows(db_sql(db, "SELECT akey, sub, status, files, devices FROM agg WHERE kind = 'version'"
                             " AND (files <> 0 OR devices <> 0)")),
             rows(db_sql(db, "SELECT version, component, status, COUNT(*), COUNT(DISTINCT device_id)"
                             " FROM findings WHERE device_id IN (SELECT id FROM devices WHERE retired = 0)"
                             " GROUP BY version, component, status")))
    check_eq(t + "agg-cvever-after-retire-delete",
             rows(db_sql(db, "SELECT akey, sub, status, files, devices FROM agg WHERE kind = 'cvever'"
                             " AND (files <> 0 OR devices <> 0)")),
             rows(db_sql(db, "SELECT c.value, f.version, f.status, COUNT(*), COUNT(DISTINCT f.device_id)"
                             " FROM findings f, jsonb_array_elements_text(f.cves_json::jsonb) c(value)"
                             " WHERE f.device_id IN (SELECT id FROM devices WHERE retired = 0)"
                             " GROUP BY c.value, f.version, f.status")))
    check_eq(t + "trend-devices-after-retire-delete",
             db_sql(db, "SELECT devices FROM trend ORDER BY day DESC LIMIT 1"),
             db_sql(db, "SELECT COUNT(*) FROM devices WHERE retired = 0"))
    check_eq(t + "counters-match-rows",
             db_sql(db, "SELECT COUNT(*) FROM devices d WHERE n_vulnerable + n_mitigated + n_safe <>"
                        " (SELECT COUNT(*) FROM findings f WHERE f.device_id = d.id)"), "0")
    check(t + "clean-exit", s.stop() == 0, "")


if "pg" in kinds:
    try:
        run_pg_concurrency()
    except Exception as e:
        not_ok("pg-conc-exception", e)
