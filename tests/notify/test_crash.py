"""Kill the deliver process between sending and recording, at several points, then rerun:
every recipient ends up holding exactly one copy of each message, on every channel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from chartroute.config import load_config
from chartroute.notify.digest import compose
from chartroute.store.schema import outbox_message
from tests import builders as b
from tests.conftest import ROOT
from tests.notify.conftest import (
    all_channels,
    chart_resources,
    notify_section,
    run_sync,
    write_config,
)
from tests.notify.servers import SlackServer, SmtpServer, WebhookReceiver

pytestmark = pytest.mark.slow

LEASE = 30
#: Each scenario: the crash of each run in turn (channel, point, nth), then a clean run.
SCENARIOS: dict[str, list[tuple[str, str, int]]] = {
    "webhook claimed, not sent": [("hook", "before-send", 1)],
    "webhook sent, not recorded": [("hook", "after-send", 1)],
    "webhook second message sent, not recorded": [("hook", "after-send", 2)],
    "email accepted by the server, not recorded": [("email", "after-send", 1)],
    "email claimed, not sent": [("email", "before-send", 3)],
    "slack posted, not recorded": [("slack", "after-send", 1)],
    "slack posted, then the rerun dies after finding it": [
        ("slack", "after-send", 1),
        ("slack", "after-lookup", 1),
    ],
    "file written, not recorded": [("file", "after-send", 2)],
    "two channels in a row": [("hook", "after-send", 1), ("email", "after-send", 2)],
}


def run_worker(url: str, config: Path, now: datetime, crash: tuple[str, str, int] | None) -> int:
    args = [sys.executable, "-m", "tests.notify.crash_worker", url, str(config), now.isoformat()]
    if crash:
        args += [crash[0], crash[1], str(crash[2])]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if crash is None:
        assert done.returncode == 0, done.stderr[-3000:]
    return done.returncode


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_killed_delivery_leaves_exactly_one_copy_after_the_rerun(
    scenario: str,
    engine: Engine,
    tmp_path: Path,
    smtp_server: SmtpServer,
    slack_server: SlackServer,
    webhook_receiver: WebhookReceiver,
    secrets_env: dict[str, str],
) -> None:
    channels = all_channels(tmp_path, smtp=smtp_server, slack=slack_server, hook=webhook_receiver)
    section = notify_section(channels)
    section["delivery"]["lease_seconds"] = LEASE
    config_path = write_config(tmp_path, section)
    config = load_config(config_path)
    b.write_ndjson(tmp_path / "src", chart_resources("e", 4))
    run_sync(engine, config, tmp_path / "src")
    now = datetime.now(UTC)
    compose(engine, config, now)  # the first digests ...
    b.write_ndjson(tmp_path / "src", chart_resources("e", 4) + chart_resources("f", 4))
    run_sync(engine, config, tmp_path / "src")  # ... and the second, composed by the first run
    url = engine.url.render_as_string(hide_password=False)
    for crash in SCENARIOS[scenario]:
        assert run_worker(url, config_path, now, crash) == -signal.SIGKILL
        now += timedelta(seconds=LEASE + 1)  # the dead worker's lease runs out
    run_worker(url, config_path, now, None)

    with engine.connect() as conn:
        messages = list(conn.execute(select(outbox_message).order_by(outbox_message.c.id)))
    assert messages and {m.status for m in messages} == {"sent"}
    assert sum(m.kind == "digest" for m in messages) == len(messages)
    expected: dict[tuple[str, str], list[str]] = defaultdict(list)
    for m in messages:
        expected[(m.channel, m.address)].append(m.message_key)
    assert {c for c, _ in expected} == {"file", "email", "slack", "hook"}
    assert all(len(keys) == 2 for keys in expected.values())  # two syncs, two digests each

    held: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rcpt, box in smtp_server.mailboxes.items():
        held[("email", rcpt)] = [mid.strip("<>").split("@")[0] for mid in box]
    for channel_id, posted in slack_server.messages.items():
        held[("slack", channel_id[1:])] = [
            (p.metadata or {})["event_payload"]["key"] for p in posted
        ]
    for payload in webhook_receiver.accepted:
        held[("hook", payload["recipient"])].append(payload["id"])
    for person in (tmp_path / "files").iterdir():
        held[("file", person.name)] = sorted(p.stem for p in person.glob("*.txt"))
    assert {k: sorted(v) for k, v in held.items()} == {k: sorted(v) for k, v in expected.items()}

    # On the wire: only an attempt whose outcome the channel cannot look up is ever repeated,
    # and then with the same idempotency key the receiver used to drop it.
    resent = _copies_on_the_wire(smtp_server, webhook_receiver)
    ambiguous = {c for c, point, _ in SCENARIOS[scenario] if point == "after-send"}
    for channel, extra in resent.items():
        assert extra == (1 if channel in ambiguous else 0), (channel, resent)
    assert slack_server.violations == []


def _copies_on_the_wire(smtp: SmtpServer, hook: WebhookReceiver) -> dict[str, int]:
    """Deliveries beyond the first per message key, per channel that can only be resent to."""
    email_keys = [str(m["X-Chartroute-Message"]) for _, m in smtp.raw]
    return {
        "email": len(email_keys) - len(set(email_keys)),
        "hook": hook.duplicates,
    }


def test_the_worker_really_dies_where_told(
    engine: Engine, tmp_path: Path, webhook_receiver: WebhookReceiver, secrets_env: dict[str, str]
) -> None:
    """Guards the harness: a crash run sends what it should and records nothing after it."""
    channels: dict[str, Any] = all_channels(tmp_path, hook=webhook_receiver)
    config_path = write_config(tmp_path, notify_section(channels))
    b.write_ndjson(tmp_path / "src", chart_resources("e", 2))
    run_sync(engine, load_config(config_path), tmp_path / "src")
    url = engine.url.render_as_string(hide_password=False)
    assert run_worker(url, config_path, datetime.now(UTC), ("hook", "after-send", 1)) == -9
    with engine.connect() as conn:
        statuses = [
            r.status
            for r in conn.execute(select(outbox_message).where(outbox_message.c.channel == "hook"))
        ]
    assert len(webhook_receiver.accepted) == 1 and statuses.count("sending") == 1
    assert "sent" not in statuses
