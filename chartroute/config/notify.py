"""The ``notify`` section of the practice file: channels, who hears on which, what is urgent.

Secrets never appear here: a channel names the environment variable (or the Prefect Secret
block) that holds its token, password or signing key. Without a ``notify`` section every
person's messages go to the file channel under ``$CHARTROUTE_HOME/outbox``, so a new install
shows what it would have sent without being able to reach anyone.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from chartroute.config.base import LocatedValueError, StrictModel
from chartroute.config.secrets import SecretRef

#: What a notification is about: the work item's transition as the recipient sees it.
NoticeEvent = Literal["opened", "reopened", "reassigned", "reassigned-away", "closed", "escalated"]
NOTICE_EVENTS: tuple[str, ...] = (
    "opened",
    "reopened",
    "reassigned",
    "reassigned-away",
    "closed",
    "escalated",
)
_NAME = r"^[a-z0-9][a-z0-9\-_]{0,63}$"


class FileChannel(StrictModel):
    """Writes each message as text and HTML files, one folder per person (the embedded default)."""

    type: Literal["file"] = "file"
    path: str | None = Field(
        default=None, description="Folder for the files; default: $CHARTROUTE_HOME/outbox."
    )
    quiet_hours: bool = Field(
        default=False, description="Hold messages outside clinic hours (a file disturbs nobody)."
    )


class SmtpChannel(StrictModel):
    """Email over SMTP: plain text and HTML parts, STARTTLS by default."""

    type: Literal["smtp"]
    host: str = Field(description="SMTP relay host name.")
    port: int = Field(default=587, ge=1, le=65535, description="587 for STARTTLS, 465 for TLS.")
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (587), tls (implicit, 465) or none (a relay on this machine: with "
        "a password, none is refused for any other host).",
    )
    ca_file: str | None = Field(
        default=None, description="Extra CA certificate (PEM) to trust, for a private relay."
    )
    sender: str = Field(alias="from", description="From address, e.g. chartroute@example.org.")
    username: str | None = Field(default=None, description="Login name, if the relay needs one.")
    password: SecretRef | None = Field(default=None, description="Where the login password is.")
    timeout_seconds: float = Field(default=30, gt=0, le=300, description="Socket timeout.")
    quiet_hours: bool = Field(default=True, description="Hold messages outside clinic hours.")

    @model_validator(mode="after")
    def _login_pair(self) -> SmtpChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("'username' and 'password' go together")
        return self

    @model_validator(mode="after")
    def _no_password_in_clear_text(self) -> SmtpChannel:
        # With security none, smtplib sends AUTH PLAIN unencrypted: anyone on the path reads
        # the password. Only a relay on this machine keeps it off the network.
        if self.security == "none" and self.password is not None and not is_loopback(self.host):
            raise LocatedValueError(
                ("security",),
                "`none` would send the password in clear text to a relay on another machine; "
                "use starttls or tls, or a relay on this machine (localhost, 127.0.0.1, ::1)",
            )
        return self


def is_loopback(host: str) -> bool:
    """True for a host name or address that never leaves this machine."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


class SlackChannel(StrictModel):
    """Slack: a direct message to each person's Slack user, or posts to one incoming webhook."""

    type: Literal["slack"]
    token: SecretRef | None = Field(
        default=None,
        description="Bot token for the Web API (scopes chat:write, im:write, im:history); "
        "messages go to each person's `slack` user id.",
    )
    webhook_url: SecretRef | None = Field(
        default=None,
        description="Incoming-webhook URL: every message is posted to that one Slack channel, "
        "mentioning the person.",
    )
    base_url: str | None = Field(
        default=None, description="Web API base URL, for a proxy; default Slack's own."
    )
    timeout_seconds: int = Field(default=30, gt=0, le=300, description="HTTP timeout.")
    quiet_hours: bool = Field(default=True, description="Hold messages outside clinic hours.")

    @model_validator(mode="after")
    def _one_mode(self) -> SlackChannel:
        if (self.token is None) == (self.webhook_url is None):
            raise ValueError("give exactly one of 'token' (Web API) or 'webhook_url'")
        return self


class WebhookChannel(StrictModel):
    """A JSON POST signed with HMAC-SHA256, for Teams workflows, paging tools or your own code."""

    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://", description="Where to POST.")
    secret: SecretRef = Field(description="Key for the HMAC-SHA256 signature header.")
    timeout_seconds: float = Field(default=15, gt=0, le=300, description="HTTP timeout.")
    quiet_hours: bool = Field(default=True, description="Hold messages outside clinic hours.")


ChannelConfig = Annotated[
    FileChannel | SmtpChannel | SlackChannel | WebhookChannel, Field(discriminator="type")
]


