"""What every delivery channel provides: send a message, and say whether one was already sent.

The deliver step owns retries, backoff and dead letters; a channel makes one attempt and
classifies its failure as temporary (worth another try later) or permanent (a person must fix
something). ``lookup`` lets the deliver step reconcile after a crash between sending and
recording: a channel that can ask the provider answers "sent" or "not sent"; one that cannot
answers "unknown", and the message is sent again with the same idempotency key (webhook
``Idempotency-Key``, email ``Message-ID``), which the receiver uses to drop the copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from chartroute.notify.content import MessageContent


@dataclass(frozen=True)
class Outgoing:
    """One message as a channel sees it: where it goes, what it says, its idempotency key."""

    id: int
    key: str  # stable across attempts: the provider-side idempotency key
    channel: str
    recipient: str  # roster id
    address: str  # the channel's address for the recipient (email, Slack user id, person id)
    kind: str
    content: MessageContent
    attempts: int  # including this one
    created_at: datetime


class DeliveryError(Exception):
    """One attempt failed; ``temporary`` says whether trying again later may succeed.

    ``channel_down`` (temporary errors) says the channel itself is unavailable, so the rest of
    its messages wait for the next run; False when only this recipient is affected (a full
    mailbox), so the others are still tried.
    """

    temporary = True

    def __init__(self, message: str, *, channel_down: bool = True) -> None:
        super().__init__(message)
        self.channel_down = channel_down


class TemporaryDeliveryError(DeliveryError):
    """The provider or the network is unavailable for now (5xx, 429, timeouts, refused)."""

    temporary = True


class PermanentDeliveryError(DeliveryError):
    """The provider rejected the message; resending it unchanged will fail again."""

    temporary = False


@dataclass(frozen=True)
class Lookup:
    """What a channel knows about an earlier attempt of a message."""

    state: Literal["sent", "not-sent", "unknown"]
    provider_id: str | None = None


SENT_UNKNOWN = Lookup("unknown")
NOT_SENT = Lookup("not-sent")


class Channel(Protocol):
    """A way to reach people. ``send`` returns the provider's id for the message."""

    name: str

    def send(self, message: Outgoing) -> str: ...

    def lookup(self, message: Outgoing) -> Lookup: ...

    def close(self) -> None: ...


def short_error(exc: BaseException, limit: int = 500) -> str:
    """An error's type and message, shortened for the outbox's ``last_error`` column."""
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
