#!/usr/bin/env python3
"""t_fix.py - `log4scan fix` and `log4scan restore`, end to end.

1. Every shared-corpus file holding a log4j-core that removing JndiLookup
   mitigates is copied into $OUT and fixed in one run; afterwards scan says
   mitigated, `unzip -t` still passes, every other entry (at every nesting
   level) has the same name, CRC, method, flags, extra field, timestamp and
   compressed bytes, owner/mode/mtime are kept, and restore gives back
   byte-identical files.
2. Generated cases: jar in war in ear (with duplicate names and odd extra
   fields), a Spring-Boot-style fat jar with a STORED nested jar (stays
   STORED), executable jars with a launch script (offsets relative to the
   archive and to the file), ZIP64 archives (zip -fz), jars written by the
   JDK's jar tool (data descriptors) nested in a war, a not-fixable 2.16.0.
3. Signed jars: skipped by default, --fix-signed keeps `jarsigner -verify`.
4. A real JVM logs through a fixed log4j-core 2.14.1; a JVM holding the jar
   open while it is fixed keeps running and is reported (restart required,
   exit status 3).
5. Errors: read-only filesystem, full filesystem (the run goes on with the
   next file), unwritable backup directory, permission denied.  A backup
   directory inside the tree is passed over by the next run (its tag).
6. Crash safety: the fixer is killed with SIGKILL at random points of a
   large rewrite, 50 times; the file is always either the original or a
   complete fixed archive, and restore always gives the original back.
"""
import io
import os
import random
import shutil
import signal
import struct
import subprocess
import time
import warnings
import zipfile
import zlib

from fix_common import (API, CORE, CORPUS, L4S, OUT, PLAIN, hello_compile, hello_start, mount_tmpfs, ok, recs, run,
                        run_parts, sha)

warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we write on purpose


def unzip_rc(path):
    return subprocess.run(["unzip", "-tqq", path], capture_output=True).returncode


