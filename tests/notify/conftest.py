"""Fixtures for the outbox tests: local servers, a practice config wired to them, seeded data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from chartroute import sync
from chartroute.config import PracticeConfig, load_config
from chartroute.sources import open_source
from tests import builders as b
from tests.conftest import ROOT
from tests.notify.servers import SlackServer, SmtpServer, WebhookReceiver

AS_OF = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ALWAYS_OPEN = {day: "00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SECRETS = {
    "CR_TEST_SMTP_PASSWORD": SmtpServer.PASSWORD,
    "CR_TEST_SLACK_TOKEN": "xoxb-test-token",
    "CR_TEST_WEBHOOK_SECRET": "whsec-test",
    "CR_TEST_SLACK_WEBHOOK": "",  # set per test to the mock's webhook URL
}
#: Slack users of the roster in config/practice.yaml (only dr-avery has one there).
SLACK_USERS = ("U000AVERY",)


def write_config(
    folder: Path, notify: dict[str, Any], mode: str | None = "live", **practice: Any
) -> Path:
    """config/practice.yaml with a ``notify`` section (and practice overrides) in ``folder``.

    The example file runs in shadow mode; these tests deliver, so the file says ``mode: live``
    unless a test asks for another mode (None: no ``mode`` line at all).
    """
    data = yaml.safe_load((ROOT / "config" / "practice.yaml").read_text())
    data["practice"].setdefault("calendar", {})["hours"] = ALWAYS_OPEN
    data["practice"].update(practice)
    data["notify"] = notify
    if mode is None:
        data.pop("mode", None)
    else:
        data["mode"] = mode
    path = folder / "practice.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def all_channels(
    folder: Path,
    smtp: SmtpServer | None = None,
    slack: SlackServer | None = None,
    hook: WebhookReceiver | None = None,
) -> dict[str, Any]:
    """A ``notify.channels`` section with the file channel plus each server given."""
    channels: dict[str, Any] = {"file": {"type": "file", "path": str(folder / "files")}}
    if smtp is not None:
        channels["email"] = {
            "type": "smtp",
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "starttls",
            "ca_file": str(smtp.cert),
            "from": "chartroute@example.org",
            "username": SmtpServer.USER,
            "password": {"env": "CR_TEST_SMTP_PASSWORD"},
            "timeout_seconds": 10,
        }
    if slack is not None:
        channels["slack"] = {
            "type": "slack",
            "token": {"env": "CR_TEST_SLACK_TOKEN"},
            "base_url": slack.base_url,
            "timeout_seconds": 10,
        }
    if hook is not None:
        channels["hook"] = {
            "type": "webhook",
            "url": hook.url,
            "secret": {"env": "CR_TEST_WEBHOOK_SECRET"},
            "timeout_seconds": 10,
        }
    return channels


def notify_section(channels: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "channels": channels,
        "default_channels": list(channels),
        # A run does not wait for retries here (patience 0): tests that do pass a fake sleep.
        "delivery": {
            "backoff_seconds": 10,
            "max_backoff_seconds": 60,
            "lease_seconds": 30,
            "patience_seconds": 0,
        },
        **extra,
    }


def chart_resources(prefix: str, count: int) -> list[dict[str, Any]]:
    """Open charts for both clinicians: unsigned notes (clinicians) and pending labs (MAs)."""
    out: list[dict[str, Any]] = []
    for i in range(count):
        eid = f"{prefix}{i}"
        practitioner = "Practitioner/prac-001" if i % 2 == 0 else "Practitioner/prac-002"
        day = 2 + i % 5
        out.append(
            b.encounter(
                eid,
                practitioner=practitioner,
                start=f"2026-03-0{day}T09:00:00-05:00",
                end=f"2026-03-0{day}T09:20:00-05:00",
            )
        )
        out.append(b.order(f"{eid}-lab", f"Encounter/{eid}"))
    return out


def run_sync(
    engine: Engine, config: PracticeConfig, source: Path, as_of: datetime = AS_OF
) -> sync.ClassifyCounts:
    """The sync stages without Prefect: plan, ingest, cursors, classify (which enqueues)."""
    src = open_source(str(source))
    plan = sync.plan_sync(engine, src, as_of)
    for partition in plan.partitions:
        sync.ingest_partition(engine, src, partition)
    sync.commit_cursors(engine, plan)
    return sync.classify_pending(engine, config, as_of, plan.run_id)


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SECRETS.items():
        if value:
            monkeypatch.setenv(name, value)
    return dict(SECRETS)


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    server = SlackServer(users=SLACK_USERS)
    yield server
    server.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(SECRETS["CR_TEST_WEBHOOK_SECRET"])
    yield server
    server.stop()


@pytest.fixture
def file_config(tmp_path: Path) -> PracticeConfig:
    """The practice with only a file channel (in tmp_path/files), clinic always open."""
    return load_config(write_config(tmp_path, notify_section(all_channels(tmp_path))))
