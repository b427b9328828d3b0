"""Manual chasing against routing, as the figures and tables a reader compares.

A single seed can flatter either policy, so every headline figure is a per-seed comparison
first (both policies saw the same practice, the same visits and the same delays) and only then
an average over seeds; the spread of the per-seed reductions is shown beside the mean so a
30% that is really "somewhere between 10% and 50%" reads as such. Nothing here reads or writes
files: the command line and the HTML report both format from these tables.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from chartroute.simulate.metrics import RunSummary, relative_reduction
from chartroute.simulate.run import RunResult
from chartroute.simulate.sensitivity import SensitivityCell
from chartroute.vocabulary import category_label, ordered_categories

BACKLOG = "Clinicians' own backlog"
OPEN_CHARTS = "All open charts"
AFTER_HOURS = "After-hours chart minutes per clinician per day"
CHASING = "Chasing minutes per clinician per day"
CHARGE_LAG = "Charge lag"
TIME_TO_CLOSE = "Time to close: "
"""Prefix of the per-category rows; the category's label follows it."""

HEADLINE_HEADERS = (
    "measure",
    "manual (mean ± sd)",
    "routed (mean ± sd)",
    "reduction (mean, min to max over seeds)",
)
DAILY_HEADERS = (
    "day",
    "clinicians' backlog (manual / routed)",
    "open charts (manual / routed)",
    "after-hours minutes, all clinicians (manual / routed)",
    "charge lag days (manual / routed)",
    "invariant (ok / count)",
    "mismatched",
)
SHORTAGE_HEADERS = (
    "assumption changed",
    "manual backlog",
    "routed backlog",
    "backlog reduction",
    "after-hours reduction",
    "backlog growth, charts/day (manual / routed)",
)

_DECIMALS = {"charts": 1, "minutes": 1, "days": 2}
_MEASURES: tuple[tuple[str, str, Callable[[RunSummary], float]], ...] = (
    (BACKLOG, "charts", lambda s: s.clinician_backlog),
    (OPEN_CHARTS, "charts", lambda s: s.open_charts),
    (AFTER_HOURS, "minutes", lambda s: s.after_hours_per_clinician),
    (CHASING, "minutes", lambda s: s.chase_minutes_per_clinician),
    (CHARGE_LAG, "days", lambda s: s.charge_lag_days),
)


@dataclass(frozen=True)
class HeadlineRow:
    """One measure of both policies over the seeds.

    A mean is NaN when no run had the measure at all (a category that never closed); a
    reduction is None when no seed had a manual figure to reduce.
    """

    measure: str
    unit: str
    manual_mean: float
    manual_sd: float
    routed_mean: float
    routed_sd: float
    reduction_mean: float | None
    reduction_min: float | None
    reduction_max: float | None


class Table(NamedTuple):
    """Headers and formatted cells, so markdown and HTML show the very same text."""

    headers: list[str]
    rows: list[list[str]]


def check_pairs(pairs: Sequence[tuple[RunResult, RunResult]]) -> list[int]:
    """The seeds of the pairs, refusing any pairing that would compare unlike runs."""
    if not pairs:
        raise ValueError("no runs to compare: give at least one (manual, routed) pair")
    seeds: list[int] = []
    for manual, routed in pairs:
        _check_pair(manual, routed)
        seed = manual.summary.seed
        if seed in seeds:
            raise ValueError(f"seed {seed} appears in more than one pair; it would count twice")
        seeds.append(seed)
    return seeds


def _check_pair(manual: RunResult, routed: RunResult) -> None:
    policies = (manual.policy, routed.policy)
    if policies != ("manual", "routed"):
        raise ValueError(f"a pair must be (manual, routed), got {policies}")
    if manual.summary.seed != routed.summary.seed:
        raise ValueError(
            f"a pair must share its seed, got manual seed {manual.summary.seed} and routed "
            f"seed {routed.summary.seed}"
        )


