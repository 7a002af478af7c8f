"""t_server_rules_browser.py - the dashboard's rules view (issue 22) in
Debian's chromium (playwright-core), on SQLite: runs
tests/browser/rules.test.js against a collector whose rules were replaced
(a file, named with hostile markup, adding a fictional CVE for 2.17.x
mitigated by removing JndiLookup) after three devices reported: the view
shows the active rules, the versions and the change, and its number
drills down to exactly the one device newly affected; an admin makes the
built-in rules active again from it (see that file; screenshots rules.png,
rules-devices.png and rules-rollback.png are saved in $OUT)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (BROWSER_DIR, browser_ready, OUT, TOP, Server, check, cli, envelope, finding, make_token, mid, new_db,  # noqa: E402
                           not_ok, ok, report)

CVE = "CVE-2099-0001"
HOSTILE = "<img src=x onerror=window.__xss=1>.rules"
if not browser_ready():
    sys.exit(1)

db = new_db("sqlite", "rules_browser")
agent = make_token(db, "fleet")
PW = "s3cret-passw0rd"
for name, role in (("vera", "viewer"), ("root", "admin")):
    p = cli(db, "user", "add", name, "--role", role, stdin=PW + "\n")
    check("user-" + name, p.returncode == 0, p.stderr)
s = Server(db, name="rules-browser")
for i, (host, facts, version) in enumerate((("a", "v1 set=2.17.1 pom=2.17.1 +lookup/JndiLookup", "2.17.1"),
                                            ("b", "v1 set=2.17.1 pom=2.17.1 -lookup/JndiLookup", "2.17.1"),
                                            ("c", "v1 set=2.19.0 pom=2.19.0 +lookup/JndiLookup", "2.19.0"))):
    f = finding("/srv/%s/log4j-core-%s.jar" % (host, version), version=version, status="safe", cves=())
    f["facts"] = facts
    st, js = s.submit(agent, report(envelope(mid(700 + i), host), [f]))
    check("submit-" + host, st == 200, js)
rules_dir = os.path.join(OUT, "rules-browser")
os.makedirs(rules_dir, exist_ok=True)
path = os.path.join(rules_dir, HOSTILE)
with open(os.path.join(TOP, "rules/log4j.rules")) as src, open(path, "w") as f:
    f.write(src.read() + '\ncve %s log4j-core 9.3 "fictional"\naffected %s 2.17.0 2.18.0\nfixed %s 2.18.0\n'
            "mitigated-if-absent %s lookup/JndiLookup\n" % ((CVE,) * 4))
p = cli(db, "rules", "load", path)
check("rules-load", p.returncode == 0, p.stderr)
p = subprocess.run(["node", os.path.join(BROWSER_DIR, "rules.test.js"), "http://127.0.0.1:%d" % s.port, "vera", PW,
                    CVE, HOSTILE, OUT, "root"],
                   capture_output=True, text=True, timeout=300, env=dict(os.environ, NODE_PATH=""))
sys.stdout.write(p.stdout)
sys.stdout.flush()
if p.stderr.strip():
    sys.stderr.write(p.stderr)
check("browser-test-exit", p.returncode == 0, "node exited %d: %s" % (p.returncode, p.stderr[-300:]))
check("clean-exit", s.stop() == 0, s.log_text()[-300:])
