"""Relieving full queues reads only the queues beyond reach, and moves exactly what reading
every open item moves (lifecycle.over_capacity_reading)."""

from __future__ import annotations

from collections.abc import Collection

from hypothesis import example, given, settings
from hypothesis import strategies as st

from chartroute.lifecycle import StoredItem, over_capacity, over_capacity_reading
from chartroute.route import Router
from chartroute.vocabulary import Category
from tests.core.test_overflow import AS_OF, MAS, YESTERDAY, practice, roster, staff, stored

queues = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(MAS) + 1),  # holder (past the roster: others)
        st.booleans(),  # worked on today
        st.booleans(),  # clinical
        st.booleans(),  # waiting on the outside world
        st.booleans(),  # opened by this very run
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(staff, queues, st.sampled_from(["pool", "none"]))
@example(  # ma-2's ready items pass 1 gives ma-1, filling her past her reach for pass 2
    [
        {"capacity": 3, "pod": [], "load": 0, "away": False},
        {"capacity": 4, "pod": [], "load": 0, "away": False},
        {"capacity": 0, "pod": [], "load": 0, "away": False},
    ],
    [(0, False, False, False, False), *[(0, False, False, True, False)] * 2]
    + [(1, False, False, False, False)] * 6,
    "pool",
)
def test_reading_only_full_queues_moves_what_reading_every_item_moves(
    drawn: list[dict[str, object]],
    queued: list[tuple[int, bool, bool, bool, bool]],
    overflow: str,
) -> None:
    config = practice(roster(drawn), overflow=overflow)
    items = []
    for n, (who, today, clinical, waiting, new) in enumerate(queued):
        holder = MAS[who] if who < len(drawn) else ("dr-a" if who == len(MAS) else "gone")
        category = (
            Category.UNSIGNED_NOTE if clinical or holder == "dr-a" else Category.PENDING_RESULT
        )
        when = AS_OF if today or new else YESTERDAY
        opened = AS_OF if new else YESTERDAY
        items.append(stored(n, holder, when, category, waiting=waiting, opened_at=opened))
    load: dict[str, int] = {}
    ready: dict[str, int] = {}
    for item in items:
        load[item.assignee or ""] = load.get(item.assignee or "", 0) + 1
        if not item.waiting:
            ready[item.assignee or ""] = ready.get(item.assignee or "", 0) + 1
    reading_router = Router(config, AS_OF, load, ready)
    read: list[str] = []

    def open_items_of(holders: Collection[str]) -> list[StoredItem]:
        for holder in holders:  # only queues past their reach as the pass starts, each once
            person = reading_router.by_id[holder]
            assert reading_router.load[holder] > reading_router.reach(person)
        read.extend(holders)
        return [i for i in reversed(items) if i.assignee in holders]  # in any order

    every = over_capacity(items, Router(config, AS_OF, load, ready), AS_OF)
    assert over_capacity_reading(open_items_of, reading_router, AS_OF) == every
    assert len(read) == len(set(read))
