#!/usr/bin/env python3
"""t_stream.py - nested archives too big for memory are streamed.

A DEFLATED nested jar larger than --max-nested-size is read front to back
(zipstream.c): the finding must be the same as when it is held in memory,
with the right SHA-256, also when data precedes the first local header; and
the corpus's 400 MB nested jar is scanned with bounded memory."""
import hashlib
import io
import json
import os
import resource
import subprocess
import zipfile

L4S, PLAIN, CORPUS, OUT = os.environ["L4S"], os.environ["L4S_PLAIN"], os.environ["CORPUS"], os.environ["OUT"]
CORE = CORPUS + "/log4j-samples/true-hits/log4j-core-2.14.1.jar"


def ok(name, cond, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond else " - " + str(why)))


def scan(binary, *args):
    p = subprocess.run([binary, "scan", "--format", "json", *args], capture_output=True, text=True)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def war_with(inner_bytes, name, prefix=b""):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("WEB-INF/web.xml", "<web-app/>")
        z.writestr("WEB-INF/lib/" + name, prefix + inner_bytes)
    return b.getvalue()


# First, before any other child process (RUSAGE_CHILDREN keeps the maximum
# over all children): The corpus's 400 MB nested jar: scanned (no error), memory bounded.
big = scan(PLAIN, CORPUS + "/google-testdata/400mb_jar_in_jar.jar")
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
ok("400 MB nested jar scanned without error", not [r for r in big if r["kind"] == "error"], big)
ok("400 MB nested jar: peak RSS under 64 MB (%d KB)" % rss_kb, rss_kb < 64 * 1024, rss_kb)

core = open(CORE, "rb").read()
sha = hashlib.sha256(core).hexdigest()
path = OUT + "/app.war"
open(path, "wb").write(war_with(core, "log4j-core-2.14.1.jar"))

held = [r for r in scan(L4S, path) if r["kind"] == "finding"]
streamed = scan(L4S, "--max-nested-size", "1", path)
sf = [r for r in streamed if r["kind"] == "finding"]
ok("in-memory nested finding", len(held) == 1 and held[0]["version"] == "2.14.1", held)
ok("streamed nested finding", len(sf) == 1 and sf[0]["version"] == "2.14.1" and sf[0]["status"] == "vulnerable", sf)
ok("streamed finding has the inner jar's sha256", sf and sf[0]["sha256"] == sha, sf and sf[0]["sha256"])
ok("streamed and held findings agree", held and sf and
   {k: v for k, v in held[0].items() if k != "evidence"} == {k: v for k, v in sf[0].items() if k != "evidence"})
ok("streaming reports no error", not [r for r in streamed if r["kind"] == "error"], streamed)

# Data before the first local header (an executable jar nested in a war).
exe = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n" + core
pre = OUT + "/exe.war"
open(pre, "wb").write(war_with(exe, "app.jar"))
pf = [r for r in scan(L4S, "--max-nested-size", "1", pre) if r["kind"] == "finding"]
ok("streamed nested jar with a launch script", len(pf) == 1 and pf[0]["version"] == "2.14.1", pf)

# A corrupt nested stream is an error record, not a crash.
bad = bytearray(war_with(core, "log4j-core-2.14.1.jar"))
z = zipfile.ZipFile(io.BytesIO(bytes(bad)))
info = z.getinfo("WEB-INF/lib/log4j-core-2.14.1.jar")
start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 1000
for i in range(start, start + 2000):
    bad[i] ^= 0x5A
open(OUT + "/bad.war", "wb").write(bytes(bad))
br = scan(L4S, "--max-nested-size", "1", OUT + "/bad.war")
ok("corrupt streamed nested archive gives an error record",
   any(r["kind"] == "error" and "app" not in r["path"] for r in br), br)

