"""What a simulation measured: a row per clinic day, and the averages the comparison reads.

Rows hold counts and minutes only. Averages skip the warm-up days, when the backlog is still
filling from an empty start and flatters whichever policy is measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class DayRow:
    """One clinic day of one policy, measured after the evening's work."""

    day: str
    policy: str
    clinician_backlog: int
    """Open charts on clinicians' own lists: everything open under manual chasing; charts
    with a clinical item (or an administrative one nobody could take) under routing."""
    open_charts: int
    after_hours_minutes: float
    """Chart minutes worked beyond the clinic-hours allowance, summed over clinicians."""
    clinician_minutes: float
    chase_minutes: float
    clinician_did_admin: int
    staff_done: int
    asked_again: int
    charts_closed: int = 0
    charge_lag_days: float | None = None
    """Mean days from visit to the last blocker done, of the charts that closed this day."""
    clinical_to_staff: int = 0
    """Clinical blockers held by someone without the clinician role: must be 0 every day."""
    invariant_checked: bool = False
    mismatched: int = 0
    """Open blockers the routing pipeline and the simulation disagree on (0 expected)."""
    escalated: int = 0
    notifications: int = 0


@dataclass(slots=True)
class RunSummary:
    """The steady-state averages of one run (one policy, one seed)."""

    policy: str
    seed: int
    clinicians: int
    days: int
    clinician_backlog: float
    open_charts: float
    after_hours_per_clinician: float
    chase_minutes_per_clinician: float
    charge_lag_days: float
    still_open_at_end: int
    time_to_close: dict[str, float] = field(default_factory=dict)
    """Mean days from a blocker appearing to its being done, per category."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def steady(rows: Sequence[DayRow], warmup: int) -> list[DayRow]:
    """The rows after the warm-up (all of them if the run is shorter than the warm-up)."""
    return list(rows[warmup:]) or list(rows)


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def relative_reduction(manual: float, routed: float) -> float | None:
    """1 - routed/manual: the share of the manual figure routing removes (None if manual is 0)."""
    if manual == 0:
        return None
    return 1.0 - routed / manual
