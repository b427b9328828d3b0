"""Validation cost: the project's expectation suites run by Great Expectations against the same
checks written as plain pandas masks, over the same fact tables.

Builds N fact rows spread over the six tables the rules read (encounters 30%, notes 25%,
orders 15%, results 12%, claims 10%, tasks 8%), with a small share of bad rows of every kind,
then times, each as the median of ``--repeat`` runs:

  frames   building the pandas frames from the facts (needed by both ways; reported apart)
  gx       ``SuiteRunner.run`` over every table: failing rows by ``row``, as the sync does
  pandas   the same expectations evaluated as boolean masks (a small interpreter for the
           expectation types the suites use), failing rows by ``row``
  gx-fingerprint  gx again with GX's per-batch md5 fingerprint left on (its default)

and reports the ratio of the checks alone (gx / pandas) and of the whole validate step
((frames + gx) / (frames + pandas)). Layouts: ``mixed`` spreads the rows over the six tables
(40 expectations); ``encounters`` puts them all in one table (8 expectations), the shape of one
partition of a Bulk Data file. Both ways must find the same failing rows; the script checks
that before printing.

Usage: python bench/validation_bench.py --rows 1000000 [--bad 0.002] [--repeat 3] [--layout both]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chartroute.fhir.facts import (  # noqa: E402
    ClaimFact,
    EncounterFact,
    Fact,
    FhirTaskFact,
    NoteFact,
    OrderFact,
    ReportFact,
)

AS_OF = datetime(2026, 3, 10, 12, tzinfo=UTC)
SHARES = {
    "encounters": 0.30,
    "notes": 0.25,
    "orders": 0.15,
    "results": 0.12,
    "claims": 0.10,
    "tasks": 0.08,
}
LAB = "http://snomed.info/sct|108252007"


def make_facts(rows: int, bad: float, seed: int = 7) -> list[tuple[int, list[Fact]]]:
    """One record per fact; every ``1/bad``-th record carries one kind of problem."""
    import random

    rng = random.Random(seed)
    every = max(1, round(1 / bad)) if bad else 0
    out: list[tuple[int, list[Fact]]] = []
    base = AS_OF - timedelta(days=30)
    index = 0
    for table, share in SHARES.items():
        for i in range(int(rows * share)):
            start = base + timedelta(minutes=rng.randrange(0, 40000))
            broken = bool(every) and index % every == every - 1
            kind = index // max(every, 1) % 4
            status_ok = not (broken and kind == 0)
            updated = start + (timedelta(days=400) if broken and kind == 1 else timedelta(hours=2))
            key_id = f"{table[:3]}{i}"
            fact: Fact
            if table == "encounters":
                end = (
                    start - timedelta(hours=1)
                    if broken and kind == 2
                    else start + timedelta(minutes=20)
                )
                fact = EncounterFact(
                    f"Encounter/{key_id}",
                    "1",
                    updated,
                    "finished" if status_ok else "done",
                    "AMB",
                    (),
                    start,
                    end,
                    True,
                    True,
                    (),
                    "Patient/p1",
                    None,
                )
            elif table == "notes":
                fact = NoteFact(
                    f"DocumentReference/{key_id}",
                    "1",
                    updated,
                    "current",
                    "final" if status_ok else "signed",
                    (),
                    ("Encounter/enc1",),
                    start,
                )
            elif table == "orders":
                category = () if broken and kind == 2 else (LAB,)
                fact = OrderFact(
                    f"ServiceRequest/{key_id}",
                    "1",
                    updated,
                    "active" if status_ok else "sent",
                    category,
                    "Encounter/enc1",
                    start,
                )
            elif table == "results":
                fact = ReportFact(
                    f"DiagnosticReport/{key_id}",
                    "1",
                    updated,
                    "final" if status_ok else "done",
                    ("ServiceRequest/ser1",),
                    None,
                    start,
                )
            elif table == "claims":
                fact = ClaimFact(
                    f"Claim/{key_id}",
                    "1",
                    updated,
                    "active" if status_ok else "open",
                    "preauthorization",
                    ("Encounter/enc1",),
                    ("72148",),
                    None,
                    None,
                    start,
                )
            else:
                fact = FhirTaskFact(
                    f"Task/{key_id}",
                    "1",
                    updated,
                    "requested" if status_ok else "open",
                    ("coding-query",),
                    "Encounter/enc1",
                    None,
                    start,
                )
            out.append((index, [fact]))
            if broken and kind == 3:  # a conflicting second copy at the same version
                index += 1
                out.append((index, [_conflict(fact)]))
            index += 1
    return out


def _conflict(fact: Fact) -> Fact:
    from dataclasses import replace

    return (
        replace(fact, updated_at=fact.updated_at + timedelta(seconds=1))
        if fact.updated_at
        else fact
    )


# --- the same checks as pandas masks -----------------------------------------------------------


def _condition(frame: Any, condition: dict[str, Any] | None) -> Any:
    if not condition:
        return None
    column = frame[condition["column"]["name"]]
    if condition["operator"] == "==":
        return column == condition["parameter"]
    if condition["operator"] == "IN":
        return column.isin(condition["parameter"])
    raise ValueError(f"no mask for operator {condition['operator']}")


def mask_failures(
    frame: Any, spec_type: str, kwargs: dict[str, Any], params: dict[str, Any]
) -> Any:
    """The rows an expectation fails, as a boolean mask."""
    where = _condition(frame, kwargs.get("row_condition"))
    if spec_type == "expect_column_values_to_not_be_null":
        bad = frame[kwargs["column"]].isna()
    elif spec_type == "expect_column_values_to_be_in_set":
        column = frame[kwargs["column"]]
        bad = column.notna() & ~column.isin(kwargs["value_set"])
    elif spec_type == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = frame[kwargs["column_A"]], frame[kwargs["column_B"]]
        bad = a.notna() & b.notna() & (a < b if kwargs.get("or_equal") else a <= b)
    elif spec_type == "expect_column_values_to_be_between":
        column = frame[kwargs["column"]]
        limit = kwargs["max_value"]
        if isinstance(limit, dict):
            limit = params[limit["$PARAMETER"]]
        bad = column.notna() & (column > limit)
    elif spec_type == "expect_compound_columns_to_be_unique":
        bad = frame.duplicated(kwargs["column_list"], keep=False)
    else:
        raise ValueError(f"no mask for {spec_type}")
    return bad & where if where is not None else bad


def run_masks(
    frames: dict[str, Any], suites: dict[str, Any], params: dict[str, Any]
) -> dict[tuple[str, str], set[int]]:
    out = {}
    for table, frame in frames.items():
        for spec in suites[table].expectations:
            bad = mask_failures(frame, spec.type, spec.kwargs, params)
            out[(table, spec.reason)] = set(frame["row"][bad].tolist())
    return out


def run_gx(
    runner: Any, frames: dict[str, Any], params: dict[str, Any]
) -> dict[tuple[str, str], set[int]]:
    return {(o.table, o.reason): set(o.rows) for o in runner.run(frames, params)}


def timed(fn: Any, repeat: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of ``repeat`` runs (CPU time is steadier on a shared box)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def measure(
    runner: Any, params: dict[str, Any], rows: int, bad: float, repeat: int
) -> dict[str, Any]:
    from chartroute.validation.fact_tables import build_fact_tables

    records = make_facts(rows, bad)
    frames_wall, frames_cpu, tables = timed(lambda: build_fact_tables(records), repeat)
    frames = tables.frames
    run_gx(runner, {t: f.head(100) for t, f in frames.items()}, params)  # warm caches
    gx_wall, gx_cpu, gx_rows = timed(lambda: run_gx(runner, frames, params), repeat)
    pd_wall, pd_cpu, mask_rows = timed(lambda: run_masks(frames, runner.suites, params), repeat)
    if gx_rows != mask_rows:
        differing = [k for k in gx_rows if gx_rows[k] != mask_rows.get(k)]
        raise SystemExit(f"GX and the masks disagree on: {differing}")

    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 1e9  # GX's default: fingerprint every batch
    fp_wall, fp_cpu, _ = timed(lambda: run_gx(runner, frames, params), repeat)
    pandas_execution_engine.HASH_THRESHOLD = 0
    return {
        "rows": sum(len(f) for f in frames.values()),
        "tables": sorted(frames),
        "expectations": sum(len(runner.suites[t].expectations) for t in frames),
        "failing_rows": sum(len(v) for v in gx_rows.values()),
        "frames_s": [round(frames_wall, 3), round(frames_cpu, 3)],
        "gx_s": [round(gx_wall, 3), round(gx_cpu, 3)],
        "pandas_masks_s": [round(pd_wall, 3), round(pd_cpu, 3)],
        "gx_with_fingerprint_s": [round(fp_wall, 3), round(fp_cpu, 3)],
        "checks_ratio_cpu": round(gx_cpu / pd_cpu, 2),
        "step_ratio_cpu": round((frames_cpu + gx_cpu) / (frames_cpu + pd_cpu), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", type=float, default=0.002, help="share of records with a problem")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--layout",
        choices=["mixed", "encounters", "both"],
        default="both",
        help="mixed: rows over the six tables; encounters: one table (a Bulk file's partition)",
    )
    args = parser.parse_args()

    start = time.perf_counter()
    from chartroute.validation.gx_import import import_gx
    from chartroute.validation.run import SuiteRunner

    import_gx()
    gx_import = time.perf_counter() - start

    from chartroute.config.validation import Validation
    from chartroute.validation.feed import FeedValidator
    from chartroute.validation.suites import load_suites

    runner = SuiteRunner([s for s in load_suites() if s.table != "references"])
    params = FeedValidator(Validation(), AS_OF, runner).parameters
    report: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "gx_import_s": round(gx_import, 2),
        "python": platform.python_version(),
        "timings": "[wall, cpu] seconds, median of --repeat",
    }
    mixed = dict(SHARES)
    if args.layout in ("mixed", "both"):
        report["mixed"] = measure(runner, params, args.rows, args.bad, args.repeat)
    if args.layout in ("encounters", "both"):
        SHARES.clear()
        SHARES["encounters"] = 1.0
        report["encounters"] = measure(runner, params, args.rows, args.bad, args.repeat)
        SHARES.update(mixed)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
