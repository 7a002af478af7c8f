"""t_server_dash.py - the dashboard's answers of issue 20, on SQLite and
PostgreSQL: severity, files counted once, exposure, scan coverage and
container images.

Every expected number is worked out here from the reports submitted (the
rules written out below), never read back from the server first:
- severity: each CVE's CVSS and title come from rules/log4j.rules (read by
  this test), "By CVE" and the cves list are ordered by CVSS; the summary's
  critical counts; findings filtered and sorted by severity.
- counted once: a running JVM's copy of a file its device's scan lists at
  the same path is not a file of its own, in a scan report and in a later
  ps report alike; the disk row says which pid has it loaded and that a
  restart is required when the loaded copy differs; every counter equals a
  recount of the unshadowed rows.
- exposed: a vulnerable JVM listening on a non-loopback address; loopback
  listeners are listed but do not count; critically exposed when such a JVM
  has a critical copy loaded.
- coverage: full, partial (not a whole-host scan, files not reached, a
  network mount skipped, unreadable files, no summary), unknown (no
  coverage in the envelope), none (no scan yet); the reasons per device.
- images: per image and tag, the devices and files, a file a later layer
  deleted counted apart; per layer.
"""
import os
import re
import sys
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (TOP, Server, check, check_eq, db_sql, envelope, finding, make_token,  # noqa: E402
                           mid, new_db, not_ok, process, report)


def rules_cves():
    """cve ID COMPONENT CVSS "TITLE" lines of the rules, as the test reads them"""
    out = {}
    with open(os.path.join(TOP, "rules/log4j.rules")) as f:
        for line in f:
            m = re.match(r'cve\s+(\S+)\s+(\S+)\s+([0-9.]+)\s+"((?:[^"\\]|\\.)*)"', line)
            if m:
                out[m.group(1)] = (float(m.group(3)), m.group(4).replace('\\"', '"').replace("\\\\", "\\"))
    return out


CVES = rules_cves()


def sev_of(cvss):
    return "critical" if cvss >= 9 else "high" if cvss >= 7 else "medium" if cvss >= 4 else "low"


def f_(path, cves, status="vulnerable", pid=None, version="2.14.1", **extra):
    sev = max((CVES[c][0] for c in cves if c in CVES), default=None)
    f = finding(path, version=version, status=status, cves=cves, pid=pid)
    f["severity"] = sev_of(sev) if sev is not None else "none"
    f.update(extra)
    return f


def listening(pid, addrs, status="vulnerable", restart=False):
    p = process(pid=pid, status=status, ports=[], restart=restart)
    p["listening"] = [{"proto": "tcp", "addr": a, "port": 8000 + i} for i, a in enumerate(addrs)]
    return p


def env(n, host, coverage="whole", **kw):
    e = envelope(mid(n), host, **kw)
    if coverage == "whole":
        e["coverage"] = {"whole_host": True, "paths": ["/"], "processes": True, "exclude": []}
    elif coverage is not None:
        e["coverage"] = coverage
    return e


def summary_rec(recs, skipped=(), not_reached=0, errors=0):
    return {"kind": "summary", "files": 100, "archives": 10, "bytes": 1000, "errors": errors, "seconds": 1.5,
            "not_reached": not_reached, "skipped": [{"path": p, "reason": r} for p, r in skipped],
            "findings": {}}


def rep(e, recs, **kw):
    if kw.get("no_summary"):
        return report(e, recs, summary=False)
    return report(e, list(recs) + [summary_rec(recs, **{k: v for k, v in kw.items()})], summary=False)


L4S = "CVE-2021-44228"        # critical
MED = "CVE-2021-44832"        # medium only
HIGH = "CVE-2017-5645"        # high
UNKNOWN = "CVE-2099-0001"     # not in the rules

IMG = "registry.example:5000/team/app"


