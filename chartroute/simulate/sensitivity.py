"""Where routing helps and where it cannot: both policies over a grid of assumptions.

The grid crosses the administrative share of blockers with staff capacity (the two the answer
hinges on). One-at-a-time rows follow: clinician-capacity shortages (with too few clinician
minutes the clinical backlog grows under either policy, because routing moves administrative
work, not clinical work) and the minutes a manual chase costs, which no source gives.

Each cell may be run on several seeds (several simulated practices) and averaged
(``average``): one seed's practice can favour either policy by a few charts, so a claim that
routing is no worse than manual chasing is made on the mean over seeds.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from chartroute.simulate.assumptions import SimAssumptions
from chartroute.simulate.metrics import relative_reduction, steady
from chartroute.simulate.run import PipelineFactory, RunResult, SimSettings, simulate

ADMIN_SCALES: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
STAFF_CAPACITIES: tuple[float, ...] = (0.0, 2.0, 5.0, 20.0)
CLINICIAN_SHORTAGES: tuple[float, ...] = (90.0, 60.0, 45.0)
"""Clinician chart minutes a day (in clinic and after hours together) for the shortage rows:
enough for clinical work but not for chasing too, about the clinical work alone, and less."""
CHASE_MINUTES: tuple[float, ...] = (1.0, 6.0)
"""Minutes per look under manual chasing, the assumption with no source the answer leans on."""


@dataclass(frozen=True, slots=True)
class SensitivityCell:
    """Both policies under one set of assumptions, as steady-state averages."""

    admin_share_scale: float
    staff_items_per_day: float
    clinician_day_minutes: float
    manual_backlog: float
    routed_backlog: float
    manual_after_hours: float
    routed_after_hours: float
    manual_open: float
    routed_open: float
    chase_minutes: float = 3.0
    manual_growth: float = 0.0
    """Clinicians' backlog growth, charts per clinic day over the steady days (least squares):
    a backlog that keeps growing is a shortage no average shows."""
    routed_growth: float = 0.0
    manual_end: float = 0.0
    """Charts still open at the end of the run (a backlog the averages may hide)."""
    routed_end: float = 0.0
    label: str = ""
    """Which one assumption this cell changes (empty: a cell of the grid)."""
    seeds: int = 1
    """How many seeds' runs the figures average."""

    @property
    def backlog_reduction(self) -> float | None:
        return relative_reduction(self.manual_backlog, self.routed_backlog)

    @property
    def after_hours_reduction(self) -> float | None:
        return relative_reduction(self.manual_after_hours, self.routed_after_hours)

    @property
    def open_change(self) -> float | None:
        """Relative change of all open charts (negative: routing closes charts sooner)."""
        reduction = relative_reduction(self.manual_open, self.routed_open)
        return None if reduction is None else -reduction

    @property
    def end_change(self) -> float | None:
        """Relative change of the charts still open at the end (negative: routing lowers it)."""
        reduction = relative_reduction(self.manual_end, self.routed_end)
        return None if reduction is None else -reduction


def cell(manual: RunResult, routed: RunResult, label: str = "") -> SensitivityCell:
    """One cell from the two runs of the same settings."""
    a = manual.settings.assumptions
    m, r = manual.summary, routed.summary
    return SensitivityCell(
        admin_share_scale=a.admin_share_scale,
        staff_items_per_day=a.staff_items_per_day,
        clinician_day_minutes=a.clinician_day_minutes,
        manual_backlog=m.clinician_backlog,
        routed_backlog=r.clinician_backlog,
        manual_after_hours=m.after_hours_per_clinician,
        routed_after_hours=r.after_hours_per_clinician,
        manual_open=m.open_charts,
        routed_open=r.open_charts,
        chase_minutes=a.chase_minutes,
        manual_growth=growth(manual),
        routed_growth=growth(routed),
        manual_end=float(m.still_open_at_end),
        routed_end=float(r.still_open_at_end),
        label=label,
    )


_AVERAGED = (
    "manual_backlog",
    "routed_backlog",
    "manual_after_hours",
    "routed_after_hours",
    "manual_open",
    "routed_open",
    "manual_growth",
    "routed_growth",
    "manual_end",
    "routed_end",
)


def average(cells: Sequence[SensitivityCell]) -> SensitivityCell:
    """One cell from the same settings' cells on several seeds: every measured figure is the
    mean over seeds (the assumptions and the label are the first cell's, shared by all)."""
    if not cells:
        raise ValueError("no cells to average")
    first = cells[0]
    means: dict[str, Any] = {
        name: round(statistics.fmean(getattr(c, name) for c in cells), 3) for name in _AVERAGED
    }
    return replace(first, seeds=len(cells), **means)


def growth(result: RunResult) -> float:
    """Least-squares slope of the clinicians' backlog over the steady days, charts per day."""
    rows = steady(result.rows, result.settings.assumptions.warmup_days)
    if len(rows) < 2:
        return 0.0
    xs = [float(i) for i in range(len(rows))]
    ys = [float(r.clinician_backlog) for r in rows]
    if len(set(ys)) == 1:
        return 0.0
    return round(statistics.linear_regression(xs, ys).slope, 3)


def grid(base: SimSettings) -> list[tuple[str, SimSettings]]:
    """Every cell as (label, settings): admin share by staff capacity (label empty), then the
    defaults and one-at-a-time changes (labelled)."""
    out: list[tuple[str, SimSettings]] = []
    for scale in ADMIN_SCALES:
        for staff in STAFF_CAPACITIES:
            a = base.assumptions.model_copy(
                update={"admin_share_scale": scale, "staff_items_per_day": staff}
            )
            out.append(("", _with(base, a)))
    out.append(("none (the defaults)", base))
    for minutes in CLINICIAN_SHORTAGES:
        clinic = min(base.assumptions.clinic_chart_minutes, minutes)
        a = base.assumptions.model_copy(
            update={"clinic_chart_minutes": clinic, "after_hours_cap_minutes": minutes - clinic}
        )
        out.append((f"clinician chart minutes a day: {minutes:g}", _with(base, a)))
    for chase in CHASE_MINUTES:
        a = base.assumptions.model_copy(update={"chase_minutes": chase})
        out.append((f"chase minutes: {chase:g}", _with(base, a)))
    return out


def _with(base: SimSettings, assumptions: SimAssumptions, seed: int | None = None) -> SimSettings:
    return SimSettings(
        base.providers, base.days, base.seed if seed is None else seed, base.start, assumptions
    )


def run_sensitivity(
    base: SimSettings,
    workdir: Path,
    pipeline: PipelineFactory,
    settings: Sequence[tuple[str, SimSettings]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    seeds: Sequence[int] = (),
) -> list[SensitivityCell]:
    """Run both policies for every (label, settings) (default: ``grid(base)``), on each of
    ``seeds`` (default: the settings' own seed), each cell the mean over the seeds."""
    todo = list(settings) if settings is not None else grid(base)
    cells = []
    for i, (label, one) in enumerate(todo):
        runs = []
        for seed in seeds or (one.seed,):
            where = workdir / f"cell-{i:02d}" / f"seed-{seed}"
            seeded = _with(one, one.assumptions, seed)
            manual = simulate(seeded, "manual", where / "manual")
            routed = simulate(seeded, "routed", where / "routed", pipeline)
            runs.append(cell(manual, routed, label))
        cells.append(average(runs))
        if progress is not None:
            progress(i + 1, len(todo))
    return cells
