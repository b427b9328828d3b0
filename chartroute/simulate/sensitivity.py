"""Where routing helps and where it cannot: both policies over a grid of assumptions.

The grid crosses the administrative share of blockers with staff capacity (the two the answer
hinges on). One-at-a-time rows follow: clinician-capacity shortages (with too few clinician
minutes the clinical backlog grows under either policy, because routing moves administrative
work, not clinical work) and the minutes a manual chase costs, which no source gives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chartroute.simulate.assumptions import SimAssumptions
from chartroute.simulate.metrics import relative_reduction
from chartroute.simulate.run import PipelineFactory, RunResult, SimSettings, simulate

ADMIN_SCALES: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
STAFF_CAPACITIES: tuple[float, ...] = (0.0, 2.0, 5.0, 20.0)
CLINICIAN_SHORTAGES: tuple[float, ...] = (60.0, 45.0)
"""Clinician chart minutes a day (in clinic and after hours together) for the shortage row."""
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


def cell(manual: RunResult, routed: RunResult) -> SensitivityCell:
    a = manual.settings.assumptions
    m, r = manual.summary, routed.summary
    return SensitivityCell(
        a.admin_share_scale,
        a.staff_items_per_day,
        a.clinician_day_minutes,
        m.clinician_backlog,
        r.clinician_backlog,
        m.after_hours_per_clinician,
        r.after_hours_per_clinician,
        m.open_charts,
        r.open_charts,
    )


def grid(base: SimSettings) -> list[SimSettings]:
    """The settings of every cell: admin share by staff capacity, then one-at-a-time rows."""
    out = []
    for scale in ADMIN_SCALES:
        for staff in STAFF_CAPACITIES:
            a = base.assumptions.model_copy(
                update={"admin_share_scale": scale, "staff_items_per_day": staff}
            )
            out.append(_with(base, a))
    for minutes in CLINICIAN_SHORTAGES:
        clinic = min(base.assumptions.clinic_chart_minutes, minutes)
        a = base.assumptions.model_copy(
            update={"clinic_chart_minutes": clinic, "after_hours_cap_minutes": minutes - clinic}
        )
        out.append(_with(base, a))
    for chase in CHASE_MINUTES:
        out.append(_with(base, base.assumptions.model_copy(update={"chase_minutes": chase})))
    return out


def _with(base: SimSettings, assumptions: SimAssumptions) -> SimSettings:
    return SimSettings(base.providers, base.days, base.seed, base.start, assumptions)


def run_sensitivity(
    base: SimSettings,
    workdir: Path,
    pipeline: PipelineFactory,
    settings: Sequence[SimSettings] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SensitivityCell]:
    """Run both policies for every cell of ``settings`` (default: ``grid(base)``)."""
    todo = list(settings) if settings is not None else grid(base)
    cells = []
    for i, one in enumerate(todo):
        where = workdir / f"cell-{i:02d}"
        manual = simulate(one, "manual", where / "manual")
        routed = simulate(one, "routed", where / "routed", pipeline)
        cells.append(cell(manual, routed))
        if progress is not None:
            progress(i + 1, len(todo))
    return cells
