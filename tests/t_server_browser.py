"""t_server_browser.py - the dashboard in Debian's chromium (playwright-core).

Seeds a collector (SQLite) with reports - among them hostile file and host
names - computes the overview numbers from those reports, and runs
tests/browser/dashboard.test.js, which logs in, compares, drills down and
checks that nothing hostile runs.  The screenshot of the overview is saved
as $OUT/overview.png.  playwright-core is installed from the npm registry
(tests/browser/package-lock.json) when tests/browser/node_modules is missing.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (OUT, TOP, Server, attempt, check, envelope, finding, make_token, make_user,  # noqa: E402
                           mid, new_db, not_ok, ok, process, report)

BROWSER_DIR = os.path.join(TOP, "tests/browser")
chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not check("chromium-installed", shutil.which(chromium) or os.path.exists(chromium),
             "install Debian's chromium (scripts/install-deps.sh)"):
    sys.exit(1)
if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
    p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR, capture_output=True, text=True)
    if p.returncode != 0:
        not_ok("playwright-core-installed", p.stderr[-300:])
        sys.exit(1)
ok("playwright-core-installed")

db = new_db("sqlite", "browser")
agent = make_token(db, "fleet")
make_user(db, "alice", "s3cret-passw0rd")
s = Server(db, name="browser")

SHARED = "b" * 64
HOSTILE_PATHS = ['/srv/<img src=x onerror="window.__xss=1;alert(1)">.jar',
                 "/srv/<script>window.__xss=2</script>/log4j-core-2.14.1.jar"]
HOSTILE_HOST = "<b>evil</b>-host\"'><img src=x onerror=alert(3)>"
reports = []
# 6 devices: web1 exposed and attacked, web2 exposed, db1 vulnerable not listening,
# app1 mitigated, lap1 safe, and the hostile one
reports.append(report(envelope(mid(1), "web1"), [
    finding("/srv/shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar", sha256=SHARED),
    finding("/opt/tools/log4j-core-2.16.0.jar", version="2.16.0", status="mitigated", cves=["CVE-2021-45105"]),
    process(pid=101, status="vulnerable", ports=[8080], restart=True), attempt(10), attempt(11, host="evil.example")]))
reports.append(report(envelope(mid(2), "web2"), [
    finding("/srv/api.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar", sha256=SHARED),
    process(pid=202, status="vulnerable", ports=[8443])]))
reports.append(report(envelope(mid(3), "db1"), [
    finding("/opt/db/log4j-core-2.14.1.jar", sha256=SHARED), process(pid=303, status="vulnerable", ports=[])]))
reports.append(report(envelope(mid(4), "app1", tags=["staging"]), [
    finding("/opt/app/log4j-core-2.15.0.jar", version="2.15.0", status="mitigated", cves=["CVE-2021-45046"]),
    process(pid=404, status="mitigated", ports=[9000], restart=True)]))
reports.append(report(envelope(mid(5), "lap1", tags=["dev"]), [
    finding("/home/u/log4j-core-2.17.1.jar", version="2.17.1", status="safe", cves=[])]))
reports.append(report(envelope(mid(6), HOSTILE_HOST), [finding(p) for p in HOSTILE_PATHS]))
for i, r in enumerate(reports):
    st, js = s.submit(agent, r)
    check("seed-report-%d" % i, st == 200, (st, js))

# the numbers the overview must show, computed from the reports above
recs = [json.loads(line) for r in reports for line in r.splitlines()]
fnd = [x for x in recs if x["kind"] == "finding"]
procs = [x for x in recs if x["kind"] == "process"]
expect = {
    "devices": len(reports),
    "devices_exposed": 2, "devices_exposed_attacked": 1, "devices_attacked": 1,
    "vulnerable": sum(1 for f in fnd if f["status"] == "vulnerable"),
    "mitigated": sum(1 for f in fnd if f["status"] == "mitigated"),
    "safe": sum(1 for f in fnd if f["status"] == "safe"),
    "restart": sum(1 for p in procs if p["restart_required"]),
    "attempts": sum(1 for x in recs if x["kind"] == "attempt"),
    "exposed_hosts": ["web1", "web2"],
    "exposed_path": "/srv/shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar",
    "shared_label": "log4j-core 2.14.1",
    "hostile_host": HOSTILE_HOST, "hostile_host_query": "evil", "hostile_paths": HOSTILE_PATHS,
}
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
