#!/usr/bin/env python3
"""t_jvm_zip.py - differential test: log4scan reads a ZIP archive's entry list
the way the JVM (OpenJDK 17's java.util.zip.ZipFile) does.

Hundreds of archives are generated, seeded, from small jars cut out of the
corpus's real log4j-core releases (2.14.1, 2.12.1, and the .patched copies
that lack JndiLookup.class), each with one to three structural changes:
wrong 16-bit entry counts (too low, too high, more than 65,535 entries with
no ZIP64 record), disk numbers, fake end records in the comment and in
trailing data, valid and broken ZIP64 locators and records, prepended
launch scripts (offsets relative to the archive or to the file), JndiLookup
removed from the central directory with its local header left, local
headers that no central directory entry names, duplicate names, local
header names that differ from the central directory's, data descriptors
(STORED and DEFLATED, with and without signature, ZIP64-sized), local
headers whose sizes lie (the JDK reads the central directory's), bytes no
header points at between entries, entries reordered, added and dropped; and shapes the JDK refuses (encrypted flag,
unknown method, a name that is not UTF-8, a malformed ZIP64 extra field,
slack in the central directory, truncation).

For each archive the real JVM (tests/java/LoadProbe.java, one JVM for every
case) is asked whether org.apache.logging.log4j.core.lookup.JndiLookup
loads from it, and log4scan's verdict must agree:
  loaded                      -> log4scan reports the JNDI CVEs open
  absent                      -> log4scan does not (mitigated or nothing)
  error: the JDK refuses an entry of an otherwise readable archive
         (encrypted, method, name, extra field: other readers still read
         the other entries; lib/archive/zip.h) -> an error record giving the JDK's
         very reason, and the verdict of the central directory as read
         leniently
  error: anything else (no end record, a central directory that does not
         parse) -> an error record and no vulnerable finding
Each archive is also wrapped, DEFLATED, in a war and scanned with a tiny
--max-nested-size so that the streaming reader (zipstream.c) is held to the
same truth; and that war, made larger than 1 MiB by a STORED filler, is put
in a tarball, so that the war is streamed (a tarball's member, read once)
and the archive inside it is streamed in its turn as its bytes go by
(stream_nest).  One `not ok` per disagreement names the case's seed and shape;
SEED=n and CASES=n change the run, ONLY_CASE=i re-runs one case (and keeps
its files in $OUT/cases)."""
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zipshapes import base_entries, make_case  # noqa: E402

L4S, CORPUS, OUT, TOP = os.environ["L4S"], os.environ["CORPUS"], os.environ["OUT"], os.environ["TOP"]
SEED = int(os.environ.get("SEED", "1616"))
CASES = int(os.environ.get("CASES", "360"))
ONLY = os.environ.get("ONLY_CASE")
CLASS = "org.apache.logging.log4j.core.lookup.JndiLookup"
JNDI_CVES = {"CVE-2021-44228", "CVE-2021-45046"}
# JDK messages for an archive refused because of one entry's fields, not
# because its structure cannot be read (ZipFile.Source.checkAndAddEntry).
ENTRY_REFUSALS = ("encrypted entry", "bad compression method", "bad entry name", "extra")

BASES = [("2.14.1", "log4j-samples/true-hits/log4j-core-2.14.1.jar"),
         ("2.12.1", "log4j-samples/true-hits/log4j-core-2.12.1.jar"),
         ("2.12.1.patched", "google-testdata/log4j-core-2.12.1.jar.patched"),
         ("2.14.0.patched", "google-testdata/log4j-core-2.14.0.jar.patched")]

results = []


def ok(name, cond, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond else " - " + str(why)), flush=True)
    results.append(cond)


def war(inner, pad=None):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("WEB-INF/web.xml", "<web-app/>")
        if pad:
            z.writestr(zipfile.ZipInfo("WEB-INF/pad.bin"), pad, compress_type=zipfile.ZIP_STORED)
        z.writestr("WEB-INF/lib/app.jar", inner)
    return b.getvalue()


