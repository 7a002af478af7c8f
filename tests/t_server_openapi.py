"""t_server_openapi.py - the collector's API description (docs/openapi.json,
served at GET /api/v1/openapi.json) against the server itself, and GET
/metrics (issue 20 point 11), on SQLite and PostgreSQL.

  - routes: every route the C sources answer (http_route.c, api_*.c,
    dashboard.c's files) is a path of the description, and every path of it
    is answered (none is 404 "no such endpoint"); a method the description
    does not give a path is refused 405;
  - parameters: the server names the parameters each route takes (the 400
    of an unknown one lists them, and which are flags): they must be the
    description's, flags where it says flag; each documented parameter is
    accepted with a valid value; each enum refuses a value outside it;
  - answers: every GET route is called on stored reports (devices, files,
    JVMs, attempts, images, errors, rules) and each JSON answer validated
    against its schema (python3-jsonschema), errors against Error;
  - roles: each operation's x-roles are the credentials it takes; any other
    is 401/403 (a metrics token reads /metrics only; no other reads it);
  - /metrics: the Prometheus text format (parsed here: HELP/TYPE before
    samples, names and labels, cumulative histograms ending +Inf with
    _count equal to it) and its numbers: reports taken and duplicates,
    refusals by reason, ingest latency observations, database statements,
    an idle queue.
"""
import json
import math
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (TOP, Server, attempt, check, check_eq, cli, envelope, finding, make_token,  # noqa: E402
                           make_user, mid, new_db, not_ok, process, report)

try:
    import jsonschema
    from jsonschema.validators import Draft202012Validator
except ImportError as e:   # a missing package is a failure, not a skip (scripts/install-deps.sh)
    print("not ok jsonschema-available - python3-jsonschema: %s" % e)
    sys.exit(1)

DOC_PATH = os.path.join(TOP, "docs/openapi.json")
RULES_EXTRA = ('\ncve CVE-2099-0001 log4j-core 9.3 "fictional"\naffected CVE-2099-0001 2.17.0 2.18.0\n'
               "fixed CVE-2099-0001 2.18.0\nmitigated-if-absent CVE-2099-0001 lookup/JndiLookup\n")
DOC = json.load(open(DOC_PATH))
SRC = os.path.join(TOP, "programs/server")
API = "/api/v1/"


# ---------------------------------------------------------------- routes in C

def c_routes():
    """The paths the server's C sources route, as OpenAPI paths, and the
    sub-actions a file's {id} routes may take (ID/retire, NAME/role: the
    literals "/word" that file compares a path's rest with)."""
    out, actions = set(), set()
    for name in sorted(os.listdir(SRC)):
        if not name.endswith(".c"):
            continue
        text = open(os.path.join(SRC, name)).read()
        # "x" a path; "x/" compared as a prefix: x/{id}
        if name == "http_route.c":
            out |= {API + m + ("{id}" if m.endswith("/") else "") for m in re.findall(r'strn?cmp\(p, "([^"]+)"', text)}
            out |= set(re.findall(r'strcmp\(url, "(/[^"]*)"\)', text))
        if name.startswith("api_"):
            words = re.findall(r'strcmp\((?:slash|end), (?:\w+ \? )?"(/\w+)"(?: : "(/\w+)")?\)', text)
            words = {w for pair in words for w in pair if w}
            for m in re.findall(r'strn?cmp\(path, "([^"]+)"', text):
                out.add(API + (m + "{id}" if m.endswith("/") else m))
                actions |= {API + m + "{id}" + w for w in words if m.endswith("/")}
            out |= {API + m for m in re.findall(r'\{"([a-z_/]+)", list_\w+\}', text)}
        if name == "dashboard.c":
            for m in re.findall(r'\{"(/[^"]*)", l4s_asset', text):
                out.add("/assets/{file}" if m.startswith("/assets/") else m)
    return out, actions


# ---------------------------------------------------------------- schemas

def validator(schema):
    return Draft202012Validator(dict(schema, components=DOC["components"]))


def resolve(obj):
    while "$ref" in obj:
        parts = obj["$ref"].lstrip("#/").split("/")
        o = DOC
        for p in parts:
            o = o[p]
        obj = o
    return obj


def json_schema_of(op, status):
    r = resolve(op["responses"].get(str(status), {}))
    c = r.get("content", {}).get("application/json")
    return c and c["schema"]


