"""Before and after: which snapshot days make the ROI's baseline and current windows.

The baseline is the days a backfill reconstructed from history (before the first live day),
or else the first weeks of live snapshots; the current window is the last weeks, never
overlapping the baseline. A window's totals are added up from the days' stored figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean

from chartroute.config.roi import RoiInputs
from chartroute.store.snapshots import StoredDay

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Window:
    """A range of days and what the snapshots measured in it."""

    label: str
    start: date
    end: date
    days: int  # days in the range that have a snapshot
    origins: dict[str, int]  # days per origin
    visits: float
    admin_charts: float
    admin_charts_unrouted: float
    notes_signed: float
    notes_after_hours: float
    charge_lag_count: float
    charge_lag_sum: float
    open_charts_mean: float | None
    clinician_backlog_mean: float | None

    @property
    def describe(self) -> str:
        origins = ", ".join(f"{n} {o}" for o, n in sorted(self.origins.items()))
        return f"{self.label} {self.start}..{self.end} ({self.days} days with snapshots: {origins})"

    @property
    def per_month(self) -> float:
        """Multiplier from this window's totals to a month's."""
        return DAYS_PER_MONTH / self.days if self.days else 0.0

    @property
    def mean_charge_lag(self) -> float | None:
        return self.charge_lag_sum / self.charge_lag_count if self.charge_lag_count else None


def summarise(label: str, days: Sequence[StoredDay]) -> Window | None:
    """Add up a window's daily figures (None when no day in it has a snapshot)."""
    if not days:
        return None

    def total(metric: str) -> float:
        return sum(d.get(metric) or 0.0 for d in days)

    def mean(metric: str) -> float | None:
        values = [v for d in days if (v := d.get(metric)) is not None]
        return fmean(values) if values else None

    origins: dict[str, int] = {}
    for d in days:
        origins[d.origin] = origins.get(d.origin, 0) + 1
    return Window(
        label=label,
        start=days[0].day,
        end=days[-1].day,
        days=len(days),
        origins=origins,
        visits=total("visits"),
        admin_charts=total("admin_charts"),
        admin_charts_unrouted=total("admin_charts_unrouted"),
        notes_signed=total("notes_signed"),
        notes_after_hours=total("notes_signed_after_hours"),
        charge_lag_count=total("charge_lag_days.count"),
        charge_lag_sum=total("charge_lag_days.sum"),
        open_charts_mean=mean("open_charts"),
        clinician_backlog_mean=mean("clinician_backlog_charts"),
    )


def choose_windows(
    days: Sequence[StoredDay],
    inputs: RoiInputs,
    baseline: tuple[date, date] | None = None,
    current: tuple[date, date] | None = None,
) -> tuple[list[StoredDay], list[StoredDay], list[str]]:
    """Split the snapshot days into baseline and current windows; say why either is empty.

    Default baseline: the reconstructed days before the first live day (a backfill); without
    those, the first ``baseline_days`` days of snapshots. Default current: the last
    ``current_days`` days, never overlapping the baseline.
    """
    problems: list[str] = []
    if not days:
        problems.append(
            "no snapshots at all: run a sync (each sync takes one), the daily report flow, or "
            "`chartroute backfill` to reconstruct past days"
        )
        return [], [], problems
    if baseline is not None:
        base = [d for d in days if baseline[0] <= d.day <= baseline[1]]
        if not base:
            problems.append(f"no snapshots in the baseline {baseline[0]}..{baseline[1]}")
    else:
        live = [d.day for d in days if d.origin == "live"]
        first_live = min(live) if live else None
        base = [
            d
            for d in days
            if d.origin == "reconstructed" and (first_live is None or d.day < first_live)
        ]
        if not base:
            first = days[0].day
            last_base = first + timedelta(days=inputs.baseline_days - 1)
            base = [d for d in days if d.day <= last_base]
    if current is not None:
        cur = [d for d in days if current[0] <= d.day <= current[1]]
        if not cur:
            problems.append(f"no snapshots in the current window {current[0]}..{current[1]}")
    else:
        last = days[-1].day
        first_cur = last - timedelta(days=inputs.current_days - 1)
        base_end = base[-1].day if base else None
        cur = [d for d in days if d.day >= first_cur and (base_end is None or d.day > base_end)]
        if not cur and base:
            problems.append(
                f"no days after the baseline: the snapshots run from {days[0].day} to {last} and "
                f"the baseline takes {base[0].day}..{base[-1].day}; the comparison needs later "
                "days, or a backfill of days before the first live one "
                "(`chartroute backfill --start ... --end ...`)"
            )
    return base, cur, problems
