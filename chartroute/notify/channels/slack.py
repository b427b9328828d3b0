"""Slack through slack-sdk: a Block Kit direct message to each person, or an incoming webhook.

Web API mode opens the app's direct message with the person's Slack user
(``conversations.open``) and posts there (``chat.postMessage``), tagging the message with
message metadata that carries the message key. Slack's API has no idempotency key, so after an
interrupted attempt ``lookup`` reads the conversation's recent history
(``conversations.history`` with ``include_all_metadata``) for a message with that key before
anything is resent. Incoming-webhook mode posts every person's messages to one channel,
mentioning them; webhooks cannot be read back, so there ``lookup`` answers "unknown".

The SDK's own retry handlers are turned off: a retry inside the SDK after a lost response
could post twice behind the outbox's back. The outbox retries, after reconciling.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.webhook import WebhookClient

from chartroute.config.notify import SlackChannel as SlackChannelConfig
from chartroute.notify import render
from chartroute.notify.channels.base import (
    NOT_SENT,
    SENT_UNKNOWN,
    DeliveryError,
    Lookup,
    Outgoing,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)

METADATA_EVENT = "chartroute_notification"
_TEMPORARY_ERRORS = {
    "ratelimited",
    "rate_limited",
    "service_unavailable",
    "fatal_error",
    "internal_error",
    "request_timeout",
}
#: How far before a message was queued its reconcile search starts (clock skew allowance).
_LOOKBACK = timedelta(minutes=10)
_HISTORY_PAGES = 10


class SlackChannel:
    """Posts Block Kit messages with slack-sdk."""

    def __init__(self, name: str, config: SlackChannelConfig, secret: str) -> None:
        self.name = name
        self.web: WebClient | None = None
        self.hook: WebhookClient | None = None
        if config.token is not None:
            kwargs: dict[str, Any] = {"token": secret, "timeout": config.timeout_seconds}
            if config.base_url:
                kwargs["base_url"] = config.base_url.rstrip("/") + "/"
            self.web = WebClient(retry_handlers=[], **kwargs)
        else:
            self.hook = WebhookClient(secret, timeout=config.timeout_seconds, retry_handlers=[])

    def send(self, message: Outgoing) -> str:
        text = render.subject(message.content)
        try:
            if self.web is not None:
                channel = self._dm(message.address)
                response = self.web.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=render.slack_blocks(message.content, message.key),
                    metadata={"event_type": METADATA_EVENT, "event_payload": {"key": message.key}},
                    unfurl_links=False,
                    unfurl_media=False,
                )
                return f"{response['channel']}:{response['ts']}"
            assert self.hook is not None
            mention = message.address if message.address.startswith(("U", "W")) else None
            blocks = render.slack_blocks(message.content, message.key, mention=mention)
            result = self.hook.send(text=text, blocks=blocks, unfurl_links=False)
        except DeliveryError:
            raise
        except Exception as exc:
            raise _classify(exc) from exc
        if result.status_code >= 500 or result.status_code == 429:
            raise TemporaryDeliveryError(f"Slack webhook HTTP {result.status_code}: {result.body}")
        if result.status_code != 200:
            raise PermanentDeliveryError(f"Slack webhook HTTP {result.status_code}: {result.body}")
        return message.key

    def _dm(self, user: str) -> str:
        assert self.web is not None
        opened = self.web.conversations_open(users=user)
        return str(opened["channel"]["id"])

    def lookup(self, message: Outgoing) -> Lookup:
        """Find the message in the person's direct message by its metadata key."""
        if self.web is None:
            return SENT_UNKNOWN
        oldest = (message.created_at - _LOOKBACK).timestamp()
        try:
            channel = self._dm(message.address)
            cursor: str | None = None
            for _ in range(_HISTORY_PAGES):
                page = self.web.conversations_history(
                    channel=channel,
                    oldest=f"{oldest:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                for posted in page.get("messages") or []:
                    metadata = posted.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if (
                        metadata.get("event_type") == METADATA_EVENT
                        and payload.get("key") == message.key
                    ):
                        return Lookup("sent", f"{channel}:{posted.get('ts')}")
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return NOT_SENT
        except Exception as exc:
            raise _classify(exc) from exc
        return SENT_UNKNOWN

    def close(self) -> None:
        return None


def _classify(exc: Exception) -> DeliveryError:
    """Slack's error codes and HTTP statuses → temporary or permanent."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 0) or 0
        data = getattr(exc.response, "data", None)
        error = data.get("error", "") if isinstance(data, dict) else ""
        text = f"Slack API {error or 'error'} (HTTP {status})"
        if status >= 500 or status == 429 or error in _TEMPORARY_ERRORS:
            return TemporaryDeliveryError(text)
        return PermanentDeliveryError(text)
    if isinstance(exc, SlackRequestError):
        return PermanentDeliveryError(f"Slack request rejected: {exc}")
    if isinstance(exc, (SlackClientError, OSError)):
        return TemporaryDeliveryError(f"{type(exc).__name__}: {exc}")
    return TemporaryDeliveryError(f"{type(exc).__name__}: {exc}")
