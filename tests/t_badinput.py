#!/usr/bin/env python3
"""t_badinput.py - hostile and broken input: every item gets an error record
or is skipped with a reason, the scan goes on (a good jar beside the bad
ones is still found), memory stays bounded and nothing hangs.

Built at test time in a world-readable temporary tree (from corpus jars):
corrupt, truncated and encrypted archives; garbage with a .jar name; zip
bombs (the r.zip quine, an overlapping-entry bomb whose entries are named
.jar and .class so the scanner does inflate them, a 20-deep nesting); FIFOs,
sockets and device files (in a tree and named on the command line, where
opening a FIFO would block forever); unreadable files and directories
(scanned as `nobody` through setpriv, since root bypasses permissions);
symlink loops with and without --follow-symlinks; names with newlines and
names that are not UTF-8 (U+FFFD in "path", exact bytes in "path_b64").
Every scan runs under `timeout`."""
import base64
import json
import os
import resource
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

L4S = os.environ["L4S"]
CORPUS = os.environ["CORPUS"].rstrip("/") + "/"
J2141 = CORPUS + "log4j-samples/true-hits/log4j-core-2.14.1.jar"
J2171 = CORPUS + "log4j-samples/false-hits/log4j-core-2.17.1.jar"
RZIP = CORPUS + "google-testdata/zipbombs/r.zip"
ZBSM = CORPUS + "google-testdata/zipbombs/zbsm.jar"
TIMEOUT = 120


def ok(name, cond, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond or not why else " - " + str(why)[:600]))
    return cond


class Result:
    def __init__(self, p, elapsed_rss):
        self.rc = p.returncode
        self.stderr = p.stderr.decode("utf-8", "replace")
        self.recs = []
        self.bad_lines = []
        for line in p.stdout.splitlines():
            try:
                self.recs.append(json.loads(line))
            except ValueError:
                self.bad_lines.append(line)
        self.rss_mb = elapsed_rss

    def of(self, kind):
        return [r for r in self.recs if r.get("kind") == kind]

    def path(self, r):
        return base64.b64decode(r["path_b64"]) if "path_b64" in r else r["path"].encode()

    def errors_at(self, path):
        p = path.encode() if isinstance(path, str) else path
        return [r["error"] for r in self.of("error") if self.path(r) == p]

    def findings_at(self, path):
        p = path.encode() if isinstance(path, str) else path
        return [r for r in self.of("finding") if self.path(r) == p]

    def summary(self):
        s = self.of("summary")
        return s[-1] if s else {}


def scan(*args, user=None, timeout=TIMEOUT):
    cmd = [L4S, "scan", "--format", "json", *args]
    if user:
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        p = subprocess.run(["timeout", "-k", "5", str(timeout)] + cmd, capture_output=True, stdin=subprocess.DEVNULL)
    except Exception as e:  # pragma: no cover
        raise SystemExit("cannot run %s: %s" % (cmd, e))
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = Result(p, max(before, after) / 1024.0)
    if p.returncode == 124:
        ok("scan %s finished within %ds" % (" ".join(args[-1:]), timeout), False, "timed out")
    return r