class UrgentRule(StrictModel):
    """A rule that makes a notification urgent: all the conditions given must hold.

    Urgent notifications are sent at once as their own message instead of waiting for the
    person's digest.
    """

    categories: list[str] = Field(
        default_factory=list, description="Work item categories; empty means any."
    )
    events: list[NoticeEvent] = Field(default_factory=list, description="Events; empty means any.")
    min_age_days: int | None = Field(
        default=None, ge=0, description="At least this many days since the visit."
    )
    min_billing_impact: float | None = Field(
        default=None, ge=0, description="Expected charge at least this much."
    )
    filing_deadline_within_days: int | None = Field(
        default=None, ge=0, description="Payer filing deadline within this many days."
    )


class Delivery(StrictModel):
    """Retries and leases of the deliver step."""

    max_attempts: int = Field(
        default=10, ge=1, le=100, description="Failed attempts before a message is dead-lettered."
    )
    backoff_seconds: float = Field(
        default=2,
        gt=0,
        description="First retry delay of a message; doubles with each of its failures (with "
        "jitter), so a flaky receiver is retried within the run and an outage ever more rarely.",
    )
    max_backoff_seconds: float = Field(default=3600, gt=0, description="Cap on the retry delay.")
    circuit_failures: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Consecutive temporary failures on a channel after which the run stops "
        "trying it (its circuit opens) and leaves its messages for the next run. At 5, a "
        "receiver failing 30% of attempts opened it within a few hundred messages (0.3^5 is "
        "1 in 400); at 10, 1 in 170,000, while a dead receiver still costs 10 attempts a run.",
    )
    patience_seconds: float = Field(
        default=120,
        ge=0,
        description="How long a run waits for messages whose retry is due soon before leaving "
        "them to the next run.",
    )
    lease_seconds: float = Field(
        default=300,
        gt=0,
        description="How long a worker owns a message it is sending; after that a crashed "
        "worker's message is reconciled and resent by another.",
    )


def _default_channels() -> dict[str, Any]:
    return {"file": FileChannel()}


class NotifyConfig(StrictModel):
    """Who hears about which work item changes, on which channel, and when."""

    channels: dict[Annotated[str, Field(pattern=_NAME)], ChannelConfig] = Field(
        default_factory=_default_channels,
        description="Delivery channels by name; default: a file channel only.",
    )
    default_channels: list[str] = Field(
        default_factory=lambda: ["file"],
        description="Channels for everyone not listed in `recipients` (default: every channel); "
        "a channel is skipped for a person without an address on it (no slack id, no email).",
    )
    recipients: dict[str, list[str]] = Field(
        default_factory=dict, description="Per person id: the channels that person hears on."
    )
    events: list[NoticeEvent] = Field(
        default_factory=lambda: list(NOTICE_EVENTS),  # type: ignore[arg-type]
        description="Which work item events are notified.",
    )
    urgent: list[UrgentRule] = Field(
        default_factory=list,
        description="Rules that make a notification urgent: its person's message of the run is "
        "sent at once (one message per person and channel, urgent items first).",
    )
    urgent_ignores_quiet_hours: bool = Field(
        default=False, description="Send urgent messages outside clinic hours too."
    )
    digest_top_items: int = Field(
        default=10, ge=1, le=40, description="Items listed one by one in a digest (by priority)."
    )
    delivery: Delivery = Field(default_factory=Delivery)

    @model_validator(mode="before")
    @classmethod
    def _everyone_on_every_channel(cls, data: Any) -> Any:
        if isinstance(data, dict) and "default_channels" not in data and data.get("channels"):
            channels = data["channels"]
            if isinstance(channels, dict):
                return {**data, "default_channels": list(channels)}
        return data

    @model_validator(mode="after")
    def _channels_exist(self) -> NotifyConfig:
        for i, name in enumerate(self.default_channels):
            if name not in self.channels:
                raise LocatedValueError(("default_channels", i), f"unknown channel {name!r}")
        for person, names in self.recipients.items():
            for i, name in enumerate(names):
                if name not in self.channels:
                    raise LocatedValueError(("recipients", person, i), f"unknown channel {name!r}")
        return self


def _recipients_on_roster(value: NotifyConfig, info: ValidationInfo) -> NotifyConfig:
    """Every person named under ``recipients`` is on the roster and has an address there."""
    if "roster" not in info.data:
        return value  # the roster itself is invalid and reported on its own
    roster = {p.id: p for p in info.data["roster"]}
    for person_id, names in value.recipients.items():
        person = roster.get(person_id)
        if person is None:
            raise LocatedValueError(
                ("recipients", person_id), f"{person_id!r} is not on the roster"
            )
        for i, name in enumerate(names):
            channel = value.channels[name]
            if isinstance(channel, SmtpChannel) and not person.email:
                raise LocatedValueError(
                    ("recipients", person_id, i), f"{person_id} has no email on the roster"
                )
            if isinstance(channel, SlackChannel) and channel.token and not person.slack:
                raise LocatedValueError(
                    ("recipients", person_id, i), f"{person_id} has no slack id on the roster"
                )
    return value


#: The ``notify`` field of ``PracticeConfig``: checked against the roster defined before it.
NotifyField = Annotated[NotifyConfig, AfterValidator(_recipients_on_roster)]