def params_of(op):
    return [resolve(p) for p in op.get("parameters", [])]


def valid_value(schema):
    if "enum" in schema:
        return [v for v in schema["enum"] if v != ""][0]
    if schema.get("type") == "integer":
        return "1"
    return "1" if schema.get("pattern") else "x"


def errors_of(v, body):
    return [e.message[:160] + " at " + "/".join(map(str, e.absolute_path)) for e in v.iter_errors(body)][:3]


# ---------------------------------------------------------------- exposition format

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\})? (\S+)$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_exposition(text):
    """{family: {"type", "help", "samples": [(name, {labels}, value)]}}; raises on a format error."""
    fams, cur = {}, None
    if not text.endswith("\n"):
        raise ValueError("does not end with a newline")
    for ln, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if len(parts) < 4:
                raise ValueError("line %d: %r" % (ln, line))
            f = fams.setdefault(parts[2], {"samples": []})
            key = parts[1].lower()
            if key in f:
                raise ValueError("line %d: second %s for %s" % (ln, key, parts[2]))
            if key == "type" and parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise ValueError("line %d: type %r" % (ln, parts[3]))
            if key == "type" and f["samples"]:
                raise ValueError("line %d: TYPE after samples of %s" % (ln, parts[2]))
            f[key] = parts[3]
            cur = parts[2]
            continue
        if line.startswith("#") or not line:
            raise ValueError("line %d: %r" % (ln, line))
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("line %d: not a sample: %r" % (ln, line))
        name, labels, value = m.group(1), {}, m.group(4)
        if m.group(3):
            rest = m.group(3)
            while rest:
                lm = LABEL.match(rest)
                if not lm:
                    raise ValueError("line %d: labels %r" % (ln, m.group(3)))
                labels[lm.group(1)] = lm.group(2)
                rest = rest[lm.end():]
        v = float(value)   # raises on a bad number ("+Inf", "NaN" are floats)
        base = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[:-len(suffix)] in fams and fams[name[:-len(suffix)]].get("type") == "histogram":
                base = name[:-len(suffix)]
        if base != cur or base not in fams:
            raise ValueError("line %d: sample %s outside its family (%s)" % (ln, name, cur))
        fams[base]["samples"].append((name, labels, v))
    for name, f in fams.items():
        if "type" not in f or "help" not in f or not f["samples"]:
            raise ValueError("%s: no TYPE, HELP or sample" % name)
        if f["type"] == "histogram":
            # one histogram per set of labels other than le
            groups = {}
            for smp in f["samples"]:
                groups.setdefault(tuple(sorted((k, v) for k, v in smp[1].items() if k != "le")), []).append(smp)
            for key, samples in groups.items():
                buckets = [(smp[1]["le"], smp[2]) for smp in samples if smp[0] == name + "_bucket"]
                les = [float(b[0]) for b in buckets]
                if not buckets or les != sorted(les) or buckets[-1][0] != "+Inf":
                    raise ValueError("%s%s: buckets not ascending to +Inf" % (name, key))
                if any(b2[1] < b1[1] for b1, b2 in zip(buckets, buckets[1:])):
                    raise ValueError("%s%s: buckets not cumulative" % (name, key))
                count = [smp[2] for smp in samples if smp[0] == name + "_count"]
                if count != [buckets[-1][1]] or len([smp for smp in samples if smp[0] == name + "_sum"]) != 1:
                    raise ValueError("%s%s: _count is not the +Inf bucket, or no _sum" % (name, key))
        if f["type"] == "counter" and any(s[2] < 0 or math.isnan(s[2]) for s in f["samples"]):
            raise ValueError("%s: a negative counter" % name)
    return fams


def value(fams, name, **labels):
    for f in fams.values():
        for s in f["samples"]:
            if s[0] == name and all(s[1].get(k) == v for k, v in labels.items()):
                return s[2]
    return None


# ---------------------------------------------------------------- the run

