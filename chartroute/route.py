"""Who takes each blocker: the role, the person, and who covers for them when they are away.

This is the one place those three are decided. Pure like ``classify``: the roster, the current
load per person and the as-of day are inputs.

- **Role** (``role_for``): per category from ``routing.categories``; a documentation gap per
  missing field from ``routing.documentation_fields`` (``forms`` for any required form).
- **Person** (``Router.assign``): clinical items follow the chart's rendering clinician; staff
  items stay with the person who has them (so a re-sync does not shuffle work) unless that
  person left the role or is away, else go to the clinician's pod member for the role, else to
  the least-loaded person in the role (open items ÷ daily capacity, ties broken by name).
- **Cover** (``Router.cover``): anyone out of office hands over along their backup chain.
  Routing uses it to place an item, and escalation (``chartroute.escalate.Directory``) asks the
  same router who reads a notice, so an item and the notices about it reach the same person.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chartroute.classify import ChartVerdict
from chartroute.config.models import Person, PracticeConfig, Routing
from chartroute.fhir.resolve import npi_key
from chartroute.vocabulary import Category, Role, gap_key


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


class Router:
    """Assigns blockers to people and says who covers for whom, keeping a running load so one
    run balances itself."""

    def __init__(
        self,
        config: PracticeConfig,
        as_of: datetime,
        load: Mapping[str, int] | None = None,
    ) -> None:
        self.config = config
        self.day = as_of.date()
        self.load: dict[str, int] = {p.id: 0 for p in config.roster}
        for person_id, count in (load or {}).items():
            if person_id in self.load:
                self.load[person_id] = count
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
            assignee = self.assign(role, clinician, existing)
            if assignee is not None and assignee != existing:
                self.load[assignee] = self.load.get(assignee, 0) + 1
                if existing in self.load:
                    self.load[existing] = max(0, self.load[existing] - 1)
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
                )
            )
        return items

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
        if role == Role.CLINICIAN:
            return self.cover(clinician.id) if clinician else None
        holder = self.by_id.get(current or "")
        if holder is not None and _takes(holder, role) and not holder.is_away(self.day):
            return holder.id
        in_role = [p for p in self.config.roster if _takes(p, role)]
        if not in_role:
            return None  # nobody takes the role's items: unassigned, for the sweep to raise
        pod = [p for p in in_role if clinician is not None and clinician.id in p.pod]
        for pool in (pod, in_role):
            present = [p for p in pool if not p.is_away(self.day)]
            if present:
                return self._least_loaded(present).id
        return self.cover(self._least_loaded(pod or in_role).id)

    def _least_loaded(self, people: Iterable[Person]) -> Person:
        return min(people, key=lambda p: (self.load.get(p.id, 0) / p.daily_capacity, p.name, p.id))

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


def priority_key(item: WorkItem) -> tuple[float, float, float, str]:
    """Sort key: oldest visit first, then larger billing impact, then nearest filing deadline."""
    visit = item.visit_at.timestamp() if item.visit_at else float("inf")
    billing = -(item.billing_impact or 0.0)
    deadline = item.filing_deadline.toordinal() if item.filing_deadline else float("inf")
    return (visit, billing, deadline, item.id)


def age_days(visit_at: datetime | None, as_of: datetime) -> int | None:
    """Whole days since the visit."""
    if visit_at is None:
        return None
    return max(0, (as_of - visit_at).days)