def tar(name, data):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def main():
    rng = random.Random(SEED)
    bases = {n: base_entries(os.path.join(CORPUS, p), rng) for n, p in BASES}
    d = os.path.join(OUT, "cases")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cls = os.path.join(OUT, "classes")
    os.makedirs(cls, exist_ok=True)
    subprocess.run(["javac", "-d", cls, os.path.join(TOP, "tests/java/LoadProbe.java")], check=True)

    side = os.path.join(OUT, "side")
    shutil.rmtree(side, ignore_errors=True)
    os.makedirs(side)
    cases = {}
    idx = [int(ONLY)] if ONLY else range(CASES)
    for i in idx:
        desc, data, in_cen = make_case(SEED, i, bases)
        top = os.path.join(d, "c%04d.jar" % i)
        nested = os.path.join(d, "c%04d.war" % i)
        open(top, "wb").write(data)
        # the same shape behind a 1.1 MiB first entry, so that --max-nested-size 1 streams it
        padded = make_case(SEED, i, bases, pad=True)[1]
        open(nested, "wb").write(war(padded))
        # and inside a war that is itself streamed (over 1 MiB, a tarball's
        # member): a nested archive inside a streamed one
        w2 = war(padded, pad=random.Random(i).randbytes(1100 << 10))
        open(os.path.join(d, "c%04d.tar" % i), "wb").write(tar("opt/app.war", w2))
        open(os.path.join(side, "c%04d.war" % i), "wb").write(w2)
        cases[i] = (desc, top, nested, in_cen)

    # the JVM: the archive itself, and extracted from the war
    q = "".join("%s\t%s\n%s!/WEB-INF/lib/app.jar\t%s\n%s!/WEB-INF/lib/app.jar\t%s\n" % (
        t, CLASS, n, CLASS, os.path.join(side, "c%04d.war" % i), CLASS) for i, (_, t, n, _) in cases.items())
    p = subprocess.run(["java", "-Xss4m", "-cp", cls, "LoadProbe"], input=q, capture_output=True, text=True)
    jvm = dict(line.split("\t", 1) for line in p.stdout.splitlines())
    ok("LoadProbe answered every case", len(jvm) == 3 * len(cases), p.stderr[-400:])

    # log4scan: every top-level archive, and every war with its jar streamed
    p = subprocess.run([L4S, "scan", "--format", "json", "--max-nested-size", "1", d],
                       capture_output=True, text=True)
    findings, errors = {}, {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        if r.get("kind") == "finding" and r.get("component") == "log4j-core":
            findings.setdefault(r["path"], []).append(r)
        elif r.get("kind") == "error":
            errors.setdefault(r["path"], []).append(r["error"])
    ok("log4scan scanned the cases (exit %d)" % p.returncode, p.returncode in (0, 1, 2), p.stderr[-400:])

    tally = {"agree": 0, "disagree": 0}
    by_where = {}
    kinds = {}
    for i, (desc, top, nested, in_cen) in sorted(cases.items()):
        t2 = os.path.join(d, "c%04d.tar" % i)
        for where, path, loc in (("top-level", top, top),
                                 ("streamed", nested + "!/WEB-INF/lib/app.jar", nested + "!/WEB-INF/lib/app.jar"),
                                 ("streamed in streamed", t2 + "!/opt/app.war!/WEB-INF/lib/app.jar",
                                  os.path.join(side, "c%04d.war" % i) + "!/WEB-INF/lib/app.jar")):
            ans = jvm.get(loc, "?").strip()
            fs = findings.get(path, [])
            es = errors.get(path, [])
            vuln = any(JNDI_CVES & set(f["cves"]) for f in fs)
            if ans == "loaded":
                want, good = "vulnerable", vuln
            elif ans == "absent":
                want, good = "not vulnerable", not vuln
            elif ans.startswith("error:ZipException") and any(k in ans for k in ENTRY_REFUSALS):
                want = "an error record naming the JVM's refusal, and %s" % (
                    "vulnerable" if in_cen else "not vulnerable")
                why = re.sub(r" at \d+\)$", ")", ans.split(": ", 1)[1])  # the JDK's reason, without a position
                good = any("OpenJDK 17 refuses" in e and why in e for e in es) and vuln == in_cen
            elif ans.startswith("error:"):
                want, good = "an error record and no vulnerable finding", bool(es) and not vuln
            else:
                want, good = "a JVM answer", False
            k = ans.split(":")[0] if not ans.startswith("error:") else ans[:60]
            kinds[k] = kinds.get(k, 0) + 1
            tally["agree" if good else "disagree"] += 1
            by_where.setdefault(where, [0, 0])[0 if good else 1] += 1
            if not good:
                ok("%s %s" % (where, desc), False, "JVM: %s; want %s; log4scan: findings %s errors %s" % (
                    ans, want, [(f["status"], sorted(f["cves"])) for f in fs], es))
    for k, v in sorted(kinds.items()):
        print("# JVM answered %-60s %d times" % (k, v))
    for w, (a, dis) in sorted(by_where.items()):
        print("# %-22s %d agree, %d disagree" % (w, a, dis))
    total = tally["agree"] + tally["disagree"]
    print("# %d archives (%d cases: top-level, streamed, streamed in streamed): %d agree with the JVM, %d disagree" % (
        total, len(cases), tally["agree"], tally["disagree"]))
    ok("every archive agrees with the JVM (%d of %d)" % (tally["agree"], total), tally["disagree"] == 0)
    loaded = sum(1 for v in jvm.values() if v.strip() == "loaded")
    ok("the cases include archives the JVM loads from (%d) and ones it does not (%d)" % (
        loaded, len(jvm) - loaded), loaded > len(jvm) // 5 and len(jvm) - loaded > len(jvm) // 5)
    if not ONLY:
        shutil.rmtree(d, ignore_errors=True)


main()
