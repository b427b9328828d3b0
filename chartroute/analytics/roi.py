"""What routing is worth, from the practice's own snapshots: before against after.

Three figures, each shown with its formula, the numbers that went into it and where each
number came from:

* recovered clinician hours per month: administrative charts (a result, a letter, an
  authorization, a missing field) that clinicians no longer chase, times the minutes one chase
  takes;
* days of charge lag saved, the cash that frees once (a claim cannot go out before its chart
  closes, so receivables shrink by a day's charges per day saved), and that cash's yearly
  worth at the practice's cost of capital;
* after-hours hours saved per month: the fall in the share of notes signed outside clinic
  hours, times the notes signed per month, times the documentation behind one note.

The "before" is a baseline: days a backfill reconstructed from history (before the first live
day), or else the first weeks of live snapshots. Without one, a figure says what is missing
and never invents a number. Rates are per visit or per note, so a busier month is not
mistaken for a saving; they are scaled by the current month's volume.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import fmean

from chartroute.config.models import Billing
from chartroute.config.roi import RoiInputs
from chartroute.store.snapshots import StoredDay

DAYS_PER_MONTH = 365.25 / 12

#: Published figures the practice can set its own against (REFERENCES.md).
BENCHMARKS: tuple[str, ...] = (
    "Family physicians spend about 1.4 hours a day on EHR work after clinic hours "
    "(Arndt et al., Ann Fam Med 2017;15(5):419).",
    "Top practices bill within 3-5 days of the visit; the bottom quartile takes 10-15 days "
    "(MGMA, via billing sources).",
)


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


@dataclass(frozen=True)
class Input:
    """A number that went into a figure, and where it came from."""

    name: str
    value: float | None
    unit: str
    source: str


@dataclass(frozen=True)
class RoiFigure:
    """One ROI figure: its value (None when something is missing), formula and inputs."""

    name: str
    value: float | None
    unit: str
    formula: str
    inputs: tuple[Input, ...]
    missing: tuple[str, ...] = ()
    worth: float | None = None  # money value, in the billing currency, when it has one
    worth_label: str = ""
    worked: str = ""  # the formula with the numbers put in


@dataclass
class RoiReport:
    """The whole ROI: the two windows compared and the figures."""

    baseline: Window | None
    current: Window | None
    figures: list[RoiFigure]
    currency: str
    problems: list[str] = field(default_factory=list)  # why a window is missing
    benchmarks: tuple[str, ...] = BENCHMARKS


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


def compute_roi(
    days: Sequence[StoredDay],
    inputs: RoiInputs,
    billing: Billing,
    baseline: tuple[date, date] | None = None,
    current: tuple[date, date] | None = None,
) -> RoiReport:
    """The ROI figures from stored snapshot days."""
    base_days, cur_days, problems = choose_windows(days, inputs, baseline, current)
    before = summarise("baseline", base_days)
    after = summarise("current", cur_days)
    charge, charge_source = _average_charge(inputs, billing)
    figures = [
        recovered_clinician_hours(before, after, inputs),
        charge_lag_saved(before, after, inputs, charge, charge_source, billing.currency),
        after_hours_saved(before, after, inputs),
    ]
    return RoiReport(before, after, figures, billing.currency, problems)


def _average_charge(inputs: RoiInputs, billing: Billing) -> tuple[float | None, str]:
    if inputs.average_charge_per_visit is not None:
        return inputs.average_charge_per_visit, "config roi.average_charge_per_visit"
    if billing.fee_schedule:
        mean = fmean(billing.fee_schedule.values())
        n = len(billing.fee_schedule)
        return mean, f"mean of the {n} codes in config billing.fee_schedule"
    return None, "config roi.average_charge_per_visit (not set, and no billing.fee_schedule)"


def _window_missing(before: Window | None, after: Window | None) -> list[str]:
    missing = []
    if before is None:
        missing.append("a baseline (no snapshot days before routing to compare against)")
    if after is None:
        missing.append("a current window (no snapshot days after the baseline)")
    return missing


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def recovered_clinician_hours(
    before: Window | None, after: Window | None, inputs: RoiInputs
) -> RoiFigure:
    """Clinician hours a month no longer spent chasing administrative charts."""
    name = "Recovered clinician hours per month"
    formula = (
        "(administrative charts per visit before - administrative charts per visit still "
        "reaching a clinician now) x visits per month now x minutes per chase / 60"
    )
    missing = _window_missing(before, after)
    share_before = _ratio(before.admin_charts, before.visits) if before else None
    share_after = _ratio(after.admin_charts_unrouted, after.visits) if after else None
    visits_month = after.visits * after.per_month if after else None
    if before is not None and share_before is None:
        missing.append(f"visits in the {before.describe}")
    if after is not None and share_after is None:
        missing.append(f"visits in the {after.describe}")
    figure_inputs = (
        Input(
            "administrative charts per visit before",
            share_before,
            "per visit",
            f"{_n(before.admin_charts)} charts with a staff item / {_n(before.visits)} visits, "
            f"{before.describe}; before routing each reached its clinician"
            if before
            else "baseline snapshots (missing)",
        ),
        Input(
            "administrative charts per visit still reaching a clinician now",
            share_after,
            "per visit",
            f"{_n(after.admin_charts_unrouted)} charts whose staff item reached nobody / "
            f"{_n(after.visits)} visits, {after.describe}"
            if after
            else "current snapshots (missing)",
        ),
        Input(
            "visits per month now",
            visits_month,
            "visits",
            f"{_n(after.visits)} visits x {DAYS_PER_MONTH:.2f} / {after.days} days"
            if after
            else "current snapshots (missing)",
        ),
        Input(
            "minutes per chase",
            inputs.minutes_per_admin_chart,
            "min",
            "config roi.minutes_per_admin_chart",
        ),
    )
    if missing or share_before is None or share_after is None or visits_month is None:
        return RoiFigure(name, None, "h", formula, figure_inputs, tuple(missing))
    hours = (share_before - share_after) * visits_month * inputs.minutes_per_admin_chart / 60
    return RoiFigure(
        name,
        hours,
        "h",
        formula,
        figure_inputs,
        worked=f"({share_before:.4f} - {share_after:.4f}) x {visits_month:,.1f} x "
        f"{inputs.minutes_per_admin_chart:g} / 60 = {hours:,.2f} h",
        worth=hours * inputs.clinician_hourly_cost,
        worth_label=f"per month at {inputs.clinician_hourly_cost:g} per clinician hour "
        "(config roi.clinician_hourly_cost)",
    )


def charge_lag_saved(
    before: Window | None,
    after: Window | None,
    inputs: RoiInputs,
    charge: float | None,
    charge_source: str,
    currency: str,
) -> RoiFigure:
    """Days of charge lag saved, and the cash released (worth a yearly cost of capital)."""
    name = "Days of charge lag saved"
    formula = (
        "mean days visit -> chart closed before - the same now; cash freed once = days saved x "
        "visits per day now x average charge per visit; worth per year = cash freed x cost of "
        "capital"
    )
    missing = _window_missing(before, after)
    lag_before = before.mean_charge_lag if before else None
    lag_after = after.mean_charge_lag if after else None
    visits_day = _ratio(after.visits, after.days) if after else None
    if before is not None and lag_before is None:
        missing.append(f"charts closed in the {before.describe}")
    if after is not None and lag_after is None:
        missing.append(f"charts closed in the {after.describe}")
    figure_inputs = (
        Input(
            "mean charge lag before",
            lag_before,
            "days",
            f"{before.charge_lag_sum:.1f} chart-days / {_n(before.charge_lag_count)} charts "
            f"closed, {before.describe}"
            if before
            else "baseline snapshots (missing)",
        ),
        Input(
            "mean charge lag now",
            lag_after,
            "days",
            f"{after.charge_lag_sum:.1f} chart-days / {_n(after.charge_lag_count)} charts "
            f"closed, {after.describe}"
            if after
            else "current snapshots (missing)",
        ),
        Input(
            "visits per day now",
            visits_day,
            "visits",
            f"{_n(after.visits)} visits / {after.days} days" if after else "current (missing)",
        ),
        Input("average charge per visit", charge, currency, charge_source),
        Input("cost of capital", inputs.cost_of_capital, "per year", "config roi.cost_of_capital"),
    )
    if missing or lag_before is None or lag_after is None:
        return RoiFigure(name, None, "days", formula, figure_inputs, tuple(missing))
    saved = lag_before - lag_after
    if charge is None or visits_day is None:
        return RoiFigure(
            name,
            saved,
            "days",
            formula,
            figure_inputs,
            ("an average charge per visit (set roi.average_charge_per_visit)",),
        )
    cash = saved * visits_day * charge
    return RoiFigure(
        name,
        saved,
        "days",
        formula,
        figure_inputs,
        worked=f"{lag_before:.3f} - {lag_after:.3f} = {saved:.3f} days; "
        f"{saved:.3f} x {visits_day:,.2f} x {charge:,.2f} = {cash:,.0f} {currency}",
        worth=cash,
        worth_label=f"cash freed once; worth {cash * inputs.cost_of_capital:,.0f} {currency} a "
        f"year at a {inputs.cost_of_capital:.1%} cost of capital",
    )


def after_hours_saved(before: Window | None, after: Window | None, inputs: RoiInputs) -> RoiFigure:
    """After-hours documentation hours a month no longer worked."""
    name = "After-hours hours saved per month"
    formula = (
        "(share of notes signed after hours before - the same now) x notes signed per month "
        "now x minutes per after-hours note / 60"
    )
    missing = _window_missing(before, after)
    share_before = _ratio(before.notes_after_hours, before.notes_signed) if before else None
    share_after = _ratio(after.notes_after_hours, after.notes_signed) if after else None
    notes_month = after.notes_signed * after.per_month if after else None
    if before is not None and share_before is None:
        missing.append(f"signed notes in the {before.describe}")
    if after is not None and share_after is None:
        missing.append(f"signed notes in the {after.describe}")
    figure_inputs = (
        Input(
            "after-hours share before",
            share_before,
            "of notes",
            f"{_n(before.notes_after_hours)} of {_n(before.notes_signed)} notes signed outside "
            f"clinic hours, {before.describe}"
            if before
            else "baseline snapshots (missing)",
        ),
        Input(
            "after-hours share now",
            share_after,
            "of notes",
            f"{_n(after.notes_after_hours)} of {_n(after.notes_signed)} notes signed outside "
            f"clinic hours, {after.describe}"
            if after
            else "current snapshots (missing)",
        ),
        Input(
            "notes signed per month now",
            notes_month,
            "notes",
            f"{_n(after.notes_signed)} notes x {DAYS_PER_MONTH:.2f} / {after.days} days"
            if after
            else "current snapshots (missing)",
        ),
        Input(
            "minutes per after-hours note",
            inputs.minutes_per_after_hours_note,
            "min",
            "config roi.minutes_per_after_hours_note",
        ),
    )
    if missing or share_before is None or share_after is None or notes_month is None:
        return RoiFigure(name, None, "h", formula, figure_inputs, tuple(missing))
    hours = (share_before - share_after) * notes_month * inputs.minutes_per_after_hours_note / 60
    return RoiFigure(
        name,
        hours,
        "h",
        formula,
        figure_inputs,
        worked=f"({share_before:.4f} - {share_after:.4f}) x {notes_month:,.1f} x "
        f"{inputs.minutes_per_after_hours_note:g} / 60 = {hours:,.2f} h",
        worth=hours * inputs.clinician_hourly_cost,
        worth_label=f"per month at {inputs.clinician_hourly_cost:g} per clinician hour",
    )


def _n(value: float) -> str:
    """A count as people write it (whole numbers without decimals)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def roi_text(report: RoiReport) -> str:
    """The ROI as plain text: each figure, its formula, its inputs and what is missing."""
    lines = ["chartroute ROI: before against after, from this practice's snapshots", ""]
    for label, window in (("Baseline", report.baseline), ("Current", report.current)):
        lines.append(f"{label}: {window.describe if window else 'missing'}")
    for problem in report.problems:
        lines.append(f"  ! {problem}")
    for fig in report.figures:
        lines.append("")
        if fig.value is None:
            lines.append(f"{fig.name}: not computed")
        else:
            lines.append(f"{fig.name}: {fig.value:,.2f} {fig.unit}")
        if fig.worth is not None:
            lines.append(f"  = {fig.worth:,.0f} {report.currency} {fig.worth_label}")
        lines.append(f"  formula: {fig.formula}")
        if fig.worked:
            lines.append(f"  worked: {fig.worked}")
        for item in fig.inputs:
            shown = "missing" if item.value is None else f"{item.value:,.4g} {item.unit}"
            lines.append(f"  - {item.name} = {shown}  [{item.source}]")
        for what in fig.missing:
            lines.append(f"  missing: {what}")
    lines.append("")
    lines.append("For reference:")
    lines.extend(f"  - {b}" for b in report.benchmarks)
    return "\n".join(lines)


