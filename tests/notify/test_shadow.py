"""Shadow mode on every channel: nothing reaches a person; going live sends only what is new.

The practice runs in shadow against real local servers (SMTP, Slack, a webhook receiver and
the file channel): the sync and the sweep record work items, escalations and messages, and
nothing arrives anywhere. Switching the file to ``mode: live`` sends nothing of that backlog;
the charts that open after the switch are delivered, and only they.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.config import PracticeConfig, load_config
from chartroute.mode import current_mode, live_since
from chartroute.notify.deliver import deliver
from chartroute.store.engine import make_engine
from chartroute.store.schema import escalation_event, notification, outbox_message, work_item
from chartroute.sweep import run_sweep
from chartroute.vocabulary import Mode
from tests import builders as b
from tests.notify.conftest import (
    AS_OF,
    all_channels,
    chart_resources,
    notify_section,
    run_sync,
    write_config,
)
from tests.notify.servers import SlackServer, SmtpServer, WebhookReceiver

#: Chart ids made in shadow and after going live: no id of one is part of the other's.
SHADOW, LIVE = "shd", "liv"


def statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox_message.c.status, func.count()).group_by(outbox_message.c.status)
        )
        return {r[0]: int(r[1]) for r in rows}


def sent_encounters(engine: Engine) -> set[str]:
    """Encounters of the work items whose notifications went out in a sent message."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(work_item.c.encounter)
            .join(notification, notification.c.work_item_id == work_item.c.id)
            .join(outbox_message, outbox_message.c.id == notification.c.message_id)
            .where(outbox_message.c.status == "sent")
        )
        return {r.encounter for r in rows}


def received(
    tmp_path: Path, smtp: SmtpServer, slack: SlackServer, hook: WebhookReceiver
) -> list[str]:
    """Everything any channel delivered, as text: mail, Slack calls, webhook bodies, files."""
    texts = [message.as_string() for _, message in smtp.raw]
    texts += [json.dumps(params) for _, params, _ in slack.requests]
    texts += [body.decode() for body in hook.raw]
    files = tmp_path / "files"
    texts += [p.read_text() for p in files.rglob("*") if p.is_file()] if files.exists() else []
    return texts


def configs(
    tmp_path: Path, smtp: SmtpServer, slack: SlackServer, hook: WebhookReceiver
) -> tuple[Path, PracticeConfig, PracticeConfig]:
    channels = all_channels(tmp_path, smtp=smtp, slack=slack, hook=hook)
    shadow_path = write_config(tmp_path, notify_section(channels), mode="shadow")
    shadow = load_config(shadow_path)
    live = load_config(write_config(tmp_path / "live", notify_section(channels), mode="live"))
    return shadow_path, shadow, live


