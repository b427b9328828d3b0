"""Benchmark the backfill: a generated history loaded, then backfilled on 1 and 2 workers,
and the same charts through a naive one-task-per-chart flow for the ratio.

Usage (figures and the commands that produced them are in bench/backfill.md):

    .venv/bin/python bench/backfill_bench.py --providers 20 --days 278 --out bench/out/bf100k

The store is a SQLite file under --out unless CHARTROUTE_DATABASE_URL is set (PostgreSQL
for multi-process runs across hosts). Prints one JSON document of figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START = date(2025, 1, 6)


def _rss_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_peak_mb": round(own, 1), "children_peak_mb": round(children, 1)}


def naive_ratio(config_path: str, first: date, last: date, count: int) -> dict[str, Any]:
    """The same charts as one task per chart and as one batch task, on 2 threads."""
    from prefect import flow, task, unmapped
    from prefect.cache_policies import NO_CACHE
    from prefect.task_runners import ThreadPoolTaskRunner
    from sqlalchemy import select

    from chartroute.backfill.history import HistoryBuilder
    from chartroute.store import facts as fact_store
    from chartroute.store.schema import backfill_encounter
    from chartroute.tasks import context

    def reconstruct(keys: list[str]) -> int:
        history = HistoryBuilder(context.config(config_path), first, last)
        with context.engine().connect() as conn:
            charts = fact_store.load_charts(conn, keys)
        history.add_charts(charts[k] for k in keys if k in charts)
        return history.open_item_days

    @task(name="naive-chart", cache_policy=NO_CACHE, persist_result=False)
    def chart_task(key: str, _: str) -> int:
        return reconstruct([key])

    @task(name="batch-partition", cache_policy=NO_CACHE, persist_result=False)
    def batch_task(keys: list[str]) -> int:
        return reconstruct(keys)

    @flow(name="bench-naive-per-chart", task_runner=ThreadPoolTaskRunner(max_workers=2))
    def per_chart(keys: list[str]) -> int:
        return sum(f.result() for f in chart_task.map(keys, unmapped("")))

    @flow(name="bench-batch", task_runner=ThreadPoolTaskRunner(max_workers=2))
    def batched(keys: list[str]) -> int:
        return int(batch_task(keys))

    with context.engine().connect() as conn:
        keys = [
            r.encounter
            for r in conn.execute(
                select(backfill_encounter.c.encounter)
                .order_by(backfill_encounter.c.encounter)
                .limit(count)
            )
        ]
    began = time.perf_counter()
    batch_total = batched(keys)
    batch_seconds = time.perf_counter() - began
    began = time.perf_counter()
    naive_total = per_chart(keys)
    naive_seconds = time.perf_counter() - began
    assert naive_total == batch_total, "the naive flow reconstructed different figures"
    return {
        "charts": len(keys),
        "one_task_per_chart_seconds": round(naive_seconds, 1),
        "one_batch_task_seconds": round(batch_seconds, 1),
        "ratio": round(naive_seconds / batch_seconds, 1),
    }


def _save(out: Path, figures: dict[str, Any]) -> None:
    """Write the figures so far, so a run cut short still leaves what it measured."""
    (out / "figures.json").write_text(json.dumps(figures, indent=2, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--providers", type=int, default=20)
    parser.add_argument("--days", type=int, default=278, help="clinic days (Mon-Fri)")
    parser.add_argument("--per-day", type=int, default=18)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--runner", default="processes", choices=["threads", "processes", "dask"])
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--partition-days", type=int, default=7)
    parser.add_argument("--naive", type=int, default=2000, help="charts for the naive ratio")
    args = parser.parse_args()

    out: Path = args.out
    export = out / "export"
    out.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("CHARTROUTE_DATABASE_URL") or f"sqlite:///{out / 'chartroute.db'}"
    os.environ["CHARTROUTE_DATABASE_URL"] = url
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry calls
    figures: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()},
        "store": url.split("://")[0],
    }

    from chartroute.backfill.run import index_encounters, load_source
    from chartroute.config import load_config
    from chartroute.generate import GeneratorProfile, generate_practice
    from chartroute.sources import NdjsonDirSource
    from chartroute.store.engine import make_engine

    horizon = args.days * 7 // 5  # calendar days the clinic days span
    profile = GeneratorProfile(
        providers=args.providers, days=args.days, seed=8, start=START,
        encounters_per_provider_day=args.per_day,
        as_of=datetime.combine(START + timedelta(days=horizon + 60), datetime.min.time()),
    )  # fmt: skip
    began = time.perf_counter()
    if not (export / "generator.json").exists():
        summary = generate_practice(export, profile)
        figures["generate"] = {"encounters": summary.encounters,
                               "seconds": round(time.perf_counter() - began, 1)}  # fmt: skip
    config_path = str(export / "practice.yaml")
    config = load_config(config_path)
    last = START + timedelta(days=args.days * 7 // 5 + 30)

    _save(out, figures)
    engine = make_engine(url)
    began = time.perf_counter()
    loaded = load_source(engine, NdjsonDirSource(export), datetime.now(UTC))
    indexed = index_encounters(engine, config.practice.timezone)
    figures["load_and_index"] = {
        "records": loaded.read, "encounters_indexed": indexed,
        "seconds": round(time.perf_counter() - began, 1), **_rss_mb(),
    }  # fmt: skip

    _save(out, figures)
    from chartroute.flows.backfill import run_backfill
    from chartroute.store.schema import backfill_figure, backfill_partition

    runs: dict[str, Any] = {}
    for workers in (int(w) for w in args.workers.split(",")):
        with engine.begin() as conn:  # each run starts from an empty ledger
            conn.execute(backfill_figure.delete())
            conn.execute(backfill_partition.delete())
        began = time.perf_counter()
        result = run_backfill(
            str(export), START, last, config=config_path, partition_days=args.partition_days,
            load=False, runner=args.runner, workers=workers,
        )  # fmt: skip
        seconds = time.perf_counter() - began
        runs[str(workers)] = {
            "seconds": round(seconds, 1), "partitions": result.partitions,
            "encounters": result.encounters,
            "encounters_per_second": round(result.encounters / seconds),
            "loadavg_after": os.getloadavg(), **_rss_mb(),
        }  # fmt: skip
        figures["backfill"] = {"runner": args.runner, "runs": runs}
        _save(out, figures)
    if "1" in runs and "2" in runs:
        figures["backfill"]["speedup_1_to_2"] = round(
            runs["1"]["seconds"] / runs["2"]["seconds"], 2
        )

    if args.naive:
        figures["naive"] = naive_ratio(config_path, START, last, args.naive)
    figures["machine"]["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
