"""Claiming outbox messages: pending → sending → sent, or back to pending, or failed.

A claim here is a worker's hold on one ``outbox_message`` row while it sends it (nothing to
do with a FHIR Claim).

A worker *claims* one message at a time in a short transaction: the row becomes ``sending``
with a lease and a claim token, and its attempt counter goes up. It then sends outside any
transaction and records the outcome guarded by its token, so a worker whose lease ran out (it
hung, or died) cannot overwrite the result of the worker that took over.

Which messages a worker may claim:
- ``pending`` with ``next_attempt_at`` due, or ``sending`` whose lease expired (a crashed
  attempt, reconciled before it is resent) or whose worker on this host is gone (``claimed_by``
  names a pid that no longer runs: a killed ``deliver`` is picked up by the next, not 300 s
  later);
- only the oldest unfinished message of each (channel, recipient), so a person's messages go
  out in the order they were composed, even after an outage;
- on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so concurrent workers never claim the same
  row; SQLite serialises writers, and the claim is a single ``UPDATE``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, exists, func, or_, select, update

from chartroute.config.notify import Delivery
from chartroute.notify.channels.base import Outgoing
from chartroute.notify.content import MessageContent
from chartroute.store.key_sets import key_in
from chartroute.store.lease import default_holder
from chartroute.store.owners import owner_gone
from chartroute.store.schema import outbox_message

UNFINISHED = ("pending", "sending")


@dataclass(frozen=True)
class OutboxClaim:
    """A message this worker holds until ``lease_until``."""

    message: Outgoing
    token: str
    reconcile: bool  # an earlier attempt may have reached the provider: look before resending


def backoff(failures: int, delivery: Delivery, rng: random.Random) -> timedelta:
    """Exponential backoff with jitter: half the capped delay fixed, half random."""
    ceiling = min(
        delivery.max_backoff_seconds, delivery.backoff_seconds * 2 ** max(0, failures - 1)
    )
    return timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))


def claim_next(
    engine: Engine,
    now: datetime,
    delivery: Delivery,
    channels: Collection[str],
    urgent_only: Collection[str] = (),
) -> OutboxClaim | None:
    """Claim the next message of ``channels`` (for ``urgent_only`` ones, urgent messages only)."""
    if not channels:
        return None
    m = outbox_message
    cand = m.alias("cand")
    blocked = _waits_behind_another(cand)
    ready = or_(
        and_(cand.c.status == "pending", cand.c.next_attempt_at <= now),
        and_(cand.c.status == "sending", cand.c.lease_until < now),
    )
    gone = _owners_gone(engine)
    if gone:  # a worker killed on this host: its claim need not wait for the lease to expire
        ready = or_(ready, and_(cand.c.status == "sending", cand.c.claimed_by.in_(gone)))
    allowed: ColumnElement[bool] = cand.c.channel.in_(sorted(channels))
    if urgent_only:
        allowed = and_(allowed, or_(cand.c.channel.not_in(sorted(urgent_only)), cand.c.urgent))
    pick = (
        select(cand.c.id)
        .where(ready, allowed, ~blocked)
        .order_by(cand.c.next_attempt_at, cand.c.id)  # a retried head waits behind fresh ones
        .limit(1)
    )
    token = str(uuid.uuid4())
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True, of=cand)
        row = conn.execute(
            update(m)
            .where(m.c.id == pick.scalar_subquery())
            .values(
                status="sending",
                attempts=m.c.attempts + 1,
                claim_token=token,
                claimed_by=default_holder(),
                lease_until=now + timedelta(seconds=delivery.lease_seconds),
                updated_at=now,
            )
            .returning(*m.c)
        ).first()
    if row is None:
        return None
    message = Outgoing(
        id=row.id,
        key=row.message_key,
        channel=row.channel,
        recipient=row.recipient,
        address=row.address,
        kind=row.kind,
        content=MessageContent.from_json(row.content),
        attempts=row.attempts,
        created_at=row.created_at,
    )
    return OutboxClaim(message, token, reconcile=row.attempts > 1)


def _owners_gone(engine: Engine) -> list[str]:
    """Owners of current claims whose process is gone (only this host's can be told)."""
    m = outbox_message
    with engine.connect() as conn:
        owners = conn.execute(
            select(m.c.claimed_by).where(m.c.status == "sending").distinct()
        ).scalars()
        return sorted(owner for owner in owners if owner_gone(owner))


def _waits_behind_another(cand: Any) -> ColumnElement[bool]:
    """The message waits behind an unfinished earlier one to the same person on its channel."""
    earlier = outbox_message.alias("earlier")
    return exists().where(
        earlier.c.channel == cand.c.channel,
        earlier.c.recipient == cand.c.recipient,
        earlier.c.id < cand.c.id,
        earlier.c.status.in_(UNFINISHED),
    )


def next_due(engine: Engine, channels: Collection[str]) -> datetime | None:
    """When the next pending message of ``channels`` that waits for no other one is due."""
    if not channels:
        return None
    cand = outbox_message.alias("cand")
    with engine.connect() as conn:
        due: datetime | None = conn.execute(
            select(func.min(cand.c.next_attempt_at)).where(
                cand.c.status == "pending",
                cand.c.channel.in_(sorted(channels)),
                ~_waits_behind_another(cand),
            )
        ).scalar_one()
    return due


def mark_sent(engine: Engine, claim: OutboxClaim, provider_id: str, now: datetime) -> bool:
    """Record delivery; False when the lease was lost to another worker meanwhile."""
    with engine.begin() as conn:
        done = conn.execute(
            update(outbox_message)
            .where(
                outbox_message.c.id == claim.message.id, outbox_message.c.claim_token == claim.token
            )
            .values(
                status="sent",
                provider_id=provider_id[:500],
                claimed_by=None,
                sent_at=now,
                claim_token=None,
                lease_until=None,
                updated_at=now,
            )
        )
    return bool(done.rowcount)


def mark_failed(
    engine: Engine,
    claim: OutboxClaim,
    error: str,
    temporary: bool,
    now: datetime,
    delivery: Delivery,
    rng: random.Random,
) -> str:
    """Record a failed attempt: back to pending with a backoff, or dead-lettered as failed."""
    with engine.begin() as conn:
        row = conn.execute(
            select(outbox_message.c.failures).where(
                outbox_message.c.id == claim.message.id, outbox_message.c.claim_token == claim.token
            )
        ).first()
        if row is None:
            return "lost"
        failures = row.failures + 1
        dead = not temporary or failures >= delivery.max_attempts
        done = conn.execute(
            update(outbox_message)
            .where(
                outbox_message.c.id == claim.message.id, outbox_message.c.claim_token == claim.token
            )
            .values(
                status="failed" if dead else "pending",
                failures=failures,
                next_attempt_at=now if dead else now + backoff(failures, delivery, rng),
                last_error=error,
                claim_token=None,
                lease_until=None,
                updated_at=now,
            )
        )
    if not done.rowcount:
        return "lost"
    return "failed" if dead else "pending"


def retry_failed(conn: Connection, ids: Iterable[int] | None, now: datetime) -> list[int]:
    """Put dead letters back in the queue (all of them when ``ids`` is None); returns their ids.

    ``attempts`` is kept, so the next attempt still reconciles first; ``failures`` restarts.
    """
    m = outbox_message
    selected = select(m.c.id).where(m.c.status == "failed")
    if ids is None:
        targets = list(conn.execute(selected.order_by(m.c.id)).scalars())
    else:
        targets = list(conn.execute(selected.where(key_in(conn, m.c.id, set(ids)))).scalars())
    if targets:
        conn.execute(
            update(m)
            .where(key_in(conn, m.c.id, targets), m.c.status == "failed")
            .values(status="pending", failures=0, next_attempt_at=now, updated_at=now)
        )
    return sorted(targets)