def headline(pairs: Sequence[tuple[RunResult, RunResult]]) -> list[HeadlineRow]:
    """The headline measures, then time to close per category (known categories first)."""
    check_pairs(pairs)
    summaries = [(m.summary, r.summary) for m, r in pairs]
    rows = [
        _row(measure, unit, [(get(m), get(r)) for m, r in summaries])
        for measure, unit, get in _MEASURES
    ]
    found = {c for m, r in summaries for c in (*m.time_to_close, *r.time_to_close)}
    for category in ordered_categories(found):
        values = [
            (m.time_to_close.get(category), r.time_to_close.get(category)) for m, r in summaries
        ]
        rows.append(_row(TIME_TO_CLOSE + category_label(category), "days", values))
    return rows


def _row(
    measure: str, unit: str, per_seed: Sequence[tuple[float | None, float | None]]
) -> HeadlineRow:
    """A seed missing a value (a category one run never closed) is left out of that figure."""
    manual = [m for m, _ in per_seed if m is not None]
    routed = [r for _, r in per_seed if r is not None]
    reductions = [
        red
        for m, r in per_seed
        if m is not None and r is not None and (red := relative_reduction(m, r)) is not None
    ]
    return HeadlineRow(
        measure=measure,
        unit=unit,
        manual_mean=_mean(manual),
        manual_sd=_sd(manual),
        routed_mean=_mean(routed),
        routed_sd=_sd(routed),
        reduction_mean=statistics.fmean(reductions) if reductions else None,
        reduction_min=min(reductions) if reductions else None,
        reduction_max=max(reductions) if reductions else None,
    )


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def _sd(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def number(value: float | None, unit: str) -> str:
    """Charts and minutes to one decimal, days to two; a missing figure as n/a."""
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:,.{_DECIMALS.get(unit, 1)}f}"


def percent(value: float | None, *, signed: bool = False) -> str:
    """A share as a whole percentage; a rounding speck below zero shows as 0%, not -0%."""
    if value is None or math.isnan(value):
        return "n/a"
    if round(value * 100) == 0:
        return "0%"
    return f"{value:+.0%}" if signed else f"{value:.0%}"


def reduction_text(row: HeadlineRow) -> str:
    """The mean reduction, with the per-seed range when the seeds disagree."""
    mean = percent(row.reduction_mean)
    low, high = percent(row.reduction_min), percent(row.reduction_max)
    return mean if low == high else f"{mean} ({low} to {high})"


def _mean_sd(mean: float, sd: float, unit: str) -> str:
    return "n/a" if math.isnan(mean) else f"{number(mean, unit)} ± {number(sd, unit)}"


def headline_table(rows: Sequence[HeadlineRow]) -> Table:
    body = [
        [
            f"{row.measure} ({row.unit})",
            _mean_sd(row.manual_mean, row.manual_sd, row.unit),
            _mean_sd(row.routed_mean, row.routed_sd, row.unit),
            reduction_text(row),
        ]
        for row in rows
    ]
    return Table(list(HEADLINE_HEADERS), body)


def seeds_line(seeds: Sequence[int]) -> str:
    runs = "run" if len(seeds) == 1 else "runs"
    return (
        f"Seeds: {', '.join(str(s) for s in seeds)} ({len(seeds)} {runs} of each policy). "
        "Reduction is 1 - routed/manual, per seed, then averaged; sd is over seeds."
    )


def headline_markdown(rows: Sequence[HeadlineRow], seeds: Sequence[int]) -> str:
    return seeds_line(seeds) + "\n\n" + markdown(headline_table(rows)) + "\n"


def daily_table(manual: RunResult, routed: RunResult) -> Table:
    """Day by day, both policies side by side; the invariant columns are the routed run's."""
    _check_pair(manual, routed)
    if [r.day for r in manual.rows] != [r.day for r in routed.rows]:
        raise ValueError("the manual and routed runs cover different days")
    body = []
    for m, r in zip(manual.rows, routed.rows, strict=True):
        if not r.invariant_checked:
            invariant = "not checked"
        else:
            invariant = "ok" if r.clinical_to_staff == 0 else str(r.clinical_to_staff)
        body.append(
            [
                m.day,
                f"{m.clinician_backlog} / {r.clinician_backlog}",
                f"{m.open_charts} / {r.open_charts}",
                f"{number(m.after_hours_minutes, 'minutes')} / "
                f"{number(r.after_hours_minutes, 'minutes')}",
                f"{number(m.charge_lag_days, 'days')} / {number(r.charge_lag_days, 'days')}",
                invariant,
                str(r.mismatched),
            ]
        )
    return Table(list(DAILY_HEADERS), body)