def raw_entries(data):
    """Per central-directory entry, in order: name and everything that must
    survive a raw copy, compressed bytes included."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    out = []
    for zi in zf.infolist():
        h = zi.header_offset
        n, m = struct.unpack("<HH", data[h + 26:h + 30])
        start = h + 30 + n + m
        out.append((zi.filename, zi.CRC, zi.compress_type, zi.flag_bits, zi.extra, zi.date_time,
                    zi.comment, zi.external_attr, data[start:start + zi.compress_size]))
    return out


def inflate(e):
    return e[8] if e[2] == 0 else zlib.decompressobj(-15).decompress(e[8])


def compare(orig, new, path, removed):
    """Problems found comparing an archive with its fixed copy, recursively
    through the nested archives that were rewritten."""
    pre = path + "!/"
    here = {r[len(pre):] for r in removed if r.startswith(pre) and "!/" not in r[len(pre):]}
    nested = {r[len(pre):].split("!/")[0] for r in removed if r.startswith(pre) and "!/" in r[len(pre):]}
    a, b = raw_entries(orig), raw_entries(new)
    kept = [e for e in a if e[0] not in here]
    if [e[0] for e in kept] != [e[0] for e in b]:
        return ["%s: entry list differs beyond the removed entries" % path]
    if not here <= {e[0] for e in a}:
        return ["%s: reported removals that were not entries: %s" % (path, sorted(here - {e[0] for e in a}))]
    probs = []
    for x, y in zip(kept, b):
        if x[0] in nested:
            if x[2:8] != y[2:8]:
                probs.append("%s%s: method/flags/extra/time of a rewritten nested archive changed" % (pre, x[0]))
            probs += compare(inflate(x), inflate(y), pre + x[0], removed)
        elif x[1:] != y[1:]:
            probs.append("%s%s: differs from the original" % (pre, x[0]))
    if orig[:orig.find(b"PK\x03\x04")] != new[:new.find(b"PK\x03\x04")]:
        probs.append("%s: bytes before the first entry differ" % path)
    return probs


def meta(path):
    st = os.stat(path)
    return (st.st_uid, st.st_gid, st.st_mode, st.st_mtime_ns)


def zbytes(entries):
    """A zip in memory: entries are (name, bytes, method[, extra])."""
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as z:
        for e in entries:
            zi = zipfile.ZipInfo(e[0], date_time=(2020, 1, 2, 3, 4, 6))
            zi.compress_type = e[2]
            if len(e) > 3:
                zi.extra = e[3]
            z.writestr(zi, e[1])
    return bio.getvalue()


# --------------------------------------------------------------- 1. corpus
def corpus_tests():
    d = os.path.join(OUT, "corpus")
    tops = set()
    for line in open(CORPUS + "manifest.tsv", encoding="utf-8"):
        if line.startswith("#") or line.startswith("path\t"):
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) < 5 or f[3] != "VULNERABLE" or not ({"CVE-2021-44228", "CVE-2021-45046"} & set(f[4].split(","))):
            continue
        top = f[0].split("!/")[0]
        if os.path.isfile(CORPUS + top):
            tops.add(top)
    ok("corpus: fixable files found in the manifest", len(tops) >= 20, len(tops))
    orig = {}
    for t in sorted(tops):
        dst = os.path.join(d, t)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(CORPUS + t, dst)
        os.chmod(dst, 0o640)
        os.utime(dst, ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
        orig[dst] = (open(dst, "rb").read(), meta(dst), unzip_rc(dst))
    bk = os.path.join(OUT, "bk-corpus")

    p = run("fix", "--dry-run", "--format", "json", d)
    would = {r["path"] for r in recs(p) if r.get("action") == "would-fix"}
    ok("corpus: dry run lists every file and exits 1", p.returncode == 1 and would == set(orig),
       "rc=%d missing=%s" % (p.returncode, sorted(set(orig) - would)[:3]))
    ok("corpus: dry run writes nothing", all(open(f, "rb").read() == o[0] for f, o in orig.items())
       and not os.path.exists(bk))

    p = run("fix", "--format", "json", "--backup-dir", bk, d)
    rs = {r["path"]: r for r in recs(p) if r.get("kind") == "fix"}
    ok("corpus: fix exits 0", p.returncode == 0, "rc=%d %s" % (p.returncode, p.stderr[-400:]))
    bad = [f for f in orig if rs.get(f, {}).get("action") != "fixed" or rs[f].get("status") != "mitigated"]
    ok("corpus: every file fixed, status mitigated", not bad, [(b, rs.get(b)) for b in bad[:2]])
    bad = [f for f, r in rs.items() for x in r.get("removed", []) if not x.endswith("lookup/JndiLookup.class")]
    ok("corpus: only JndiLookup.class removed", not bad, bad[:3])
    ok("corpus: each record names its backup", all(os.path.isfile(r.get("backup", "")) for r in rs.values()))

    p = run("scan", "--format", "json", d)
    fs = [r for r in recs(p) if r.get("kind") == "finding"]
    vul = [r["path"] for r in fs if {"CVE-2021-44228", "CVE-2021-45046"} & set(r["cves"])]
    ok("corpus: scan after fix finds nothing JNDI-exploitable", not vul and fs, vul[:3])
    ok("corpus: scan after fix says mitigated", all(r["status"] == "mitigated" for r in fs),
       [(r["path"], r["status"]) for r in fs if r["status"] != "mitigated"][:3])
    bad = [f for f, o in orig.items() if o[2] == 0 and unzip_rc(f) != 0]
    ok("corpus: unzip -t passes on every fixed file", not bad, bad[:3])
    probs = []
    for f, o in orig.items():
        if f in rs:
            probs += compare(o[0], open(f, "rb").read(), f, rs[f]["removed"])
    ok("corpus: every other entry keeps name, CRC, method, extra, time and compressed bytes", not probs, probs[:3])
    bad = [f for f, o in orig.items() if meta(f) != o[1]]
    ok("corpus: owner, group, mode and mtime kept", not bad, bad[:3])

    p = run("restore", "--format", "json", "--backup-dir", bk)
    ok("corpus: restore exits 0", p.returncode == 0, p.stdout[-300:] + p.stderr[-300:])
    bad = [f for f, o in orig.items() if open(f, "rb").read() != o[0]]
    ok("corpus: restore gives back byte-identical files", not bad, bad[:3])
    bad = [f for f, o in orig.items() if meta(f) != o[1]]
    ok("corpus: restore puts back owner, mode and mtime", not bad, bad[:3])
    p = run("restore", "--format", "json", "--backup-dir", bk)
    ok("corpus: a second restore has nothing to do",
       p.returncode == 0 and not [r for r in recs(p) if r.get("kind") == "restore"], p.stdout[-300:])


# --------------------------------------------------------- 2. generated
def generated():
    d = os.path.join(OUT, "gen")
    os.makedirs(d)
    core = open(CORE, "rb").read()
    small = zbytes([("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n", 8), ("a/B.class", b"\xca\xfe\xba\xbe" * 9, 8)])
    odd = b"\xfe\xca\x00\x00" + struct.pack("<HH", 0x7777, 3) + b"xyz"
    war = zbytes([("WEB-INF/web.xml", b"<web-app/>", 8, odd),
                  ("META-INF/dup.txt", b"first", 8), ("META-INF/dup.txt", b"second", 0),
                  ("WEB-INF/lib/log4j-core-2.14.1.jar", core, 8),
                  ("WEB-INF/lib/other.jar", small, 0)])
    files = {}
    files["app.ear"] = zbytes([("META-INF/application.xml", b"<application/>", 8), ("app.war", war, 8)])
    files["fat.jar"] = zbytes([("META-INF/MANIFEST.MF", b"Main-Class: org.springframework.boot.loader.JarLauncher\r\n", 8),
                               ("BOOT-INF/classes/app/Main.class", b"\xca\xfe\xba\xbe" * 50, 8),
                               ("BOOT-INF/lib/log4j-core-2.14.1.jar", core, 0),
                               ("BOOT-INF/lib/other.jar", small, 0)])
    script = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n"
    files["exec-relative"] = script + core
    with open(os.path.join(d, "exec-absolute"), "wb") as f:
        f.write(script)
    with zipfile.ZipFile(io.BytesIO(core)) as src, zipfile.ZipFile(os.path.join(d, "exec-absolute"), "a") as z:
        for zi in src.infolist():
            z.writestr(zi, src.read(zi))
    x = os.path.join(OUT, "x")
    with zipfile.ZipFile(CORE) as z:
        z.extractall(x)
    subprocess.run(["zip", "-q", "-r", "-fz", os.path.join(d, "zip64.jar"), "."], cwd=x, check=True)
    r = subprocess.run(["jar", "--create", "--file", os.path.join(OUT, "dd.jar"), "-C", x, "."], capture_output=True)
    w = os.path.join(OUT, "w")
    os.makedirs(w + "/WEB-INF/lib")
    shutil.copy(os.path.join(OUT, "dd.jar"), w + "/WEB-INF/lib/log4j-core.jar")
    r2 = subprocess.run(["jar", "--create", "--file", os.path.join(d, "jartool.war"), "-C", w, "."], capture_output=True)
    ok("generated: the jar tool built the data-descriptor war", r.returncode == 0 and r2.returncode == 0,
       r.stderr + r2.stderr)
    shutil.copy2(CORPUS + "log4j-samples/false-hits/log4j-core-2.16.0.jar", os.path.join(d, "log4j-core-2.16.0.jar"))
    for n, b in files.items():
        with open(os.path.join(d, n), "wb") as f:
            f.write(b)
    data = {os.path.join(d, n): open(os.path.join(d, n), "rb").read() for n in os.listdir(d)}
    urc = {f: unzip_rc(f) for f in data}
    dd = raw_entries(data[os.path.join(d, "jartool.war")])
    ok("generated: jar-tool war uses data descriptors", any(e[3] & 8 for e in dd))
    bk = os.path.join(OUT, "bk-gen")
    p = run("fix", "--format", "json", "--backup-dir", bk, d)
    rs = {r["path"]: r for r in recs(p) if r.get("kind") == "fix"}
    ok("generated: fix exits 1 (2.16.0 is not fixable by removing classes)", p.returncode == 1,
       "rc=%d %s" % (p.returncode, p.stderr[-300:]))
    for n in ["app.ear", "fat.jar", "exec-relative", "exec-absolute", "zip64.jar", "jartool.war"]:
        f = os.path.join(d, n)
        r = rs.get(f, {})
        ok("generated %s: fixed, mitigated" % n, r.get("action") == "fixed" and r.get("status") == "mitigated", r)
        new = open(f, "rb").read()
        ok("generated %s: unzip -t as good as before" % n, unzip_rc(f) <= urc[f], "%d vs %d" % (unzip_rc(f), urc[f]))
        probs = compare(data[f], new, f, r.get("removed", []))
        ok("generated %s: other entries byte-identical at every level" % n, not probs, probs[:3])
    r = rs.get(os.path.join(d, "app.ear"), {})
    ok("generated app.ear: removed at depth 3",
       r.get("removed") == [os.path.join(d, "app.ear") + "!/app.war!/WEB-INF/lib/log4j-core-2.14.1.jar!/"
                            "org/apache/logging/log4j/core/lookup/JndiLookup.class"], r.get("removed"))
    fat = raw_entries(open(os.path.join(d, "fat.jar"), "rb").read())
    ok("generated fat.jar: nested jar stays STORED", [e[2] for e in fat if e[0].endswith("log4j-core-2.14.1.jar")] == [0])
    ok("generated exec-relative: launch script kept", open(os.path.join(d, "exec-relative"), "rb").read().startswith(script))
    ok("generated zip64.jar: ZIP64 end records kept", b"PK\x06\x06" in open(os.path.join(d, "zip64.jar"), "rb").read())
    f16 = os.path.join(d, "log4j-core-2.16.0.jar")
    nf = [r for r in recs(p) if r.get("action") == "not-fixable" and r["path"] == f16]
    ok("generated 2.16.0: reported not fixable, left alone", nf and open(f16, "rb").read() == data[f16], nf)
    p = run("scan", "--format", "json", d)
    vul = [r["path"] for r in recs(p) if r.get("kind") == "finding" and r["status"] == "vulnerable"
           and "CVE-2021-44228" in r["cves"]]
    ok("generated: scan after fix finds nothing JNDI-exploitable", not vul, vul)
    p = run("restore", "--format", "json", "--backup-dir", bk)
    bad = [f for f, b in data.items() if open(f, "rb").read() != b]
    ok("generated: restore gives back byte-identical files", p.returncode == 0 and not bad, bad)


# -------------------------------------------------------------- 3. signed
def signed():
    d = os.path.join(OUT, "signed")
    os.makedirs(d)
    j = os.path.join(d, "signed.jar")
    shutil.copy(CORE, j)
    ks = os.path.join(OUT, "ks.p12")
    r = subprocess.run(["keytool", "-genkeypair", "-keystore", ks, "-storepass", "secret123", "-alias", "k",
                        "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=log4scan test", "-validity", "2",
                        "-storetype", "PKCS12"], capture_output=True, text=True)
    r2 = subprocess.run(["jarsigner", "-keystore", ks, "-storepass", "secret123", j, "k"], capture_output=True, text=True)
    if not ok("signed: test jar signed", r.returncode == 0 and r2.returncode == 0, r.stderr + r2.stderr):
        return
    before = open(j, "rb").read()
    bk = os.path.join(OUT, "bk-signed")
    p = run("fix", "--format", "json", "--backup-dir", bk, d)
    rec = [r for r in recs(p) if r.get("kind") == "fix"]
    ok("signed: skipped by default with a clear message, exit 1",
       p.returncode == 1 and rec and rec[0]["action"] == "skipped" and "signed" in rec[0].get("message", "")
       and open(j, "rb").read() == before, rec)
    p = run("fix", "--fix-signed", "--format", "json", "--backup-dir", bk, d)
    rec = [r for r in recs(p) if r.get("kind") == "fix"]
    ok("signed: --fix-signed fixes it", p.returncode == 0 and rec and rec[0]["action"] == "fixed", rec)
    names = [e[0] for e in raw_entries(open(j, "rb").read())]
    ok("signed: signature files kept", "META-INF/K.SF" in names and "META-INF/K.RSA" in names, names[:6])
    v = subprocess.run(["jarsigner", "-verify", j], capture_output=True, text=True)
    ok("signed: jarsigner -verify still says 'jar verified.'", v.returncode == 0 and "jar verified." in v.stdout,
       v.stdout[-500:])


# ----------------------------------------------------------------- 4. JVM


def jvm():
    d = os.path.join(OUT, "jvm")
    os.makedirs(d)
    lib = os.path.join(d, "lib")
    os.makedirs(lib)
    jar = os.path.join(lib, "log4j-core-2.14.1.jar")
    shutil.copy(CORE, jar)
    shutil.copy(API, d)
    cp = ":".join([d, jar, os.path.join(d, "log4j-api-2.14.1.jar")])
    r = hello_compile(d, cp)
    if not ok("jvm: test program compiles", r.returncode == 0, r.stderr):
        return
    flag = os.path.join(d, "go")
    java, seen = hello_start(cp, flag)
    try:
        ok("jvm: running JVM loaded the vulnerable jar (JndiLookup present)",
           "READY" in seen and "JndiLookup present" in seen, seen[-300:])
        p = run("fix", "--format", "json", "--backup-dir", os.path.join(OUT, "bk-jvm"), lib)
        rec = [r for r in recs(p) if r.get("kind") == "fix"]
        ok("jvm: jar held by a running JVM is fixed and reported 'restart required' with its pid",
           rec and rec[0]["action"] == "fixed" and rec[0].get("restart_required") and java.pid in rec[0].get("pids", []),
           rec)
        ok("jvm: fix exits 3 (fixed on disk, restart required), not 0", p.returncode == 3, p.returncode)
        open(flag, "w").close()
        out, _ = java.communicate(timeout=60)
        ok("jvm: the running JVM keeps logging from its open copy", java.returncode == 0 and "still logging" in out,
           out[-500:])
    finally:
        if java.poll() is None:
            java.kill()
            java.wait()
    r = subprocess.run(["java", "-cp", cp, "Hello"], capture_output=True, text=True, timeout=120)
    ok("jvm: a new JVM logs through the fixed log4j-core 2.14.1",
       r.returncode == 0 and "hello from log4j" in r.stdout + r.stderr, (r.stdout + r.stderr)[-500:])
    ok("jvm: the JVM running the fixed jar has no JndiLookup class", "JndiLookup absent" in r.stdout,
       (r.stdout + r.stderr)[-500:])


# -------------------------------------------------------------- 5. errors


def errors():
    ro, full, good = (os.path.join(OUT, n) for n in ("ro", "full", "good"))
    if not ok("errors: test filesystems mounted", mount_tmpfs(ro, "4m") and mount_tmpfs(full, "2m")):
        return
    try:
        shutil.copy(CORE, ro)
        shutil.copy(CORE, full)
        os.makedirs(good)
        shutil.copy(CORE, good)
        subprocess.run(["mount", "-o", "remount,ro", ro], check=True)
        rof, fullf = os.path.join(ro, "log4j-core-2.14.1.jar"), os.path.join(full, "log4j-core-2.14.1.jar")
        h_ro, h_full = sha(rof), sha(fullf)
        p = run("fix", "--format", "json", "--backup-dir", os.path.join(OUT, "bk-err"), ro, full, good)
        rs = {r["path"]: r for r in recs(p) if r.get("kind") == "fix"}
        ok("errors: exit status 2 when a fix failed", p.returncode == 2, p.returncode)
        r = rs.get(rof, {})
        ok("errors: read-only filesystem is a clear error, original untouched",
           r.get("action") == "failed" and "read-only" in r.get("message", "") and sha(rof) == h_ro, r)
        r = rs.get(fullf, {})
        ok("errors: full filesystem is a clear error, original untouched",
           r.get("action") == "failed" and "No space left" in r.get("message", "") and sha(fullf) == h_full, r)
        ok("errors: nothing left behind on the full filesystem", os.listdir(full) == ["log4j-core-2.14.1.jar"],
           os.listdir(full))
        r = rs.get(os.path.join(good, "log4j-core-2.14.1.jar"), {})
        ok("errors: the run goes on and fixes the next file", r.get("action") == "fixed", r)
        # a backup directory that cannot be written: refuse before touching anything
        shutil.copy(CORE, os.path.join(OUT, "nobackup.jar"))
        h = sha(os.path.join(OUT, "nobackup.jar"))
        p = run("fix", "--format", "json", "--backup-dir", os.path.join(ro, "bk"), os.path.join(OUT, "nobackup.jar"))
        ok("errors: unwritable backup directory: refused, nothing changed",
           p.returncode == 2 and "backup" in p.stderr and sha(os.path.join(OUT, "nobackup.jar")) == h, p.stderr)
    finally:
        subprocess.run(["umount", ro])
        subprocess.run(["umount", full])
    # permission denied, as an unprivileged user
    if shutil.which("setpriv") and os.geteuid() == 0:
        pd = os.path.join(OUT, "perm")
        os.makedirs(pd)
        shutil.copy(CORE, pd)
        bkn = os.path.join(OUT, "bk-nobody")
        os.makedirs(bkn)
        os.chown(bkn, 65534, 65534)
        f = os.path.join(pd, "log4j-core-2.14.1.jar")
        h = sha(f)
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", L4S, "fix",
                            "--format", "json", "--backup-dir", bkn, pd], capture_output=True, text=True)
        r = [x for x in recs(p) if x.get("kind") == "fix"]
        ok("errors: permission denied is a clear error, original untouched",
           p.returncode == 2 and r and r[0]["action"] == "failed" and "Permission denied" in r[0].get("message", "")
           and sha(f) == h, (p.returncode, r, p.stderr[-300:]))


def backup_inside():
    """A backup directory inside the tree being fixed: its originals are
    found by the next run and must be left alone."""
    d = os.path.join(OUT, "inside")
    os.makedirs(d)
    shutil.copy(CORE, d)
    bk = os.path.join(d, ".log4scan-backup")
    p1 = run("fix", "--format", "json", "--backup-dir", bk, d)
    p2 = run("fix", "--format", "json", "--backup-dir", bk, d)
    r2 = [r for r in recs(p2) if r.get("kind") == "fix"]
    kept = [os.path.join(bk, n) for n in os.listdir(bk) if n not in ("manifest.tsv", "LOG4SCAN-BACKUP.TAG")] \
        if os.path.isdir(bk) else []
    s2 = [r for r in recs(p2) if r.get("kind") == "fix-summary"]
    ok("backup inside the scanned tree: a second run passes the backup over, says so, leaves it alone",
       p1.returncode == 0 and p2.returncode == 0 and len(kept) == 1 and sha(kept[0]) == sha(CORE)
       and not r2 and s2 and [x["path"] for x in s2[0].get("not_scanned", [])] == [bk],
       (p1.returncode, p2.returncode, r2, s2))


def tarball():
    """A tarball holding a vulnerable jar (its end record in the tar's tail)
    is not a zip to rewrite: skipped, untouched."""
    import tarfile
    d = os.path.join(OUT, "tar")
    os.makedirs(d)
    t = os.path.join(d, "app.tar")
    with tarfile.open(t, "w") as tf:
        tf.add(CORE, arcname="log4j-core-2.14.1.jar")
    h = sha(t)
    p = run("fix", "--format", "json", "--backup-dir", os.path.join(OUT, "bk-tar"), d)
    r = [x for x in recs(p) if x.get("kind") == "fix"]
    ok("tarball: skipped with a clear message, untouched, exit 1",
       p.returncode == 1 and r and r[0]["action"] == "skipped" and "not a zip" in r[0].get("message", "")
       and sha(t) == h, (p.returncode, r))


# ---------------------------------------------------------- 6. SIGKILL
def crash():
    d = os.path.join(OUT, "crash")
    os.makedirs(d)
    big = os.path.join(OUT, "big.jar")
    rnd = random.Random(4)
    with zipfile.ZipFile(CORE) as src, zipfile.ZipFile(big, "w") as z:
        for zi in src.infolist():
            z.writestr(zi, src.read(zi))
        zi = zipfile.ZipInfo("BOOT-INF/blob.bin", date_time=(2020, 1, 1, 0, 0, 0))
        z.writestr(zi, rnd.randbytes(16 << 20), compress_type=zipfile.ZIP_STORED)
    want = sha(big)
    f = os.path.join(d, "app.jar")
    t0 = time.time()
    shutil.copy(big, f)
    p = run("fix", "--format", "json", "--backup-dir", os.path.join(OUT, "bk-crash0"), d, binary=PLAIN)
    full = time.time() - t0
    fixed_sha = sha(f)
    ok("crash: a complete run fixes the large jar", p.returncode == 0 and fixed_sha != want, p.stdout[-300:])
    outcomes = {"original": 0, "fixed": 0}
    problems = []
    for i in range(50):
        shutil.copy(big, f)
        bk = os.path.join(OUT, "bk-crash%d" % (i + 1))
        proc = subprocess.Popen([PLAIN, "fix", "--format", "json", "--backup-dir", bk, d],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the replace comes last: on a loaded host a run can take longer than
        # the one timed, so the later half of the kills reaches past it
        time.sleep(rnd.uniform(0, full * (1.1 if i < 25 else 2.5)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        h = sha(f)
        if h == want:
            outcomes["original"] += 1
        elif h == fixed_sha and unzip_rc(f) == 0:
            outcomes["fixed"] += 1
        else:
            problems.append("run %d: neither the original nor a valid fixed archive" % i)
            continue
        if h != want:
            r = run("restore", "--format", "json", "--backup-dir", bk, binary=PLAIN)
            if r.returncode != 0 or sha(f) != want:
                problems.append("run %d: restore failed: %s" % (i, r.stdout[-200:]))
        left = [n for n in os.listdir(d) if n != "app.jar"]
        for n in left:
            os.unlink(os.path.join(d, n))
        if left:
            problems.append("run %d: left %s" % (i, left))
        shutil.rmtree(bk, ignore_errors=True)  # each backup holds a 16 MiB original
    ok("crash: after 50 SIGKILLs the file is always the original or the complete fixed archive, "
       "and restore works (%d original, %d fixed)" % (outcomes["original"], outcomes["fixed"]),
       not [x for x in problems if "left" not in x], problems[:3])
    ok("crash: no temporary file left beside the original", not [x for x in problems if "left" in x],
       problems[:3])
    ok("crash: kills landed both before and after the replace", outcomes["original"] and outcomes["fixed"], outcomes)


run_parts([corpus_tests, generated, signed, jvm, errors, backup_inside, tarball, crash])