def scenario():
    """(name, envelope, records, summary options) of each report, in order"""
    s = []
    # A: the file on disk and the running JVM's copy of it (same path) in one scan; listening on all addresses
    s.append(("A", env(1, "crit-exposed"), [
        f_("/opt/a/lib/log4j-core-2.14.1.jar", [L4S, "CVE-2021-45046"]),
        f_("/opt/a/lib/log4j-core-2.14.1.jar", [L4S, "CVE-2021-45046"], pid=101),
        listening(101, ["0.0.0.0", "127.0.0.1"])], {}))
    # B: vulnerable JVM listening on loopback only (v4, v6, mapped): not exposed
    s.append(("B", env(2, "loopback-only"), [
        f_("/srv/b/log4j-core-2.14.1.jar", [L4S]), f_("/srv/b/log4j-core-2.14.1.jar", [L4S], pid=202),
        listening(202, ["127.0.0.1", "::1", "::ffff:127.0.0.1", "127.0.1.1"])], {}))
    # C: medium only (CVE-2021-44832)
    s.append(("C", env(3, "medium-only"), [f_("/srv/c/log4j-core-2.17.0.jar", [MED], version="2.17.0")], {}))
    # D: fixed on disk under a running JVM that still has the vulnerable copy loaded, on a public address
    s.append(("D", env(4, "fixed-under-jvm"), [
        f_("/opt/d/log4j-core-2.14.1.jar", ["CVE-2021-45105"], status="mitigated"),
        f_("/opt/d/log4j-core-2.14.1.jar", [L4S], pid=404),
        listening(404, ["10.0.0.5"], restart=True)], {}))
    # K: exposed with a high (not critical) copy loaded
    s.append(("K", env(11, "high-exposed"), [
        f_("/opt/k/log4j-core-2.7.jar", [HIGH], version="2.7"),
        f_("/opt/k/log4j-core-2.7.jar", [HIGH], pid=1100, version="2.7"),
        f_("/opt/k/other-only-in-jvm.jar", [UNKNOWN], pid=1100, severity="high"),
        listening(1100, ["2001:db8::7"])], {}))
    # E: only /srv was scanned
    s.append(("E", env(5, "only-srv", coverage={"whole_host": False, "paths": ["/srv"], "processes": False}),
              [], {}))
    # F: whole host, but an NFS mount skipped and files not reached; /proc skipped (harmless)
    s.append(("F", env(6, "gaps"), [f_("/home/f/log4j-core-2.17.1.jar", [], status="safe", version="2.17.1")],
              {"skipped": [("/mnt/nfs", "network filesystem (nfs4)"), ("/proc", "pseudo filesystem (proc)")],
               "not_reached": 3}))
    # G: an agent that does not say what it covered
    s.append(("G", env(7, "old-agent", coverage=None), [], {}))
    # H: a full, clean scan
    s.append(("H", env(8, "clean"), [f_("/home/h/log4j-core-2.17.1.jar", [], status="safe", version="2.17.1")],
              {"skipped": [("/proc", "pseudo filesystem (proc)"), ("/backup", "excluded by the user")]}))
    # P: a full scan with a file that could not be read
    s.append(("P", env(12, "unreadable"), [{"kind": "error", "path": "/srv/bad.jar", "error": "truncated"}],
              {"errors": 1}))
    # I, J: the same image; layer aaa brought a vulnerable jar, layer bbb one that a later layer deleted
    for n, host in ((9, "node-1"), (10, "node-2")):
        recs = [f_("img.tar!/sha256:aaa!/opt/app/log4j-core-2.14.1.jar", [L4S], image=IMG, tag="1.0",
                   layer="sha256:aaa", in_final_image=True)]
        if n == 9:
            recs.append(f_("img.tar!/sha256:bbb!/opt/old/log4j-core-2.14.1.jar", [L4S], image=IMG, tag="1.0",
                           layer="sha256:bbb", in_final_image=False, note="deleted by a later layer"))
            recs.append(f_("other.tar!/sha256:ccc!/log4j-core-2.17.1.jar", [], status="safe", version="2.17.1",
                           image="<img src=x onerror=alert(1)>", tag="t\"'", layer="sha256:ccc"))
        s.append(("IJ"[n - 9], env(n, host), recs, {}))
    return s