def stored(s, agent, t):
    """Reports covering every kind of row (and the null / non-null sides of
    its fields); returns the number taken."""
    img1 = dict(finding("/var/lib/docker/x/app/log4j-core-2.14.1.jar"), image="registry.example/shop", tag="2.3",
                layer="sha256:aaa", in_final_image=True)
    img2 = dict(finding("/var/lib/docker/x/old/log4j-core-2.14.1.jar"), image="registry.example/shop", tag="2.3",
                layer="sha256:bbb", in_final_image=False, note="deleted by a later layer")
    a15 = dict(attempt(15, host="c2.evil.example"), exfil=["env:AWS_SECRET_ACCESS_KEY"], payload="curl x|sh")
    a16 = dict(attempt(16, host="c2.evil.example"), payload_b64="/w==")
    env1 = envelope(mid(1), "web1", tags=["prod"])
    env1["coverage"] = {"whole_host": True, "paths": ["/"], "processes": True, "exclude": []}
    bodies = [
        report(env1, [finding("/srv/log4j-core-2.14.1.jar", pid=100), finding("/srv/log4j-core-2.14.1.jar"),
                      finding("/opt/log4j-core-2.17.1.jar", version="2.17.1", status="safe", cves=[]),
                      finding("/opt/m/log4j-core-2.16.0.jar", version="2.16.0", status="mitigated",
                              cves=["CVE-2021-45105"]),
                      process(pid=100, restart=True), attempt(12), a15, a16,
                      {"kind": "error", "path": "/root/secret", "error": "permission denied"}]),
        report(envelope(mid(2), "k8s-node", tags=["dev"]), [img1, img2]),
        report(envelope(mid(3), "db1", command="ps"), [process(pid=7, status="safe", ports=())], summary=False),
        # judged again by the rules loaded below (a rules change to list)
        report(envelope(mid(4), "app4"), [dict(finding("/srv/b/log4j-core-2.17.1.jar", version="2.17.1", status="safe",
                                                       cves=()), facts="v1 set=2.17.1 pom=2.17.1 +lookup/JndiLookup")]),
    ]
    n = 0
    for b in bodies:
        st, js = s.submit(agent, b)
        n += check(t + "ingest", st == 200, (st, js))
    return n, bodies


def check_document():
    """The description itself: OpenAPI 3.1 (openapi-spec-validator when it is
    installed; Debian 12 has no package of it), every $ref resolves, every
    {name} in a path is a required path parameter, operation ids are unique."""
    try:
        from openapi_spec_validator import validate
    except ImportError:
        print("# openapi-spec-validator not installed: the structural checks below only")
    else:
        try:
            validate(DOC)
            check("document-openapi-3.1-valid", True)
        except Exception as e:
            not_ok("document-openapi-3.1-valid", str(e)[:300])
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(DOC))
    bad = []
    for r in set(refs):
        try:
            resolve({"$ref": r})
        except (KeyError, TypeError):
            bad.append(r)
    check("document-refs-resolve-%d" % len(set(refs)), not bad and refs, bad)
    bad, seen = [], set()
    for path, item in DOC["paths"].items():
        for m, op in item.items():
            names = {p["name"] for p in params_of(op) if p["in"] == "path" and p.get("required")}
            if names != set(re.findall(r"\{(\w+)\}", path)):
                bad.append((m, path, sorted(names)))
            if op["operationId"] in seen or not op.get("responses") or "x-roles" not in op:
                bad.append((m, path, "operationId twice, or no responses / x-roles"))
            seen.add(op["operationId"])
    check("document-paths-and-operations", not bad, bad)


