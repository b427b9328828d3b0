"""The simulation's answer as one self-contained HTML page, in the management report's style.

The page travels the way the management report does (a shared drive, an email attachment), so
it follows the same rules: inline styles, inline SVG charts, no script, and the same
Content-Security-Policy forbidding every load. It shows counts, minutes, days and categories
only; the simulated practice has no patients to name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

from chartroute.report import graphs
from chartroute.report.html import write_report
from chartroute.report.page import data_table, page, section
from chartroute.simulate.assumptions import SimAssumptions, assumption_rows
from chartroute.simulate.compare import (
    AFTER_HOURS,
    BACKLOG,
    OPEN_CHARTS,
    TIME_TO_CLOSE,
    HeadlineRow,
    Table,
    check_pairs,
    grid_minutes,
    headline_table,
    number,
    percent,
    reduction_text,
    seeds_line,
    sensitivity_tables,
)
from chartroute.simulate.metrics import DayRow
from chartroute.simulate.run import RunResult
from chartroute.simulate.sensitivity import SensitivityCell

DEFAULT_TITLE = "Manual chasing against routing: a simulated practice"

EXTRA_STYLE = """
.text th, .text td { text-align: left; vertical-align: top; }
"""
"""Prose tables (assumptions, the sensitivity grid) read better left-aligned than numbers."""

Pairs = Sequence[tuple[RunResult, RunResult]]


def _find(rows: Sequence[HeadlineRow], measure: str) -> HeadlineRow | None:
    return next((r for r in rows if r.measure == measure), None)


def _card(key: str, label: str, row: HeadlineRow | None, seeds: int) -> str:
    """A reduction as words ("35% lower"), so a rise cannot read as a negative saving."""
    if row is None:
        return ""
    r = row.reduction_mean
    if r is None:
        value = "n/a"
    elif percent(r) == "0%":
        value = "no change"
    else:
        value = f"{percent(abs(r))} {'lower' if r > 0 else 'higher'}"
    detail = (
        f"manual {number(row.manual_mean, row.unit)} → routed "
        f"{number(row.routed_mean, row.unit)} {row.unit}"
    )
    if seeds > 1:
        detail += f"; reduction {reduction_text(row)} over {seeds} seeds"
    return (
        f'<div class="card" data-key="{escape(key)}"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div><div class="detail">{escape(detail)}</div></div>'
    )


def _by_day(rows: Sequence[DayRow]) -> dict[str, DayRow]:
    return {r.day: r for r in rows}


def _daily_chart(
    pairs: Pairs, label: str, value: str, per_clinician: bool = False, unit: str = ""
) -> str:
    """Both policies' days on one chart; a day one run lacks is a gap, not a zero."""
    manual, routed = pairs[0]
    days = sorted({r.day for r in manual.rows} | {r.day for r in routed.rows})
    series: dict[str, list[float | None]] = {}
    for run in (manual, routed):
        found = _by_day(run.rows)
        scale = max(1, run.summary.clinicians) if per_clinician else 1
        series[run.policy] = [
            None if d not in found else float(getattr(found[d], value)) / scale for d in days
        ]
    return graphs.line_chart(label, [d[5:] for d in days], series, unit)


def _time_to_close(rows: Sequence[HeadlineRow]) -> str:
    """Two bars per category on one scale, told apart by colour (routed is the dark one)."""
    labels: list[str] = []
    values: list[float] = []
    dark: list[float] = []
    for row in rows:
        if not row.measure.startswith(TIME_TO_CLOSE):
            continue
        category = row.measure.removeprefix(TIME_TO_CLOSE)
        for mean, routed in ((row.manual_mean, False), (row.routed_mean, True)):
            if not math.isnan(mean):
                labels.append(category)
                values.append(round(mean, 2))
                dark.append(round(mean, 2) if routed else 0.0)
    return graphs.horizontal_bars(
        "Mean days from a blocker appearing to its being done, by category and policy",
        labels,
        values,
        dark,
        highlight_name="routed",
        value_name="manual",
    )


def _text_table(table: Table) -> str:
    return f'<div class="text">{data_table(table.headers, table.rows)}</div>'


def _sensitivity(cells: Sequence[SensitivityCell]) -> str:
    grid, shortage = sensitivity_tables(cells)
    minutes = grid_minutes(cells)
    body = _text_table(grid)
    if shortage.rows:
        body += (
            '<p class="why">One assumption changed at a time: clinician minutes (a clinical '
            "staffing shortage) and the minutes of a manual chase. Routing moves administrative "
            "work, not clinical work, so with too few clinician minutes the clinical backlog "
            "grows under either policy.</p>" + data_table(shortage.headers, shortage.rows)
        )
    return section(
        "sensitivity",
        "Where routing helps and where it cannot",
        f"Each cell is the change under routing, clinicians having {minutes or 0:g} chart "
        "minutes a day: their own backlog, their after-hours minutes and all open charts (minus: "
        "routing lowers it). Rows scale the share of administrative blockers; columns set "
        "the items each staff member closes a day.",
        body,
    )


