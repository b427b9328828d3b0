"""What a simulated day costs: manual chasing, routing through the stages, routing through the
Prefect flows, on the same practice in one process run (compare the ratios, not the seconds).

Usage: python bench/simulate_bench.py --providers 5 --days 10 [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--providers", type=int, default=5)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="simbench-"))
    shutil.rmtree(work, ignore_errors=True)
    os.environ.setdefault("CHARTROUTE_HOME", str(work / "home"))
    os.environ.setdefault("DO_NOT_TRACK", "1")  # the temporary Prefect server calls no one
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

    from chartroute.config import load_config
    from chartroute.flows.simulate import simulate_flow
    from chartroute.simulate import SimSettings, simulate
    from chartroute.simulate.pipeline import StagePipeline, fresh_store

    settings = SimSettings(providers=args.providers, days=args.days, seed=args.seed)
    timings: dict[str, float] = {}

    start = time.perf_counter()
    manual = simulate(settings, "manual", work / "manual")
    timings["manual"] = time.perf_counter() - start

    engine = fresh_store(f"sqlite:///{work / 'stages.db'}")
    start = time.perf_counter()
    stages = simulate(
        settings, "routed", work / "stages",
        lambda ehr, cfg: StagePipeline(engine, ehr, load_config(cfg)),
    )  # fmt: skip
    timings["routed, stages"] = time.perf_counter() - start

    start = time.perf_counter()
    flows = simulate_flow(
        days=args.days,
        providers=args.providers,
        policy="routed",
        seed=args.seed,
        out=str(work / "flows"),
    )
    timings["routed, Prefect flows (incl. server start)"] = time.perf_counter() - start

    same = flows["days"] == [asdict(r) for r in stages.rows]
    base = timings["routed, stages"]
    print(f"{args.providers} clinicians, {args.days} clinic days, seed {args.seed}")
    for name, seconds in timings.items():
        print(
            f"  {name:44s} {seconds:8.1f} s  {seconds / args.days:6.2f} s/day  "
            f"{seconds / base:5.2f}x stages"
        )
    print(f"  flows and stages gave the same days: {same}")
    backlogs = manual.summary.clinician_backlog, stages.summary.clinician_backlog
    print(f"  clinicians' backlog: manual {backlogs[0]}, routed {backlogs[1]}")


if __name__ == "__main__":
    main()