def run(kind):
    t = kind + "-"
    try:
        db = new_db(kind, "openapi")
    except Exception as e:
        not_ok(t + "backend-available", e)
        return
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    metrics = make_token(db, "prometheus", "metrics")
    make_user(db, "admin", "correct horse battery")
    s = Server(db, "--rate", "0", "--max-report-bytes", "65536", name=kind + "-openapi")
    taken, bodies = stored(s, agent, t)
    # rules with a fictional CVE for 2.17.x: app4's file becomes affected
    rules = os.path.join(os.environ.get("OUT") or "/tmp", "openapi-%s.rules" % kind)
    with open(rules, "w") as f:
        f.write(open(os.path.join(TOP, "rules/log4j.rules")).read() + RULES_EXTRA)
    p = cli(db, "rules", "load", rules)
    check(t + "rules-load", p.returncode == 0, p.stderr)
    changes = s.get_json(API + "rules/changes", reader)["changes"]
    check(t + "rules-change-listed", any(c["cve"] == "CVE-2099-0001" and c["newly"] == 1 for c in changes), changes)

    st, h, data = s.request("POST", API + "login", json.dumps({"user": "admin", "password": "correct horse battery"}),
                            {"Content-Type": "application/json"})
    sess = h.get("set-cookie", "").split(";")[0]
    check(t + "login", st == 200 and sess, (st, data))
    creds = {"read": {"Authorization": "Bearer " + reader}, "agent": {"Authorization": "Bearer " + agent},
             "metrics": {"Authorization": "Bearer " + metrics}, "session": {"Cookie": sess}, "none": {}}
    csrf = json.loads(data)["csrf"] if st == 200 else ""

    def admin_post(method, path, body, status):
        """An admin's change, its answer validated against the description."""
        st, h, data = s.request(method, API + path, json.dumps(body) if body is not None else "",
                                {"Cookie": sess, "X-CSRF-Token": csrf, "Content-Type": "application/json"})
        doc_path = API + re.sub(r"^(\w+)/[^/]+", r"\1/{id}", path)
        op = DOC["paths"].get(doc_path, {}).get(method.lower())
        try:
            js = json.loads(data)
        except ValueError:
            js = None
        errs = ["not documented"] if not op else errors_of(validator(json_schema_of(op, status)), js) if st == status \
            else ["status %d: %s" % (st, data[:150])]
        check(t + "admin-%s-%s" % (method.lower(), doc_path), not errs, errs)
        return js or {}

    # admin changes (documented request and answer): a webhook to a closed
    # loopback port (one failed delivery in the log), a token, a user
    hook = admin_post("POST", "webhooks", {"url": "http://127.0.0.1:9/hook", "secret": "s" * 32}, 201).get("id", 0)
    admin_post("POST", "webhooks/%d/test" % hook, None, 200)
    admin_post("POST", "tokens", {"name": "spare", "role": "metrics"}, 201)
    admin_post("POST", "tokens/spare/revoke", None, 200)
    admin_post("DELETE", "tokens/spare", None, 200)
    admin_post("POST", "users", {"name": "viewer1", "password": "a long password"}, 200)
    admin_post("POST", "users/viewer1/role", {"role": "viewer"}, 200)
    admin_post("DELETE", "users/viewer1", None, 200)
    wait_until = time.time() + 30
    while time.time() < wait_until and not s.get_json(API + "webhooks/log", reader)["items"]:
        time.sleep(0.2)

    def req(method, path, who="read", body=None):
        return s.request(method, path, body=body, headers=creds[who])

    # --- the served description is the file
    st, h, data = s.request("GET", API + "openapi.json")
    check(t + "served", st == 200 and h.get("content-type", "").startswith("application/json") and
          data == open(DOC_PATH, "rb").read(), (st, data[:100]))

    # --- (a) routes: the C sources' and the description's are the same set
    doc_paths = set(DOC["paths"])
    src, actions = c_routes()
    # an {id} route is documented by itself or by its sub-actions (ID/test)
    undocumented = {r for r in src - doc_paths if not any(d.startswith(r + "/") for d in doc_paths)}
    check(t + "routes-in-description", not undocumented and len(src) > 30, "undocumented: %s" % sorted(undocumented))
    check(t + "description-routes-exist", doc_paths <= src | actions, "not in the sources: %s" % sorted(doc_paths - src - actions))

    ids = {"id": s.get_json(API + "devices?hostname=web1", reader)["items"][0]["id"], "file": "app.js"}
    for path, item in sorted(DOC["paths"].items()):
        concrete = path.format(**ids)
        for m, op in item.items():
            if m != "get":
                continue
            who = [r for r in ("read", "session", "agent", "metrics") if r in op["x-roles"]] or ["none"]
            extra = "?ids=00000000-0000-4000-8000-000000000000" if path.endswith("reports/known") else ""
            st, h, data = req("GET", concrete + extra, who[0])
            check(t + "answers-get-" + path, st == 200, (st, data[:200]))
        # a method the description does not give the path is refused
        bad = []
        for other in ("PUT", "DELETE", "PATCH", "POST"):
            if other.lower() not in item:
                st, h, data = s.request(other, concrete, body="", headers=creds["read"])
                if st != 405:
                    bad.append((other, st))
        check(t + "other-methods-405-" + path, not bad, bad)

    # --- (b) every GET answer against its schema, with filters that match rows
    gets = {path: op["get"] for path, op in DOC["paths"].items() if "get" in op}
    queries = {"/api/v1/devices": ["", "?exposed=1", "?image=registry.example/shop", "?coverage=none", "?sort=last_seen"],
               "/api/v1/findings": ["", "?running=1", "?image=registry.example/shop", "?sort=severity", "?status=mitigated"],
               "/api/v1/processes": ["", "?status=safe"],
               "/api/v1/remediation": ["", "?status=safe"],
               "/api/v1/layers": ["", "?image=registry.example/shop&image_tag=2.3"],
               "/api/v1/reports/known": ["?ids=00000000-0000-4000-8000-000000000000,%s" %
                                         json.loads(bodies[0].split("\n")[0])["report_id"]]}
    validated = 0
    for path, op in sorted(gets.items()):
        schema = json_schema_of(op, 200)
        if not schema:
            continue
        who = "read" if "read" in op["x-roles"] else "session" if "session" in op["x-roles"] else "none"
        v = validator(schema)
        for q in queries.get(path, [""]):
            for limit in (["", "limit=1"] if any(p["name"] == "limit" for p in params_of(op)) else [""]):
                url = path.format(**ids) + q + (("&" if q else "?") + limit if limit else "")
                st, h, data = req("GET", url, who)
                try:
                    body = json.loads(data)
                except ValueError:
                    body = None
                errs = errors_of(v, body) if st == 200 else ["status %d: %s" % (st, data[:100])]
                if "items" in (body or {}) and not limit and not body["items"]:
                    errs.append("no rows to validate")
                check(t + "schema-" + url, not errs, errs)
                validated += 1
    check(t + "schemas-validated-%d-answers" % validated, validated >= 30, validated)
    # CSV: the columns are the item's fields
    for path, op in sorted(gets.items()):
        if "text/csv" not in resolve(op["responses"]["200"]).get("content", {}):
            continue
        item = resolve(resolve(json_schema_of(op, 200))["properties"]["items"]["items"])
        st, h, data = req("GET", path + "?format=csv", "read" if "read" in op["x-roles"] else "session")
        header = data.decode().split("\r\n")[0].split(",")
        check_eq(t + "csv-columns-" + path, sorted(header), sorted(item["properties"]))
    # errors, with the Error schema
    ev = validator({"$ref": "#/components/schemas/Error"})
    for url, who, want in ((API + "summary", "none", 401), (API + "summary", "agent", 403), (API + "devices/999999", "read", 404),
                           (API + "findings?nope=1", "read", 400), ("/metrics", "read", 403)):
        st, h, data = req("GET", url, who)
        check(t + "error-schema-%d-%s" % (want, url), st == want and not errors_of(ev, json.loads(data)), (st, data[:200]))

    # --- (c) parameters: the server's own list against the description
    for path, op in sorted(gets.items()):
        if not path.startswith("/api/") and path != "/metrics":
            continue
        who = [r for r in ("read", "session", "agent", "metrics") if r in op["x-roles"]] or ["none"]
        base = path.format(**ids)
        qp = [p for p in params_of(op) if p["in"] == "query"]
        need = "&".join("%s=%s" % (p["name"], urllib.parse.quote(valid_value(p["schema"]) if p["name"] != "ids"
                                                                  else "00000000-0000-4000-8000-000000000000"))
                        for p in qp if p.get("required"))
        st, h, data = req("GET", base + "?" + (need + "&" if need else "") + "zz_not_a_parameter=1", who[0])
        try:
            js = json.loads(data)
        except ValueError:
            js = {}
        check(t + "unknown-param-400-" + path, st == 400 and "zz_not_a_parameter" in js.get("error", ""), (st, data[:200]))
        check_eq(t + "params-match-" + path, sorted(js.get("parameters", [])), sorted(p["name"] for p in qp))
        check_eq(t + "flags-match-" + path, sorted(js.get("flags", [])),
                 sorted(p["name"] for p in qp if p["schema"].get("x-flag")))
        for p in qp:
            if p.get("required"):
                continue
            q = need + ("&" if need else "") + "%s=%s" % (p["name"], urllib.parse.quote(valid_value(p["schema"])))
            st, h, data = req("GET", base + "?" + q, who[0])
            check(t + "param-accepted-%s-%s" % (path, p["name"]), st == 200, (st, data[:200]))
            if "enum" in p["schema"]:
                for good in p["schema"]["enum"]:
                    st, h, data = req("GET", base + "?%s=%s" % (p["name"], good), who[0])
                    if st != 200:
                        not_ok(t + "enum-value-%s-%s-%s" % (path, p["name"], good), (st, data[:200]))
                st, h, data = req("GET", base + "?%s=not-in-the-enum" % p["name"], who[0])
                check(t + "enum-refused-%s-%s" % (path, p["name"]), st == 400 and p["name"] in data.decode(), (st, data[:200]))

    # --- a device retired and back, then (at the end) one deleted
    admin_post("POST", "devices/%d/retire" % ids["id"], None, 200)
    check(t + "retired-out-of-list", ids["id"] not in [d["id"] for d in s.get_json(API + "devices", reader)["items"]], "")
    admin_post("POST", "devices/%d/unretire" % ids["id"], None, 200)

    # --- roles: x-roles are exactly the credentials an operation takes
    for path, op in sorted(gets.items()):
        if not path.startswith("/api/") and path != "/metrics":
            continue
        extra = "?ids=00000000-0000-4000-8000-000000000000" if path.endswith("reports/known") else ""
        got = {}
        for who in ("read", "session", "agent", "metrics", "none"):
            st, h, data = req("GET", path.format(**ids) + extra, who)
            got[who] = st
        want = {w: (200 if w in op["x-roles"] or not op["security"] else 401 if w == "none" else 403) for w in got}
        check_eq(t + "roles-" + path, got, want)

    # --- /metrics
    st, h, data = req("GET", "/metrics", "metrics")
    check(t + "metrics-content-type", st == 200 and h.get("content-type", "").startswith("text/plain; version=0.0.4"),
          (st, h.get("content-type")))
    # refusals of each reason, then a duplicate
    st1, _ = s.submit(agent, "not json\n")
    st2, _ = s.submit(reader, bodies[0])
    st3, _, _ = s.request("POST", API + "reports", body=bodies[0], headers={"Content-Type": "application/x-ndjson"})
    st4, _ = s.submit(agent, bodies[0].replace("\"kind\": \"summary\"", "\"pad\": \"%s\", \"kind\": \"summary\"" % ("x" * 70000)))
    st5, _ = s.submit(metrics, bodies[0])
    st6, js6 = s.submit(agent, bodies[0])
    check_eq(t + "refusals-as-expected", (st1, st2, st3, st4, st5, st6, js6 and js6.get("duplicate")),
             (400, 403, 401, 413, 403, 200, True))
    st, h, data = req("GET", "/metrics", "metrics")
    try:
        fams = parse_exposition(data.decode())
        check(t + "metrics-format", True)
    except ValueError as e:
        not_ok(t + "metrics-format", e)
        fams = {}
    check_eq(t + "metrics-taken", value(fams, "log4scan_reports_taken_total"), float(taken + 1))
    check_eq(t + "metrics-duplicate", value(fams, "log4scan_reports_duplicate_total"), 1.0)
    check_eq(t + "metrics-refused", {r: value(fams, "log4scan_reports_refused_total", reason=r)
                                     for r in ("invalid", "forbidden", "unauthorized", "too_large", "rate_limited", "unavailable")},
             {"invalid": 1.0, "forbidden": 2.0, "unauthorized": 1.0, "too_large": 1.0, "rate_limited": 0.0, "unavailable": 0.0})
    # api_ingest ran for the taken reports and the invalid one
    check_eq(t + "metrics-ingest-observations", value(fams, "log4scan_ingest_seconds_count"), float(taken + 2))
    check(t + "metrics-ingest-sum", (value(fams, "log4scan_ingest_seconds_sum") or 0) > 0, value(fams, "log4scan_ingest_seconds_sum"))
    check_eq(t + "metrics-batches-reports", value(fams, "log4scan_ingest_batch_reports_sum"), float(taken + 1))
    check(t + "metrics-db-statements", (value(fams, "log4scan_db_statement_seconds_count") or 0) > taken * 3,
          value(fams, "log4scan_db_statement_seconds_count"))
    check_eq(t + "metrics-idle-queue", (value(fams, "log4scan_ingest_queue_depth"), value(fams, "log4scan_ingest_writers"),
                                        value(fams, "log4scan_db_connections_busy")), (0.0, 0.0, 0.0))
    check_eq(t + "metrics-build-info", value(fams, "log4scan_build_info",
                                            backend="postgresql" if kind == "pg" else "sqlite",
                                            version=open(os.path.join(TOP, "VERSION")).read().strip()), 1.0)
    check(t + "metrics-requests", (value(fams, "log4scan_http_requests_total", code="4xx") or 0) >= 6, "")
    # answers timed by route: the description's paths (templates) or other
    routes = {smp[1]["route"] for smp in fams.get("log4scan_http_request_seconds", {}).get("samples", [])}
    check(t + "metrics-routes-documented", routes and routes <= set(DOC["paths"]) | {"other"},
          sorted(routes - set(DOC["paths"]) - {"other"}))
    before = {r: value(fams, "log4scan_http_request_seconds_count", route=r) or 0
              for r in ("/api/v1/devices/{id}", "/api/v1/findings", "other")}
    req("GET", API + "devices/%d" % ids["id"])
    req("GET", API + "findings?limit=1")
    req("GET", API + "findings")
    req("GET", "/no/such/thing?x=1")
    fams2 = parse_exposition(req("GET", "/metrics", "metrics")[2].decode())
    after = {r: value(fams2, "log4scan_http_request_seconds_count", route=r) or 0 for r in before}
    check_eq(t + "metrics-route-counts", {r: after[r] - before[r] for r in before},
             {"/api/v1/devices/{id}": 1, "/api/v1/findings": 2, "other": 1})
    check(t + "metrics-route-sum", (value(fams2, "log4scan_http_request_seconds_sum", route="/api/v1/findings") or 0) > 0, "")
    # the scrape itself needs no parameter and takes none
    st, h, data = req("GET", "/metrics?x=1", "metrics")
    check_eq(t + "metrics-no-params", st, 400)

    db1 = s.get_json(API + "devices?hostname=db1", reader)["items"][0]["id"]
    admin_post("DELETE", "devices/%d" % db1, None, 200)
    rc = s.stop()
    check(t + "clean-exit", rc == 0 and "Sanitizer" not in s.log_text() and "runtime error" not in s.log_text(),
          s.log_text()[-500:])


