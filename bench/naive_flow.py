"""The naive way, for ``sync_bench.py``: one Prefect task per chart over the same export.

Reads and decodes every record into an in-memory fact index (as ``classify`` does), then
classifies each chart in its own task of one flow, on a 2-thread task runner (the machine has
2 cores). Run as its own process against the bench's Prefect server (``PREFECT_API_URL``).
Prints one JSON line: charts, open charts and the seconds of the flow alone.

    .venv/bin/python bench/naive_flow.py SOURCE_DIR [--charts N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def load_charts(source: Path, limit: int) -> dict[str, Any]:
    """Every chart of the folder (the first ``limit`` by encounter key when limit > 0)."""
    from chartroute.charts import FactIndex
    from chartroute.sources import NdjsonDirSource
    from chartroute.sources.decode import Decoded, decode_record

    folder = NdjsonDirSource(source)
    index = FactIndex()
    for partition in folder.partitions():
        for record in folder.read(partition):
            decoded = decode_record(record)
            if isinstance(decoded, Decoded):
                for fact in decoded.facts:
                    index.add(fact)
    charts: dict[str, Any] = {}
    for chart in index.charts():
        charts[chart.encounter.key] = chart
        if limit and len(charts) >= limit:
            break
    return charts


def run(source: Path, limit: int) -> dict[str, float]:
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.task_runners import ThreadPoolTaskRunner

    from chartroute.classify import classify_chart
    from chartroute.config import load_config

    config = load_config(source / "practice.yaml")
    as_of = datetime.now(UTC)
    charts = load_charts(source, limit)

    @task(name="naive-classify-chart", cache_policy=NO_CACHE, persist_result=False)
    def classify_one(key: str) -> bool:
        verdict = classify_chart(charts[key], config.charts, config.documentation, as_of)
        return bool(verdict.is_open)

    @flow(name="bench-naive-task-per-chart", task_runner=ThreadPoolTaskRunner(max_workers=2))
    def per_chart(keys: list[str]) -> int:
        return sum(bool(f.result()) for f in classify_one.map(keys))

    began = time.perf_counter()
    opened = per_chart(list(charts))
    return {"charts": len(charts), "open": opened, "flow_seconds": time.perf_counter() - began}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--charts", type=int, default=0, help="at most this many (0: all)")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(run(args.source, args.charts)) + "\n")


if __name__ == "__main__":
    main()
