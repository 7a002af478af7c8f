"""t_server_wal.py - SQLite: the write-ahead log stays bounded under ingest
that never pauses.

The collector checkpoints the WAL from a background thread.  A checkpoint
that runs beside a busy writer never catches up with it, so no commit finds
the WAL fully copied and starts it over: the file grew by about 90 KB per
report for as long as reports kept coming (5.5 GB after 60,000).  Here eight
clients submit new devices' reports (40 findings each) without a pause until
the database has taken 128 MB of new pages, sampling the size of the -wal
file meanwhile:

  - every report is answered 200, and all of them are stored
  - the -wal file never exceeds 128 MB (journal_size_limit is 64 MB, and the
    checkpointer starts the WAL over every 32 MB), while the data written
    through it is well past that, so an unbounded WAL would have failed
  - after a clean stop no -wal file is left behind, and the database passes
    PRAGMA integrity_check
SQLite only: PostgreSQL's WAL is PostgreSQL's business.
"""
import os
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_common import (Server, check, check_eq, envelope, finding, finish, make_token, mid,  # noqa: E402
                           new_db, report, sha)

CLIENTS = 8
FINDINGS = 40
DB_GROWTH = 128 * 1024 * 1024   # stop once the database file has grown this much
WAL_MAX = 128 * 1024 * 1024
DEADLINE_S = 600                # a stuck server fails the test instead of hanging it


def one_report(n):
    env = envelope(machine_id=mid(1000000 + n), hostname="wal-%d" % n)
    recs = [finding("/srv/app-%d/WEB-INF/lib/part-%02d/log4j-core-2.14.1.jar" % (n, k),
                    sha256=sha(10000000 + n * FINDINGS + k)) for k in range(FINDINGS)]
    return report(env, recs)


def main():
    db = new_db("sqlite", "wal")
    tok = make_token(db, "wal")
    s = Server(db, "--rate", "0", name="wal")
    wal = db + "-wal"
    state = {"next": 0, "wal_max": 0, "stop": False, "answers": {}}
    lock = threading.Lock()
    start = time.time()

    def db_size():
        try:
            return os.path.getsize(db)
        except OSError:
            return 0

    base = db_size()

    def client():
        while True:
            with lock:
                if state["stop"]:
                    return
                n = state["next"]
                state["next"] += 1
            st, _ = s.submit(tok, one_report(n))
            with lock:
                state["answers"][st] = state["answers"].get(st, 0) + 1

    def sampler():
        while not state["stop"]:
            try:
                size = os.path.getsize(wal)
            except OSError:
                size = 0
            state["wal_max"] = max(state["wal_max"], size)
            if db_size() - base >= DB_GROWTH or time.time() - start > DEADLINE_S or not s.alive():
                state["stop"] = True
            time.sleep(0.02)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)] + [threading.Thread(target=sampler)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = state["next"]
    answered = sum(state["answers"].values())
    check("the database grew by %d MB within %d s" % (DB_GROWTH >> 20, DEADLINE_S), db_size() - base >= DB_GROWTH,
          "grew %d MB" % ((db_size() - base) >> 20))
    check_eq("every report answered 200", state["answers"], {200: answered})
    summary = s.get_json("/api/v1/summary", token=make_token(db, "wal-reader", role="read"))
    check_eq("every report stored", summary["devices"], answered)
    check("the -wal file stayed under %d MB (largest seen: %.1f MB, %d reports)" % (WAL_MAX >> 20,
          state["wal_max"] / 1048576.0, sent), state["wal_max"] <= WAL_MAX)
    check_eq("clean stop", s.stop(), 0)
    check("no -wal file after a clean stop", not os.path.exists(wal) or os.path.getsize(wal) == 0,
          "%d bytes left" % (os.path.getsize(wal) if os.path.exists(wal) else 0))
    con = sqlite3.connect(db)
    check_eq("PRAGMA integrity_check", con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
    con.close()
    finish()


if __name__ == "__main__":
    main()
