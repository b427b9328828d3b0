"""One evening's work: every person works their list within their day's capacity.

Both policies share the clinicians' order of work (oldest visit first) and the cost of every
action, so the difference between them is who holds the administrative blockers, nothing else:

- **manual chasing**: every open chart sits on its clinician's list; each administrative
  blocker costs the clinician ``chase_minutes`` every ``recheck_days`` to find out what it
  waits on and ask for it; once its outside part has arrived the clinician hands it to staff
  (or, if nobody in the role has capacity, does it themselves);
- **routing**: staff hold the administrative work items the sync routed to them and close them
  in their worklist's priority order; clinicians hold only the clinical ones. An item nobody
  could take (no capacity in its role) is unassigned and falls back to manual chasing by the
  chart's clinician, which is what a practice without that role does.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from chartroute.config.models import PracticeConfig
from chartroute.simulate.assumptions import SimAssumptions
from chartroute.simulate.items import SimItem
from chartroute.simulate.world import World
from chartroute.vocabulary import Category, Role

Policy = Literal["manual", "routed"]
ItemKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Holding:
    """Who the routing pipeline says holds an open item, and its place in their worklist."""

    assignee: str | None
    priority: int


@dataclass(slots=True)
class Workday:
    """What one evening's work came to (counts and minutes; no chart content)."""

    minutes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    after_hours: dict[str, float] = field(default_factory=dict)
    chase_minutes: float = 0.0
    clinician_did_admin: int = 0
    staff_done: int = 0
    asked_again: int = 0
    signed: list[SimItem] = field(default_factory=list)


class Practice:
    """The people of the simulated practice: clinicians by provider, staff by role."""

    def __init__(self, config: PracticeConfig, assumptions: SimAssumptions) -> None:
        self.config = config
        self.a = assumptions
        self.clinician_of: dict[int, str] = {}
        for person in config.roster:
            if Role.CLINICIAN in person.roles and person.practitioner:
                number = person.practitioner.rsplit("-", 1)[-1]
                if number.isdigit():
                    self.clinician_of[int(number) - 1] = person.id
        self.clinicians = sorted(set(self.clinician_of.values()))
        self.capacity = {p.id: p.daily_capacity for p in config.roster}
        self.role_capacity: dict[str, float] = defaultdict(float)
        for person in config.roster:
            if Role.CLINICIAN not in person.roles:
                for role in person.roles:
                    self.role_capacity[role] += person.daily_capacity

    def cost(self, item: SimItem) -> float:
        """Clinician minutes for a clinical item."""
        if item.category == Category.UNSIGNED_NOTE:
            return self.a.note_minutes
        if item.category == Category.CODING_QUERY:
            return self.a.coding_query_minutes
        return self.a.field_minutes


