"""t_server_limits.py - the collector against lockout games and slow clients
(issue 23 points 1 and 2; SQLite: nothing here depends on the backend).

Lockouts, through a fake trusted proxy (requests from 127.0.0.1, configured
with --trusted-proxy, carry X-Forwarded-For):
  - one attacker address failing again and again is throttled (429 naming
    it) and the right password from another client address still logs in;
  - the client address is the rightmost untrusted hop: what the client
    wrote to the left of it changes nothing;
  - failures from many addresses lock the account (logged), yet a correct
    password from an address without failures of its own logs in, while an
    address that failed for it waits;
  - X-Forwarded-For from a peer that is not a trusted proxy (127.0.0.2) is
    ignored.
Slow clients (--max-connections 8, --request-timeout 5):
  - connections from other addresses trickling headers or a body do not
    stop a real request with a token (slots kept for authenticated work;
    the oldest unauthenticated connection makes room);
  - a request that trickles is closed at its deadline, however often it
    sends a byte;
  - --max-per-address caps one address's connections.
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import Server, check, check_eq, envelope, finding, make_token, make_user, mid, new_db, report  # noqa: E402,E501
import http.client  # noqa: E402

RIGHT = "correct horse battery"
db = new_db("sqlite", "limits")
make_user(db, "alice", RIGHT)
make_user(db, "bob", RIGHT)
reader = make_token(db, "siem", "read")
agent = make_token(db, "fleet")


def login(s, user, pw, xff=None, src="127.0.0.1"):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60, source_address=(src, 0))
    h = {"Content-Type": "application/json"}
    if xff:
        h["X-Forwarded-For"] = xff
    try:
        c.request("POST", "/api/v1/login", body=json.dumps({"user": user, "password": pw}), headers=h)
        r = c.getresponse()
        body = r.read()
        return r.status, body.decode("utf-8", "replace")
    finally:
        c.close()


# ---------------------------------------------------------------- lockouts
s = Server(db, "--trusted-proxy", "127.0.0.1", "--trusted-proxy", "::1", name="limits-login")

# (the address buckets refill at one per 5 s: a slow run may see one more 401 before the 429s)
codes = [login(s, "alice", "wrong", xff="198.51.100.66") for _ in range(16)]
check("attacker-address-throttled", [c for c, b in codes[:10]] == [401] * 10 and codes[-1][0] == 429,
      [c for c, b in codes])
check("throttle-names-the-address", "198.51.100.66" in codes[-1][1], codes[-1])
st, body = login(s, "alice", RIGHT, xff="203.0.113.5")
check_eq("right-password-from-another-address", st, 200)
# the left of X-Forwarded-For is the client's to write: only the rightmost untrusted hop counts
codes = [login(s, "bob", "wrong", xff="10.9.9.%d, 198.51.100.77" % i)[0] for i in range(14)]
check("spoofed-left-hops-ignored", codes[-1] == 429, codes)
st, body = login(s, "bob", RIGHT, xff="10.9.9.1, 198.51.100.78, 127.0.0.1")
check_eq("trusted-hops-skipped", st, 200)

# many addresses, one account: the account locks, but only for addresses that failed
codes = [login(s, "alice", "wrong", xff="198.18.0.%d" % i)[0] for i in range(1, 23)]
check("account-failures-401", set(codes) == {401}, codes)
check("account-lock-logged", 'account "alice" locked' in s.log_text(), s.log_text()[-600:])
codes = [login(s, "alice", "wrong", xff="198.18.0.1")[0] for _ in range(4)]
check("failing-address-locked-out-of-account", codes[-1] == 429 and codes[0] == 401, codes)
st, body = login(s, "alice", RIGHT, xff="198.18.0.1")
check("locked-address-waits-even-with-right-password", st == 429 and "account" in body, (st, body))
check("address-lockout-logged", "198.18.0.1 locked out of account" in s.log_text(), s.log_text()[-600:])
st, body = login(s, "alice", RIGHT, xff="203.0.113.9")
check_eq("right-password-from-clean-address-while-locked", st, 200)
st, body = login(s, "bob", RIGHT, xff="198.18.0.1")
check_eq("other-account-unaffected", st, 200)

# untrusted peer: its X-Forwarded-For is ignored
codes = [login(s, "bob", "wrong", xff="192.0.2.%d" % i, src="127.0.0.2") for i in range(14)]
check("untrusted-xff-ignored", codes[-1][0] == 429, [c for c, b in codes])
check("untrusted-peer-named", "127.0.0.2" in codes[-1][1], codes[-1])
st, body = login(s, "bob", RIGHT, src="127.0.0.3")
check_eq("untrusted-neighbour-unaffected", st, 200)
rc = s.stop()
check("clean-exit-login", rc == 0 and "Sanitizer" not in s.log_text() and "runtime error" not in s.log_text(),
      s.log_text()[-500:])

# ---------------------------------------------------------------- slow clients
s = Server(db, "--max-connections", "8", "--request-timeout", "5", "--max-per-address", "4", name="limits-slow")


def trickler(src, body=False):
    """A connection that sends a request a little at a time."""
    k = socket.socket()
    k.bind((src, 0))
    k.connect(("127.0.0.1", s.port))
    if body:
        k.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100000\r\n\r\n{")
    else:
        k.sendall(b"GET /api/v1/summary HTTP/1.1\r\n")
    return k


def drip(socks):
    """One more byte on each; returns how many the server has closed."""
    closed = 0
    for k in socks:
        try:
            k.sendall(b"X-a: b\r\n" if k.fileno() >= 0 else b"")
            k.settimeout(0.01)
            try:
                if k.recv(1) == b"":
                    closed += 1
            except socket.timeout:
                pass
        except OSError:
            closed += 1
    return closed


def real_request():
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    try:
        c.request("GET", "/api/v1/summary", headers={"Authorization": "Bearer " + reader})
        r = c.getresponse()
        r.read()
        return r.status
    except OSError as e:
        return repr(e)
    finally:
        c.close()


# 12 trickling connections (more than --max-connections) from three addresses
socks = []
for i in range(12):
    try:
        socks.append(trickler("127.0.0.%d" % (10 + i % 3), body=i % 2 == 1))
    except OSError:
        pass
    time.sleep(0.05)
results = []
for _ in range(3):
    results.append(real_request())
    drip(socks)
    time.sleep(0.3)
check("real-request-served-among-slow-clients", results == [200, 200, 200], results)
for k in socks:
    k.close()
time.sleep(1)

# a request with credentials is never the one closed to make room: an agent's
# upload in progress survives a flood of connections without them
body = report(envelope(mid(5), "up5"), [finding("/srv/a.jar")]).encode()
up = socket.create_connection(("127.0.0.1", s.port))
up.sendall(b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + agent.encode() +
           b"\r\nContent-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:10])
time.sleep(0.2)
flood = []
for i in range(10):
    try:
        flood.append(trickler("127.0.0.%d" % (40 + i % 3)))
    except OSError:
        pass
time.sleep(1.5)   # the server accepts the flood while the upload is still coming
up.sendall(body[10:])
up.settimeout(30)
answer = b""
try:
    while b"\r\n\r\n" not in answer:
        chunk = up.recv(4096)
        if not chunk:
            break
        answer += chunk
except OSError:
    pass
up.close()
check("authenticated-upload-not-evicted", answer.startswith(b"HTTP/1.1 200"), answer[:100])
for k in flood:
    k.close()
time.sleep(1)

# the deadline: a byte every 0.5 s never keeps a request open past --request-timeout (5 s)
late = [trickler("127.0.0.20"), trickler("127.0.0.21", body=True)]
t0 = time.monotonic()
time.sleep(0.5)
check_eq("tricklers-first-accepted", drip(late), 0)
closed_at = None
while time.monotonic() - t0 < 40:
    if drip(late) == len(late):
        closed_at = time.monotonic() - t0
        break
    time.sleep(0.5)
check("trickling-request-closed-at-its-deadline", closed_at is not None, "still open after 40 s")
check_eq("real-request-after-trickle", real_request(), 200)

# one address: at most --max-per-address connections
mine = []
refused = 0
for i in range(6):
    try:
        k = trickler("127.0.0.30")
        mine.append(k)
    except OSError:
        refused += 1
time.sleep(0.5)
closed = drip(mine) + refused
check("per-address-limit", closed >= 2, (closed, refused))
for k in late + mine:
    k.close()
check_eq("real-request-at-the-end", real_request(), 200)
rc = s.stop()
check("clean-exit-slow", rc == 0 and "Sanitizer" not in s.log_text() and "runtime error" not in s.log_text(),
      s.log_text()[-500:])
import server_common  # noqa: E402
sys.exit(1 if server_common.failures else 0)
