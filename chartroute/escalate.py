"""Escalation, decided purely: open work items + policy + business clock + now → events.

The words, as the code uses them: *escalation* is the whole idea — a work item that stays open
climbs a *ladder* of tiers (its policy, ``chartroute.config.escalation``) and each step it
takes is an *escalation event* (``EscalationEvent``: escalated, repeated or delinquent) told
to people. A *sweep* is one pass over every open item at one instant: ``chartroute.sweep``
runs it against the store, as the ``chartroute-escalate`` flow and ``chartroute sweep`` do.
This module decides; it never reads or writes.

For each open item the ladder of its policy (``chartroute.config.escalation``) is laid out on
the practice's business clock from the item's *clock start* — when it opened, or, under
``on_reassign: restart``, when it was last reassigned. A sweep at ``now``:

- moves the item to the highest tier whose threshold has passed and emits one ``escalated``
  event for that tier (tiers passed between two sweeps are not sent one by one: the highest
  tier's people are the ones who must act now);
- otherwise, on a tier with a repeat interval, emits a ``repeated`` event when another whole
  interval has passed since the tier was reached (again only the latest one);
- emits one ``delinquent`` event per open spell once the delinquency threshold has passed.

Every event is named by a *step* (``"<epoch>.t<level>"``, ``"<epoch>.t<level>.r<n>"``,
``"<epoch>.delinquent"``) that is unique for the item, and each carries the instant its policy
made it due, never earlier than its threshold. The state that comes back records how far the
item got, so a second sweep at the same instant emits nothing, and the level never goes down
while the item stays open: it starts again from zero only when a closed item reopens (a new
*epoch*). Recipients are resolved on the sweep's day by the router (``Router.cover``), the
same out-of-office chain that places work items: anyone away is replaced by their backup
(followed along the chain); when everyone on the chain is away the notice still goes to the
first person, to wait for their return.

No I/O, no clock of its own: the caller passes everything in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

from chartroute.business_time import BusinessClock
from chartroute.config.escalation import EscalationConfig, EscalationPolicy, Target
from chartroute.config.models import PracticeConfig
from chartroute.route import Router
from chartroute.vocabulary import Category, Role


@dataclass(frozen=True, slots=True)
class LadderItem:
    """An open work item as its ladder sees it: whom it concerns and when its clock started
    (identifiers and instants only)."""

    id: str
    category: Category
    subject: str
    role: Role
    assignee: str | None
    clinician: str | None
    visit_at: datetime | None
    open_since: datetime  # when the current open spell began (opened or reopened)
    assigned_since: datetime  # when the current assignee got it (≥ open_since)


@dataclass(frozen=True, slots=True)
class LadderState:
    """Where an item stands on its ladder after a sweep."""

    epoch: int
    open_since: datetime
    assignee: str | None
    clock_start: datetime
    level: int = 0
    tier: str | None = None
    tier_at: datetime | None = None
    repeats: int = 0
    delinquent: bool = False
    next_at: datetime | None = None
    next_step: str | None = None
    last_event_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person told of an escalation, for which target, standing in for whom."""

    person: str
    target: Target
    covering: str | None = None  # the person away this one stands in for


@dataclass(frozen=True, slots=True)
class EscalationEvent:
    """One step of one item's ladder: which step, due when, told to whom (a row of the
    ``escalation_event`` audit trail once recorded)."""

    work_item_id: str
    step: str
    kind: str  # escalated | repeated | delinquent
    level: int
    tier: str | None
    due_at: datetime
    assignee: str | None
    recipients: tuple[Recipient, ...]
    urgent: bool | None


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one item's sweep: its new state and what to send now."""

    item_id: str
    state: LadderState
    escalations: tuple[EscalationEvent, ...]


class Directory:
    """Who the targets of a tier are, from the roster and the escalation config; who covers
    for someone away is the router's answer, so notices follow the items' own cover chain."""

    def __init__(self, router: Router) -> None:
        self.router = router
        config = router.config
        escalation = config.escalation
        managers = sorted(p.id for p in config.roster if Role.MANAGER in p.roles)
        self._managers: dict[str, list[str]] = {
            role: list(ids) for role, ids in escalation.managers.items()
        }
        self._default_managers = managers
        self._directors = list(escalation.medical_directors) or sorted(
            p.id for p in config.roster if Role.MEDICAL_DIRECTOR in p.roles
        )

    def targets(self, target: Target, item: LadderItem) -> list[str]:
        """Person ids a target names for this item, before out-of-office cover."""
        if target == "assignee":
            return [item.assignee] if item.assignee else []
        if target == "clinician":
            return [item.clinician] if item.clinician else []
        if target == "manager":
            return self._managers.get(item.role, self._default_managers)
        return self._directors

    def recipients(
        self, targets: Iterable[Target], item: LadderItem, day: date
    ) -> tuple[Recipient, ...]:
        """Everyone to tell, once each, in the order the policy lists the targets."""
        out: dict[str, Recipient] = {}
        for target in targets:
            for person_id in self.targets(target, item):
                reader = self.router.cover(person_id, day)
                if reader not in out:
                    covering = person_id if reader != person_id else None
                    out[reader] = Recipient(reader, target, covering)
        return tuple(out.values())


def start_state(item: LadderItem, policy: EscalationPolicy, epoch: int = 0) -> LadderState:
    """The state of an item at the start of an open spell (nothing sent yet)."""
    restart = policy.on_reassign == "restart"
    return LadderState(
        epoch=epoch,
        open_since=item.open_since,
        assignee=item.assignee,
        clock_start=item.assigned_since if restart else item.open_since,
    )


