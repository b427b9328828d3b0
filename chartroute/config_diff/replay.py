"""Classify and route the stored charts under one practice file, as the next sync would.

Nothing is written: the facts, the stored work items and their holders are read, and the pure
``classify_chart``, ``Router`` and ``lifecycle.decide`` say what a sync under the file would
leave open and with whom. The router keeps each staff item with the person holding it unless
they left the role or are away (a re-sync does not shuffle work), exactly as a sync does, so
the replay shows what would really move, not what a fresh routing would do; and, like a sync
under ``routing.overflow: pool``, it then moves the staff items queued beyond their holders'
reach (``lifecycle.over_capacity``), so a change of capacity or overflow shows those moves too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select

from chartroute.classify import classify_chart
from chartroute.config.models import PracticeConfig
from chartroute.lifecycle import (
    StoredItem,
    decide,
    holders,
    over_capacity,
    routed_outcome,
)
from chartroute.route import Router
from chartroute.store import facts as fact_store
from chartroute.store import work_items as item_store
from chartroute.store.batching import chunks
from chartroute.store.schema import fact
from chartroute.vocabulary import WORK_ROLES, Role

BATCH = 1000


@dataclass
class Replay:
    """What a sync under one practice file would leave: open items, and who gets new ones."""

    charts: int = 0
    open_items: dict[str, StoredItem] = field(default_factory=dict)
    #: (clinician id, role) → who a new item of that role on that clinician's chart would go to.
    first_choice: dict[tuple[str, str], str | None] = field(default_factory=dict)


def stored_encounters(conn: Connection) -> list[str]:
    """The keys of every stored Encounter (a contained one is not a chart), sorted."""
    keys = conn.execute(
        select(fact.c.key).where(fact.c.resource_type == "Encounter").order_by(fact.c.key)
    ).scalars()
    return [k for k in keys if "#" not in k]


def replay(conn: Connection, config: PracticeConfig, as_of: datetime) -> Replay:
    """Route every stored chart under ``config`` as of ``as_of``; reads only."""
    load = item_store.open_load(conn)
    router = Router(config, as_of, load)
    out = Replay(first_choice=first_choices(config, as_of, load))
    for batch in chunks(stored_encounters(conn), BATCH):
        charts = fact_store.load_charts(conn, batch)
        stored = item_store.items_for(conn, batch)
        current = holders(stored.values())
        outcomes = []
        for key in batch:
            chart = charts.get(key)
            if chart is None:
                continue
            verdict = classify_chart(chart, config.charts, config.documentation, as_of)
            outcomes.append(routed_outcome(router, verdict, chart.encounter.start_at, current))
            out.charts += verdict.is_chart
        after = dict(stored)
        for transition in decide(
            outcomes, stored, item_store.charts_for(conn, batch), as_of
        ).transitions:
            after[transition.item.id] = transition.item
        out.open_items.update({i: item for i, item in after.items() if item.is_open})
    held = [i.assignee for i in out.open_items.values() if i.assignee is not None]
    ready = [i.assignee for i in out.open_items.values() if i.assignee and not i.waiting]
    for moved in over_capacity(
        out.open_items.values(), Router(config, as_of, Counter(held), Counter(ready)), as_of
    ).transitions:
        out.open_items[moved.item.id] = moved.item
    return out


def first_choices(
    config: PracticeConfig, as_of: datetime, load: dict[str, int]
) -> dict[tuple[str, str], str | None]:
    """Who a new item of each role on each clinician's chart would go to, given today's load."""
    router = Router(config, as_of, load)
    clinicians = [p for p in config.roster if Role.CLINICIAN in p.roles]
    return {
        (clinician.id, str(role)): router.assign(role, clinician, None)
        for clinician in clinicians
        for role in WORK_ROLES
        if any(role in p.roles for p in config.roster)
    }
