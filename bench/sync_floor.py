"""What a full sync cannot cost less than, in one process: decoding the export and a bare insert
of the rows it stores.

Issue 19 asks a full sync for 10% of the rate of a bare ``orjson.loads`` of the same lines. This
measures two parts of any sync against that read, on this machine, in one run:

- *decode*: ``decode_record`` (orjson, then the typed facts the rules read) of every line of
  the files a sync reads, nothing stored;
- *bare store*: the rows a synced SQLite store holds for them (``fact``, ``fact_link``,
  ``fact_identifier``, ``chart``), inserted by plain ``executemany`` into a new file with the
  same tables and indexes, 5,000 rows and a commit at a time as the sync writes them; and the
  same with the secondary indexes built after the load instead of kept up during it.

Neither includes validation, routing, the dirty queue or the line hashes; a sync that did only
these two would still run at the rate printed last.

    .venv/bin/python bench/sync_floor.py EXPORT_DIR SYNCED_SQLITE_FILE --rounds 2
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from pathlib import Path

import orjson

from chartroute.sources.base import SourceRecord
from chartroute.sources.decode import decode_record
from chartroute.sources.file_names import is_read

TABLES = ("fact", "fact_link", "fact_identifier", "chart")
BATCH = 5000


def _lines(folder: Path) -> list[tuple[str, bytes]]:
    """Every line of the files a sync reads, with the type its file is named for."""
    out = []
    for path in sorted(folder.glob("*.ndjson")):
        if is_read(path.name):
            out += [(path.stem, line) for line in path.read_bytes().splitlines() if line.strip()]
    return out


def _raw(lines: list[tuple[str, bytes]]) -> float:
    began = time.perf_counter()
    for _rtype, line in lines:
        orjson.loads(line)
    return time.perf_counter() - began


def _decode(lines: list[tuple[str, bytes]]) -> float:
    records = [
        SourceRecord(f"{t}.ndjson:{i}", line, expected_type=t) for i, (t, line) in enumerate(lines)
    ]
    began = time.perf_counter()
    for record in records:
        decode_record(record)
    return time.perf_counter() - began


def _store(
    synced: sqlite3.Connection, rows: dict[str, list[tuple]], target: Path, late_indexes: bool
) -> float:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(target)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    schema = synced.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name IN (?, ?, ?, ?) AND sql IS NOT NULL",
        TABLES,
    ).fetchall()
    tables = [sql for (sql,) in schema if not sql.startswith("CREATE INDEX")]
    indexes = [sql for (sql,) in schema if sql.startswith("CREATE INDEX")]
    for sql in tables + ([] if late_indexes else indexes):
        conn.execute(sql)
    began = time.perf_counter()
    for table, table_rows in rows.items():
        if not table_rows:
            continue
        insert = f"INSERT INTO {table} VALUES ({', '.join('?' * len(table_rows[0]))})"
        for start in range(0, len(table_rows), BATCH):
            conn.executemany(insert, table_rows[start : start + BATCH])
            conn.commit()
    for sql in indexes if late_indexes else []:
        conn.execute(sql)
    conn.commit()
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("synced", type=Path, help="a SQLite store a sync of the export wrote")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("bench/out/floor"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    lines = _lines(args.export)
    synced = sqlite3.connect(f"file:{args.synced}?mode=ro", uri=True)
    rows = {t: synced.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES}
    print(f"{len(lines):,} records; rows: " + ", ".join(f"{t} {len(r):,}" for t, r in rows.items()))
    found: dict[str, list[float]] = {
        "raw": [],
        "decode": [],
        "store": [],
        "store, indexes after": [],
    }
    for round_no in range(1, args.rounds + 1):
        found["raw"].append(_raw(lines))
        found["decode"].append(_decode(lines))
        found["store"].append(_store(synced, rows, args.work / "floor.db", late_indexes=False))
        found["store, indexes after"].append(
            _store(synced, rows, args.work / "floor.db", late_indexes=True)
        )
        print(f"round {round_no}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in found.items()))
    best = {k: min(v) for k, v in found.items()}
    floor = best["decode"] + min(best["store"], best["store, indexes after"])
    print(
        f"fastest of {args.rounds}: raw {best['raw']:.2f} s, decode {best['decode']:.2f} s, "
        f"bare store {best['store']:.2f} s ({best['store, indexes after']:.2f} s with the "
        f"indexes built after); decode + bare store {floor:.2f} s = "
        f"{best['raw'] / floor:.3f} of the raw read's rate"
    )
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
