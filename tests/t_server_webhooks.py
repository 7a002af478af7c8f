#!/usr/bin/env python3
"""t_server_webhooks.py - webhooks (issue 20 point 10), on SQLite and PostgreSQL.

Local receivers only (Python http.server on 127.0.0.1).  For each backend:
  - targets: `webhook add URL --secret-file F [--events ...]` and the API
    (session + CSRF; a read token, a missing CSRF header are refused), bad
    URLs (ftp://, user:password@, spaces), short secrets and unknown events
    refused; `webhook list` and GET webhooks never show a secret, a query
    string is shown as "?...";
  - events after real ingests: a scan whose critical vulnerable Log4j is
    loaded by a JVM listening on 0.0.0.0 (device_critical_exposed and
    archive_vulnerable), a logs report with an attempt (device_attacked), the
    same attempts again (no event), the same archive on another device (no
    event), a new archive (one event); each body's HMAC-SHA256 over
    "timestamp.body" checked with the target's secret, and the event filter
    of each target respected;
  - retries: a receiver that answers 500 twice then 200 gets three attempts,
    logged with their statuses, and the delivery ends delivered;
  - no redirect: a receiver answering 302 to a second receiver; the second
    sees nothing, the delivery is failed after its attempts, the log says
    302;
  - "send test": POST webhooks/ID/test reaches that target;
  - durability: a report imported while the collector is stopped is
    delivered by the next collector; a delivery that failed once before a
    restart is retried and delivered after it;
  - a change of rules (`rules load` of a fictional CVE, rollback, load
    again): one rules_changed event per change; a target subscribed only to
    archive_vulnerable gets one event per archive the change made vulnerable
    for the first time in the fleet (an archive on two devices: one event,
    "devices":2; none for one vulnerable already, none when the same rules
    come back), one subscribed only to device_critical_exposed one for the
    device whose listening JVM's copy became critical (again after a
    rollback and a new load), with "cause":"rules_change";
  - delete: the target is gone, its pending deliveries cancelled;
  - the secrets appear nowhere in API answers or the server's log.
Two servers on one PostgreSQL database: each delivery is sent once.
Then the dashboard's Webhooks page in Debian's chromium (playwright-core,
tests/browser/webhooks.test.js, SQLite): add a target through the form, the
secret never on the page, "Send test" reaching the receiver (signed) and its
attempt in the page's delivery log, delete; screenshot $OUT/webhooks.png.
"""
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (BROWSER_DIR, browser_ready, OUT, TOP, Server, attempt, check, check_eq, cli,  # noqa: E402
                           db_sql, envelope, finding, finish,
                           make_token, make_user, mid, new_db, not_ok, ok, process, report, sha)

SECRET_A = "secret-of-receiver-A-" + uuid.uuid4().hex
SECRET_R = "secret-of-receiver-R-" + uuid.uuid4().hex
SECRET_B = "secret-of-receiver-B-" + uuid.uuid4().hex


