"""t_server_batch.py - concurrent ingest: exact totals, and a report that fails
in the database takes no other report down.

Reports that arrive together are written in one transaction (group
commit, each report in its own savepoint); SQLite writes one such batch at a
time, PostgreSQL several at once.  A trigger installed by this test (not by the server) makes
the insert of any finding under /poison/ fail, so a report that parsed
fine fails inside the write.  Sixteen clients then submit a mix of good
reports, newer reports of the same devices and poisoned ones at once:

  - every good report is answered 200 and stored, every poisoned one 503
    and not stored (reports/known), and a poisoned re-report leaves the
    device's previous state alone
  - the fleet totals (summary, by version, by archive) equal the ones
    computed here from the good reports, and agg equals a recount of the
    findings rows
  - every finding's archive_id names its own sha256, also for archives that
    a poisoned report added and lost again and a later report brings back
    (the SQLite writer caches archive ids: a rolled-back one must not stay
    cached)
On SQLite and PostgreSQL.
"""
import os
import sys
import threading
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (Server, check, check_eq, db_sql, envelope, finding, make_token, mid, new_db,  # noqa: E402
                           not_ok, ok, process, report, sha)

THREADS = 16
PER_THREAD = 12          # device d gets reports i = d and i = d + 6 (newer)
VERSIONS = [("2.14.1", "vulnerable", ["CVE-2021-44228", "CVE-2021-45046"]),
            ("2.16.0", "mitigated", ["CVE-2021-45105"]),
            ("2.17.1", "safe", [])]

POISON_SQL = {
    "sqlite": "CREATE TRIGGER poison BEFORE INSERT ON findings WHEN NEW.path LIKE '%/poison/%'"
              " BEGIN SELECT RAISE(ABORT, 'poisoned finding'); END;",
    "pg": "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.path LIKE '%/poison/%' THEN"
          " RAISE EXCEPTION 'poisoned finding'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;"
          " CREATE TRIGGER poison BEFORE INSERT ON findings FOR EACH ROW EXECUTE FUNCTION poison();",
}

# PostgreSQL: the first insert of a finding under /transient/ fails with a
# serialization failure (a sequence is not rolled back with the transaction)
TRANSIENT_SQL = ("CREATE SEQUENCE transient_seq; CREATE FUNCTION transient() RETURNS trigger AS $$ BEGIN"
                 " IF NEW.path LIKE '%/transient/%' AND nextval('transient_seq') = 1 THEN"
                 " RAISE EXCEPTION 'transient' USING ERRCODE = '40001'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;"
                 " CREATE TRIGGER transient BEFORE INSERT ON findings FOR EACH ROW EXECUTE FUNCTION transient();")


def good_findings(n, i):
    """Findings of a good report; their number and mix depend on (n, i)."""
    out = []
    for k in range(3 + (n + i) % 5):
        ver, status, cves = VERSIONS[(n + i + k) % 3]
        # shared archives (one per version) and per-device ones
        h = sha(100 + (n + i + k) % 3) if k % 2 == 0 else sha(10000 + 100 * n + 10 * i + k)
        out.append(finding("/srv/%d/%d/%d/log4j-core-%s.jar" % (n, i, k, ver), version=ver, status=status,
                           cves=cves, sha256=h))
    return out


def poisoned_findings(n, i):
    # a brand-new archive first (added to `archives`, then rolled back), then the poison
    return [finding("/srv/%d/%d/new.jar" % (n, i), sha256=sha(50000 + 100 * n + i)),
            finding("/srv/poison/%d/%d.jar" % (n, i))]


def is_poisoned(n, i):
    return (n + i) % 5 == 0


def rows(text):
    return sorted(tuple(line.split("|")) for line in text.splitlines() if line)


