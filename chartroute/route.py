"""Who takes each blocker: the role, the person, and who covers for them when they are away.

This is the one place those three are decided. Pure like ``classify``: the roster, the current
load per person and the as-of instant (read as the practice's own calendar day) are inputs.

- **Role** (``role_for``): per category from ``routing.categories``; a documentation gap per
  missing field from ``routing.documentation_fields`` (``forms`` for any required form).
- **Person** (``Router.place``): clinical items follow the chart's rendering clinician; staff
  items stay with the person who has them (so a re-sync does not shuffle work) unless that
  person left the role or is away, else go to the clinician's pod member for the role, else to
  the least-loaded person in the role (open items ÷ daily capacity, ties broken by name).
  With ``routing.overflow: pool`` (the default) a person whose open items reach
  ``overflow_after_days`` of their daily capacity is *full*: a pod member who is full does not
  take a new item, which goes to the least-loaded person in the role with room instead; when
  everyone is full the strict rule above applies, as it always does with ``overflow: none``.
  ``Router.relieve`` names who takes an item off a holder queued beyond their reach
  (``lifecycle.over_capacity`` decides which items move).
- **Work that can be done now** (pooled): a person's *ready* load counts their open items
  whose outside part has arrived or that have none, the only work a day's capacity can be
  spent on. ``Router.spare`` names who takes a ready item its holder cannot reach today:
  someone in the role whose ready items are fewer than their reach (``spare today``).
- **Reason**: every placement names its rule (``RoutingRule``: clinician, pod, least-loaded,
  overflow, cover, over capacity, holder), so ``classify``, ``worklist`` and the audit trail
  show why each item sits where it does.
- **Cover** (``Router.cover``): anyone out of office hands over along their backup chain.
  Routing uses it to place an item, and escalation (``chartroute.escalate.Directory``) asks the
  same router who reads a notice, so an item and the notices about it reach the same person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from chartroute.classify import ChartVerdict
from chartroute.config.models import Person, PracticeConfig, Routing
from chartroute.fhir.resolve import npi_key
from chartroute.vocabulary import Category, Role, RoutingRule, gap_key


def work_item_id(encounter: str, category: str, subject: str) -> str:
    """Deterministic id of the work item for (encounter, category, subject)."""
    digest = hashlib.sha256(f"{encounter}\x1f{category}\x1f{subject}".encode()).hexdigest()
    return f"wi-{digest[:20]}"


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One next action on one chart, for one person."""

    id: str
    encounter: str
    category: Category
    subject: str
    role: Role
    assignee: str | None
    evidence: tuple[str, ...]
    detail: str
    visit_at: datetime | None
    billing_impact: float | None
    filing_deadline: date | None
    clinician: str | None  # roster id of the chart's rendering clinician, if known
    reason: RoutingRule = RoutingRule.UNASSIGNED  # the rule that put it with its assignee
    waiting: bool = False  # still waiting on the outside world (ranks after work doable now)


@dataclass(frozen=True, slots=True)
class Placement:
    """Who holds an item, and the rule that put it there."""

    assignee: str | None
    rule: RoutingRule


def role_for(routing: Routing, category: Category, subject: str | None = None) -> Role:
    """The role a blocker of ``category`` about ``subject`` goes to.

    A documentation gap is routed by its missing field (any form by ``forms``), every other
    blocker by its category; one the config leaves out goes to the clinician (DESIGN.md).
    """
    if category == Category.DOCUMENTATION_GAP:
        role = routing.documentation_fields.get(gap_key(subject or ""), Role.CLINICIAN)
    else:
        role = routing.categories.get(category, Role.CLINICIAN)
    return Role(role)  # a member even from a config copied without validation


class Load(dict[str, int]):
    """Open items per person, and (``ready``) how many of them can be done now: their outside
    part has arrived or they have none. Reading both in one place keeps the two counts of a
    router from one moment of the store."""

    def __init__(
        self, counts: Mapping[str, int] | None = None, ready: Mapping[str, int] | None = None
    ) -> None:
        super().__init__(counts or {})
        self.ready: dict[str, int] = dict(ready or {})


