"""The deliver step: compose waiting notifications, then drain the outbox channel by channel.

Each message is claimed, sent and recorded on its own (see ``outbox_claims.py``), so a crash
loses at most the record of one send, never a message. A message claimed again after an interrupted
attempt is first looked up at the provider (``Channel.lookup``): found → recorded as sent
without sending; not found → sent; unknown → sent again with the same idempotency key.
A temporary failure schedules the message's next attempt after its own backoff, which
doubles with each of its failures (with jitter); the run waits for retries due within
``patience_seconds`` of its last successful send, so a flaky receiver that still accepts most
messages is drained in one run however long its queue (each person's later messages wait
behind their failed one to keep their order, so the waits add up with the queue's length),
while a receiver that stops answering ends the run's waiting. ``circuit_failures`` temporary
failures in a row open the channel's circuit: it is not tried again this run, so an outage
costs a few attempts per run while each message's backoff keeps growing. Permanent failures,
and temporary ones past ``max_attempts``, are dead letters: listed by ``chartroute outbox
--status failed`` and put back by ``chartroute outbox retry``. A run that dead-letters or
leaves a channel down says so (``DeliverCounts.undelivered``). In shadow mode
(``chartroute.mode``) the step composes, marking the messages ``shadow``, and sends nothing:
no channel is even opened.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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
from chartroute.notify.outbox_claims import (
    OutboxClaim,
    claim_next,
    mark_failed,
    mark_sent,
    next_due,
)
from chartroute.notify.secrets import MissingSecret, SecretResolver, env_secrets
from chartroute.vocabulary import Mode

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


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
    down: dict[str, str] = field(default_factory=dict)  # channel → error that opened its circuit
    outbox: dict[str, int] = field(default_factory=dict)  # messages per status afterwards
    mode: str = ""  # shadow (nothing sent) or live

    def undelivered(self) -> str | None:
        """What a person must look at after this run (None when nothing): how many messages
        were dead-lettered and which channels were left down or skipped, and where to look."""
        problems = []
        if self.failed:
            problems.append(
                f"{self.failed} messages dead-lettered (`chartroute outbox --status failed` lists "
                "them; `chartroute outbox retry --all` resends once the cause is fixed)"
            )
        stuck = {**self.unavailable, **self.down}
        if stuck:
            waiting = self.outbox.get("pending", 0) + self.outbox.get("sending", 0)
            problems.append(
                "channels left down: "
                + "; ".join(f"{name} ({why})" for name, why in sorted(stuck.items()))
                + f"; {waiting} messages wait for the next run (`chartroute outbox`)"
            )
        return "delivery: " + "; ".join(problems) if problems else None


class Undelivered(Exception):
    """A run ended with messages dead-lettered or a channel down; ``result`` is what the run
    returns otherwise, so a caller can still show it."""

    def __init__(self, note: str, result: dict[str, object] | None = None) -> None:
        super().__init__(note)
        self.result = result or {}


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
    sleep: Sleep = time.sleep,
    rng: random.Random | None = None,
    max_messages: int | None = None,
    counts: DeliverCounts | None = None,
) -> DeliverCounts:
    """Send due messages until none is left (or ``max_messages`` were attempted).

    A message that failed is retried in this run once its own backoff is due, if that is within
    ``patience_seconds`` of the last send that did not fail; a channel's circuit opens after
    ``circuit_failures`` consecutive temporary failures, and its messages wait for the next run.
    """
    counts = counts if counts is not None else DeliverCounts()
    rng = rng or random.Random()
    notify = config.notify
    delivery = notify.delivery
    calendar = BusinessCalendar(config.practice.timezone, config.practice.calendar)
    quiet_channels = {name for name, cfg in notify.channels.items() if cfg.quiet_hours}
    circuit = Circuit(delivery.circuit_failures)
    deadline = clock() + timedelta(seconds=delivery.patience_seconds)
    attempted = 0
    while max_messages is None or attempted < max_messages:
        now = clock()
        usable = set(channels) - circuit.open
        urgent_only: set[str] = set()
        if not calendar.is_open(now):
            if notify.urgent_ignores_quiet_hours:
                urgent_only = quiet_channels & usable
            else:
                usable -= quiet_channels
        claim = claim_next(engine, now, delivery, usable, urgent_only)
        if claim is None:
            due = next_due(engine, usable)
            if due is None or due <= now or due > deadline:
                break  # nothing left, nothing claimable, or not due within this run's patience
            sleep((due - now).total_seconds())
            if clock() <= now:
                break  # a clock that sleeping does not move (a test's): nothing will come due
            continue
        attempted += 1
        name = claim.message.channel
        failure = _attempt(engine, claim, channels[name], config, clock, rng, counts)
        if failure is None:  # progress: the run may wait ``patience_seconds`` from here
            deadline = clock() + timedelta(seconds=delivery.patience_seconds)
        if circuit.record(name, failure):
            log.warning(
                "channel %s: %d failures in a row, not tried again this run: %s",
                name,
                delivery.circuit_failures,
                failure,
            )
    counts.down.update(circuit.failing())  # the last attempt on these channels failed
    return counts


class Circuit:
    """Per channel, the temporary failures in a row; open (skipped for the rest of the run)
    after ``threshold`` of them, so one 5xx from a flaky receiver does not stop a run."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.failures: dict[str, int] = {}
        self.last_error: dict[str, str] = {}
        self.open: set[str] = set()

    def record(self, channel: str, failure: str | None) -> bool:
        """Count an attempt's outcome; True when this one opened the channel's circuit."""
        if failure is None:
            self.failures[channel] = 0
            return False
        self.failures[channel] = self.failures.get(channel, 0) + 1
        self.last_error[channel] = failure
        if self.failures[channel] >= self.threshold and channel not in self.open:
            self.open.add(channel)
            return True
        return False

    def failing(self) -> dict[str, str]:
        """Channels whose latest attempts failed, with the last error: left down by this run."""
        return {name: self.last_error[name] for name, n in self.failures.items() if n}


def _attempt(
    engine: Engine,
    claim: OutboxClaim,
    channel: Channel,
    config: PracticeConfig,
    clock: Clock,
    rng: random.Random,
    counts: DeliverCounts,
) -> str | None:
    """One attempt at one message; the error when the channel looks down for now."""
    message = claim.message
    try:
        if claim.reconcile:
            found = channel.lookup(message)
            if found.state == "sent":
                if mark_sent(engine, claim, found.provider_id or message.key, clock()):
                    counts.reconciled += 1
                else:
                    counts.lost += 1
                return None
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
        return short_error(exc, 200) if temporary and channel_down else None
    if mark_sent(engine, claim, provider_id, clock()):
        counts.sent += 1
    else:
        counts.lost += 1
    return None


def deliver(
    engine: Engine,
    config: PracticeConfig,
    *,
    clock: Clock = utcnow,
    sleep: Sleep = time.sleep,
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
            engine,
            config,
            channels,
            clock=clock,
            sleep=sleep,
            rng=rng,
            max_messages=max_messages,
            counts=counts,
        )
    finally:
        if owned:
            for channel in channels.values():
                channel.close()
    with engine.connect() as conn:
        counts.outbox = status_counts(conn)
    return counts
