"""t_server_rules.py - the collector re-judges the fleet when its rules
change (issue 22), on SQLite and PostgreSQL.

Findings that carry facts (docs/schema.md) are judged by the collector's
active rules, at ingest and again when `rules load` / `rules rollback`
changes them; findings without facts (older agents) keep their own verdict
and are marked not re-judgeable.  A rules file that adds a fictional CVE for
a version range, mitigated by removing a class: the API shows the affected
devices without any new report; rolling back removes them; a malformed file
changes nothing; a report sent after the change is judged by the new rules;
the agent, given the same rules file, reports the verdicts the collector
shows.
"""
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (OUT, TOP, Server, check, check_eq, cli, db_sql, envelope, finding, make_token,  # noqa: E402
                           mid, new_db, not_ok, ok, report)

AGENT = os.environ.get("L4S_AGENT") or os.path.join(TOP, "build/san/log4scan")
FICTIONAL = "CVE-2099-0001"
EXTRA = ('\ncve %s log4j-core 9.3 "fictional: a flaw in 2.17.x"\n'
         "affected %s 2.17.0 2.18.0\n"
         "fixed %s 2.18.0\n"
         "mitigated-if-absent %s lookup/JndiLookup\n") % ((FICTIONAL,) * 4)


def rules_files():
    base = open(os.path.join(TOP, "rules/log4j.rules")).read()
    good = os.path.join(OUT, "rules-fictional.rules")
    with open(good, "w") as f:
        f.write(base + EXTRA)
    bad = os.path.join(OUT, "rules-bad.rules")
    with open(bad, "w") as f:
        f.write(base + "\naffected CVE-2099-0002 2.17.0 2.18.0\n")  # an undeclared CVE
    return good, bad


def fact_finding(path, facts, version, status="safe", cves=()):
    f = finding(path, version=version, status=status, cves=cves)
    f["facts"] = facts
    return f


def device_counts(s, token):
    return {d["hostname"]: (d["vulnerable"], d["mitigated"], d["safe"])
            for d in s.get_json("/api/v1/devices?limit=100", token)["items"]}


def cve_devices(s, token, cve):
    for c in s.get_json("/api/v1/cves?limit=100", token)["items"]:
        if c["cve"] == cve:
            return c
    return None


