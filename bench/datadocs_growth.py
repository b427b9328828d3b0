"""What one run's Data Docs cost as runs accumulate: with the site kept to the newest runs
(``validation.data_docs_keep_runs``) and without a bound (keep = every run).

Each run writes the pages of every suite with fixed counts, as a sync that checked every table
does; the time is the whole ``write_data_docs`` call (results, pages, the index rebuild). GX is
imported before the first timed run. Interleaved: run n of the bounded site, then run n of the
unbounded one. Each printed line gives the medians of the runs since the line before.

    .venv/bin/python bench/datadocs_growth.py --runs 300 --keep 100
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chartroute.validation.datadocs import write_data_docs
from chartroute.validation.feed import check_label
from chartroute.validation.gx_import import import_gx
from chartroute.validation.suites import default_suites_dir, load_suites


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--keep", type=int, default=100)
    parser.add_argument("--every", type=int, default=50, help="print every this many runs")
    args = parser.parse_args()
    suites = load_suites(default_suites_dir())
    checks = {
        check_label(s.table, e.reason): {"checked": 1000, "failed": 1}
        for s in suites
        for e in s.expectations
    }
    import_gx()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    root = Path(tempfile.mkdtemp(prefix="datadocs-growth-"))
    sites = {"kept": (root / "kept", args.keep), "unbounded": (root / "all", args.runs + 1)}
    print(f"load average {os.getloadavg()}; suites {len(suites)}; keep {args.keep}")
    print("| runs | kept: median s | unbounded: median s | ratio | kept MB | unbounded MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    since: dict[str, list[float]] = {name: [] for name in sites}
    try:
        for n in range(1, args.runs + 1):
            for name, (folder, keep) in sites.items():
                start = time.perf_counter()
                run_time = t0 + timedelta(minutes=15 * n)
                write_data_docs(folder, f"run-{n:05d}", run_time, suites, checks, keep_runs=keep)
                since[name].append(time.perf_counter() - start)
            if n == 1 or n % args.every == 0:
                size = {k: _mb(f) for k, (f, _) in sites.items()}
                kept, unbounded = (statistics.median(since[k]) for k in ("kept", "unbounded"))
                first = n - len(since["kept"]) + 1
                print(
                    f"| {first}-{n} | {kept:.2f} | {unbounded:.2f} | {unbounded / kept:.2f} | "
                    f"{size['kept']:.0f} | {size['unbounded']:.0f} |",
                    flush=True,
                )
                since = {name: [] for name in sites}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average {os.getloadavg()}")


def _mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


if __name__ == "__main__":
    main()