class Router:
    """Assigns blockers to people and says who covers for whom, keeping a running load so one
    run balances itself."""

    def __init__(
        self,
        config: PracticeConfig,
        as_of: datetime,
        load: Mapping[str, int] | None = None,
        ready: Mapping[str, int] | None = None,
    ) -> None:
        self.config = config
        self.tz = ZoneInfo(config.practice.timezone)
        self.day = self.local_day(as_of)
        self.pooled = config.routing.overflow == "pool"
        self.load: dict[str, int] = {p.id: 0 for p in config.roster}
        for person_id, count in (load or {}).items():
            if person_id in self.load:
                self.load[person_id] = count
        if ready is None and isinstance(load, Load):
            ready = load.ready
        # work doable now per person; without a count every open item is taken as ready
        source = self.load if ready is None else ready
        self.ready: dict[str, int] = {p: min(n, source.get(p, 0)) for p, n in self.load.items()}
        self.by_id = {p.id: p for p in config.roster}
        self.by_practitioner = {p.practitioner: p for p in config.roster if p.practitioner}
        for p in config.roster:
            if p.npi:
                self.by_practitioner.setdefault(npi_key(p.npi), p)

    def route(
        self, verdict: ChartVerdict, current: Mapping[str, str | None] | None = None
    ) -> list[WorkItem]:
        """Work items for an open chart's blockers; ``current`` maps item id → assignee now."""
        clinician = self.clinician_of(verdict)
        billing = self._billing_impact(verdict)
        deadline = self._filing_deadline(verdict)
        items = []
        for blocker in verdict.blockers:
            item_id = work_item_id(verdict.encounter, blocker.category, blocker.subject)
            role = role_for(self.config.routing, blocker.category, blocker.subject)
            existing = (current or {}).get(item_id)
            placed = self.place(role, clinician, existing)
            assignee = placed.assignee
            if assignee is not None and assignee != existing:
                self.move(existing, assignee, ready=not blocker.waiting)
            items.append(
                WorkItem(
                    id=item_id,
                    encounter=verdict.encounter,
                    category=blocker.category,
                    subject=blocker.subject,
                    role=role,
                    assignee=assignee,
                    evidence=blocker.evidence,
                    detail=blocker.detail,
                    visit_at=verdict.visit_at,
                    billing_impact=billing,
                    filing_deadline=deadline,
                    clinician=clinician.id if clinician else None,
                    reason=placed.rule,
                    waiting=blocker.waiting,
                )
            )
        return items

    def local_day(self, at: datetime) -> date:
        """The practice's calendar day at the instant ``at`` (a naive instant is UTC): who is
        away, and what was worked on today, are the clinic's days, not UTC's."""
        aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        return aware.astimezone(self.tz).date()

    def clinician_of(self, verdict: ChartVerdict) -> Person | None:
        """The roster entry of the chart's rendering clinician, if they are on the roster: by
        the key the clinician resolved to, else by any key they are known by (role, NPI)."""
        for key in (verdict.rendering_clinician or "", *verdict.clinician_keys):
            person = self.by_practitioner.get(key)
            if person is not None:
                return person
        return None

    def assign(self, role: Role, clinician: Person | None, current: str | None) -> str | None:
        """The person who should hold an item of ``role`` on ``clinician``'s chart."""
        return self.place(role, clinician, current).assignee

    def place(self, role: Role, clinician: Person | None, current: str | None) -> Placement:
        """Who should hold an item of ``role`` on ``clinician``'s chart, and by which rule."""
        if role == Role.CLINICIAN:
            if clinician is None:
                return Placement(None, RoutingRule.UNASSIGNED)
            who = self.cover(clinician.id)
            rule = RoutingRule.CLINICIAN if who == clinician.id else RoutingRule.COVER
            return Placement(who, rule)
        holder = self.by_id.get(current or "")
        if holder is not None and _takes(holder, role) and not holder.is_away(self.day):
            return Placement(holder.id, RoutingRule.HOLDER)
        in_role = [p for p in self.config.roster if _takes(p, role)]
        if not in_role:
            # nobody takes the role's items: unassigned, for the sweep to raise
            return Placement(None, RoutingRule.UNASSIGNED)
        pod = [p for p in in_role if clinician is not None and clinician.id in p.pod]
        pod_in = [p for p in pod if not p.is_away(self.day)]
        role_in = [p for p in in_role if not p.is_away(self.day)]
        if self.pooled and role_in:
            roomy_pod = [p for p in pod_in if self.has_room(p)]
            if roomy_pod:
                return Placement(self._least_loaded(roomy_pod).id, RoutingRule.POD)
            # Someone with room, else (everyone full) whoever is least loaded: a full pod never
            # piles more on one person while another in the role has a shorter queue.
            roomy = [p for p in role_in if self.has_room(p)] or role_in
            chosen = self._least_loaded(roomy)
            if any(p.id == chosen.id for p in pod_in):
                return Placement(chosen.id, RoutingRule.POD)
            rule = RoutingRule.OVERFLOW if pod_in else RoutingRule.LEAST_LOADED
            return Placement(chosen.id, rule)
        # The strict rule (``overflow: none``): the pod member, else the least loaded.
        if pod_in:
            return Placement(self._least_loaded(pod_in).id, RoutingRule.POD)
        if role_in:
            return Placement(self._least_loaded(role_in).id, RoutingRule.LEAST_LOADED)
        return Placement(self.cover(self._least_loaded(pod or in_role).id), RoutingRule.COVER)

    def reach(self, person: Person) -> float:
        """How many open items ``person`` can hold before they are full: the days of work
        ``routing.overflow_after_days`` allows at their daily capacity."""
        return person.daily_capacity * self.config.routing.overflow_after_days

    def has_room(self, person: Person) -> bool:
        """Whether ``person`` can take one more item without passing their reach."""
        return self.load.get(person.id, 0) < self.reach(person)

    def has_time(self, person: Person) -> bool:
        """Whether ``person`` can do one more ready item within their reach: their ready load
        (work doable now) is below it."""
        return self.ready.get(person.id, 0) < self.reach(person)

    def spare(self, role: Role, clinician: str | None, holder: str) -> str | None:
        """Who takes a ready item of ``role`` off ``holder``, who cannot reach it today:
        someone else in the role, in, with fewer ready items than their reach (the chart
        clinician's pod first, the fewest ready items of them). None when nobody (the item
        stays). Never out of the role, never a clinical item, never with ``overflow: none``."""
        if role == Role.CLINICIAN or not self.pooled or holder not in self.by_id:
            return None
        spare = [
            p
            for p in self.config.roster
            if p.id != holder and _takes(p, role) and not p.is_away(self.day) and self.has_time(p)
        ]
        if not spare:
            return None
        pod = [p for p in spare if clinician is not None and clinician in p.pod]
        return self._least_ready(pod or spare).id

    def relieve(self, role: Role, clinician: str | None, holder: str) -> str | None:
        """Who takes an item of ``role`` off ``holder``, queued beyond their reach: someone
        else in the role who is in and has room (the chart clinician's pod first, the least
        loaded of them); when nobody has room, the least loaded if their queue, with the item,
        is still shorter than the holder's without it (in days of capacity), so the full
        queues even out. None when neither (the item stays). Never out of the role, and never
        a clinical item: those follow their chart's clinician."""
        if role == Role.CLINICIAN or not self.pooled or holder not in self.by_id:
            return None
        others = [
            p
            for p in self.config.roster
            if p.id != holder and _takes(p, role) and not p.is_away(self.day)
        ]
        room = [p for p in others if self.has_room(p)]
        if room:
            pod = [p for p in room if clinician is not None and clinician in p.pod]
            return self._least_loaded(pod or room).id
        if not others:
            return None
        least = self._least_loaded(others)
        giver = self.by_id[holder]
        if not _takes(giver, role):
            return least.id  # the holder no longer takes the role: anyone in it is better
        after = (self.load.get(least.id, 0) + 1) / least.daily_capacity
        left = (self.load.get(holder, 0) - 1) / giver.daily_capacity
        return least.id if after < left else None

    def move(self, holder: str | None, to: str, *, ready: bool = False) -> None:
        """Count an item that moved from ``holder`` to ``to`` in the running load (and, for
        a ``ready`` item, in the ready load)."""
        counts = (self.load, self.ready) if ready else (self.load,)
        for count in counts:
            count[to] = count.get(to, 0) + 1
            if holder in count:
                count[holder] = max(0, count[holder] - 1)

    def _least_loaded(self, people: Iterable[Person]) -> Person:
        return min(people, key=lambda p: (self.load.get(p.id, 0) / p.daily_capacity, p.name, p.id))

    def _least_ready(self, people: Iterable[Person]) -> Person:
        return min(
            people,
            key=lambda p: (
                self.ready.get(p.id, 0) / p.daily_capacity,
                self.load.get(p.id, 0) / p.daily_capacity,
                p.name,
                p.id,
            ),
        )

    def cover(self, person_id: str, day: date | None = None) -> str:
        """Who stands in for ``person_id`` on ``day`` (default: the router's as-of day).

        The backup chain is followed while the person on it is away; the first one who is in
        covers. When the chain ends (no backup, or it loops back) with everyone on it away,
        the answer is the person themself: the item waits for its holder's return and the
        notice waits to be read, rather than going to someone nobody asked to cover. An id
        that is not on the roster (an assignee stored before they left it) is its own answer.

        Both callers need exactly this: routing places an item on its holder's cover, and
        escalation tells a notice's reader, who may be an item's stored holder who has since
        left the roster (so an unknown id must not be an error).
        """
        day = self.day if day is None else day
        seen = {person_id}
        current = self.by_id.get(person_id)
        while current is not None and current.is_away(day):
            if current.backup is None or current.backup in seen:
                return person_id
            seen.add(current.backup)
            current = self.by_id.get(current.backup)
        return current.id if current is not None else person_id

    def _billing_impact(self, verdict: ChartVerdict) -> float | None:
        fees = self.config.billing.fee_schedule
        if verdict.level_of_service and verdict.level_of_service in fees:
            return fees[verdict.level_of_service]
        return verdict.claim_total

    def _filing_deadline(self, verdict: ChartVerdict) -> date | None:
        if verdict.visit_at is None:
            return None
        billing = self.config.billing
        days = billing.timely_filing_days.get(
            verdict.insurer or "", billing.default_timely_filing_days
        )
        return verdict.visit_at.date() + timedelta(days=days)


def _takes(person: Person, role: Role) -> bool:
    """Whether ``person`` is routed staff items of ``role`` (a capacity of 0 opts out)."""
    return role in person.roles and person.daily_capacity > 0


class Prioritized(Protocol):
    """What the priority order reads of an item (a routed ``WorkItem`` or a stored one)."""

    @property
    def id(self) -> str: ...
    @property
    def visit_at(self) -> datetime | None: ...
    @property
    def billing_impact(self) -> float | None: ...
    @property
    def filing_deadline(self) -> date | None: ...
    @property
    def waiting(self) -> bool: ...


def priority_key(item: Prioritized) -> tuple[bool, float, float, float, str]:
    """Sort key: work that can be done now first (its outside part has arrived, or it has
    none), then oldest visit, larger billing impact, nearest filing deadline."""
    visit = item.visit_at.timestamp() if item.visit_at else float("inf")
    billing = -(item.billing_impact or 0.0)
    deadline = item.filing_deadline.toordinal() if item.filing_deadline else float("inf")
    return (item.waiting, visit, billing, deadline, item.id)


def age_days(visit_at: datetime | None, as_of: datetime) -> int | None:
    """Whole days since the visit."""
    if visit_at is None:
        return None
    return max(0, (as_of - visit_at).days)
