"""t_server_sort_csv.py - sorting, paging totals and CSV cells of the
collector's lists (issue 20 point 8), on SQLite and PostgreSQL.

For each backend, with seven devices holding 1..7 vulnerable files:
  - sort=COLUMN and order=asc|desc: the rows come back in that order
    (checked against the order computed here from the reports), paging
    through a sorted list gives every row once; every list's allow-list
    (named by the 400 of an unknown column) is the description's enum
    (docs/openapi.json), and each of its columns answers 200 both ways;
  - an unknown column, SQL in sort=, an order other than asc/desc: 400
    naming the parameter (and, for sort, the accepted columns); a list
    without an allow-list refuses sort= as an unknown parameter;
  - count=1: "total" is the number of matching rows whatever the page
    (with filters; beyond 10,000 rows total_capped), without it no total;
  - CSV: times are ISO 8601 UTC (not epoch seconds), 0 an empty cell,
    arrays flattened as "a; b" (not JSON text); the JSON keeps numbers;
  - the tables are intact and the server exits cleanly.
"""
import calendar
import csv
import io
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (TOP, Server, check, check_eq, db_sql, envelope, finding, make_token,  # noqa: E402
                           mid, new_db, not_ok, ok, report)

DOC = json.load(open(os.path.join(TOP, "docs/openapi.json")))
HOSTS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]
LISTS = ["devices", "findings", "processes", "attempts", "errors", "reports", "cves", "versions",
         "remediation", "callbacks", "trend", "images", "layers"]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def doc_sort_enum(route):
    for p in DOC["paths"]["/api/v1/" + route]["get"].get("parameters", []):
        if "$ref" in p:
            p = DOC["components"]["parameters"][p["$ref"].split("/")[-1]]
        if p["name"] == "sort":
            return sorted(p["schema"]["enum"])
    return None


def doc_has(route, name):
    for p in DOC["paths"]["/api/v1/" + route]["get"].get("parameters", []):
        if "$ref" in p:
            p = DOC["components"]["parameters"][p["$ref"].split("/")[-1]]
        if p["name"] == name:
            return True
    return False


