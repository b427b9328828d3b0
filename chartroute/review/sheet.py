"""The review sheet's contract: its columns, the verdicts a reviewer writes, reading and writing.

One row per (chart, blocker) chartroute found, and one row per sampled closed chart with the
category ``none``. The reviewer fills ``verdict`` with ``correct`` or ``wrong`` (and may give
the right category in ``correct_category``), and adds a row with the verdict ``missing`` for a
blocker chartroute did not find, naming its category. ``evidence`` starts with what the
blocker is about — the order, claim or Task it names, the missing field, or ``note`` — then
the resources that show it, so (chart, category, first word of evidence) is the blocker's
identity, the same triple that keys its work item. The sheet carries ids and EHR links only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from enum import StrEnum
from pathlib import Path

from chartroute.vocabulary import Category

#: The sheet's columns, in order: a contract (docs/DESIGN.md, the CLI line of `review sample`).
COLUMNS: tuple[str, ...] = (
    "chart",
    "category",
    "role",
    "assignee",
    "evidence",
    "link",
    "verdict",
    "correct_category",
    "note",
)
#: The category of a closed chart's row: chartroute found no blocker.
NONE = "none"
#: Every category a row may name, ``none`` last.
ROW_CATEGORIES: tuple[str, ...] = (*(c.value for c in Category), NONE)
#: The longest note kept; the rest of a longer one is cut.
NOTE_LIMIT = 2000


class Verdict(StrEnum):
    """What the reviewer says about a row."""

    CORRECT = "correct"  # chartroute is right: the blocker is there (or the chart is closed)
    WRONG = "wrong"  # chartroute is wrong: no such blocker (or the closed chart is not closed)
    MISSING = "missing"  # a blocker chartroute did not find (a row the reviewer adds)


class SheetError(ValueError):
    """A sheet row the import cannot take: names the file, the row and the column."""

    def __init__(self, file: str, row: int, column: str, message: str) -> None:
        super().__init__(f"{file}: row {row}, column {column}: {message}")
        self.file, self.row, self.column = file, row, column


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One row of the sheet, as text; ``line`` is its row number in the file (header = 1)."""

    chart: str
    category: str
    role: str = ""
    assignee: str = ""
    evidence: str = ""
    link: str = ""
    verdict: str = ""
    correct_category: str = ""
    note: str = ""
    line: int = 0

    @property
    def subject(self) -> str:
        """What the blocker is about: the evidence's first word ("" for none)."""
        words = self.evidence.split()
        return words[0] if words else ""

    @property
    def key(self) -> tuple[str, str, str]:
        """The blocker's identity: (chart, category, subject); a closed chart has no subject."""
        return (self.chart, self.category, "" if self.category == NONE else self.subject)

    def cells(self) -> tuple[str, ...]:
        """The row's cells in ``COLUMNS`` order."""
        return astuple(self)[: len(COLUMNS)]


def evidence_cell(subject: str, evidence: Sequence[str]) -> str:
    """The evidence column: the subject first, then the resources that show the blocker."""
    words = [subject] if subject and (not evidence or evidence[0] != subject) else []
    words += [e for e in evidence if e not in words]
    return " ".join(words)


def sheet_csv(rows: Iterable[SheetRow]) -> str:
    """The sheet as CSV text with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.cells())
    return buffer.getvalue()


def read_sheet(path: Path) -> list[SheetRow]:
    """Every row of a filled sheet, checked cell by cell; ``SheetError`` names the first bad one.

    The header must hold exactly ``COLUMNS`` (in any order). A row without a verdict is not
    reviewed yet and is returned as it is; the store checks what the sheet alone cannot.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet may write a BOM
    except UnicodeDecodeError:
        raise SheetError(name, 1, "(file)", "not UTF-8 text; save the sheet as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    header = list(reader.fieldnames or [])
    _check_header(name, header)
    rows: list[SheetRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, record in enumerate(reader, start=2):  # the spreadsheet's row: the header is 1
        if None in record:
            raise SheetError(name, line, "(row)", "more cells than the header has columns")
        if not any((value or "").strip() for value in record.values()):
            continue  # a blank line a spreadsheet left
        row = _row(name, line, {k: (v or "").strip() for k, v in record.items()})
        if row.verdict:
            key = row.key
            if key in seen:
                raise SheetError(
                    name,
                    line,
                    "evidence",
                    f"the same blocker as row {seen[key]} (chart, "
                    "category and first word of evidence)",
                )
            seen[key] = line
        rows.append(row)
    return rows


def _check_header(name: str, header: list[str]) -> None:
    for column in header:
        if column not in COLUMNS:
            raise SheetError(
                name,
                1,
                column or "(blank)",
                f"unknown column; the columns are {', '.join(COLUMNS)}",
            )
    for column in COLUMNS:
        if column not in header:
            raise SheetError(name, 1, column, "column missing from the header")


#: Columns holding a code, read whatever case a spreadsheet's autocorrect gave them.
_CODES = ("category", "verdict", "correct_category")


def _row(name: str, line: int, cells: dict[str, str]) -> SheetRow:
    codes = {c: cells[c].lower() for c in _CODES}
    row = SheetRow(**{c: codes.get(c, cells[c]) for c in COLUMNS}, line=line)

    def bad(column: str, message: str) -> SheetError:
        return SheetError(name, line, column, message)

    if not row.chart.startswith("Encounter/") or len(row.chart) == len("Encounter/"):
        raise bad("chart", f"{row.chart!r} is not a chart id (Encounter/<id>)")
    if row.category not in ROW_CATEGORIES:
        raise bad("category", f"{row.category!r} is not one of {', '.join(ROW_CATEGORIES)}")
    if row.verdict and row.verdict not in set(Verdict):
        raise bad("verdict", f"{row.verdict!r} is not one of {', '.join(Verdict)} (or blank)")
    if row.correct_category and row.correct_category not in ROW_CATEGORIES:
        raise bad(
            "correct_category",
            f"{row.correct_category!r} is not one of {', '.join(ROW_CATEGORIES)} (or blank)",
        )
    if row.verdict == Verdict.MISSING and row.category == NONE:
        raise bad("category", "a missing blocker needs the category chartroute did not find")
    if row.verdict == Verdict.CORRECT and row.correct_category not in ("", row.category):
        raise bad("correct_category", "a correct row cannot name another category")
    if row.verdict == Verdict.WRONG and row.correct_category == row.category:
        raise bad("correct_category", "a wrong row's right category must differ from its own")
    if row.verdict == Verdict.WRONG and row.category == NONE and row.correct_category in ("", NONE):
        raise bad("correct_category", "a closed chart marked wrong needs the blocker's category")
    if row.category != NONE and row.verdict != Verdict.MISSING and row.verdict and not row.subject:
        raise bad("evidence", "empty; it names the blocker (the first word, as the sample wrote)")
    return row


def sorted_rows(rows: Iterable[SheetRow]) -> list[SheetRow]:
    """Rows in the sheet's order: by chart, then category (``none`` last), then evidence."""
    order = {c: i for i, c in enumerate(ROW_CATEGORIES)}
    return sorted(rows, key=lambda r: (r.chart, order.get(r.category, len(order)), r.evidence))
