"""sqlite3 from threads: check_same_thread, and SQLite's single writer with one connection per thread.

Prints one JSON object:
  check_same_thread: {default_refused, default_error, disabled_refused}
  throughput: {write_1, write_k, read_1, read_k} in transactions/s (best of --repeat), peak_writers, peak_readers

Every transaction keeps its connection and its transaction open for --hold-ms (a simulated I/O wait; time.sleep
releases the GIL, so threads overlap unless SQLite's lock keeps them apart).
"""

import argparse
import os
import sqlite3
import threading
import time

from probelib import emit, positive_int


def connect(db):
    # isolation_level=None: the module issues no implicit BEGIN; the probe writes its own.
    # timeout: how long a connection waits for a lock (SQLite's busy handler) before "database is locked".
    conn = sqlite3.connect(db, timeout=20.0, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL: no fsync per commit, so the hold time dominates
    return conn


def same_thread(db):
    made_here = sqlite3.connect(db)
    free = sqlite3.connect(db, check_same_thread=False)
    outcome = {}

    def use():
        try:
            made_here.execute("SELECT 1")
            outcome["default_refused"] = False
            outcome["default_error"] = "no error"
        except sqlite3.ProgrammingError as e:
            outcome["default_refused"] = True
            outcome["default_error"] = "ProgrammingError: " + str(e)
        try:
            free.execute("SELECT 1")
            outcome["disabled_refused"] = False
        except sqlite3.ProgrammingError:
            outcome["disabled_refused"] = True

    t = threading.Thread(target=use)
    t.start()
    t.join()
    made_here.close()
    free.close()
    return outcome


class Gauge:
    """How many threads are inside a transaction now, and the most at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def enter(self):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self):
        with self.lock:
            self.now -= 1


def load(db, threads, ops, hold, write):
    gauge = Gauge()
    start = threading.Barrier(threads + 1)
    errors = []

    def client():
        conn = connect(db)  # one connection per thread, opened in the thread that uses it
        try:
            start.wait()
            transactions(conn)
        except Exception as e:  # reported, never lost in a thread
            errors.append(repr(e))
        finally:
            conn.close()

    def transactions(conn):
        for _ in range(ops):
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            gauge.enter()
            if write:
                conn.execute("INSERT INTO item(payload) VALUES ('w')")
            else:
                conn.execute("SELECT count(*) FROM item").fetchone()
            time.sleep(hold)
            gauge.leave()
            conn.execute("COMMIT")

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    began = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError("a client failed: " + errors[0])
    return threads * ops / elapsed, gauge.peak


def best(repeat, *args):
    runs = [load(*args) for _ in range(repeat)]
    return max(r[0] for r in runs), max(r[1] for r in runs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--threads", type=positive_int, default=8)
    parser.add_argument("--hold-ms", type=positive_int, default=5)
    parser.add_argument("--ops", type=positive_int, default=6)
    parser.add_argument("--repeat", type=positive_int, default=3)
    a = parser.parse_args()
    hold = a.hold_ms / 1000
    setup = connect(a.db)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE IF NOT EXISTS item(id INTEGER PRIMARY KEY, payload TEXT)")
    setup.execute("INSERT INTO item(payload) VALUES ('seed')")
    setup.close()
    result = {"check_same_thread": same_thread(a.db)}
    w1, _ = best(a.repeat, a.db, 1, a.ops * 2, hold, True)
    wk, peak_writers = best(a.repeat, a.db, a.threads, a.ops, hold, True)
    r1, _ = best(a.repeat, a.db, 1, a.ops * 2, hold, False)
    rk, peak_readers = best(a.repeat, a.db, a.threads, a.ops, hold, False)
    result["throughput"] = {"write_1": w1, "write_k": wk, "read_1": r1, "read_k": rk,
                            "peak_writers": peak_writers, "peak_readers": peak_readers}
    result["sqlite_version"] = sqlite3.sqlite_version
    emit(result)


if __name__ == "__main__":
    main()