def daily_markdown(manual: RunResult, routed: RunResult) -> str:
    return markdown(daily_table(manual, routed)) + "\n"


def grid_minutes(cells: Sequence[SensitivityCell]) -> float | None:
    """The clinician minutes of the grid's cells (they share every assumption but two)."""
    counts = Counter(c.clinician_day_minutes for c in cells if not c.label)
    return counts.most_common(1)[0][0] if counts else None


def cell_text(cell: SensitivityCell) -> str:
    """Signed changes under routing: a minus is routing lowering the figure."""
    backlog = None if cell.backlog_reduction is None else -cell.backlog_reduction
    after = None if cell.after_hours_reduction is None else -cell.after_hours_reduction
    return (
        f"backlog {percent(backlog, signed=True)} · after-hours {percent(after, signed=True)} "
        f"· open {percent(cell.open_change, signed=True)} "
        f"· end {percent(cell.end_change, signed=True)}"
    )


def sensitivity_tables(cells: Sequence[SensitivityCell]) -> tuple[Table, Table]:
    """The admin-share by staff-capacity grid, and the clinician-shortage cells apart.

    A grid position with no cell stays blank; the shortage table is empty when every cell
    shares the grid's clinician minutes.
    """
    in_grid = [c for c in cells if not c.label]
    shortage = [c for c in cells if c.label]
    scales = sorted({c.admin_share_scale for c in in_grid})
    staff = sorted({c.staff_items_per_day for c in in_grid})
    at = {(c.admin_share_scale, c.staff_items_per_day): c for c in in_grid}
    headers = ["admin share scale (rows) / staff items per day (columns)"]
    headers += [f"{s:g} items/day" for s in staff]
    grid = [
        [f"{scale:g}"] + [cell_text(at[scale, s]) if (scale, s) in at else "" for s in staff]
        for scale in scales
    ]
    short = [
        [
            c.label,
            number(c.manual_backlog, "charts"),
            number(c.routed_backlog, "charts"),
            percent(c.backlog_reduction),
            percent(c.after_hours_reduction),
            f"{c.manual_growth:+.1f} / {c.routed_growth:+.1f}",
        ]
        for c in shortage
    ]
    return Table(headers, grid), Table(list(SHORTAGE_HEADERS), short)


def sensitivity_markdown(cells: Sequence[SensitivityCell]) -> str:
    if not cells:
        return ""
    grid, shortage = sensitivity_tables(cells)
    minutes = grid_minutes(cells)
    seeds = max(c.seeds for c in cells)
    over = f", each the mean over {seeds} seeds" if seeds > 1 else ""
    parts = [
        f"Change under routing, clinicians with {minutes:g} chart minutes a day{over}: "
        "clinicians' own backlog, after-hours minutes per clinician, all open charts, charts "
        "still open at the end (minus: routing lowers it).",
        markdown(grid),
    ]
    if shortage.rows:
        parts += [
            "One assumption changed at a time from the defaults: clinician minutes (a clinical "
            "staffing shortage) and the minutes of a manual chase. Growth is the backlog's "
            "slope over the steady days: a backlog that keeps growing is a shortage.",
            markdown(shortage),
        ]
    return "\n\n".join(parts) + "\n"


def markdown(table: Table) -> str:
    """A GitHub table; a pipe inside a cell is escaped so it cannot split the cell."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    rule = "|" + "|".join(["---"] + ["---:"] * (len(table.headers) - 1)) + "|"
    return "\n".join([line(table.headers), rule, *(line(row) for row in table.rows)])
