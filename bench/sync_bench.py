"""Sync throughput: the decode+classify ceiling against the full sync, and an unchanged rerun.

Each phase runs in its own process so its peak RSS is its own:
  (a) ceiling  — read every NDJSON line, decode, extract facts, classify and route in memory
  (b) sync     — the sync stages end to end on a fresh SQLite database (plan, scan, structural
                 and expectation-suite validation, store, classify, route, record, enqueue
                 notifications), without Prefect's per-run overhead
  (c) rerun    — the same sync again with nothing changed (cursors skip every file)
  (c') reread  — the same again after touching every file (each record re-read and hashed,
                 nothing written)

Usage: python bench/sync_bench.py --providers 50 --days 112 [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_ceiling(data: Path) -> dict[str, float]:
    """Decode, extract, classify and route in memory: no validation suites, no database."""
    from chartroute.charts import FactIndex
    from chartroute.classify import classify_chart
    from chartroute.config import load_config
    from chartroute.route import Router
    from chartroute.sources import NdjsonDirSource
    from chartroute.sources.decode import Decoded, decode_record

    config = load_config(data / "practice.yaml")
    as_of = _as_of(data)
    start = time.perf_counter()
    source = NdjsonDirSource(data)
    index = FactIndex()
    records = 0
    for partition in source.partitions():
        for record in source.read(partition):
            records += 1
            result = decode_record(record)
            if isinstance(result, Decoded):
                for fact in result.facts:
                    index.add(fact)
    router = Router(config, as_of)
    open_charts = 0
    for chart in index.charts():
        verdict = classify_chart(chart, config.charts, config.documentation, as_of)
        if verdict.is_open:
            open_charts += 1
            router.route(verdict)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "records": records, "open_charts": open_charts}


def phase_sync(data: Path, db: Path, suites: bool = True) -> dict[str, float]:
    os.environ["CHARTROUTE_DATABASE_URL"] = f"sqlite:///{db}"
    from chartroute import sync
    from chartroute.config import load_config
    from chartroute.sources import NdjsonDirSource
    from chartroute.store.engine import make_engine
    from chartroute.sync_here import IngestHere
    from chartroute.sync_sequence import ingest_and_advance

    config = load_config(data / "practice.yaml")
    as_of = _as_of(data)
    engine = make_engine()
    source = NdjsonDirSource(data)
    if suites:  # a one-off cost per process (~3 s), paid before the first sync, not per record
        import great_expectations  # noqa: F401
    start = time.perf_counter()
    # the expectation suites, as in a sync; without them, the foundation pipeline alone
    validation = config.validation if suites else None
    ingested = ingest_and_advance(IngestHere(engine, source, as_of, validation))
    totals = ingested.counts
    classified = sync.classify_pending(engine, config, as_of, ingested.plan.run_id)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "records": totals.read,
        "facts_written": totals.facts_inserted + totals.facts_updated,
        "charts_classified": classified.charts,
        "items_opened": classified.opened,
    }


def _as_of(data: Path):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(json.loads((data / "generator.json").read_text())["as_of"])


def run_phase(args: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--providers", type=int, default=50)
    parser.add_argument("--days", type=int, default=112)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--phase", choices=["ceiling", "sync", "sync-no-suites"])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()

    if args.phase == "ceiling":
        result = phase_ceiling(args.data)
    elif args.phase == "sync":
        result = phase_sync(args.data, args.db)
    elif args.phase == "sync-no-suites":
        result = phase_sync(args.data, args.db, suites=False)
    if args.phase:
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return

    from chartroute.generate import GeneratorProfile, generate_practice

    data = args.work / f"practice-{args.providers}x{args.days}-s{args.seed}"
    if not (data / "generator.json").exists():
        generate_practice(
            data, GeneratorProfile(providers=args.providers, days=args.days, seed=args.seed)
        )
    db = args.work / f"sync-{args.providers}x{args.days}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    encounters = sum(1 for _ in (data / "Encounter.ndjson").open("rb"))
    a = run_phase(["--phase", "ceiling", "--data", str(data)])
    db0 = args.work / f"sync-nosuites-{args.providers}x{args.days}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db0}{suffix}").unlink(missing_ok=True)
    b0 = run_phase(["--phase", "sync-no-suites", "--data", str(data), "--db", str(db0)])
    b = run_phase(["--phase", "sync", "--data", str(data), "--db", str(db)])
    c = run_phase(["--phase", "sync", "--data", str(data), "--db", str(db)])
    for path in data.glob("*.ndjson"):
        path.touch()
    c2 = run_phase(["--phase", "sync", "--data", str(data), "--db", str(db)])
    records = a["records"]
    report = {
        "encounters": encounters,
        "records": records,
        "a_ceiling_records_per_s": round(records / a["seconds"]),
        "b_sync_records_per_s": round(records / b["seconds"]),
        "ratio_b_over_a": round(a["seconds"] / b["seconds"], 3),
        "b0_sync_without_suites_records_per_s": round(records / b0["seconds"]),
        "ratio_b0_over_a": round(a["seconds"] / b0["seconds"], 3),
        "c_rerun_seconds": round(c["seconds"], 3),
        "c2_reread_seconds": round(c2["seconds"], 2),
        "b_over_c2_time": round(b["seconds"] / c2["seconds"], 1),
        "seconds": {"a": round(a["seconds"], 2), "b": round(b["seconds"], 2)},
        "peak_rss_mb": {
            "a": round(a["peak_rss_mb"]),
            "b0": round(b0["peak_rss_mb"]),
            "b": round(b["peak_rss_mb"]),
            "c": round(c["peak_rss_mb"]),
            "c2": round(c2["peak_rss_mb"]),
        },
        "open_charts": a["open_charts"],
        "b_detail": b,
        "c2_detail": c2,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
