"""The classification review as pages: the sample sheet to read in a browser, and the accuracy
section of the management report.

Both use the report's self-contained page (no script, nothing loaded): the sheet's links open
each chart in the EHR, and the ops lead fills the verdicts in the CSV of the same sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from chartroute.report.page import data_table, page, section
from chartroute.review.accuracy import Accuracy, CategoryAccuracy
from chartroute.review.sheet import COLUMNS, NONE, SheetRow, Verdict
from chartroute.vocabulary import category_label

SHEET_STYLE = "td a { color: #16324f; } td.blank { min-width: 80px; background: #fbfbfd; }"

VERDICT_HELP = (
    f"<b>{Verdict.CORRECT}</b>: the blocker is there (for a <code>{NONE}</code> row: the chart "
    f"really is closed). <b>{Verdict.WRONG}</b>: it is not; give the right category if there is "
    f"one. <b>{Verdict.MISSING}</b>: a row you add for a blocker chartroute did not find, with "
    "its category and, first in evidence, what it is about."
)


def _sheet_row(row: SheetRow) -> str:
    cells = []
    for column, value in zip(COLUMNS, row.cells(), strict=True):
        if column == "link" and value:
            cells.append(f'<td><a href="{escape(value)}">open in the EHR</a></td>')
        elif column in ("verdict", "correct_category", "note") and not value:
            cells.append('<td class="blank"></td>')
        else:
            cells.append(f"<td>{escape(value)}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def review_sheet_page(rows: Sequence[SheetRow], practice: str, seed: int) -> str:
    """The sample as one page: a row per (chart, blocker), links into the EHR."""
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    body = "".join(_sheet_row(r) for r in rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    charts = len({r.chart for r in rows})
    sections = [
        section(
            "sample",
            f"{len(rows)} rows on {charts} charts",
            "Open each chart, judge each row, and write the verdicts in the CSV of this "
            "sample; `chartroute review import` reads them.",
            table,
        )
    ]
    glossary = [
        ("Verdict", VERDICT_HELP),
        (
            "Evidence",
            "What the blocker is about (order, claim, Task, field or note), then the "
            "resources that show it.",
        ),
        ("Privacy", "Ids and EHR links only: no patient names, dates of birth or note text."),
    ]
    subtitle = f"classification review sample · seed {seed}"
    return page(f"{practice}: review sheet", escape(subtitle), "", sections, glossary, SHEET_STYLE)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}" if value in (0.0, 1.0) else f"{value:.1%}"


def accuracy_cells(row: CategoryAccuracy) -> list[str]:
    """A category's row as the report's table and the terminal show it."""
    interval = "n/a" if row.low is None else f"{_share(row.low)} to {_share(row.high)}"
    label = "closed charts" if row.category == NONE else category_label(row.category)
    return [
        label,
        str(row.charts),
        str(row.reviewed),
        _share(row.precision),
        interval,
        str(row.misses),
        row.status,
    ]


ACCURACY_HEADERS = [
    "category",
    "charts",
    "reviewed",
    "precision",
    "95% interval",
    "misses",
    "ready",
]


def wrong_lines(row: CategoryAccuracy) -> list[str]:
    """Where a category not ready is most often wrong: rules, fields, evidence types."""
    parts = [
        (name, ", ".join(f"{n} ({k})" for n, k in found))
        for name, found in (
            ("rules", row.wrong_rules),
            ("fields", row.wrong_fields),
            ("evidence", row.wrong_evidence),
        )
        if found
    ]
    return [f"{name}: {text}" for name, text in parts]


def accuracy_section(accuracy: Accuracy | None) -> str:
    """The report's section: per category, the reviewed precision and whether it is ready."""
    why = (
        "From the ops lead's review of sampled charts (`chartroute review`): precision is "
        "correct ÷ reviewed with its 95% Wilson interval; a category is ready when the "
        f"interval's lower end reaches {accuracy.min_precision:.0%} over at least "
        f"{accuracy.min_reviewed} reviews."
        if accuracy is not None
        else "No review imported yet."
    )
    if accuracy is None or not any(c.reviewed or c.misses for c in accuracy.categories):
        body = "<p>No verdicts yet: `chartroute review sample` draws a sheet to fill.</p>"
        return section("review", "Classification accuracy", why, body)
    table = data_table(ACCURACY_HEADERS, [accuracy_cells(r) for r in accuracy.categories])
    notes = [
        f"<li>{escape(category_label(r.category))}: {escape('; '.join(wrong_lines(r)))}</li>"
        for r in accuracy.categories
        if wrong_lines(r)
    ]
    verdict = "ready to go live" if accuracy.ready else "not ready to go live yet"
    body = f"<p><b>{escape(verdict)}</b></p>{table}"
    if notes:
        body += "<p>Most often marked wrong:</p><ul>" + "".join(notes) + "</ul>"
    return section("review", "Classification accuracy", why, body)