def run(kind):
    t = kind + "-"
    try:
        db = new_db(kind, "sortcsv")
    except Exception as e:  # PostgreSQL could not be started: a failure, not a skip
        not_ok(t + "backend-available", e)
        return
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    s = Server(db, "--rate", "0", name=kind + "-sortcsv")
    hdr = {"Authorization": "Bearer " + reader}
    before = int(time.time()) - 5
    paths = []
    for i, host in enumerate(HOSTS):
        fs = []
        for k in range(i + 1):
            p = "/srv/%s/log4j-core-2.14.1-%d.jar" % (host, k)
            f = finding(p)
            f["evidence"] = ["JndiLookup.class", "pom.properties says 2.14.1"]
            fs.append(f)
            paths.append(p)
        st, js = s.submit(agent, report(envelope(mid(i + 1), host, tags=["prod", "eu-west"],
                                                 ips=["10.0.0.%d" % (i + 1), "fd00::%d" % (i + 1)]), fs))
        check(t + "ingest-" + host, st == 200, (st, js))
    after = int(time.time()) + 5

    def get(path):
        st, h, body = s.request("GET", "/api/v1/" + path, headers=hdr)
        return st, h, body.decode("utf-8", "replace")

    def items(path):
        st, h, body = get(path)
        if st != 200:   # a failure of its own, and an empty answer for the checks that follow
            not_ok(t + "answers-" + path, "%d %s" % (st, body[:200]))
            return {"items": [], "more": False}
        return json.loads(body)

    def err(body):
        try:
            return json.loads(body).get("error", "")
        except ValueError:
            return ""

    # --- sorting: the order computed here from the reports
    got = [d["hostname"] for d in items("devices?sort=hostname&order=asc")["items"]]
    check_eq(t + "devices-hostname-asc", got, sorted(HOSTS))
    got = [d["hostname"] for d in items("devices?sort=hostname&order=desc")["items"]]
    check_eq(t + "devices-hostname-desc", got, sorted(HOSTS, reverse=True))
    got = [d["vulnerable"] for d in items("devices?sort=vulnerable&order=desc")["items"]]
    check_eq(t + "devices-vulnerable-desc", got, [7, 6, 5, 4, 3, 2, 1])
    got = [d["vulnerable"] for d in items("devices?sort=vulnerable&order=asc")["items"]]
    check_eq(t + "devices-vulnerable-asc", got, [1, 2, 3, 4, 5, 6, 7])
    got = [d["vulnerable"] for d in items("devices?sort=vulnerable")["items"]]
    check_eq(t + "devices-vulnerable-default-desc", got, [7, 6, 5, 4, 3, 2, 1])
    got = [f["path"] for f in items("findings?sort=path&order=desc&limit=500")["items"]]
    check_eq(t + "findings-path-desc", got, sorted(paths, reverse=True))
    got = [f["hostname"] for f in items("findings?sort=hostname&order=asc&limit=500")["items"]]
    check_eq(t + "findings-hostname-asc", got, [h for i, h in enumerate(HOSTS) for _ in range(i + 1)])
    # paging through a sorted list: every row once, in order
    pages, page = [], 1
    while True:
        r = items("findings?sort=path&order=asc&limit=5&page=%d&count=1" % page)
        pages += [f["path"] for f in r["items"]]
        check_eq(t + "findings-page-%d-total" % page, r.get("total"), len(paths))
        if not r["more"] or page > 20:
            break
        page += 1
    check_eq(t + "findings-paged-sorted", pages, sorted(paths))
    check_eq(t + "findings-pages", page, (len(paths) + 4) // 5)

    # --- every list's allow-list: the description's, each column both ways
    for route in LISTS:
        st, h, body = get(route + "?sort=no_such_column")
        m = re.search(r"sort must be one of: (.*)$", err(body))
        check(t + "sort-unknown-400-" + route, st == 400 and m is not None, (st, body[:200]))
        if not m:
            continue
        cols = sorted(c.strip() for c in m.group(1).split(","))
        check_eq(t + "sort-allow-list-documented-" + route, cols, doc_sort_enum(route))
        check(t + "order-documented-" + route, doc_has(route, "order") and doc_has(route, "count"), route)
        bad = []
        for c in cols:
            for o in ("asc", "desc"):
                st, h, body = get("%s?sort=%s&order=%s&count=1" % (route, c, o))
                if st != 200 or "total" not in json.loads(body):
                    bad.append((c, o, st, body[:100]))
                st, h, body = get("%s?sort=%s&order=%s&format=csv" % (route, c, o))
                if st != 200:
                    bad.append((c, o, "csv", st, body[:100]))
        check(t + "sort-every-column-%s-%d" % (route, len(cols)), not bad, bad[:4])

    # --- refusals: 400 naming the parameter, never SQL from the request
    for q in ("sort=hostname%3BDROP%20TABLE%20devices", "sort=d.id", "sort=1", "sort=HOSTNAME",
              "sort=hostname%20desc", "sort=%27"):
        st, h, body = get("devices?" + q)
        check(t + "sort-refused-" + q, st == 400 and "sort" in err(body) and "hostname" in err(body), (st, body[:200]))
    for q in ("order=up", "order=ASC", "order=asc;", "order=", "sort=hostname&order=sideways"):
        st, h, body = get("devices?" + q)
        if q == "order=":   # empty is absent, as for every parameter
            check_eq(t + "order-empty-is-absent", st, 200)
            continue
        check(t + "order-refused-" + q, st == 400 and "order" in err(body), (st, body[:200]))
    got = [d["hostname"] for d in items("devices?order=asc")["items"]]
    check(t + "order-alone", len(got) == len(HOSTS), got)
    st, h, body = get("webhooks/log?sort=id")
    check(t + "sort-on-list-without-allow-list", st == 400 and "sort" in err(body), (st, body[:200]))

    # --- totals
    r = items("devices?count=1&limit=2")
    check(t + "count-devices", r.get("total") == len(HOSTS) and len(r["items"]) == 2 and r["more"]
          and r.get("total_capped") is False, r)
    r = items("devices?count=1&page=4&limit=2")
    check(t + "count-last-page", r.get("total") == len(HOSTS) and len(r["items"]) == 1 and not r["more"], r)
    r = items("findings?count=1&device=3")
    check_eq(t + "count-findings-filtered", r.get("total"), 3)
    r = items("findings?count=1&cve=CVE-2021-44228&limit=1")
    check_eq(t + "count-findings-cve", r.get("total"), len(paths))
    r = items("cves?count=1")
    check_eq(t + "count-aggregate", r.get("total"), 1)
    r = items("devices?count=0")
    check(t + "no-count-no-total", "total" not in r, r)
    r = items("devices")
    check(t + "default-no-total", "total" not in r, r)
    st, h, body = get("devices?count=maybe")
    check(t + "count-not-a-flag", st == 400 and "count" in err(body), (st, body[:200]))

    # --- CSV: ISO 8601 UTC times, flattened arrays
    st, h, body = get("devices?format=csv&sort=hostname&order=asc")
    rows = list(csv.DictReader(io.StringIO(body)))
    check_eq(t + "csv-devices-rows", [r["hostname"] for r in rows], sorted(HOSTS))
    if rows:
        r0 = rows[0]
        for col in ("first_seen", "last_seen"):
            v = r0.get(col, "")
            good = bool(ISO.match(v))
            if good:
                sec = calendar.timegm(time.strptime(v, "%Y-%m-%dT%H:%M:%SZ"))
                good = before <= sec <= after
            check(t + "csv-iso-" + col, good, (v, before, after))
        check_eq(t + "csv-retired-never-empty", r0.get("retired"), "")
        check_eq(t + "csv-tags-flat", r0.get("tags"), "prod; eu-west")
        check_eq(t + "csv-ips-flat", r0.get("ips"), "10.0.0.1; fd00::1")
        check(t + "csv-counts-still-numbers", r0.get("vulnerable") == "1", r0)
    st, h, body = get("findings?format=csv&device=1")
    rows = list(csv.DictReader(io.StringIO(body)))
    check(t + "csv-findings-one", len(rows) == 1, body[:300])
    if rows:
        check_eq(t + "csv-evidence-flat", rows[0].get("evidence"), "JndiLookup.class; pom.properties says 2.14.1")
        check_eq(t + "csv-cves-flat", rows[0].get("cves"), "CVE-2021-44228")
        check(t + "csv-no-json-arrays", not any(v.startswith("[") for v in rows[0].values() if v), rows[0])
    st, h, body = get("reports?format=csv&device=1")
    rows = list(csv.DictReader(io.StringIO(body)))
    check(t + "csv-report-created-iso", rows and rows[0].get("created") == "2026-11-27T21:00:00Z",
          rows[:1])
    check(t + "csv-report-received-iso", rows and ISO.match(rows[0].get("received", "")), rows[:1])
    # the JSON keeps epoch seconds (a program's format)
    d = (items("devices?sort=hostname&limit=1")["items"] or [{"last_seen": None, "tags": None}])[0]
    check(t + "json-times-numbers", isinstance(d["last_seen"], int) and before <= d["last_seen"] <= after, d)
    check(t + "json-arrays-arrays", d["tags"] == ["prod", "eu-west"], d)

    r = items("devices?count=1&tag=prod&limit=1")
    check_eq(t + "count-with-filter", r.get("total"), len(HOSTS))
    r = items("devices?count=1&q=ha&stale=0")
    check_eq(t + "count-with-like", r.get("total"), 2)   # alpha, charlie
    # beyond the cap: 10,000 devices more (straight into the table)
    db_sql(db, "INSERT INTO devices(ident, hostname, first_seen, last_seen) SELECT 'bulk-' || g, 'bulk-' || g, 1, 1"
               " FROM (WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c WHERE g < 10000)"
               " SELECT g FROM c) s")
    r = items("devices?count=1")
    check(t + "count-capped", r.get("total") == 10000 and r.get("total_capped") is True, {k: r[k] for k in r if k != "items"})
    r = items("devices?count=1&q=bulk-999")   # bulk-999, bulk-9990..9999
    check(t + "count-under-cap", r.get("total") == 11 and r.get("total_capped") is False, {k: r[k] for k in r if k != "items"})
    check_eq(t + "tables-intact", db_sql(db, "SELECT COUNT(*) FROM devices"), str(len(HOSTS) + 10000))
    rc = s.stop()
    check(t + "clean-exit", rc == 0 and "Sanitizer" not in s.log_text() and "runtime error" not in s.log_text(),
          s.log_text()[-500:])


for kind in ("sqlite", "pg"):
    run(kind)
import server_common  # noqa: E402
ok("done") if not server_common.failures else None
sys.exit(1 if server_common.failures else 0)