def http_rollback(t, db, s, reader, had):
    """An admin makes rules 1 active again from the dashboard's API (a
    re-judging in the server's background): refused to a viewer, without
    the CSRF token, for rules that do not exist; then the fictional CVE is
    back on exactly the devices that had it, and the audit log says who."""
    for name, role in (("root", "admin"), ("vera", "viewer")):
        p = cli(db, "user", "add", name, "--role", role, stdin="a long password\n")
        check(t + "user-" + name, p.returncode == 0, p.stderr)

    def login(user):
        st, h, data = s.request("POST", "/api/v1/login", json.dumps({"user": user, "password": "a long password"}),
                                {"Content-Type": "application/json"})
        return h.get("set-cookie", "").split(";")[0], (json.loads(data).get("csrf") if st == 200 else None)

    def post(cookie, csrf, body):
        h = {"Cookie": cookie, "Content-Type": "application/json"}
        if csrf:
            h["X-CSRF-Token"] = csrf
        st, _, data = s.request("POST", "/api/v1/rules/rollback", body=json.dumps(body), headers=h)
        return st, data

    cookie, csrf = login("root")
    vcookie, vcsrf = login("vera")
    check_eq(t + "http-rollback-viewer-403", post(vcookie, vcsrf, {"id": 1})[0], 403)
    check_eq(t + "http-rollback-no-csrf-403", post(cookie, None, {"id": 1})[0], 403)
    st, _, _ = s.request("POST", "/api/v1/rules/rollback", body='{"id":1}',
                         headers={"Authorization": "Bearer " + reader, "Content-Type": "application/json"})
    check_eq(t + "http-rollback-read-token-403", st, 403)
    check_eq(t + "http-rollback-unknown-404", post(cookie, csrf, {"id": 99})[0], 404)
    check_eq(t + "http-rollback-bad-body-400", post(cookie, csrf, {"id": "one"})[0], 400)
    st, _, _ = s.request("GET", "/api/v1/rules/rollback", headers={"Cookie": cookie})
    check_eq(t + "http-rollback-get-405", st, 405)
    st, data = post(cookie, csrf, {"id": 1})
    check(t + "http-rollback-202", st == 202 and json.loads(data) == {"target": 1, "judging": True}, (st, data))
    deadline = time.time() + 120
    r = None
    while time.time() < deadline:
        r = s.get_json("/api/v1/rules", reader)
        if r["active"] == 1 and r["judging"] is None:
            break
        time.sleep(0.2)
    check(t + "http-rollback-done", r and r["active"] == 1 and r["judging"] is None, r)
    # the CVE table switched with the rules that judged (cve_info.c)
    c = cve_devices(s, reader, FICTIONAL)
    check(t + "http-rollback-cve-table", c is not None and (c["cvss"], c["severity"], c["title"]) ==
          ("9.3", "critical", "fictional: a flaw in 2.17.x"), c)
    ch = s.get_json("/api/v1/rules/changes", reader)["changes"]
    row = [x for x in ch if x["cve"] == FICTIONAL and x["rules_id"] == 1 and x["prev_id"] == 0 and x["newly"] == len(had)]
    if check(t + "http-rollback-change-row", len(row) >= 1, ch):
        check_eq(t + "http-rollback-drill-newly", change_devices(s, reader, row[0]["id"], "newly"), had)
    audit = call_json(s, "/api/v1/audit?kind=rules_rollback", cookie)
    check(t + "http-rollback-audited", any(a.get("actor") == "root" and a.get("subject") == "rules 1"
                                           for a in (audit or {}).get("items", [])), audit)
    # a re-judging in progress, as the state row shows it while one runs (or
    # after a collector was stopped in the middle of one): GET says what it
    # does and how far it got, and a rollback waits for it (409)
    saved = db_sql(db, "SELECT target || ',' || judged || ',' || total || ',' || started || ',' || finished"
                       " FROM rules_state WHERE one = 1").split(",")
    db_sql(db, "UPDATE rules_state SET target = 0, judged = 3, total = 7, started = 1700000000, finished = 0"
               " WHERE one = 1")
    r = s.get_json("/api/v1/rules", reader)
    check(t + "http-judging-object", r.get("judging") == {"target": 0, "judged": 3, "total": 7, "started": 1700000000}
          and "last_change" not in r, r)
    st, data = post(cookie, csrf, {"id": 0})
    check(t + "http-rollback-while-judging-409", st == 409 and "in progress" in str(data), (st, data))
    db_sql(db, "UPDATE rules_state SET target = %s, judged = %s, total = %s, started = %s, finished = %s"
               " WHERE one = 1" % tuple(saved))
    r = s.get_json("/api/v1/rules", reader)
    check(t + "http-judging-ended", r.get("judging") is None and r.get("last_change") == int(saved[4]) and
          r["active"] == 1, r)
    # a retired device is out of every count and list: the re-judging's
    # counts and its record of what changed leave it out too
    ids = {d["hostname"]: d["id"] for d in s.get_json("/api/v1/devices?limit=100", reader)["items"]}
    p = cli(db, "device", "retire", str(ids["e"]))
    check(t + "retire-e", p.returncode == 0, p.stderr)
    rest = [h for h in had if h != "e"]
    p = cli(db, "rules", "rollback", "0")
    check(t + "rollback-again", p.returncode == 0, p.stderr)
    ch = s.get_json("/api/v1/rules/changes", reader)["changes"]
    row = ch[0] if ch and ch[0]["cve"] == FICTIONAL and ch[0]["rules_id"] == 0 else None
    check(t + "retired-not-in-change", row is not None and row["no_longer"] == len(rest), ch[:2])
    if row:
        check_eq(t + "retired-not-in-drill-down", change_devices(s, reader, row["id"], "no_longer"), rest)
    p = cli(db, "rules", "rollback", "1")
    check(t + "rollback-to-1-with-retired", p.returncode == 0, p.stderr)
    c = cve_devices(s, reader, FICTIONAL)
    check(t + "retired-not-counted", c is not None and c["devices_vulnerable"] == len(rest), c)
    p = cli(db, "device", "unretire", str(ids["e"]))
    check(t + "unretire-e", p.returncode == 0, p.stderr)
    c = cve_devices(s, reader, FICTIONAL)
    check(t + "unretired-counted-again", c is not None and c["devices_vulnerable"] == len(had), c)
    # back to the built-in rules for what follows
    p = cli(db, "rules", "rollback", "0")
    check(t + "rollback-to-built-in", p.returncode == 0, p.stderr)