def render_html(
    pairs: Pairs,
    rows: list[HeadlineRow],
    assumptions: SimAssumptions,
    sensitivity: Sequence[SensitivityCell] = (),
    title: str = DEFAULT_TITLE,
) -> str:
    """The whole page; the day-by-day charts show the first pair, the tables every seed."""
    seeds = check_pairs(pairs)
    first = pairs[0][0]
    settings = first.settings
    n = len(seeds)
    cards = "".join(
        [
            _card("clinician-backlog", "Clinicians' own backlog", _find(rows, BACKLOG), n),
            _card("after-hours", "After-hours minutes per clinician", _find(rows, AFTER_HOURS), n),
            _card("open-charts", "All open charts", _find(rows, OPEN_CHARTS), n),
        ]
    )
    warm = (
        f"The first {assumptions.warmup_days} days are the warm-up, left out of the averages. "
        f"Seed {seeds[0]}."
    )
    table = headline_table(rows)
    sections = [
        section(
            "headline",
            "Averages over seeds",
            seeds_line(seeds) + " Averages leave out the warm-up days.",
            data_table(table.headers, table.rows),
        ),
        section(
            "clinician-backlog",
            "Clinicians' own backlog per day",
            "Open charts on clinicians' own lists after each evening's work. Under manual "
            "chasing every open chart is on a clinician's list; under routing only charts with "
            "something only a clinician can do. " + warm,
            _daily_chart(pairs, "Clinicians' own backlog, charts", "clinician_backlog"),
        ),
        section(
            "after-hours",
            "After-hours chart minutes per clinician per day",
            "Chart minutes worked beyond the clinic-hours allowance, averaged over clinicians: "
            "the time routing is meant to give back. " + warm,
            _daily_chart(
                pairs,
                "After-hours chart minutes per clinician",
                "after_hours_minutes",
                per_clinician=True,
            ),
        ),
        section(
            "open-charts",
            "All open charts per day",
            "Every chart still waiting on something, whoever holds it. Routing moves work off "
            "clinicians' lists; if staff cannot keep up, charts stay open however short those "
            "lists get. " + warm,
            _daily_chart(pairs, "All open charts", "open_charts"),
        ),
        section(
            "time-to-close",
            "Time to close by category",
            "Mean days from a blocker appearing to its being done, averaged over seeds, for "
            "charts seen after the warm-up.",
            _time_to_close(rows),
        ),
    ]
    if sensitivity:
        sections.append(_sensitivity(sensitivity))
    sections.append(
        section(
            "assumptions",
            "Assumptions",
            "Every figure the answer depends on, with its source where one is published. The "
            "ones without a source are stated assumptions; the sensitivity table varies those "
            "the answer hinges on.",
            _text_table(Table(["name", "value", "meaning", "source"], _rows(assumptions))),
        )
    )
    subtitle = (
        f"{first.summary.clinicians} clinicians · {first.summary.days} clinic days from "
        f"{settings.start.isoformat()} · {n} seed{'s' if n != 1 else ''}: "
        f"{', '.join(str(s) for s in seeds)}"
    )
    glossary = [
        (
            "Clinicians' own backlog",
            "Open charts on a clinician's list: every open chart under manual chasing; under "
            "routing, charts with a clinical blocker or an administrative one nobody else could "
            "take.",
        ),
        (
            "Reduction",
            "1 - routed/manual, computed for each seed (both policies saw the same visits and "
            "delays) and then averaged over seeds.",
        ),
        (
            "Privacy",
            "This page holds counts, minutes, days and categories of a simulated practice only: "
            "no patient names, birth dates, diagnoses or note text.",
        ),
    ]
    return page(title, escape(subtitle), cards, sections, glossary, EXTRA_STYLE)


def _rows(assumptions: SimAssumptions) -> list[list[str]]:
    return [list(row) for row in assumption_rows(assumptions)]


def write_html(
    path: Path,
    pairs: Pairs,
    rows: list[HeadlineRow],
    assumptions: SimAssumptions,
    sensitivity: Sequence[SensitivityCell] = (),
    title: str = DEFAULT_TITLE,
) -> Path:
    """Written atomically, like the management report, so a reader never opens half a page."""
    page = render_html(pairs, rows, assumptions, sensitivity, title)
    return write_report(page, path.parent, path.name)
