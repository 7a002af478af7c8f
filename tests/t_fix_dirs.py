#!/usr/bin/env python3
"""t_fix_dirs.py - `log4scan fix` on exploded class directories, and backups
that stop counting (issue 18, points 1, 2 and 4).

1. Exploded directories: log4j-core 2.14.1 unpacked in WEB-INF/classes, a
   copy relocated below a prefix, a relocated copy nested inside another
   class root, Log4j 1.x (only with --fix-log4j1: JMSAppender, SocketServer,
   JMSSink, JDBCAppender and the chainsaw package), 2.16.0 (not fixable).
   --dry-run writes nothing; fix moves exactly the mitigating classes into
   BACKUP/ID/ under the same relative names, every other file keeps its
   bytes, mode and mtime, scan then says mitigated (or safe), and restore
   gives back every byte.
2. The issue's "done when": a tree with corpus jars, nested archives (jar in
   war in ear, a fat jar with a STORED nested jar, the shaded uber jar, a jar
   in a war under a name that does not say archive) and exploded
   directories, with the backup directory beside it.  After fix no
   Log4Shell-affected finding is left, a scan of the parent (backups
   included) reports nothing vulnerable and lists the backup directory as
   skipped; --scan-backups shows the originals there (control); restore
   gives back the tree byte for byte.
3. The tag: a directory holding LOG4SCAN-BACKUP.TAG with the signature is
   passed over by every scan, one with a wrong signature is not; a backup
   directory that holds something else is refused; fix never changes a file
   below a tagged directory, even with --scan-backups.
   A nested archive too large to hold (over --max-nested-size, which scan
   streams) is never called fixed: skipped, or the rescan refuses the fix.
4. A JVM running from an exploded directory: fix moves JndiLookup out, says
   "restart required" with the JVM's pid and exits 3; the JVM keeps
   logging; a new JVM finds no JndiLookup and logs through the fixed
   classes.  A fix with no JVM involved exits 0.
"""
import io
import os
import shutil
import subprocess
import time
import zipfile

from fix_common import (API, CORE, CORE16, CORPUS, JNDI, LOG4J1, OUT, diff, extract, ok, recs, run,
                        hello_compile, hello_start, run_parts, sha, shell_vulnerable, snapshot, summary)

SIGNATURE = "Signature: f871a864224b0b7e31b161feb5b99318"


def zbytes(entries):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as z:
        for name, data, method in entries:
            zi = zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6))
            zi.compress_type = method
            z.writestr(zi, data)
    return bio.getvalue()


