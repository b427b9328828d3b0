"""The work item lifecycle decided purely: one transition per changed item, the counts are the
transitions, and deciding again from the same outcome changes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.classify import FUTURE_VISIT, Blocker, ChartVerdict
from chartroute.lifecycle import (
    Change,
    ChartOutcome,
    ChartState,
    ItemStatus,
    Reconciliation,
    StoredChart,
    StoredItem,
    decide,
    holders,
)
from chartroute.route import WorkItem, work_item_id
from chartroute.vocabulary import Category, Role

T0 = datetime(2026, 3, 2, 18, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)
VISIT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def routed(
    enc: str = "Encounter/e1",
    subject: str = "ServiceRequest/s1",
    assignee: str | None = "ma-1",
    detail: str = "lab order open",
    category: Category = Category.PENDING_RESULT,
) -> WorkItem:
    return WorkItem(
        id=work_item_id(enc, category, subject),
        encounter=enc,
        category=category,
        subject=subject,
        role=Role.MEDICAL_ASSISTANT,
        assignee=assignee,
        evidence=(subject,),
        detail=detail,
        visit_at=VISIT,
        billing_impact=None,
        filing_deadline=None,
        clinician="dr-a",
    )


def outcome(
    enc: str, *items: WorkItem, is_chart: bool = True, reason: str | None = None
) -> ChartOutcome:
    blockers = tuple(Blocker(i.category, i.subject, i.evidence, i.detail) for i in items)
    verdict = ChartVerdict(
        enc, is_chart, reason, blockers, "Practitioner/a", VISIT, None, None, None
    )
    return ChartOutcome(verdict, VISIT, "dr-a", items)


def stored_as(item: WorkItem, status: ItemStatus = ItemStatus.OPEN) -> StoredItem:
    """What the store holds after ``item`` was opened at T0 (and perhaps closed)."""
    return StoredItem(
        id=item.id,
        encounter=item.encounter,
        category=item.category,
        subject=item.subject,
        role=item.role,
        assignee=item.assignee,
        clinician=item.clinician,
        status=status,
        evidence=item.evidence,
        detail=item.detail,
        visit_at=item.visit_at,
        billing_impact=item.billing_impact,
        filing_deadline=item.filing_deadline,
        opened_at=T0,
        closed_at=T0 if status == ItemStatus.CLOSED else None,
        reason=item.reason,
    )


def only(result: Reconciliation) -> tuple[Change, StoredItem, str | None]:
    (t,) = result.transitions
    return t.change, t.item, t.previous_assignee


def test_a_new_blocker_opens_an_item() -> None:
    item = routed()
    change, after, _ = only(decide([outcome("Encounter/e1", item)], {}, {}, T1))
    assert change == Change.OPENED
    assert (after.status, after.opened_at, after.closed_at, after.assignee) == (
        ItemStatus.OPEN,
        T1,
        None,
        "ma-1",
    )


def test_a_blocker_that_comes_back_reopens_its_item_keeping_when_it_first_opened() -> None:
    item = routed(assignee="ma-2")
    was = stored_as(routed(assignee="ma-1"), ItemStatus.CLOSED)
    change, after, previous = only(decide([outcome("Encounter/e1", item)], {item.id: was}, {}, T1))
    assert change == Change.REOPENED  # not also a reassignment: nobody held it while closed
    assert (after.status, after.closed_at, after.opened_at) == (ItemStatus.OPEN, None, T0)
    assert (after.assignee, previous) == ("ma-2", None)


def test_a_new_holder_is_a_reassignment() -> None:
    item = routed(assignee="ma-2", detail="changed too")
    was = stored_as(routed(assignee="ma-1"))
    change, after, previous = only(decide([outcome("Encounter/e1", item)], {item.id: was}, {}, T1))
    assert (change, after.assignee, previous, after.detail) == (
        Change.REASSIGNED,
        "ma-2",
        "ma-1",
        "changed too",
    )


def test_changed_details_with_the_same_holder_are_an_update() -> None:
    item = routed(detail="lab order open; not final yet: DiagnosticReport/r1")
    was = stored_as(routed())
    change, after, _ = only(decide([outcome("Encounter/e1", item)], {item.id: was}, {}, T1))
    assert change == Change.UPDATED and after.detail == item.detail and after.opened_at == T0


def test_the_same_item_again_is_unchanged() -> None:
    item = routed()
    result = decide([outcome("Encounter/e1", item)], {item.id: stored_as(item)}, {}, T1)
    assert result.transitions == () and result.unchanged == 1


def test_a_blocker_that_went_away_closes_its_item_with_its_holder() -> None:
    gone = stored_as(routed(assignee="ma-3"))
    change, after, _ = only(decide([outcome("Encounter/e1")], {gone.id: gone}, {}, T1))
    assert (change, after.status, after.closed_at, after.assignee) == (
        Change.CLOSED,
        ItemStatus.CLOSED,
        T1,
        "ma-3",
    )


def test_closed_items_and_other_charts_items_are_left_alone() -> None:
    closed = stored_as(routed(), ItemStatus.CLOSED)
    elsewhere = stored_as(routed("Encounter/e2"))
    stored = {closed.id: closed, elsewhere.id: elsewhere}
    result = decide([outcome("Encounter/e1")], stored, {}, T1)
    assert result.transitions == ()


def test_holders_are_the_open_items_assignees() -> None:
    a, b = stored_as(routed("Encounter/e1")), stored_as(routed("Encounter/e2"), ItemStatus.CLOSED)
    assert holders([a, b]) == {a.id: "ma-1"}


def chart(result: Reconciliation) -> StoredChart:
    (row,) = result.charts
    return row


def test_a_chart_remembers_when_it_first_opened_and_when_it_last_closed() -> None:
    item = routed()
    opened = chart(decide([outcome("Encounter/e1", item)], {}, {}, T0))
    assert (opened.state, opened.first_open_at, opened.closed_at) == (ChartState.OPEN, T0, None)
    still = chart(decide([outcome("Encounter/e1", item)], {}, {"Encounter/e1": opened}, T1))
    assert (still.first_open_at, still.blocker_count) == (T0, 1)
    closed = chart(decide([outcome("Encounter/e1")], {}, {"Encounter/e1": still}, T1))
    assert (closed.state, closed.first_open_at, closed.closed_at) == (ChartState.CLOSED, T0, T1)
    again = chart(decide([outcome("Encounter/e1")], {}, {"Encounter/e1": closed}, T2))
    assert again.closed_at == T1  # closing stays dated when it happened


def test_future_visits_and_non_charts_have_their_own_states() -> None:
    future = chart(
        decide([outcome("Encounter/e1", is_chart=False, reason=FUTURE_VISIT)], {}, {}, T0)
    )
    other = chart(
        decide([outcome("Encounter/e1", is_chart=False, reason="status planned")], {}, {}, T0)
    )
    assert (future.state, other.state) == (ChartState.FUTURE, ChartState.NOT_CHART)


# ---- properties over random stores and outcomes -------------------------------------------

ENCOUNTERS = ["Encounter/e1", "Encounter/e2", "Encounter/e3"]
SUBJECTS = ["ServiceRequest/s1", "ServiceRequest/s2", "Claim/c1"]
PEOPLE = [None, "ma-1", "ma-2"]
DETAILS = ["first", "second"]


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[ChartOutcome], dict[str, StoredItem]]:
    stored: dict[str, StoredItem] = {}
    outcomes = []
    for enc in ENCOUNTERS:
        items = []
        for subject in SUBJECTS:
            kept = draw(st.sampled_from(["absent", "open", "closed"]))
            if kept != "absent":
                was = routed(
                    enc, subject, draw(st.sampled_from(PEOPLE)), draw(st.sampled_from(DETAILS))
                )
                status = ItemStatus.OPEN if kept == "open" else ItemStatus.CLOSED
                stored[was.id] = stored_as(was, status)
            if draw(st.booleans()):
                items.append(
                    routed(
                        enc, subject, draw(st.sampled_from(PEOPLE)), draw(st.sampled_from(DETAILS))
                    )
                )
        if draw(st.booleans()):  # a chart this batch did not re-classify
            outcomes.append(outcome(enc, *items))
    return outcomes, stored


def applied(stored: dict[str, StoredItem], result: Reconciliation) -> dict[str, StoredItem]:
    """The store after the transitions: each carries its item as it must be stored."""
    return {**stored, **{t.item.id: t.item for t in result.transitions}}


@settings(max_examples=300, deadline=None)
@given(case=cases())
def test_deciding_the_same_outcomes_again_changes_nothing(
    case: tuple[list[ChartOutcome], dict[str, StoredItem]],
) -> None:
    outcomes, stored = case
    first = decide(outcomes, stored, {}, T1)
    charts = {c.encounter: c for c in first.charts}
    again = decide(outcomes, applied(stored, first), charts, T2)
    assert again.transitions == ()
    assert again.unchanged == sum(len(o.items) for o in outcomes)
    assert {c.encounter: c.state for c in again.charts} == {k: c.state for k, c in charts.items()}


@settings(max_examples=300, deadline=None)
@given(case=cases())
def test_each_item_changes_at_most_once_and_never_both_opens_and_closes(
    case: tuple[list[ChartOutcome], dict[str, StoredItem]],
) -> None:
    outcomes, stored = case
    result = decide(outcomes, stored, {}, T1)
    ids = [t.item.id for t in result.transitions]
    assert len(ids) == len(set(ids))
    for t in result.transitions:
        if t.change == Change.CLOSED:
            assert stored[t.item.id].is_open and not t.item.is_open
        else:
            assert t.item.is_open
        assert (t.previous_assignee is not None) <= (t.change == Change.REASSIGNED)


@settings(max_examples=300, deadline=None)
@given(case=cases())
def test_counts_are_the_transitions_and_cover_every_routed_and_every_dropped_item(
    case: tuple[list[ChartOutcome], dict[str, StoredItem]],
) -> None:
    outcomes, stored = case
    result = decide(outcomes, stored, {}, T1)
    counts = result.counts()
    tally = Counter(t.change for t in result.transitions)
    assert [counts.opened, counts.reopened, counts.reassigned, counts.updated, counts.closed] == [
        tally[c]
        for c in (Change.OPENED, Change.REOPENED, Change.REASSIGNED, Change.UPDATED, Change.CLOSED)
    ]
    routed_ids = {i.id for o in outcomes for i in o.items}
    assert (
        counts.opened + counts.reopened + counts.reassigned + counts.updated + counts.unchanged
        == len(routed_ids)
    )
    encounters = {o.verdict.encounter for o in outcomes}
    dropped = [s for s in stored.values() if s.encounter in encounters and s.is_open]
    assert counts.closed == sum(1 for s in dropped if s.id not in routed_ids)


@settings(max_examples=300, deadline=None)
@given(case=cases())
def test_afterwards_a_charts_open_items_are_exactly_what_was_routed(
    case: tuple[list[ChartOutcome], dict[str, StoredItem]],
) -> None:
    outcomes, stored = case
    after = applied(stored, decide(outcomes, stored, {}, T1))
    for o in outcomes:
        open_now = {
            i.id: i.assignee
            for i in after.values()
            if i.encounter == o.verdict.encounter and i.is_open
        }
        assert open_now == {i.id: i.assignee for i in o.items}
    untouched = {o.verdict.encounter for o in outcomes}
    assert {k: v for k, v in after.items() if v.encounter not in untouched} == {
        k: v for k, v in stored.items() if v.encounter not in untouched
    }