def test_shadow_reaches_nobody_and_going_live_sends_only_what_is_new(
    engine: Engine,
    tmp_path: Path,
    smtp_server: SmtpServer,
    slack_server: SlackServer,
    webhook_receiver: WebhookReceiver,
    secrets_env: dict[str, str],
) -> None:
    (tmp_path / "live").mkdir()
    _, shadow, live = configs(tmp_path, smtp_server, slack_server, webhook_receiver)
    source = tmp_path / "src"
    b.write_ndjson(source, chart_resources(SHADOW, 4))

    classified = run_sync(engine, shadow, source)
    first = deliver(engine, shadow, clock=lambda: AS_OF)
    later = AS_OF + timedelta(days=20)
    swept = run_sweep(engine, shadow, later)
    second = deliver(engine, shadow, clock=lambda: later)

    assert classified.opened == 8 and classified.notifications > 0
    assert (classified.mode, swept.mode, first.mode) == ("shadow", "shadow", "shadow")
    assert swept.escalated > 0 and swept.notifications > 0
    with engine.connect() as conn:
        escalations = conn.execute(select(func.count()).select_from(escalation_event)).scalar()
    assert escalations == swept.escalated + swept.repeated + swept.delinquent
    assert first.shadow > 0 and second.shadow > 0 and first.sent == second.sent == 0
    assert statuses(engine) == {"shadow": first.shadow + second.shadow}
    assert received(tmp_path, smtp_server, slack_server, webhook_receiver) == []

    # Live: the shadow backlog stays where it is, even through a sweep at the same instant.
    assert deliver(engine, live, clock=lambda: later).sent == 0
    assert run_sweep(engine, live, later).notifications == 0
    assert deliver(engine, live, clock=lambda: later).sent == 0
    assert received(tmp_path, smtp_server, slack_server, webhook_receiver) == []

    b.write_ndjson(source, chart_resources(SHADOW, 4) + chart_resources(LIVE, 2))
    assert run_sync(engine, live, source, later).opened == 4
    done = deliver(engine, live, clock=lambda: later)

    assert done.mode == "live" and done.sent > 0 and done.failed == 0
    assert sent_encounters(engine) == {f"Encounter/{LIVE}0", f"Encounter/{LIVE}1"}
    wire = received(tmp_path, smtp_server, slack_server, webhook_receiver)
    assert len(smtp_server.raw) > 0 and len(webhook_receiver.accepted) > 0
    assert slack_server.messages and list(tmp_path.joinpath("files").rglob("*.txt"))
    assert any(f"{LIVE}0" in text for text in wire)
    assert not [text for text in wire if SHADOW in text]
    assert statuses(engine)["shadow"] == first.shadow + second.shadow


def test_a_file_without_mode_is_shadow_until_the_store_has_run_live(
    engine: Engine, tmp_path: Path
) -> None:
    channels = all_channels(tmp_path)
    unsaid = load_config(write_config(tmp_path, notify_section(channels), mode=None))
    (tmp_path / "l").mkdir()
    live = load_config(write_config(tmp_path / "l", notify_section(channels), mode="live"))
    (tmp_path / "s").mkdir()
    shadow = load_config(write_config(tmp_path / "s", notify_section(channels), mode="shadow"))
    source = tmp_path / "src"
    b.write_ndjson(source, chart_resources(SHADOW, 2))

    assert unsaid.mode is None
    run_sync(engine, unsaid, source)
    assert deliver(engine, unsaid, clock=lambda: AS_OF).mode == "shadow"
    with engine.connect() as conn:
        assert current_mode(conn, unsaid) is Mode.SHADOW and live_since(conn) is None
    assert statuses(engine) == {"shadow": 4}  # each chart: a clinician's and an MA's item

    assert deliver(engine, live, clock=lambda: AS_OF).mode == "live"  # going live is remembered
    with engine.connect() as conn:
        assert live_since(conn) is not None
        assert current_mode(conn, unsaid) is Mode.LIVE  # the line's absence does not silence it
        assert current_mode(conn, shadow) is Mode.SHADOW  # saying shadow still does
    b.write_ndjson(source, chart_resources(SHADOW, 2) + chart_resources(LIVE, 1))
    run_sync(engine, unsaid, source)
    counts = deliver(engine, unsaid, clock=lambda: AS_OF)
    assert (counts.mode, counts.sent) == ("live", 2)
    assert sent_encounters(engine) == {f"Encounter/{LIVE}0"}


def test_outbox_lists_shadow_messages_and_deliver_says_it_sent_nothing(
    tmp_path: Path, monkeypatch: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    path = write_config(tmp_path, notify_section(all_channels(tmp_path)), mode="shadow")
    b.write_ndjson(tmp_path / "src", chart_resources(SHADOW, 2))
    run_sync(make_engine(url), load_config(path), tmp_path / "src")
    runner = CliRunner()

    said = runner.invoke(app, ["deliver", "--config", str(path)])
    listed = runner.invoke(app, ["outbox", "--status", "shadow", "--format", "jsonl"])

    assert said.exit_code == 0, said.output
    assert "shadow mode" in " ".join(said.stderr.split())
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == 4 and {r["status"] for r in rows} == {"shadow"}
    assert not (tmp_path / "files").exists()
