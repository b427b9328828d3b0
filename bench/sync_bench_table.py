"""Medians, ratios and the issue's targets for ``sync_bench.py``: no timing, no processes.

Every figure is a median over the rounds of one run; rates are records over the median wall
time of whole processes, and each ratio compares phases measured interleaved in that run.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["PHASES", "Summary", "Target", "render", "summarise", "targets"]

#: phase key → label, in the order each round runs them
PHASES: dict[str, str] = {
    "raw": "raw read: orjson.loads per line (ceiling)",
    "classify": "`chartroute classify` (in memory)",
    "sync-sqlite": "`chartroute sync`, fresh SQLite",
    "sync-pg": "`chartroute sync`, fresh PostgreSQL",
    "rerun-unchanged": "sync again, nothing changed (SQLite)",
    "rerun-1pct": "sync again after the next day, whole files re-exported (SQLite)",
    "rerun-delta": "sync again after the next day, as an incremental export part (SQLite)",
    "naive": "naive flow: one Prefect task per chart",
}


@dataclass(frozen=True)
class Summary:
    """One phase over the rounds: medians of whole-process figures."""

    phase: str
    rounds: int
    records: int
    charts: int
    wall_s: float
    cpu_s: float
    server_cpu_s: float
    peak_mb: float
    flow_s: float | None = None

    @property
    def records_per_s(self) -> float | None:
        return self.records / self.wall_s if self.records and self.wall_s else None

    @property
    def charts_per_s(self) -> float | None:
        """Charts over the whole process; for the naive flow over its flow alone."""
        seconds = self.flow_s if self.flow_s else self.wall_s
        return self.charts / seconds if self.charts and seconds else None


def summarise(samples: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Summary]:
    """Each phase's medians over its rounds (phases with no samples are left out)."""

    def median(rows: Sequence[Mapping[str, Any]], key: str) -> float:
        return float(statistics.median(float(r.get(key) or 0) for r in rows))

    out: dict[str, Summary] = {}
    for phase in PHASES:
        rows = samples.get(phase) or []
        if not rows:
            continue
        flow = [r for r in rows if r.get("flow_s")]
        out[phase] = Summary(
            phase=phase,
            rounds=len(rows),
            records=round(median(rows, "records")),
            charts=round(median(rows, "charts")),
            wall_s=median(rows, "wall_s"),
            cpu_s=median(rows, "cpu_s"),
            server_cpu_s=median(rows, "server_cpu_s"),
            peak_mb=median(rows, "peak_mb"),
            flow_s=median(flow, "flow_s") if flow else None,
        )
    return out


@dataclass(frozen=True)
class Target:
    """One of issue 19's targets beside the value this run measured (None: not measured)."""

    name: str
    measured: float | None
    limit: float
    at_least: bool
    unit: str = ""

    @property
    def met(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def targets(s: Mapping[str, Summary], other: Mapping[str, Summary] | None = None) -> list[Target]:
    """Issue 19's targets from this run's medians (and a run at another size, when given)."""

    def get(phase: str, value: Callable[[Summary], float | None]) -> float | None:
        return value(s[phase]) if phase in s else None

    raw = get("raw", lambda x: x.records_per_s)
    sqlite = get("sync-sqlite", lambda x: x.wall_s)
    unchanged = get("rerun-unchanged", lambda x: x.cpu_s + x.server_cpu_s)
    peaks = [s[p].peak_mb for p in ("classify", "sync-sqlite", "sync-pg") if p in s]
    out = [
        Target(
            "full sync / raw read rate, SQLite",
            _ratio(get("sync-sqlite", lambda x: x.records_per_s), raw),
            0.10,
            True,
        ),
        Target(
            "full sync / raw read rate, PostgreSQL",
            _ratio(get("sync-pg", lambda x: x.records_per_s), raw),
            0.08,
            True,
        ),
        Target("unchanged rerun, CPU s in all (sync + server)", unchanged, 2.0, False, " s"),
        Target(
            "1%-changed rerun / full sync, wall (SQLite): whole files re-exported",
            _ratio(get("rerun-1pct", lambda x: x.wall_s), sqlite),
            0.10,
            False,
        ),
        Target(
            "1%-changed rerun / full sync, wall (SQLite): an incremental export part",
            _ratio(get("rerun-delta", lambda x: x.wall_s), sqlite),
            0.10,
            False,
        ),
        Target(
            "PostgreSQL / SQLite full sync, wall",
            _ratio(get("sync-pg", lambda x: x.wall_s), sqlite),
            1.2,
            False,
        ),
        Target(
            "peak memory of classify and sync", max(peaks) if peaks else None, 400.0, False, " MB"
        ),
    ]
    if other:
        for phase in ("sync-sqlite", "sync-pg", "classify"):
            if phase in s and phase in other and other[phase].records:
                big, small = (s[phase], other[phase])
                if big.records < small.records:
                    big, small = small, big
                data = big.records / small.records
                out.append(
                    Target(
                        f"{phase}: time ratio for {data:.1f}x the records (≤ 1.1x the data)",
                        big.wall_s / small.wall_s,
                        1.1 * data,
                        False,
                        "x",
                    )
                )
    return out


#: decimals shown per unit of a target: ratios 3, seconds 2, megabytes 0
DIGITS = {"": 3, " s": 2, " MB": 0, "x": 2}


def _num(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def render(s: Mapping[str, Summary], goals: Sequence[Target]) -> str:
    """The phases table and the targets table, as Markdown."""
    raw = s["raw"].records_per_s if "raw" in s else None
    lines = [
        "| phase | records | records/s | ratio to raw read | charts/s | wall s | CPU s "
        "| server CPU s | peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase, x in s.items():
        times_raw = _ratio(x.records_per_s, raw)
        lines.append(
            f"| {PHASES[phase]} | {_num(x.records or None)} | {_num(x.records_per_s)} "
            f"| {_num(times_raw, 3)} | {_num(x.charts_per_s)} | {x.wall_s:.2f} | {x.cpu_s:.2f} "
            f"| {x.server_cpu_s:.2f} | {x.peak_mb:.0f} |"
        )
    lines += ["", "| target (issue 19) | measured | target | met |", "|---|---:|---:|---|"]
    for t in goals:
        sign = "≥" if t.at_least else "≤"
        met = {None: "not measured", True: "yes", False: "no"}[t.met]
        lines.append(
            f"| {t.name} | {_num(t.measured, DIGITS[t.unit])}"
            f"{t.unit if t.measured is not None else ''} "
            f"| {sign} {t.limit:.3g}{t.unit} | {met} |"
        )
    return "\n".join(lines)
