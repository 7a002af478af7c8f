#!/usr/bin/env python3
"""t_corpus.py - scan the shared corpus and compare every row of its
manifest.tsv (component, version, status, CVE list) with what log4scan says.

Also checks that nothing is reported vulnerable that the manifest does not
list, that every finding has the schema's fields, and that --bytecode-only
(metadata ignored) still yields a version range that contains the true
version for every log4j-core jar: the bytecode markers are tested against
every release in the corpus."""
import json
import os
import subprocess
import sys

L4S = os.environ["L4S"]
CORPUS = os.environ["CORPUS"].rstrip("/") + "/"
STATUS = {"VULNERABLE": "vulnerable", "MITIGATED": "mitigated", "NOT_VULNERABLE": "safe"}


def ok(name, cond, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond else " - " + why))


def scan(*args):
    p = subprocess.run([L4S, "scan", "--format", "json", *args, CORPUS], capture_output=True, text=True)
    recs = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return p, recs


def rel(path):
    return path[len(CORPUS):] if path.startswith(CORPUS) else path


def vkey(v):
    import re
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?(?:-(alpha|beta|rc)(\d+))?", v)
    stage = {"alpha": 1, "beta": 2, "rc": 3, None: 5}[m.group(4)]
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), stage, int(m.group(5) or 0))


def main():
    rows = {}
    for line in open(CORPUS + "manifest.tsv", encoding="utf-8"):
        if line.startswith("#") or line.startswith("path\t") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        rows[f[0]] = {"component": f[1], "version": f[2], "status": f[3],
                      "cves": sorted([] if f[4] == "-" else f[4].split(","))}

    p, recs = scan()
    ok("scan exits 1 (vulnerable found)", p.returncode == 1, "exit %d: %s" % (p.returncode, p.stderr[-300:]))
    ok("summary record is last", recs and recs[-1].get("kind") == "summary")
    findings = [r for r in recs if r.get("kind") == "finding"]
    errors = {rel(r["path"]): r["error"] for r in recs if r.get("kind") == "error"}
    by_path = {}
    for r in findings:
        by_path.setdefault(rel(r["path"]), []).append(r)
        for field in ("path", "component", "version", "version_source", "status", "cves", "severity",
                      "fixed_in", "evidence", "sha256"):
            if field not in r:
                ok("finding has field " + field, False, rel(r["path"]))

    for path, want in sorted(rows.items()):
        got = by_path.get(path, [])
        if want["component"] == "none":
            bad = [g for g in got if g["status"] == "vulnerable"]
            if want["status"] == "CORRUPT/UNREADABLE":
                ok("corpus %s reported unreadable" % path, path in errors and not got,
                   "errors=%r findings=%r" % (errors.get(path), got))
            else:
                ok("corpus %s has no log4j finding" % path, not got,
                   "got %r" % [(g["component"], g["status"]) for g in got])
            continue
        if len(got) != 1:
            ok("corpus %s" % path, False, "expected one finding, got %d" % len(got))
            continue
        g = got[0]
        problems = []
        if g["component"] != want["component"]:
            problems.append("component %s != %s" % (g["component"], want["component"]))
        if g["version"] != want["version"]:
            problems.append("version %s != %s" % (g["version"], want["version"]))
        if g["status"] != STATUS[want["status"]]:
            problems.append("status %s != %s" % (g["status"], STATUS[want["status"]]))
        if sorted(g["cves"]) != want["cves"]:
            problems.append("cves %s != %s" % (sorted(g["cves"]), want["cves"]))
        ok("corpus %s" % path, not problems, "; ".join(problems))

    # Nothing outside the manifest may be called vulnerable.
    extra = [p for p, gs in by_path.items() if p not in rows and any(g["status"] == "vulnerable" for g in gs)]
    ok("no vulnerable finding outside the manifest", not extra, repr(extra))

    # Bytecode markers and fingerprints alone must bracket the true version.
    p, recs = scan("--bytecode-only")
    for r in recs:
        if r.get("kind") != "finding" or r["component"] != "log4j-core":
            continue
        path = rel(r["path"])
        want = rows.get(path)
        if not want or ".." in want["version"]:
            continue
        v = r["version"]
        if ".." in v:
            lo, hi = v.split("..")
            inside = vkey(lo) <= vkey(want["version"]) <= vkey(hi)
        else:
            inside = v == want["version"]
        ok("bytecode-only %s: %s contains %s" % (path, v or "?", want["version"]), inside)
        ok("bytecode-only %s: status %s" % (path, r["status"]), r["status"] == STATUS[want["status"]],
           "want %s" % STATUS[want["status"]])


main()
