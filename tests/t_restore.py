#!/usr/bin/env python3
"""t_restore.py - `log4scan restore` beyond the plain undo (issue 18 point 5
and 6, issue 23 point 5).

1. --list shows every fix of the manifest (text and JSON) with its state:
   active, then restored, forgotten or pruned.
2. A file changed since the fix (an upgrade) is refused, exit 2; --forget
   PATH drops the entry and keeps the backup file; --force PATH puts the
   original back and keeps the current file as NAME.replaced; the same for
   a class of an exploded directory.  --force and --forget need a PATH.
3. --prune-older-than DAYS removes the backups of fixes older than DAYS
   whose file is still the one fix wrote (or, restored since, still the
   original), keeps and names the others, and then restore does not try
   the pruned ones; --dry-run removes nothing.
4. A backup directory without a manifest: "nothing to restore", exit 0,
   when a fix was killed before its first backup (empty, or only the tag);
   exit 2 when it holds other files.
5. A manifest with hostile lines (a backup name with "..", a class path
   climbing out of its directory, cut lines, bad hashes): those lines are
   ignored, nothing outside the backup directory is read or written.
"""
import os
import shutil
import time

from fix_common import CORE, JNDI, OUT, diff, extract, ok, recs, run, run_parts, sha, snapshot, summary


def setup(name):
    d = os.path.join(OUT, name)
    os.makedirs(d)
    shutil.copy(CORE, os.path.join(d, "a.jar"))
    shutil.copy(CORE, os.path.join(d, "b.jar"))
    extract(CORE, os.path.join(d, "classes"))
    bk = os.path.join(OUT, "bk-" + name)
    before = snapshot(d)
    p = run("fix", "--format", "json", "--backup-dir", bk, d)
    ok(name + ": setup fix", p.returncode == 0 and summary(p, "fix-summary").get("fixed") == 3, p.stdout[-300:])
    return d, bk, before


def listing():
    d, bk, before = setup("list")
    p = run("restore", "--list", "--format", "json", "--backup-dir", bk)
    es = recs(p, "restore-entry")
    ok("list: three active entries, a dir with its class count",
       p.returncode == 0 and len(es) == 3 and all(e["state"] == "active" for e in es)
       and [e["classes"] for e in es if e["type"] == "dir"] == [1]
       and {os.path.basename(e["path"]) for e in es} == {"a.jar", "b.jar", "classes"}, es)
    ok("list: writes nothing", snapshot(d) != before and os.path.exists(os.path.join(d, "a.jar")))
    p = run("restore", "--list", "--format", "text", "--backup-dir", bk)
    lines = p.stdout.splitlines()
    ok("list: text, one line per fix and a count", len(lines) == 4 and "active" in lines[0]
       and "dir (1 class)" in p.stdout and lines[-1] == "3 fixes recorded", lines)
    run("restore", "--format", "json", "--backup-dir", bk, os.path.join(d, "a.jar"))
    p = run("restore", "--list", "--format", "json", "--backup-dir", bk)
    st = {os.path.basename(e["path"]): e["state"] for e in recs(p, "restore-entry")}
    ok("list: a restored entry says so", st == {"a.jar": "restored", "b.jar": "active", "classes": "active"}, st)


