"""The transactional outbox: record who must hear about a work item change, in its transaction.

``enqueue(conn, config, notices, now)`` is the one way in. Call it on the connection that writes
the change, so the notification commits or rolls back with it: never a change nobody hears
about, never a message about a change that did not happen. Each notice becomes one
``notification`` row per channel the person hears on, keyed by a dedupe key over
(work item, event, occurrence, recipient, channel), so enqueueing the same notice twice —
a retried task, a re-run sweep — stores it once. A notification made while the practice runs
in shadow mode is marked so (``shadow``) and only ever becomes a shadow message. The deliver
step (``deliver.py``) turns the rows into digests and sends them.

Sync enqueues work item transitions with ``enqueue_transitions``; an escalation sweep builds
``Notice(work_item_id, "escalated", occurrence=<level or step>, recipient=<person>)`` values
and calls ``enqueue`` directly (``urgent=True`` to send the person's message of the run at
once rather than with the next digest; urgency never splits it into a message per item).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from chartroute.config.models import Person, PracticeConfig
from chartroute.config.notify import NotifyConfig, UrgentRule
from chartroute.mode import acting_mode
from chartroute.notify.channels import address_for
from chartroute.route import age_days
from chartroute.store.batching import insert_ignore
from chartroute.store.key_sets import key_in
from chartroute.store.schema import notification, outbox_message, work_item, work_item_event
from chartroute.vocabulary import Mode


@dataclass(frozen=True)
class Notice:
    """One thing one person must hear about one work item.

    ``event`` is one of ``NOTICE_EVENTS``; ``occurrence`` tells repeated events apart (the
    transition's audit row, an escalation level), so a second escalation is a new notice and a
    replayed one is not. ``urgent`` None lets the config's urgent rules decide.
    """

    work_item_id: str
    event: str
    occurrence: str
    recipient: str
    urgent: bool | None = None


def dedupe_key(notice: Notice, channel: str) -> str:
    """The notification's identity: (work item, event, occurrence, recipient, channel)."""
    parts = (notice.work_item_id, notice.event, notice.occurrence, notice.recipient, channel)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def channels_for(notify: NotifyConfig, person: Person) -> list[str]:
    """The channels a person hears on that can reach them."""
    names = notify.recipients.get(person.id, notify.default_channels)
    return [n for n in names if address_for(notify.channels[n], person)]


def is_urgent(rules: Sequence[UrgentRule], item: dict[str, Any], event: str, now: datetime) -> bool:
    """True when any rule matches the item and event (all of a rule's conditions hold)."""
    return any(_matches(rule, item, event, now) for rule in rules)


def _matches(rule: UrgentRule, item: dict[str, Any], event: str, now: datetime) -> bool:
    if rule.categories and item.get("category") not in rule.categories:
        return False
    if rule.events and event not in rule.events:
        return False
    if rule.min_age_days is not None:
        age = age_days(item.get("visit_at"), now)
        if age is None or age < rule.min_age_days:
            return False
    billing = item.get("billing_impact") or 0.0
    if rule.min_billing_impact is not None and billing < rule.min_billing_impact:
        return False
    if rule.filing_deadline_within_days is not None:
        deadline = item.get("filing_deadline")
        if not isinstance(deadline, date):
            return False
        if (deadline - now.date()).days > rule.filing_deadline_within_days:
            return False
    return True


def _items(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    found = conn.execute(select(work_item).where(key_in(conn, work_item.c.id, set(ids))))
    return {row.id: dict(row._mapping) for row in found}


def enqueue(
    conn: Connection,
    config: PracticeConfig,
    notices: Iterable[Notice],
    now: datetime,
    run_id: str | None = None,
    as_of: datetime | None = None,
) -> int:
    """Store notifications for ``notices`` on ``conn``'s transaction; returns how many are new.

    Notices for events the config does not notify, or for people no longer on the roster, are
    dropped; a person is notified on each of their channels that has an address for them.
    Urgent rules judge ages and deadlines as of ``as_of`` (the classification's), else ``now``.
    In shadow mode the rows are stored marked ``shadow``: recorded, never sent.
    """
    notify = config.notify
    people = {p.id: p for p in config.roster}
    wanted = [n for n in notices if n.event in notify.events and n.recipient in people]
    undecided = {n.work_item_id for n in wanted if n.urgent is None}
    items = _items(conn, undecided) if notify.urgent and undecided else {}
    rows: dict[str, dict[str, Any]] = {}
    shadow = bool(wanted) and acting_mode(conn, config) is Mode.SHADOW
    for n in wanted:
        urgent = n.urgent
        if urgent is None:
            item = items.get(n.work_item_id)
            urgent = item is not None and is_urgent(notify.urgent, item, n.event, as_of or now)
        for channel in channels_for(notify, people[n.recipient]):
            key = dedupe_key(n, channel)
            rows[key] = {
                "dedupe_key": key,
                "work_item_id": n.work_item_id,
                "event": n.event,
                "occurrence": n.occurrence,
                "recipient": n.recipient,
                "channel": channel,
                "urgent": urgent,
                "created_at": now,
                "run_id": run_id,
                "message_id": None,
                "shadow": shadow,
            }
    if not rows:
        return 0
    stored = set(
        conn.execute(
            select(notification.c.dedupe_key).where(
                key_in(conn, notification.c.dedupe_key, list(rows))
            )
        ).scalars()
    )
    new = [row for key, row in rows.items() if key not in stored]
    insert_ignore(conn, notification, new)
    return len(new)


def transition_notices(events: Iterable[Any]) -> list[Notice]:
    """Notices for ``work_item_event`` rows: the assignee hears of every transition, and the
    previous assignee hears that a reassigned item left them."""
    notices: list[Notice] = []
    for e in events:
        occurrence = f"event:{e.id}"
        if e.assignee:
            notices.append(Notice(e.work_item_id, e.event, occurrence, e.assignee))
        if e.event == "reassigned" and e.previous_assignee and e.previous_assignee != e.assignee:
            notices.append(
                Notice(e.work_item_id, "reassigned-away", occurrence, e.previous_assignee)
            )
    return notices


def enqueue_transitions(
    conn: Connection,
    config: PracticeConfig,
    item_ids: Iterable[str],
    at: datetime,
    run_id: str | None = None,
    as_of: datetime | None = None,
) -> int:
    """Enqueue the transitions that ``reconcile`` just wrote for these items at ``at``.

    Reads them back from the audit trail on the same connection, inside the same transaction.
    """
    events = list(
        conn.execute(
            select(work_item_event)
            .where(
                key_in(conn, work_item_event.c.work_item_id, set(item_ids)),
                work_item_event.c.at == at,
            )
            .order_by(work_item_event.c.id)
        )
    )
    return enqueue(conn, config, transition_notices(events), at, run_id, as_of)


def waiting_notifications(conn: Connection) -> int:
    """Notifications not yet composed into a message (held by quiet hours, or not yet run)."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(notification)
            .where(notification.c.message_id.is_(None))
        ).scalar_one()
    )


def list_messages(
    conn: Connection, status: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Outbox messages, newest first, without their content (ids, channel, state, error)."""
    columns = [c for c in outbox_message.c if c.name not in ("content", "claim_token")]
    count = (
        select(func.count())
        .where(notification.c.message_id == outbox_message.c.id)
        .scalar_subquery()
        .label("items")
    )
    stmt = select(*columns, count).order_by(outbox_message.c.id.desc())
    if status is not None:
        stmt = stmt.where(outbox_message.c.status == status)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def status_counts(conn: Connection) -> dict[str, int]:
    """Messages per status."""
    rows = conn.execute(
        select(outbox_message.c.status, func.count()).group_by(outbox_message.c.status)
    )
    return {r[0]: int(r[1]) for r in rows}