def call_json(s, path, cookie):
    st, _, data = s.request("GET", path, headers={"Cookie": cookie})
    return json.loads(data) if st == 200 else {"status": st, "body": data[:200].decode(errors="replace")}


def change_devices(s, token, change_id, kind):
    q = "/api/v1/devices?limit=500&rules_change=%d" % change_id + ("&change=" + kind if kind else "")
    return sorted(d["hostname"] for d in s.get_json(q, token)["items"])


def run(kind, good, bad):
    t = kind + "-rules-"
    try:
        db = new_db(kind, "rules")
    except Exception as e:
        not_ok(t + "backend-available", e)
        return
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    s = Server(db, name="rules-" + kind)
    # a: 2.17.1 with JndiLookup; b: 2.17.1 without it; c: an agent without
    # facts (its verdict stands); d: 2.19.0
    sent = {
        "a": fact_finding("/srv/a/log4j-core-2.17.1.jar", "v1 set=2.17.1 pom=2.17.1 +lookup/JndiLookup", "2.17.1"),
        "b": fact_finding("/srv/b/log4j-core-2.17.1.jar", "v1 set=2.17.1 pom=2.17.1 -lookup/JndiLookup", "2.17.1"),
        "c": finding("/srv/c/log4j-core-2.17.1.jar", version="2.17.1", status="safe", cves=()),
        "d": fact_finding("/srv/d/log4j-core-2.19.0.jar", "v1 set=2.19.0 pom=2.19.0 +lookup/JndiLookup", "2.19.0"),
    }
    for i, (host, f) in enumerate(sorted(sent.items())):
        st, js = s.submit(agent, report(envelope(mid(i), host), [f]))
        check(t + "ingest-" + host, st == 200, js)
    before = device_counts(s, reader)
    check_eq(t + "default-rules-all-safe", before,
             {"a": (0, 0, 1), "b": (0, 0, 1), "c": (0, 0, 1), "d": (0, 0, 1)})
    check_eq(t + "active-is-built-in", s.get_json("/api/v1/rules", reader)["active"], 0)

    # a malformed file: refused with file and line, nothing changes
    p = cli(db, "rules", "load", bad)
    check(t + "bad-file-refused", p.returncode != 0 and bad + ": line " in p.stderr, p.stderr)
    r = s.get_json("/api/v1/rules", reader)
    check(t + "bad-file-changes-nothing", r["active"] == 0 and len(r["rules"]) == 1, r)
    check_eq(t + "bad-file-counts-unchanged", device_counts(s, reader), before)

    # the fictional CVE: affected devices without any new report
    p = cli(db, "rules", "load", good)
    check(t + "load", p.returncode == 0 and "rules 1 active" in p.stderr, p.stderr)
    r = s.get_json("/api/v1/rules", reader)
    check(t + "api-active", r["active"] == 1 and r["judging"] is None and
          any(x["id"] == 1 and FICTIONAL in x["cves"] for x in r["rules"]), r)
    after = device_counts(s, reader)
    check_eq(t + "rejudged-counts", after,
             {"a": (1, 0, 0), "b": (0, 1, 0), "c": (0, 0, 1), "d": (0, 0, 1)})
    c = cve_devices(s, reader, FICTIONAL)
    check(t + "cve-aggregate", c is not None and c["devices_vulnerable"] == 1, c)
    fs = {f["hostname"]: f for f in s.get_json("/api/v1/findings?limit=100", reader)["items"]}
    check_eq(t + "finding-a-cves", fs["a"]["cves"], [FICTIONAL])
    check(t + "finding-a-judged-by-1", fs["a"]["judged_by"] == 1 and fs["a"]["rejudgeable"] == 1, fs["a"])
    check(t + "finding-c-not-rejudgeable", fs["c"]["rejudgeable"] == 0 and fs["c"]["judged_by"] is None, fs["c"])
    check_eq(t + "finding-a-fixed-in", fs["a"]["fixed_in"], "2.18.0")
    ch = s.get_json("/api/v1/rules/changes", reader)["changes"]
    check(t + "changes-newly", any(x["cve"] == FICTIONAL and x["rules_id"] == 1 and x["newly"] == 1 and
                                   x["no_longer"] == 0 for x in ch), ch)
    # the drill-down: exactly the devices the change made affected
    fic = [x for x in ch if x["cve"] == FICTIONAL and x["rules_id"] == 1]
    if check(t + "change-row", len(fic) == 1 and isinstance(fic[0].get("id"), int), fic):
        check_eq(t + "drill-newly", change_devices(s, reader, fic[0]["id"], "newly"), ["a"])
        check_eq(t + "drill-newly-default", change_devices(s, reader, fic[0]["id"], None), ["a"])
        check_eq(t + "drill-no-longer-empty", change_devices(s, reader, fic[0]["id"], "no_longer"), [])
    for bad in ("rules_change=x", "rules_change=1&change=maybe"):
        st, _, _ = s.request("GET", "/api/v1/devices?" + bad, headers={"Authorization": "Bearer " + reader})
        check_eq(t + "drill-bad-arg " + bad, st, 400)

    # a report sent now is judged by the active rules
    e = fact_finding("/srv/e/log4j-core-2.17.1.jar", "v1 set=2.17.1 pom=2.17.1 +lookup/JndiLookup", "2.17.1")
    time.sleep(1.2)  # a server re-reads the active rules at most once a second
    st, js = s.submit(agent, report(envelope(mid(9), "e"), [e]))
    check(t + "ingest-after-load", st == 200, js)
    want_sha = hashlib.sha256(open(good, "rb").read()).hexdigest()
    check_eq(t + "ingest-answer-names-rules", js.get("rules_sha256"), want_sha)
    st, _, body = s.request("GET", "/api/v1/rules/active", headers={"Authorization": "Bearer " + agent})
    check(t + "agent-fetches-active-rules", st == 200 and hashlib.sha256(body).hexdigest() == want_sha, st)
    check_eq(t + "new-report-judged-by-new-rules", device_counts(s, reader).get("e"), (1, 0, 0))

    # the agent with the collector's rules gives the verdicts the collector
    # computes from its facts (one function, same rules)
    corpus = os.path.join(TOP, "..", "shared", "corpus", "log4j-samples")
    p = subprocess.run([AGENT, "scan", "--format", "json", "--rules", good, corpus], capture_output=True,
                       text=True, timeout=600)
    mine = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    mine_f = [x for x in mine if x.get("kind") == "finding"]
    check(t + "agent-scan", mine_f and all(x.get("facts", "").startswith("v1") for x in mine_f), p.stderr[-300:])
    check(t + "agent-sees-fictional", any(FICTIONAL in x["cves"] + x["mitigated_cves"] for x in mine_f),
          [x["version"] for x in mine_f])
    # the collector, told nothing of the agent's verdicts, judges the facts
    blind = []
    for x in mine:
        if x.get("kind") == "report":
            x["host"]["hostname"] = "agent-host"
            x["host"]["machine_id"] = mid(20)
        if x.get("kind") == "finding":
            x = dict(x, status="safe", cves=[], severity="none", fixed_in=None)
        blind.append(x)
    st, js = s.submit(agent, "".join(json.dumps(x) + "\n" for x in blind))
    check(t + "agent-report-ingested", st == 200, js)
    theirs = {}
    for f in s.get_json("/api/v1/findings?limit=500", reader)["items"]:
        if f["hostname"] == "agent-host":
            theirs[f["path"]] = (f["status"], sorted(f["cves"]),
                                 f["severity"], f["fixed_in"], f["version"])
    want = {x["path"]: (x["status"], sorted(x["cves"]), x["severity"], x["fixed_in"], x["version"]) for x in mine_f}
    diff = [(k, want[k], theirs.get(k)) for k in want if theirs.get(k) != want[k]]
    check(t + "collector-verdicts-equal-agent (%d findings)" % len(want), not diff and len(theirs) == len(want),
          diff[:3])

    # an agent that submits learns the collector's rules, keeps them, and
    # its next run judges with them; --rules FILE still wins
    state = os.path.join(OUT, "state-" + kind)
    tree = os.path.join(OUT, "tree-" + kind)
    os.makedirs(tree, exist_ok=True)
    src = os.path.join(TOP, "..", "shared", "corpus", "log4j-samples", "false-hits", "log4j-core-2.17.1.jar")
    with open(src, "rb") as f, open(os.path.join(tree, "app.jar"), "wb") as g:
        g.write(f.read())
    env = dict(os.environ, LOG4SCAN_STATE_DIR=state, LOG4SCAN_TOKEN=agent)

    def scan(*extra):
        p = subprocess.run([AGENT, "scan", "--format", "json", "--no-config", *extra, tree], capture_output=True,
                           text=True, env=env, timeout=300)
        recs = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
        fs = [x for x in recs if x.get("kind") == "finding"]
        envl = [x for x in recs if x.get("kind") == "report"]
        return p, fs, envl[0]["options"]["rules"] if envl else None

    p, fs, used = scan("--submit", "http://127.0.0.1:%d" % s.port, "--spool-dir", os.path.join(OUT, "spool-" + kind))
    check(t + "agent-first-run-built-in", used == "built-in" and fs and fs[0]["status"] == "safe",
          (used, [x["status"] for x in fs], p.stderr[-300:]))
    kept = os.path.join(state, "collector.rules")
    check(t + "agent-kept-collector-rules", os.path.exists(kept) and
          hashlib.sha256(open(kept, "rb").read()).hexdigest() == want_sha, p.stderr[-300:])
    p, fs, used = scan()
    check(t + "agent-next-run-collector-rules", used == "collector:" + want_sha, used)
    check(t + "agent-next-run-same-verdict", fs and fs[0]["status"] == "vulnerable" and
          fs[0]["cves"] == [FICTIONAL], [(x["status"], x["cves"]) for x in fs])
    p, fs, used = scan("--rules", os.path.join(TOP, "rules", "log4j.rules"))
    check(t + "agent-rules-file-wins", used.endswith("log4j.rules") and fs and fs[0]["status"] == "safe",
          (used, [x["status"] for x in fs]))
    # the file kept is not reused when the collector's rules are the same
    p, fs, used = scan("--submit", "http://127.0.0.1:%d" % s.port, "--spool-dir", os.path.join(OUT, "spool-" + kind))
    check(t + "agent-same-rules-not-fetched", "kept in" not in p.stderr, p.stderr[-300:])

    # rollback: the fictional CVE goes away again, from exactly the
    # devices that had it
    had = sorted({f["hostname"] for f in s.get_json("/api/v1/findings?limit=500", reader)["items"]
                  if FICTIONAL in f["cves"]})
    check(t + "fictional-devices-before-rollback", len(had) >= 3 and "a" in had and "b" not in had, had)
    p = cli(db, "rules", "rollback", "0")
    check(t + "rollback", p.returncode == 0, p.stderr)
    back = device_counts(s, reader)
    check(t + "rollback-counts", all(back[h] == (0, 0, 1) for h in "abcde"), back)
    check(t + "rollback-cve-gone", cve_devices(s, reader, FICTIONAL) is None, cve_devices(s, reader, FICTIONAL))
    ch = s.get_json("/api/v1/rules/changes", reader)["changes"]
    check(t + "changes-no-longer", any(x["cve"] == FICTIONAL and x["rules_id"] == 0 and x["no_longer"] >= 3
                                       for x in ch), ch)
    back_row = [x for x in ch if x["cve"] == FICTIONAL and x["rules_id"] == 0]
    if check(t + "rollback-change-row", len(back_row) == 1 and back_row[0]["no_longer"] == len(had), back_row):
        check_eq(t + "drill-rollback-no-longer", change_devices(s, reader, back_row[0]["id"], "no_longer"), had)
        check_eq(t + "drill-rollback-newly-empty", change_devices(s, reader, back_row[0]["id"], "newly"), [])
    # the earlier change's drill-down still lists what it did then
    if fic:
        check_eq(t + "drill-history-kept", change_devices(s, reader, fic[0]["id"], "newly"), ["a"])
    # the counts agree with the findings (no mix of two rules' verdicts)
    fs = s.get_json("/api/v1/findings?limit=500", reader)["items"]
    for c in s.get_json("/api/v1/cves?limit=100", reader)["items"]:
        want = len({f["device_id"] for f in fs if c["cve"] in f["cves"] and f["status"] == "vulnerable"})
        check_eq(t + "cve-count-matches-findings " + c["cve"], c["devices_vulnerable"], want)
    http_rollback(t, db, s, reader, had)
    p = cli(db, "rules", "show", "1")
    check(t + "show", p.returncode == 0 and FICTIONAL in p.stdout, p.stderr)
    p = cli(db, "rules", "show", "7")
    check(t + "show-unknown", p.returncode != 0, p.stdout)
    check_eq(t + "clean-shutdown", s.stop(), 0)


