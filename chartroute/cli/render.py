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
    table = Table(title="Open charts by category")
    table.add_column("category")
    table.add_column("charts", justify="right")
    for k, v in summary.charts_by_category.items():
        table.add_row(k, str(v))
    console.print(table)
    table = Table(title="Open work items by role")
    table.add_column("role")
    table.add_column("items", justify="right")
    for k, v in summary.items_by_role.items():
        table.add_row(k, str(v))
    console.print(table)
    table = Table(title="Open work items per person")
    table.add_column("person")
    table.add_column("items", justify="right")
    for k, v in summary.items_by_person.items():
        table.add_row(k, str(v))
    if summary.unassigned_items:
        table.add_row("(unassigned)", str(summary.unassigned_items))
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
