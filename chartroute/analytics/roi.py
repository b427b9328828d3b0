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
day), or else the first weeks of live snapshots (``roi_windows``). Without one, a figure says
what is missing and never invents a number. Rates are per visit or per note, so a busier month
is not mistaken for a saving; they are scaled by the current month's volume.

Each figure is a row of ``FIGURES``: the rate it compares before against now, the volume it is
scaled by, the practice's settings it shows and how its value and worth are settled; one
function, ``settle_figure``, does the rest for all three. ``roi_render`` prints the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from statistics import fmean

from chartroute.analytics.roi_windows import DAYS_PER_MONTH, Window, choose_windows, summarise
from chartroute.config.models import Billing
from chartroute.config.roi import RoiInputs
from chartroute.store.snapshots import StoredDay

#: Published figures the practice can set its own against (REFERENCES.md).
BENCHMARKS: tuple[str, ...] = (
    "Family physicians spend about 1.4 hours a day on EHR work after clinic hours "
    "(Arndt et al., Ann Fam Med 2017;15(5):419).",
    "Top practices bill within 3-5 days of the visit; the bottom quartile takes 10-15 days "
    "(MGMA, via billing sources).",
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
    pricing = Pricing(inputs, charge, charge_source, billing.currency)
    figures = [settle_figure(spec, before, after, pricing) for spec in FIGURES]
    return RoiReport(before, after, figures, billing.currency, problems)


def _average_charge(inputs: RoiInputs, billing: Billing) -> tuple[float | None, str]:
    if inputs.average_charge_per_visit is not None:
        return inputs.average_charge_per_visit, "config roi.average_charge_per_visit"
    if billing.fee_schedule:
        mean = fmean(billing.fee_schedule.values())
        n = len(billing.fee_schedule)
        return mean, f"mean of the {n} codes in config billing.fee_schedule"
    return None, "config roi.average_charge_per_visit (not set, and no billing.fee_schedule)"


# --- the figures: one skeleton, a table of what each one compares --------------------------


@dataclass(frozen=True)
class Pricing:
    """What a figure's worth is reckoned from: the config's ROI inputs and a charge per visit."""

    inputs: RoiInputs
    charge: float | None
    charge_source: str
    currency: str


@dataclass(frozen=True)
class Measure:
    """A number read from one window's totals, and where it came from in words."""

    name: str
    unit: str
    value: Callable[[Window], float | None]
    source: Callable[[Window], str]
    absent: str | None = None  # the source when the window is missing (default: by side)


@dataclass(frozen=True)
class Outcome:
    """The last step of a figure: its value and, when it has one, its money worth."""

    value: float
    worked: str = ""
    worth: float | None = None
    worth_label: str = ""
    missing: tuple[str, ...] = ()


#: (rate before, rate now, volume now, pricing) -> the figure's value and worth.
Settle = Callable[[float, float, float, Pricing], Outcome]


@dataclass(frozen=True)
class FigureSpec:
    """One ROI figure: a rate before against the same rate now, scaled by a volume now.

    ``lacking`` says what a window without the rate lacks (its denominator); ``settings`` are
    the practice's inputs the figure shows; ``settle`` computes the value and its worth.
    """

    name: str
    unit: str
    formula: str
    before: Measure
    now: Measure
    volume: Measure
    lacking: str
    settings: Callable[[Pricing], tuple[Input, ...]]
    settle: Settle


def settle_figure(
    spec: FigureSpec, before: Window | None, after: Window | None, pricing: Pricing
) -> RoiFigure:
    """A figure from the two windows: its inputs always, its value only when nothing is missing."""
    missing = _window_missing(before, after)
    rate_before = spec.before.value(before) if before else None
    rate_now = spec.now.value(after) if after else None
    volume = spec.volume.value(after) if after else None
    if before is not None and rate_before is None:
        missing.append(f"{spec.lacking} in the {before.describe}")
    if after is not None and rate_now is None:
        missing.append(f"{spec.lacking} in the {after.describe}")
    inputs = (
        _input(spec.before, rate_before, before, "baseline snapshots (missing)"),
        _input(spec.now, rate_now, after, "current snapshots (missing)"),
        _input(spec.volume, volume, after, "current snapshots (missing)"),
        *spec.settings(pricing),
    )
    if missing or rate_before is None or rate_now is None or volume is None:
        return RoiFigure(spec.name, None, spec.unit, spec.formula, inputs, tuple(missing))
    outcome = spec.settle(rate_before, rate_now, volume, pricing)
    return RoiFigure(
        spec.name,
        outcome.value,
        spec.unit,
        spec.formula,
        inputs,
        outcome.missing,
        worth=outcome.worth,
        worth_label=outcome.worth_label,
        worked=outcome.worked,
    )


def _input(measure: Measure, value: float | None, window: Window | None, absent: str) -> Input:
    source = measure.source(window) if window else (measure.absent or absent)
    return Input(measure.name, value, measure.unit, source)


def _window_missing(before: Window | None, after: Window | None) -> list[str]:
    missing = []
    if before is None:
        missing.append("a baseline (no snapshot days before routing to compare against)")
    if after is None:
        missing.append("a current window (no snapshot days after the baseline)")
    return missing


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _hours_saved(minutes: Callable[[RoiInputs], float], cost_note: str = "") -> Settle:
    """Hours a month: (rate before - rate now) x volume a month x minutes each / 60, worth the
    clinician's hourly cost."""

    def settle(before: float, now: float, volume: float, pricing: Pricing) -> Outcome:
        each = minutes(pricing.inputs)
        hours = (before - now) * volume * each / 60
        cost = pricing.inputs.clinician_hourly_cost
        return Outcome(
            hours,
            worked=f"({before:.4f} - {now:.4f}) x {volume:,.1f} x {each:g} / 60 = {hours:,.2f} h",
            worth=hours * cost,
            worth_label=f"per month at {cost:g} per clinician hour{cost_note}",
        )

    return settle


def _cash_freed(before: float, now: float, visits_per_day: float, pricing: Pricing) -> Outcome:
    """Days saved; the cash a day's charges free once, worth a yearly cost of capital."""
    saved = before - now
    if pricing.charge is None:
        return Outcome(
            saved, missing=("an average charge per visit (set roi.average_charge_per_visit)",)
        )
    cash = saved * visits_per_day * pricing.charge
    capital = pricing.inputs.cost_of_capital
    currency = pricing.currency
    return Outcome(
        saved,
        worked=f"{before:.3f} - {now:.3f} = {saved:.3f} days; "
        f"{saved:.3f} x {visits_per_day:,.2f} x {pricing.charge:,.2f} = {cash:,.0f} {currency}",
        worth=cash,
        worth_label=f"cash freed once; worth {cash * capital:,.0f} {currency} a year at a "
        f"{capital:.1%} cost of capital",
    )


def _charge_lag(name: str) -> Measure:
    return Measure(
        name,
        "days",
        lambda w: w.mean_charge_lag,
        lambda w: (
            f"{w.charge_lag_sum:.1f} chart-days / {_n(w.charge_lag_count)} charts closed, "
            f"{w.describe}"
        ),
    )


def _after_hours_share(name: str) -> Measure:
    return Measure(
        name,
        "of notes",
        lambda w: _ratio(w.notes_after_hours, w.notes_signed),
        lambda w: (
            f"{_n(w.notes_after_hours)} of {_n(w.notes_signed)} notes signed outside "
            f"clinic hours, {w.describe}"
        ),
    )


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        name="Recovered clinician hours per month",
        unit="h",
        formula="(administrative charts per visit before - administrative charts per visit "
        "still reaching a clinician now) x visits per month now x minutes per chase / 60",
        before=Measure(
            "administrative charts per visit before",
            "per visit",
            lambda w: _ratio(w.admin_charts, w.visits),
            lambda w: (
                f"{_n(w.admin_charts)} charts with a staff item / {_n(w.visits)} visits, "
                f"{w.describe}; before routing each reached its clinician"
            ),
        ),
        now=Measure(
            "administrative charts per visit still reaching a clinician now",
            "per visit",
            lambda w: _ratio(w.admin_charts_unrouted, w.visits),
            lambda w: (
                f"{_n(w.admin_charts_unrouted)} charts whose staff item reached nobody / "
                f"{_n(w.visits)} visits, {w.describe}"
            ),
        ),
        volume=Measure(
            "visits per month now",
            "visits",
            lambda w: w.visits * w.per_month,
            lambda w: f"{_n(w.visits)} visits x {DAYS_PER_MONTH:.2f} / {w.days} days",
        ),
        lacking="visits",
        settings=lambda p: (
            Input(
                "minutes per chase",
                p.inputs.minutes_per_admin_chart,
                "min",
                "config roi.minutes_per_admin_chart",
            ),
        ),
        settle=_hours_saved(
            lambda inputs: inputs.minutes_per_admin_chart, " (config roi.clinician_hourly_cost)"
        ),
    ),
    FigureSpec(
        name="Days of charge lag saved",
        unit="days",
        formula="mean days visit -> chart closed before - the same now; cash freed once = days "
        "saved x visits per day now x average charge per visit; worth per year = cash freed x "
        "cost of capital",
        before=_charge_lag("mean charge lag before"),
        now=_charge_lag("mean charge lag now"),
        volume=Measure(
            "visits per day now",
            "visits",
            lambda w: _ratio(w.visits, w.days),
            lambda w: f"{_n(w.visits)} visits / {w.days} days",
            absent="current (missing)",
        ),
        lacking="charts closed",
        settings=lambda p: (
            Input("average charge per visit", p.charge, p.currency, p.charge_source),
            Input(
                "cost of capital",
                p.inputs.cost_of_capital,
                "per year",
                "config roi.cost_of_capital",
            ),
        ),
        settle=_cash_freed,
    ),
    FigureSpec(
        name="After-hours hours saved per month",
        unit="h",
        formula="(share of notes signed after hours before - the same now) x notes signed per "
        "month now x minutes per after-hours note / 60",
        before=_after_hours_share("after-hours share before"),
        now=_after_hours_share("after-hours share now"),
        volume=Measure(
            "notes signed per month now",
            "notes",
            lambda w: w.notes_signed * w.per_month,
            lambda w: f"{_n(w.notes_signed)} notes x {DAYS_PER_MONTH:.2f} / {w.days} days",
        ),
        lacking="signed notes",
        settings=lambda p: (
            Input(
                "minutes per after-hours note",
                p.inputs.minutes_per_after_hours_note,
                "min",
                "config roi.minutes_per_after_hours_note",
            ),
        ),
        settle=_hours_saved(lambda inputs: inputs.minutes_per_after_hours_note),
    ),
)


def _n(value: float) -> str:
    """A count as people write it (whole numbers without decimals)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
