"""Does a database write on a second thread overlap a thread decoding in pure Python?

The same rows written alone, then beside a thread that only computes: a PostgreSQL ``COPY``
(the server does the work while the client waits with the interpreter lock released), a
server-side statement, and SQLite's ``executemany`` (which releases and retakes the lock for
every row, so beside a busy thread each retake waits out the switch interval). Why the sync
stores each window before reading the next (bench/README.md, "The fifth round").

    .venv/bin/python bench/thread_store_probe.py [--rows 200000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable

import psycopg

PG = "host=127.0.0.1 user=postgres dbname=test"


def pg_copy(rows: list[tuple[str, str, int]]) -> None:
    with psycopg.connect(PG) as conn:
        conn.execute("CREATE TEMPORARY TABLE t (k text, b text, n int)")
        with conn.cursor() as cur, cur.copy("COPY t (k, b, n) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute("INSERT INTO t SELECT k || 'x', b, n FROM t")


def pg_server(_rows: list[tuple[str, str, int]]) -> None:
    with psycopg.connect(PG) as conn:
        conn.execute("SELECT count(*) FROM generate_series(1, 3000000) g, md5(g::text)")


def sqlite_many(rows: list[tuple[str, str, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        conn = sqlite3.connect(os.path.join(folder, "probe.db"))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, b TEXT, n INT)")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        conn.commit()
        conn.close()


def timed(
    write: Callable[[list[tuple[str, str, int]]], None], rows: list[tuple[str, str, int]]
) -> float:
    began = time.perf_counter()
    write(rows)
    return time.perf_counter() - began


def burn(stop: threading.Event) -> None:
    """Compute in pure Python until told to stop: a decoding thread's use of the lock."""
    total = 0
    while not stop.is_set():
        for i in range(1000):
            total += i * i


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    rows = [(f"Observation/{i}", "x" * 300, i) for i in range(args.rows)]
    for name, write in (
        ("pg_copy", pg_copy),
        ("pg_server", pg_server),
        ("sqlite_many", sqlite_many),
    ):
        alone = timed(write, rows)
        stop = threading.Event()
        busy = threading.Thread(target=burn, args=(stop,))
        busy.start()
        beside = timed(write, rows)
        stop.set()
        busy.join()
        ratio = beside / alone
        print(f"{name}: alone {alone:.2f} s, beside a busy thread {beside:.2f} s ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