def pool_waits(kind):
    """log4scan_db_connection_waits_total counts the requests that found no
    free database connection: with --pool 1 and 16 clients at once asking
    the database, some wait (tried in rounds until one has; a counter that
    never moves fails), and every request is still answered."""
    t = kind + "-pool1-"
    try:
        db = new_db(kind, "openapi-pool1")
    except Exception as e:
        not_ok(t + "backend-available", e)
        return
    agent = make_token(db, "fleet")
    reader = make_token(db, "siem", "read")
    metrics = make_token(db, "prometheus", "metrics")
    s = Server(db, "--rate", "0", "--pool", "1", name=kind + "-openapi-pool1")
    stored(s, agent, t)

    def waits():
        st, _, data = s.request("GET", "/metrics", headers={"Authorization": "Bearer " + metrics})
        return value(parse_exposition(data.decode()), "log4scan_db_connection_waits_total") if st == 200 else None

    w0 = waits()
    check_eq(t + "waits-exposed", w0 is not None, True)
    statuses = []

    def client():
        for _ in range(8):
            st, _, _ = s.request("GET", API + "findings?count=1&limit=500", headers={"Authorization": "Bearer " + reader})
            statuses.append(st)

    w = w0
    for _ in range(10):
        ts = [threading.Thread(target=client) for _ in range(16)]
        for x in ts:
            x.start()
        for x in ts:
            x.join()
        w = waits()
        if w is not None and w0 is not None and w > w0:
            break
    check(t + "waits-counted", w is not None and w0 is not None and w > w0, (w0, w))
    check(t + "waits-all-answered", statuses and set(statuses) == {200}, sorted(set(statuses)))
    rc = s.stop()
    check(t + "clean-exit", rc == 0 and "Sanitizer" not in s.log_text(), s.log_text()[-500:])


check_document()
for kind in ("sqlite", "pg"):
    run(kind)
    pool_waits(kind)
import server_common  # noqa: E402
sys.exit(1 if server_common.failures else 0)
