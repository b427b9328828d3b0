"""Tables for people at a terminal, plain rows for pipes (machine output proper is jsonl).

Drawn by rich at whatever width the terminal had, a ten-column worklist at 80 columns squeezed
every column to a stub (``prio…``, ``cate…``) and spilled each item over eight lines, and a
cut id cannot be pasted into the next command. So:

- at ``WIDE`` columns or more, a boxed table, with id columns never wrapped or cut;
- below it, a compact layout: the short columns on one line, the rest (free text such as
  ``detail``) on an indented line under it, broken only between words; a second header line
  names the indented values in order;
- piped (stdout is not a terminal), one header line and one tab-separated line per row, so
  ``cut``, ``sort`` and spreadsheets read it; the title goes to stderr.

Commands print their messages on stderr with ``soft_wrap``: a long path stays one line that the
terminal folds, instead of rich breaking it mid-name where a double-click would copy half of it.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # a type only: read commands do not pay for the summary's queries module
    from chartroute.summary import BacklogSummary

__all__ = ["ID_COLUMNS", "WIDE", "records_table", "summary_tables"]

#: Terminals at least this wide get the boxed table; narrower ones the compact layout.
WIDE = 120
#: Columns holding identifiers: always printed whole.
ID_COLUMNS = frozenset({"id", "key", "encounter", "assignee", "recipient", "person", "role"})
#: In the compact layout a column wider than this (and not an id) goes on the indented line.
LONG = 24
_INDENT = "    "
#: Between the values of the indented line, which a second header line names in order.
_SEPARATOR = " · "


def summary_tables(console: Console, summary: BacklogSummary) -> None:
    _note(
        console,
        f"Open charts: {summary.open_charts}   closed: {summary.closed_charts}   "
        f"on clinicians: {summary.charts_on_clinicians} ({summary.clinician_share:.0%})   "
        f"on staff only: {summary.charts_on_staff_only} ({summary.staff_share:.0%})",
    )
    _counts(console, "Open charts by category", ("category", "charts"), summary.charts_by_category)
    _counts(console, "Open work items by role", ("role", "items"), summary.items_by_role)
    people = dict(summary.items_by_person)
    if summary.unassigned_items:
        people["(unassigned)"] = summary.unassigned_items
    _counts(console, "Open work items per person", ("person", "items"), people)


def _counts(console: Console, title: str, columns: tuple[str, str], counts: dict[str, int]) -> None:
    rows = ({columns[0]: key, columns[1]: value} for key, value in counts.items())
    records_table(console, title, list(columns), rows)


def records_table(
    console: Console,
    title: str,
    columns: Sequence[str],
    rows: Iterable[dict[str, Any]],
    *,
    ids: frozenset[str] = ID_COLUMNS,
    compact: Sequence[str] | None = None,
) -> None:
    """Print ``rows`` under ``title`` in the layout the output calls for (see the module).

    ``compact`` names the columns of the narrow layout, in order (default: ``columns``): a
    command can fold two columns into one there, or leave out what ``--format jsonl`` has.
    """
    if console.is_terminal and console.width < WIDE:
        shown = list(compact or columns)
        cells = [[_cell(row.get(c)) for c in shown] for row in rows]
        _compact(console, title, shown, cells, ids)
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    if console.is_terminal:
        _boxed(console, title, columns, cells, ids)
    else:
        _tab_separated(console, title, columns, cells)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _note(console: Console, text: str) -> None:
    """A line about a table: with the table on a terminal, on stderr when the rows are piped."""
    if console.is_terminal:
        console.print(Text(text, style="bold"), soft_wrap=True)
    else:
        print(text, file=sys.stderr)


def _tab_separated(
    console: Console, title: str, columns: Sequence[str], cells: list[list[str]]
) -> None:
    print(title, file=sys.stderr)
    lines = ["\t".join(columns)]
    lines += ["\t".join(_one_field(v) for v in row) for row in cells]
    console.file.write("\n".join(lines) + "\n")
    console.file.flush()


def _one_field(value: str) -> str:
    """A tab or line break inside a value would split it into two fields or rows."""
    return " ".join(value.split()) if any(ch in value for ch in "\t\r\n") else value


def _boxed(
    console: Console,
    title: str,
    columns: Sequence[str],
    cells: list[list[str]],
    ids: frozenset[str],
) -> None:
    table = Table(title=title)
    for i, column in enumerate(columns):
        if column in ids:
            width = max([len(column), *(len(row[i]) for row in cells)])
            table.add_column(column, no_wrap=True, min_width=width, overflow="fold")
        else:
            table.add_column(column, overflow="fold")
    for row in cells:
        table.add_row(*row)
    console.print(table)


def _compact(
    console: Console,
    title: str,
    columns: Sequence[str],
    cells: list[list[str]],
    ids: frozenset[str],
) -> None:
    width = console.width
    natural = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    first: list[int] = []
    below: list[int] = []
    used = 0
    for i, column in enumerate(columns):
        fits = used + natural[i] + (2 if first else 0) <= width
        if fits and (column in ids or natural[i] <= LONG):
            first.append(i)
            used += natural[i] + (2 if len(first) > 1 else 0)
        else:
            below.append(i)
    console.print(Text(title, style="bold"), soft_wrap=True)
    header = "  ".join(columns[i].ljust(natural[i]) for i in first).rstrip()
    console.print(Text(header, style="bold"), soft_wrap=True)
    if below:
        names = _INDENT + _SEPARATOR.join(columns[i] for i in below)
        console.print(Text(names, style="bold"), soft_wrap=True)
    for row in cells:
        line = "  ".join(row[i].ljust(natural[i]) for i in first).rstrip()
        console.print(line, markup=False, highlight=False, soft_wrap=True)
        if below:
            wrapped = textwrap.fill(
                _SEPARATOR.join(row[i] or "-" for i in below),
                width=max(width, len(_INDENT) + 20),
                initial_indent=_INDENT,
                subsequent_indent=_INDENT,
                break_long_words=False,
                break_on_hyphens=False,
            )
            console.print(wrapped, markup=False, highlight=False, soft_wrap=True)
