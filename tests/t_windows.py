#!/usr/bin/env python3
"""t_windows.py - the Windows agent (build/win/log4scan.exe, `make windows`)
under Wine, compared with the Linux agent on the same inputs (issue #10).

Skipped, with one line saying why, when mingw-w64 or Wine is missing.
Wine runs in a private prefix under $OUT (created once per run, no display
needed: WINEDEBUG=-all, Mono and Gecko installers disabled), where Z:\\ is /.

1. The Linux end-to-end tests pointed at the Windows build through
   tests/win/wine-l4s.py (Linux paths in, Windows paths out and back):
   t_corpus (every manifest row), t_generated (held-out-style archive
   shapes) and t_logs.  Their checks count here, prefixed "wine ".  Under
   Wine a Unix symbolic link is an ordinary file to Windows programs (on
   Windows, links are reparse points, which the walk passes over), so the
   few t_logs checks about its one symlink are reported as excused by name.
2. Direct comparisons, Linux build vs Windows build, identical apart from
   path syntax: scan of the corpus (findings and errors, JSON), logs over the
   t_logs tree without its symlink (every attempt record), fix of the
   corpus's fixable archives and t_generated's tree (same records; every
   fixed file byte-identical, or - where a nested DEFLATED archive was
   recompressed, zlib here and libdeflate on Linux - the same entries with
   the same CRCs, sizes and methods), restore (every file byte-identical to
   its original).
3. Windows-only: --submit over WinHTTP (lib/submit/http_winhttp.c, Wine's
   winhttp.dll) to a local log4scan-server: the device appears in the API
   with its MachineGuid, its agent id (from the registry) and its findings;
   a wrong token fails loudly (exit 2, HTTP 401, nothing spooled); with the
   collector down the report is spooled and the next run delivers it;
   `submit FILE` sends a saved report.  A file held open the way a JVM holds its jar is not
   replaced (skipped, "in use", restart required, original untouched) and is
   fixed once released; the Restart Manager logic's unit test (fake RM)
   built with mingw; `ps` runs; a whole-host scan lists drives and honours
   --exclude for a drive root.
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile

TOP = os.environ.get("TOP") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.environ.get("OUT", os.path.join(TOP, "tests/out/t_windows"))
CORPUS = (os.environ.get("CORPUS") or os.path.realpath(os.path.join(TOP, "../shared/corpus"))).rstrip("/") + "/"
LINUX = os.environ.get("L4S_PLAIN", os.path.join(TOP, "build/log4scan"))
EXE = os.path.join(TOP, "build/win/log4scan.exe")
WRAP = os.path.join(TOP, "tests/win/wine-l4s.py")
t0 = time.time()


def ok(name, cond, why=""):
    print(("ok " if cond else "not ok ") + name + ("" if cond else " - " + str(why)[:600]), flush=True)
    return cond


def have(cmd):
    return shutil.which(cmd) is not None


if not (have("x86_64-w64-mingw32-gcc-posix") and have("wine")):
    ok("windows: skipped - mingw-w64 or wine not installed (apt-get install mingw-w64 wine64 wine "
       "libz-mingw-w64-dev)", True)
    sys.exit(0)

os.makedirs(OUT, exist_ok=True)
if not os.path.exists(EXE) or subprocess.run(["make", "-q", "windows"], cwd=TOP).returncode != 0:
    p = subprocess.run(["make", "-j2", "windows"], cwd=TOP, capture_output=True, text=True)
    if not ok("windows: make windows builds build/win/log4scan.exe", p.returncode == 0, p.stderr[-1500:]):
        sys.exit(1)
ok("windows: log4scan.exe is static (imports Windows DLLs only)",
   not [l for l in subprocess.run(["x86_64-w64-mingw32-objdump", "-p", EXE], capture_output=True,
                                  text=True).stdout.splitlines()
        if "DLL Name:" in l and l.split()[-1].lower() not in
        ("kernel32.dll", "msvcrt.dll", "bcrypt.dll", "rstrtmgr.dll", "advapi32.dll", "user32.dll",
         "ws2_32.dll", "winhttp.dll", "iphlpapi.dll", "ntdll.dll", "shell32.dll", "ole32.dll")])

env = dict(os.environ)
env["WINEPREFIX"] = os.path.join(OUT, "wineprefix")
env["WINEDEBUG"] = "-all"
env["WINEDLLOVERRIDES"] = "mscoree,mshtml="
env["DISPLAY"] = ""
shutil.rmtree(env["WINEPREFIX"], ignore_errors=True)
p = subprocess.run(["wine", "wineboot", "--init"], env=env, capture_output=True, text=True, timeout=300)
subprocess.run(["wineserver", "-w"], env=env, timeout=300)
if not ok("windows: wine prefix created without interaction", os.path.isdir(os.path.join(env["WINEPREFIX"], "drive_c")),
          p.stderr[-500:]):
    sys.exit(1)


def wine(*args, stdin=None):
    return subprocess.run(["wine", EXE] + list(args), env=env, capture_output=True, input=stdin, timeout=900)


def win(path):
    return "Z:" + path.replace("/", "\\")


def recs(out):
    r = []
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        try:
            r.append(json.loads(line))
        except ValueError:
            pass
    return r


def unwin(path):
    """Z:\\a\\b.jar!/x -> /a/b.jar!/x (only the file system part)"""
    if not isinstance(path, str) or not path[:3].lower() == "z:\\":
        return path
    i = path.find("!/")
    top, rest = (path, "") if i < 0 else (path[:i], path[i:])
    return top[2:].replace("\\", "/") + rest


def norm(r, drop=("seconds",)):
    r = dict(r)
    for k in drop:
        r.pop(k, None)
    for k in ("path", "backup"):
        if k in r:
            r[k] = unwin(r[k])
    if "removed" in r:
        r["removed"] = [unwin(x) for x in r["removed"]]
    if "path_b64" in r:
        import base64
        raw = base64.b64decode(r["path_b64"]).decode("utf-8", "surrogateescape")
        r["path_b64"] = base64.b64encode(unwin(raw).encode("utf-8", "surrogateescape")).decode()
    return json.dumps(r, sort_keys=True)


# ---- 1. the Linux tests, pointed at the Windows build

SYMLINK_EXCUSED = {  # t_logs: its tree holds one symlink, a plain file to Windows programs under Wine
    "tree: every payload reported exactly once", "tree: symlink not followed", "tree: summary counts",
    "tree: summary by host adds up", "tree: base64 command decoded", "text: one line per attempt header",
    "text: summary line"}


def linux_test(name):
    e = dict(env)
    e["L4S"] = e["L4S_PLAIN"] = WRAP
    e["L4S_WIN_EXE"] = EXE
    e["CORPUS"] = CORPUS
    e["OUT"] = os.path.join(OUT, name)
    shutil.rmtree(e["OUT"], ignore_errors=True)
    os.makedirs(e["OUT"])
    t = time.time()
    p = subprocess.run([sys.executable, os.path.join(TOP, "tests", name + ".py")], env=e, capture_output=True,
                       timeout=1200)
    n = 0
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("ok "):
            print("ok wine " + name + ": " + line[3:])
            n += 1
        elif line.startswith("not ok "):
            check = line[7:].split(" - ")[0]
            if name == "t_logs" and check in SYMLINK_EXCUSED:
                print("ok wine t_logs: excused under Wine (Unix symlink seen as a file): " + check)
            else:
                print("not ok wine " + name + ": " + line[7:])
            n += 1
    ok("wine %s ran (%d checks, %.0f s)" % (name, n, time.time() - t), n > 0 and p.returncode in (0, 1),
       p.stderr[-500:])


for name in ("t_corpus", "t_generated", "t_logs"):
    linux_test(name)

# ---- 2. direct comparisons, Linux vs Windows

# scan of the corpus
pl = subprocess.run([LINUX, "scan", "--format", "json", "--threads", "2", CORPUS], capture_output=True)
pw = wine("scan", "--format", "json", "--threads", "2", win(CORPUS))
L = [r for r in recs(pl.stdout) if r.get("kind") in ("finding", "error")]
W = [r for r in recs(pw.stdout) if r.get("kind") in ("finding", "error")]
ok("compare scan: same exit status (%d)" % pl.returncode, pl.returncode == pw.returncode, pw.returncode)
ok("compare scan: Windows paths in the output",
   all(r["path"].startswith("Z:\\work\\") or r["path"].startswith("Z:\\") for r in W) and
   not any("/" in r["path"].split("!/")[0] for r in W), [r["path"] for r in W][:3])
ls, ws = sorted(norm(r) for r in L), sorted(norm(r) for r in W)
ok("compare scan: %d corpus findings and errors identical apart from path syntax" % len(ls), ls == ws,
   "linux only %r / windows only %r" % (sorted(set(ls) - set(ws))[:2], sorted(set(ws) - set(ls))[:2]))
sl, sw = recs(pl.stdout)[-1], recs(pw.stdout)[-1]
ok("compare scan: same summary counts", {k: sl[k] for k in ("files", "archives", "bytes", "findings", "errors")} ==
   {k: sw[k] for k in ("files", "archives", "bytes", "findings", "errors")}, (sl, sw))
pl = subprocess.run([LINUX, "scan", "--format", "json", "--bytecode-only", CORPUS], capture_output=True)
pw = wine("scan", "--format", "json", "--bytecode-only", win(CORPUS))
ok("compare scan --bytecode-only: identical", sorted(norm(r) for r in recs(pl.stdout) if r.get("kind") == "finding") ==
   sorted(norm(r) for r in recs(pw.stdout) if r.get("kind") == "finding"))
for fmt in ("csv", "sarif", "cyclonedx"):
    pw = wine("scan", "--format", fmt, win(CORPUS + "log4j-samples"))
    ok("scan --format %s runs on Windows" % fmt, pw.returncode == 1 and len(pw.stdout) > 100, pw.stderr[-300:])

# logs over t_logs's tree, without its symlink
logs_src = os.path.join(OUT, "t_logs", "var-log")
if os.path.isdir(logs_src):
    tree = os.path.join(OUT, "logs-tree")
    shutil.rmtree(tree, ignore_errors=True)
    for dp, dn, fn in os.walk(logs_src):  # regular files only: no symlink, no FIFO
        for f in fn:
            a = os.path.join(dp, f)
            if os.path.isfile(a) and not os.path.islink(a):
                b = os.path.join(tree, os.path.relpath(a, logs_src))
                os.makedirs(os.path.dirname(b), exist_ok=True)
                shutil.copyfile(a, b)
    pl = subprocess.run([LINUX, "logs", "--format", "json", tree], capture_output=True)
    pw = wine("logs", "--format", "json", win(tree))
    la = sorted(norm(r) for r in recs(pl.stdout) if r.get("kind") in ("attempt", "error"))
    wa = sorted(norm(r) for r in recs(pw.stdout) if r.get("kind") in ("attempt", "error"))
    ok("compare logs: same exit status", pl.returncode == pw.returncode, (pl.returncode, pw.returncode))
    ok("compare logs: %d attempt records identical apart from path syntax" % len(la), la == wa and len(la) > 50,
       "linux only %r / windows only %r" % (sorted(set(la) - set(wa))[:2], sorted(set(wa) - set(la))[:2]))
    sl = [r for r in recs(pl.stdout) if r.get("kind") == "summary"]
    sw = [r for r in recs(pw.stdout) if r.get("kind") == "summary"]
    keys = ("files", "bytes", "lines", "attempts", "errors", "by_host", "by_day")
    ok("compare logs: same summary", sl and sw and {k: sl[0].get(k) for k in keys} == {k: sw[0].get(k) for k in keys},
       (sl, sw))
    data = open(os.path.join(tree, "nginx", "access.log"), "rb").read() if os.path.exists(
        os.path.join(tree, "nginx", "access.log")) else b""
    if data:
        pl = subprocess.run([LINUX, "logs", "--format", "json", "-"], input=data, capture_output=True)
        pw = wine("logs", "--format", "json", "-", stdin=data)
        ok("compare logs -: standard input, same attempts",
           sorted(norm(r) for r in recs(pl.stdout) if r.get("kind") == "attempt") ==
           sorted(norm(r) for r in recs(pw.stdout) if r.get("kind") == "attempt"), pw.stderr[-300:])
else:
    ok("compare logs: t_logs tree present", False, logs_src)


# fix and restore: the same files fixed on both sides
ARCHIVE_EXT = (".jar", ".war", ".ear", ".zip", ".par", ".sar", ".rar", ".jpi", ".hpi", ".kar", ".aar", ".nar")


def zip_entries(path, depth=0):
    """Each entry's name, method, and CRC and size - for a nested archive,
    its own entries instead (a recompressed nested archive changes the CRC
    of every archive above it, not the content)."""
    try:
        with zipfile.ZipFile(path) as z:
            out = []
            for i in z.infolist():
                if i.filename.lower().endswith(ARCHIVE_EXT) and depth < 8:
                    import io
                    inner = zip_entries(io.BytesIO(z.read(i)), depth + 1)
                    out.append((i.filename, i.compress_type, inner))
                else:
                    out.append((i.filename, i.compress_type, i.CRC, i.file_size))
            return out
    except Exception as e:
        return repr(e)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


fixset = os.path.join(OUT, "fix-src")
shutil.rmtree(fixset, ignore_errors=True)
os.makedirs(fixset)
tops = set()
for line in open(CORPUS + "manifest.tsv", encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if line.startswith("#") or len(f) < 5 or f[3] != "VULNERABLE":
        continue
    top = f[0].split("!/")[0]
    if os.path.isfile(CORPUS + top) and os.path.getsize(CORPUS + top) < (64 << 20):
        tops.add(top)
for t in sorted(tops):
    os.makedirs(os.path.dirname(os.path.join(fixset, "corpus", t)), exist_ok=True)
    shutil.copyfile(CORPUS + t, os.path.join(fixset, "corpus", t))
gen = os.path.join(OUT, "t_generated", "gen")
if os.path.isdir(gen):
    for dp, dn, fn in os.walk(gen):  # regular files only
        for f in fn:
            a = os.path.join(dp, f)
            if os.path.isfile(a) and not os.path.islink(a):
                b = os.path.join(fixset, "gen", os.path.relpath(a, gen))
                os.makedirs(os.path.dirname(b), exist_ok=True)
                shutil.copyfile(a, b)
sides = {}
for side in ("linux", "windows"):
    d = os.path.join(OUT, "fix-" + side)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(fixset, d)
    bk = os.path.join(OUT, "fix-" + side + "-backup")
    shutil.rmtree(bk, ignore_errors=True)
    if side == "linux":
        p = subprocess.run([LINUX, "fix", "--format", "json", "--backup-dir", bk, d], capture_output=True)
    else:
        p = wine("fix", "--format", "json", "--backup-dir", win(bk), win(d))
    sides[side] = (d, bk, p)
(dl, bl, pl), (dw, bw, pw) = sides["linux"], sides["windows"]


def fixrecs(p, d):
    out = []
    for r in recs(p.stdout):
        if r.get("kind") != "fix":
            continue
        r = json.loads(norm(r))
        for k in ("path",):
            r[k] = r[k].replace(d, "<D>")
        r["removed"] = [x.replace(d, "<D>") for x in r.get("removed", [])]
        if "message" in r:   # a failure message starts with the file's name: same normalisation as the path
            m = r["message"]
            head, sep, tail = m.partition(": ")
            r["message"] = unwin(head).replace(d, "<D>") + sep + tail
        r.pop("backup", None)
        out.append(json.dumps(r, sort_keys=True))
    return sorted(out)


fl, fw = fixrecs(pl, dl), fixrecs(pw, dw)
nfixed = sum('"action": "fixed"' in r for r in fl)
ok("compare fix: same exit status (%d)" % pl.returncode, pl.returncode == pw.returncode,
   (pw.returncode, pw.stderr[-300:]))
ok("compare fix: %d records, %d fixed, identical apart from path syntax" % (len(fl), nfixed),
   fl == fw and nfixed >= 20,
   "linux only %r / windows only %r" % (sorted(set(fl) - set(fw))[:2], sorted(set(fw) - set(fl))[:2]))
same_bytes = same_entries = differ = 0
bad = []
for dp, _, fn in os.walk(dl):
    for f in fn:
        a = os.path.join(dp, f)
        b = os.path.join(dw, os.path.relpath(a, dl))
        if open(a, "rb").read() == open(b, "rb").read():
            same_bytes += 1
        elif zip_entries(a) == zip_entries(b) and isinstance(zip_entries(a), list):
            same_entries += 1
        else:
            bad.append(os.path.relpath(a, dl))
ok("compare fix: every file the same (%d byte-identical, %d with a recompressed nested archive: same entries, "
   "CRCs and sizes)" % (same_bytes, same_entries), not bad, bad[:5])
pl = subprocess.run([LINUX, "scan", "--format", "json", dl], capture_output=True)
pw = wine("scan", "--format", "json", win(dw))
rl = sorted(norm(r, drop=("path_b64",)).replace(dl, "<D>") for r in recs(pl.stdout) if r.get("kind") == "finding")
rw = sorted(norm(r, drop=("path_b64",)).replace(dw, "<D>") for r in recs(pw.stdout) if r.get("kind") == "finding")
ok("compare fix: rescans identical (%d findings)" % len(rl), rl == rw and rl,
   "linux only %r / windows only %r" % (sorted(set(rl) - set(rw))[:2], sorted(set(rw) - set(rl))[:2]))
man = open(os.path.join(bw, "manifest.tsv"), encoding="utf-8").read()
ok("fix on Windows: backup manifest lists Windows paths", "\tZ:\\" in man and man.count("\nfix\t") >= 20, man[:300])
pw = wine("restore", "--format", "json", "--backup-dir", win(bw))
ok("restore on Windows: exits 0", pw.returncode == 0, pw.stdout[-300:] + pw.stderr[-300:])
badr = [os.path.relpath(os.path.join(dp, f), dw) for dp, _, fn in os.walk(dw) for f in fn
        if sha(os.path.join(dp, f)) != sha(os.path.join(fixset, os.path.relpath(os.path.join(dp, f), dw)))]
ok("restore on Windows: every file byte-identical to its original", not badr, badr[:5])
pw = wine("restore", "--format", "json", "--backup-dir", win(bw))
ok("restore on Windows: a second restore has nothing to do",
   pw.returncode == 0 and not [r for r in recs(pw.stdout) if r.get("kind") == "restore"], pw.stdout[-300:])

# ---- 3. Windows only

# a file held open like a JVM's jar: not replaced, never forced
held = os.path.join(OUT, "held")
shutil.rmtree(held, ignore_errors=True)
os.makedirs(held)
jar = os.path.join(held, "log4j-core-2.14.1.jar")
src = [t for t in sorted(tops) if t.endswith("log4j-core-2.14.1.jar")] or sorted(tops)
shutil.copyfile(CORPUS + src[0], jar)
before = sha(jar)
hold = subprocess.Popen(["wine", os.path.join(TOP, "build/win/tests/hold.exe"), win(jar)], env=env,
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
line = hold.stdout.readline().decode().strip()
ok("in use: the stand-in JVM holds the jar", line == "holding", line)
p = wine("fix", "--format", "json", "--backup-dir", win(os.path.join(OUT, "held-backup")), win(jar))
r = [x for x in recs(p.stdout) if x.get("kind") == "fix"]
ok("in use: fix exits 1 (vulnerable remains), never 2", p.returncode == 1, (p.returncode, p.stderr[-300:]))
ok("in use: skipped with 'in use' and 'restart required'", r and r[0]["action"] == "skipped" and
   "in use" in r[0].get("message", "") and "restart required" in r[0].get("message", ""), r)
ok("in use: the jar is untouched", sha(jar) == before)
hold.stdin.close()
hold.wait(timeout=60)
p = wine("fix", "--format", "json", "--backup-dir", win(os.path.join(OUT, "held-backup")), win(jar))
r = [x for x in recs(p.stdout) if x.get("kind") == "fix"]
ok("in use: fixed once released", p.returncode == 0 and r and r[0]["action"] == "fixed", (p.returncode, r))

# the Restart Manager logic with a fake, built for Windows
p = subprocess.run(["wine", os.path.join(TOP, "build/win/tests/test_holders.exe")], env=env, capture_output=True,
                   text=True, timeout=120)
n = 0
for line in p.stdout.splitlines():
    if line.startswith("ok ") or line.startswith("not ok "):
        print(line.replace("ok ", "ok wine test_holders: ", 1) if line.startswith("ok ")
              else "not ok wine test_holders: " + line[7:])
        n += 1
ok("wine test_holders ran (%d checks)" % n, n >= 15 and p.returncode == 0, p.stderr[-300:])

# ps: jars found by scanning, holders asked of the Restart Manager (a stub in Wine)
p = wine("ps", "--format", "json", win(CORPUS + "log4j-samples"))
s = recs(p.stdout)
ok("ps runs on Windows (summary record; Wine's Restart Manager reports no holder)",
   p.returncode == 0 and s and s[-1].get("kind") == "summary" and s[-1].get("files", 0) > 0, p.stderr[-300:])

# whole host: every fixed drive; here Z: (all of /) is excluded, and C:\users
# too (Wine links the user's folders to the Linux home); C: is the prefix's drive
p = wine("scan", "--format", "json", "--no-processes", "--exclude", "Z:\\", "--exclude", "C:\\users")
s = recs(p.stdout)
sk = s[-1].get("skipped", []) if s else []
ok("whole host: Z:\\ excluded by the user, listed in skipped",
   any(x.get("path") == "Z:\\" and "excluded" in x.get("reason", "") for x in sk),
   (sk[:4], p.returncode, p.stderr[-500:]))
ok("whole host: C:\\ scanned", p.returncode == 0 and s and s[-1].get("files", 0) > 100,
   (p.returncode, s[-1:], p.stderr[-500:]))

# ---- --submit over WinHTTP, against a local collector (issue 19)
sys.path.insert(0, os.path.join(TOP, "tests"))
import server_common  # noqa: E402

db = server_common.new_db("sqlite", "win-submit")
token = server_common.make_token(db, "win-agent")
reader = server_common.make_token(db, "win-reader", role="read")
srv = server_common.Server(db, "--rate", "0", name="win-server")
url = "http://127.0.0.1:%d" % srv.port
wtree = os.path.join(OUT, "submit-tree")
os.makedirs(wtree, exist_ok=True)
shutil.copy(CORPUS + "log4j-samples/true-hits/log4j-core-2.14.1.jar", os.path.join(wtree, "a.jar"))
shutil.copy(CORPUS + "log4j-samples/false-hits/log4j-core-2.17.1.jar", os.path.join(wtree, "b.jar"))
wspool = os.path.join(OUT, "win-state")
env["LOG4SCAN_STATE_DIR"] = win(wspool)
env["WINEDEBUG"] = "-all"
env.pop("LOG4SCAN_TOKEN", None)


def spooled():
    d = os.path.join(wspool, "spool")
    return [f for f in os.listdir(d) if f.endswith(".ndjson")] if os.path.isdir(d) else []


p = wine("scan", "--format", "json", "--no-config", "--submit", url, "--token", token, win(wtree))
err = p.stderr.decode("utf-8", "replace")
envl = recs(p.stdout)[:1]
ok("submit: scan --submit over WinHTTP exits 1 and says sent", p.returncode == 1 and "sent to" in err, err[-400:])
devs = srv.get_json("/api/v1/devices", token=reader).get("items", [])
e0 = envl[0] if envl else {}
ok("submit: the Windows device is in the collector with its MachineGuid",
   len(devs) == 1 and devs[0].get("machine_id") == e0.get("host", {}).get("machine_id") and
   len(devs[0].get("machine_id") or "") == 32, (devs, e0.get("host")))
ok("submit: its findings arrived (1 vulnerable, 1 safe)",
   devs and devs[0].get("vulnerable") == 1 and devs[0].get("safe") == 1, devs)
ok("submit: the envelope carries the agent id kept in the registry, the same on every run",
   len(e0.get("host", {}).get("agent_id", "")) == 36 and
   recs(wine("scan", "--format", "json", "--no-config", win(wtree)).stdout)[0]["host"]["agent_id"] ==
   e0["host"]["agent_id"], e0.get("host"))
ok("submit: Windows names itself (os, kernel)", e0.get("host", {}).get("os", "").startswith(("Microsoft Windows", "Windows"))
   and e0.get("host", {}).get("kernel"), e0.get("host"))

p = wine("scan", "--format", "json", "--no-config", "--submit", url, "--token", "l4s_wrong", win(wtree))
err = p.stderr.decode("utf-8", "replace")
ok("submit: a wrong token fails loudly (exit 2, HTTP 401 and the reason)",
   p.returncode == 2 and "HTTP 401" in err and "unknown or revoked token" in err, (p.returncode, err[-400:]))
ok("submit: a wrong token spools nothing", not spooled(), spooled())

with socket.socket() as so:
    so.bind(("127.0.0.1", 0))
    dead = "http://127.0.0.1:%d" % so.getsockname()[1]
p = wine("scan", "--format", "json", "--no-config", "--submit", dead, "--token", token, win(wtree))
err = p.stderr.decode("utf-8", "replace")
ok("submit: collector down: the scan's exit status, the report spooled", p.returncode == 1 and len(spooled()) == 1 and
   "kept in" in err, (p.returncode, err[-400:], spooled()))
def nreports():
    return len(srv.get_json("/api/v1/reports?limit=500", token=reader).get("items", []))


before = nreports()
p = wine("scan", "--format", "json", "--no-config", "--submit", url, "--token", token, win(wtree))
after = nreports()
ok("submit: the next run delivers the spooled report too", p.returncode == 1 and not spooled() and
   after == before + 2, (before, after, spooled(), p.stderr[-300:]))

saved = os.path.join(OUT, "win-saved.json")
p = wine("scan", "--format", "json", "--no-config", "-o", win(saved), win(wtree))
p = wine("submit", "--submit", url, "--token", token, win(saved))
ok("submit: `submit FILE` of a saved report", p.returncode == 0 and
   nreports() == after + 1, p.stderr[-300:])
ok("submit: the collector exits cleanly", srv.stop() == 0)

# ---- the MSI (make msi, wixl): installed by Wine's msiexec in a fresh prefix
MSI = os.path.join(TOP, "build/win/log4scan.msi")
if not have("wixl"):
    ok("msi: skipped - wixl not installed (apt-get install wixl)", True)
else:
    p = subprocess.run(["make", "-s", "msi"], cwd=TOP, capture_output=True, text=True)
    ok("msi: make msi builds build/win/log4scan.msi", p.returncode == 0 and os.path.exists(MSI), p.stderr[-500:])
    menv = dict(env)
    menv["WINEPREFIX"] = os.path.join(OUT, "msiprefix")
    menv.pop("LOG4SCAN_STATE_DIR", None)
    shutil.rmtree(menv["WINEPREFIX"], ignore_errors=True)
    subprocess.run(["wine", "wineboot", "--init"], env=menv, capture_output=True, timeout=300)
    subprocess.run(["wineserver", "-w"], env=menv, timeout=300)
    drive = os.path.join(menv["WINEPREFIX"], "drive_c")
    p = subprocess.run(["wine", "msiexec", "/i", win(MSI), "/qn"], env=menv, capture_output=True, timeout=300)
    exe = os.path.join(drive, "Program Files/log4scan/log4scan.exe")
    ok("msi: msiexec /i /qn installs log4scan.exe in Program Files", p.returncode == 0 and os.path.isfile(exe),
       p.stderr[-300:])
    ok("msi: the data folder %ProgramData%\\log4scan is made", os.path.isdir(os.path.join(drive, "ProgramData/log4scan")))
    task = os.path.join(drive, "windows/system32/tasks/log4scan/daily scan")
    ok("msi: the scheduled task \\log4scan\\daily scan is registered", os.path.isfile(task))
    # Wine's Task Scheduler keeps a task's name and settings but drops its
    # trigger, principal and action when it stores it: those are checked in
    # the definition the MSI registered, and the action is run by hand.
    import xml.etree.ElementTree as ET
    defn = os.path.join(drive, "Program Files/log4scan/log4scan-task.xml")
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    try:
        tree = ET.fromstring(open(defn, "rb").read().decode("utf-16"))
    except (OSError, ValueError, ET.ParseError) as e:
        tree = None
        ok("msi: the task definition parses", False, e)
    if tree is not None:
        ok("msi: the task runs as SYSTEM", tree.findtext(".//t:Principal/t:UserId", namespaces=ns) == "S-1-5-18")
        ok("msi: the task is daily, spread over an hour, and catches up",
           tree.findtext(".//t:ScheduleByDay/t:DaysInterval", namespaces=ns) == "1" and
           tree.findtext(".//t:RandomDelay", namespaces=ns) == "PT1H" and
           tree.findtext(".//t:StartWhenAvailable", namespaces=ns) == "true")
        cmd = tree.findtext(".//t:Exec/t:Command", namespaces=ns)
        args = tree.findtext(".//t:Exec/t:Arguments", namespaces=ns)
        ok("msi: the task runs the installed log4scan.exe scan", cmd == "%ProgramFiles%\\log4scan\\log4scan.exe" and
           args.startswith("scan "), (cmd, args))
        # the action, as the Task Scheduler would run it (variables expanded)
        import shlex
        argv = [a.replace("%ProgramData%", "C:\\ProgramData") for a in shlex.split(args.replace("\\", "/"))]
        argv = [a.replace("/", "\\") if a.startswith("C:") else a for a in argv]
        p = subprocess.run(["wine", "C:\\Program Files\\log4scan\\log4scan.exe", *argv,
                            "--no-processes", "--exclude", "Z:\\", "--exclude", "C:\\users"],
                           env=menv, capture_output=True, timeout=900)
        last = os.path.join(drive, "ProgramData/log4scan/last-scan.json")
        first = open(last, encoding="utf-8").readline() if os.path.exists(last) else ""
        ok("msi: the task's action writes the report with its envelope",
           p.returncode in (0, 1) and first.startswith('{"kind":"report"'), (p.returncode, p.stderr[-300:], first[:100]))
    p = subprocess.run(["wine", "msiexec", "/x", win(MSI), "/qn"], env=menv, capture_output=True, timeout=300)
    ok("msi: msiexec /x removes the program and the task", p.returncode == 0 and not os.path.exists(exe) and
       not os.path.exists(task), p.stderr[-300:])

# (tests assert behaviour, not wall-clock time: the duration is only printed)
print("# windows: all of the above in %.0f s" % (time.time() - t0), flush=True)
