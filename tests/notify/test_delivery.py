"""Draining the outbox: outages, order, backoff, dead letters and the commands that show them."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.config import PracticeConfig, load_config
from chartroute.config.notify import Delivery
from chartroute.notify.deliver import deliver
from chartroute.notify.outbox import Notice, enqueue
from chartroute.notify.outbox_claims import backoff, claim_next, mark_sent
from chartroute.store.schema import outbox_message
from tests import builders as b
from tests.notify.conftest import (
    AS_OF,
    all_channels,
    chart_resources,
    notify_section,
    run_sync,
    write_config,
)
from tests.notify.servers import SlackServer, WebhookReceiver


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def hook_config(tmp_path: Path, hook: WebhookReceiver, **notify: Any) -> PracticeConfig:
    channels = all_channels(tmp_path, hook=hook)
    del channels["file"]
    return load_config(write_config(tmp_path, notify_section(channels, **notify)))


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox_message).order_by(outbox_message.c.id)))


def enqueue_runs(engine: Engine, config: PracticeConfig, runs: int, clock: Clock) -> None:
    """``runs`` rounds of escalation notices for two people, each round composed on its own."""
    from chartroute.notify.digest import compose

    for n in range(runs):
        with engine.begin() as conn:
            notices = [
                Notice(f"wi-{p}-{n}", "escalated", f"level-{n}", p)
                for p in ("dr-avery", "ma-casey")
            ]
            enqueue(conn, config, notices, clock())
        compose(engine, config, clock())


def test_an_outage_delays_messages_which_then_arrive_in_order(
    engine: Engine, tmp_path: Path, webhook_receiver: WebhookReceiver, secrets_env: dict[str, str]
) -> None:
    config = hook_config(tmp_path, webhook_receiver)
    clock = Clock(AS_OF)
    enqueue_runs(engine, config, 3, clock)
    webhook_receiver.down = True
    first = deliver(engine, config, clock=clock, rng=random.Random(1))
    # one attempt per head-of-line message; the run does not wait (patience 0)
    assert (first.sent, first.retrying, first.failed) == (0, 2, 0)
    assert len(webhook_receiver.raw) == 2
    assert first.down == {"hook": "TemporaryDeliveryError: HTTP 503 from the webhook"}
    assert "channels left down: hook" in (first.undelivered() or "")
    for run in range(2, 6):  # each run while down costs one attempt per person's oldest message
        clock.advance(seconds=70)
        assert deliver(engine, config, clock=clock).retrying == 2
        assert len(webhook_receiver.raw) == 2 * run
    heads = {
        json.loads(body)["recipient"]: json.loads(body)["items"][0]["id"]
        for body in webhook_receiver.raw
    }
    assert heads == {"dr-avery": "wi-dr-avery-0", "ma-casey": "wi-ma-casey-0"}
    webhook_receiver.down = False
    clock.advance(seconds=70)
    done = deliver(engine, config, clock=clock)
    assert done.sent == 6 and done.outbox == {"sent": 6}
    by_person: dict[str, list[str]] = {}
    for payload in webhook_receiver.accepted:
        by_person.setdefault(payload["recipient"], []).append(payload["items"][0]["id"])
    assert by_person == {p: [f"wi-{p}-{n}" for n in range(3)] for p in ("dr-avery", "ma-casey")}
    assert webhook_receiver.duplicates == 0


def test_dead_letters_are_listed_with_their_error_and_retried_by_command(
    engine: Engine,
    tmp_path: Path,
    webhook_receiver: WebhookReceiver,
    secrets_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = hook_config(
        tmp_path,
        webhook_receiver,
        delivery={"max_attempts": 2, "backoff_seconds": 5, "patience_seconds": 0},
    )
    clock = Clock(AS_OF)
    enqueue_runs(engine, config, 1, clock)
    webhook_receiver.down = True
    outcomes = []
    for _ in range(2):  # both heads fail in each run; the second failure dead-letters them
        outcomes.append(deliver(engine, config, clock=clock))
        clock.advance(seconds=30)
    assert [(o.retrying, o.failed) for o in outcomes] == [(2, 0), (0, 2)]
    assert "2 messages dead-lettered" in (outcomes[1].undelivered() or "")
    assert {r.status for r in rows(engine)} == {"failed"}

    monkeypatch.setenv(
        "CHARTROUTE_DATABASE_URL", str(engine.url.render_as_string(hide_password=False))
    )
    runner = CliRunner()
    listed = runner.invoke(app, ["outbox", "--status", "failed", "--format", "jsonl"])
    assert listed.exit_code == 0, listed.output
    dead = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(dead) == 2
    errors = {d["recipient"]: d["last_error"] for d in dead}
    assert all("HTTP 503" in e for e in errors.values())
    assert all(d["failures"] >= 1 and d["status"] == "failed" for d in dead)

    bad = runner.invoke(app, ["outbox", "retry", "999"])
    assert bad.exit_code == 2 and "message 999: not found" in bad.stderr
    webhook_receiver.down = False
    ids = [str(d["id"]) for d in dead]
    retried = runner.invoke(app, ["outbox", "retry", *ids])
    assert (
        retried.exit_code == 0
        and f"2 messages queued again: {', '.join(sorted(ids))}" in retried.stderr
    )
    clock.now = datetime.now(UTC) + timedelta(seconds=1)  # the command queues them for "now"
    done = deliver(engine, config, clock=clock)
    assert done.sent == 2 and {r.status for r in rows(engine)} == {"sent"}
    assert sorted(p["recipient"] for p in webhook_receiver.accepted) == ["dr-avery", "ma-casey"]
    again = runner.invoke(app, ["outbox", "retry", ids[0]])
    assert again.exit_code == 2 and "is sent, not failed" in again.stderr


def test_a_message_is_never_claimed_twice_and_a_lost_lease_is_not_recorded(
    engine: Engine, tmp_path: Path, file_config: PracticeConfig
) -> None:
    clock = Clock(AS_OF)
    enqueue_runs(engine, file_config, 1, clock)
    delivery = file_config.notify.delivery
    first = claim_next(engine, clock(), delivery, {"file"})
    second = claim_next(engine, clock(), delivery, {"file"})
    assert first and second and first.message.id != second.message.id
    assert claim_next(engine, clock(), delivery, {"file"}) is None
    clock.advance(seconds=delivery.lease_seconds + 1)
    taken_over = claim_next(engine, clock(), delivery, {"file"})
    assert taken_over is not None and taken_over.message.id == first.message.id
    assert taken_over.reconcile and taken_over.message.attempts == 2
    assert not mark_sent(engine, first, "late", clock())  # the first worker's lease is gone
    assert mark_sent(engine, taken_over, "ok", clock())


def test_a_crashed_attempt_is_looked_up_before_anything_is_resent(
    engine: Engine, tmp_path: Path, slack_server: SlackServer, secrets_env: dict[str, str]
) -> None:
    channels = all_channels(tmp_path, slack=slack_server)
    del channels["file"]
    config = load_config(write_config(tmp_path, notify_section(channels)))
    b.write_ndjson(tmp_path / "src", chart_resources("e", 2))
    run_sync(engine, config, tmp_path / "src")
    clock = Clock(datetime.now(AS_OF.tzinfo))
    from chartroute.notify.channels import build_channel
    from chartroute.notify.digest import compose
    from chartroute.notify.secrets import env_secrets

    compose(engine, config, clock())
    claim = claim_next(engine, clock(), config.notify.delivery, {"slack"})
    assert claim is not None and claim.message.address == "U000AVERY"
    channel = build_channel("slack", config.notify.channels["slack"], env_secrets)
    channel.send(claim.message)  # sent, then the worker dies before recording it
    clock.advance(seconds=config.notify.delivery.lease_seconds + 1)
    done = deliver(engine, config, clock=clock)
    assert (done.reconciled, done.sent) == (1, 0)
    assert slack_server.keys_in("U000AVERY") == [claim.message.key]
    [row] = rows(engine)
    assert row.status == "sent" and row.provider_id.startswith("DU000AVERY:")


def test_a_missing_secret_skips_its_channel_and_keeps_its_messages(
    engine: Engine, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    channels = all_channels(tmp_path, hook=webhook_receiver)
    config = load_config(write_config(tmp_path, notify_section(channels)))
    clock = Clock(AS_OF)
    enqueue_runs(engine, config, 1, clock)
    done = deliver(engine, config, clock=clock)
    assert done.unavailable == {"hook": "environment variable CR_TEST_WEBHOOK_SECRET is not set"}
    assert done.sent == 2 and done.outbox == {"pending": 2, "sent": 2}
    assert {r.channel for r in rows(engine) if r.status == "pending"} == {"hook"}
    assert all(r.attempts == 0 for r in rows(engine) if r.channel == "hook")


def test_quiet_hours_hold_pending_messages_at_drain_time_too(
    engine: Engine, tmp_path: Path, webhook_receiver: WebhookReceiver, secrets_env: dict[str, str]
) -> None:
    config = hook_config(tmp_path, webhook_receiver)
    clock = Clock(AS_OF)
    enqueue_runs(engine, config, 1, clock)  # composed while open
    with engine.begin() as conn:  # now pretend the clinic keeps weekday hours and it is night
        conn.execute(update(outbox_message).values(next_attempt_at=AS_OF))
    path = tmp_path / "practice.yaml"
    text = path.read_text().replace("00:00-24:00", "08:00-17:00")
    path.write_text(text)
    night_config = load_config(path)
    clock.now = AS_OF.replace(hour=3)  # 22:00 the evening before, New York
    assert deliver(engine, night_config, clock=clock).sent == 0
    assert webhook_receiver.raw == []
    clock.now = AS_OF.replace(hour=13)  # 09:00 in New York
    assert deliver(engine, night_config, clock=clock).sent == 2


@pytest.mark.parametrize("failures", [1, 2, 5, 12, 30])
def test_backoff_doubles_with_jitter_under_a_cap(failures: int) -> None:
    delivery = Delivery(backoff_seconds=10, max_backoff_seconds=300)
    ceiling = min(300, 10 * 2 ** (failures - 1))
    delays = {
        backoff(failures, delivery, random.Random(seed)).total_seconds() for seed in range(50)
    }
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(delays) > 40  # jittered, not one fixed value
