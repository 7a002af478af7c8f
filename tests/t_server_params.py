"""t_server_params.py - every documented route and query parameter of the
collector's API, on SQLite and PostgreSQL (issue 23 point 3, issue 20 point 1).

For each backend, with a few reports stored:
  - every route answers 200, with each of its filters given a value that
    matches the stored data (and the filter narrows: at least one row for a
    matching value), as JSON and as CSV;
  - an unknown query parameter, a parameter given twice, or a flag that is
    not a flag is a 400 naming the parameter;
  - a sweep of every route x every parameter x hostile values (SQL
    metacharacters, LIKE wildcards, huge, negative and fractional numbers,
    non-UTF-8 bytes, a NUL, empty, very long) never answers 5xx: each answer
    is 200 (valid JSON) or a 4xx whose error names the parameter;
  - the database is intact afterwards and the server exits cleanly under
    the sanitizers.
The routes and parameters below are those of docs/api.md, README.md's API
paragraph and programs/server/api_list.c; a route or filter added there
belongs here too.
"""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (Server, attempt, check, check_eq, db_sql, envelope, finding, make_token,  # noqa: E402
                           mid, new_db, not_ok, ok, process, report)

SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
LIST = ["limit", "offset", "page", "format", "count"]
FLAG = "flag"

# route -> {parameter: a value matching the stored data, or FLAG}
ROUTES = {
    "summary": {},
    "overview": {},
    "devices/1": {},
    "devices": {"status": "vulnerable", "cve": "CVE-2021-44228", "version": "2.14.1", "component": "log4j-core",
                "sha256": SHA, "host": "203.0.113.7", "tag": "prod", "q": "web", "hostname": "web1",
                "exposed": FLAG, "attacked": FLAG, "restart": FLAG, "stale": None, "errors": None,
                "shared_machine_id": None, "machine_id": mid(1), "sort": "hostname",
                "critical_exposed": None, "coverage": None, "partial": None, "severity": "critical",
                "image": None},
    "findings": {"device": "1", "status": "vulnerable", "cve": "CVE-2021-44228", "version": "2.14.1",
                 "component": "log4j-core", "sha256": SHA, "severity": "critical", "path": "log4j",
                 "tag": "prod", "running": FLAG, "image": None, "image_tag": None, "layer": None,
                 "sort": "severity"},
    "processes": {"device": "1", "status": "vulnerable", "restart": FLAG, "exposed": FLAG, "tag": "prod",
                  "sort": "pid"},
    "attempts": {"device": "1", "host": "203.0.113.7", "protocol": "ldap", "client": "198.51.100.4", "tag": "prod",
                 "sort": "timestamp"},
    "errors": {"device": None, "sort": "path"},
    "reports": {"device": "1", "sort": "received"},
    "cves": {"sort": "cve"},
    "versions": {"component": "log4j-core", "sort": "version"},
    "remediation": {"status": "vulnerable", "sort": "files"},
    "callbacks": {"sort": "host"},
    "trend": {"sort": "day"},
    "images": {"image": None, "sort": "image"},
    "layers": {"image": None, "image_tag": None, "sort": "layer"},
    "webhooks": {},
    "webhooks/log": {"webhook": None},
    "webhooks/events": {"event": None},
}
NOT_LISTS = ("summary", "overview", "devices/1", "webhooks")
# the lists that take sort= also take order= (issue 20 point 8)
for _r in ROUTES.values():
    if "sort" in _r:
        _r["order"] = "desc"
FLAGS = {"exposed", "attacked", "restart", "stale", "errors", "shared_machine_id", "running", "critical_exposed",
         "partial", "count"}

HOSTILE = ["'", "''", "\"", "';--", "' OR '1'='1", "1; DROP TABLE devices; --", "%", "_", "\\", "%_\\'",
           "0", "-1", "1.5", "1e999", "99999999999999999999999", "999999999999999", "9223372036854775808",
           "0x10", " 1", "NaN", "", "\u00e9\u4e2d", "<script>alert(1)</script>", "${jndi:ldap://x/a}",
           "a" * 4000, "true", "csv"]
RAW_HOSTILE = ["%FF%FE", "%C0%AF", "a%00b", "%ED%A0%80"]   # already percent-encoded: bad UTF-8, a NUL


def params_of(route):
    p = dict(ROUTES[route])
    if route not in NOT_LISTS:
        for k in LIST:
            p.setdefault(k, None)
    return p


def names_param(body, name):
    try:
        msg = json.loads(body).get("error", "")
    except ValueError:
        return False
    return name in msg