def expected(sc, extra_ps):
    """what the server must answer, from the reports and the rules above"""
    devs = {}
    for name, e, recs, opts in sc:
        fs = [r for r in recs if r["kind"] == "finding"]
        disk = {f["path"] for f in fs if "pid" not in f}
        counted = [f for f in fs if not ("pid" in f and f["path"] in disk)]
        procs = [r for r in recs if r["kind"] == "process"]
        crit_pids = {f["pid"] for f in fs if "pid" in f and f["status"] == "vulnerable"
                     and f["severity"] == "critical"}

        def public(p):
            return [a for a in p["listening"] if not (a["addr"].startswith("127.") or a["addr"] == "::1"
                                                      or a["addr"].startswith("::ffff:127."))]
        exposed = [p for p in procs if p["status"] == "vulnerable" and public(p)]
        cov = e.get("coverage")
        partial = (cov is not None and not cov.get("whole_host")) or opts.get("not_reached", 0) > 0 or \
            any(not r.startswith(("pseudo", "excluded")) for _, r in opts.get("skipped", ())) or \
            opts.get("errors", 0) > 0
        devs[name] = {
            "hostname": e["host"]["hostname"], "counted": counted,
            "vulnerable": sum(f["status"] == "vulnerable" for f in counted),
            "mitigated": sum(f["status"] == "mitigated" for f in counted),
            "safe": sum(f["status"] == "safe" for f in counted),
            "critical": sum(f["status"] == "vulnerable" and f["severity"] == "critical" for f in counted),
            "exposed": int(bool(exposed)),
            "critical_exposed": int(any(p["pid"] in crit_pids for p in exposed)),
            "coverage": "partial" if partial else "unknown" if cov is None else "full",
        }
    return devs


