"""Compose waiting notifications into messages: one digest per person and channel per run.

A digest lists what changed for the person since their last one — counts by event, by
category and by age, the top items by priority (escalations and the oldest first) with age
and due date, links into the EHR — so a sync that opens forty items, or a first sweep that
escalates a backlog of 270, sends one message, not forty or 270. Urgency decides *when* a
message goes, never how many: a run's notifications to one person on one channel become one
message, marked urgent (sent at once) when any of them is; a single urgent notification is
an ``immediate`` message about its item. Outside clinic hours, channels that keep quiet hours
compose nothing (urgent ones too, unless ``urgent_ignores_quiet_hours``, when the urgent ones
alone go out as one message): the notifications wait, and the first run after opening sends
one digest with all of them. Notifications made in shadow mode
are composed the same way into messages marked ``shadow`` (what would have been sent, and
when), which no worker ever claims; they never share a message with live ones.

Composition happens in one transaction under a lock (a PostgreSQL advisory lock; SQLite's
write lock), so two deliver runs at once cannot split a person's digest in two.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text, update

from chartroute.analytics.snapshots import AGE_BUCKETS, UNKNOWN, age_bucket
from chartroute.calendar import BusinessCalendar
from chartroute.config.models import PracticeConfig
from chartroute.counts import Counts
from chartroute.notify.channels import address_for, per_item
from chartroute.notify.content import (
    EVENT_GROUPS,
    GROUP_ORDER,
    ItemLine,
    MessageContent,
    deep_link,
)
from chartroute.route import age_days
from chartroute.store.key_sets import key_in
from chartroute.store.schema import notification, outbox_message, work_item

#: Advisory lock id of the compose step (any constant unique to chartroute will do).
COMPOSE_LOCK = 7_301_946_020


@dataclass
class ComposeCounts(Counts):
    """What one compose pass did."""

    digests: int = 0
    immediate: int = 0
    urgent: int = 0  # of the messages composed, those sent at once (digests or immediate)
    notifications: int = 0  # composed into a message
    held: int = 0  # waiting for clinic hours
    unroutable: int = 0  # channel no longer configured, or no address for the person
    shadow: int = 0  # of the messages composed, those marked shadow (never sent)


def lock_outbox(conn: Connection) -> None:
    """Serialise composers: a transaction-scoped lock released at commit."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": COMPOSE_LOCK})
    else:
        # Any write takes SQLite's database write lock for the rest of the transaction.
        conn.execute(update(outbox_message).where(outbox_message.c.id == -1).values(id=-1))


def compose(
    engine: Engine,
    config: PracticeConfig,
    now: datetime,
    calendar: BusinessCalendar | None = None,
) -> ComposeCounts:
    """Turn waiting notifications into pending messages; returns what it did."""
    calendar = calendar or BusinessCalendar(config.practice.timezone, config.practice.calendar)
    clinic_open = calendar.is_open(now)
    notify = config.notify
    people = {p.id: p for p in config.roster}
    counts = ComposeCounts()
    with engine.begin() as conn:
        lock_outbox(conn)
        groups = _waiting(conn)
        if not groups:
            return counts
        open_totals = _open_totals(conn, sorted({recipient for recipient, _, _ in groups}))
        for (recipient, channel, shadow), ids in groups.items():
            status = "shadow" if shadow else "pending"
            composed = counts.digests + counts.immediate
            cfg = notify.channels.get(channel)
            person = people.get(recipient)
            address = address_for(cfg, person) if cfg is not None and person is not None else None
            if cfg is None or address is None:
                counts.unroutable += len(ids)
                continue
            rows = _notifications(conn, ids)
            items = _items(conn, {r.work_item_id for r in rows})
            quiet = cfg.quiet_hours and not clinic_open
            urgent = [r for r in rows if r.urgent]
            rest = [r for r in rows if not r.urgent]
            if quiet:
                counts.held += len(rest)
                rest = []
                if not notify.urgent_ignores_quiet_hours:
                    counts.held += len(urgent)
                    urgent = []
            if per_item(cfg):
                for row in urgent + rest:
                    kind = "immediate" if row.urgent else "item"
                    content = _content(config, kind, recipient, [row], items, open_totals, now)
                    _store(
                        conn, channel, recipient, address, content, [row], bool(row.urgent),
                        now, status,
                    )  # fmt: skip
                    counts.immediate += 1
                    counts.urgent += bool(row.urgent)
                    counts.notifications += 1
            elif urgent or rest:
                together = sorted(urgent + rest, key=lambda r: r.id)
                kind = "immediate" if len(together) == 1 and urgent else "digest"
                content = _content(config, kind, recipient, together, items, open_totals, now)
                _store(
                    conn, channel, recipient, address, content, together, bool(urgent), now,
                    status,
                )  # fmt: skip
                counts.immediate += kind == "immediate"
                counts.digests += kind == "digest"
                counts.urgent += bool(urgent)
                counts.notifications += len(together)
            if shadow:
                counts.shadow += counts.digests + counts.immediate - composed
    return counts


Group = tuple[str, str, bool]  # recipient, channel, shadow


