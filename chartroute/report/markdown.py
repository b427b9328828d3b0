"""The report's headline numbers as Markdown and table rows, for Prefect artifacts.

The artifacts carry the same headline figures as the page (counts, shares, days) and a link
to the file, so the run page in the Prefect UI answers "how are we doing" without opening
anything; like the page, they hold no patient data.
"""

from __future__ import annotations

from pathlib import Path

from chartroute.report.model import ReportData
from chartroute.report.review import ACCURACY_HEADERS, accuracy_cells, wrong_lines
from chartroute.summary import SHADOW_BANNER


def headline_rows(data: ReportData) -> list[dict[str, str]]:
    """One row per headline number (for a table artifact)."""
    return [{"headline": h.label, "value": h.value, "detail": h.detail} for h in data.headlines]


def headline_markdown(data: ReportData, path: Path) -> str:
    """Headline numbers and a link to the HTML file."""
    lines = [SHADOW_BANNER, ""] if data.mode == "shadow" else []
    lines += [
        f"**{data.practice}**: management report, {data.start} to {data.end}",
        "",
        "| headline | value | detail |",
        "|---|---:|---|",
        *(f"| {h.label} | {h.value} | {h.detail} |" for h in data.headlines),
        "",
        f"[Open the full report]({path.resolve().as_uri()}) (`{path}`)",
    ]
    return "\n".join(lines)


def accuracy_rows(data: ReportData) -> list[dict[str, str]]:
    """The classification review's table, as the report shows it (for a table artifact)."""
    if data.accuracy is None:
        return []
    return [
        {
            **dict(zip(ACCURACY_HEADERS, accuracy_cells(row), strict=True)),
            "most often wrong": "; ".join(wrong_lines(row)),
        }
        for row in data.accuracy.categories
    ]
