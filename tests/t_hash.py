#!/usr/bin/env python3
"""t_hash.py - what gets hashed (issue 17), and the collector with it.

- The hashing policy: by default (`--sha256=affected`) an archive gets the
  SHA-256 of its bytes only when it holds a vulnerable or mitigated
  finding; `--sha256=all` hashes every archive with a finding, `--sha256=none`
  and `--no-sha256` none.  Each hash equals Python's of the same bytes, also
  for nested archives (STORED, DEFLATED, and streamed past
  --max-nested-size).  Every archive finding has `cd_sha256`, the SHA-256 of
  its central directory's bytes (found here from the end record, apart from
  the agent), whatever the policy; an exploded directory has neither.  The
  envelope's options say the policy.
- Sparse and huge files: a jar behind 200 MiB of holes is not hashed, its
  finding says why (sha256_note) and the scan reads a few KiB, not the
  holes (rchar of the finished process, /proc/PID/io); behind 40 MiB of
  holes (under the bound) it is hashed right without reading them;
  --max-hash-size leaves a larger archive unhashed, saying so.
- The collector, fed the agent's own output with the default policy from
  three devices (SQLite and PostgreSQL): the vulnerable archive is one
  remediation item keyed by its sha256; the safe archive, unhashed, is one
  item keyed by "cd:" and its cd_sha256, and the drill-downs by that key
  find its devices and files; a newer report without it takes that device
  off the item.
"""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (Server, check, check_eq, envelope, make_token, mid, new_db, not_ok,  # noqa: E402
                           ok, report, cli)

L4S = os.environ["L4S"]
CORPUS = os.environ["CORPUS"].rstrip("/")
OUT = os.environ["OUT"]
VULN = os.path.join(CORPUS, "log4j-samples/true-hits/log4j-core-2.14.1.jar")
SAFE = os.path.join(CORPUS, "log4j-samples/false-hits/log4j-core-2.17.1.jar")
MITIGATED = os.path.join(CORPUS, "google-testdata/log4j-core-2.15.0.jar.patched")
EXPLODED = os.path.join(CORPUS, "log4j-samples/true-hits/exploded/2.12.1")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def cd_sha(data):
    """SHA-256 of a zip's central directory, from its (classic) end record."""
    e = data.rfind(b"PK\x05\x06")
    size, off = struct.unpack("<II", data[e + 12:e + 20])
    start = e - size   # where it really is (prepended data moves it)
    return sha(data[start:e])


