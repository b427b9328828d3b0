"""A sweep: one pass of escalation over every open work item at one instant, in the store.

*Escalation* is the domain (policies, ladders, events: ``chartroute.escalate`` names them);
a *sweep* is only ever this pass. The ``chartroute-escalate`` flow in ``flows/escalate.py``
runs it as one Prefect task, and ``chartroute sweep`` runs that flow. It reads open items,
decides, records and enqueues a batch of items at a time, each batch in one transaction that

1. locks out concurrent writers of those items (a sync closing one of them waits, or has
   already committed and the item is no longer read as open),
2. reads the items, the times their open spell and assignment began, and their ladder state,
3. decides with the pure ``chartroute.escalate``,
4. writes the changed states and the new escalation events to the audit trail, enqueues the
   notifications of the new ones in the outbox (``chartroute.notify.outbox.enqueue``).

So an escalation event is recorded and announced together or not at all, and a re-run — a
retried task, a second server, the same ``--as-of`` twice — finds its steps already recorded
and sends nothing again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from chartroute.business_time import BusinessClock
from chartroute.config.models import PracticeConfig
from chartroute.counts import Counts
from chartroute.escalate import Directory, EscalationEvent, clock_for, escalate_items
from chartroute.mode import current_mode
from chartroute.notify.outbox import Notice, enqueue
from chartroute.route import Router
from chartroute.store import escalations as store

SWEEP_BATCH = 1000
#: The outbox event of every escalation notice; the step tells them apart.
NOTICE_EVENT = "escalated"


@dataclass
class SweepCounts(Counts):
    """What one sweep did (identifiers and counts only)."""

    items: int = 0  # open items looked at
    escalated: int = 0  # items moved up a tier
    repeated: int = 0  # reminders on the same tier
    delinquent: int = 0  # items that became delinquent
    notifications: int = 0  # outbox rows enqueued
    unrouted: int = 0  # escalations with nobody to tell (no assignee, no manager on the roster)
    states: int = 0  # ladder states written
    settled: int = 0  # ladders stopped because their item closed
    by_tier: dict[str, int] = field(default_factory=dict)  # escalations per tier ("kind/tier")
    mode: str = ""  # shadow: escalations recorded, their notices never sent; or live

    def count(self, escalations: list[EscalationEvent]) -> None:
        kinds = Counter(e.kind for e in escalations)
        self.escalated += kinds["escalated"]
        self.repeated += kinds["repeated"]
        self.delinquent += kinds["delinquent"]
        self.unrouted += sum(1 for e in escalations if not e.recipients)
        tiers = Counter(f"{e.kind}/{e.tier or '-'}" for e in escalations)
        for key, n in tiers.items():
            self.by_tier[key] = self.by_tier.get(key, 0) + n


def notices(escalations: list[EscalationEvent]) -> list[Notice]:
    """One outbox notice per escalation and recipient; the step is the occurrence."""
    return [
        Notice(e.work_item_id, NOTICE_EVENT, e.step, r.person, e.urgent)
        for e in escalations
        for r in e.recipients
    ]


def run_sweep(
    engine: Engine,
    config: PracticeConfig,
    now: datetime,
    run_id: str | None = None,
    *,
    clock: BusinessClock | None = None,
    batch_size: int = SWEEP_BATCH,
    progress: Callable[[int], None] | None = None,
) -> SweepCounts:
    """Sweep every open work item at ``now``; safe to run again at the same instant."""
    if now.tzinfo is None:
        raise ValueError("the sweep's instant must be timezone-aware")
    counts = SweepCounts()
    with engine.begin() as conn:
        counts.settled = store.settle_closed(conn, now)
        counts.mode = str(current_mode(conn, config))
    if not config.escalation.enabled:
        return counts
    clock = clock or clock_for(config)
    directory = Directory(Router(config, now))
    after: str | None = None
    while True:
        with engine.begin() as conn:
            store.lock_for_sweep(conn)
            items = store.open_items_page(conn, after, batch_size)
            if not items:
                break
            stored = store.load_states(conn, [i.id for i in items])
            decisions = escalate_items(items, stored, config, clock, now, directory)
            written, new = store.record(conn, decisions, stored, now, run_id)
            counts.notifications += enqueue(conn, config, notices(new), now, run_id)
        after = items[-1].id
        counts.items += len(items)
        counts.states += written
        counts.count(new)
        if progress is not None:
            progress(len(items))
    return counts