class Receiver:
    """A local webhook receiver: records each request; answers from a
    script of statuses (then 200); `redirect` answers 302 to that URL."""

    def __init__(self, script=(), redirect=None, delay=0):
        self.got = []
        self.delay = delay
        self.script = list(script)
        self.redirect = redirect
        self.lock = threading.Lock()
        rx = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                time.sleep(rx.delay)
                with rx.lock:
                    rx.got.append((dict((k.lower(), v) for k, v in self.headers.items()), body, self.path))
                    status = rx.script.pop(0) if rx.script else 200
                if rx.redirect:
                    self.send_response(302)
                    self.send_header("Location", rx.redirect)
                else:
                    self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hook" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def events(self):
        with self.lock:
            return [json.loads(b) for h, b, p in self.got]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def wait_for(cond, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    return cond()


def verify(secret, headers, body):
    """the documented check: HMAC-SHA256(secret, timestamp "." body)"""
    ts = headers.get("x-log4scan-timestamp", "")
    sig = headers.get("x-log4scan-signature", "")
    want = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(sig, want) and ts.isdigit() and abs(int(ts) - time.time()) < 300


def login(s):
    st, h, data = s.request("POST", "/api/v1/login", json.dumps({"user": "admin", "password": "correct horse battery"}),
                            {"Content-Type": "application/json"})
    if st != 200:
        raise RuntimeError("login: %d %s" % (st, data[:200]))
    return h.get("set-cookie", "").split(";")[0], json.loads(data)["csrf"]


def post(s, path, body, sess, csrf):
    h = {"Content-Type": "application/json", "Cookie": sess}
    if csrf:
        h["X-CSRF-Token"] = csrf
    st, hd, data = s.request("POST", path, json.dumps(body) if body is not None else "", h)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, data


def kinds(rx):
    return sorted(e["event"] for e in rx.events())


def run(kind):
    t = kind + "-"
    try:
        db = new_db(kind, "webhooks")
    except Exception as e:  # PostgreSQL could not be started: that is a failure, not a skip
        not_ok(t + "backend-available", e)
        return
    ok(t + "backend-available")
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    make_user(db, "admin", "correct horse battery")
    A = Receiver()                        # every event
    R = Receiver(script=[500, 500])       # attacks only; fails twice
    C = Receiver()                        # where B redirects: must see nothing
    B = Receiver(redirect=C.url)          # answers 302
    sfile = os.path.join(OUT, "wh-secret-" + kind)
    with open(sfile, "w") as f:
        f.write(SECRET_A + "\n")

    # --- targets from the CLI
    p = cli(db, "webhook", "add", A.url + "?token=abc", "--secret-file", sfile)
    check(t + "cli-add", p.returncode == 0 and p.stdout.strip().isdigit(), p.stderr)
    hook_a = int(p.stdout.strip() or 0)
    for bad, why in (("ftp://127.0.0.1/x", "only http and https"), ("http://u:pw@127.0.0.1/x", "user name"),
                     ("http://127.0.0.1/a b", "space"), ("not a url", "URL")):
        p = cli(db, "webhook", "add", bad, "--secret-file", sfile)
        check(t + "cli-add-refuses-" + bad.split(":")[0].replace(" ", "_") + "-" + why.split()[0],
              p.returncode != 0 and why in p.stderr, p.stderr)
    p = cli(db, "webhook", "add", A.url, "--secret-file", sfile, "--events", "device_attacked,nope")
    check(t + "cli-add-refuses-unknown-event", p.returncode != 0 and "nope" in p.stderr, p.stderr)
    short = sfile + "-short"
    with open(short, "w") as f:
        f.write("short\n")
    p = cli(db, "webhook", "add", A.url, "--secret-file", short)
    check(t + "cli-add-refuses-short-secret", p.returncode != 0 and "16" in p.stderr, p.stderr)
    p = cli(db, "webhook", "add", A.url)
    check(t + "cli-add-needs-secret-file", p.returncode == 2, p.stderr)
    p = cli(db, "webhook", "list")
    lst = json.loads(p.stdout) if p.returncode == 0 else {}
    check(t + "cli-list", len(lst.get("webhooks", [])) == 1 and lst["webhooks"][0]["url"] == A.url + "?..."
          and SECRET_A not in p.stdout and "token=abc" not in p.stdout, p.stdout)

    s = Server(db, "--webhook-backoff", "1", "--webhook-attempts", "3", name="webhooks-" + kind)
    sess, csrf = login(s)

    # --- targets from the API (admin-only actions)
    body_r = {"url": R.url, "secret": SECRET_R, "events": ["device_attacked"]}
    st, js = post(s, "/api/v1/webhooks", body_r, sess, None)
    check_eq(t + "api-add-without-csrf-403", st, 403)
    st, hd, data = s.request("POST", "/api/v1/webhooks", json.dumps(body_r),
                             {"Authorization": "Bearer " + reader, "Content-Type": "application/json"})
    check_eq(t + "api-add-read-token-403", st, 403)
    st, js = post(s, "/api/v1/webhooks", dict(body_r, url="gopher://127.0.0.1/"), sess, csrf)
    check(t + "api-add-bad-url-400", st == 400 and "http" in js.get("error", ""), (st, js))
    st, js = post(s, "/api/v1/webhooks", dict(body_r, events=["bogus"]), sess, csrf)
    check_eq(t + "api-add-bad-event-400", st, 400)
    st, js = post(s, "/api/v1/webhooks", dict(body_r, secret="x"), sess, csrf)
    check_eq(t + "api-add-short-secret-400", st, 400)
    for name, bad in (("not-json", "{"), ("not-object", "[1]"), ("url-newline", dict(body_r, url=R.url + "\n")),
                      ("secret-nul", dict(body_r, secret="0123456789abcdef\u0000x")),
                      ("events-not-array", dict(body_r, events="device_attacked")),
                      ("events-empty", dict(body_r, events=[])), ("events-number", dict(body_r, events=[1])),
                      ("url-javascript", dict(body_r, url="javascript:alert(1)")),
                      ("url-file", dict(body_r, url="file:///etc/passwd"))):
        h = {"Content-Type": "application/json", "Cookie": sess, "X-CSRF-Token": csrf}
        st, hd, data = s.request("POST", "/api/v1/webhooks", bad if isinstance(bad, str) else json.dumps(bad), h)
        check(t + "api-add-refuses-" + name, st == 400 and b"error" in data, (st, data[:200]))
    st, js = post(s, "/api/v1/webhooks/%d/nope" % hook_a, None, sess, csrf)
    check_eq(t + "api-unknown-action-404", st, 404)
    st, js = post(s, "/api/v1/webhooks", body_r, sess, csrf)
    check(t + "api-add", st == 201 and js.get("id"), (st, js))
    hook_r = js.get("id") if isinstance(js, dict) else 0
    st, js = post(s, "/api/v1/webhooks", {"url": B.url, "secret": SECRET_B}, sess, csrf)
    check(t + "api-add-redirecting", st == 201, (st, js))
    hook_b = js.get("id") if isinstance(js, dict) else 0
    st, hd, raw = s.get("/api/v1/webhooks", reader)
    wl = json.loads(raw) if st == 200 else {}
    check(t + "api-list", st == 200 and [w["id"] for w in wl["webhooks"]] == [hook_a, hook_r, hook_b]
          and wl["webhooks"][1]["events"] == ["device_attacked"]
          and wl["webhooks"][0]["events"] == ["device_critical_exposed", "device_attacked", "archive_vulnerable",
                                              "rules_changed"],
          raw[:400])
    check(t + "api-list-no-secret", all(x.encode() not in raw for x in (SECRET_A, SECRET_R, SECRET_B, "secret"))
          and b"token=abc" not in raw, raw[:400])

    # --- events after real ingests
    e1 = envelope(mid(1), "web1")
    r1 = report(e1, [finding("/opt/app/lib/log4j-core-2.14.1.jar", sha256=sha(1)),
                     finding("/opt/app/lib/log4j-core-2.14.1.jar", sha256=sha(1), pid=1234),
                     process(pid=1234, ports=(8080,))])
    st, js = s.submit(agent, r1)
    check(t + "ingest-exposed", st == 200, js)
    got = wait_for(lambda: kinds(A) if len(A.got) >= 2 else None)
    check_eq(t + "exposed-and-new-archive-events", got, ["archive_vulnerable", "device_critical_exposed"])
    ev = {e["event"]: e for e in A.events()}
    ce = ev.get("device_critical_exposed", {})
    check(t + "exposed-event-body", ce.get("data", {}).get("device", {}).get("hostname") == "web1"
          and ce["data"]["critical_files"] >= 1 and ce["data"]["processes"][0]["pid"] == 1234
          and ce["data"]["device"]["tags"] == ["prod"] and ce["data"]["device"]["machine_id"] == mid(1)
          and ce["data"].get("cause") == "report", ce)
    av = ev.get("archive_vulnerable", {})
    check(t + "archive-event-body", av.get("data", {}).get("archive", {}).get("sha256") == sha(1)
          and av["data"]["archive"]["cves"] == ["CVE-2021-44228"] and av["data"].get("cause") == "report", av)
    check(t + "signatures-A", A.got and all(verify(SECRET_A, h, b) for h, b, p in A.got),
          [h.get("x-log4scan-signature") for h, b, p in A.got])
    check(t + "signature-mutant-fails", A.got and not verify(SECRET_A, A.got[0][0], A.got[0][1] + b" ")
          and not verify(SECRET_R, A.got[0][0], A.got[0][1]))
    check(t + "event-headers", A.got and A.got[0][0].get("x-log4scan-event") == json.loads(A.got[0][1])["event"]
          and A.got[0][0].get("x-log4scan-delivery", "").isdigit() and A.got[0][2] == "/hook?token=abc",
          A.got[0][0] if A.got else None)
    # B (all events) answers 302: C must see nothing
    check(t + "redirect-not-followed", wait_for(lambda: len(B.got) >= 2) and not C.got, (len(B.got), len(C.got)))

    # the same scan again: nothing new
    n_a = len(A.got)
    st, js = s.submit(agent, report(dict(e1, report_id=str(uuid.uuid4()), created="2026-11-27T22:00:00Z"),
                                    [finding("/opt/app/lib/log4j-core-2.14.1.jar", sha256=sha(1)),
                                     finding("/opt/app/lib/log4j-core-2.14.1.jar", sha256=sha(1), pid=1234),
                                     process(pid=1234, ports=(8080,))]))
    check(t + "ingest-same-state", st == 200, js)

    # an attack
    el = dict(envelope(mid(1), "web1", command="logs", created="2026-11-27T22:10:00Z"))
    rl = report(el, [attempt(12, "203.0.113.7"), attempt(13, "evil.example.com")], summary=False)
    st, js = s.submit(agent, rl)
    check(t + "ingest-attack", st == 200, js)
    att = wait_for(lambda: [e for e in A.events() if e["event"] == "device_attacked"])
    check(t + "attacked-event", len(att) == 1 and att[0]["data"]["attempts_new"] == 2
          and sorted(a["host"] for a in att[0]["data"]["attempts"]) == ["203.0.113.7", "evil.example.com"], att)
    # the same attempts in another report: no new attempt, no event
    st, js = s.submit(agent, report(dict(el, report_id=str(uuid.uuid4())), [attempt(12, "203.0.113.7")],
                                    summary=False))
    # the same archive on another device: not new; a new archive: one event
    e2 = envelope(mid(2), "web2")
    st2, js2 = s.submit(agent, report(e2, [finding("/srv/x/log4j-core-2.14.1.jar", sha256=sha(1)),
                                           finding("/srv/y/log4j-core-2.15.0.jar", version="2.15.0",
                                                   cves=("CVE-2021-45046",), sha256=sha(2)),
                                           finding("/srv/z/log4j-core-2.17.1.jar", version="2.17.1",
                                                   status="safe", cves=(), sha256=sha(3))]))
    check(t + "ingest-second-device", st == 200 and st2 == 200, (js, js2))
    wait_for(lambda: len([e for e in A.events() if e["event"] == "archive_vulnerable"]) >= 2)
    time.sleep(2)  # let anything wrongly queued arrive too
    arch = [e["data"]["archive"]["sha256"] for e in A.events() if e["event"] == "archive_vulnerable"]
    check_eq(t + "archive-events-once-each", sorted(arch), sorted([sha(1), sha(2)]))
    check_eq(t + "attacked-once", len([e for e in A.events() if e["event"] == "device_attacked"]), 1)
    check_eq(t + "no-duplicate-events", len(A.got), n_a + 2)
    check(t + "signatures-all-A", all(verify(SECRET_A, h, b) for h, b, p in A.got))

    # --- retries: R answered 500, 500, then 200 for its one event (attacks only)
    wait_for(lambda: len(R.got) >= 3)
    check_eq(t + "retried-after-500", [json.loads(b)["event"] for h, b, p in R.got], ["device_attacked"] * 3)
    check(t + "retry-same-delivery-signed", len({h.get("x-log4scan-delivery") for h, b, p in R.got}) == 1
          and all(verify(SECRET_R, h, b) for h, b, p in R.got))
    log = wait_for(lambda: [x for x in s.get_json("/api/v1/webhooks/log?webhook=%d&limit=500" % hook_r,
                                                  reader)["items"]] if len(R.got) >= 3 else None)
    log = s.get_json("/api/v1/webhooks/log?webhook=%d&limit=500" % hook_r, reader)["items"]
    check_eq(t + "log-attempts", sorted((x["attempt"], x["status"]) for x in log), [(1, 500), (2, 500), (3, 200)])
    check(t + "log-fields", log and all(x["event"] == "device_attacked" and x["url"] == R.url and x["at"] > 0
                                        for x in log), log)

    # B: every delivery failed after 3 attempts, each a 302, C nothing
    def b_done():
        w = [x for x in s.get_json("/api/v1/webhooks", reader)["webhooks"] if x["id"] == hook_b]
        return w and w[0]["pending"] == 0 and w[0]["failed"] >= 4 and w
    wb = wait_for(b_done, 90)
    check(t + "redirect-is-failure", wb and wb[0]["failed"] == 4 and wb[0]["delivered"] == 0 and wb[0]["last_status"] == 302
          and "redirect" in (wb[0]["last_error"] or ""), wb)
    blog = s.get_json("/api/v1/webhooks/log?webhook=%d&limit=500" % hook_b, reader)["items"]
    check(t + "redirect-log", blog and all(x["status"] == 302 for x in blog) and max(x["attempt"] for x in blog) == 3,
          blog[:3])
    check_eq(t + "redirect-target-saw-nothing", len(C.got), 0)
    st, hd, csv = s.get("/api/v1/webhooks/log?format=csv", reader)
    check(t + "log-csv", st == 200 and csv.startswith(b"id,at,webhook_id,url"), csv[:100])
    st, hd, data = s.get("/api/v1/webhooks/log?nope=1", reader)
    check_eq(t + "log-unknown-param-400", st, 400)

    # --- send test
    n_a = len(A.got)
    st, js = post(s, "/api/v1/webhooks/%d/test" % hook_a, None, sess, csrf)
    check(t + "test-action", st == 200 and js.get("test_event"), (st, js))
    wait_for(lambda: len(A.got) > n_a)
    check(t + "test-delivered", len(A.got) == n_a + 1 and json.loads(A.got[-1][1])["event"] == "test"
          and verify(SECRET_A, A.got[-1][0], A.got[-1][1]), A.got[-1:] and A.got[-1][1])
    st, js = post(s, "/api/v1/webhooks/999/test", None, sess, csrf)
    check_eq(t + "test-unknown-404", st, 404)
    n_a = len(A.got)
    p = cli(db, "webhook", "test", str(hook_a))
    wait_for(lambda: len(A.got) > n_a)
    check(t + "cli-test-delivered", p.returncode == 0 and len(A.got) == n_a + 1
          and json.loads(A.got[-1][1])["event"] == "test", p.stderr)
    p = cli(db, "webhook", "delete", "999")
    check(t + "cli-delete-unknown", p.returncode == 1 and "no webhook 999" in p.stderr, p.stderr)
    p = cli(db, "webhook", "frobnicate")
    check_eq(t + "cli-unknown-subcommand", p.returncode, 2)

    # --- durability: a delivery failed once, then the collector restarts
    R.script = [500]
    n_r = len(R.got)
    st, js = s.submit(agent, report(envelope(mid(3), "web3", command="logs"), [attempt(5, "198.51.100.9")],
                                    summary=False))
    wait_for(lambda: len(R.got) > n_r)
    rc = s.stop()
    check(t + "clean-exit", rc == 0 and "ERROR: AddressSanitizer" not in s.log_text()
          and "runtime error" not in s.log_text(), "status %s: %s" % (rc, s.log_text()[-600:]))
    log1 = s.log_text()
    # --- and a report imported while no collector runs
    n_a = len(A.got)
    imp = os.path.join(OUT, "wh-import-%s.json" % kind)
    with open(imp, "w") as f:
        f.write(report(envelope(mid(4), "web4", command="logs"), [attempt(7, "192.0.2.77")], summary=False))
    p = cli(db, "import", imp)
    check(t + "import-while-stopped", p.returncode == 0, p.stderr)
    # targets from before the kind rules_changed (schema 16): A, subscribed
    # to every kind there was, gets it; R, which chose one, keeps its choice
    db_sql(db, "UPDATE webhooks SET events = 'device_critical_exposed,device_attacked,archive_vulnerable'"
               " WHERE id = %d" % hook_a)
    # (migrations run from the highest recorded one: 17's, the distinct
    # paths, is undone too so that 16 runs again)
    db_sql(db, "DROP INDEX findings_path")
    db_sql(db, "ALTER TABLE findings DROP COLUMN path_id")
    db_sql(db, "DROP TABLE paths")
    db_sql(db, "DELETE FROM schema_migrations WHERE version >= 16")
    time.sleep(1)
    check_eq(t + "nothing-sent-while-stopped", len(A.got), n_a)
    s = Server(db, "--webhook-backoff", "1", "--webhook-attempts", "3", name="webhooks2-" + kind)
    got = wait_for(lambda: [e for e in A.events()[n_a:] if e["event"] == "device_attacked"])
    check(t + "queued-event-delivered-after-restart", got and got[0]["data"]["device"]["hostname"] == "web4", got)
    def web3():
        return [(h["x-log4scan-delivery"]) for h, b, p in R.got[n_r:]
                if json.loads(b)["data"]["device"]["hostname"] == "web3"]
    got = wait_for(lambda: len(web3()) >= 2 and web3())
    check(t + "retry-after-restart", got and len(got) == 2 and got[0] == got[1], got)
    ev_of = {w["id"]: w["events"] for w in s.get_json("/api/v1/webhooks", reader)["webhooks"]}
    check(t + "upgrade-all-kinds-gets-rules_changed", "rules_changed" in ev_of.get(hook_a, [])
          and ev_of.get(hook_r) == ["device_attacked"], ev_of)
    rules_changed_events(t, db, s, agent, A, R, B)

    # --- delete
    sess, csrf = login(s)
    st, js = post(s, "/api/v1/webhooks/%d/delete" % hook_b, None, sess, csrf)
    check(t + "delete", st == 200, (st, js))
    st, js = post(s, "/api/v1/webhooks/%d/delete" % hook_b, None, sess, csrf)
    check_eq(t + "delete-again-404", st, 404)
    p = cli(db, "webhook", "delete", str(hook_r))
    check(t + "cli-delete", p.returncode == 0, p.stderr)
    ids = [w["id"] for w in s.get_json("/api/v1/webhooks", reader)["webhooks"]]
    check_eq(t + "deleted-gone", ids, [hook_a])
    ev = s.get_json("/api/v1/webhooks/events?limit=500", reader)["items"]
    check(t + "events-list", len(ev) >= 6 and {"device_attacked", "archive_vulnerable", "device_critical_exposed",
                                                "test"} <= {e["event"] for e in ev}, ev[:3])

    rc = s.stop()
    check(t + "clean-exit-2", rc == 0 and "ERROR: AddressSanitizer" not in s.log_text()
          and "runtime error" not in s.log_text(), "status %s: %s" % (rc, s.log_text()[-600:]))
    text = log1 + s.log_text()
    check(t + "no-secret-in-log", all(x not in text for x in (SECRET_A, SECRET_R, SECRET_B)) and "token=abc" not in text)
    for r in (A, R, B, C):
        r.close()


FICTIONAL = "CVE-2099-0001"
FICTIONAL_RULES = ('\ncve %s log4j-core 9.3 "fictional: a flaw in 2.17.x"\n'
                   "affected %s 2.17.0 2.18.0\nfixed %s 2.18.0\n"
                   "mitigated-if-absent %s lookup/JndiLookup\n") % ((FICTIONAL,) * 4)


def rules_changed_events(t, db, s, agent, A, R, B):
    """New rules that make three devices affected by a CVE: one
    rules_changed event (not one per device) saying so, with the CVE's new
    score and title and the change's id for the drill-down; to the targets
    subscribed to it only; rolling back: one more, "no longer"."""
    def fact_finding(path, facts):
        f = finding(path, version="2.17.1", status="safe", cves=())
        f["facts"] = facts
        return f
    # rj1 and rj2 have the same archive (sha 81), rj3 its own; rj1's is
    # loaded by a JVM listening on 0.0.0.0 (exposed, not critically: the
    # copy is safe under the built-in rules)
    for i, host in enumerate(("rj1", "rj2", "rj3")):
        f = fact_finding("/srv/%s/log4j-core-2.17.1.jar" % host, "v1 set=2.17.1 pom=2.17.1 +lookup/JndiLookup")
        if host != "rj3":
            f["sha256"] = sha(81)
        items = [f]
        if host == "rj1":
            f["pid"] = 4321
            items.append(process(pid=4321, ports=(8443,)))
        st, js = s.submit(agent, report(envelope(mid(60 + i), host), items))
        check(t + "rules-ingest-" + host, st == 200, js)
    # rj5: an archive vulnerable already (re-judged, still vulnerable)
    f = fact_finding("/srv/rj5/log4j-core-2.14.1.jar", "v1 set=2.14.1 pom=2.14.1 +lookup/JndiLookup")
    f.update(version="2.14.1", status="vulnerable", cves=["CVE-2021-44228"], severity="critical", sha256=sha(85))
    st, js = s.submit(agent, report(envelope(mid(65), "rj5"), [f]))
    check(t + "rules-ingest-rj5", st == 200, js)
    # targets subscribed to one kind each, added after those ingests
    V, X = Receiver(), Receiver()
    sv = os.path.join(OUT, "wh-secret-v-" + t.split("-")[0])
    with open(sv, "w") as fh:
        fh.write(SECRET_B + "\n")
    one_kind = []
    for rx, kind in ((V, "archive_vulnerable"), (X, "device_critical_exposed")):
        p = cli(db, "webhook", "add", rx.url, "--secret-file", sv, "--events", kind)
        check(t + "rules-add-" + kind, p.returncode == 0, p.stderr)
        one_kind.append(p.stdout.strip())
    # a fourth: JndiLookup removed, so only mitigated (not affected)
    st, js = s.submit(agent, report(envelope(mid(63), "rj4"), [
        fact_finding("/srv/rj4/log4j-core-2.17.1.jar", "v1 set=2.17.1 pom=2.17.1 -lookup/JndiLookup")]))
    good = os.path.join(OUT, "wh-rules-%s.rules" % t.split("-")[0])
    with open(good, "w") as f:
        f.write(open(os.path.join(TOP, "rules/log4j.rules")).read() + FICTIONAL_RULES)
    n_a, n_r, n_b = len(A.got), len(R.got), len(B.got)
    p = cli(db, "rules", "load", good)
    check(t + "rules-load", p.returncode == 0, p.stderr)

    def rules_events():
        return [e for e in A.events()[n_a:] if e["event"] == "rules_changed"]
    got = wait_for(lambda: len(rules_events()) >= 1 and rules_events())
    time.sleep(2)  # a second event (one per device) would come now
    got = rules_events()
    check_eq(t + "rules-changed-one-event", len(got), 1)
    d = got[0]["data"] if got else {}
    fic = [c for c in d.get("cves", []) if c["cve"] == FICTIONAL]
    check(t + "rules-changed-body", d.get("rules_id") == 1 and d.get("prev_id") == 0 and d.get("source") == good
          and d.get("devices_newly_affected") == 3 and d.get("devices_no_longer_affected") == 0
          and len(fic) == 1 and fic[0]["newly"] == 3 and fic[0]["no_longer"] == 0
          and (fic[0]["cvss"], fic[0]["severity"], fic[0]["title"]) ==
          ("9.3", "critical", "fictional: a flaw in 2.17.x"),
          d)
    if fic:
        q = "/api/v1/devices?limit=50&rules_change=%d&change=newly" % fic[0]["change_id"]
        reader = make_token(db, "rules-reader", "read")
        check_eq(t + "rules-changed-drill-down", sorted(x["hostname"] for x in s.get_json(q, reader)["items"]),
                 ["rj1", "rj2", "rj3"])
    check(t + "rules-changed-signed", all(verify(SECRET_A, h, b) for h, b, p in A.got[n_a:]))
    # what the change made so: the archives newly vulnerable (sha 81 once,
    # on two devices; rj3's), none for rj5's or the earlier ones; rj1
    # critically exposed
    wait_for(lambda: len(V.got) >= 2 and len(X.got) >= 1)
    time.sleep(2)  # one per device or per finding would come now
    av = sorted((e["data"] for e in V.events()), key=lambda d: d["archive"]["path"])
    check_eq(t + "rules-archive-events", [(d["archive"]["sha256"], d["device"]["hostname"], d["devices"])
                                          for d in av],
             [(sha(81), "rj1", 2), (hashlib.sha256(b"/srv/rj3/log4j-core-2.17.1.jar").hexdigest(), "rj3", 1)])
    check(t + "rules-archive-event-body", av and all(
        e["event"] == "archive_vulnerable" and e["data"].get("cause") == "rules_change" and e["data"]["rules_id"] == 1
        and e["data"]["prev_id"] == 0 and FICTIONAL in e["data"]["archive"]["cves"]
        and e["data"]["archive"]["version"] == "2.17.1" and e["data"]["archive"]["severity"] == "critical"
        and e["data"]["device"]["machine_id"] == mid(60 if e["data"]["device"]["hostname"] == "rj1" else 62)
        and e["data"]["device"]["tags"] == ["prod"] and e["data"]["report_id"] for e in V.events()), V.events())
    check(t + "rules-archive-events-signed", V.got and all(verify(SECRET_B, h, b) for h, b, p in V.got))
    ce = X.events()
    check(t + "rules-critical-exposed-event", len(ce) == 1 and ce[0]["event"] == "device_critical_exposed"
          and ce[0]["data"]["device"]["hostname"] == "rj1" and ce[0]["data"].get("cause") == "rules_change"
          and ce[0]["data"]["rules_id"] == 1 and ce[0]["data"]["critical_files"] == 1
          and [(x["pid"], x["listening"][0]["port"]) for x in ce[0]["data"]["processes"]] == [(4321, 8443)]
          and verify(SECRET_B, X.got[0][0], X.got[0][1]), ce)
    n_v, n_x = len(V.got), len(X.got)
    check(t + "rules-changed-not-to-unsubscribed", all(json.loads(b)["event"] != "rules_changed"
                                                       for h, b, p in R.got[n_r:]), len(R.got) - n_r)
    p = cli(db, "rules", "rollback", "0")
    check(t + "rules-rollback", p.returncode == 0, p.stderr)
    got = wait_for(lambda: len(rules_events()) >= 2 and rules_events())
    time.sleep(1)
    got = rules_events()
    d = got[1]["data"] if len(got) == 2 else {}
    check(t + "rules-rollback-event", len(got) == 2 and d.get("rules_id") == 0 and d.get("source") == "built-in"
          and d.get("devices_newly_affected") == 0 and d.get("devices_no_longer_affected") == 3
          and [(c["cve"], c["newly"], c["no_longer"], c["title"]) for c in d["cves"]] == [(FICTIONAL, 0, 3, None)],
          got)
    # the same rules again: nothing changes, no event
    p = cli(db, "rules", "rollback", "0")
    check(t + "rules-same-again", p.returncode == 0, p.stderr)
    time.sleep(2)
    check_eq(t + "rules-no-change-no-event", len(rules_events()), 2)
    # the rollback made nothing vulnerable or exposed: no event; the
    # fictional rules again: rj1 becomes critically exposed again (an
    # event), its archives are vulnerable again but not for the first time
    # in the fleet (none)
    check_eq(t + "rules-rollback-no-archive-or-exposed-event", (len(V.got), len(X.got)), (n_v, n_x))
    p = cli(db, "rules", "load", good)
    check(t + "rules-load-again", p.returncode == 0, p.stderr)
    wait_for(lambda: len(X.got) > n_x)
    time.sleep(2)
    check(t + "rules-again-exposed-again", len(X.got) == n_x + 1
          and X.events()[-1]["data"]["device"]["hostname"] == "rj1" and X.events()[-1]["data"]["rules_id"] == 2,
          X.events()[n_x:])
    check_eq(t + "rules-again-no-archive-event", len(V.got), n_v)
    p = cli(db, "rules", "rollback", "0")
    check(t + "rules-rollback-again", p.returncode == 0, p.stderr)
    for hook in one_kind:
        p = cli(db, "webhook", "delete", hook)
        check(t + "rules-delete-one-kind-" + hook, p.returncode == 0, p.stderr)
    V.close()
    X.close()


def two_servers():
    """PostgreSQL: two servers on one database send each delivery once"""
    t = "pg-two-servers-"
    try:
        db = new_db("pg", "webhooks_two")
    except Exception as e:
        not_ok(t + "backend-available", e)
        return
    agent = make_token(db, "fleet")
    # a slow receiver: while one server is sending its batch, the other reads
    # the same due deliveries; only the claim keeps them from both sending
    rx = Receiver(delay=0.2)
    sfile = os.path.join(OUT, "wh-secret-two")
    with open(sfile, "w") as f:
        f.write(SECRET_A + "\n")
    p = cli(db, "webhook", "add", rx.url, "--secret-file", sfile, "--events", "device_attacked")
    check(t + "add", p.returncode == 0, p.stderr)
    s1 = Server(db, "--webhook-backoff", "1", name="webhooks-two-1")
    s2 = Server(db, "--webhook-backoff", "1", name="webhooks-two-2")
    n = 30
    codes = [(s1 if i % 2 else s2).submit(agent, report(envelope(mid(100 + i), "two%d" % i, command="logs"),
                                                        [attempt(i + 1, "203.0.113.%d" % (i + 1))],
                                                        summary=False))[0] for i in range(n)]
    check_eq(t + "ingested", codes, [200] * n)
    wait_for(lambda: len(rx.got) >= n, 120)
    time.sleep(3)  # a second copy would come within the next pass
    ids = [h.get("x-log4scan-delivery") for h, b, path in rx.got]
    check(t + "each-delivery-once", len(ids) == n and len(set(ids)) == n, (len(ids), len(set(ids))))
    check(t + "signed", all(verify(SECRET_A, h, b) for h, b, path in rx.got))
    for srv in (s1, s2):
        rc = srv.stop()
        check(t + "clean-exit", rc == 0 and "ERROR: AddressSanitizer" not in srv.log_text(), "status %s" % rc)
    rx.close()


def browser():
    bdir = BROWSER_DIR
    if not browser_ready("browser-"):
        return
    db = new_db("sqlite", "webhooks_browser")
    make_user(db, "alice", "s3cret-passw0rd")
    s = Server(db, "--webhook-backoff", "1", name="webhooks-browser")
    rx = Receiver()
    secret = "browser-secret-" + uuid.uuid4().hex
    p = subprocess.run(["node", "webhooks.test.js", "http://127.0.0.1:%d" % s.port, "alice", "s3cret-passw0rd",
                        rx.url, secret, OUT], cwd=bdir, capture_output=True, text=True, timeout=600)
    for line in p.stdout.splitlines():
        if line.startswith("ok "):
            ok("browser-" + line[3:])
        elif line.startswith("not ok "):
            not_ok("browser-" + line[7:].split(" - ")[0], line.split(" - ", 1)[-1])
    check("browser-run", p.returncode == 0, (p.stdout + p.stderr)[-400:])
    got = [(h, b) for h, b, path in rx.got]
    check("browser-test-event-received-signed", any(json.loads(b)["event"] == "test" and verify(secret, h, b)
                                                    for h, b in got), len(got))
    rc = s.stop()
    check("browser-clean-exit", rc == 0 and secret not in s.log_text(), "status %s" % rc)
    rx.close()


for backend in ("sqlite", "pg"):
    run(backend)
two_servers()
browser()
finish()
