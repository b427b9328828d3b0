"""The sweep against a real database (SQLite and PostgreSQL): audit rows, outbox, idempotency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from chartroute.store import escalations as store
from chartroute.store.schema import (
    escalation_event,
    escalation_state,
    notification,
    work_item,
    work_item_event,
)
from chartroute.sweep import run_sweep
from chartroute.worklist import worklist
from tests.escalate.helpers import LADDER, local, practice

CONFIG = practice(escalation=LADDER)


def add_item(
    engine: Engine,
    item_id: str,
    opened: datetime,
    *,
    assignee: str | None = "dr-a",
    role: str = "clinician",
    category: str = "unsigned-note",
) -> None:
    with engine.begin() as conn:
        conn.execute(
            work_item.insert().values(
                id=item_id,
                encounter=f"Encounter/{item_id}",
                category=category,
                subject="note",
                role=role,
                assignee=assignee,
                clinician="dr-a",
                status="open",
                evidence=[],
                detail="",
                visit_at=opened,
                opened_at=opened,
                updated_at=opened,
            )
        )
        conn.execute(
            work_item_event.insert().values(
                work_item_id=item_id, at=opened, event="opened", assignee=assignee
            )
        )


def transition(engine: Engine, item_id: str, at: datetime, event: str, **values: Any) -> None:
    with engine.begin() as conn:
        previous = conn.execute(
            select(work_item.c.assignee).where(work_item.c.id == item_id)
        ).scalar()
        conn.execute(
            update(work_item).where(work_item.c.id == item_id).values(updated_at=at, **values)
        )
        conn.execute(
            work_item_event.insert().values(
                work_item_id=item_id,
                at=at,
                event=event,
                assignee=values.get("assignee", previous),
                previous_assignee=previous if event == "reassigned" else None,
            )
        )


def table(engine: Engine, t: Any, *order: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).order_by(*order))]


def notices(engine: Engine) -> list[tuple[str, str, str]]:
    rows = table(engine, notification, notification.c.id)
    return sorted({(r["work_item_id"], r["occurrence"], r["recipient"]) for r in rows})


def test_sweep_records_enqueues_and_a_rerun_at_the_same_instant_adds_nothing(
    engine: Engine,
) -> None:
    add_item(engine, "wi-1", local("2026-03-02 12:00"))
    add_item(engine, "wi-2", local("2026-03-04 12:00"), assignee="ma-a", role="medical-assistant")
    now = local("2026-03-05 12:00")
    first = run_sweep(engine, CONFIG, now, "run-1")
    assert (first.items, first.escalated, first.repeated) == (2, 2, 0)
    assert notices(engine) == [
        ("wi-1", "0.t2", "dr-a"),
        ("wi-1", "0.t2", "mgr-a"),
        ("wi-1", "0.t2", "mgr-b"),
        ("wi-2", "0.t1", "ma-a"),
    ]
    events = table(engine, escalation_event, escalation_event.c.work_item_id)
    assert [(e["work_item_id"], e["step"], e["kind"], e["tier"], e["run_id"]) for e in events] == [
        ("wi-1", "0.t2", "escalated", "manager", "run-1"),
        ("wi-2", "0.t1", "escalated", "reminder", "run-1"),
    ]
    assert events[0]["due_at"] == local("2026-03-05 12:00") and events[0]["at"] == now
    assert events[0]["recipients"][1] == {"person": "mgr-a", "target": "manager", "covering": None}

    again = run_sweep(engine, CONFIG, now, "run-2")
    assert (again.escalated, again.repeated, again.notifications, again.states) == (0, 0, 0, 0)
    assert len(table(engine, escalation_event, escalation_event.c.id)) == 2
    assert len(notices(engine)) == 4


def test_lost_state_cannot_send_a_step_twice(engine: Engine) -> None:
    """The audit trail's unique (item, step) is the guarantee, not the state row."""
    add_item(engine, "wi-1", local("2026-03-02 12:00"))
    now = local("2026-03-03 12:00")
    run_sweep(engine, CONFIG, now)
    with engine.begin() as conn:
        conn.execute(escalation_state.delete())
    again = run_sweep(engine, CONFIG, now)
    assert again.escalated == 0 and again.notifications == 0
    assert len(table(engine, escalation_event, escalation_event.c.id)) == 1