class WorkPhase:
    """Runs one evening of work for a policy over the world's open items."""

    def __init__(self, world: World, practice: Practice, days: Sequence[date]) -> None:
        self.world = world
        self.practice = practice
        self.days = list(days)

    def day_number(self, moment: datetime) -> int:
        """The clinic day a moment falls on (a weekend moment counts as the next clinic day)."""
        return bisect.bisect_left(self.days, moment.date())

    def run(
        self,
        policy: Policy,
        n: int,
        now: datetime,
        known: Sequence[SimItem],
        holdings: Mapping[ItemKey, Holding] | None = None,
    ) -> Workday:
        """Everyone's work on day ``n`` at ``now`` over the ``known`` open items."""
        work = Workday()
        lists = self.clinician_lists(policy, known, holdings or {})
        for clinician in self.practice.clinicians:
            self._clinician_evening(clinician, lists.get(clinician, []), policy, n, now, work)
        if policy == "manual":
            self._manual_staff(known, now, work)
        else:
            self._routed_staff(known, holdings or {}, n, now, work)
        return work

    def clinician_lists(
        self, policy: Policy, known: Sequence[SimItem], holdings: Mapping[ItemKey, Holding]
    ) -> dict[str, list[SimItem]]:
        """Each clinician's list: what they must act on (or chase), oldest visit first."""
        lists: dict[str, list[SimItem]] = defaultdict(list)
        for item in known:
            owner = self.practice.clinician_of.get(self.world.chart_of(item).story.provider)
            if policy == "manual":
                holder = owner
            else:
                held = holdings.get(item.key)
                if held is None:
                    continue  # the pipeline does not know it: nobody does (counted as mismatch)
                holder = held.assignee if held.assignee is not None else owner
                if item.kind == "admin" and held.assignee is not None:
                    continue  # staff hold it
            if holder is not None:
                lists[holder].append(item)
        for items in lists.values():
            items.sort(key=lambda i: (self.world.chart_of(i).story.start, i.key))
        return lists

    def _clinician_evening(
        self,
        clinician: str,
        items: list[SimItem],
        policy: Policy,
        n: int,
        now: datetime,
        work: Workday,
    ) -> None:
        a = self.practice.a
        budget = a.clinician_day_minutes
        used = 0.0
        evening_end = now.replace(hour=23, minute=59)
        for item in items:
            if item.kind == "clinical":
                if not item.arrived_by(evening_end):
                    continue  # not yet: the clinician gets to it when their habit says
                cost = self.practice.cost(item)
                if used + cost > budget:
                    break
                used += cost
                item.done = self._stamp(now, used)
                if item.category == Category.UNSIGNED_NOTE:
                    work.signed.append(item)
                continue
            if item.passed_to_staff or (
                item.last_look is not None and n - item.last_look < a.recheck_days
            ):
                continue
            if used + a.chase_minutes > budget:
                break
            used += a.chase_minutes
            work.chase_minutes += a.chase_minutes
            item.last_look = n
            if not item.arrived_by(now):
                if item.arrives is None and n - self.day_number(item.appears) >= a.chase_after_days:
                    self.world.ask_again(item, now)
                    work.asked_again += 1
                continue
            staffed = policy == "manual" and self.practice.role_capacity[item.role] >= 1
            if staffed:
                item.passed_to_staff = True
                continue
            if used + a.clinician_handle_minutes > budget:
                break
            used += a.clinician_handle_minutes
            item.done = self._stamp(now, used)
            work.clinician_did_admin += 1
        work.minutes[clinician] = used
        work.after_hours[clinician] = max(0.0, used - a.clinic_chart_minutes)

    def _manual_staff(self, known: Sequence[SimItem], now: datetime, work: Workday) -> None:
        """Staff do what clinicians handed them, first handed first done, per role."""
        left = {role: math.floor(cap) for role, cap in self.practice.role_capacity.items()}
        queue = [i for i in known if i.passed_to_staff and i.done is None]
        queue.sort(key=lambda i: (self.world.chart_of(i).story.start, i.key))
        for item in queue:
            if left.get(item.role, 0) >= 1:
                left[item.role] -= 1
                item.done = now + timedelta(minutes=1)
                work.staff_done += 1

    def _routed_staff(
        self,
        known: Sequence[SimItem],
        holdings: Mapping[ItemKey, Holding],
        n: int,
        now: datetime,
        work: Workday,
    ) -> None:
        """Each staff member works their routed worklist in priority order."""
        queues: dict[str, list[tuple[int, SimItem]]] = defaultdict(list)
        for item in known:
            held = holdings.get(item.key)
            if item.kind == "admin" and held is not None and held.assignee is not None:
                queues[held.assignee].append((held.priority, item))
        a = self.practice.a
        for person, queue in sorted(queues.items()):
            left = math.floor(self.practice.capacity.get(person, 0))
            for _, item in sorted(queue, key=lambda pair: (pair[0], pair[1].key)):
                if left < 1:
                    break
                if item.arrived_by(now):
                    item.done = now + timedelta(minutes=1)
                    work.staff_done += 1
                    left -= 1
                elif (
                    item.arrives is None and n - self.day_number(item.appears) >= a.chase_after_days
                ):
                    self.world.ask_again(item, now)
                    work.asked_again += 1
                    left -= 1

    def _stamp(self, now: datetime, used: float) -> datetime:
        """When a clinician's action lands in the EHR: in clinic, or that evening."""
        if used <= self.practice.a.clinic_chart_minutes:
            return now + timedelta(minutes=1)
        return now + timedelta(hours=2)