# ------------------------------------------------------ 1. exploded dirs
def exploded():
    d = os.path.join(OUT, "exploded")
    web = os.path.join(d, "app", "WEB-INF", "classes")
    extract(CORE, web)
    os.chmod(os.path.join(web, JNDI), 0o640)
    reloc = os.path.join(d, "reloc", "classes")
    extract(CORE, reloc, "com/acme/shaded")
    nest = os.path.join(d, "nest")
    extract(CORE, nest)
    extract(CORE, nest, "org/foo/shaded")
    old = os.path.join(d, "old", "classes")
    extract(LOG4J1, old)
    new16 = os.path.join(d, "v216")
    extract(CORE16, new16)
    before = snapshot(d)
    bk = os.path.join(OUT, "bk-exploded")

    p = run("fix", "--dry-run", "--format", "json", d)
    rs = {r["path"]: r for r in recs(p, "fix")}
    ok("exploded: dry run says would-fix for each fixable directory, exits 1",
       p.returncode == 1 and rs.get(web, {}).get("action") == "would-fix"
       and rs.get(os.path.join(reloc, "com/acme/shaded"), {}).get("action") == "would-fix"
       and rs.get(nest, {}).get("action") == "would-fix", (p.returncode, rs))
    ok("exploded: dry run writes nothing", snapshot(d) == before and not os.path.exists(bk), diff(before, snapshot(d)))

    p = run("fix", "--format", "json", "--backup-dir", bk, d)
    rs = {r["path"]: r for r in recs(p, "fix")}
    r = rs.get(web, {})
    ok("exploded: WEB-INF/classes fixed, JndiLookup.class moved, now mitigated",
       r.get("action") == "fixed" and r.get("removed") == [os.path.join(web, JNDI)] and r.get("status") == "mitigated"
       and not os.path.exists(os.path.join(web, JNDI)), r)
    b = r.get("backup", "")
    ok("exploded: the class is in BACKUP/ID/ under its relative name, same bytes",
       os.path.isfile(os.path.join(b, JNDI)) and sha(os.path.join(b, JNDI)) == before[os.path.relpath(
           os.path.join(web, JNDI), d)][0], b)
    r = rs.get(os.path.join(reloc, "com/acme/shaded"), {})
    ok("exploded: a copy relocated below a prefix is fixed",
       r.get("action") == "fixed" and r.get("removed") == [os.path.join(reloc, "com/acme/shaded", JNDI)], r)
    got = sorted(x for k, r in rs.items() if k.startswith(nest) and r["action"] == "fixed" for x in r["removed"])
    ok("exploded: a relocated copy nested in another class root is fixed too (it is a class root of its own)",
       got == sorted([os.path.join(nest, JNDI), os.path.join(nest, "org/foo/shaded", JNDI)]), got)
    nf = [x for x in recs(p, "fix") if x["action"] == "not-fixable"]
    ok("exploded: Log4j 1.x and 2.16.0 reported not fixable, exit 1",
       p.returncode == 1 and {x["path"] for x in nf} == {old, new16}
       and any("--fix-log4j1" in x["message"] for x in nf), (p.returncode, nf))
    after = snapshot(d)
    moved = {os.path.relpath(x, d) for r in rs.values() for x in r.get("removed", [])}
    ok("exploded: every other file keeps its bytes, mode and mtime",
       {k: v for k, v in before.items() if k not in moved} == after, diff(before, after))
    man = open(os.path.join(bk, "manifest.tsv")).read()
    # nest and nest/org/foo/shaded are fixed as one directory or two,
    # depending on which of them the walk's threads report first
    ok("exploded: the manifest records each directory and class",
       man.count("\ndir\t") in (3, 4) and man.count("\ndirfile\t") == 4, man[-600:])

    p = run("scan", "--format", "json", d)
    st = {r["path"]: r["status"] for r in recs(p, "finding")}
    ok("exploded: scan after fix: the three 2.14.1 copies mitigated, nothing Log4Shell-exploitable",
       not shell_vulnerable(p) and st.get(web) == "mitigated" and st.get(nest) == "mitigated", st)

    p = run("fix", "--fix-log4j1", "--format", "json", "--backup-dir", bk, d)
    r = {x["path"]: x for x in recs(p, "fix")}.get(old, {})
    names = {os.path.relpath(x, old) for x in r.get("removed", [])}
    chainsaw = {n for n in before if n.startswith("old/classes/org/apache/log4j/chainsaw/")}
    want = {"org/apache/log4j/net/JMSAppender.class", "org/apache/log4j/net/SocketServer.class",
            "org/apache/log4j/net/JMSSink.class", "org/apache/log4j/jdbc/JDBCAppender.class"} | \
        {os.path.relpath(n, "old/classes") for n in chainsaw}
    ok("exploded: --fix-log4j1 moves JMSAppender, SocketServer, JMSSink, JDBCAppender and all of chainsaw",
       r.get("action") == "fixed" and names == want and len(chainsaw) > 10, (r.get("action"), sorted(names ^ want)[:5]))
    p = run("scan", "--format", "json", old)
    f = recs(p, "finding")
    ok("exploded: the Log4j 1.x directory is then safe", f and f[0]["status"] == "safe", f[:1])

    p = run("restore", "--format", "json", "--backup-dir", bk)
    ok("exploded: restore gives back every byte, mode and mtime",
       p.returncode == 0 and snapshot(d) == before, (p.returncode, diff(before, snapshot(d)), p.stdout[-300:]))
    ok("exploded: restore keeps the backups", os.path.isfile(os.path.join(b, JNDI)))


