"""t_server_crash.py - kill -9 the collector in the middle of ingest.

Eight clients submit reports as fast as they can; the server is killed with
SIGKILL mid-stream.  After a restart on the same database every report that
had been answered 200 must be there (GET /api/v1/reports/known), the database
must be consistent (device counters equal their rows), and the reports that
were in flight can be sent again and are accepted.  On SQLite and PostgreSQL.
"""
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (Server, check, check_eq, db_sql, envelope, finding, make_token, mid, new_db,  # noqa: E402
                           not_ok, ok, process, report)


def run(kind):
    t = kind + "-"
    try:
        db = new_db(kind, "crash")
    except Exception as e:
        not_ok(t + "backend-available", e)
        return
    ok(t + "backend-available")
    agent = make_token(db, "fleet")
    s = Server(db, "--rate", "0", name=kind + "-crash")
    acked, sent, lock = set(), {}, threading.Lock()
    stop = threading.Event()

    def client(n):
        i = 0
        while not stop.is_set() and i < 400:
            rid = str(uuid.uuid4())
            body = report(envelope(mid(1000 * n + i % 50), "c%d-%d" % (n, i % 50), report_id=rid,
                                   created="2026-11-27T21:%02d:%02dZ" % (i // 60 % 60, i % 60)),
                          [finding("/srv/%d/%d/log4j-core.jar" % (n, k)) for k in range(20)] + [process(pid=i + 1)])
            with lock:
                sent[rid] = body
            try:
                st, js = s.submit(agent, body)
            except Exception:
                continue
            if st == 200 and js and js.get("accepted"):
                with lock:
                    acked.add(rid)
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    deadline = time.time() + 30
    while time.time() < deadline:
        with lock:
            if len(acked) >= 150:
                break
        time.sleep(0.01)
    s.kill9()
    stop.set()
    for th in threads:
        th.join()
    check(t + "reports-acked-before-kill", len(acked) >= 100, len(acked))

    s = Server(db, "--rate", "0", name=kind + "-crash2")
    ids = sorted(acked)
    known = set()
    for i in range(0, len(ids), 200):
        known |= set(s.get_json("/api/v1/reports/known?ids=" + ",".join(ids[i:i + 200]), agent)["known"])
    check_eq(t + "no-acked-report-lost", len(acked - known), 0)
    if kind == "sqlite":
        check_eq(t + "integrity-check", db_sql(db, "PRAGMA integrity_check"), "ok")
    mism = db_sql(db, "SELECT COUNT(*) FROM devices d WHERE n_vulnerable <> "
                      "(SELECT COUNT(*) FROM findings f WHERE f.device_id = d.id AND f.status = 'vulnerable'"
                      " AND f.shadowed = 0)")
    check_eq(t + "counters-match-rows", mism, "0")
    # the in-flight ones: the agent sends them again
    retry = [rid for rid in sent if rid not in known]
    codes = set()
    for rid in retry:
        st, js = s.submit(agent, sent[rid])
        codes.add(st)
    check(t + "in-flight-resent", codes <= {200}, codes)
    all_known = set()
    ids = sorted(sent)
    for i in range(0, len(ids), 200):
        all_known |= set(s.get_json("/api/v1/reports/known?ids=" + ",".join(ids[i:i + 200]), agent)["known"])
    check_eq(t + "all-reports-stored", len(all_known), len(sent))
    rc = s.stop()
    check(t + "clean-exit", rc == 0, s.log_text()[-300:])


for backend in ("sqlite", "pg"):
    run(backend)