def changed():
    d, bk, before = setup("changed")
    a, cls = os.path.join(d, "a.jar"), os.path.join(d, "classes")
    # "upgrades": a.jar and b.jar replaced by other bytes, a JndiLookup.class put back by someone
    for n in ("a.jar", "b.jar"):
        with open(os.path.join(d, n), "wb") as f:
            f.write(b"PK\x05\x06" + bytes(18) + n.encode())
    up = open(a, "rb").read()
    with open(os.path.join(cls, JNDI), "wb") as f:
        f.write(b"\xca\xfe\xba\xbe new build")
    p = run("restore", "--format", "json", "--backup-dir", bk)
    rs = {os.path.basename(r["path"]): r for r in recs(p, "restore")}
    ok("changed: files changed since the fix are refused, exit 2, the message offers --force and --forget",
       p.returncode == 2 and all(r["action"] == "refused" for r in rs.values()) and len(rs) == 3
       and "--force" in rs["a.jar"]["message"] and "--forget" in rs["a.jar"]["message"], rs)
    p = run("restore", "--force", "--format", "json", "--backup-dir", bk)
    ok("changed: --force without PATH is refused", p.returncode == 2 and "PATH" in p.stderr, p.stderr)
    p = run("restore", "--forget", "--format", "json", "--backup-dir", bk)
    ok("changed: --forget without PATH is refused", p.returncode == 2 and "PATH" in p.stderr, p.stderr)
    p = run("restore", "--forget", "--format", "json", "--backup-dir", bk, os.path.join(d, "b.jar"))
    r = recs(p, "restore")
    ok("changed: --forget drops the entry, the backup file stays",
       p.returncode == 0 and len(r) == 1 and r[0]["action"] == "forgotten" and os.path.isfile(r[0]["backup"])
       and sha(r[0]["backup"]) == sha(CORE), r)
    p = run("restore", "--force", "--format", "json", "--backup-dir", bk, a, cls)
    rs = {os.path.basename(r["path"]): r for r in recs(p, "restore")}
    ok("changed: --force PATH puts the originals back (file and class)",
       p.returncode == 0 and rs.get("a.jar", {}).get("action") == "restored"
       and rs.get("classes", {}).get("action") == "restored" and sha(a) == sha(CORE)
       and sha(os.path.join(cls, JNDI)) == before[os.path.join("classes", JNDI)][0], rs)
    ok("changed: --force keeps what it replaced as .replaced",
       open(a + ".replaced", "rb").read() == up
       and open(os.path.join(cls, JNDI + ".replaced"), "rb").read() == b"\xca\xfe\xba\xbe new build",
       os.listdir(d))
    p = run("restore", "--format", "json", "--backup-dir", bk)
    ok("changed: afterwards nothing is left to restore (b.jar forgotten)",
       p.returncode == 0 and not recs(p, "restore"), p.stdout[-300:])
    # a fixed file that was deleted: refused, --force puts it back
    d2, bk2, before2 = setup("deleted")
    os.unlink(os.path.join(d2, "a.jar"))
    p = run("restore", "--format", "json", "--backup-dir", bk2, os.path.join(d2, "a.jar"))
    ok("deleted: a fixed file removed since is refused", p.returncode == 2 and
       recs(p, "restore")[0]["action"] == "refused", p.stdout[-300:])
    p = run("restore", "--force", "--format", "json", "--backup-dir", bk2, os.path.join(d2, "a.jar"))
    ok("deleted: --force puts it back", p.returncode == 0 and sha(os.path.join(d2, "a.jar")) == sha(CORE),
       p.stdout[-300:])


def prune():
    d, bk, before = setup("prune")
    p = run("restore", "--prune-older-than", "1", "--format", "json", "--backup-dir", bk)
    ok("prune: fixes younger than the cut-off are not touched",
       p.returncode == 0 and not recs(p, "restore") and len(os.listdir(bk)) == 5, (p.stdout[-300:], os.listdir(bk)))
    time.sleep(1.1)
    with open(os.path.join(d, "b.jar"), "wb") as f:
        f.write(b"upgraded")
    p = run("restore", "--prune-older-than", "0", "--dry-run", "--format", "json", "--backup-dir", bk)
    rs = {os.path.basename(r["path"]): r["action"] for r in recs(p, "restore")}
    ok("prune: --dry-run says what would go and removes nothing",
       rs == {"a.jar": "would-prune", "b.jar": "kept", "classes": "would-prune"} and len(os.listdir(bk)) == 5, rs)
    p = run("restore", "--prune-older-than", "0", "--format", "json", "--backup-dir", bk)
    rs = {os.path.basename(r["path"]): r for r in recs(p, "restore")}
    ok("prune: backups of fixes still in place are removed, a changed file's is kept and named",
       p.returncode == 0 and rs["a.jar"]["action"] == "pruned" and not os.path.exists(rs["a.jar"]["backup"])
       and rs["classes"]["action"] == "pruned" and not os.path.exists(rs["classes"]["backup"])
       and rs["b.jar"]["action"] == "kept" and "changed" in rs["b.jar"]["message"]
       and os.path.isfile(rs["b.jar"]["backup"]), rs)
    p = run("restore", "--list", "--format", "json", "--backup-dir", bk)
    st = {os.path.basename(e["path"]): e["state"] for e in recs(p, "restore-entry")}
    ok("prune: the manifest says pruned", st == {"a.jar": "pruned", "b.jar": "active", "classes": "pruned"}, st)
    p = run("restore", "--format", "json", "--backup-dir", bk, os.path.join(d, "a.jar"))
    ok("prune: restore no longer tries a pruned fix", p.returncode == 0 and not recs(p, "restore"), p.stdout[-300:])
    # a restored fix: its backup is redundant while the original is in place
    d2, bk2, before2 = setup("prune-restored")
    run("restore", "--format", "json", "--backup-dir", bk2)
    ok("prune-restored: restore gave the tree back", snapshot(d2) == before2, diff(before2, snapshot(d2)))
    time.sleep(1.1)
    p = run("restore", "--prune-older-than", "0", "--format", "json", "--backup-dir", bk2)
    ok("prune-restored: backups of restored fixes are pruned, the tree is untouched",
       p.returncode == 0 and [r["action"] for r in recs(p, "restore")] == ["pruned"] * 3
       and sorted(os.listdir(bk2)) == ["LOG4SCAN-BACKUP.TAG", "manifest.tsv"] and snapshot(d2) == before2,
       (p.stdout[-300:], os.listdir(bk2)))
    p = run("restore", "--prune-older-than", "x", "--backup-dir", bk2)
    ok("prune: a bad DAYS is refused", p.returncode == 2 and "days" in p.stderr, p.stderr)


