"""Each channel against a real local server: SMTP (aiosmtpd), Slack (slack-sdk → mock), webhook."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chartroute.config import load_config
from chartroute.notify.channels import build_channel
from chartroute.notify.channels.base import (
    Channel,
    Outgoing,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from chartroute.notify.channels.webhook import sign, verify_signature
from chartroute.notify.content import ItemLine, MessageContent
from chartroute.notify.secrets import MissingSecret, env_secrets
from tests.notify.conftest import all_channels, notify_section, write_config
from tests.notify.servers import SlackServer, SmtpServer, WebhookReceiver, free_port

CONTENT = MessageContent(
    kind="digest",
    practice="Example Family Medicine",
    recipient="dr-avery",
    as_of="2026-03-10T12:00:00+00:00",
    counts={"new": 2, "closed": 1},
    by_category={"pending-result": 1, "unsigned-note": 1},
    open_total=5,
    items=(
        ItemLine(
            "wi-1", "opened", "unsigned-note", "Encounter/e1", "https://ehr/e1", 8, "2026-06-01"
        ),
        ItemLine("wi-2", "reassigned", "pending-result", "Encounter/e2", None, None, None, True),
    ),
    more=0,
)


def outgoing(address: str, key: str = "mtestkey0001", attempts: int = 1) -> Outgoing:
    return Outgoing(
        id=1,
        key=key,
        channel="x",
        recipient="dr-avery",
        address=address,
        kind="digest",
        content=CONTENT,
        attempts=attempts,
        created_at=datetime(2026, 3, 10, 12, 0, tzinfo=UTC),
    )


def channels_for(tmp_path: Path, **servers: Any) -> dict[str, Channel]:
    config = load_config(write_config(tmp_path, notify_section(all_channels(tmp_path, **servers))))
    return {n: build_channel(n, c, env_secrets) for n, c in config.notify.channels.items()}


def test_email_over_starttls_with_login_has_text_and_html_parts(
    tmp_path: Path, smtp_server: SmtpServer, secrets_env: dict[str, str]
) -> None:
    channel = channels_for(tmp_path, smtp=smtp_server)["email"]
    provider_id = channel.send(outgoing("avery.stone@example.org"))
    assert "queued as" in provider_id
    [(rcpt, message)] = smtp_server.raw
    assert rcpt == "avery.stone@example.org"
    assert message["Message-ID"] == "<mtestkey0001@example.org>"
    assert message["From"] == "chartroute@example.org"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "wi-1" in plain and "https://ehr/e1" in plain and "due 2026-06-01" in plain
    assert '<a href="https://ehr/e1">Encounter/e1</a>' in html
    assert message["Subject"] == CONTENT.headline


def test_email_resend_keeps_message_id_so_the_mailbox_keeps_one_copy(
    tmp_path: Path, smtp_server: SmtpServer, secrets_env: dict[str, str]
) -> None:
    channel = channels_for(tmp_path, smtp=smtp_server)["email"]
    channel.send(outgoing("casey.lane@example.org"))
    channel.send(outgoing("casey.lane@example.org", attempts=2))
    assert len(smtp_server.raw) == 2
    assert len(smtp_server.mailboxes["casey.lane@example.org"]) == 1
    assert channel.lookup(outgoing("x")).state == "unknown"


def test_email_failures_are_classified_by_reply_code(
    tmp_path: Path,
    smtp_server: SmtpServer,
    secrets_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = channels_for(tmp_path, smtp=smtp_server)["email"]
    smtp_server.state.reject.add("gone@example.org")
    with pytest.raises(PermanentDeliveryError, match="550"):
        channel.send(outgoing("gone@example.org"))
    smtp_server.state.down = True
    with pytest.raises(TemporaryDeliveryError, match="451"):
        channel.send(outgoing("casey.lane@example.org"))
    smtp_server.state.down = False
    monkeypatch.setenv("CR_TEST_SMTP_PASSWORD", "wrong")
    wrong = channels_for(tmp_path, smtp=smtp_server)["email"]
    with pytest.raises(PermanentDeliveryError, match="535"):
        wrong.send(outgoing("casey.lane@example.org"))
    section = all_channels(tmp_path, smtp=smtp_server)
    section["email"]["port"] = free_port()  # nothing listens there: connection refused
    config = load_config(write_config(tmp_path, notify_section(section)))
    refused = build_channel("email", config.notify.channels["email"], env_secrets)
    with pytest.raises(TemporaryDeliveryError, match="refused"):
        refused.send(outgoing("casey.lane@example.org"))


def test_email_rejects_an_untrusted_certificate(
    tmp_path: Path, smtp_server: SmtpServer, secrets_env: dict[str, str]
) -> None:
    section = all_channels(tmp_path, smtp=smtp_server)
    del section["email"]["ca_file"]
    config = load_config(write_config(tmp_path, notify_section(section)))
    channel = build_channel("email", config.notify.channels["email"], env_secrets)
    with pytest.raises(PermanentDeliveryError, match="certificate"):
        channel.send(outgoing("casey.lane@example.org"))
    assert smtp_server.raw == []


def test_slack_posts_block_kit_to_the_users_dm_and_finds_it_again(
    tmp_path: Path, slack_server: SlackServer, secrets_env: dict[str, str]
) -> None:
    channel = channels_for(tmp_path, slack=slack_server)["slack"]
    message = outgoing("U000AVERY", key="mslack0001")
    assert channel.lookup(message).state == "not-sent"
    provider_id = channel.send(message)
    assert provider_id.startswith("DU000AVERY:")
    assert slack_server.violations == []
    [posted] = slack_server.messages["DU000AVERY"]
    assert posted.blocks[0]["type"] == "header"
    assert any(
        "<https://ehr/e1|Encounter/e1>" in b.get("text", {}).get("text", "") for b in posted.blocks
    )
    assert posted.metadata == {
        "event_type": "chartroute_notification",
        "event_payload": {"key": "mslack0001"},
    }
    found = channel.lookup(message)
    assert (found.state, found.provider_id) == ("sent", provider_id)
    paths = [p for p, _, _ in slack_server.requests]
    assert paths == [
        "/api/conversations.open",
        "/api/conversations.history",
        "/api/conversations.open",
        "/api/chat.postMessage",
        "/api/conversations.open",
        "/api/conversations.history",
    ]
    assert slack_server.requests[3][2]["Authorization"] == "Bearer xoxb-test-token"


def test_slack_errors_are_classified(
    tmp_path: Path, slack_server: SlackServer, secrets_env: dict[str, str]
) -> None:
    channel = channels_for(tmp_path, slack=slack_server)["slack"]
    with pytest.raises(PermanentDeliveryError, match="user_not_found"):
        channel.send(outgoing("U999NOBODY"))
    slack_server.down = True
    with pytest.raises(TemporaryDeliveryError, match="503"):
        channel.send(outgoing("U000AVERY"))
    slack_server.down = False
    slack_server.stop()
    with pytest.raises(TemporaryDeliveryError):
        channel.send(outgoing("U000AVERY"))


def test_slack_incoming_webhook_posts_blocks_with_a_mention(
    tmp_path: Path, slack_server: SlackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CR_TEST_SLACK_WEBHOOK", slack_server.webhook_url)
    section: dict[str, Any] = {"file": {"type": "file", "path": str(tmp_path)}}
    section["team"] = {"type": "slack", "webhook_url": {"env": "CR_TEST_SLACK_WEBHOOK"}}
    config = load_config(write_config(tmp_path, notify_section(section)))
    channel = build_channel("team", config.notify.channels["team"], env_secrets)
    channel.send(outgoing("U000AVERY"))
    [post] = slack_server.webhook_posts
    assert slack_server.violations == []
    assert post["text"] == CONTENT.headline
    assert post["blocks"][1]["text"]["text"].startswith("For <@U000AVERY>")
    assert channel.lookup(outgoing("U000AVERY")).state == "unknown"


def test_webhook_is_signed_and_carries_an_idempotency_key(
    tmp_path: Path, webhook_receiver: WebhookReceiver, secrets_env: dict[str, str]
) -> None:
    channel = channels_for(tmp_path, hook=webhook_receiver)["hook"]
    assert channel.send(outgoing("dr-avery", key="mhook0001")) == "req-1"
    channel.send(outgoing("dr-avery", key="mhook0001", attempts=2))
    assert webhook_receiver.bad_signatures == 0
    assert webhook_receiver.duplicates == 1
    [payload] = webhook_receiver.accepted
    assert payload["id"] == "mhook0001" and payload["recipient"] == "dr-avery"
    assert payload["items"][0]["link"] == "https://ehr/e1"
    assert payload["text"] == CONTENT.headline


def test_webhook_signed_with_another_key_is_refused(
    tmp_path: Path, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CR_TEST_WEBHOOK_SECRET", "not-the-shared-secret")
    channel = channels_for(tmp_path, hook=webhook_receiver)["hook"]
    with pytest.raises(PermanentDeliveryError, match="401"):
        channel.send(outgoing("dr-avery"))
    assert webhook_receiver.bad_signatures == 1 and webhook_receiver.accepted == []


def test_webhook_statuses_are_classified(
    tmp_path: Path, webhook_receiver: WebhookReceiver, secrets_env: dict[str, str]
) -> None:
    channel = channels_for(tmp_path, hook=webhook_receiver)["hook"]
    webhook_receiver.down = True
    with pytest.raises(TemporaryDeliveryError, match="503"):
        channel.send(outgoing("dr-avery"))
    webhook_receiver.down, webhook_receiver.reject = False, True
    with pytest.raises(PermanentDeliveryError, match="400"):
        channel.send(outgoing("dr-avery"))


def test_verify_signature_accepts_only_the_signed_body_in_time() -> None:
    body = json.dumps({"id": "m1"}).encode()
    now = time.time()
    stamp = str(int(now))
    good = sign("k", stamp, body)
    assert verify_signature("k", stamp, body, good, now=now)
    assert not verify_signature("k", stamp, body + b" ", good, now=now)
    assert not verify_signature("other", stamp, body, good, now=now)
    assert not verify_signature("k", stamp, body, good, now=now + 301)
    assert not verify_signature("k", "not-a-number", body, good, now=now)


def test_file_channel_writes_atomically_and_looks_up_by_key(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, notify_section(all_channels(tmp_path))))
    channel = build_channel("file", config.notify.channels["file"], env_secrets)
    message = outgoing("dr-avery", key="mfile0001")
    assert channel.lookup(message).state == "not-sent"
    path = Path(channel.send(message))
    assert path == tmp_path / "files" / "dr-avery" / "mfile0001.txt"
    assert (path.with_suffix(".html")).is_file()
    assert channel.lookup(message).provider_id == str(path)
    assert not list(path.parent.glob(".*.tmp"))


def test_missing_secret_names_the_variable(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    config = load_config(
        write_config(tmp_path, notify_section(all_channels(tmp_path, hook=webhook_receiver)))
    )
    with pytest.raises(MissingSecret, match="CR_TEST_WEBHOOK_SECRET"):
        build_channel("hook", config.notify.channels["hook"], env_secrets)
