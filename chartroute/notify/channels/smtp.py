"""Email over SMTP with the standard library: plain-text and HTML parts, STARTTLS by default.

SMTP has no way to ask a server whether it accepted a message earlier, so ``lookup`` answers
"unknown" and a message interrupted between the server's acceptance and chartroute's record of
it is sent again with the same ``Message-ID`` (derived from the message key); mail stores use
that header to recognise the copy. The transaction is driven command by command so the
server's reply to DATA (usually with its queue id) is kept as the provider id.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from chartroute.config.notify import SmtpChannel as SmtpChannelConfig
from chartroute.notify import render
from chartroute.notify.channels.base import (
    SENT_UNKNOWN,
    DeliveryError,
    Lookup,
    Outgoing,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)


def build_email(message: Outgoing, sender: str) -> EmailMessage:
    """The MIME message: deterministic headers and both bodies."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.address
    email["Subject"] = render.subject(message.content)
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message_id(message, sender)
    email["X-Chartroute-Message"] = message.key
    email.set_content(render.text(message.content, message.key))
    email.add_alternative(render.html_body(message.content, message.key), subtype="html")
    return email


def message_id(message: Outgoing, sender: str) -> str:
    """``<key@sender-domain>``: the same for every attempt of a message."""
    domain = sender.rsplit("@", 1)[-1].strip(">") or "chartroute.invalid"
    return f"<{message.key}@{domain}>"


class SmtpChannel:
    """Sends each message in its own SMTP session."""

    def __init__(self, name: str, config: SmtpChannelConfig, password: str | None) -> None:
        self.name = name
        self.config = config
        self.password = password

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.config.ca_file:
            context.load_verify_locations(cafile=self.config.ca_file)
        return context

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.security == "tls":
            return smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=self._tls_context()
            )
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
        if cfg.security == "starttls":
            client.ehlo()
            client.starttls(context=self._tls_context())
        return client

    def send(self, message: Outgoing) -> str:
        email = build_email(message, self.config.sender)
        try:
            with self._connect() as client:
                client.ehlo()
                if self.config.username and self.password is not None:
                    client.login(self.config.username, self.password)
                _expect(client.mail(self.config.sender), "MAIL FROM", (250,))
                _expect(client.rcpt(message.address), "RCPT TO", (250, 251), recipient=True)
                # The SMTP policy ends lines with CRLF: smtplib sends bytes as given.
                code, reply = client.data(email.as_bytes(policy=SMTP))
                _expect((code, reply), "DATA", (250,))
        except DeliveryError:
            raise
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}") from exc
        except ssl.SSLCertVerificationError as exc:
            raise PermanentDeliveryError(
                f"TLS certificate not trusted: {exc.verify_message}"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentDeliveryError(f"server does not support it: {exc}") from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(f"{type(exc).__name__}: {exc}") from exc
        return _text(reply) or email["Message-ID"]

    def lookup(self, message: Outgoing) -> Lookup:
        return SENT_UNKNOWN

    def close(self) -> None:
        return None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _by_code(code: int, text: str, recipient: bool = False) -> DeliveryError:
    """4xx replies are temporary by definition (RFC 5321 §4.2.1), 5xx permanent.

    A 4xx to RCPT concerns that mailbox only, so the relay is not taken to be down.
    """
    if 400 <= code < 500 or code < 0:
        return TemporaryDeliveryError(text, channel_down=not recipient)
    return PermanentDeliveryError(text)


def _expect(
    reply: tuple[int, bytes], command: str, ok: tuple[int, ...], recipient: bool = False
) -> None:
    code, text = reply
    if code not in ok:
        raise _by_code(code, f"{command}: SMTP {code}: {_text(text)}", recipient)
