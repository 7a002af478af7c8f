#!/usr/bin/env python3
"""t_server_tls.py - the collector over HTTPS (--tls-cert / --tls-key).

A self-signed certificate for 127.0.0.1 is made at test time with
`openssl req -x509`; the server (SQLite) is started with it.  Checks: an
HTTPS request verified against that certificate as the only CA succeeds,
with the dashboard's security headers; the agent (`log4scan scan --submit
https://... --cacert cert.pem`) delivers its report; without --cacert the
agent refuses the unknown certificate and spools the report; plain HTTP on
the TLS port gets no HTTP answer; a key that does not match the certificate
is refused at start."""
import http.client
import os
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (OUT, SERVER, Server, check, check_eq, envelope, finding,  # noqa: E402
                           finish, make_token, new_db, report)

L4S, CORPUS = os.environ["L4S"], os.environ["CORPUS"]
TLS = os.path.join(OUT, "tls")
os.makedirs(TLS, exist_ok=True)
CERT, KEY = os.path.join(TLS, "cert.pem"), os.path.join(TLS, "key.pem")
OTHER_CERT, OTHER_KEY = os.path.join(TLS, "other-cert.pem"), os.path.join(TLS, "other-key.pem")
SPOOL = os.path.join(TLS, "spool")
TREE = os.path.join(TLS, "tree")
os.makedirs(TREE, exist_ok=True)
with open(os.path.join(CORPUS, "log4j-samples/true-hits/log4j-core-2.14.1.jar"), "rb") as f, \
        open(os.path.join(TREE, "a.jar"), "wb") as g:
    g.write(f.read())


def make_cert(cert, key):
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError("openssl: " + p.stderr)


make_cert(CERT, KEY)
make_cert(OTHER_CERT, OTHER_KEY)

db = new_db("sqlite", "tls")
token = make_token(db, "fleet")
reader = make_token(db, "reader", role="read")
srv = Server(db, "--tls-cert", CERT, "--tls-key", KEY, name="server-tls")
check("server says https", "listening on https://127.0.0.1:%d" % srv.port in srv.log_text(), srv.log_text()[-300:])
url = "https://127.0.0.1:%d" % srv.port


def https(method, path, body=None, headers=None):
    ctx = ssl.create_default_context(cafile=CERT)
    c = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=60)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


# A verified HTTPS request (the certificate as the only CA).
st, h, data = https("GET", "/api/v1/summary", headers={"Authorization": "Bearer " + reader})
check_eq("https summary answers 200", st, 200)
check("https summary is JSON with devices", b'"devices":0' in data.replace(b" ", b""), data[:200])
st, h, data = https("GET", "/")
check("https dashboard page has a CSP", st in (200, 302, 303) and "content-security-policy" in h, (st, h))
st, h, data = https("POST", "/api/v1/reports",
                    body=report(envelope(machine_id="c0ffee" * 5 + "00", hostname="tls-host"),
                                [finding("/srv/a.jar")]).encode(),
                    headers={"Authorization": "Bearer " + token, "Content-Type": "application/x-ndjson"})
check_eq("https report accepted", st, 200)

# The certificate is verified: a client that does not trust it fails.
try:
    c = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ssl.create_default_context(), timeout=30)
    c.request("GET", "/api/v1/summary")
    c.getresponse().read()
    check("untrusted certificate is rejected by a verifying client", False, "request succeeded")
except ssl.SSLError:
    check("untrusted certificate is rejected by a verifying client", True)

# Plain HTTP on the TLS port: no HTTP answer.
try:
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    c.request("GET", "/api/v1/summary")
    r = c.getresponse()
    r.read()
    check("plain HTTP on the TLS port gets no HTTP answer", r.status == 400 and b"devices" not in r.read(),
          r.status)
except (http.client.HTTPException, ConnectionError, OSError):
    check("plain HTTP on the TLS port gets no HTTP answer", True)


def agent(*args):
    env = dict(os.environ)
    env.pop("LOG4SCAN_TOKEN", None)
    env["LOG4SCAN_TOKEN"] = token
    env.pop("CURL_CA_BUNDLE", None)
    env.pop("SSL_CERT_FILE", None)
    return subprocess.run([L4S, *args], capture_output=True, text=True, env=env, timeout=300)


# The agent with --cacert: delivered.
p = agent("scan", "--format", "json", "--no-config", "--submit", url, "--cacert", CERT, "--spool-dir", SPOOL, TREE)
check_eq("agent over https exits 1 (vulnerable found)", p.returncode, 1)
check("agent over https says the report was sent", "sent to" in p.stderr, p.stderr[-300:])
st, h, data = https("GET", "/api/v1/devices", headers={"Authorization": "Bearer " + reader})
check("the agent's device is on the collector", st == 200 and data.count(b'"hostname"') == 2, data[:300])

# Without --cacert the self-signed certificate is not trusted: spooled, not sent.
p = agent("scan", "--format", "json", "--no-config", "--submit", url, "--spool-dir", SPOOL, TREE)
check_eq("agent without --cacert: exit status is the scan's", p.returncode, 1)
check("agent without --cacert: report kept in the spool", "kept in" in p.stderr and os.listdir(SPOOL),
      p.stderr[-300:])
# ... and delivered by the next run that trusts the certificate.
p = agent("scan", "--format", "json", "--no-config", "--submit", url, "--cacert", CERT, "--spool-dir", SPOOL, TREE)
check("next run with --cacert delivers the spooled report", "sent to" in p.stderr and
      not [f for f in os.listdir(SPOOL) if not f.startswith(".")], p.stderr[-300:])
st, h, data = https("GET", "/api/v1/reports", headers={"Authorization": "Bearer " + reader})
check("collector has the agent's three reports and the test's one", st == 200 and data.count(b'"report_id"') == 4,
      data[:300])
check_eq("tls server exits cleanly", srv.stop(), 0)

# A key that does not belong to the certificate: refused at start.
p = subprocess.run([SERVER, "--db", db, "--listen", "127.0.0.1:0", "--tls-cert", CERT, "--tls-key", OTHER_KEY],
                   capture_output=True, text=True, timeout=60)
check("mismatched key and certificate: server refuses to start", p.returncode != 0, p.stderr[-300:])
finish()
