"""Store the reviewer's verdicts, once each: importing the same sheet again changes nothing.

A verdict is keyed like the work item it judges, (chart, category, subject), so a sheet can be
imported after every session of reviewing, and a second sample's sheet adds to the first. A
row changes its stored verdict only when something the reviewer wrote changed; a row left
blank keeps what an earlier import stored. What the sheet alone cannot check is checked
against the store: a judged blocker must be one chartroute found (a work item of that chart,
category and subject), and a judged closed chart must be a chart chartroute classified.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from chartroute.counts import Counts
from chartroute.review.sheet import NONE, NOTE_LIMIT, SheetError, SheetRow, Verdict
from chartroute.route import work_item_id
from chartroute.store.key_sets import key_in
from chartroute.store.schema import chart, review_verdict, work_item

#: The columns an import writes and compares (the key and timestamps aside).
_VALUES = ("verdict", "correct_category", "role", "assignee", "evidence", "note", "work_item_id")


@dataclass
class ImportCounts(Counts):
    """What one import did."""

    rows: int = 0  # rows read with a verdict
    blank: int = 0  # rows without a verdict yet (not reviewed)
    added: int = 0
    changed: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class StoredVerdict:
    """One stored verdict, as the accuracy measure reads it (no note)."""

    chart: str
    category: str
    subject: str
    verdict: Verdict
    correct_category: str | None
    evidence: str


def import_verdicts(
    conn: Connection, rows: Sequence[SheetRow], now: datetime, file: str
) -> ImportCounts:
    """Check every row against the store, then store the verdicts; ``SheetError`` on a bad row
    (nothing is stored then: the caller's transaction rolls back)."""
    counts = ImportCounts()
    judged = [r for r in rows if r.verdict]
    counts.blank = len(rows) - len(judged)
    counts.rows = len(judged)
    _check_against_store(conn, judged, file)
    stored = _stored(conn, judged)
    for row in judged:
        key = row.key
        values = _values(row)
        old = stored.get(key)
        if old is None:
            conn.execute(
                review_verdict.insert().values(
                    chart=key[0],
                    category=key[1],
                    subject=key[2],
                    imported_at=now,
                    updated_at=now,
                    **values,
                )
            )
            counts.added += 1
        elif any(old[c] != values[c] for c in _VALUES):
            conn.execute(
                update(review_verdict)
                .where(
                    review_verdict.c.chart == key[0],
                    review_verdict.c.category == key[1],
                    review_verdict.c.subject == key[2],
                )
                .values(updated_at=now, **values)
            )
            counts.changed += 1
        else:
            counts.unchanged += 1
    return counts


def stored_verdicts(conn: Connection) -> list[StoredVerdict]:
    """Every stored verdict (the reviewer's notes are not read)."""
    rows = conn.execute(
        select(
            review_verdict.c.chart,
            review_verdict.c.category,
            review_verdict.c.subject,
            review_verdict.c.verdict,
            review_verdict.c.correct_category,
            review_verdict.c.evidence,
        ).order_by(review_verdict.c.chart, review_verdict.c.category, review_verdict.c.subject)
    )
    return [
        StoredVerdict(
            r.chart, r.category, r.subject, Verdict(r.verdict), r.correct_category, r.evidence
        )
        for r in rows
    ]


def _values(row: SheetRow) -> dict[str, Any]:
    judged_item = row.category != NONE and row.verdict != Verdict.MISSING
    return {
        "verdict": row.verdict,
        "correct_category": row.correct_category or None,
        "role": row.role or None,
        "assignee": row.assignee or None,
        "evidence": row.evidence,
        "note": row.note[:NOTE_LIMIT] or None,
        "work_item_id": work_item_id(row.chart, row.category, row.subject) if judged_item else None,
    }


def _check_against_store(conn: Connection, rows: Iterable[SheetRow], file: str) -> None:
    rows = list(rows)
    items = _existing(conn, work_item.c.id, [v for r in rows if (v := _values(r)["work_item_id"])])
    charts = _existing(conn, chart.c.encounter, sorted({r.chart for r in rows}))
    for row in rows:
        if row.chart not in charts:
            raise SheetError(file, row.line, "chart", f"{row.chart} is not a chart in the store")
        item = _values(row)["work_item_id"]
        if item is not None and item not in items:
            raise SheetError(
                file,
                row.line,
                "evidence",
                f"chartroute found no {row.category} blocker about {row.subject!r} on "
                f"{row.chart}; a blocker it did not find is a row with the verdict "
                f"{Verdict.MISSING.value}",
            )


def _existing(conn: Connection, column: Any, values: Sequence[str]) -> set[str]:
    return set(conn.execute(select(column).where(key_in(conn, column, set(values)))).scalars())


def _stored(conn: Connection, rows: Sequence[SheetRow]) -> dict[tuple[str, str, str], Any]:
    charts = {r.chart for r in rows}
    found = conn.execute(select(review_verdict).where(key_in(conn, review_verdict.c.chart, charts)))
    return {(r.chart, r.category, r.subject): r._mapping for r in found}