def run(kind):
    t = kind + "-"
    db = new_db(kind, "dash")
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    s = Server(db, name=kind + "-dash")
    sc = scenario()
    for name, e, recs, opts in sc:
        st, js = s.submit(agent, rep(e, recs, **opts))
        check(t + "submit-" + name, st == 200, (st, js))
    devs = expected(sc, None)
    ids = {}
    for d in s.get_json("/api/v1/devices?limit=500", reader)["items"]:
        for name, x in devs.items():
            if x["hostname"] == d["hostname"]:
                ids[name] = d["id"]
                for k in ("vulnerable", "mitigated", "safe", "critical", "exposed", "critical_exposed", "coverage"):
                    check_eq(t + "device-%s-%s" % (name, k), d[k], x[k])

    # ---- the summary's headline
    sm = s.get_json("/api/v1/summary", reader)
    allc = [f for x in devs.values() for f in x["counted"]]
    check_eq(t + "summary-vulnerable-counted-once", sm["findings"]["vulnerable"],
             sum(f["status"] == "vulnerable" for f in allc))
    check_eq(t + "summary-mitigated", sm["findings"]["mitigated"], sum(f["status"] == "mitigated" for f in allc))
    check_eq(t + "summary-exposed", sm["devices_exposed"], sum(x["exposed"] for x in devs.values()))
    check_eq(t + "summary-critical-exposed", sm["devices_critical_exposed"],
             sum(x["critical_exposed"] for x in devs.values()))
    check_eq(t + "summary-devices-critical", sm["devices_critical"], sum(x["critical"] > 0 for x in devs.values()))
    check_eq(t + "summary-files-critical", sm["files_critical"], sum(x["critical"] for x in devs.values()))
    for c in ("full", "partial", "unknown"):
        check_eq(t + "summary-coverage-" + c, sm["coverage"][c], sum(x["coverage"] == c for x in devs.values()))
    check_eq(t + "summary-not-fully-scanned", sm["devices_not_fully_scanned"],
             sum(x["coverage"] != "full" for x in devs.values()))

    # ---- severity: by CVE in CVSS order, with titles from the rules
    cves = s.get_json("/api/v1/cves?limit=500", reader)["items"]
    seen = [c["cve"] for c in cves]
    want_order = sorted(seen, key=lambda c: -CVES.get(c, (-1,))[0])
    check_eq(t + "cves-by-cvss", [CVES.get(c, (-1,))[0] for c in seen], [CVES.get(c, (-1,))[0] for c in want_order])
    by = {c["cve"]: c for c in cves}
    check(t + "cve-title-from-rules", by.get(L4S, {}).get("title") == CVES[L4S][1] and
          by[L4S]["cvss"] == "%.1f" % CVES[L4S][0] and by[L4S]["severity"] == "critical", by.get(L4S))
    check(t + "cve-medium", by.get(MED, {}).get("severity") == "medium" and by[MED]["cvss"] == "6.6", by.get(MED))
    check(t + "cve-unknown-last", seen[-1] == UNKNOWN and by[UNKNOWN]["severity"] is None, seen)
    ov = s.get_json("/api/v1/overview", reader)
    check_eq(t + "overview-by-cve-same-order", [c["cve"] for c in ov["by_cve"]], seen[:50])
    sev = {x["severity"]: x for x in ov["by_severity"]}
    check_eq(t + "overview-by-severity-critical", sev.get("critical", {}).get("files_vulnerable"),
             sum(x["critical"] for x in devs.values()))
    check_eq(t + "overview-by-severity-medium", sev.get("medium", {}).get("files_vulnerable"),
             sum(f["status"] == "vulnerable" and f["severity"] == "medium" for f in allc))
    rem = ov["remediation"]
    sev_of_sha = {r["sha256"]: r["severity"] for _, _, recs, _ in sc for r in recs
                  if r["kind"] == "finding" and r["status"] == "vulnerable"}
    check(t + "remediation-has-severity", rem and all(r["severity"] == sev_of_sha[r["sha256"]] for r in rem),
          [(r["label"], r["severity"]) for r in rem])
    med = s.get_json("/api/v1/findings?severity=medium", reader)["items"]
    check_eq(t + "findings-severity-filter", sorted(f["path"] for f in med),
             sorted(f["path"] for f in allc if f["severity"] == "medium"))
    srt = s.get_json("/api/v1/findings?sort=severity&limit=500", reader)["items"]
    rank = {"critical": 5, "high": 4, "medium": 3, "low": 2, "none": 0}
    ranks = [rank.get(f["severity"], 1) for f in srt]
    check(t + "findings-sort-severity", ranks == sorted(ranks, reverse=True) and len(srt) == len(allc), ranks)
    st, _, body = s.get("/api/v1/findings?sort=nonsense", reader)
    check_eq(t + "findings-sort-bad-400", st, 400)
    crit_dev = s.get_json("/api/v1/devices?severity=critical&limit=500", reader)["items"]
    check_eq(t + "devices-severity-critical", sorted(d["hostname"] for d in crit_dev),
             sorted(x["hostname"] for x in devs.values() if x["critical"]))

    # ---- counted once: D's file is one row, mitigated, loaded by 404 (vulnerable), restart required
    dfs = s.get_json("/api/v1/findings?device=%d" % ids["D"], reader)["items"]
    check_eq(t + "fixed-under-jvm-one-row", len(dfs), 1)
    if dfs:
        check_eq(t + "fixed-under-jvm-status", dfs[0]["status"], "mitigated")
        check_eq(t + "fixed-under-jvm-loaded-by", dfs[0]["loaded_by"], [{"pid": 404, "status": "vulnerable"}])
        check_eq(t + "fixed-under-jvm-restart", dfs[0]["restart_required"], 1)
    afs = s.get_json("/api/v1/findings?device=%d" % ids["A"], reader)["items"]
    check(t + "same-copy-no-restart", len(afs) == 1 and afs[0]["restart_required"] == 0 and
          afs[0]["loaded_by"] == [{"pid": 101, "status": "vulnerable"}], afs)
    run1 = s.get_json("/api/v1/findings?device=%d&running=1" % ids["D"], reader)["items"]
    check(t + "running-lists-the-copy", len(run1) == 1 and run1[0]["pid"] == 404 and run1[0]["shadowed"] == 1, run1)
    kfs = s.get_json("/api/v1/findings?device=%d" % ids["K"], reader)["items"]
    check_eq(t + "jvm-only-file-counted", sorted(f["path"] for f in kfs),
             ["/opt/k/log4j-core-2.7.jar", "/opt/k/other-only-in-jvm.jar"])

    # a later ps report of A2: its copy of a file the scan listed is shadowed too, and counts stay
    e2 = env(20, "scan-then-ps")
    st, js = s.submit(agent, rep(e2, [f_("/opt/x/log4j-core-2.14.1.jar", [L4S])]))
    check(t + "submit-scan-then-ps", st == 200, js)
    before = s.get_json("/api/v1/summary", reader)["findings"]["vulnerable"]
    pe = dict(e2, command="ps", report_id=str(uuid.uuid4()), created="2026-11-27T22:00:00Z")
    st, js = s.submit(agent, rep(pe, [f_("/opt/x/log4j-core-2.14.1.jar", [L4S], pid=77),
                                      f_("/opt/x/only-loaded.jar", [L4S], pid=77),
                                      listening(77, ["192.0.2.1"])], no_summary=True))
    check(t + "submit-ps", st == 200, js)
    after = s.get_json("/api/v1/summary", reader)
    check_eq(t + "ps-copy-not-counted", after["findings"]["vulnerable"], before + 1)
    d2 = [d for d in s.get_json("/api/v1/devices?q=scan-then-ps", reader)["items"]]
    check(t + "ps-device-counts", d2 and d2[0]["vulnerable"] == 2 and d2[0]["critical_exposed"] == 1
          and d2[0]["coverage"] == "full", d2)
    pe2 = dict(pe, report_id=str(uuid.uuid4()), created="2026-11-27T23:00:00Z")
    st, js = s.submit(agent, rep(pe2, [], no_summary=True))
    check(t + "submit-ps-empty", st == 200, js)
    check_eq(t + "ps-gone-counts", s.get_json("/api/v1/summary", reader)["findings"]["vulnerable"], before)

    # every counter equals a recount of the rows that are files (not shadowed)
    check_eq(t + "counters-match-rows",
             db_sql(db, "SELECT COUNT(*) FROM devices d WHERE n_vulnerable + n_mitigated + n_safe <>"
                        " (SELECT COUNT(*) FROM findings f WHERE f.device_id = d.id AND f.shadowed = 0)"
                        " OR n_critical <> (SELECT COUNT(*) FROM findings f WHERE f.device_id = d.id"
                        " AND f.shadowed = 0 AND f.status = 'vulnerable' AND f.severity = 'critical')"), "0")
    agg = db_sql(db, "SELECT akey || '|' || status || '|' || files || '|' || devices FROM agg"
                     " WHERE kind = 'severity' AND (files <> 0 OR devices <> 0) ORDER BY 1")
    rec = db_sql(db, "SELECT sv || '|' || st || '|' || n || '|' || nd FROM (SELECT COALESCE(severity, 'none') AS sv,"
                     " status AS st, COUNT(*) AS n, COUNT(DISTINCT device_id) AS nd FROM findings"
                     " WHERE shadowed = 0 GROUP BY 1, 2) x ORDER BY 1")
    check_eq(t + "agg-severity-matches-rows", agg, rec)
    check_eq(t + "agg-version-counts-files-once",
             db_sql(db, "SELECT COALESCE(SUM(files), 0) FROM agg WHERE kind = 'version'"),
             db_sql(db, "SELECT COUNT(*) FROM findings WHERE shadowed = 0"))

    # ---- exposure: loopback listeners listed, not counted
    bp = s.get_json("/api/v1/processes?device=%d" % ids["B"], reader)["items"]
    check(t + "loopback-listed-not-exposed", len(bp) == 1 and len(bp[0]["listening"]) == 4 and
          bp[0]["exposed"] == 0 and bp[0]["public_listeners"] == 0, bp)
    kp = s.get_json("/api/v1/processes?device=%d" % ids["K"], reader)["items"]
    check(t + "process-severity-of-loaded-copies", len(kp) == 1 and kp[0]["severity"] == "high" and
          bp[0]["severity"] == "critical", (kp, bp))
    exp = s.get_json("/api/v1/devices?exposed=1&limit=500", reader)["items"]
    check_eq(t + "exposed-devices", sorted(d["hostname"] for d in exp),
             sorted(x["hostname"] for x in devs.values() if x["exposed"]))
    ce = s.get_json("/api/v1/devices?critical_exposed=1&limit=500", reader)["items"]
    check_eq(t + "critical-exposed-devices", sorted(d["hostname"] for d in ce),
             sorted(x["hostname"] for x in devs.values() if x["critical_exposed"]))
    top = ov["top_devices"]
    check(t + "critical-exposed-first", top and top[0]["critical_exposed"] == 1, [d["hostname"] for d in top])

    # ---- coverage
    for c in ("partial", "unknown", "full"):
        got = s.get_json("/api/v1/devices?coverage=%s&limit=500" % c, reader)["items"]
        want = sorted([x["hostname"] for x in devs.values() if x["coverage"] == c] +
                      (["scan-then-ps"] if c == "full" else []))
        check_eq(t + "devices-coverage-" + c, sorted(d["hostname"] for d in got), want)
    st, _, _ = s.get("/api/v1/devices?coverage=most", reader)
    check_eq(t + "devices-coverage-bad-400", st, 400)
    f = s.get_json("/api/v1/devices/%d" % ids["F"], reader)
    cd = f.get("coverage_detail", {})
    reasons = " ".join(cd.get("reasons", []))
    check(t + "coverage-detail-reasons", "3 files" in reasons and "1 directories or mounts" in reasons, cd)
    gaps = {x["path"]: x["gap"] for x in cd.get("skipped", [])}
    check_eq(t + "coverage-detail-skipped", gaps, {"/mnt/nfs": True, "/proc": False})
    check(t + "coverage-detail-run", cd.get("agent_version") == "0.1.0" and cd.get("seconds") == 1.5 and
          cd.get("whole_host") is True and cd.get("paths") == ["/"], cd)
    e = s.get_json("/api/v1/devices/%d" % ids["E"], reader)["coverage_detail"]
    check(t + "coverage-not-whole-host", e["state"] == "partial" and e["paths"] == ["/srv"] and
          "whole-host" in " ".join(e["reasons"]), e)
    g = s.get_json("/api/v1/devices/%d" % ids["G"], reader)["coverage_detail"]
    check(t + "coverage-unknown-says-why", g["state"] == "unknown" and "did not say" in g["reasons"][0], g)
    p = s.get_json("/api/v1/devices/%d" % ids["P"], reader)["coverage_detail"]
    check(t + "coverage-errors-partial", p["state"] == "partial" and p["errors"] == 1, p)
    reps = s.get_json("/api/v1/reports?device=%d" % ids["F"], reader)["items"]
    check(t + "report-coverage", reps and reps[0]["coverage"] == "partial", reps)

    # ---- images
    im = s.get_json("/api/v1/images", reader)["items"]
    app = [x for x in im if x["image"] == IMG]
    check(t + "image-listed", len(app) == 1 and app[0]["tag"] == "1.0" and app[0]["devices"] == 2 and
          app[0]["devices_vulnerable"] == 2 and app[0]["files_vulnerable"] == 2 and
          app[0]["files_vulnerable_removed"] == 1, app)
    check(t + "image-vulnerable-first", im and im[0]["image"] == IMG, im)
    check(t + "hostile-image-name-stored", any(x["image"] == "<img src=x onerror=alert(1)>" and x["tag"] == "t\"'"
                                                for x in im), im)
    ly = s.get_json("/api/v1/layers?image=" + urllib.parse.quote(IMG, safe=""), reader)["items"]
    lmap = {x["layer"]: x for x in ly}
    check(t + "layer-brought-it", lmap.get("sha256:aaa", {}).get("devices_vulnerable") == 2 and
          lmap.get("sha256:bbb", {}).get("files_vulnerable_removed") == 1 and
          lmap.get("sha256:bbb", {}).get("files_vulnerable") == 0, ly)
    fi = s.get_json("/api/v1/findings?image=" + urllib.parse.quote(IMG, safe="") + "&layer=sha256%3Abbb",
                    reader)["items"]
    check(t + "finding-container-fields", len(fi) == 1 and fi[0]["in_final_image"] == 0 and
          fi[0]["image_tag"] == "1.0" and fi[0]["note"] == "deleted by a later layer", fi)
    img_dev = s.get_json("/api/v1/devices?image=" + urllib.parse.quote(IMG, safe=""), reader)["items"]
    check_eq(t + "devices-by-image", sorted(d["hostname"] for d in img_dev), ["node-1", "node-2"])

    # ---- a re-scan without the JVM: the file is still one row, no longer loaded
    st, js = s.submit(agent, rep(dict(env(4, "fixed-under-jvm"), created="2026-11-28T21:00:00Z"),
                                 [f_("/opt/d/log4j-core-2.14.1.jar", ["CVE-2021-45105"], status="mitigated")]))
    check(t + "rescan", st == 200, js)
    dfs = s.get_json("/api/v1/findings?device=%d" % ids["D"], reader)["items"]
    check(t + "rescan-not-loaded", len(dfs) == 1 and dfs[0]["loaded_by"] == [] and dfs[0]["restart_required"] == 0,
          dfs)
    dd = s.get_json("/api/v1/devices/%d" % ids["D"], reader)
    check(t + "rescan-not-exposed", dd["exposed"] == 0 and dd["critical_exposed"] == 0, dd)

    # a JVM in a container names its jar by the container's path; the host's
    # scan lists the same file (same content) under the container's root: one
    # file, loaded by the JVM, stored at the host's path with "loaded as"; a
    # file of other content at the same suffix, or the same content at
    # another suffix, is not that file
    S1, S2 = "c1" * 32, "c2" * 32
    ROOT = "/var/lib/docker/overlay2/0f1e/diff"
    ce = env(30, "container-host")
    cproc = listening(900, ["192.0.2.9"])
    cproc["container"] = "docker:0f1e2d3c4b5a"
    st, js = s.submit(agent, rep(ce, [
        f_(ROOT + "/app/lib/log4j-core-2.14.1.jar", [L4S], sha256=S1),
        f_(ROOT + "/app/lib/other.jar", [L4S], sha256=S2),
        f_("/app/lib/log4j-core-2.14.1.jar", [L4S], pid=900, sha256=S1),
        f_("/app/lib/other.jar", [L4S], pid=900, sha256="c3" * 32),
        f_("/elsewhere/log4j-core-2.14.1.jar", [L4S], pid=900, sha256=S2), cproc]))
    check(t + "submit-container-jvm", st == 200, js)
    cid = js.get("device_id") if js else None
    cfs = s.get_json("/api/v1/findings?device=%s&limit=50" % cid, reader)["items"]
    by_path = {f["path"]: f for f in cfs}
    check_eq(t + "container-copy-counted-once", sorted(by_path),
             sorted([ROOT + "/app/lib/log4j-core-2.14.1.jar", ROOT + "/app/lib/other.jar", "/app/lib/other.jar",
                     "/elsewhere/log4j-core-2.14.1.jar"]))
    host_row = by_path.get(ROOT + "/app/lib/log4j-core-2.14.1.jar", {})
    check_eq(t + "container-copy-loaded-by", host_row.get("loaded_by"), [{"pid": 900, "status": "vulnerable"}])
    crun = s.get_json("/api/v1/findings?device=%s&running=1&limit=50" % cid, reader)["items"]
    copy = [f for f in crun if f["shadowed"] == 1]
    check(t + "container-copy-stored-at-host-path", len(copy) == 1 and copy[0]["path"] == host_row.get("path") and
          copy[0]["note"] == "loaded as /app/lib/log4j-core-2.14.1.jar", crun)
    cd = s.get_json("/api/v1/devices/%s" % cid, reader)
    check_eq(t + "container-device-vulnerable-files", cd["vulnerable"], 4)
    # then a ps report of a second JVM in that container: matched against the stored scan
    cpe = dict(ce, command="ps", report_id=str(uuid.uuid4()), created="2026-11-27T22:30:00Z")
    st, js = s.submit(agent, rep(cpe, [f_("/app/lib/log4j-core-2.14.1.jar", [L4S], pid=901, sha256=S1),
                                       listening(901, ["192.0.2.9"])], no_summary=True))
    check(t + "submit-container-ps", st == 200, js)
    cd2 = s.get_json("/api/v1/devices/%s" % cid, reader)
    check_eq(t + "container-ps-copy-not-counted", cd2["vulnerable"], 2)
    crun2 = s.get_json("/api/v1/findings?device=%s&running=1&limit=50" % cid, reader)["items"]
    check(t + "container-ps-copy-at-host-path", [(f["pid"], f["path"], f["shadowed"]) for f in crun2] ==
          [(901, ROOT + "/app/lib/log4j-core-2.14.1.jar", 1)], crun2)
    # a loaded file with a path longer than a PostgreSQL B-tree entry (about
    # 2,700 bytes): its shadowed copy is stored and listed like any other
    longp = "/opt/" + "/".join(uuid.uuid4().hex for _ in range(160)) + "/deep/log4j-core-2.14.1.jar"  # 5,000+ bytes, incompressible
    el = env(21, "long-path")
    st, js = s.submit(agent, rep(el, [f_(longp, [L4S]), f_(longp, [L4S], pid=505),
                                      listening(505, ["127.0.0.1"])]))
    check(t + "long-path-loaded-submit", st == 200, js)
    lf = [f for f in s.get_json("/api/v1/findings?path=/deep/log4j-core&limit=10", reader)["items"]]
    check(t + "long-path-loaded-listed", len(lf) == 1 and lf[0]["path"] == longp and
          lf[0]["loaded_by"] == [{"pid": 505, "status": "vulnerable"}], [(len(f["path"]), f.get("loaded_by")) for f in lf])
    check(t + "clean-exit", s.stop() == 0, s.log_text()[-300:])


kinds = sys.argv[1:] or ["sqlite", "pg"]
for k in kinds:
    try:
        run(k)
    except Exception as e:
        import traceback
        not_ok(k + "-exception", traceback.format_exc()[-300:])
import server_common  # noqa: E402
sys.exit(1 if server_common.failures else 0)
