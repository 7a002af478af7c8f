"""t_server_hostile.py - the collector under hostile input (SQLite backend).

Malformed reports get 400 with a reason naming the line; oversized uploads
413 (or a closed connection for a chunked body); too many records 400;
unauthenticated uploads 401 before the body is read; too many requests 429;
several hundred mutated reports never crash the server (each answer is 200
or 400), and it still shuts down cleanly under ASan/UBSan.
"""
import json
import os
import random
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (OUT, SERVER, Server, attempt, check, check_eq, envelope, finding, make_token,  # noqa: E402
                           mid, new_db, process, report)

db = new_db("sqlite", "hostile")
agent = make_token(db, "fleet")
s = Server(db, "--max-report-bytes", "200000", "--max-records", "50", "--rate", "0", name="hostile")

good_env = envelope(mid(7), "h7")


def body_with(*records, env=None):
    return report(env or envelope(mid(7), "h7"), list(records), summary=False)


def expect_400(name, body, word):
    st, js = s.submit(agent, body)
    reason = (js or {}).get("error", "")
    check(name, st == 400 and word in reason, (st, js))


expect_400("malformed-json", json.dumps(good_env) + "\n{\"kind\":\"finding\",\n", "line 2")
expect_400("line-not-object", json.dumps(good_env) + "\n[1,2]\n", "JSON object")
expect_400("missing-envelope", json.dumps(finding("/a.jar")) + "\n", "envelope")
expect_400("empty-body", "\n\n", "empty")
expect_400("bad-report-id", json.dumps(dict(good_env, report_id="../../etc/passwd")) + "\n", "report_id")
expect_400("bad-created", json.dumps(dict(good_env, created="yesterday")) + "\n", "created")
expect_400("bad-machine-id", json.dumps(dict(good_env, host={"machine_id": "zz", "hostname": "x"})) + "\n",
           "machine_id")
expect_400("no-identity", json.dumps(dict(good_env, host={"os": "x"})) + "\n", "machine_id or a hostname")
expect_400("bad-status", body_with(dict(finding("/a.jar"), status="pwned")), "status")
expect_400("wrong-type", body_with(dict(process(), pid="1234")), "pid")
expect_400("bad-sha256", body_with(dict(finding("/a.jar"), sha256="<script>")), "sha256")
expect_400("bad-listening", body_with(dict(process(), listening=[{"port": "x"}])), "listening")
expect_400("nul-in-string", json.dumps(good_env) + "\n" + '{"kind":"finding","path":"a\\u0000b","status":"safe"}\n',
           "line 2")
st, js = s.submit(agent, json.dumps(good_env).encode() + b"\n" +
                  b'{"kind":"finding","path":"\xff\xfe.jar","status":"safe"}\n')
check("invalid-utf8-400", st == 400 and "line 2" in js.get("error", ""), (st, js))
deep = '{"kind":"finding","path":"x","status":"safe","evidence":' + "[" * 5000 + "]" * 5000 + "}"
expect_400("deep-nesting", json.dumps(good_env) + "\n" + deep + "\n", "line 2")
expect_400("too-many-records", body_with(*[finding("/f%d.jar" % i) for i in range(51)]), "more than 50 records")
expect_400("long-field", body_with(finding("/" + "a" * 70000)), "")

# forward compatible: unknown kinds and fields are ignored
st, js = s.submit(agent, body_with(dict(finding("/ok.jar"), future_field={"x": [1, 2]}),
                                   {"kind": "telemetry", "anything": True},
                                   env=dict(envelope(mid(8), "h8"), new_top_level=1)))
check("unknown-kinds-and-fields-accepted", st == 200 and js.get("accepted"), (st, js))

# a non-UTF-8 path arrives as U+FFFD text plus the exact bytes in path_b64
st, js = s.submit(agent, body_with(dict(finding("/srv/caf\ufffd.jar"), path_b64="L3Nydi9jYWbpLmphcg=="),
                                   env=envelope(mid(9), "h9")))
check("path-b64-accepted", st == 200, (st, js))

# too large: announced by Content-Length -> 413 without reading the body
big = body_with(*[finding("/big/%05d/%s.jar" % (i, "x" * 4500)) for i in range(49)])
check("oversized-fixture", len(big) > 200000, len(big))
st, js = s.submit(agent, big)
check_eq("oversized-413", st, 413)
# too large and chunked: the connection is closed, the server lives on
sock = socket.create_connection(("127.0.0.1", s.port))
sock.sendall(b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + agent.encode() +
             b"\r\nTransfer-Encoding: chunked\r\n\r\n")
