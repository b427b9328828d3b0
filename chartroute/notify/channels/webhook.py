"""A generic webhook: the message as JSON, POSTed with an HMAC-SHA256 signature.

Headers:
- ``X-Chartroute-Timestamp``: Unix seconds when the request was signed.
- ``X-Chartroute-Signature``: ``v1=`` + hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under the
  shared secret. Receivers recompute it (``verify_signature``) and reject stale timestamps.
- ``Idempotency-Key``: the message key, the same on every attempt; the body's ``id`` too.
  Receivers keep the keys they have processed and ignore a repeat, which makes a resend after
  an interrupted attempt harmless — the webhook's idempotency, since a plain POST has none.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from chartroute.config.notify import WebhookChannel as WebhookChannelConfig
from chartroute.notify import render
from chartroute.notify.channels.base import (
    SENT_UNKNOWN,
    Lookup,
    Outgoing,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)

SIGNATURE_HEADER = "X-Chartroute-Signature"
TIMESTAMP_HEADER = "X-Chartroute-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Statuses worth another try: timeouts, conflicts with an in-flight copy, rate limits, outages.
_TEMPORARY = {408, 409, 425, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance_seconds: float = 300,
) -> bool:
    """For receivers: the signature matches and the timestamp is recent."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_seconds and hmac.compare_digest(
        sign(secret, timestamp, body), signature
    )


def body_of(message: Outgoing) -> bytes:
    """The exact bytes POSTed (sorted keys, so every attempt sends the same body)."""
    payload = render.webhook_payload(message.content, message.key)
    payload["recipient"] = message.recipient
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


class WebhookChannel:
    """POSTs each message to one URL."""

    def __init__(self, name: str, config: WebhookChannelConfig, secret: str) -> None:
        self.name = name
        self.url = config.url
        self.secret = secret
        self.client = httpx.Client(timeout=config.timeout_seconds)

    def send(self, message: Outgoing) -> str:
        body = body_of(message)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            TIMESTAMP_HEADER: timestamp,
            IDEMPOTENCY_HEADER: message.key,
        }
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise TemporaryDeliveryError(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status >= 500 or status in _TEMPORARY:
            raise TemporaryDeliveryError(f"HTTP {status} from the webhook")
        if status >= 300:
            raise PermanentDeliveryError(f"HTTP {status} from the webhook: {response.text[:200]}")
        return response.headers.get("X-Request-Id") or message.key

    def lookup(self, message: Outgoing) -> Lookup:
        return SENT_UNKNOWN

    def close(self) -> None:
        self.client.close()
