"""The life of a work item, decided purely: what one sync's conclusions do to the stored items.

A work item is keyed by (encounter, category, subject), so the same blocker on a later sync is
the same item. Against what is stored, each item the router made of a chart's blockers is

- **opened** when it was never stored,
- **reopened** when it was stored closed (the blocker came back),
- **reassigned** when it is open and the router's holder changed, or (``over_capacity``) when
  it is queued beyond its holder's reach and someone else in its role has room,
- **updated** when it is open with the same holder and its details changed (role, evidence,
  detail, visit, billing impact, filing deadline or clinician),
- otherwise unchanged;

and each stored open item of the chart that the router did not make again is **closed** (its
blocker went away). Every transition but an update is an event of the audit trail
(``work_item_event``), and the chart's own row follows its verdict (open, closed, future,
not a chart). ``decide`` takes typed values and returns typed transitions, each carrying the
item as it must be stored afterwards; ``chartroute.store.work_items`` only writes them.

Each transition stores the rule that placed the item (``StoredItem.reason``; an item its
holder keeps keeps the rule that first placed it), and its event says it too.

So deciding twice from the same outcome decides nothing the second time, no item both opens
and closes in one batch, and the counts are the transitions (tests/core/test_lifecycle.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from chartroute.classify import ChartVerdict
from chartroute.counts import Counts
from chartroute.route import Router, WorkItem, priority_key
from chartroute.vocabulary import Category, Role, RoutingRule


class ItemStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ChartState(StrEnum):
    OPEN = "open"  # a chart with blockers
    CLOSED = "closed"  # a chart with none
    FUTURE = "future"  # a visit that has not started yet: classified again once it has
    NOT_CHART = "not-chart"  # an encounter that is not a chart (status, class, deleted)


class Change(StrEnum):
    """What a transition does to an item; all but ``UPDATED`` are audit trail events."""

    OPENED = "opened"
    REOPENED = "reopened"
    REASSIGNED = "reassigned"
    UPDATED = "updated"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ChartOutcome:
    """What one sync concluded about one chart: its verdict, when its encounter starts, the
    roster id of its rendering clinician, and the work items the router made of its blockers
    (none when the chart is closed, not a chart, or deleted in the EHR)."""

    verdict: ChartVerdict
    start_at: datetime | None
    clinician: str | None
    items: tuple[WorkItem, ...]


def routed_outcome(
    router: Router,
    verdict: ChartVerdict,
    start_at: datetime | None,
    current: Mapping[str, str | None],
) -> ChartOutcome:
    """A classified chart's outcome: its open blockers routed (keeping ``current`` holders)
    and its rendering clinician's roster id, as the sync and ``config diff`` both decide it."""
    items = router.route(verdict, current) if verdict.is_open else []
    clinician = router.clinician_of(verdict)
    return ChartOutcome(verdict, start_at, clinician.id if clinician else None, tuple(items))


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A work item as the store holds it."""

    id: str
    encounter: str
    category: Category
    subject: str
    role: Role
    assignee: str | None
    clinician: str | None
    status: ItemStatus
    evidence: tuple[str, ...]
    detail: str
    visit_at: datetime | None
    billing_impact: float | None
    filing_deadline: date | None
    opened_at: datetime
    closed_at: datetime | None
    reason: RoutingRule | None = None
    """The rule that put it with its assignee (None: stored before reasons were)."""
    waiting: bool = False
    """Still waiting on the outside world when last classified (ranks after doable work)."""
    updated_at: datetime | None = None
    """When the stored row last changed: opened, reopened, reassigned, or its details changed
    (the EHR showed someone working on it)."""

    @property
    def is_open(self) -> bool:
        return self.status == ItemStatus.OPEN


@dataclass(frozen=True, slots=True)
class StoredChart:
    """A chart's row: its state after its last classification, and when it was open."""

    encounter: str
    state: ChartState
    clinician: str | None
    visit_at: datetime | None
    start_at: datetime | None
    first_open_at: datetime | None
    closed_at: datetime | None
    blocker_count: int


@dataclass(frozen=True, slots=True)
class Transition:
    """One item's change: the item as it must be stored after it, and who held it before a
    reassignment (the previous holder hears that it left them)."""

    change: Change
    item: StoredItem
    previous_assignee: str | None = None