def empty():
    e = os.path.join(OUT, "empty")
    os.makedirs(e)
    p = run("restore", "--format", "text", "--backup-dir", e)
    ok("empty: an empty backup directory is nothing to restore, exit 0, said so",
       p.returncode == 0 and "nothing to restore" in p.stdout, (p.returncode, p.stdout, p.stderr))
    open(os.path.join(e, "LOG4SCAN-BACKUP.TAG"), "w").write("Signature: f871a864224b0b7e31b161feb5b99318\n")
    p = run("restore", "--format", "json", "--backup-dir", e)
    ok("empty: only the tag (a fix killed before its manifest): nothing to restore, exit 0",
       p.returncode == 0 and "nothing to restore" in summary(p, "restore-summary").get("message", ""), p.stdout)
    open(os.path.join(e, "20240101T000000Z-1-1-app.jar"), "w").write("x")
    p = run("restore", "--format", "json", "--backup-dir", e)
    ok("empty: files but no manifest: exit 2, said so", p.returncode == 2 and "no manifest" in p.stderr, p.stderr)
    p = run("restore", "--format", "json", "--backup-dir", os.path.join(OUT, "nonexistent"))
    ok("empty: a backup directory that does not exist: exit 2", p.returncode == 2 and "cannot open" in p.stderr)


def hostile():
    d, bk, before = setup("hostile")
    secret = os.path.join(OUT, "secret.txt")
    open(secret, "w").write("do not copy me")
    victim = os.path.join(OUT, "victim.txt")
    open(victim, "w").write("do not overwrite me")
    z = "0" * 64
    lines = [
        "fix\tevil1\t1\t%s\t../secret.txt\t%s\t%s\t0\t0\t644\t0\t0" % (victim, z, sha(victim)),
        "fix\tevil2\t1\t%s\t/etc/passwd\t%s\t%s\t0\t0\t644\t0\t0" % (victim, z, sha(victim)),
        "fix\tevil3\t1\trelative/path\tx\t%s\t%s\t0\t0\t644\t0\t0" % (z, z),
        "dir\tevil4\t1\t%s\tevil4\t1" % OUT,
        "dirfile\tevil4\t../secret.txt\t%s\t1\t0\t0\t644\t0\t0" % z,
        "dirfile\tevil4\ta//b\t%s\t1\t0\t0\t644\t0\t0" % z,
        "fix\tcut\t1\t%s" % victim,
        "fix\tbadhash\t1\t%s\tx\tzz\tyy\t0\t0\t644\t0\t0" % victim,
    ]
    with open(os.path.join(bk, "manifest.tsv"), "a") as f:
        f.write("\n".join(lines) + "\n")
    p = run("restore", "--list", "--format", "json", "--backup-dir", bk)
    ids = [e["id"] for e in recs(p, "restore-entry")]
    ok("hostile: unsafe lines are ignored by --list (only the 3 real fixes and the empty dir record)",
       len([i for i in ids if not i.startswith("evil")]) == 3 and "evil1" not in ids and "evil2" not in ids
       and "evil3" not in ids, ids)
    p = run("restore", "--format", "json", "--backup-dir", bk)
    ok("hostile: restore puts the real fixes back, exit 0 (no unsafe line acted on), touches nothing outside",
       p.returncode == 0 and snapshot(d) == before and open(victim).read() == "do not overwrite me"
       and open(secret).read() == "do not copy me", (p.stdout[-400:], diff(before, snapshot(d))))


run_parts([listing, changed, prune, empty, hostile])