def run(kind):
    t = kind + "-"
    try:
        db = new_db(kind, "batch")
    except Exception as e:
        not_ok(t + "backend-available", e)
        return
    ok(t + "backend-available")
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    db_sql(db, POISON_SQL[kind])
    s = Server(db, "--rate", "0", name=kind + "-batch")

    results, lock = {}, threading.Lock()     # (n, i) -> (status, json, report id)
    barrier = threading.Barrier(THREADS)

    def client(n):
        barrier.wait()
        for i in range(PER_THREAD):
            d = i % 6
            rid = str(uuid.uuid4())
            env = envelope(mid(1000 + 10 * n + d), "b%d-%d" % (n, d), report_id=rid,
                           created="2026-11-27T21:%02d:00Z" % i)
            recs = poisoned_findings(n, i) if is_poisoned(n, i) else good_findings(n, i)
            try:
                st, js = s.submit(agent, report(env, recs + [process(pid=100 + i, ports=[])]))
            except Exception as e:
                st, js = -1, str(e)
            with lock:
                results[(n, i)] = (st, js, rid)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    good = [k for k in results if not is_poisoned(*k)]
    bad = [k for k in results if is_poisoned(*k)]
    wrong = [(k, results[k][:2]) for k in good
             if not (results[k][0] == 200 and results[k][1].get("accepted") and not results[k][1].get("duplicate"))]
    check(t + "good-reports-accepted", not wrong and len(good) > 100, wrong[:3])
    wrong = [(k, results[k][:2]) for k in bad if results[k][0] != 503]
    check(t + "poisoned-reports-503", not wrong and len(bad) > 20, wrong[:3])
    check(t + "server-logged-the-failure", "poisoned finding" in s.log_text(), s.log_text()[-300:])

    ids = [results[k][2] for k in sorted(results)]
    known = set()
    for i in range(0, len(ids), 100):
        known |= set(s.get_json("/api/v1/reports/known?ids=" + ",".join(ids[i:i + 100]), agent)["known"])
    check_eq(t + "good-reports-stored", sorted(results[k][2] for k in good if results[k][2] not in known), [])
    check_eq(t + "poisoned-reports-not-stored", sorted(results[k][2] for k in bad if results[k][2] in known), [])

    # the expected fleet: each device's newest good report
    state = {}
    for n in range(THREADS):
        for i in range(PER_THREAD):
            if not is_poisoned(n, i):
                state[(n, i % 6)] = good_findings(n, i)
    fs = [f for recs in state.values() for f in recs]
    want = {st: sum(1 for f in fs if f["status"] == st) for st in ("vulnerable", "mitigated", "safe")}
    summ = s.get_json("/api/v1/summary", reader)
    check_eq(t + "summary-devices", summ["devices"], len(state))
    check_eq(t + "summary-findings", summ["findings"], want)
    check_eq(t + "summary-devices-vulnerable", summ["devices_vulnerable"],
             sum(1 for recs in state.values() if any(f["status"] == "vulnerable" for f in recs)))
    ov = s.get_json("/api/v1/overview", reader)
    vers = {(x["component"], x["version"]): x for x in ov["by_version"]}
    check_eq(t + "by-version-files", vers.get(("log4j-core", "2.14.1"), {}).get("files_vulnerable"),
             sum(1 for f in fs if f["version"] == "2.14.1"))
    check_eq(t + "by-version-devices", vers.get(("log4j-core", "2.16.0"), {}).get("devices_mitigated"),
             sum(1 for recs in state.values() if any(f["version"] == "2.16.0" for f in recs)))
    shared = sha(100 + 0)   # the 2.14.1 one (k = 0, n + i = 0 mod 3) and others share it
    items = s.get_json("/api/v1/findings?sha256=%s&limit=500" % shared, reader)["items"]
    check_eq(t + "drill-down-shared-archive", len(items), sum(1 for f in fs if f["sha256"] == shared))

    # agg equals a recount of the rows; archive ids name their own sha256
    check_eq(t + "agg-version-matches-rows",
             rows(db_sql(db, "SELECT akey, sub, status, files, devices FROM agg WHERE kind = 'version'"
                             " AND (files <> 0 OR devices <> 0)")),
             rows(db_sql(db, "SELECT version, component, status, COUNT(*), COUNT(DISTINCT device_id)"
                             " FROM findings GROUP BY version, component, status")))
    check_eq(t + "agg-sha256-matches-rows",
             rows(db_sql(db, "SELECT akey, status, files, devices FROM agg WHERE kind = 'sha256'"
                             " AND (files <> 0 OR devices <> 0)")),
             rows(db_sql(db, "SELECT sha256, status, COUNT(*), COUNT(DISTINCT device_id) FROM findings"
                             " WHERE sha256 IS NOT NULL GROUP BY sha256, status")))
    each_cve = ("jsonb_array_elements_text(f.cves_json::jsonb) c(value)" if kind == "pg"
                else "json_each(f.cves_json) c")
    check_eq(t + "agg-cve-per-version-matches-rows",
             rows(db_sql(db, "SELECT akey, sub, status, files, devices FROM agg WHERE kind = 'cvever'"
                             " AND (files <> 0 OR devices <> 0)")),
             rows(db_sql(db, "SELECT c.value, f.version, f.status, COUNT(*), COUNT(DISTINCT f.device_id)"
                             " FROM findings f, " + each_cve + " GROUP BY c.value, f.version, f.status")))
    check_eq(t + "counters-match-rows",
             db_sql(db, "SELECT COUNT(*) FROM devices d WHERE n_vulnerable + n_mitigated + n_safe <>"
                        " (SELECT COUNT(*) FROM findings f WHERE f.device_id = d.id AND f.shadowed = 0)"), "0")

    # the archives the poisoned reports added and lost: a later report brings them back
    for n, i in bad[:10]:
        env = envelope(mid(9000 + 10 * n + i), "late%d-%d" % (n, i))
        st, js = s.submit(agent, report(env, [finding("/srv/late/%d/%d.jar" % (n, i),
                                                      sha256=sha(50000 + 100 * n + i))]))
        if st != 200:
            not_ok(t + "late-report", (st, js))
            break
    n, i = bad[0]
    items = s.get_json("/api/v1/findings?sha256=" + sha(50000 + 100 * n + i), reader)["items"]
    check_eq(t + "drill-down-archive-once-rolled-back", [x["path"] for x in items], ["/srv/late/%d/%d.jar" % (n, i)])
    check_eq(t + "archive-ids-match",
             db_sql(db, "SELECT COUNT(*) FROM findings f LEFT JOIN archives a ON a.id = f.archive_id"
                        " WHERE f.sha256 IS NOT NULL AND (a.sha256 IS NULL OR a.sha256 <> f.sha256)"), "0")
    check_eq(t + "no-finding-without-archive",
             db_sql(db, "SELECT COUNT(*) FROM findings WHERE sha256 IS NOT NULL AND archive_id IS NULL"), "0")

    if kind == "pg":
        # a serialization failure (40001) of one report inside a batch: that
        # report is rolled back to its savepoint and re-run alone, the others
        # of its batch commit; the trigger fails only its first attempt
        db_sql(db, TRANSIENT_SQL)
        before = s.get_json("/api/v1/summary", reader)["findings"]
        res, barrier8 = {}, threading.Barrier(8)

        def submit_one(j):
            env = envelope(mid(20000 + j), "tr%d" % j)
            path = "/srv/transient/%d.jar" % j if j == 3 else "/srv/calm/%d.jar" % j
            barrier8.wait()
            res[j] = s.submit(agent, report(env, [finding(path, version="2.17.1", status="safe", cves=[])]))
        ths = [threading.Thread(target=submit_one, args=(j,)) for j in range(8)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        check(t + "transient-failure-retried", all(res[j][0] == 200 for j in range(8)) and
              db_sql(db, "SELECT nextval('transient_seq')") == "3", res)
        after = s.get_json("/api/v1/summary", reader)["findings"]
        check_eq(t + "transient-all-stored", after["safe"] - before["safe"], 8)
    rc = s.stop()
    check(t + "clean-exit", rc == 0, s.log_text()[-300:])


for backend in ("sqlite", "pg"):
    run(backend)
