"""Delivery channels: one module per kind, built from the ``notify.channels`` config.

To add a kind (the FHIR Task write-back, say): a config model in ``chartroute/config/notify.py``
joined to ``ChannelConfig``, a class with ``send``/``lookup``/``close`` (see ``base.Channel``),
and a branch in ``build_channel`` and ``address_for`` below; a channel that needs one message
per work item rather than a digest (a Task per item) also answers True in ``per_item``.
"""

from __future__ import annotations

from chartroute.config.models import Person
from chartroute.config.notify import (
    ChannelConfig,
    FileChannel,
    SlackChannel,
    SmtpChannel,
    WebhookChannel,
)
from chartroute.notify.channels.base import Channel
from chartroute.notify.secrets import SecretResolver


def address_for(config: ChannelConfig, person: Person) -> str | None:
    """How a channel reaches a person, or None when the roster gives it no way to."""
    if isinstance(config, SmtpChannel):
        return person.email
    if isinstance(config, SlackChannel):
        if config.token is not None:
            return person.slack
        return person.slack or person.id  # webhook mode: a mention when the id is known
    return person.id


def per_item(config: ChannelConfig) -> bool:
    """True for channels that take one message per notification instead of a digest."""
    return False


def build_channel(name: str, config: ChannelConfig, resolve: SecretResolver) -> Channel:
    """A ready channel; raises ``MissingSecret`` when a secret it needs is not available."""
    if isinstance(config, FileChannel):
        from chartroute.notify.channels.file import FileChannel as FileImpl

        return FileImpl(name, config)
    if isinstance(config, SmtpChannel):
        from chartroute.notify.channels.smtp import SmtpChannel as SmtpImpl

        password = resolve(config.password) if config.password is not None else None
        return SmtpImpl(name, config, password)
    if isinstance(config, SlackChannel):
        from chartroute.notify.channels.slack import SlackChannel as SlackImpl

        ref = config.token if config.token is not None else config.webhook_url
        assert ref is not None
        return SlackImpl(name, config, resolve(ref))
    if isinstance(config, WebhookChannel):
        from chartroute.notify.channels.webhook import WebhookChannel as WebhookImpl

        return WebhookImpl(name, config, resolve(config.secret))
    raise TypeError(f"no channel implementation for {type(config).__name__}")
