"""t_server_team_browser.py - the team views of the dashboard (issue 20
point 9) in Debian's chromium (playwright-core), on SQLite: runs
tests/browser/team.test.js against a collector with an admin, a viewer, a
device, and a failed login with a hostile user name (see that file for what
is checked; screenshots audit.png, team.png, device-retired.png and
viewer-device.png are saved in $OUT)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (BROWSER_DIR, browser_ready, OUT, TOP, Server, check, cli, envelope, finding, make_token, mid, new_db,  # noqa: E402
                           not_ok, ok, process, report)

HOSTILE = "<img src=x onerror=window.__xss=1>\"'&amp;"
if not browser_ready():
    sys.exit(1)

db = new_db("sqlite", "team_browser")
agent = make_token(db, "fleet")
PW = "s3cret-passw0rd"
for name, role in (("root", "admin"), ("vera", "viewer")):
    p = cli(db, "user", "add", name, "--role", role, stdin=PW + "\n")
    check("user-" + name, p.returncode == 0, p.stderr)
s = Server(db, name="team-browser")
st, js = s.submit(agent, report(envelope(mid(900), "web-team"), [finding("/srv/app.jar"), process()]))
check("submit", st == 200, js)
st, _, _ = s.request("POST", "/api/v1/login", json.dumps({"user": HOSTILE, "password": "x"}),
                     {"Content-Type": "application/json"})
check("hostile-login-refused", st == 401, st)
p = subprocess.run(["node", os.path.join(BROWSER_DIR, "team.test.js"), "http://127.0.0.1:%d" % s.port, "root", "vera",
                    PW, HOSTILE, str(js["device_id"]), OUT],
                   capture_output=True, text=True, timeout=300, env=dict(os.environ, NODE_PATH=""))
sys.stdout.write(p.stdout)
sys.stdout.flush()
if p.stderr.strip():
    sys.stderr.write(p.stderr)
check("browser-test-exit", p.returncode == 0, "node exited %d: %s" % (p.returncode, p.stderr[-300:]))
check("clean-exit", s.stop() == 0, s.log_text()[-300:])
