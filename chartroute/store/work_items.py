"""Work items and charts: reconcile what classification concluded with what is stored.

Reconciliation is per chart and set-based per batch: new blockers open items, blockers that
went away close them, a changed assignee is a reassignment; each transition is written to the
audit trail (``work_item_event``) in the same transaction. Work item ids are deterministic, so
running the same classification twice changes nothing the second time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from chartroute.classify import ChartVerdict
from chartroute.counts import Counts
from chartroute.route import WorkItem
from chartroute.store.batching import chunks
from chartroute.store.bulk import bulk_upsert
from chartroute.store.schema import chart, work_item, work_item_event


@dataclass
class ReconcileCounts(Counts):
    """Transitions written by one reconciliation batch."""

    opened: int = 0
    reopened: int = 0
    closed: int = 0
    reassigned: int = 0
    updated: int = 0
    unchanged: int = 0


def open_load(conn: Connection) -> dict[str, int]:
    """Open work items per assignee."""
    rows = conn.execute(
        select(work_item.c.assignee, func.count())
        .where(work_item.c.status == "open", work_item.c.assignee.is_not(None))
        .group_by(work_item.c.assignee)
    )
    return {r[0]: int(r[1]) for r in rows}


def items_for(conn: Connection, encounters: list[str]) -> dict[str, dict[str, Any]]:
    """Every stored work item (open or closed) of these encounters, by id."""
    out: dict[str, dict[str, Any]] = {}
    for part in chunks(encounters):
        for r in conn.execute(select(work_item).where(work_item.c.encounter.in_(part))):
            out[r.id] = dict(r._mapping)
    return out


def charts_for(conn: Connection, encounters: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for part in chunks(encounters):
        for r in conn.execute(select(chart).where(chart.c.encounter.in_(part))):
            out[r.encounter] = dict(r._mapping)
    return out


_COMPARED = (
    "role",
    "evidence",
    "detail",
    "visit_at",
    "billing_impact",
    "filing_deadline",
    "clinician",
)


def reconcile(
    conn: Connection,
    verdicts: list[tuple[ChartVerdict, datetime | None, str | None, list[WorkItem]]],
    existing: dict[str, dict[str, Any]],
    charts_now: dict[str, dict[str, Any]],
    now: datetime,
    run_id: str | None,
) -> ReconcileCounts:
    """Write the charts' new state and their work items' transitions in one batch.

    ``verdicts`` holds each chart's verdict, its encounter start, the roster id of its
    rendering clinician, and its routed items.
    """
    counts = ReconcileCounts()
    by_encounter: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for stored_row in existing.values():
        by_encounter[stored_row["encounter"]].append(stored_row)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    chart_rows: list[dict[str, Any]] = []

    def event(item_id: str, kind: str, assignee: str | None, previous: str | None = None) -> None:
        events.append(
            {
                "work_item_id": item_id,
                "at": now,
                "event": kind,
                "assignee": assignee,
                "previous_assignee": previous,
                "run_id": run_id,
            }
        )

    for verdict, start_at, clinician, items in verdicts:
        desired = {i.id: i for i in items}
        for item in items:
            row = existing.get(item.id)
            values = _item_values(item)
            if row is None:
                inserts.append(
                    {
                        **values,
                        "status": "open",
                        "opened_at": now,
                        "closed_at": None,
                        "updated_at": now,
                    }
                )
                event(item.id, "opened", item.assignee)
                counts.opened += 1
                continue
            change: dict[str, Any] = {}
            if row["status"] != "open":
                change.update(status="open", closed_at=None)
                event(item.id, "reopened", item.assignee)
                counts.reopened += 1
            if row["assignee"] != item.assignee:
                change["assignee"] = item.assignee
                if row["status"] == "open":
                    event(item.id, "reassigned", item.assignee, row["assignee"])
                    counts.reassigned += 1
            diff = {c: values[c] for c in _COMPARED if _differs(row[c], values[c])}
            if diff:
                change.update(diff)
                if row["status"] == "open" and "assignee" not in change:
                    counts.updated += 1
            if change:
                updates.append(_full_update(row, change, now))
            else:
                counts.unchanged += 1
        for row in by_encounter.get(verdict.encounter, []):
            if row["id"] not in desired and row["status"] == "open":
                updates.append(_full_update(row, {"status": "closed", "closed_at": now}, now))
                event(row["id"], "closed", row["assignee"])
                counts.closed += 1
        chart_rows.append(
            _chart_row(verdict, start_at, clinician, charts_now.get(verdict.encounter), now)
        )

    if inserts:
        conn.execute(work_item.insert(), inserts)
    if updates:
        stmt = (
            update(work_item)
            .where(work_item.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in updates[0] if c != "_id"})
        )
        conn.execute(stmt, updates)
    if events:
        conn.execute(work_item_event.insert(), events)
    if chart_rows:
        columns = tuple(chart_rows[0])
        rows = [tuple(r[c] for c in columns) for r in chart_rows]
        bulk_upsert(conn, chart, columns, rows, ["encounter"])
    return counts


def _differs(stored: Any, new: Any) -> bool:
    if isinstance(stored, list) or isinstance(new, (list, tuple)):
        return list(stored or []) != list(new or [])
    return bool(stored != new)


def _item_values(item: WorkItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "encounter": item.encounter,
        "category": item.category,
        "subject": item.subject,
        "role": item.role,
        "assignee": item.assignee,
        "clinician": item.clinician,
        "evidence": list(item.evidence),
        "detail": item.detail,
        "visit_at": item.visit_at,
        "billing_impact": item.billing_impact,
        "filing_deadline": item.filing_deadline,
    }


_UPDATABLE = ("status", "closed_at", "assignee", *_COMPARED)


def _full_update(row: dict[str, Any], change: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A complete parameter set so every update in the batch shares one statement."""
    values = {c: change.get(c, row[c]) for c in _UPDATABLE}
    values["updated_at"] = now
    values["_id"] = row["id"]
    return values


def _chart_row(
    verdict: ChartVerdict,
    start_at: datetime | None,
    clinician: str | None,
    stored: dict[str, Any] | None,
    now: datetime,
) -> dict[str, Any]:
    if verdict.is_chart:
        state = "open" if verdict.blockers else "closed"
    elif verdict.not_chart_reason == "period starts after the as-of time":
        state = "future"
    else:
        state = "not-chart"
    first_open = stored.get("first_open_at") if stored else None
    closed_at = stored.get("closed_at") if stored else None
    if state == "open":
        first_open = first_open or now
        closed_at = None
    elif state == "closed" and (stored is None or stored.get("state") != "closed"):
        closed_at = now
    return {
        "encounter": verdict.encounter,
        "state": state,
        "clinician": clinician,
        "visit_at": verdict.visit_at,
        "start_at": start_at,
        "first_open_at": first_open,
        "closed_at": closed_at,
        "updated_at": now,
        "blocker_count": len(verdict.blockers),
    }


def due_future_charts(conn: Connection, as_of: datetime) -> list[str]:
    """Charts that were in the future at their last classification and now have started."""
    rows = conn.execute(
        select(chart.c.encounter).where(chart.c.state == "future", chart.c.start_at <= as_of)
    )
    return [r.encounter for r in rows]


def open_items(conn: Connection, person: str | None = None) -> Iterable[Any]:
    """Open work items, optionally for one person."""
    stmt = select(work_item).where(work_item.c.status == "open")
    if person is not None:
        stmt = stmt.where(work_item.c.assignee == person)
    return conn.execute(stmt).all()
