"""The deliver and outbox commands (the demo's file-channel ending: tests/core/test_demo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.config import load_config
from chartroute.store.engine import make_engine
from tests import builders as b
from tests.notify.conftest import (
    all_channels,
    chart_resources,
    notify_section,
    run_sync,
    write_config,
)
from tests.notify.servers import WebhookReceiver


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_deliver_then_outbox_lists_what_was_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook_receiver: WebhookReceiver
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    config_path = write_config(
        tmp_path, notify_section(all_channels(tmp_path, hook=webhook_receiver))
    )
    b.write_ndjson(tmp_path / "src", chart_resources("e", 2))
    run_sync(make_engine(url), load_config(config_path), tmp_path / "src")

    code, _, err = run("deliver", "--config", str(config_path))
    err = " ".join(err.split())  # the console wraps long lines
    assert code == 1  # a channel left down is a failure to look at
    assert err.endswith(
        "error: delivery: channels left down: hook (environment variable CR_TEST_WEBHOOK_SECRET "
        "is not set); 4 messages wait for the next run (`chartroute outbox`)"
    )
    assert "channel hook skipped: environment variable CR_TEST_WEBHOOK_SECRET is not set" in err
    assert "composed 8 digests" in err and "sent 4," in err and "outbox: pending 4, sent 4" in err
    monkeypatch.setenv("CR_TEST_WEBHOOK_SECRET", webhook_receiver.secret)
    code, _, err = run("deliver", "--config", str(config_path))
    err = " ".join(err.split())
    assert code == 0 and "sent 4," in err and "outbox: sent 8" in err
    assert len(webhook_receiver.accepted) == 4

    code, out, said = run("outbox", "--status", "sent")  # piped: the title goes to stderr
    assert code == 0 and "8 outbox messages (sent)" in said and len(out.splitlines()) == 1 + 8
    code, out, said = run("outbox", "--status", "failed")
    assert code == 0 and "0 outbox messages" in said
    code, _, err = run("outbox", "retry")
    assert code == 2 and "give message ids or --all" in err
    code, _, err = run("outbox", "retry", "--all")
    assert code == 0 and "0 messages queued again" in err


def test_deliver_reports_a_bad_config_with_exit_code_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("practice: {name: X}\nroster: []\n")
    code, _, err = run("deliver", "--config", str(tmp_path / "bad.yaml"))
    assert code == 2 and "config error" in err
