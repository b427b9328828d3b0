"""The report's headline numbers as Markdown and table rows, for Prefect artifacts.

The artifacts carry the same headline figures as the page (counts, shares, days) and a link
to the file, so the run page in the Prefect UI answers "how are we doing" without opening
anything; like the page, they hold no patient data.
"""

from __future__ import annotations

from pathlib import Path

from chartroute.report.model import ReportData


def headline_rows(data: ReportData) -> list[dict[str, str]]:
    """One row per headline number (for a table artifact)."""
    return [{"headline": h.label, "value": h.value, "detail": h.detail} for h in data.headlines]


def headline_markdown(data: ReportData, path: Path) -> str:
    """Headline numbers and a link to the HTML file."""
    lines = [
        f"**{data.practice}**: management report, {data.start} to {data.end}",
        "",
        "| headline | value | detail |",
        "|---|---:|---|",
        *(f"| {h.label} | {h.value} | {h.detail} |" for h in data.headlines),
        "",
        f"[Open the full report]({path.resolve().as_uri()}) (`{path}`)",
    ]
    return "\n".join(lines)