def _waiting(conn: Connection) -> dict[Group, array[int]]:
    """The ids of the waiting notifications of each person and channel, groups in the order
    of their first notification.

    Only the ids are held for the whole run: a first sync at a large practice notifies of
    80,000 items, and each group's rows and items are read when it is composed.
    """
    n = notification.c
    groups: dict[Group, array[int]] = {}
    rows = conn.execute(
        select(n.id, n.recipient, n.channel, n.shadow).where(n.message_id.is_(None)).order_by(n.id),
        execution_options={"yield_per": 5000},
    )
    for r in rows:
        groups.setdefault((r.recipient, r.channel, bool(r.shadow)), array("q")).append(r.id)
    return groups


def _notifications(conn: Connection, ids: Iterable[int]) -> list[Any]:
    """These notifications, in id order."""
    stmt = select(notification).where(key_in(conn, notification.c.id, ids))
    return list(conn.execute(stmt.order_by(notification.c.id)))


#: The columns of a work item a message shows or ranks by (not its evidence or detail).
_ITEM_COLUMNS = ("id", "encounter", "category", "visit_at", "filing_deadline", "billing_impact")


def _items(conn: Connection, ids: set[str]) -> dict[str, dict[str, Any]]:
    columns = [work_item.c[name] for name in _ITEM_COLUMNS]
    found = conn.execute(select(*columns).where(key_in(conn, work_item.c.id, ids)))
    return {row.id: dict(row._mapping) for row in found}


def _open_totals(conn: Connection, people: list[str]) -> dict[str, int]:
    rows = conn.execute(
        select(work_item.c.assignee, func.count())
        .where(work_item.c.status == "open", key_in(conn, work_item.c.assignee, people))
        .group_by(work_item.c.assignee)
    )
    return {r[0]: int(r[1]) for r in rows}


def _line(row: Any, item: dict[str, Any] | None, template: str | None, now: datetime) -> ItemLine:
    encounter = item["encounter"] if item else "Encounter/unknown"
    deadline = item.get("filing_deadline") if item else None
    return ItemLine(
        id=row.work_item_id,
        event=row.event,
        category=item["category"] if item else "unknown",
        encounter=encounter,
        link=deep_link(template, encounter) if item else None,
        age_days=age_days(item.get("visit_at"), now) if item else None,
        due=deadline.isoformat() if deadline is not None else None,
        urgent=bool(row.urgent),
    )


def _priority(line: ItemLine, item: dict[str, Any] | None) -> tuple[Any, ...]:
    """Urgent first, then escalations, then the worklist's order: oldest visit, billing
    impact, deadline."""
    visit = item.get("visit_at") if item else None
    return (
        not line.urgent,
        line.event != "escalated",
        visit.timestamp() if visit else float("inf"),
        -((item or {}).get("billing_impact") or 0.0),
        line.due or "9999-12-31",
        line.id,
    )


def _content(
    config: PracticeConfig,
    kind: str,
    recipient: str,
    rows: list[Any],
    items: dict[str, dict[str, Any]],
    open_totals: dict[str, int],
    now: datetime,
) -> MessageContent:
    latest: dict[str, Any] = {}
    for row in rows:  # in id order: the latest event of an item is what the person sees
        latest[row.work_item_id] = row
    template = config.practice.ehr_link_template
    lines = [
        (_line(r, items.get(r.work_item_id), template, now), items.get(r.work_item_id))
        for r in latest.values()
    ]
    groups = Counter(EVENT_GROUPS.get(line.event, "new") for line, _ in lines)
    active = [
        (line, item) for line, item in lines if EVENT_GROUPS.get(line.event) in ("new", "escalated")
    ]
    if kind != "digest":
        active = lines
    active.sort(key=lambda pair: _priority(*pair))
    top = config.notify.digest_top_items
    return MessageContent(
        kind=kind,
        practice=config.practice.name,
        recipient=recipient,
        as_of=now.isoformat(),
        counts={g: groups[g] for g in GROUP_ORDER if groups[g]},
        by_category=dict(sorted(Counter(line.category for line, _ in active).items())),
        by_age=_by_age(line.age_days for line, _ in active),
        open_total=open_totals.get(recipient, 0),
        items=tuple(line for line, _ in active[:top]),
        more=max(0, len(active) - top),
    )


def _by_age(ages: Iterable[int | None]) -> dict[str, int]:
    """Items per age bucket (the report's buckets), youngest bucket first."""
    found = Counter(age_bucket(age) for age in ages)
    order = [label for _, _, label in AGE_BUCKETS] + [UNKNOWN]
    return {label: found[label] for label in order if found[label]}


def _store(
    conn: Connection,
    channel: str,
    recipient: str,
    address: str,
    content: MessageContent,
    rows: list[Any],
    urgent: bool,
    now: datetime,
    status: str,
) -> None:
    keys = sorted(r.dedupe_key for r in rows)
    digest = hashlib.sha256("\x1f".join([channel, recipient, *keys]).encode()).hexdigest()
    message_id = conn.execute(
        outbox_message.insert()
        .values(
            message_key=f"m{digest[:40]}",
            channel=channel,
            recipient=recipient,
            address=address,
            kind=content.kind,
            urgent=urgent,
            content=content.to_json(),
            status=status,
            attempts=0,
            failures=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        .returning(outbox_message.c.id)
    ).scalar_one()
    sent = key_in(conn, notification.c.id, [r.id for r in rows])
    conn.execute(update(notification).where(sent).values(message_id=message_id))
