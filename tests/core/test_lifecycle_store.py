"""The store writes what the lifecycle decides, on SQLite and PostgreSQL: every transition's
row and audit event, read back as the typed values the next decision starts from."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from chartroute import lifecycle
from chartroute.lifecycle import ChartOutcome, ChartState, ItemStatus, ReconcileCounts
from chartroute.store import work_items
from chartroute.store.schema import work_item_event
from tests.core.test_lifecycle import T0, T1, T2, outcome, routed

ENC = "Encounter/e1"
T3 = T2 + timedelta(days=1)


def run(engine: Engine, result: ChartOutcome, now: datetime) -> ReconcileCounts:
    with engine.begin() as conn:
        stored = work_items.items_for(conn, [ENC])
        charts = work_items.charts_for(conn, [ENC])
        return work_items.reconcile(conn, [result], stored, charts, now, "run")


def events(engine: Engine) -> list[tuple[str, str | None, str | None]]:
    e = work_item_event
    with engine.connect() as conn:
        rows = conn.execute(select(e.c.event, e.c.assignee, e.c.previous_assignee).order_by(e.c.id))
        return [tuple(r) for r in rows]


def test_an_item_opens_closes_reopens_moves_and_changes(engine: Engine) -> None:
    first = routed(ENC, assignee="ma-1")
    assert run(engine, outcome(ENC, first), T0).opened == 1
    assert run(engine, outcome(ENC, first), T0) == ReconcileCounts(unchanged=1)
    assert run(engine, outcome(ENC), T1).closed == 1
    with engine.connect() as conn:
        (closed,) = work_items.items_for(conn, [ENC]).values()
        chart = work_items.charts_for(conn, [ENC])[ENC]
    assert (closed.status, closed.closed_at, closed.opened_at) == (ItemStatus.CLOSED, T1, T0)
    assert (chart.state, chart.first_open_at, chart.closed_at) == (ChartState.CLOSED, T0, T1)

    assert run(engine, outcome(ENC, routed(ENC, assignee="ma-2")), T2).reopened == 1
    assert run(engine, outcome(ENC, routed(ENC, assignee="ma-3")), T3).reassigned == 1
    changed = routed(ENC, assignee="ma-3", detail="not final yet")
    assert run(engine, outcome(ENC, changed), T3).updated == 1
    with engine.connect() as conn:
        (now,) = work_items.items_for(conn, [ENC]).values()
    assert (now.status, now.assignee, now.detail, now.closed_at, now.opened_at) == (
        ItemStatus.OPEN,
        "ma-3",
        "not final yet",
        None,
        T0,
    )
    assert now.evidence == changed.evidence and now.category == changed.category
    assert events(engine) == [
        ("opened", "ma-1", None),
        ("closed", "ma-1", None),
        ("reopened", "ma-2", None),
        ("reassigned", "ma-3", "ma-2"),
    ]


def test_over_capacity_moves_are_reassigned_events_with_their_reason(engine: Engine) -> None:
    from chartroute.route import Router
    from chartroute.store.schema import work_item
    from chartroute.vocabulary import RoutingRule
    from chartroute.worklist import worklist
    from tests.core.test_overflow import TWO_MAS, practice

    encounters = [f"Encounter/e{n}" for n in range(5)]
    with engine.begin() as conn:
        outcomes = [  # results not in yet: only the over-capacity pass may move them
            outcome(e, replace(routed(e, assignee="ma-1"), reason=RoutingRule.POD, waiting=True))
            for e in encounters
        ]
        work_items.reconcile(conn, outcomes, {}, {}, T0, "run-0")
    with engine.begin() as conn:
        assert work_items.open_load(conn).ready == {"ma-1": 0}
        router = Router(practice(TWO_MAS), T1, work_items.open_load(conn))
        moved = work_items.relieve_over_capacity(conn, router, T1, "run-1")
        again = work_items.relieve_over_capacity(
            conn, Router(practice(TWO_MAS), T1, work_items.open_load(conn)), T1, "run-1"
        )
    assert len(moved) == 2 and again == []
    e = work_item_event
    with engine.connect() as conn:
        rows = conn.execute(
            select(e.c.event, e.c.assignee, e.c.previous_assignee, e.c.reason).where(
                e.c.run_id == "run-1"
            )
        ).all()
        reasons = dict(conn.execute(select(work_item.c.assignee, work_item.c.routing_reason)).all())
        listed = {row["id"]: row["reason"] for row in worklist(conn, T1)}
    assert [tuple(r) for r in rows] == [("reassigned", "ma-2", "ma-1", "over capacity")] * 2
    assert reasons == {"ma-1": "pod", "ma-2": "over capacity"}
    assert sorted(listed.values()) == ["over capacity"] * 2 + ["pod"] * 3


def test_work_doable_now_beyond_reach_goes_to_whoever_has_time_for_it_today(
    engine: Engine,
) -> None:
    """ma-1 holds five items that can be done now and three waiting on a lab; ma-2 holds four
    waiting ones, so has nothing to spend a day's capacity of three on: the two ready items
    ma-1 cannot reach today move to ma-2 with the reason "spare today"; the waiting ones stay
    (ma-2 has more open items than their reach, so the over-capacity pass moves nothing)."""
    from chartroute.route import Router
    from chartroute.store.schema import work_item
    from chartroute.vocabulary import RoutingRule
    from tests.core.test_overflow import TWO_MAS, practice

    def item(n: int, who: str, waiting: bool) -> ChartOutcome:
        e = f"Encounter/e{n}"
        return outcome(e, replace(routed(e, assignee=who), reason=RoutingRule.POD, waiting=waiting))

    with engine.begin() as conn:
        held = [item(n, "ma-1", n >= 5) for n in range(8)] + [
            item(n, "ma-2", True) for n in range(8, 12)
        ]
        work_items.reconcile(conn, held, {}, {}, T0, "run-0")
    with engine.begin() as conn:
        load = work_items.open_load(conn)
        assert (dict(load), load.ready) == ({"ma-1": 8, "ma-2": 4}, {"ma-1": 5, "ma-2": 0})
        moved = work_items.relieve_over_capacity(
            conn, Router(practice(TWO_MAS), T1, load), T1, "r1"
        )
    with engine.connect() as conn:
        rows = conn.execute(
            select(work_item.c.encounter, work_item.c.routing_reason, work_item.c.waiting).where(
                work_item.c.id.in_(moved)
            )
        ).all()
        e = work_item_event
        reasons = conn.execute(select(e.c.reason).where(e.c.run_id == "r1")).scalars().all()
    # two of ma-1's five ready ones (the same visit: the last two by id), none waiting
    assert sorted((r[1], r[2]) for r in rows) == [("spare today", False)] * 2
    assert {r[0] for r in rows} < {f"Encounter/e{n}" for n in range(5)}
    assert reasons == ["spare today", "spare today"]


def test_relieving_reads_no_item_while_nobody_holds_more_than_their_reach(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chartroute.route import Router
    from tests.core.test_overflow import TWO_MAS, practice

    with engine.begin() as conn:
        outcomes = [outcome(e, routed(e, assignee="ma-1")) for e in ("Encounter/e1",)]
        work_items.reconcile(conn, outcomes, {}, {}, T0, "run-0")

    def unread(_conn: object, _holders: object) -> None:
        raise AssertionError("read open items")

    monkeypatch.setattr(work_items, "open_items_of", unread)
    with engine.begin() as conn:
        router = Router(practice(TWO_MAS), T1, work_items.open_load(conn))
        assert not lifecycle.anyone_beyond_reach(router)
        assert work_items.relieve_over_capacity(conn, router, T1, "run-1") == []