# ------------------------------------------------------------ 2. done when
def build_tree(t):
    """Corpus jars affected by Log4Shell, nested archives and exploded dirs."""
    os.makedirs(t)
    n = 0
    for line in open(CORPUS + "manifest.tsv", encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if line.startswith(("#", "path\t")) or len(f) < 5 or f[3] != "VULNERABLE":
            continue
        if not ({"CVE-2021-44228", "CVE-2021-45046"} & set(f[4].split(","))):
            continue
        src = CORPUS + f[0].split("!/")[0]
        dst = os.path.join(t, "jars", f[0].split("!/")[0].replace("/", "_"))
        if os.path.isfile(src) and not os.path.exists(dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
            n += 1
        elif os.path.isdir(src) and not os.path.exists(dst):
            shutil.copytree(src, dst)
            n += 1
    core = open(CORE, "rb").read()
    small = zbytes([("a/B.class", b"\xca\xfe\xba\xbe" * 9, 8)])
    war = zbytes([("WEB-INF/web.xml", b"<web-app/>", 8), ("WEB-INF/lib/log4j-core-2.14.1.jar", core, 8),
                  ("WEB-INF/lib/other.jar", small, 0)])
    os.makedirs(os.path.join(t, "apps"))
    with open(os.path.join(t, "apps", "app.ear"), "wb") as f:
        f.write(zbytes([("META-INF/application.xml", b"<application/>", 8), ("app.war", war, 8)]))
    with open(os.path.join(t, "apps", "fat.jar"), "wb") as f:
        f.write(zbytes([("BOOT-INF/classes/app/Main.class", b"\xca\xfe\xba\xbe" * 50, 8),
                        ("BOOT-INF/lib/log4j-core-2.14.1.jar", core, 0)]))
    # a copy that only its bytes say is a jar (scan reads the first bytes)
    with open(os.path.join(t, "apps", "plugins.war"), "wb") as f:
        f.write(zbytes([("WEB-INF/plugins/core.bin", core, 8)]))
    extract(CORE, os.path.join(t, "webapps", "shop", "WEB-INF", "classes"))
    extract(CORE, os.path.join(t, "webapps", "shop2", "WEB-INF", "classes"), "com/acme/shaded")
    return n


def done_when():
    parent = os.path.join(OUT, "host")
    t = os.path.join(parent, "srv")
    n = build_tree(t)
    bk = os.path.join(parent, "backups")
    before = snapshot(t)
    p = run("scan", "--format", "json", parent)
    vul0 = shell_vulnerable(p)
    ok("done-when: the tree has Log4Shell findings in jars, nested archives and directories (%d corpus items, "
       "%d findings)" % (n, len(vul0)),
       n >= 20 and any("!/" in x for x in vul0) and any(x.endswith("classes") or x.endswith("shaded") for x in vul0),
       vul0[:5])
    p = run("fix", "--format", "json", "--backup-dir", bk, t)
    s = summary(p, "fix-summary")
    ok("done-when: fix exits 0, nothing failed or left unfixed (%s fixed)" % s.get("fixed"),
       p.returncode == 0 and s.get("failed") == 0 and s.get("not_fixable") == 0 and s.get("fixed", 0) >= n,
       (p.returncode, s, [r for r in recs(p, "fix") if r["action"] != "fixed"][:3]))
    p = run("scan", "--format", "json", parent)
    s = summary(p, "summary")
    ok("done-when: a scan of the parent, backups included, reports nothing vulnerable",
       p.returncode == 0 and s.get("findings", {}).get("vulnerable") == 0 and not shell_vulnerable(p),
       (p.returncode, s.get("findings"), shell_vulnerable(p)[:3]))
    ok("done-when: the backup directory is listed as skipped, with the reason",
       [x for x in s.get("skipped", []) if x["path"] == bk and "LOG4SCAN-BACKUP.TAG" in x["reason"]], s.get("skipped"))
    p = run("scan", "--scan-backups", "--format", "json", parent)
    inbk = [x for x in shell_vulnerable(p) if x.startswith(bk)]
    ok("done-when: control: --scan-backups finds the vulnerable originals in the backup directory",
       p.returncode == 1 and len(inbk) >= n, len(inbk))
    p = run("fix", "--format", "json", "--backup-dir", bk, t)
    ok("done-when: a second fix has nothing to do, exit 0",
       p.returncode == 0 and summary(p, "fix-summary").get("fixed") == 0, (p.returncode, summary(p, "fix-summary")))
    p = run("restore", "--format", "json", "--backup-dir", bk)
    after = snapshot(t)
    ok("done-when: restore gives back every byte (and mode, mtime) of the tree",
       p.returncode == 0 and after == before, (p.returncode, diff(before, after)))


# ------------------------------------------------ 2b. nested too large
def trimmed_core():
    """log4j-core 2.14.1 cut to what the detector reads: under 1 MiB."""
    keep = ("lookup/", "net/JndiManager", "pattern/MessagePatternConverter", "META-INF/maven/")
    with zipfile.ZipFile(CORE) as z:
        return zbytes([(zi.filename, z.read(zi), 8) for zi in z.infolist()
                       if not zi.is_dir() and any(k in zi.filename for k in keep)])


def too_large():
    """A nested archive larger than --max-nested-size is streamed by scan,
    which finds the copy in it; fix cannot rewrite what it does not hold,
    and must say so instead of calling the file fixed."""
    d = os.path.join(OUT, "toolarge")
    os.makedirs(d)
    core = open(CORE, "rb").read()
    small = trimmed_core()
    with open(os.path.join(d, "only-big.war"), "wb") as f:
        f.write(zbytes([("WEB-INF/lib/log4j-core-2.14.1.jar", core, 8)]))
    with open(os.path.join(d, "big-and-small.war"), "wb") as f:
        f.write(zbytes([("WEB-INF/lib/log4j-core-2.14.1.jar", core, 8), ("WEB-INF/lib/small.jar", small, 0)]))
    before = snapshot(d)
    p = run("scan", "--max-nested-size", "1", "--format", "json", d)
    vul = sorted(shell_vulnerable(p))
    ok("too large: scan streams the 1.7 MiB nested jars and finds them (control), and the small one",
       len(vul) == 3 and len(small) < 1 << 20, vul)
    p = run("fix", "--max-nested-size", "1", "--format", "json", "--backup-dir", os.path.join(OUT, "bk-big"), d)
    rs = {os.path.basename(r["path"]): r for r in recs(p, "fix")}
    a, b = rs.get("only-big.war", {}), rs.get("big-and-small.war", {})
    ok("too large: a file whose only copy is in a nested archive it cannot hold is skipped, saying why",
       a.get("action") == "skipped" and "--max-nested-size" in a.get("message", ""), a)
    ok("too large: a file it could fix only in part is not changed: the rescan still finds the big copy",
       b.get("action") == "failed" and "still vulnerable" in b.get("message", "")
       and "--max-nested-size" in b.get("message", ""), b)
    ok("too large: exit 2, nothing changed", p.returncode == 2 and snapshot(d) == before, p.returncode)
    p = run("fix", "--format", "json", "--backup-dir", os.path.join(OUT, "bk-big"), d)
    ok("too large: with the default --max-nested-size both are fixed", p.returncode == 0 and
       [r["action"] for r in recs(p, "fix")] == ["fixed", "fixed"], p.stdout[-400:])


# ------------------------------------------------------------------ 3. tag
def tag():
    d = os.path.join(OUT, "tag")
    for sub in ("good", "bad", "crlf"):
        shutil.copytree(os.path.dirname(CORE), os.path.join(d, sub), ignore=lambda s, names: [
            x for x in names if x != os.path.basename(CORE)])
    with open(os.path.join(d, "good", "LOG4SCAN-BACKUP.TAG"), "w") as f:
        f.write(SIGNATURE + "\n# made by hand\n")
    with open(os.path.join(d, "crlf", "LOG4SCAN-BACKUP.TAG"), "w", newline="") as f:
        f.write(SIGNATURE + "\r\n")
    with open(os.path.join(d, "bad", "LOG4SCAN-BACKUP.TAG"), "w") as f:
        f.write(SIGNATURE[:-1] + "0\n")
    p = run("scan", "--format", "json", d)
    paths = {os.path.relpath(r["path"], d).split("/")[0] for r in recs(p, "finding")}
    sk = {os.path.basename(x["path"]) for x in summary(p, "summary").get("skipped", [])}
    ok("tag: a tagged directory is passed over (LF or CRLF), a wrong signature is not",
       paths == {"bad"} and sk == {"good", "crlf"}, (paths, sk))
    p = run("scan", "--format", "json", os.path.join(d, "good"))
    ok("tag: a tagged root is passed over too, and said so", not recs(p, "finding") and
       summary(p, "summary").get("skipped", [{}])[0].get("path") == os.path.join(d, "good"), p.stdout[-300:])
    p = run("scan", "--scan-backups", "--format", "json", d)
    ok("tag: --scan-backups scans them", {os.path.relpath(r["path"], d).split("/")[0] for r in recs(p, "finding")}
       == {"good", "bad", "crlf"})
    # fix never changes a file below a tagged directory
    h = sha(os.path.join(d, "good", os.path.basename(CORE)))
    p = run("fix", "--scan-backups", "--format", "json", "--backup-dir", os.path.join(OUT, "bk-tag"), d)
    r = {os.path.relpath(x["path"], d).split("/")[0]: x for x in recs(p, "fix")}
    ok("tag: fix --scan-backups leaves files below a tagged directory alone, says why",
       r.get("good", {}).get("action") == "nothing" and "backup directory" in r["good"].get("message", "")
       and sha(os.path.join(d, "good", os.path.basename(CORE))) == h and r.get("bad", {}).get("action") == "fixed", r)
    # the backup directory fix made is tagged, with the signature as its first line
    first = open(os.path.join(OUT, "bk-tag", "LOG4SCAN-BACKUP.TAG")).readline().rstrip("\n")
    ok("tag: fix tags its backup directory", first == SIGNATURE, first)
    # a backup directory that holds something else is refused before anything changes
    other = os.path.join(OUT, "notmine")
    os.makedirs(other)
    open(os.path.join(other, "photo.jpg"), "w").write("x")
    shutil.copy(CORE, os.path.join(OUT, "victim.jar"))
    h = sha(os.path.join(OUT, "victim.jar"))
    p = run("fix", "--format", "json", "--backup-dir", other, os.path.join(OUT, "victim.jar"))
    ok("tag: a non-empty directory that is not a log4scan backup is refused as backup directory, exit 2",
       p.returncode == 2 and "not empty" in p.stderr and sha(os.path.join(OUT, "victim.jar")) == h
       and os.listdir(other) == ["photo.jpg"], (p.returncode, p.stderr))
    # a backup directory of an older log4scan (manifest, no tag) is accepted and tagged
    legacy = os.path.join(OUT, "legacy")
    os.makedirs(legacy)
    open(os.path.join(legacy, "manifest.tsv"), "w").write("# log4scan backup manifest 1\n")
    p = run("fix", "--format", "json", "--backup-dir", legacy, os.path.join(OUT, "victim.jar"))
    ok("tag: an older backup directory (a manifest, no tag) is used and tagged",
       p.returncode == 0 and os.path.isfile(os.path.join(legacy, "LOG4SCAN-BACKUP.TAG")), (p.returncode, p.stderr))


# ------------------------------------------------------------------- 4. JVM


def jvm():
    d = os.path.join(OUT, "jvm")
    cls = os.path.join(d, "app", "classes")
    extract(CORE, cls)
    hello = os.path.join(d, "hello")
    os.makedirs(hello)
    cp = ":".join([hello, cls, API])
    r = hello_compile(hello, cp)
    if not ok("jvm: test program compiles", r.returncode == 0, r.stderr):
        return
    flag = os.path.join(d, "go")
    java, seen = hello_start(cp, flag)
    try:
        ok("jvm: a JVM runs Log4j from the exploded directory (JndiLookup present)",
           "READY" in seen and "JndiLookup present" in seen, seen[-300:])
        p = run("fix", "--format", "json", "--backup-dir", os.path.join(OUT, "bk-jvm"), os.path.join(d, "app"))
        rec = recs(p, "fix")
        ok("jvm: the directory is fixed and reported 'restart required' with the JVM's pid",
           rec and rec[0]["action"] == "fixed" and rec[0].get("restart_required") and java.pid in rec[0].get("pids", []),
           rec)
        ok("jvm: fix exits 3 while the JVM still runs the old classes",
           p.returncode == 3 and summary(p, "fix-summary").get("restart_required") == 1,
           (p.returncode, summary(p, "fix-summary")))
        open(flag, "w").close()
        out, _ = java.communicate(timeout=60)
        ok("jvm: the running JVM keeps logging", java.returncode == 0 and "still logging" in out, out[-500:])
    finally:
        if java.poll() is None:
            java.kill()
            java.wait()
    r = subprocess.run(["java", "-cp", cp, "Hello"], capture_output=True, text=True, timeout=120)
    ok("jvm: a new JVM logs through the fixed directory, and finds no JndiLookup",
       r.returncode == 0 and "hello from log4j" in r.stdout + r.stderr and "JndiLookup absent" in r.stdout,
       (r.stdout + r.stderr)[-500:])
    extract(CORE, os.path.join(d, "idle", "classes"))
    p = run("fix", "--format", "json", "--backup-dir", os.path.join(OUT, "bk-jvm"), os.path.join(d, "idle"))
    ok("jvm: control: a directory no JVM uses is fixed with exit 0, no restart",
       p.returncode == 0 and recs(p, "fix") and not recs(p, "fix")[0].get("restart_required"), p.stdout[-400:])


run_parts([exploded, done_when, too_large, tag, jvm])
