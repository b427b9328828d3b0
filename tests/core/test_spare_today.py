"""Work that can be done now goes where a day's capacity can be spent on it: a ready item its
holder cannot reach today moves ("spare today") to someone in the role with fewer ready items
than their reach. Never a waiting item, never a clinical one, never out of the role, never an
item that changed today unless this very run opened it, never with ``overflow: none``."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.lifecycle import Change, StoredItem, over_capacity
from chartroute.route import Load, Router
from chartroute.vocabulary import Category, Role, RoutingRule
from tests.core.test_overflow import (
    AS_OF,
    MAS,
    TWO_MAS,
    YESTERDAY,
    config_person,
    practice,
    roster,
    staff,
    stored,
)


def loads(items: list[StoredItem]) -> Load:
    load: dict[str, int] = {}
    ready: dict[str, int] = {}
    for item in items:
        who = item.assignee or ""
        load[who] = load.get(who, 0) + 1
        ready[who] = ready.get(who, 0) + (not item.waiting)
    return Load(load, ready)


def test_ready_work_beyond_reach_goes_to_someone_with_time_for_it_today() -> None:
    # ma-1: five results in (reach 3); ma-2: four still waiting on the lab, nothing to do today
    items = [stored(n, "ma-1", YESTERDAY, waiting=False) for n in range(5)]
    items += [stored(n, "ma-2", YESTERDAY) for n in range(5, 9)]
    router = Router(practice(TWO_MAS), AS_OF, loads(items))
    spare, *evening = over_capacity(items, router, AS_OF).transitions
    moved = [spare, *evening[:1]]
    assert [(t.change, t.item.id, t.item.assignee, t.previous_assignee) for t in moved] == [
        (Change.REASSIGNED, items[n].id, "ma-2", "ma-1") for n in (3, 4)
    ]
    assert {t.item.reason for t in moved} == {RoutingRule.SPARE_TODAY}
    # then the queues even out: one of ma-2's waiting items, past their reach, goes to ma-1
    (back,) = evening[1:]
    assert (back.item.assignee, back.item.reason, back.item.waiting) == (
        "ma-1",
        RoutingRule.OVER_CAPACITY,
        True,
    )
    assert (router.ready["ma-1"], router.ready["ma-2"]) == (3, 2)
    assert (router.load["ma-1"], router.load["ma-2"]) == (4, 5)


def test_nobody_with_time_today_means_the_ready_work_stays() -> None:
    items = [stored(n, "ma-1", YESTERDAY, waiting=False) for n in range(5)]
    items += [stored(n, "ma-2", YESTERDAY, waiting=False) for n in range(5, 8)]
    assert over_capacity(items, Router(practice(TWO_MAS), AS_OF, loads(items)), AS_OF) == (
        over_capacity([], Router(practice(TWO_MAS), AS_OF), AS_OF)
    )


def test_an_item_this_run_opened_may_move_one_that_changed_earlier_today_may_not() -> None:
    items = [stored(n, "ma-1", YESTERDAY, waiting=False) for n in range(3)]
    earlier_today = datetime(2026, 3, 10, 15, tzinfo=AS_OF.tzinfo)
    turned_ready = stored(3, "ma-1", earlier_today, waiting=False)  # its result came in today
    opened_now = stored(4, "ma-1", AS_OF, waiting=False, opened_at=AS_OF)
    items += [turned_ready, opened_now]
    items += [stored(n, "ma-2", YESTERDAY) for n in range(5, 9)]
    moves = over_capacity(items, Router(practice(TWO_MAS), AS_OF, loads(items)), AS_OF)
    assert [(t.item.id, t.item.assignee) for t in moves.transitions] == [(opened_now.id, "ma-2")]


def test_waiting_and_clinical_items_never_move_to_spare_time() -> None:
    items = [stored(n, "ma-1", YESTERDAY) for n in range(3)]  # waiting: within ma-1's reach
    items += [stored(n, "ma-1", YESTERDAY) for n in range(3, 6)]  # waiting, beyond it
    items += [stored(n, "dr-a", YESTERDAY, category=Category.UNSIGNED_NOTE) for n in range(6, 20)]
    router = Router(practice(TWO_MAS), AS_OF, loads(items))
    moves = over_capacity(items, router, AS_OF).transitions
    # ma-2 has room, so the waiting ones beyond ma-1's reach move for capacity, not for today
    assert {t.item.reason for t in moves} == {RoutingRule.OVER_CAPACITY}
    assert all(t.item.role == Role.MEDICAL_ASSISTANT for t in moves)


def test_overflow_none_moves_no_ready_work() -> None:
    items = [stored(n, "ma-1", YESTERDAY, waiting=False) for n in range(6)]
    router = Router(practice(TWO_MAS, overflow="none"), AS_OF, loads(items))
    assert over_capacity(items, router, AS_OF).transitions == ()


queued = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(MAS) + 1),  # holder (past the list: doctor)
        st.booleans(),  # waiting on the outside world
        st.sampled_from(["yesterday", "today", "opened now"]),  # when it last changed
        st.booleans(),  # clinical
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(staff, queued, st.sampled_from(["pool", "none"]))
def test_spare_today_moves_keep_the_rules(
    drawn: list[dict[str, object]],
    drawn_items: list[tuple[int, bool, str, bool]],
    overflow: str,
) -> None:
    config = practice(roster(drawn), overflow=overflow)
    items = []
    for n, (who, waiting, changed, clinical) in enumerate(drawn_items):
        holder = MAS[who] if who < len(drawn) else "dr-a"
        category = Category.UNSIGNED_NOTE if clinical or holder == "dr-a" else None
        at = YESTERDAY if changed == "yesterday" else AS_OF
        items.append(
            stored(
                n,
                holder,
                at,
                category or Category.PENDING_RESULT,
                waiting=waiting,
                opened_at=AS_OF if changed == "opened now" else YESTERDAY,
            )
        )
    router = Router(config, AS_OF, loads(items))
    ready_before = dict(router.ready)
    ready = dict(router.ready)  # replayed move by move: the target had time when it took one
    by_id = {i.id: i for i in items}
    moves = over_capacity(items, router, AS_OF).transitions
    if overflow == "none":
        assert moves == ()
    for t in moves:
        old = by_id[t.item.id]
        assert t.change == Change.REASSIGNED and t.item.role == old.role != Role.CLINICIAN
        target = config_person(config, t.item.assignee)
        assert old.role in target.roles and target.daily_capacity > 0
        assert not target.is_away(router.day) and target.id != old.assignee
        holder = config_person(config, old.assignee)
        if t.item.reason == RoutingRule.SPARE_TODAY:
            assert not old.waiting
            assert old.updated_at == YESTERDAY or old.opened_at == AS_OF  # never worked today
            assert ready[target.id] < router.reach(target)
            ready[target.id] += 1
            ready[holder.id] -= 1
        else:
            assert t.item.reason == RoutingRule.OVER_CAPACITY and old.updated_at == YESTERDAY
            ready[target.id] += not old.waiting
            ready[holder.id] -= not old.waiting
        # the holder had more items than their reach: it was past it in their worklist
        assert sum(i.assignee == holder.id for i in items) > router.reach(holder)
    assert sum(ready.values()) == sum(ready_before.values())