def run(kind):
    t = kind + "-"
    try:
        db = new_db(kind, "params")
    except Exception as e:  # PostgreSQL could not be started: that is a failure, not a skip
        not_ok(t + "backend-available", e)
        return
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    s = Server(db, "--rate", "0", name=kind + "-params")
    hdr = {"Authorization": "Bearer " + reader}
    for body in (report(envelope(mid(1), "web1", tags=["prod"]),
                        [finding("/srv/log4j-core-2.14.1.jar", sha256=SHA, pid=100),
                         process(pid=100, restart=True), attempt(12)]),
                 report(envelope(mid(2), "db1", tags=["dev"]),
                        [finding("/opt/log4j-core-2.17.1.jar", version="2.17.1", status="safe", cves=[])])):
        st, js = s.submit(agent, body)
        check(t + "ingest", st == 200, (st, js))

    def get(path):
        return s.request("GET", "/api/v1/" + path, headers=hdr)

    # --- every route, and every filter with a matching value
    for route in ROUTES:
        st, h, body = get(route)
        check(t + "route-" + route, st == 200 and json.loads(body) is not None, (st, body[:200]))
        if route not in NOT_LISTS:
            st, h, body = get(route + "?format=csv")
            check(t + "csv-" + route, st == 200 and h.get("content-type", "").startswith("text/csv"),
                  (st, body[:200]))
            st, h, body = get(route + "?format=json&limit=1&page=1&offset=0")
            check(t + "paging-" + route, st == 200 and len(json.loads(body)["items"]) <= 1, (st, body[:200]))
        for name, value in ROUTES[route].items():
            matching = value is not None and value is not FLAG and name not in ("sort", "order")
            if value is None:
                value = {"coverage": "full"}.get(name, "1")
            if value is FLAG:
                value = "1"
            st, h, body = get(route + "?" + urllib.parse.urlencode({name: value}))
            good = st == 200
            if good and matching:
                good = len(json.loads(body)["items"]) >= 1
            check(t + "filter-%s-%s" % (route, name), good, (st, body[:300]))
            if name in FLAGS:
                st, h, body = get(route + "?" + name + "=0")
                check(t + "flag-off-%s-%s" % (route, name), st == 200, (st, body[:200]))

    # the double WHERE of issues 20 and 23 (500 before)
    for path in ("versions?component=log4j-core", "versions?component=X", "remediation",
                 "remediation?format=csv", "remediation?status=safe"):
        st, h, body = get(path)
        check_eq(t + "answers-" + path, st, 200)

    # --- unknown, repeated and malformed parameters: 400 naming them
    for route in ROUTES:
        st, h, body = get(route + "?no_such_filter=1")
        check(t + "unknown-param-" + route, st == 400 and names_param(body, "no_such_filter"), (st, body[:200]))
    st, h, body = get("findings?status=vulnerable&status=safe")
    check(t + "param-twice", st == 400 and names_param(body, "status"), (st, body))
    st, h, body = get("devices?exposed=maybe")
    check(t + "flag-not-flag", st == 400 and names_param(body, "exposed"), (st, body))
    st, h, body = get("findings?format=xml")
    check(t + "bad-format", st == 400 and names_param(body, "format"), (st, body))
    st, h, body = get("devices?sort=id;drop")
    check(t + "bad-sort", st == 400 and names_param(body, "sort"), (st, body))
    st, h, body = get("findings?sort=path&order=sideways")
    check(t + "bad-order", st == 400 and names_param(body, "order"), (st, body))
    st, h, body = get("webhooks/log?order=asc")
    check(t + "order-on-unsorted-list", st == 400 and names_param(body, "order"), (st, body))
    st, h, body = get("findings?st%FFatus=1")
    check(t + "non-utf8-name", st == 400, (st, body))
    st, h, body = get("findings?path=%FF")
    check(t + "non-utf8-value-named", st == 400 and names_param(body, "path"), (st, body))
    st, h, body = get("reports/known?ids=00000000-0000-4000-8000-000000000000&extra=1")
    check(t + "known-unknown-param", st == 400 and names_param(body, "extra"), (st, body))

    # --- the sweep: route x parameter x hostile value
    bad = []
    n = 0
    for route in ROUTES:
        names = list(params_of(route)) or ["limit"]   # a route without parameters: one unknown to it
        for name in names:
            values = [urllib.parse.quote(v, safe="") for v in HOSTILE] + RAW_HOSTILE
            for v in values:
                n += 1
                st, h, body = get(route + "?" + name + "=" + v)
                if st >= 500:
                    bad.append((route, name, v[:30], st, body[:100]))
                elif st >= 400:
                    if not names_param(body, name):
                        bad.append((route, name, v[:30], st, body[:100]))
                elif st == 200 and not (route not in NOT_LISTS and h.get("content-type", "").startswith("text/csv")):
                    try:
                        json.loads(body)
                    except ValueError:
                        bad.append((route, name, v[:30], st, "not JSON"))
                else:
                    if st != 200:
                        bad.append((route, name, v[:30], st, body[:100]))
    n5 = sum(1 for b in bad if b[3] >= 500)
    check(t + "sweep-%d-requests-no-5xx" % n, n5 == 0, "%d answers 5xx: %r" % (n5, [b for b in bad if b[3] >= 500][:6]))
    check(t + "sweep-%d-requests-every-error-names-its-parameter" % n, not bad, "%d bad: %r" % (len(bad), bad[:6]))
    check(t + "sweep-reports-known", all(get("reports/known?ids=" + urllib.parse.quote(v, safe=""))[0] in (200, 400)
                                         for v in HOSTILE), "")

    check_eq(t + "tables-intact", db_sql(db, "SELECT COUNT(*) FROM devices"), "2")
    rc = s.stop()
    check(t + "clean-exit", rc == 0 and "Sanitizer" not in s.log_text() and "runtime error" not in s.log_text(),
          s.log_text()[-500:])


for kind in ("sqlite", "pg"):
    run(kind)
import server_common  # noqa: E402
ok("done") if not server_common.failures else None
sys.exit(1 if server_common.failures else 0)
