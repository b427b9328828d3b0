"""Two delivery workers at once never send the same message twice (PostgreSQL: SKIP LOCKED)."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from chartroute.config import PracticeConfig, load_config
from chartroute.notify.deliver import DeliverCounts, deliver
from chartroute.notify.digest import compose
from chartroute.notify.outbox import Notice, enqueue
from chartroute.store.engine import make_engine
from chartroute.store.schema import outbox_message
from tests.notify.conftest import all_channels, notify_section, write_config
from tests.notify.servers import WebhookReceiver

ROUNDS = 6


def seed(engine: Engine, config: PracticeConfig, now: datetime) -> None:
    """``ROUNDS`` digests for every person on the roster."""
    people = [p.id for p in config.roster]
    for n in range(ROUNDS):
        with engine.begin() as conn:
            notices = [Notice(f"wi-{p}-{n}", "escalated", f"level-{n}", p) for p in people]
            enqueue(conn, config, notices, now)
        compose(engine, config, now)


def two_workers(url: str, config: PracticeConfig, now: datetime) -> list[DeliverCounts]:
    results: list[DeliverCounts] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work() -> None:
        engine = make_engine(url)
        try:
            start.wait()
            results.append(deliver(engine, config, clock=lambda: now))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


def check_exactly_once(engine: Engine, hook: WebhookReceiver, results: list[DeliverCounts]) -> None:
    with engine.connect() as conn:
        rows = list(conn.execute(select(outbox_message).order_by(outbox_message.c.id)))
    assert rows and {r.status for r in rows} == {"sent"}
    assert sum(r.sent for r in results) == len(rows)
    assert all(r.sent > 0 for r in results), [r.sent for r in results]  # both really worked
    keys = hook.raw_keys()
    assert len(keys) == len(set(keys)) == len(rows)  # not one request repeated on the wire
    assert hook.duplicates == 0
    order: dict[str, list[str]] = defaultdict(list)
    for payload in hook.accepted:
        order[payload["recipient"]].append(payload["items"][0]["id"])
    assert all(ids == [f"wi-{p}-{n}" for n in range(ROUNDS)] for p, ids in order.items())


def hook_only(tmp_path: Path, hook: WebhookReceiver) -> PracticeConfig:
    channels: dict[str, Any] = all_channels(tmp_path, hook=hook)
    del channels["file"]
    return load_config(write_config(tmp_path, notify_section(channels)))


@pytest.mark.integration
def test_two_workers_on_postgresql_never_send_a_message_twice(
    postgres_url: str,
    tmp_path: Path,
    webhook_receiver: WebhookReceiver,
    secrets_env: dict[str, str],
) -> None:
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(outbox_message.delete())
        from chartroute.store.schema import notification

        conn.execute(notification.delete())
    config = hook_only(tmp_path, webhook_receiver)
    now = datetime.now(UTC)
    seed(engine, config, now)
    webhook_receiver.delay = 0.02  # keep sends in flight while the other worker claims
    check_exactly_once(engine, webhook_receiver, two_workers(postgres_url, config, now))


def test_two_workers_on_sqlite_never_send_a_message_twice(
    sqlite_engine: Engine,
    tmp_path: Path,
    webhook_receiver: WebhookReceiver,
    secrets_env: dict[str, str],
) -> None:
    config = hook_only(tmp_path, webhook_receiver)
    now = datetime.now(UTC)
    seed(sqlite_engine, config, now)
    webhook_receiver.delay = 0.01
    url = sqlite_engine.url.render_as_string(hide_password=False)
    check_exactly_once(sqlite_engine, webhook_receiver, two_workers(url, config, now))


def test_two_composers_at_once_make_one_digest_per_person(
    engine: Engine, tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    config = hook_only(tmp_path, webhook_receiver)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        enqueue(
            conn, config, [Notice(f"wi-{p.id}", "opened", "e:1", p.id) for p in config.roster], now
        )
    url = engine.url.render_as_string(hide_password=False)
    counts: list[int] = []
    start = threading.Barrier(2)

    def work() -> None:
        other = make_engine(url)
        start.wait()
        counts.append(compose(other, config, now).digests)
        other.dispose()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(counts) == [0, len(config.roster)]
