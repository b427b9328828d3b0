"""Work items and charts in the store: read what ``chartroute.lifecycle`` decides from, and
write what it decided.

``reconcile`` decides a batch's transitions with the pure ``lifecycle.decide`` (and
``relieve_over_capacity`` the moves of ``lifecycle.over_capacity``) and applies them in the
caller's transaction: new items inserted, changed ones updated whole (one
statement for the batch), an audit trail row (``work_item_event``) per event, the charts'
rows upserted. Work item ids are deterministic, so applying the same classification twice
writes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, select, update

from chartroute.lifecycle import (
    Change,
    ChartOutcome,
    ChartState,
    ItemStatus,
    ReconcileCounts,
    Reconciliation,
    StoredChart,
    StoredItem,
    anyone_beyond_reach,
    decide,
    over_capacity_reading,
)
from chartroute.route import Load, Router
from chartroute.store.bulk import bulk_upsert
from chartroute.store.key_sets import key_in
from chartroute.store.schema import chart, work_item, work_item_event
from chartroute.vocabulary import Category, Role, RoutingRule


def open_load(conn: Connection) -> Load:
    """Open work items per assignee, and how many of them can be done now (not waiting on the
    outside world; a row stored before ``waiting`` was is taken as doable)."""
    waiting = func.sum(case((work_item.c.waiting.is_(True), 1), else_=0))
    rows = conn.execute(
        select(work_item.c.assignee, func.count(), waiting)
        .where(work_item.c.status == ItemStatus.OPEN.value, work_item.c.assignee.is_not(None))
        .group_by(work_item.c.assignee)
    ).all()
    return Load({r[0]: int(r[1]) for r in rows}, {r[0]: int(r[1]) - int(r[2] or 0) for r in rows})


def items_for(conn: Connection, encounters: list[str]) -> dict[str, StoredItem]:
    """Every stored work item (open or closed) of these encounters, by id."""
    rows = conn.execute(select(work_item).where(key_in(conn, work_item.c.encounter, encounters)))
    return {r.id: _stored(r) for r in rows}


def open_items_of(conn: Connection, assignees: Collection[str]) -> list[StoredItem]:
    """The open work items these people hold."""
    rows = conn.execute(
        select(work_item).where(
            work_item.c.status == ItemStatus.OPEN.value,
            key_in(conn, work_item.c.assignee, list(assignees)),
        )
    )
    return [_stored(r) for r in rows]


def _stored(r: Any) -> StoredItem:
    return StoredItem(
        id=r.id,
        encounter=r.encounter,
        category=Category(r.category),
        subject=r.subject,
        role=Role(r.role),
        assignee=r.assignee,
        clinician=r.clinician,
        status=ItemStatus(r.status),
        evidence=tuple(r.evidence or ()),
        detail=r.detail,
        visit_at=r.visit_at,
        billing_impact=r.billing_impact,
        filing_deadline=r.filing_deadline,
        opened_at=r.opened_at,
        closed_at=r.closed_at,
        reason=RoutingRule(r.routing_reason) if r.routing_reason else None,
        waiting=bool(r.waiting),
        updated_at=r.updated_at,
    )


def charts_for(conn: Connection, encounters: list[str]) -> dict[str, StoredChart]:
    """The stored rows of these charts, by encounter."""
    rows = conn.execute(select(chart).where(key_in(conn, chart.c.encounter, encounters)))
    return {
        r.encounter: StoredChart(
            encounter=r.encounter,
            state=ChartState(r.state),
            clinician=r.clinician,
            visit_at=r.visit_at,
            start_at=r.start_at,
            first_open_at=r.first_open_at,
            closed_at=r.closed_at,
            blocker_count=r.blocker_count,
        )
        for r in rows
    }


def reconcile(
    conn: Connection,
    outcomes: Sequence[ChartOutcome],
    existing: dict[str, StoredItem],
    charts_now: dict[str, StoredChart],
    now: datetime,
    run_id: str | None,
) -> ReconcileCounts:
    """Decide the charts' transitions at ``now`` and write them in one batch.

    ``existing`` holds every stored item of the outcomes' charts (``items_for``), and
    ``charts_now`` their stored rows (``charts_for``).
    """
    decided = decide(outcomes, existing, charts_now, now)
    apply(conn, decided, run_id)
    return decided.counts()


def relieve_over_capacity(
    conn: Connection, router: Router, now: datetime, run_id: str | None
) -> list[str]:
    """Move the staff items queued beyond their holders' reach (``lifecycle.over_capacity``)
    and write the moves, each a ``reassigned`` event with the reason "over capacity"; the
    ids of the items moved.

    ``router`` must count today's open items (``open_load``): the sync builds it after its
    batches, so the items it just closed or opened are counted as they now stand.
    """
    if not anyone_beyond_reach(router):
        return []  # over_capacity would move nothing: not worth reading any open item
    decided = over_capacity_reading(lambda holders: open_items_of(conn, holders), router, now)
    apply(conn, decided, run_id)
    return [t.item.id for t in decided.transitions]


def apply(conn: Connection, decided: Reconciliation, run_id: str | None) -> None:
    """Write a reconciliation: inserts, one update statement, the events, the chart rows."""
    at = decided.at
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for t in decided.transitions:
        row = _row(t.item)
        if t.change == Change.OPENED:
            inserts.append({**row, "opened_at": t.item.opened_at, "updated_at": at})
        else:
            updates.append({**{c: row[c] for c in _UPDATABLE}, "updated_at": at, "_id": t.item.id})
    events = [
        {
            "work_item_id": t.item.id,
            "at": at,
            "event": str(t.change),
            "assignee": t.item.assignee,
            "previous_assignee": t.previous_assignee,
            "run_id": run_id,
            "reason": None if t.change == Change.CLOSED else _reason(t.item.reason),
        }
        for t in decided.transitions
        if t.change != Change.UPDATED
    ]
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
    if decided.charts:
        rows = [_chart_row(c, at) for c in decided.charts]
        bulk_upsert(conn, chart, _CHART_COLUMNS, rows, ["encounter"])


#: Columns a transition of a stored item rewrites (every update writes them all, so a batch
#: shares one statement).
_UPDATABLE = (
    "status",
    "closed_at",
    "assignee",
    "role",
    "evidence",
    "detail",
    "visit_at",
    "billing_impact",
    "filing_deadline",
    "clinician",
    "routing_reason",
    "waiting",
)


def _reason(reason: RoutingRule | None) -> str | None:
    return None if reason is None else str(reason)


def _row(item: StoredItem) -> dict[str, Any]:
    """The item's column values, codes as plain strings."""
    return {
        "id": item.id,
        "encounter": item.encounter,
        "category": str(item.category),
        "subject": item.subject,
        "role": str(item.role),
        "assignee": item.assignee,
        "clinician": item.clinician,
        "evidence": list(item.evidence),
        "detail": item.detail,
        "visit_at": item.visit_at,
        "billing_impact": item.billing_impact,
        "filing_deadline": item.filing_deadline,
        "status": str(item.status),
        "closed_at": item.closed_at,
        "routing_reason": _reason(item.reason),
        "waiting": item.waiting,
    }


_CHART_COLUMNS = (
    "encounter",
    "state",
    "clinician",
    "visit_at",
    "start_at",
    "first_open_at",
    "closed_at",
    "updated_at",
    "blocker_count",
)


def _chart_row(c: StoredChart, at: datetime) -> tuple[Any, ...]:
    return (
        c.encounter,
        str(c.state),
        c.clinician,
        c.visit_at,
        c.start_at,
        c.first_open_at,
        c.closed_at,
        at,
        c.blocker_count,
    )


def due_future_charts(conn: Connection, as_of: datetime) -> list[str]:
    """Charts that were in the future at their last classification and now have started."""
    rows = conn.execute(
        select(chart.c.encounter).where(
            chart.c.state == ChartState.FUTURE.value, chart.c.start_at <= as_of
        )
    )
    return [r.encounter for r in rows]


def open_items(conn: Connection, person: str | None = None) -> Iterable[Any]:
    """Open work items, optionally for one person."""
    stmt = select(work_item).where(work_item.c.status == ItemStatus.OPEN.value)
    if person is not None:
        stmt = stmt.where(work_item.c.assignee == person)
    return conn.execute(stmt).all()
