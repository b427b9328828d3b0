"""Escalation ladders and their audit trail in the store, on the caller's connection.

``escalation_state`` keeps one row per work item that has been swept: its ladder position and
when its next step is due (which the worklist shows). ``escalation_event`` is the audit trail,
one row per escalation event sent, unique per (item, step): recording the same step twice stores it
once, and only newly stored steps are handed on to the outbox, so a re-run sweep tells no one
anything twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from chartroute.escalate import Decision, EscalationEvent, LadderItem, LadderState
from chartroute.store.batching import chunks, insert_ignore, upsert
from chartroute.store.key_sets import key_in
from chartroute.store.schema import (
    UtcDateTime,
    escalation_event,
    escalation_state,
    work_item,
    work_item_event,
)
from chartroute.vocabulary import Category, Role

_STATE_FIELDS = tuple(LadderState.__dataclass_fields__)
_SPELL_EVENTS = ("opened", "reopened")
_ASSIGN_EVENTS = ("opened", "reopened", "reassigned")


def lock_for_sweep(conn: Connection) -> None:
    """Take SQLite's write lock before reading, so no sync can commit between this batch's
    reads and writes (PostgreSQL locks the batch's work item rows instead)."""
    if conn.dialect.name != "postgresql":
        conn.execute(
            update(escalation_state)
            .where(escalation_state.c.work_item_id == "")
            .values(level=escalation_state.c.level)
        )


def open_items_page(conn: Connection, after: str | None, limit: int) -> list[LadderItem]:
    """The next ``limit`` open work items by id after ``after``, with when their open spell
    and their current assignment began (read from the work item audit trail)."""
    w = work_item
    columns = (w.c.id, w.c.category, w.c.subject, w.c.role, w.c.assignee, w.c.clinician)
    stmt = (
        select(*columns, w.c.visit_at, w.c.opened_at)
        .where(w.c.status == "open")
        .order_by(w.c.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(work_item.c.id > after)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=work_item)
    rows = conn.execute(stmt).all()
    spells = _latest_events(conn, [r.id for r in rows])
    items = []
    for r in rows:
        times = spells.get(r.id, {})
        open_since = max((times[e] for e in _SPELL_EVENTS if e in times), default=r.opened_at)
        assigned = max((times[e] for e in _ASSIGN_EVENTS if e in times), default=open_since)
        items.append(
            LadderItem(
                id=r.id,
                category=Category(r.category),
                subject=r.subject,
                role=Role(r.role),
                assignee=r.assignee,
                clinician=r.clinician,
                visit_at=r.visit_at,
                open_since=open_since,
                assigned_since=max(assigned, open_since),
            )
        )
    return items


def _latest_events(conn: Connection, ids: Sequence[str]) -> dict[str, dict[str, datetime]]:
    out: dict[str, dict[str, datetime]] = {}
    e = work_item_event
    rows = conn.execute(
        select(e.c.work_item_id, e.c.event, func.max(e.c.at, type_=UtcDateTime()))
        .where(key_in(conn, e.c.work_item_id, ids), e.c.event.in_(_ASSIGN_EVENTS))
        .group_by(e.c.work_item_id, e.c.event)
    )
    for item_id, event, at in rows:
        out.setdefault(item_id, {})[event] = at
    return out


def load_states(conn: Connection, ids: Iterable[str]) -> dict[str, LadderState]:
    """The stored ladder state of these items, by id."""
    rows = conn.execute(
        select(escalation_state).where(key_in(conn, escalation_state.c.work_item_id, set(ids)))
    )
    return {r.work_item_id: LadderState(**{f: getattr(r, f) for f in _STATE_FIELDS}) for r in rows}


def record(
    conn: Connection,
    decisions: Sequence[Decision],
    stored: dict[str, LadderState],
    at: datetime,
    run_id: str | None,
) -> tuple[int, list[EscalationEvent]]:
    """Write changed states and new escalations; returns (states written, escalations new).

    An escalation whose (item, step) is already in the audit trail is not new and is not
    returned, whatever the state said.
    """
    rows = [
        {"work_item_id": d.item_id, **_state_values(d.state), "updated_at": at}
        for d in decisions
        if stored.get(d.item_id) != d.state
    ]
    for batch in chunks(rows, 1000):
        upsert(conn, escalation_state, batch, ["work_item_id"])
    wanted = [e for d in decisions for e in d.escalations]
    if not wanted:
        return len(rows), []
    stepped = select(escalation_event.c.work_item_id, escalation_event.c.step).where(
        key_in(conn, escalation_event.c.work_item_id, {e.work_item_id for e in wanted})
    )
    present = {(r.work_item_id, r.step) for r in conn.execute(stepped)}
    new = [e for e in wanted if (e.work_item_id, e.step) not in present]
    insert_ignore(conn, escalation_event, [_event_row(e, at, run_id) for e in new])
    return len(rows), new


def _state_values(state: LadderState) -> dict[str, Any]:
    return {f: getattr(state, f) for f in _STATE_FIELDS}


def _event_row(e: EscalationEvent, at: datetime, run_id: str | None) -> dict[str, Any]:
    return {
        "work_item_id": e.work_item_id,
        "step": e.step,
        "kind": e.kind,
        "level": e.level,
        "tier": e.tier,
        "due_at": e.due_at,
        "at": at,
        "assignee": e.assignee,
        "recipients": [
            {"person": r.person, "target": r.target, "covering": r.covering} for r in e.recipients
        ],
        "run_id": run_id,
    }


def settle_closed(conn: Connection, at: datetime) -> int:
    """Stop the ladders of items that are no longer open: nothing is due for them any more."""
    still_open = select(work_item.c.id).where(work_item.c.status == "open")
    done = conn.execute(
        update(escalation_state)
        .where(
            escalation_state.c.next_at.is_not(None),
            escalation_state.c.work_item_id.not_in(still_open),
        )
        .values(next_at=None, next_step=None, updated_at=at)
    )
    return int(done.rowcount or 0)


#: How an item that no sweep has looked at yet shows in the worklist.
NOT_SWEPT: dict[str, Any] = {
    "escalation_level": 0,
    "escalation_tier": None,
    "delinquent": False,
    "next_escalation_at": None,
    "next_escalation": None,
}


def ladders(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Level, tier, delinquency and next step of each of these items, as of the last sweep
    (``NOT_SWEPT`` for an item no sweep has seen yet): for the worklist."""
    s = escalation_state
    wanted = sorted(set(ids))
    out: dict[str, dict[str, Any]] = {i: dict(NOT_SWEPT) for i in wanted}
    rows = conn.execute(
        select(
            s.c.work_item_id, s.c.level, s.c.tier, s.c.delinquent, s.c.next_at, s.c.next_step
        ).where(key_in(conn, s.c.work_item_id, wanted))
    )
    for r in rows:
        out[r.work_item_id] = {
            "escalation_level": r.level,
            "escalation_tier": r.tier,
            "delinquent": bool(r.delinquent),
            "next_escalation_at": r.next_at,
            "next_escalation": r.next_step,
        }
    return out


def history(conn: Connection, work_item_id: str) -> list[dict[str, Any]]:
    """The escalations sent for one item, oldest first."""
    rows = conn.execute(
        select(escalation_event)
        .where(escalation_event.c.work_item_id == work_item_id)
        .order_by(escalation_event.c.at, escalation_event.c.id)
    )
    return [dict(r._mapping) for r in rows]


def counts_since(conn: Connection, since: datetime) -> dict[tuple[str, str | None], int]:
    """Escalations recorded since an instant, per (kind, tier): for reports and artifacts."""
    e = escalation_event
    rows = conn.execute(
        select(e.c.kind, e.c.tier, func.count())
        .where(and_(e.c.at >= since))
        .group_by(e.c.kind, e.c.tier)
    )
    return {(r[0], r[1]): int(r[2]) for r in rows}