RESCORED = "CVE-2021-45046"
RESCORED_TITLE = "re-scored: Thread Context lookups only deny service"


def cve_row(s, token, cve):
    c = cve_devices(s, token, cve)
    return (c["cvss"], c["cvss10"], c["severity"], c["title"]) if c else None


def overview_row(s, token, cve):
    for c in s.get_json("/api/v1/overview", token)["by_cve"]:
        if c["cve"] == cve:
            return (c["cvss"], c["cvss10"], c["severity"], c["title"])
    return None


def cve_table(kind):
    """Each CVE's score, severity and title (the cve_info table behind
    /api/v1/cves and the overview's by_cve) are those of the active rules:
    loading rules that add a CVE and re-score another shows them at once,
    a restart keeps them, rolling back (command line) restores the old
    ones, and a CVE the active rules do not list has none (though findings
    that name it are still counted under it)."""
    t = kind + "-cveinfo-"
    try:
        db = new_db(kind, "cveinfo")
    except Exception as e:
        not_ok(t + "backend-available", e)
        return
    base = open(os.path.join(TOP, "rules/log4j.rules")).read()
    line = [x for x in base.splitlines() if x.startswith("cve %s " % RESCORED)]
    if not check(t + "rules-have-" + RESCORED, len(line) == 1, line):
        return
    built_in_title = line[0].split('"')[1]
    rescored = os.path.join(OUT, "rules-rescored.rules")
    with open(rescored, "w") as f:
        f.write(base.replace(line[0], 'cve %s log4j-core 3.7 "%s"' % (RESCORED, RESCORED_TITLE)) + EXTRA)
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    s = Server(db, name="cveinfo-" + kind)
    # an agent without facts: its verdict, naming both CVEs, stands under any rules
    f = finding("/srv/old/log4j-core-2.15.0.jar", version="2.15.0", status="vulnerable", cves=(RESCORED, FICTIONAL))
    st, js = s.submit(agent, report(envelope(mid(30), "old"), [f]))
    check(t + "ingest", st == 200, js)
    built_in = ("9.0", 90, "critical", built_in_title)
    unknown = (None, -1, None, None)
    loaded = {RESCORED: ("3.7", 37, "low", RESCORED_TITLE),
              FICTIONAL: ("9.3", 93, "critical", "fictional: a flaw in 2.17.x")}
    check_eq(t + "built-in-rescored", cve_row(s, reader, RESCORED), built_in)
    check_eq(t + "built-in-fictional-unknown", cve_row(s, reader, FICTIONAL), unknown)

    p = cli(db, "rules", "load", rescored)
    check(t + "load", p.returncode == 0 and "rules 1 active" in p.stderr, p.stderr)
    for cve in (RESCORED, FICTIONAL):
        check_eq(t + "loaded-cves " + cve, cve_row(s, reader, cve), loaded[cve])
        check_eq(t + "loaded-overview " + cve, overview_row(s, reader, cve), loaded[cve])
    check_eq(t + "restart-stop", s.stop(), 0)
    s = Server(db, name="cveinfo-%s-2" % kind)
    for cve in (RESCORED, FICTIONAL):
        check_eq(t + "restart-keeps-active-rules " + cve, cve_row(s, reader, cve), loaded[cve])

    p = cli(db, "rules", "rollback", "0")
    check(t + "rollback", p.returncode == 0, p.stderr)
    check_eq(t + "rollback-rescored-back", cve_row(s, reader, RESCORED), built_in)
    # no longer listed: no score, no title, still counted from the agent's verdict
    c = cve_devices(s, reader, FICTIONAL)
    check(t + "rollback-fictional-unlisted", c is not None and c["devices_vulnerable"] == 1 and
          (c["cvss"], c["cvss10"], c["severity"], c["title"]) == unknown, c)
    check_eq(t + "restart-stop-2", s.stop(), 0)
    s = Server(db, name="cveinfo-%s-3" % kind)
    check_eq(t + "restart-after-rollback " + RESCORED, cve_row(s, reader, RESCORED), built_in)
    check_eq(t + "restart-after-rollback " + FICTIONAL, cve_row(s, reader, FICTIONAL), unknown)
    p = cli(db, "rules", "rollback", "1")
    check(t + "rollback-to-1", p.returncode == 0, p.stderr)
    check_eq(t + "rollback-to-1 " + RESCORED, cve_row(s, reader, RESCORED), loaded[RESCORED])
    check_eq(t + "restart-stop-3", s.stop(), 0)
    # active rules this build cannot parse (another build stored them): the
    # server still starts, says why, and the table keeps its scores
    db_sql(db, "UPDATE rules SET body = 'frobnicate log4j-core' WHERE id = 1")
    s = Server(db, name="cveinfo-%s-4" % kind)
    log = open(s.log_path).read()
    check(t + "unparsable-active-rules-warned",
          "active rules (rules 1): line 1: unknown directive" in log and "keeps its scores" in log, log[-500:])
    check_eq(t + "unparsable-active-rules-kept " + RESCORED, cve_row(s, reader, RESCORED), loaded[RESCORED])
    check_eq(t + "clean-shutdown", s.stop(), 0)


def main():
    good, bad = rules_files()
    for kind in ("sqlite", "pg"):
        run(kind, good, bad)
        cve_table(kind)


main()