def scan(*args):
    """The agent's records, and the rchar of the finished process."""
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.path.join(OUT, "scan.json"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.execv(L4S, [L4S, "scan", "--no-config", "--format", "json", *args])
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    io = dict(line.split(": ") for line in open("/proc/%d/io" % pid).read().splitlines())
    os.waitpid(pid, 0)
    recs = [json.loads(x) for x in open(os.path.join(OUT, "scan.json")) if x.strip()]
    return recs, int(io["rchar"])


def findings(recs):
    return {r["path"]: r for r in recs if r["kind"] == "finding"}


def tree():
    d = os.path.join(OUT, "tree")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, src in (("vuln.jar", VULN), ("safe.jar", SAFE), ("mitigated.jar", MITIGATED)):
        shutil.copy(src, os.path.join(d, name))
    shutil.copytree(EXPLODED, os.path.join(d, "exploded"))
    # a war: the safe jar STORED, the vulnerable one DEFLATED
    with zipfile.ZipFile(os.path.join(d, "app.war"), "w") as z:
        z.write(SAFE, "WEB-INF/lib/safe.jar", compress_type=zipfile.ZIP_STORED)
        z.write(VULN, "WEB-INF/lib/vuln.jar", compress_type=zipfile.ZIP_DEFLATED)
    return d


def policy_checks():
    d = tree()
    raw = {p: open(os.path.join(d, p), "rb").read() for p in ("vuln.jar", "safe.jar", "mitigated.jar")}
    raw["app.war!/WEB-INF/lib/safe.jar"] = raw["safe.jar"]
    raw["app.war!/WEB-INF/lib/vuln.jar"] = raw["vuln.jar"]
    affected = {"vuln.jar", "mitigated.jar", "app.war!/WEB-INF/lib/vuln.jar"}
    for label, args, hashed in (("default", (), affected),
                                ("affected", ("--sha256=affected",), affected),
                                ("all", ("--sha256", "all"), set(raw)),
                                ("none", ("--sha256=none",), set()),
                                ("no-sha256", ("--no-sha256",), set()),
                                ("streamed", ("--max-nested-size", "1"), affected)):
        recs, _ = scan(*args, d)
        fs = {os.path.relpath(p, d): f for p, f in findings(recs).items()}
        check_eq("%s: findings" % label, sorted(fs), sorted(list(raw) + ["exploded"]))
        check_eq("%s: statuses" % label, {p: fs[p]["status"] for p in raw if p in fs},
                 {p: "vulnerable" if "vuln" in p else "mitigated" if "mitigated" in p else "safe" for p in raw})
        got = {p for p in raw if p in fs and fs[p]["sha256"]}
        check_eq("%s: the archives hashed" % label, sorted(got), sorted(hashed))
        check("%s: each hash is the archive's" % label,
              all(fs[p]["sha256"] == sha(raw[p]) for p in got), {p: fs[p]["sha256"] for p in got})
        check("%s: every archive finding has cd_sha256, its central directory's" % label,
              all(fs.get(p, {}).get("cd_sha256") == cd_sha(raw[p]) for p in raw),
              {p: fs.get(p, {}).get("cd_sha256") for p in raw})
        check("%s: the exploded directory has neither" % label,
              "exploded" in fs and fs["exploded"]["sha256"] is None and "cd_sha256" not in fs["exploded"],
              fs.get("exploded"))
        env = recs[0].get("options", {})
        want = {"default": "affected", "no-sha256": "none", "streamed": "affected"}.get(label, label)
        check_eq("%s: envelope option" % label, (env.get("sha256_policy"), env.get("sha256")),
                 (want, want != "none"))
    # the same archive under two policies: one identity
    a = findings(scan(d)[0])
    b = findings(scan("--sha256=all", d)[0])
    check("cd_sha256 does not depend on the policy", all(a[p].get("cd_sha256") == b[p].get("cd_sha256") for p in a))
    p = subprocess.run([L4S, "scan", "--no-config", "--sha256=some", d], capture_output=True, text=True)
    check("--sha256 with an unknown policy is refused, saying which there are",
          p.returncode == 2 and "affected, all or none" in p.stderr, (p.returncode, p.stderr[-300:]))


def sparse_checks():
    jar = open(VULN, "rb").read()
    big = os.path.join(OUT, "sparse.jar")
    with open(big, "wb") as f:
        f.truncate(200 << 20)
        f.seek(200 << 20)
        f.write(jar)
    st = os.stat(big)
    if not check("the file system makes a sparse file", st.st_blocks * 512 < 16 << 20, st.st_blocks):
        return
    recs, rchar = scan("--sha256=all", big)
    f = findings(recs).get(big, {})
    check("200 MiB of holes: found", f.get("status") == "vulnerable", recs)
    check("200 MiB of holes: not hashed, and the finding says why",
          f.get("sha256") is None and "sparse" in f.get("sha256_note", "") and f.get("cd_sha256") == cd_sha(jar), f)
    check("200 MiB of holes: the holes are not read (rchar %d)" % rchar, rchar < 8 << 20, rchar)

    small = os.path.join(OUT, "sparse40.jar")
    with open(small, "wb") as f:
        f.truncate(40 << 20)
        f.seek(40 << 20)
        f.write(jar)
    recs, rchar = scan(small)
    f = findings(recs).get(small, {})
    check("40 MiB of holes: hashed, and right", f.get("sha256") == sha(b"\0" * (40 << 20) + jar) and
          "sha256_note" not in f, f)
    check("40 MiB of holes: the holes are not read (rchar %d)" % rchar, rchar < 8 << 20, rchar)

    recs, _ = scan("--max-hash-size", "1", VULN)
    f = findings(recs).get(VULN, {})
    check("--max-hash-size: a larger archive is not hashed, and the finding says so",
          os.path.getsize(VULN) > 1 << 20 and f.get("sha256") is None and
          "--max-hash-size" in f.get("sha256_note", "") and f.get("cd_sha256") == cd_sha(jar), f)


def collector_checks(kind):
    t = kind + "-"
    try:
        db = new_db(kind, "hash")
    except Exception as e:  # PostgreSQL could not be started: a failure, not a skip
        not_ok(t + "backend-available", e)
        return
    p = cli(db, "migrate")
    check(t + "migrate", p.returncode == 0, p.stderr)
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    s = Server(db, name=kind + "-hash")
    d = os.path.join(OUT, "fleet")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copy(VULN, os.path.join(d, "vuln.jar"))
    shutil.copy(SAFE, os.path.join(d, "safe.jar"))
    recs, _ = scan(d)   # the default policy
    fs = [r for r in recs if r["kind"] == "finding"]
    vuln = [f for f in fs if f["status"] == "vulnerable"]
    safe = [f for f in fs if f["status"] == "safe"]
    if not check(t + "agent: one vulnerable hashed, one safe unhashed",
                 len(vuln) == 1 and len(safe) == 1 and vuln[0]["sha256"] and safe[0]["sha256"] is None and
                 safe[0].get("cd_sha256"), fs):
        return
    for i in range(3):
        st, js = s.submit(agent, report(envelope(mid(700 + i), "h%d" % i), fs))
        check(t + "submit-%d" % i, st == 200 and js and js.get("accepted"), (st, js))
    vkey, skey = vuln[0]["sha256"], "cd:" + safe[0]["cd_sha256"]
    rem = s.get_json("/api/v1/remediation", reader)["items"]
    check_eq(t + "remediation: the vulnerable archive, one item", [(x["sha256"], x["devices"], x["files"]) for x in rem],
             [(vkey, 3, 3)])
    rem = s.get_json("/api/v1/remediation?status=safe", reader)["items"]
    check_eq(t + "dedup: the unhashed safe archive, one item by its central directory",
             [(x["sha256"], x["devices"], x["files"]) for x in rem], [(skey, 3, 3)])
    devs = s.get_json("/api/v1/devices?sha256=" + skey, reader)["items"]
    check_eq(t + "drill-down: devices by the cd key", sorted(x["hostname"] for x in devs), ["h0", "h1", "h2"])
    files = s.get_json("/api/v1/findings?sha256=" + skey, reader)["items"]
    check(t + "drill-down: files by the cd key, with cd_sha256 and no sha256",
          len(files) == 3 and all(f["sha256"] is None and f["cd_sha256"] == safe[0]["cd_sha256"] for f in files),
          files)
    files = s.get_json("/api/v1/findings?sha256=" + vkey, reader)["items"]
    check(t + "drill-down: files by sha256 as before",
          len(files) == 3 and all(f["sha256"] == vkey and f["cd_sha256"] == vuln[0]["cd_sha256"] for f in files),
          files)
    # h1 re-scans without the safe jar: it leaves that item
    st, js = s.submit(agent, report(envelope(mid(701), "h1", created="2026-11-28T21:00:00Z"), vuln))
    check(t + "submit-newer", st == 200 and js and js.get("accepted"), (st, js))
    rem = s.get_json("/api/v1/remediation?status=safe", reader)["items"]
    check_eq(t + "dedup: a device that no longer has it leaves the item",
             [(x["sha256"], x["devices"], x["files"]) for x in rem], [(skey, 2, 2)])
    rem = s.get_json("/api/v1/remediation", reader)["items"]
    check_eq(t + "remediation: unchanged by it", [(x["sha256"], x["devices"]) for x in rem], [(vkey, 3)])
    rc = s.stop()
    check(t + "clean-exit", rc == 0 and "runtime error" not in s.log_text(), s.log_text()[-400:])


policy_checks()
sparse_checks()
for backend in ("sqlite", "pg"):
    collector_checks(backend)