def carried_state(
    item: LadderItem, state: LadderState | None, policy: EscalationPolicy
) -> LadderState:
    """The stored state brought up to the item as it is now: a new spell if it reopened, a
    restarted clock if it was reassigned under ``restart``, else the same ladder."""
    if state is None:
        return start_state(item, policy)
    if state.open_since != item.open_since:
        return replace(
            start_state(item, policy, state.epoch + 1), last_event_at=state.last_event_at
        )
    if policy.on_reassign == "restart" and item.assigned_since > state.clock_start:
        restarted = state.tier_at is not None
        return replace(
            state,
            epoch=state.epoch + 1,
            assignee=item.assignee,
            clock_start=item.assigned_since,
            tier_at=item.assigned_since if restarted else None,
            repeats=0,
        )
    return state if state.assignee == item.assignee else replace(state, assignee=item.assignee)


def tier_due_times(
    clock: BusinessClock, policy: EscalationPolicy, clock_start: datetime
) -> list[datetime]:
    """When each tier is reached; never earlier than the tier before it."""
    dues: list[datetime] = []
    for tier in policy.tiers:
        due = clock.add(clock_start, tier.after)
        dues.append(max(due, dues[-1]) if dues else due)
    return dues


def delinquent_at(
    clock: BusinessClock, policy: EscalationPolicy, item: LadderItem
) -> datetime | None:
    """When the item's chart becomes delinquent (counted from the visit), if the policy says."""
    if policy.delinquency is None:
        return None
    return clock.add(item.visit_at or item.open_since, policy.delinquency.after)


def escalate_item(
    item: LadderItem,
    stored: LadderState | None,
    policy: EscalationPolicy,
    directory: Directory,
    clock: BusinessClock,
    now: datetime,
) -> Decision:
    """Decide one open item at ``now``: its new state and the escalations due."""
    state = carried_state(item, stored, policy)
    day = clock.local_date(now)
    tiers = policy.tiers
    dues = tier_due_times(clock, policy, state.clock_start)
    events: list[EscalationEvent] = []

    def emit(
        step: str, kind: str, due_at: datetime, targets: Iterable[Target], urgent: bool | None
    ) -> None:
        events.append(
            EscalationEvent(
                work_item_id=item.id,
                step=f"{state.epoch}.{step}",
                kind=kind,
                level=state.level,
                tier=state.tier,
                due_at=due_at,
                assignee=item.assignee,
                recipients=directory.recipients(targets, item, day),
                urgent=urgent,
            )
        )

    reached = sum(1 for due in dues if due <= now)
    current = tiers[state.level - 1] if 0 < state.level <= len(tiers) else None
    if reached > state.level:
        tier, tier_at = tiers[reached - 1], dues[reached - 1]
        # repeats that fell due before this (late) sweep are covered by the escalation itself
        missed = clock.count(tier_at, now, tier.repeat_every) if tier.repeat_every else 0
        state = replace(state, level=reached, tier=tier.name, tier_at=tier_at, repeats=missed)
        emit(f"t{reached}", "escalated", tier_at, tier.notify, tier.urgent)
    elif current is not None and current.repeat_every is not None and state.tier_at is not None:
        tier_at = state.tier_at
        count = clock.count(tier_at, now, current.repeat_every)
        if count > state.repeats:
            state = replace(state, repeats=count)
            due = clock.add(tier_at, current.repeat_every, count)
            emit(f"t{state.level}.r{count}", "repeated", due, current.notify, current.urgent)

    delinquency = policy.delinquency
    delinquent_due = None if state.delinquent else delinquent_at(clock, policy, item)
    if delinquency is not None and delinquent_due is not None and delinquent_due <= now:
        state = replace(state, delinquent=True)
        emit("delinquent", "delinquent", delinquent_due, delinquency.notify, delinquency.urgent)
        delinquent_due = None

    next_at, next_step = _next_step(clock, policy, state, dues, delinquent_due)
    if events or (next_at, next_step) != (state.next_at, state.next_step):
        state = replace(
            state,
            next_at=next_at,
            next_step=next_step,
            last_event_at=now if events else state.last_event_at,
        )
    return Decision(item.id, state, tuple(events))


def _next_step(
    clock: BusinessClock,
    policy: EscalationPolicy,
    state: LadderState,
    dues: list[datetime],
    delinquent_due: datetime | None,
) -> tuple[datetime | None, str | None]:
    """The soonest of: the next tier, the current tier's next repeat, delinquency."""
    tiers = policy.tiers
    candidates: list[tuple[datetime, str]] = []
    if state.level < len(tiers):
        candidates.append((dues[state.level], tiers[state.level].name))
    if 0 < state.level <= len(tiers) and state.tier_at is not None:
        repeat = tiers[state.level - 1].repeat_every
        if repeat is not None:
            due = clock.add(state.tier_at, repeat, state.repeats + 1)
            candidates.append((due, f"{tiers[state.level - 1].name} again"))
    if delinquent_due is not None:
        candidates.append((delinquent_due, "delinquent"))
    if not candidates:
        return None, None
    return min(candidates)


def escalate_items(
    items: Iterable[LadderItem],
    states: Mapping[str, LadderState],
    config: PracticeConfig,
    clock: BusinessClock,
    now: datetime,
    directory: Directory | None = None,
) -> list[Decision]:
    """Decide every open item at ``now`` (nothing when escalation is disabled)."""
    escalation: EscalationConfig = config.escalation
    if not escalation.enabled:
        return []
    directory = directory or Directory(Router(config, now))
    return [
        escalate_item(
            item,
            states.get(item.id),
            escalation.policy_for(item.category, item.subject),
            directory,
            clock,
            now,
        )
        for item in items
    ]


def clock_for(config: PracticeConfig) -> BusinessClock:
    """The business clock of the practice's timezone and calendar."""
    return BusinessClock(config.practice.timezone, config.practice.calendar)