def overlap_bomb(names, kernel_bytes):
    """Overlapping-entry bomb (bamsoftware style, simplified): one deflated
    kernel of zeros, many central-directory entries that all point at it."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    comp = b"".join(c.compress(chunk) for _ in range(kernel_bytes >> 20)) + c.flush()
    crc = 0
    for _ in range(kernel_bytes >> 20):
        crc = zlib.crc32(chunk, crc)
    name0 = names[0].encode()
    out = bytearray(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(comp), kernel_bytes,
                                len(name0), 0) + name0 + comp)
    cd = bytearray()
    for n in names:
        nb = n.encode()
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(comp), kernel_bytes,
                          len(nb), 0, 0, 0, 0, 0, 0) + nb
    off = len(out)
    out += cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(cd), off, 0)
    return bytes(out)


def stored_zip(entries):
    import io
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        for n, d in entries:
            z.writestr(n, d)
    return b.getvalue()


def main():
    top = tempfile.mkdtemp(prefix="l4s-badinput-")
    os.chmod(top, 0o755)
    try:
        run(top)
    finally:
        for dp, dns, fns in os.walk(top):
            for d in dns:
                q = os.path.join(dp, d)
                if not os.path.islink(q):
                    os.chmod(q, 0o755)
        shutil.rmtree(top, ignore_errors=True)


def run(top):
    t = os.path.join(top, "tree")
    os.makedirs(t)
    good = os.path.join(t, "good", "log4j-core-2.14.1.jar")
    os.makedirs(os.path.dirname(good))
    shutil.copy(J2141, good)
    data = open(J2141, "rb").read()

    # -- broken archives ------------------------------------------------
    b = os.path.join(t, "broken")
    os.makedirs(b)
    # central directory damaged (signature of the first header overwritten)
    cd = bytearray(data)
    i = cd.rfind(b"PK\x05\x06")
    cd_off = struct.unpack("<I", cd[i + 16:i + 20])[0]
    cd[cd_off:cd_off + 4] = b"XXXX"
    open(os.path.join(b, "corrupt-cd.jar"), "wb").write(cd)
    open(os.path.join(b, "truncated-half.jar"), "wb").write(data[:len(data) // 2])
    open(os.path.join(b, "truncated-tail.jar"), "wb").write(data[:-7])
    open(os.path.join(b, "middle-cut.jar"), "wb").write(data[:1000] + data[200000:])
    open(os.path.join(b, "garbage.jar"), "wb").write(os.urandom(5000))
    open(os.path.join(b, "empty.jar"), "wb").write(b"")
    open(os.path.join(b, "garbage-noext"), "wb").write(os.urandom(5000))
    # end record says the central directory is bigger than the file
    big = bytearray(data)
    big[i + 12:i + 16] = struct.pack("<I", 0x7FFFFFFF)
    open(os.path.join(b, "cd-too-big.jar"), "wb").write(big)
    # every evidence entry's local header destroyed: the archive opens, the entries fail
    lh = bytearray(data)
    with zipfile.ZipFile(J2141) as z:
        for info in z.infolist():
            if info.filename.endswith(("JndiLookup.class", "JndiManager.class")):
                lh[info.header_offset:info.header_offset + 4] = b"QQQQ"
    open(os.path.join(b, "bad-local-headers.jar"), "wb").write(lh)
    # encrypted (ZipCrypto) with the Info-ZIP CLI
    enc = os.path.join(b, "encrypted.jar")
    unz = os.path.join(top, "unz")
    have_zip = shutil.which("zip") and shutil.which("unzip")
    if have_zip:
        subprocess.run(["unzip", "-q", J2141, "-d", unz], check=True)
        subprocess.run(["zip", "-q", "-r", "-P", "secret", enc, "."], cwd=unz, check=True)
    else:
        ok("Info-ZIP zip/unzip installed", False)

    # -- bombs ------------------------------------------------------------
    bo = os.path.join(t, "bombs")
    os.makedirs(bo)
    shutil.copy(RZIP, os.path.join(bo, "r.zip"))
    shutil.copy(ZBSM, os.path.join(bo, "zbsm.jar"))
    # 24 entries x 64 MiB = 1.5 GiB if all were inflated
    open(os.path.join(bo, "overlap.jar"), "wb").write(
        overlap_bomb(["lib/a%02d.jar" % k for k in range(24)], 64 << 20))
    open(os.path.join(bo, "overlap-classes.jar"), "wb").write(
        overlap_bomb(["org/apache/logging/log4j/core/lookup/JndiLookup.class"] +
                     ["x%03d/lookup/JndiLookup.class" % k for k in range(200)], 8 << 20))
    nest = stored_zip([("log4j-core-2.17.1.jar", open(J2171, "rb").read())])
    for k in range(20):
        nest = stored_zip([("level%d.jar" % k, nest)])
    open(os.path.join(bo, "deep20.jar"), "wb").write(nest)

    # -- special files ----------------------------------------------------
    sp = os.path.join(t, "special")
    os.makedirs(sp)
    fifo = os.path.join(sp, "pipe.jar")
    os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX)
    sock_path = os.path.join(sp, "sock.jar")
    sock.bind(sock_path)
    dev = os.path.join(sp, "null.jar")
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        os.symlink("/dev/null", dev)

    # -- names --------------------------------------------------------------
    nm = os.path.join(t, "names")
    os.makedirs(nm)
    nl = os.path.join(nm, "evil\nVULNERABLE fake.jar")
    shutil.copy(J2171, nl)
    latin = os.path.join(nm.encode(), b"caf\xe9-\xff.jar")
    shutil.copy(J2141, latin)

    # -- symlinks -----------------------------------------------------------
    ln = os.path.join(t, "links")
    os.makedirs(os.path.join(ln, "a", "b"))
    os.symlink("..", os.path.join(ln, "a", "b", "up"))
    os.symlink(".", os.path.join(ln, "self"))
    os.symlink("loop2", os.path.join(ln, "loop1"))
    os.symlink("loop1", os.path.join(ln, "loop2"))
    os.symlink(os.path.join(top, "outside"), os.path.join(ln, "to-outside"))
    os.makedirs(os.path.join(top, "outside"))
    shutil.copy(J2171, os.path.join(top, "outside", "log4j-core-2.17.1.jar"))

    # ======================================================================
    r = scan("--threads", "2", t)
    ok("bad input: tree scan completes (exit 1: the good jar)", r.rc == 1, "exit %d %s" % (r.rc, r.stderr[-300:]))
    ok("bad input: every output line is JSON", not r.bad_lines, r.bad_lines[:3])
    ok("bad input: summary last", bool(r.recs) and r.recs[-1].get("kind") == "summary")
    ok("bad input: good jar beside bad ones still found",
       [f["status"] for f in r.findings_at(good)] == ["vulnerable"], r.findings_at(good))

    def err(path, *subs, label=None):
        es = r.errors_at(path)
        name = "bad input: %s -> error (%s)" % (label or os.path.relpath(path, t), " | ".join(subs))
        ok(name, any(any(s in e for s in subs) for e in es), es or "no error record")

    err(os.path.join(b, "corrupt-cd.jar"), "bad signature")
    err(os.path.join(b, "truncated-half.jar"), "not a zip archive")
    err(os.path.join(b, "truncated-tail.jar"), "not a zip archive", "truncated")
    # bytes cut from the middle: the central directory survives, but now
    # lies before where its end record declares it; the JDK refuses such an
    # archive whole (its "bad central directory offset"), and so does log4scan
    err(os.path.join(b, "middle-cut.jar"), "bad central directory offset")
    err(os.path.join(b, "garbage.jar"), "not a zip archive")
    err(os.path.join(b, "empty.jar"), "not a zip archive")
    err(os.path.join(b, "cd-too-big.jar"), "bad central directory size")
    ok("bad input: garbage without an archive name is silently passed over",
       not r.errors_at(os.path.join(b, "garbage-noext")) and not r.findings_at(os.path.join(b, "garbage-noext")))
    # destroyed local headers: errors for the entries, named with !/
    lherr = [e for x in r.of("error") for e in [x["error"]]
             if x["path"].startswith(os.path.join(b, "bad-local-headers.jar") + "!/")]
    ok("bad input: bad local headers -> per-entry errors", any("local header" in e for e in lherr), lherr)
    if have_zip:
        encerr = [x["error"] for x in r.of("error") if x["path"].startswith(enc + "!/")]
        ok("bad input: encrypted jar -> 'encrypted entry' errors", any("encrypted" in e for e in encerr),
           encerr or r.errors_at(enc))
        ok("bad input: encrypted jar is not called safe",
           all(f["status"] != "safe" for f in r.findings_at(enc)), r.findings_at(enc))

    err(os.path.join(bo, "r.zip") + "!/r/r.zip!/r/r.zip", "contains itself", label="r.zip quine")
    ok("bad input: zbsm overlapping bomb gives no finding", not r.findings_at(os.path.join(bo, "zbsm.jar")))
    ov = [x["error"] for x in r.of("error") if x["path"].startswith(os.path.join(bo, "overlap.jar"))]
    ok("bad input: overlap bomb (.jar entries) hits the inflation budget",
       any("budget" in e or "--max-inflate" in e for e in ov), ov[:5])
    ovc = [x["error"] for x in r.of("error") if x["path"].startswith(os.path.join(bo, "overlap-classes.jar"))]
    ok("bad input: overlap bomb (.class entries) refused by the class size cap",
       any("exceeds" in e or "budget" in e for e in ovc), ovc[:5])
    deep = [x for x in r.of("error") if x["path"].startswith(os.path.join(bo, "deep20.jar"))]
    ok("bad input: 20-deep nesting stops at --max-depth with an error",
       any("--max-depth" in x["error"] for x in deep), [x["error"] for x in deep][:3])
    ok("bad input: scan memory stays bounded (max RSS %.0f MiB < 1500)" % r.rss_mb, r.rss_mb < 1500)

    s = r.summary()
    want_nr = 2 if os.path.islink(dev) else 3  # mknod may be refused in a container
    ok("bad input: FIFO/socket/device in a tree are counted, not opened",
       s.get("not_regular", 0) >= want_nr, "not_regular=%r" % s.get("not_regular"))
    ok("bad input: symlinks not followed by default are counted", s.get("symlinks_not_followed", 0) >= 5,
       s.get("symlinks_not_followed"))
    ok("bad input: outside target not reached without --follow-symlinks",
       not [f for f in r.of("finding") if "outside" in f["path"]])

    nlf = r.findings_at(nl)
    ok("bad input: file name with a newline found, exact path in JSON",
       len(nlf) == 1 and nlf[0]["status"] == "safe" and "\n" in nlf[0]["path"], nlf)
    lf = r.findings_at(latin)
    ok("bad input: non-UTF-8 file name found (matched through path_b64)", len(lf) == 1, lf)
    if lf:
        f = lf[0]
        ok("bad input: non-UTF-8 name has U+FFFD in path", "\ufffd-\ufffd.jar" in f["path"], f["path"])
        raw_path = base64.b64decode(f.get("path_b64", ""))
        ok("bad input: path_b64 round-trips to a file that exists", raw_path == latin and os.path.exists(raw_path),
           raw_path)

    # -- special files named on the command line: refused, never opened
    for pth, what in ((fifo, "FIFO"), (sock_path, "socket"), ("/dev/zero", "character device")):
        rr = scan(pth, timeout=30)
        es = rr.errors_at(pth)
        ok("bad input: %s named on the command line -> skipped with reason" % what,
           rr.rc != 124 and any("skipped" in e and what.split()[-1] in e for e in es), es or rr.stderr[-200:])
    if os.path.exists(dev) and not os.path.islink(dev):
        rr = scan(dev, timeout=30)
        ok("bad input: device node named on the command line -> skipped",
           any("device" in e for e in rr.errors_at(dev)), rr.errors_at(dev))

    # -- symlink loops with --follow-symlinks
    rr = scan("--follow-symlinks", ln, timeout=60)
    ok("bad input: --follow-symlinks over loops completes", rr.rc in (0, 1), "exit %d" % rr.rc)
    sk = rr.summary().get("skipped", [])
    ok("bad input: --follow-symlinks reports the loop as skipped",
       any("already visited" in x["reason"] for x in sk), sk)
    out = [f for f in rr.of("finding") if f["path"].endswith("log4j-core-2.17.1.jar")]
    ok("bad input: --follow-symlinks reaches the linked directory once", len(out) == 1, [f["path"] for f in out])
    ok("bad input: --follow-symlinks: a link loop between two names gets an error record",
       any("symbolic links" in e for e in rr.errors_at(os.path.join(ln, "loop1")) + rr.errors_at(os.path.join(ln, "loop2"))),
       [x for x in rr.of("error")][:3])

    # -- caps on the command line
    # a nested archive above --max-nested-size is either streamed (and its
    # Log4j still found) or refused with an error naming the cap: never
    # silently dropped, never buffered whole
    # budget: each bomb entry gets its share and is abandoned, with one
    # record for the archive, not one per entry
    rr = scan("--max-nested-size", "1", os.path.join(bo, "overlap.jar"))
    es = rr.errors_at(os.path.join(bo, "overlap.jar"))
    ok("bad input: --max-nested-size 1: the 24 abandoned bomb entries get one record, naming the count",
       len(rr.of("error")) == 1 and any("24 of 24 nested archives" in e for e in es), rr.of("error")[:3])
    big = os.path.join(top, "bignested.war")
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(J2141, "WEB-INF/lib/log4j-core-2.14.1.jar")  # 1.7 MB inflated
    rr = scan("--max-nested-size", "1", big)
    inner = big + "!/WEB-INF/lib/log4j-core-2.14.1.jar"
    fs, es = rr.findings_at(inner), rr.errors_at(inner)
    ok("bad input: nested jar above --max-nested-size: found (streamed) or error naming the cap",
       [f["status"] for f in fs] == ["vulnerable"] or any("--max-nested-size" in e for e in es), (fs, es))
    rr = scan("--max-inflate", "100", os.path.join(bo, "overlap.jar"))
    es = [x["error"] for x in rr.of("error")]
    ok("bad input: --max-inflate cap named in the one error record", len(es) == 1 and "--max-inflate" in es[0], es[:3])

    # -- unreadable files and directories, as nobody
    u = os.path.join(top, "perm")
    os.makedirs(os.path.join(u, "locked"))
    os.makedirs(os.path.join(u, "open"))
    shutil.copy(J2141, os.path.join(u, "locked", "log4j-core-2.14.1.jar"))
    shutil.copy(J2141, os.path.join(u, "open", "log4j-core-2.14.1.jar"))
    shutil.copy(J2141, os.path.join(u, "open", "secret.jar"))
    os.chmod(os.path.join(u, "open", "secret.jar"), 0)
    os.chmod(os.path.join(u, "locked"), 0)
    os.chmod(u, 0o755)
    os.chmod(os.path.join(u, "open"), 0o755)
    for pth in (os.path.join(u, "open", "log4j-core-2.14.1.jar"),):
        os.chmod(pth, 0o644)
    probe = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", L4S, "--version"],
                           capture_output=True)
    if not ok("bad input: scanner runs as nobody via setpriv", probe.returncode == 0, probe.stderr[-200:]):
        return
    rr = scan(u, user="nobody")
    ok("bad input (nobody): scan continues past unreadable items (exit 1)", rr.rc == 1, "exit %d" % rr.rc)
    ok("bad input (nobody): readable jar found",
       len(rr.findings_at(os.path.join(u, "open", "log4j-core-2.14.1.jar"))) == 1)
    es = rr.errors_at(os.path.join(u, "open", "secret.jar"))
    ok("bad input (nobody): unreadable file -> error record", any("ermission" in e for e in es), es)
    es = rr.errors_at(os.path.join(u, "locked"))
    ok("bad input (nobody): unreadable directory -> error record", any("ermission" in e for e in es), es)
    sk = rr.summary().get("skipped", [])
    ok("bad input (nobody): summary skipped lists the unreadable directory",
       any(x["path"] == os.path.join(u, "locked") and "ermission" in x["reason"] for x in sk), sk)
    # nothing readable at all: exit 2
    rr = scan(os.path.join(u, "locked"), user="nobody")
    ok("bad input (nobody): only root is an unreadable directory -> exit 2", rr.rc == 2, "exit %d" % rr.rc)
    rr = scan(os.path.join(u, "open", "secret.jar"), user="nobody")
    ok("bad input (nobody): only root is an unreadable file -> exit 2", rr.rc == 2, "exit %d" % rr.rc)
    rr = scan(os.path.join(top, "does-not-exist"))
    ok("bad input: only root does not exist -> exit 2", rr.rc == 2, "exit %d" % rr.rc)
    rr = scan(os.path.join(top, "does-not-exist"), os.path.join(u, "open"))
    ok("bad input: one missing root among readable ones -> scan goes on (exit 1)", rr.rc == 1, "exit %d" % rr.rc)
    sock.close()


main()