closed = False
try:
    for _ in range(60):
        chunk = b"x" * 4096
        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    sock.sendall(b"0\r\n\r\n")
    sock.settimeout(10)
    data = sock.recv(100)
    closed = data == b"" or not data.startswith(b"HTTP/1.1 200")
except OSError:
    closed = True
sock.close()
check("oversized-chunked-refused", closed)

# unauthenticated: refused before the body is read
st, h, data = s.request("POST", "/api/v1/reports", body=big)
check_eq("no-token-401", st, 401)
st, h, data = s.request("POST", "/api/v1/reports", body="x", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
check_eq("basic-auth-401", st, 401)
st, h, data = s.request("PUT", "/api/v1/reports", body="x", headers={"Authorization": "Bearer " + agent})
check_eq("wrong-method-405", st, 405)
st, h, data = s.request("POST", "/index.html", body="x")
check_eq("post-to-static-405", st, 405)
st, h, data = s.request("GET", "/api/v1/summary", headers={"Authorization": "Bearer " + "A" * 5000})
check("huge-header-refused", st in (401, 413, 431), st)

# a partial request, then the client goes away
sock = socket.create_connection(("127.0.0.1", s.port))
sock.sendall(b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + agent.encode() +
             b"\r\nContent-Length: 1000\r\n\r\n{\"kind\":")
sock.close()

# mutation fuzzing over HTTP: every answer is 200 or 400
rng = random.Random(7)
base = report(envelope(mid(10), "fz"), [finding("/a.jar"), process(), attempt(3)]).encode()
bad = []
for i in range(400):
    b = bytearray(base)
    for _ in range(rng.randint(1, 8)):
        if not b:
            break
        op = rng.randint(0, 3)
        pos = rng.randrange(len(b))
        if op == 0:
            b[pos] = rng.randrange(256)
        elif op == 1:
            del b[pos:pos + rng.randint(1, 20)]
        elif op == 2:
            b[pos:pos] = rng.choice([b'"', b"{", b"]", b"\\u0000", b"\xff", b"\n", b"null", b"1e999", b"-1"])
        else:
            b = b[:pos]
    st, js = s.submit(agent, bytes(b))
    if st not in (200, 400):
        bad.append((i, st))
check("mutated-reports-200-or-400", not bad, bad[:5])
check("server-survives-hostile-input", s.alive())

# check-report: the same parser offline
fix = os.path.join(OUT, "bad.ndjson")
with open(fix, "w") as f:
    f.write(json.dumps(good_env) + "\n{oops\n")
p = subprocess.run([SERVER, "check-report", fix], capture_output=True, text=True)
check("check-report-bad", p.returncode == 1 and '"valid":false' in p.stdout and "line 2" in p.stdout, p.stdout)
with open(fix, "w") as f:
    f.write(body_with(finding("/a.jar"), process(), attempt()))
p = subprocess.run([SERVER, "check-report", fix], capture_output=True, text=True)
check("check-report-good", p.returncode == 0 and '"findings":1' in p.stdout and '"attempts":1' in p.stdout, p.stdout)

rc = s.stop()
check("clean-exit", rc == 0 and "Sanitizer" not in s.log_text() and "runtime error" not in s.log_text(),
      s.log_text()[-500:])

# rate limiting per token
db2 = new_db("sqlite", "ratelimit")
agent2 = make_token(db2, "fleet")
other = make_token(db2, "other")
s2 = Server(db2, "--rate", "1", "--burst", "3", name="ratelimit")
codes = [s2.submit(agent2, report(envelope(mid(20 + i), "r%d" % i), []))[0] for i in range(6)]
check("rate-limit-429", codes[:3] == [200, 200, 200] and 429 in codes[3:], codes)
st, h, data = s2.request("POST", "/api/v1/reports", body=report(envelope(mid(40), "r"), []),
                         headers={"Authorization": "Bearer " + agent2})
check("retry-after-header", st != 429 or int(h.get("retry-after", "0")) >= 1, h)
st, js = s2.submit(other, report(envelope(mid(41), "o"), []))
check_eq("rate-limit-is-per-token", st, 200)
rc = s2.stop()
check("clean-exit-ratelimit", rc == 0, s2.log_text()[-300:])
