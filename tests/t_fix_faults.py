#!/usr/bin/env python3
"""t_fix_faults.py - `log4scan fix` and `restore` under bad conditions
(issue 18, "bad input and faults"): nothing lost, a clear error per file.

1. Read-only filesystem (tmpfs remounted ro): a jar and an exploded
   directory on it each fail with "read-only", exit 2, nothing changed.
2. Full filesystem (tmpfs with size=, filled): a backup directory there
   cannot take a copy: "No space left", the jar and the directory stay as
   they were; a directory on a full filesystem with its backup beside it is
   still fixed (a rename needs no space) and restored (a hard link).
3. A file replaced during the fix (strace holds fix for 3 s right after the
   manifest line is written, the test replaces the file then): the jar is
   not replaced, the class is not moved, the backup is withdrawn
   ("abandoned"), the replacement stays in place, exit 2.
4. SIGKILL at random moments of a fix of a tree of exploded directories
   (and a jar), 50 times, the backup directory on the same filesystem or on
   a tmpfs: every class is in its place or in the backup, no temporary file
   is left, and restore gives back the tree byte for byte; the kills land
   before, between and after the directories' moves.
5. A backup directory on another filesystem (tmpfs): backups are verified
   copies, not links, and restore gives every byte back.
6. A directory of 100,000 class files beside log4j-core: fixed, restored;
   time and peak memory are printed (the optimised build).
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

from fix_common import (CORE, JNDI, LOG4J1, OUT, PLAIN, backup_dir_ready, diff, extract, mount_tmpfs, ok,
                        recs, run, run_parts, snapshot, summary, umount)


def fill(path):
    """Fill the filesystem holding path to the last byte."""
    fd = os.open(os.path.join(path, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 16, 512, 1):
            try:
                while os.write(fd, b"\0" * chunk):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


# ------------------------------------------------------------- 1. read-only
def readonly():
    ro = os.path.join(OUT, "ro")
    if not ok("ro: tmpfs mounted", mount_tmpfs(ro, "16m")):
        return
    try:
        shutil.copy(CORE, ro)
        extract(CORE, os.path.join(ro, "classes"))
        subprocess.run(["mount", "-o", "remount,ro", ro], check=True)
        before = snapshot(ro)
        p = run("fix", "--format", "json", "--backup-dir", os.path.join(OUT, "bk-ro"), ro)
        rs = {os.path.basename(r["path"]): r for r in recs(p, "fix")}
        ok("ro: exit 2, each one failed with 'read-only', nothing changed",
           p.returncode == 2 and len(rs) == 2 and all(r["action"] == "failed" and "read-only" in r["message"]
                                                      for r in rs.values()) and snapshot(ro) == before, rs)
        bk = os.path.join(OUT, "bk-ro")
        man = open(os.path.join(bk, "manifest.tsv")).read()
        ok("ro: the directory's record is withdrawn (abandoned), nothing left in the backup directory",
           "\nabandoned\t" in man and sorted(os.listdir(bk)) == ["LOG4SCAN-BACKUP.TAG", "manifest.tsv"],
           (man[-300:], os.listdir(bk)))
    finally:
        umount(ro)


# ------------------------------------------------------------------ 2. full
def full():
    fb = os.path.join(OUT, "fullbk")
    if not ok("full: tmpfs mounted", mount_tmpfs(fb, "1m")):
        return
    try:
        # the backup directory exists (tag, manifest), then its filesystem is filled
        d = os.path.join(OUT, "full-tree")
        os.makedirs(d)
        shutil.copy(CORE, d)
        extract(CORE, os.path.join(d, "classes"))
        bk = os.path.join(fb, "bk")
        backup_dir_ready(bk)
        fill(fb)
        before = snapshot(d)
        p = run("fix", "--format", "json", "--backup-dir", bk, d)
        rs = {os.path.basename(r["path"]): r for r in recs(p, "fix")}
        ok("full backup filesystem: each fix fails with 'No space left', exit 2, nothing changed",
           p.returncode == 2 and len(rs) == 2 and all(r["action"] == "failed" and "No space left" in r["message"]
                                                      for r in rs.values()) and snapshot(d) == before, rs)
        left = [os.path.join(a, f) for a, _, fs in os.walk(bk) for f in fs if f not in (
            "manifest.tsv", "LOG4SCAN-BACKUP.TAG")]
        ok("full backup filesystem: no partial backup left", not left, left)
    finally:
        umount(fb)
    fs = os.path.join(OUT, "fullfs")
    if not ok("full: second tmpfs mounted", mount_tmpfs(fs, "12m")):
        return
    try:
        extract(CORE, os.path.join(fs, "app", "classes"))
        bk = os.path.join(fs, "bk")
        backup_dir_ready(bk)
        before = snapshot(os.path.join(fs, "app"))
        fill(fs)
        p = run("fix", "--format", "json", "--backup-dir", bk, os.path.join(fs, "app"))
        r = recs(p, "fix")
        ok("full filesystem, backup beside: the directory is still fixed (a rename needs no space)",
           p.returncode == 0 and r and r[0]["action"] == "fixed", (p.returncode, r, p.stderr[-300:]))
        p = run("restore", "--format", "json", "--backup-dir", bk)
        ok("full filesystem: and restored (a hard link needs no space)",
           p.returncode == 0 and [x["action"] for x in recs(p, "restore")] == ["restored"]
           and snapshot(os.path.join(fs, "app")) == before, (p.stdout[-300:], p.stderr[-200:]))
    finally:
        umount(fs)


# ---------------------------------------------------- 3. replaced during fix
def replaced():
    if not shutil.which("strace"):
        ok("replaced: strace available", False, "make deps")
        return
    for kind in ("jar", "dir"):
        d = os.path.join(OUT, "replaced-" + kind)
        os.makedirs(d)
        if kind == "jar":
            shutil.copy(CORE, os.path.join(d, "app.jar"))
            target = os.path.join(d, "app.jar")
        else:
            extract(CORE, os.path.join(d, "classes"))
            target = os.path.join(d, "classes", JNDI)
        bk = os.path.join(OUT, "bk-replaced-" + kind)
        # flock calls: 1-2 the manifest header (fixer_new), 3-4 the fix's own
        # manifest line; the 4th (LOCK_UN) waits 3 s with the line written.
        proc = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=flock", "-e",
                                 "inject=flock:delay_enter=3000000:when=4", PLAIN, "fix", "--format", "json",
                                 "--backup-dir", bk, d], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        man = os.path.join(bk, "manifest.tsv")
        want = "\nfix\t" if kind == "jar" else "\ndirfile\t"
        deadline = time.time() + 60
        while time.time() < deadline and not (os.path.exists(man) and want in open(man).read()):
            time.sleep(0.05)
        new = os.path.join(d, ".new")
        with open(new, "wb") as f:
            f.write(b"a newer build, deployed during the fix")
        os.rename(new, target)
        out, err = proc.communicate(timeout=120)
        r = [x for x in (recs(subprocess.CompletedProcess([], 0, out, err), "fix"))]
        ok("replaced %s: the fix fails, saying the file changed, exit 2" % kind,
           proc.returncode == 2 and r and r[0]["action"] == "failed" and "changed" in r[0]["message"],
           (proc.returncode, r, err[-300:]))
        ok("replaced %s: the replacement stays in place" % kind,
           open(target, "rb").read() == b"a newer build, deployed during the fix")
        m = open(man).read()
        left = [os.path.join(a, f) for a, _, fs in os.walk(bk) for f in fs if f not in (
            "manifest.tsv", "LOG4SCAN-BACKUP.TAG")]
        ok("replaced %s: the backup is withdrawn (abandoned), nothing left in the backup directory" % kind,
           "\nabandoned\t" in m and not left, (m[-300:], left))
        p = run("restore", "--format", "json", "--backup-dir", bk)
        ok("replaced %s: restore has nothing to do" % kind, p.returncode == 0 and not recs(p, "restore"),
           p.stdout[-300:])


# --------------------------------------------------------------- 4. SIGKILL
def kill_tree(t, n=5):
    for i in range(n):
        extract(CORE, os.path.join(t, "app%d" % i, "WEB-INF", "classes"))
    extract(LOG4J1, os.path.join(t, "old", "classes"))  # 26 classes to move with --fix-log4j1
    shutil.copy(CORE, os.path.join(t, "lib.jar"))


def crash():
    # Both halves on tmpfs, so that the fsyncs of fix and restore do not
    # wait for this machine's disk: a SIGKILL loses no page cache anyway.
    ta, tb = os.path.join(OUT, "crash-fs"), os.path.join(OUT, "crash-fs2")
    if not ok("crash: two tmpfs mounted", mount_tmpfs(ta, "128m") and mount_tmpfs(tb, "64m")):
        return
    rnd = random.Random(18)
    try:
        tmpl = os.path.join(ta, "template")
        kill_tree(tmpl, 3)
        want = snapshot(tmpl)
        t = os.path.join(ta, "tree")
        shutil.copytree(tmpl, t)
        t0 = time.time()
        p = run("fix", "--fix-log4j1", "--format", "json", "--backup-dir", os.path.join(ta, "bk0"), t,
                binary=PLAIN)
        full = time.time() - t0
        ok("crash: a complete run fixes the 5 items (%.2f s)" % full,
           p.returncode == 0 and summary(p, "fix-summary").get("fixed") == 5, p.stdout[-300:])
        shutil.rmtree(t)
        shutil.copytree(tmpl, t)
        problems, outcomes = [], {"none": 0, "some": 0, "all": 0}
        for i in range(50):
            # the tree is the template again: copied, or put back by the last restore (checked)
            bk = os.path.join(tb if i % 2 else ta, "bk%d" % (i + 1))
            proc = subprocess.Popen([PLAIN, "fix", "--fix-log4j1", "--format", "json", "--backup-dir", bk, t],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.2 * full, full * 1.2))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            now = snapshot(t)
            moved = [k for k in want if k not in now or now[k] != want[k]]
            left = [k for k in now if ".l4s-" in k]
            if left:
                problems.append("run %d: temporary files left: %s" % (i, left[:3]))
            fixed = sum(1 for k in want if k.endswith(JNDI) and k not in now)
            everything = fixed == 3 and "lib.jar" in moved and "old/classes/org/apache/log4j/net/JMSAppender.class" in moved
            outcomes["none" if not moved else "all" if everything else "some"] += 1
            if moved:
                r = run("restore", "--format", "json", "--backup-dir", bk, binary=PLAIN)
                after = snapshot(t)
                if r.returncode != 0 or after != want:
                    problems.append("run %d: restore: rc %d, %s" % (i, r.returncode, diff(want, after)))
                    shutil.rmtree(t)
                    shutil.copytree(tmpl, t)
            for n in left:
                os.unlink(os.path.join(t, n))
            shutil.rmtree(bk, ignore_errors=True)
        ok("crash: after 50 SIGKILLs every class and file is in place or in the backup, and restore gives back "
           "the tree byte for byte (%(none)d untouched, %(some)d part-way, %(all)d all fixed)" % outcomes,
           not problems, problems[:3])
        ok("crash: kills landed before, during and after the moves", all(outcomes.values()), outcomes)
    finally:
        umount(ta)
        umount(tb)


# ------------------------------------------------------------ 5. other fs
def other_fs():
    tb = os.path.join(OUT, "otherfs")
    if not ok("otherfs: tmpfs mounted", mount_tmpfs(tb, "64m")):
        return
    try:
        d = os.path.join(OUT, "otherfs-tree")
        kill_tree(d)
        before = snapshot(d)
        bk = os.path.join(tb, "bk")
        p = run("fix", "--fix-log4j1", "--format", "json", "--backup-dir", bk, d)
        rs = recs(p, "fix")
        ok("otherfs: everything fixed with the backup on a tmpfs", p.returncode == 0 and len(rs) == 7
           and all(r["action"] == "fixed" for r in rs), (p.returncode, rs[:2]))
        dev = os.stat(d).st_dev
        files = [os.path.join(a, f) for a, _, fs in os.walk(bk) for f in fs if f.endswith(".class") or f.endswith(".jar")]
        moved = sum(len(r["removed"]) if os.path.isdir(r["path"]) else 1 for r in rs)
        ok("otherfs: the backups are copies on the other filesystem (%d files)" % len(files),
           len(files) == moved and moved == 5 + 24 + 1
           and all(os.stat(f).st_dev != dev and os.stat(f).st_nlink == 1 for f in files), (len(files), moved))
        p = run("restore", "--format", "json", "--backup-dir", bk)
        ok("otherfs: restore gives back every byte, mode and mtime", p.returncode == 0 and snapshot(d) == before,
           diff(before, snapshot(d)))
    finally:
        umount(tb)


# ------------------------------------------------------------- 6. 100,000
def many():
    d = os.path.join(OUT, "many", "classes")
    extract(CORE, d)
    cls = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes([0, 3, 1, 0, 1, 65, 7, 0, 1, 0, 33, 0, 2, 0, 0]) + bytes(6)
    for p in range(100):
        pd = os.path.join(d, "com", "acme", "gen", "p%02d" % p)
        os.makedirs(pd)
        for c in range(1000):
            with open(os.path.join(pd, "C%03d.class" % c), "wb") as f:
                f.write(cls)
    before = snapshot(os.path.join(OUT, "many"))
    n = len(before)
    bk = os.path.join(OUT, "bk-many")
    # the peak RSS of that one process, measured by a wrapper that runs only it
    wrap = "import resource, subprocess, sys; subprocess.run(sys.argv[1:]); " \
           "sys.stderr.write('RSS %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    t0 = time.time()
    p = subprocess.run([sys.executable, "-c", wrap, PLAIN, "fix", "--format", "json", "--backup-dir", bk,
                        os.path.join(OUT, "many")], capture_output=True, text=True)
    secs = time.time() - t0
    m = re.search(r"RSS (\d+)", p.stderr)
    rss = int(m.group(1)) if m else 1 << 40
    rs = recs(p, "fix")
    sys.stderr.write("many: %d files, fix %.1f s, peak RSS %d MiB\n" % (n, secs, rss // 1024))
    ok("many: a class directory of %d files is fixed (%.1f s, peak RSS %d MiB)" % (n, secs, rss // 1024),
       p.returncode == 0 and rs and rs[0]["action"] == "fixed" and rs[0]["removed"] == [os.path.join(d, JNDI)],
       (p.returncode, rs[:1], p.stderr[-300:]))
    ok("many: memory stays bounded (peak RSS under 256 MiB)", rss < 256 * 1024, rss)
    p = run("restore", "--format", "json", "--backup-dir", bk, binary=PLAIN)
    ok("many: restore gives back every byte", p.returncode == 0 and snapshot(os.path.join(OUT, "many")) == before)
    shutil.rmtree(os.path.join(OUT, "many"))  # 100,000 files: not kept for the next run to delete


run_parts([readonly, full, replaced, crash, other_fs, many])
