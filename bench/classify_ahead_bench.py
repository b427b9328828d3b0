"""The classify stage alone, with and without its helper process, on a store just loaded.

A first sync's classify stage reads every chart back and classifies it; since this round a
helper process on the second core classifies batches ahead (``chartroute/classify_ahead.py``).
This loads an export once (plan, ingest, advance cursors: every chart queued), keeps that store
as a template, and then times ``sync.classify_pending`` on fresh copies of it, alternating
*alone* (no helper) and *ahead* (the helper), so both meet the same machine. It checks both
route the same: the same charts, open charts and notifications, or it says so and fails.

    .venv/bin/python bench/classify_ahead_bench.py DIR --database sqlite --rounds 2
    .venv/bin/python bench/classify_ahead_bench.py DIR --database postgresql --rounds 2

Wall and CPU seconds are this process's (the helper's CPU is its own, printed apart from the
``/proc`` reading of its children); the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from chartroute import classify_ahead, sync
from chartroute.config import load_config
from chartroute.sources import NdjsonDirSource
from chartroute.store.engine import make_engine


def _psql(*statements: str) -> None:
    command = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test"]
    for statement in statements:
        command += ["-c", statement]
    subprocess.run(command, check=True, capture_output=True)


def _sqlite_files(path: Path) -> list[Path]:
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


def _fresh_copy(database: str, work: Path) -> str:
    """A new store copied from the loaded template; its URL."""
    if database == "sqlite":
        for f in _sqlite_files(work / "copy.db"):
            f.unlink(missing_ok=True)
        shutil.copy(work / "template.db", work / "copy.db")
        return f"sqlite:///{work / 'copy.db'}"
    _psql("drop database if exists cab_copy", "create database cab_copy template cab_template")
    return "postgresql://postgres@127.0.0.1:5432/cab_copy"


def _load(folder: Path, database: str, work: Path, as_of: datetime) -> None:
    if database == "sqlite":
        for f in _sqlite_files(work / "template.db"):
            f.unlink(missing_ok=True)
        url = f"sqlite:///{work / 'template.db'}"
    else:
        _psql("drop database if exists cab_copy", "drop database if exists cab_template")
        _psql("create database cab_template")
        url = "postgresql://postgres@127.0.0.1:5432/cab_template"
    engine = make_engine(url)
    source = NdjsonDirSource(folder)
    began = time.perf_counter()
    plan = sync.plan_sync(engine, source, as_of)
    sync.ingest_partitions(engine, source, plan.partitions)
    sync.commit_cursors(engine, plan)
    engine.dispose()  # checkpoints SQLite's WAL into the file the copies are made from
    print(f"loaded {folder} into a {database} template in {time.perf_counter() - began:.1f} s")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _classify(folder: Path, database: str, work: Path, as_of: datetime, ahead: bool) -> dict:
    config = load_config(folder / "practice.yaml")
    engine = make_engine(_fresh_copy(database, work))
    sync.AHEAD_FROM = classify_ahead.AHEAD_FROM if ahead else sys.maxsize
    children_before = _children_cpu()
    wall, cpu = time.perf_counter(), time.process_time()
    counts = sync.classify_pending(engine, config, as_of)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    routed = asdict(counts)
    return {
        "wall": wall,
        "cpu": cpu,
        "helper_cpu": _children_cpu() - children_before,
        "routed": (routed["charts"], routed["open_charts"], routed["notifications"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="an export (chartroute generate's folder)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("bench/out/classify_ahead"))
    parser.add_argument("--as-of", default=None, help="ISO instant (default: now)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    as_of = datetime.fromisoformat(args.as_of) if args.as_of else datetime.now(UTC)
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    _load(args.folder, args.database, args.work, as_of)
    samples: dict[str, list[dict]] = {"alone": [], "ahead": []}
    for round_no in range(1, args.rounds + 1):
        for mode in ("alone", "ahead"):
            found = _classify(args.folder, args.database, args.work, as_of, mode == "ahead")
            samples[mode].append(found)
            print(
                f"round {round_no} {mode}: {found['wall']:.2f} s wall, {found['cpu']:.2f} CPU s"
                f" here, {found['helper_cpu']:.2f} CPU s in the helper; routed {found['routed']}"
            )
    if {s["routed"] for runs in samples.values() for s in runs} != {samples["alone"][0]["routed"]}:
        print("the two ways routed differently", file=sys.stderr)
        return 1
    for mode, runs in samples.items():
        wall = statistics.median(s["wall"] for s in runs)
        print(f"{mode}: median {wall:.2f} s wall over {len(runs)} rounds")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
