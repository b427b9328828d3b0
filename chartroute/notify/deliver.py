"""The deliver step: compose waiting notifications, then drain the outbox channel by channel.

Each message is claimed, sent and recorded on its own (see ``outbox_claims.py``), so a crash
loses at most the record of one send, never a message. A message claimed again after an interrupted
attempt is first looked up at the provider (``Channel.lookup``): found → recorded as sent
without sending; not found → sent; unknown → sent again with the same idempotency key.
A temporary failure schedules a retry with backoff and stops the drain from trying that
channel again in this run, so an outage costs one attempt per run, and the person's later
messages wait behind the failed one to keep their order. Permanent failures, and temporary
ones past ``max_attempts``, are dead letters: listed by ``chartroute outbox --status failed``
and put back by ``chartroute outbox retry``. In shadow mode (``chartroute.mode``) the step
composes, marking the messages ``shadow``, and sends nothing: no channel is even opened.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from chartroute.calendar import BusinessCalendar
from chartroute.config.models import PracticeConfig
from chartroute.config.notify import NotifyConfig
from chartroute.counts import Counts
from chartroute.mode import acting_mode
from chartroute.notify.channels import build_channel
from chartroute.notify.channels.base import Channel, DeliveryError, short_error
from chartroute.notify.digest import compose
from chartroute.notify.outbox import status_counts
from chartroute.notify.outbox_claims import OutboxClaim, claim_next, mark_failed, mark_sent
from chartroute.notify.secrets import MissingSecret, SecretResolver, env_secrets
from chartroute.vocabulary import Mode

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class DeliverCounts(Counts):
    """What a deliver run did: counts and channel names only."""

    digests: int = 0
    immediate: int = 0
    urgent: int = 0  # messages composed to go at once (a digest or an immediate message)
    held: int = 0
    unroutable: int = 0
    shadow: int = 0  # messages composed in shadow mode: recorded, never sent
    sent: int = 0
    reconciled: int = 0  # an interrupted attempt had reached the provider: not sent again
    resent_unknown: int = 0  # sent again after an interrupted attempt the channel cannot look up
    retrying: int = 0  # failed attempts that will be retried after a backoff
    failed: int = 0  # dead-lettered in this run
    lost: int = 0  # lease expired and another worker took the message over
    unavailable: dict[str, str] = field(default_factory=dict)  # channel → why it was skipped
    outbox: dict[str, int] = field(default_factory=dict)  # messages per status afterwards
    mode: str = ""  # shadow (nothing sent) or live


def open_channels(
    notify: NotifyConfig, resolve: SecretResolver
) -> tuple[dict[str, Channel], dict[str, str]]:
    """Build every configured channel; those missing a secret are returned with the reason."""
    built: dict[str, Channel] = {}
    unavailable: dict[str, str] = {}
    for name, cfg in notify.channels.items():
        try:
            built[name] = build_channel(name, cfg, resolve)
        except MissingSecret as exc:
            unavailable[name] = str(exc)
    return built, unavailable


def drain(
    engine: Engine,
    config: PracticeConfig,
    channels: Mapping[str, Channel],
    *,
    clock: Clock = utcnow,
    rng: random.Random | None = None,
    max_messages: int | None = None,
    counts: DeliverCounts | None = None,
) -> DeliverCounts:
    """Send due messages until none is left (or ``max_messages`` were attempted)."""
    counts = counts if counts is not None else DeliverCounts()
    rng = rng or random.Random()
    notify = config.notify
    delivery = notify.delivery
    calendar = BusinessCalendar(config.practice.timezone, config.practice.calendar)
    quiet_channels = {name for name, cfg in notify.channels.items() if cfg.quiet_hours}
    down: set[str] = set()
    attempted = 0
    while max_messages is None or attempted < max_messages:
        now = clock()
        usable = set(channels) - down
        urgent_only: set[str] = set()
        if not calendar.is_open(now):
            if notify.urgent_ignores_quiet_hours:
                urgent_only = quiet_channels & usable
            else:
                usable -= quiet_channels
        claim = claim_next(engine, now, delivery, usable, urgent_only)
        if claim is None:
            break
        attempted += 1
        if not _attempt(engine, claim, channels[claim.message.channel], config, clock, rng, counts):
            down.add(claim.message.channel)
    return counts


def _attempt(
    engine: Engine,
    claim: OutboxClaim,
    channel: Channel,
    config: PracticeConfig,
    clock: Clock,
    rng: random.Random,
    counts: DeliverCounts,
) -> bool:
    """One attempt at one message; False when the channel looks down for now."""
    message = claim.message
    try:
        if claim.reconcile:
            found = channel.lookup(message)
            if found.state == "sent":
                if mark_sent(engine, claim, found.provider_id or message.key, clock()):
                    counts.reconciled += 1
                else:
                    counts.lost += 1
                return True
            if found.state == "unknown":
                counts.resent_unknown += 1
        provider_id = channel.send(message)
    except Exception as exc:
        temporary = exc.temporary if isinstance(exc, DeliveryError) else True
        channel_down = exc.channel_down if isinstance(exc, DeliveryError) else True
        if not isinstance(exc, DeliveryError):
            log.exception("message %s on %s: unexpected error", message.id, message.channel)
        delivery = config.notify.delivery
        outcome = mark_failed(engine, claim, short_error(exc), temporary, clock(), delivery, rng)
        if outcome == "failed":
            counts.failed += 1
            log.warning(
                "message %s on %s dead-lettered: %s", message.id, message.channel, short_error(exc)
            )
        elif outcome == "pending":
            counts.retrying += 1
            log.info(
                "message %s on %s will be retried: %s",
                message.id,
                message.channel,
                short_error(exc),
            )
        else:
            counts.lost += 1
        return not (temporary and channel_down)
    if mark_sent(engine, claim, provider_id, clock()):
        counts.sent += 1
    else:
        counts.lost += 1
    return True


def deliver(
    engine: Engine,
    config: PracticeConfig,
    *,
    clock: Clock = utcnow,
    resolve: SecretResolver = env_secrets,
    channels: Mapping[str, Channel] | None = None,
    rng: random.Random | None = None,
    max_messages: int | None = None,
) -> DeliverCounts:
    """Compose digests and urgent messages, then send everything due.

    ``channels`` replaces the configured channels (tests, or a caller that built its own);
    otherwise each configured channel is built with secrets from ``resolve``, and one whose
    secret is missing is skipped — its messages wait — and named in ``unavailable``.
    """
    composed = compose(engine, config, clock())
    counts = DeliverCounts().add(composed)
    with engine.begin() as conn:
        counts.mode = str(acting_mode(conn, config))
    owned = channels is None
    if counts.mode == Mode.SHADOW:
        channels, owned = {}, False  # nothing reaches anyone: no channel is opened or drained
    elif channels is None:
        channels, counts.unavailable = open_channels(config.notify, resolve)
    try:
        drain(
            engine, config, channels, clock=clock, rng=rng, max_messages=max_messages, counts=counts
        )
    finally:
        if owned:
            for channel in channels.values():
                channel.close()
    with engine.connect() as conn:
        counts.outbox = status_counts(conn)
    return counts