def test_closed_item_stops_escalating_and_its_ladder_is_settled(engine: Engine) -> None:
    add_item(engine, "wi-1", local("2026-03-02 12:00"))
    run_sweep(engine, CONFIG, local("2026-03-03 12:00"))
    transition(engine, "wi-1", local("2026-03-03 13:00"), "closed", status="closed")
    later = run_sweep(engine, CONFIG, local("2026-03-20 12:00"))
    assert (later.items, later.escalated, later.settled) == (0, 0, 1)
    [state] = table(engine, escalation_state, escalation_state.c.work_item_id)
    assert state["next_at"] is None and state["level"] == 1
    assert [e["step"] for e in table(engine, escalation_event, escalation_event.c.id)] == ["0.t1"]


def test_reopened_item_starts_again_from_its_reopening(engine: Engine) -> None:
    add_item(engine, "wi-1", local("2026-03-02 12:00"))
    run_sweep(engine, CONFIG, local("2026-03-05 12:00"))
    transition(engine, "wi-1", local("2026-03-05 13:00"), "closed", status="closed")
    transition(engine, "wi-1", local("2026-03-09 09:00"), "reopened", status="open")
    run_sweep(engine, CONFIG, local("2026-03-09 10:00"))
    assert ("wi-1", "1.t1", "dr-a") not in notices(engine)
    run_sweep(engine, CONFIG, local("2026-03-10 09:00"))
    assert ("wi-1", "1.t1", "dr-a") in notices(engine)
    [state] = table(engine, escalation_state, escalation_state.c.work_item_id)
    assert (state["epoch"], state["level"]) == (1, 1)


def test_reassigned_item_notifies_the_new_assignee(engine: Engine) -> None:
    add_item(engine, "wi-1", local("2026-03-02 12:00"))
    run_sweep(engine, CONFIG, local("2026-03-03 12:00"))
    transition(engine, "wi-1", local("2026-03-03 14:00"), "reassigned", assignee="dr-b")
    run_sweep(engine, CONFIG, local("2026-03-04 12:00"))
    assert ("wi-1", "0.t1.r1", "dr-b") in notices(engine)
    assert ("wi-1", "0.t1.r1", "dr-a") not in notices(engine)


def test_worklist_shows_level_and_next_escalation(engine: Engine) -> None:
    add_item(engine, "wi-1", local("2026-03-02 12:00"))
    add_item(engine, "wi-2", local("2026-03-05 11:00"))
    run_sweep(engine, CONFIG, local("2026-03-05 12:00"))
    with engine.connect() as conn:
        rows = {r["id"]: r for r in worklist(conn, local("2026-03-05 12:00"))}
    assert rows["wi-1"]["escalation_level"] == 2
    assert rows["wi-1"]["escalation_tier"] == "manager"
    assert rows["wi-1"]["next_escalation_at"] == local("2026-03-09 12:00")
    assert rows["wi-1"]["next_escalation"] == "director"
    assert rows["wi-2"]["escalation_level"] == 0
    assert rows["wi-2"]["next_escalation_at"] == local("2026-03-06 11:00")


def test_disabled_escalation_sends_nothing(engine: Engine) -> None:
    add_item(engine, "wi-1", local("2026-03-02 12:00"))
    counts = run_sweep(
        engine, practice(escalation={**LADDER, "enabled": False}), local("2026-04-01 12:00")
    )
    assert counts.items == 0 and not table(engine, escalation_event, escalation_event.c.id)


def test_batches_cover_every_item_once(engine: Engine) -> None:
    for i in range(23):
        add_item(engine, f"wi-{i:03d}", local("2026-03-02 12:00"))
    counts = run_sweep(engine, CONFIG, local("2026-03-03 12:00"), batch_size=5)
    assert counts.items == 23 and counts.escalated == 23
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(escalation_state)).scalar() == 23


def test_history_and_counts(engine: Engine) -> None:
    add_item(engine, "wi-1", local("2026-03-02 12:00"))
    for day in ("2026-03-03 12:00", "2026-03-04 12:00", "2026-03-05 12:00"):
        run_sweep(engine, CONFIG, local(day))
    with engine.connect() as conn:
        assert [h["step"] for h in store.history(conn, "wi-1")] == ["0.t1", "0.t1.r1", "0.t2"]
        assert store.counts_since(conn, local("2026-03-04 00:00")) == {
            ("repeated", "reminder"): 1,
            ("escalated", "manager"): 1,
        }


def test_naive_instant_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        run_sweep(engine, CONFIG, datetime(2026, 3, 5, 12))