def roi_json(report: RoiReport) -> dict[str, object]:
    """The ROI as JSON-ready data (the same content as the text)."""

    def window(w: Window | None) -> dict[str, object] | None:
        if w is None:
            return None
        return {
            "start": w.start.isoformat(),
            "end": w.end.isoformat(),
            "days": w.days,
            "origins": w.origins,
            "visits": w.visits,
            "admin_charts": w.admin_charts,
            "admin_charts_unrouted": w.admin_charts_unrouted,
            "notes_signed": w.notes_signed,
            "notes_signed_after_hours": w.notes_after_hours,
            "charge_lag_mean_days": w.mean_charge_lag,
            "open_charts_mean": w.open_charts_mean,
            "clinician_backlog_mean": w.clinician_backlog_mean,
        }

    return {
        "currency": report.currency,
        "baseline": window(report.baseline),
        "current": window(report.current),
        "problems": report.problems,
        "figures": [
            {
                "name": f.name,
                "value": f.value,
                "unit": f.unit,
                "worth": f.worth,
                "worth_label": f.worth_label,
                "formula": f.formula,
                "worked": f.worked,
                "inputs": [
                    {"name": i.name, "value": i.value, "unit": i.unit, "source": i.source}
                    for i in f.inputs
                ],
                "missing": list(f.missing),
            }
            for f in report.figures
        ],
        "benchmarks": list(report.benchmarks),
    }
