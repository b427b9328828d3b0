"""Human-readable tables for the terminal (machine output is jsonl)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

from chartroute.summary import BacklogSummary


def summary_tables(console: Console, summary: BacklogSummary) -> None:
    console.print(
        f"[bold]Open charts:[/bold] {summary.open_charts}   closed: {summary.closed_charts}   "
        f"on clinicians: {summary.charts_on_clinicians} ({summary.clinician_share:.0%})   "
        f"on staff only: {summary.charts_on_staff_only} ({summary.staff_share:.0%})"
    )
    _counts(console, "Open charts by category", ("category", "charts"), summary.charts_by_category)
    _counts(console, "Open work items by role", ("role", "items"), summary.items_by_role)
    people = dict(summary.items_by_person)
    if summary.unassigned_items:
        people["(unassigned)"] = summary.unassigned_items
    _counts(console, "Open work items per person", ("person", "items"), people)


def _counts(console: Console, title: str, columns: tuple[str, str], counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column(columns[0])
    table.add_column(columns[1], justify="right")
    for key, value in counts.items():
        table.add_row(key, str(value))
    console.print(table)


def records_table(
    console: Console, title: str, columns: list[str], rows: Iterable[dict[str, Any]]
) -> None:
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)
