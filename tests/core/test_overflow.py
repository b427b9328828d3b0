"""Capacity-aware routing: a full pod member takes no new item while someone in the role has
room, items queued beyond a holder's reach move at the next sync (never one worked on today,
never out of the clinician role), and ``overflow: none`` is exactly the strict pods of before."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.classify import Blocker, ChartVerdict
from chartroute.config import PracticeConfig, load_config_text
from chartroute.config.models import Person
from chartroute.lifecycle import Change, ItemStatus, StoredItem, anyone_beyond_reach, over_capacity
from chartroute.route import Router, work_item_id
from chartroute.vocabulary import Category, Role, RoutingRule

AS_OF = datetime(2026, 3, 10, 22, tzinfo=UTC)  # 17:00 in New York
YESTERDAY = AS_OF - timedelta(days=1)
MAS = ("ma-1", "ma-2", "ma-3", "ma-4")
RESULT = Blocker("pending-result", "ServiceRequest/s1", ("ServiceRequest/s1",), "x")


OTHER_STAFF = [
    {"id": "rc", "name": "RC", "roles": ["referral-coordinator"]},
    {"id": "fd", "name": "FD", "roles": ["front-desk"]},
]


def practice(people: list[dict[str, object]], overflow: str = "pool") -> PracticeConfig:
    clinicians = [
        {"id": f"dr-{c}", "name": c, "roles": ["clinician"], "practitioner": f"Practitioner/{c}"}
        for c in "ab"
    ]
    doc = {
        "practice": {"name": "T", "timezone": "America/New_York"},
        "roster": [*clinicians, *people, *OTHER_STAFF],
        "routing": {"overflow": overflow},
    }
    return load_config_text(yaml.safe_dump(doc))


def chart(n: int, clinician: str) -> ChartVerdict:
    return ChartVerdict(
        f"Encounter/e{n}", True, None, (RESULT,), f"Practitioner/{clinician}",
        datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=n), None, None, None,
    )  # fmt: skip


staff = st.lists(
    st.fixed_dictionaries(
        {
            "capacity": st.integers(min_value=0, max_value=4),
            "pod": st.sampled_from([[], ["dr-a"], ["dr-b"], ["dr-a", "dr-b"]]),
            "load": st.integers(min_value=0, max_value=8),
            "away": st.booleans(),
        }
    ),
    min_size=1,
    max_size=len(MAS),
)


def roster(drawn: list[dict[str, object]]) -> list[dict[str, object]]:
    return [
        {
            "id": MAS[i],
            "name": f"MA {i}",
            "roles": ["medical-assistant"],
            "daily_capacity": one["capacity"],
            "pod": one["pod"],
            "out_of_office": ["2026-03-10"] if one["away"] else [],
            "backup": MAS[(i + 1) % len(drawn)] if len(drawn) > 1 else None,
        }
        for i, one in enumerate(drawn)
    ]


def strict_assign(router: Router, clinician: Person | None) -> str | None:
    """Today's rule before capacity mattered, written out: pod member, else the least-loaded in
    the role (present first), else the cover of the least-loaded."""
    day = router.day
    in_role = [
        p
        for p in router.config.roster
        if Role.MEDICAL_ASSISTANT in p.roles and p.daily_capacity > 0
    ]
    if not in_role:
        return None
    pod = [p for p in in_role if clinician is not None and clinician.id in p.pod]

    def least(people: Iterable[Person]) -> Person:
        return min(
            people, key=lambda p: (router.load.get(p.id, 0) / p.daily_capacity, p.name, p.id)
        )

    for pool in (pod, in_role):
        present = [p for p in pool if not p.is_away(day)]
        if present:
            return least(present).id
    return router.cover(least(pod or in_role).id)


@settings(max_examples=150, deadline=None)
@given(staff, st.lists(st.sampled_from("ab"), min_size=1, max_size=25))
def test_a_full_person_gets_no_new_item_while_someone_in_the_role_has_room(
    drawn: list[dict[str, object]], charts: list[str]
) -> None:
    config = practice(roster(drawn))
    router = Router(config, AS_OF, {MAS[i]: int(one["load"]) for i, one in enumerate(drawn)})  # type: ignore[call-overload]
    for n, clinician in enumerate(charts):
        in_role = [p for p in config.roster if Role.MEDICAL_ASSISTANT in p.roles]
        room = [
            p.id
            for p in in_role
            if p.daily_capacity > 0 and not p.is_away(router.day) and router.has_room(p)
        ]
        before = dict(router.load)
        (item,) = router.route(chart(n, clinician))
        if room:
            assert item.assignee in room, (item.assignee, room, before)
            person = router.by_id[item.assignee]
            assert before.get(person.id, 0) < router.reach(person)
        assert item.role == Role.MEDICAL_ASSISTANT


@settings(max_examples=150, deadline=None)
@given(staff, st.lists(st.sampled_from("ab"), min_size=1, max_size=25))
def test_overflow_none_is_exactly_the_strict_pods(
    drawn: list[dict[str, object]], charts: list[str]
) -> None:
    config = practice(roster(drawn), overflow="none")
    load = {MAS[i]: int(one["load"]) for i, one in enumerate(drawn)}  # type: ignore[call-overload]
    router, reference = Router(config, AS_OF, load), Router(config, AS_OF, load)
    for n, clinician in enumerate(charts):
        verdict = chart(n, clinician)
        expected = strict_assign(reference, reference.clinician_of(verdict))
        if expected is not None:
            reference.move(None, expected)
        (item,) = router.route(verdict)
        assert item.assignee == expected
    # and nothing queued moves at the next sync
    items = [stored(n, MAS[0], YESTERDAY, category=Category.PENDING_RESULT) for n in range(30)]
    assert over_capacity(items, Router(config, AS_OF, {MAS[0]: 30}), AS_OF).transitions == ()


def stored(
    n: int,
    assignee: str,
    updated_at: datetime,
    category: Category = Category.PENDING_RESULT,
    clinician: str = "dr-a",
    *,
    waiting: bool = True,
    opened_at: datetime = YESTERDAY,
) -> StoredItem:
    subject = "note" if category == Category.UNSIGNED_NOTE else f"ServiceRequest/s{n}"
    role = Role.CLINICIAN if category == Category.UNSIGNED_NOTE else Role.MEDICAL_ASSISTANT
    return StoredItem(
        id=work_item_id(f"Encounter/e{n}", category, subject),
        encounter=f"Encounter/e{n}",
        category=category,
        subject=subject,
        role=role,
        assignee=assignee,
        clinician=clinician,
        status=ItemStatus.OPEN,
        evidence=(subject,),
        detail="x",
        visit_at=datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=n),
        billing_impact=None,
        filing_deadline=None,
        opened_at=opened_at,
        closed_at=None,
        reason=RoutingRule.POD,
        waiting=waiting and category != Category.UNSIGNED_NOTE,
        updated_at=updated_at,
    )


TWO_MAS = [
    {
        "id": "ma-1",
        "name": "MA One",
        "roles": ["medical-assistant"],
        "pod": ["dr-a"],
        "daily_capacity": 3,
    },
    {"id": "ma-2", "name": "MA Two", "roles": ["medical-assistant"], "daily_capacity": 3},
]


def test_items_beyond_the_holders_reach_move_to_someone_with_room() -> None:
    items = [stored(n, "ma-1", YESTERDAY) for n in range(5)]
    router = Router(practice(TWO_MAS), AS_OF, {"ma-1": 5})
    moves = over_capacity(items, router, AS_OF).transitions
    # the two newest visits (beyond a reach of 3) go to ma-2, with the reason on the event
    assert [(t.change, t.item.id, t.item.assignee, t.previous_assignee) for t in moves] == [
        (Change.REASSIGNED, items[n].id, "ma-2", "ma-1") for n in (3, 4)
    ]
    assert {t.item.reason for t in moves} == {"over capacity"}


def test_when_everyone_is_full_queues_even_out() -> None:
    items = [stored(n, "ma-1", YESTERDAY) for n in range(9)]
    router = Router(practice(TWO_MAS), AS_OF, {"ma-1": 9, "ma-2": 4})
    moves = over_capacity(items, router, AS_OF).transitions
    # beyond a reach of 3, the next in line move while ma-2's queue stays the shorter
    assert [(t.item.id, t.item.assignee) for t in moves] == [(items[n].id, "ma-2") for n in (3, 4)]
    assert (router.load["ma-1"], router.load["ma-2"]) == (7, 6)


def test_nothing_moves_when_nobody_has_room() -> None:
    items = [stored(n, "ma-1", YESTERDAY) for n in range(5)]
    router = Router(practice(TWO_MAS), AS_OF, {"ma-1": 5, "ma-2": 3})
    assert over_capacity(items, router, AS_OF).transitions == ()


def test_an_item_worked_on_today_in_the_practices_day_stays() -> None:
    # 14:00 UTC is 09:00 in New York on the 10th: today. 03:00 UTC on the 10th is the 9th there.
    today = datetime(2026, 3, 10, 14, tzinfo=UTC)
    late_yesterday = datetime(2026, 3, 10, 3, tzinfo=UTC)
    items = [stored(n, "ma-1", YESTERDAY) for n in range(3)]
    items += [stored(3, "ma-1", today), stored(4, "ma-1", late_yesterday)]
    moves = over_capacity(items, Router(practice(TWO_MAS), AS_OF, {"ma-1": 5}), AS_OF)
    assert [t.item.id for t in moves.transitions] == [items[4].id]


def test_clinical_items_never_move_for_overflow() -> None:
    doctor = [stored(n, "dr-a", YESTERDAY, category=Category.UNSIGNED_NOTE) for n in range(40)]
    router = Router(practice(TWO_MAS), AS_OF, {"dr-a": 40})
    assert over_capacity(doctor, router, AS_OF).transitions == ()


@settings(max_examples=150, deadline=None)
@given(
    staff,
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(MAS) + 1),  # holder (past the list: doctor)
            st.booleans(),  # worked on today
            st.booleans(),  # clinical
        ),
        max_size=30,
    ),
)
def test_moves_keep_the_rules(
    drawn: list[dict[str, object]], queued: list[tuple[int, bool, bool]]
) -> None:
    config = practice(roster(drawn))
    items = []
    for n, (who, today, clinical) in enumerate(queued):
        holder = MAS[who] if who < len(drawn) else "dr-a"
        category = (
            Category.UNSIGNED_NOTE if clinical or holder == "dr-a" else Category.PENDING_RESULT
        )
        items.append(stored(n, holder, AS_OF if today else YESTERDAY, category))
    load: dict[str, int] = {}
    for item in items:
        load[item.assignee or ""] = load.get(item.assignee or "", 0) + 1
    router = Router(config, AS_OF, load)
    before = dict(router.load)
    by_id = {i.id: i for i in items}
    for t in over_capacity(items, router, AS_OF).transitions:
        old = by_id[t.item.id]
        assert t.change == Change.REASSIGNED and t.item.reason == RoutingRule.OVER_CAPACITY
        assert old.updated_at == YESTERDAY  # never an item worked on today
        assert old.role != Role.CLINICIAN and t.item.role == old.role
        target = config_person(config, t.item.assignee)
        assert old.role in target.roles and target.daily_capacity > 0
        assert not target.is_away(router.day) and target.id != old.assignee
        assert before[old.assignee or ""] > router.reach(config_person(config, old.assignee))
    for person in config.roster:  # a move fills someone past their reach only to even out
        gained = router.load.get(person.id, 0) - before.get(person.id, 0)
        if gained > 0 and router.load[person.id] > router.reach(person):
            gave = [p for p in config.roster if router.load.get(p.id, 0) < before.get(p.id, 0)]
            if any(p.daily_capacity == 0 for p in gave):
                continue  # a holder routed no items any more: anyone in the role is better
            queues = [router.load.get(p.id, 0) / p.daily_capacity for p in gave]
            assert queues and router.load[person.id] / person.daily_capacity <= max(queues) + 1


def config_person(config: PracticeConfig, person_id: str | None) -> Person:
    return next(p for p in config.roster if p.id == person_id)


@settings(max_examples=150, deadline=None)
@given(staff, st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.booleans()), max_size=25))
def test_over_capacity_moves_nothing_while_nobody_is_beyond_reach(
    drawn: list[dict[str, object]], queued: list[tuple[int, bool, bool]]
) -> None:
    """The store skips reading the open items when ``anyone_beyond_reach`` says no: then
    ``over_capacity`` must move nothing, whatever the items."""
    config = practice(roster(drawn))
    items = []
    for n, (who, today, clinical) in enumerate(queued):
        holder = MAS[who] if who < len(drawn) else "dr-a"
        category = (
            Category.UNSIGNED_NOTE if clinical or holder == "dr-a" else Category.PENDING_RESULT
        )
        items.append(stored(n, holder, AS_OF if today else YESTERDAY, category, waiting=n % 2 == 0))
    load: dict[str, int] = {}
    for item in items:
        load[item.assignee or ""] = load.get(item.assignee or "", 0) + 1
    router = Router(config, AS_OF, load)
    if not anyone_beyond_reach(router):
        assert over_capacity(items, Router(config, AS_OF, load), AS_OF).transitions == ()
