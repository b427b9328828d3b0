"""Delivery heals within a run: a flaky receiver is drained in one run, a dead one opens its
channel's circuit only after several failures in a row, each message's backoff keeps growing
until it is dead-lettered, and a run that leaves work undone ends Failed, saying what."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from prefect.states import State
from sqlalchemy import Engine, select

from chartroute.config import PracticeConfig
from chartroute.config.notify import Delivery
from chartroute.flows.undelivered import final_state
from chartroute.notify.channels.base import (
    NOT_SENT,
    Lookup,
    Outgoing,
    TemporaryDeliveryError,
)
from chartroute.notify.deliver import DeliverCounts, Undelivered, deliver
from chartroute.store.schema import outbox_message
from tests.notify.conftest import AS_OF
from tests.notify.test_delivery import enqueue_runs


class Clock:
    """A clock that only sleeping moves."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += timedelta(seconds=seconds)


class FlakyChannel:
    """Answers like a receiver that fails ``rate`` of the attempts with a 503."""

    name = "file"

    def __init__(self, rate: float, seed: int = 7) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.sent: list[str] = []
        self.attempts = 0

    def send(self, message: Outgoing) -> str:
        self.attempts += 1
        if self.rng.random() < self.rate:
            raise TemporaryDeliveryError("HTTP 503 from the webhook")
        self.sent.append(message.key)
        return message.key

    def lookup(self, message: Outgoing) -> Lookup:
        return Lookup("sent", message.key) if message.key in self.sent else NOT_SENT

    def close(self) -> None:
        return None


def patient(config: PracticeConfig, **delivery: Any) -> PracticeConfig:
    settings = {"backoff_seconds": 2, "patience_seconds": 120, **delivery}
    notify = config.notify.model_copy(update={"delivery": Delivery(**settings)})
    return config.model_copy(update={"notify": notify})


def statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        found: dict[str, int] = {}
        for status in conn.execute(select(outbox_message.c.status)).scalars():
            found[status] = found.get(status, 0) + 1
        return found


@pytest.mark.parametrize("runs", [20, 154])  # 40 messages; the 308 of the on-call report
def test_a_receiver_failing_30_percent_is_drained_in_one_run(
    engine: Engine, file_config: PracticeConfig, runs: int
) -> None:
    """Each person's queue waits behind its failed message, so the waits add up with the
    queue: patience counts from the last successful send, not from the run's start (with 308
    messages the run used to give up after 123, its 120 s spent)."""
    config = patient(file_config)
    clock = Clock(AS_OF)
    enqueue_runs(engine, config, runs, clock)  # two people, ``runs`` messages each
    messages = 2 * runs
    channel = FlakyChannel(0.3)
    done = deliver(
        engine, config, clock=clock, sleep=clock.sleep, channels={"file": channel},
        rng=random.Random(3),
    )  # fmt: skip
    assert channel.attempts > messages and done.retrying == channel.attempts - messages
    assert (done.sent, done.failed, done.down) == (messages, 0, {})
    assert done.undelivered() is None
    assert statuses(engine) == {"sent": messages}


def test_a_dead_channel_opens_its_circuit_after_several_failures_and_dead_letters_in_time(
    engine: Engine, file_config: PracticeConfig
) -> None:
    config = patient(file_config, circuit_failures=4, max_attempts=6)
    clock = Clock(AS_OF)
    enqueue_runs(engine, config, 3, clock)
    channel = FlakyChannel(1.0)
    first = deliver(engine, config, clock=clock, sleep=clock.sleep, channels={"file": channel})
    assert channel.attempts == 4  # not one: the circuit waits for four failures in a row
    assert first.down == {"file": "TemporaryDeliveryError: HTTP 503 from the webhook"}
    runs = 1
    while statuses(engine).get("failed", 0) < 6 and runs < 12:
        clock.now += timedelta(minutes=15)  # the next scheduled run
        deliver(engine, config, clock=clock, sleep=clock.sleep, channels={"file": channel})
        runs += 1
    assert statuses(engine) == {"failed": 6}  # every message reached max_attempts
    assert runs <= 9
    with engine.connect() as conn:
        waits = [
            (row.next_attempt_at - row.updated_at).total_seconds()
            for row in conn.execute(select(outbox_message))
        ]
    assert all(w == 0 for w in waits)  # dead letters wait for a person, not a clock


def test_a_run_that_leaves_work_undone_ends_failed_naming_it() -> None:
    counts = DeliverCounts(sent=5, failed=3, down={"hook": "HTTP 503 from the webhook"})
    counts.outbox = {"failed": 3, "pending": 2, "sent": 5}
    state = final_state({"run_id": "r1"}, counts)
    assert isinstance(state, State) and state.is_failed()
    assert state.message == (
        "delivery: 3 messages dead-lettered (`chartroute outbox --status failed` lists them; "
        "`chartroute outbox retry --all` resends once the cause is fixed); channels left down: "
        "hook (HTTP 503 from the webhook); 2 messages wait for the next run (`chartroute outbox`)"
    )
    error = state.result(raise_on_failure=False)
    assert isinstance(error, Undelivered) and error.result == {"run_id": "r1"}
    assert final_state({"run_id": "r2"}, DeliverCounts(sent=5)) == {"run_id": "r2"}
    assert final_state({"run_id": "r3"}, None) == {"run_id": "r3"}