@dataclass
class ReconcileCounts(Counts):
    """Transitions of one reconciliation batch, and the routed items that needed none."""

    opened: int = 0
    reopened: int = 0
    closed: int = 0
    reassigned: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Everything one batch of chart outcomes changes, stamped ``at``."""

    at: datetime
    transitions: tuple[Transition, ...]
    charts: tuple[StoredChart, ...]
    unchanged: int

    def counts(self) -> ReconcileCounts:
        counts = ReconcileCounts(unchanged=self.unchanged)
        for t in self.transitions:
            setattr(counts, t.change.value, getattr(counts, t.change.value) + 1)
        return counts


def holders(stored: Iterable[StoredItem]) -> dict[str, str | None]:
    """Who holds each open item now, by item id: the router keeps staff items with them."""
    return {i.id: i.assignee for i in stored if i.is_open}


def decide(
    outcomes: Sequence[ChartOutcome],
    stored: Mapping[str, StoredItem],
    charts: Mapping[str, StoredChart],
    now: datetime,
) -> Reconciliation:
    """The transitions and chart rows that bring ``stored`` in line with ``outcomes`` at ``now``.

    ``stored`` must hold every stored item of the outcomes' charts, open or closed (an item
    missing from it would be opened again); ``charts`` their stored chart rows.
    """
    by_encounter: dict[str, list[StoredItem]] = defaultdict(list)
    for kept in stored.values():
        by_encounter[kept.encounter].append(kept)
    transitions: list[Transition] = []
    chart_rows: list[StoredChart] = []
    unchanged = 0
    for outcome in outcomes:
        routed = {i.id for i in outcome.items}
        for item in outcome.items:
            transition = _transition(item, stored.get(item.id), now)
            if transition is None:
                unchanged += 1
            else:
                transitions.append(transition)
        for old in by_encounter.get(outcome.verdict.encounter, []):
            if old.id not in routed and old.is_open:
                closed = replace(old, status=ItemStatus.CLOSED, closed_at=now)
                transitions.append(Transition(Change.CLOSED, closed))
        chart_rows.append(chart_after(outcome, charts.get(outcome.verdict.encounter), now))
    return Reconciliation(now, tuple(transitions), tuple(chart_rows), unchanged)


def _transition(item: WorkItem, old: StoredItem | None, now: datetime) -> Transition | None:
    """The one transition a routed item makes against its stored self, if any."""
    if old is None:
        return Transition(Change.OPENED, _new_item(item, now))
    reason: RoutingRule | None = item.reason
    if reason == RoutingRule.HOLDER and old.is_open and old.assignee == item.assignee:
        reason = old.reason  # kept: the rule that placed it still says why it is there
    new = replace(old, assignee=item.assignee, reason=reason, **_details(item))
    if not old.is_open:
        return Transition(Change.REOPENED, replace(new, status=ItemStatus.OPEN, closed_at=None))
    if old.assignee != item.assignee:
        return Transition(Change.REASSIGNED, new, previous_assignee=old.assignee)
    if new != old:
        return Transition(Change.UPDATED, new)
    return None


def _details(item: WorkItem) -> dict[str, Any]:
    """What a later sync may change about an item without it being another item."""
    return {
        "role": item.role,
        "evidence": tuple(item.evidence),
        "detail": item.detail,
        "visit_at": item.visit_at,
        "billing_impact": item.billing_impact,
        "filing_deadline": item.filing_deadline,
        "clinician": item.clinician,
        "waiting": item.waiting,
    }


def _new_item(item: WorkItem, now: datetime) -> StoredItem:
    return StoredItem(
        id=item.id,
        encounter=item.encounter,
        category=item.category,
        subject=item.subject,
        assignee=item.assignee,
        status=ItemStatus.OPEN,
        opened_at=now,
        closed_at=None,
        reason=item.reason,
        updated_at=now,
        **_details(item),
    )


def over_capacity(
    open_items: Iterable[StoredItem], router: Router, now: datetime
) -> Reconciliation:
    """Staff items queued beyond their holder's reach, moved to someone in the role who can
    take them.

    A holder's reach is ``routing.overflow_after_days`` of their daily capacity
    (``Router.reach``); their open staff items past it in the worklist's priority order are the
    ones they cannot get to. Two passes, one item at a time with the router's running loads,
    so the moves balance among themselves:

    1. **spare today**: an item past the reach that can be done now goes to someone in the
       role with fewer ready items than their reach (``Router.spare``): they have capacity
       left today and not enough work to use it on, while the holder has more than they can do;
    2. **over capacity**: any item still past the reach goes to whoever ``Router.relieve``
       names (someone with room, or a shorter queue when everyone is full).

    The only reshuffles besides out of office and leaving the role, so they are held to three
    rules: never with ``overflow: none``; never a clinical item (it follows its chart's
    clinician, so it never leaves the clinician role) nor out of the item's role; and never an
    item that changed today in the practice's calendar (opened, reassigned, or worked on by its
    holder), so nobody loses what they touched today. ``open_items`` are every open item; the
    router's load counts them.
    """
    items = {i.id: i for i in open_items if i.is_open and i.assignee is not None}
    return _relieve(items, router, now, None)


def over_capacity_reading(
    open_items_of: Callable[[Collection[str]], Iterable[StoredItem]], router: Router, now: datetime
) -> Reconciliation:
    """``over_capacity`` over every open item, reading only the queues it moves items from:
    ``open_items_of(holders)`` gives those holders' open items, asked before each pass for the
    holders then beyond their reach and not read yet.

    The same moves, provided ``router.load`` counts the open items ``open_items_of`` reads
    (``open_load``, in the same transaction): a holder the router counts within their reach
    has at most that many items, so no item of theirs is past it, however many are read; and
    one the first pass fills past their reach is read before the second. A holder's queue is
    sorted by ``priority_key``, a total order, so which items are past the reach does not
    depend on the order they are read in. At 1M encounters reading every open item was 4.4 s
    of a next-day sync whose moves touched a few queues.
    """
    return _relieve({}, router, now, open_items_of)


def _relieve(
    items: dict[str, StoredItem],
    router: Router,
    now: datetime,
    read: Callable[[Collection[str]], Iterable[StoredItem]] | None,
) -> Reconciliation:
    transitions: list[Transition] = []
    read_for: set[str] = set()
    if router.pooled:
        for rule in (RoutingRule.SPARE_TODAY, RoutingRule.OVER_CAPACITY):
            if read is not None:
                wanted = [h for h in _holders_beyond_reach(router) if h not in read_for]
                read_for.update(wanted)
                for item in read(wanted) if wanted else ():
                    if item.is_open and item.assignee is not None:
                        items.setdefault(item.id, item)  # a moved item keeps its move
            for holder, beyond in _beyond_reach(items.values(), router):
                for item in beyond:
                    if item.role == Role.CLINICIAN or not _may_move(item, rule, router, now):
                        continue
                    if rule == RoutingRule.SPARE_TODAY:
                        target = router.spare(item.role, item.clinician, holder)
                    else:
                        target = router.relieve(item.role, item.clinician, holder)
                    if target is None:
                        continue
                    router.move(holder, target, ready=not item.waiting)
                    moved = replace(item, assignee=target, reason=rule, updated_at=now)
                    items[item.id] = moved
                    transitions.append(
                        Transition(Change.REASSIGNED, moved, previous_assignee=holder)
                    )
    return Reconciliation(now, tuple(transitions), (), 0)


def _holders_beyond_reach(router: Router) -> list[str]:
    """Roster people the router counts more open items for than their reach."""
    return [
        person.id
        for person in router.by_id.values()
        if router.load.get(person.id, 0) > _whole(router.reach(person))
    ]


def _beyond_reach(
    items: Iterable[StoredItem], router: Router
) -> list[tuple[str, list[StoredItem]]]:
    """Per holder on the roster (by id), their open items past their reach in priority order."""
    mine: dict[str, list[StoredItem]] = defaultdict(list)
    for item in items:
        if item.assignee is not None:
            mine[item.assignee].append(item)
    out = []
    for holder in sorted(mine):
        person = router.by_id.get(holder)
        if person is None:
            continue  # left the roster: the sync re-routes their items as their charts change
        queue = sorted(mine[holder], key=priority_key)
        out.append((holder, queue[_whole(router.reach(person)) :]))
    return out


def worked_today(item: StoredItem, router: Router) -> bool:
    """Whether the item changed on the router's day (the practice's calendar day)."""
    return item.updated_at is not None and router.local_day(item.updated_at) == router.day


def _may_move(item: StoredItem, rule: RoutingRule, router: Router, now: datetime) -> bool:
    """Whether a pass of ``over_capacity`` may move the item: never one that changed today
    (its holder may have worked on it). For ``spare today`` it must be doable now, and one
    this very run opened may move: nobody has seen it yet, so a better first placement takes
    nothing from anyone."""
    if rule == RoutingRule.SPARE_TODAY:
        if item.waiting:
            return False
        if item.opened_at == now == item.updated_at:
            return True
    return not worked_today(item, router)


def anyone_beyond_reach(router: Router) -> bool:
    """Whether ``over_capacity`` may move anything: routing pools overflow and someone on the
    roster holds more open items than their reach (``router.load`` counts them all, from
    ``open_load``). When nobody does, every holder's queue ends within their reach, so neither
    of its passes finds an item to move."""
    return router.pooled and bool(_holders_beyond_reach(router))


def _whole(reach: float) -> int:
    """Items within a reach of ``reach``: a fraction of a day's capacity still reaches one."""
    return max(0, int(-(-reach // 1)))


def chart_after(outcome: ChartOutcome, old: StoredChart | None, now: datetime) -> StoredChart:
    """The chart's row after this classification: its state, and the first time it was open
    and when it last closed (kept from the stored row while they still hold)."""
    verdict = outcome.verdict
    if verdict.is_chart:
        state = ChartState.OPEN if verdict.blockers else ChartState.CLOSED
    elif verdict.is_future:
        state = ChartState.FUTURE
    else:
        state = ChartState.NOT_CHART
    first_open = old.first_open_at if old else None
    closed_at = old.closed_at if old else None
    if state == ChartState.OPEN:
        first_open = first_open or now
        closed_at = None
    elif state == ChartState.CLOSED and (old is None or old.state != ChartState.CLOSED):
        closed_at = now
    return StoredChart(
        encounter=verdict.encounter,
        state=state,
        clinician=outcome.clinician,
        visit_at=verdict.visit_at,
        start_at=outcome.start_at,
        first_open_at=first_open,
        closed_at=closed_at,
        blocker_count=len(verdict.blockers),
    )
