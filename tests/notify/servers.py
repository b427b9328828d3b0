"""Local stand-ins for the team's tools, on 127.0.0.1, recording what they receive.

- ``SmtpServer``: aiosmtpd with STARTTLS and AUTH required; mailboxes keyed by Message-ID, as a
  mail store keeps them, plus every raw delivery so tests can count copies on the wire.
- ``SlackServer``: the Web API methods the Slack channel calls (conversations.open,
  chat.postMessage, conversations.history) and an incoming-webhook path; it checks Block Kit
  structure and answers ``invalid_blocks`` like Slack when a message breaks the rules.
- ``WebhookReceiver``: verifies the HMAC signature with its own code and keeps the first copy
  of each Idempotency-Key, as the webhook contract asks receivers to.
Each can be switched "down" (503 / SMTP 451) to simulate an outage.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (CN and IP SAN), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# --------------------------------------------------------------------------------------- SMTP


@dataclass
class _SmtpState:
    raw: list[tuple[str, EmailMessage]] = field(default_factory=list)  # (rcpt, message)
    mailboxes: dict[str, dict[str, EmailMessage]] = field(default_factory=lambda: defaultdict(dict))
    down: bool = False
    reject: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler:
    def __init__(self, state: _SmtpState) -> None:
        self.state = state
        self.queued = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.state.reject:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.state.down:
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.state.lock:
            self.queued += 1
            for rcpt in envelope.rcpt_tos:
                self.state.raw.append((rcpt, message))
                self.state.mailboxes[rcpt].setdefault(str(message["Message-ID"]), message)
        return f"250 2.0.0 Ok: queued as Q{self.queued:05d}"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 with STARTTLS and AUTH required."""

    USER = "chartroute"
    PASSWORD = "s3cret-smtp"

    def __init__(self, folder: Path) -> None:
        self.cert, key = self_signed_cert(folder)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert, key)
        self.state = _SmtpState()
        self.port = free_port()
        self.controller = Controller(
            _Handler(self.state),
            hostname="127.0.0.1",
            port=self.port,
            tls_context=tls,
            require_starttls=True,
            authenticator=self._authenticate,
            auth_required=True,
            auth_require_tls=True,
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.USER.encode(),
            self.PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def mailboxes(self) -> dict[str, dict[str, EmailMessage]]:
        return self.state.mailboxes

    @property
    def raw(self) -> list[tuple[str, EmailMessage]]:
        return self.state.raw


# ------------------------------------------------------------------------------------ HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def _serve(handler: type[BaseHTTPRequestHandler], owner: Any) -> tuple[_Server, int]:
    server = _Server(("127.0.0.1", 0), handler)
    server.owner = owner  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, int(server.server_address[1])


class _JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


# ------------------------------------------------------------------------------------ Slack

BLOCK_TYPES = {"header", "section", "divider", "context", "actions", "image", "rich_text"}


def block_kit_problems(blocks: Any) -> list[str]:
    """What Slack would reject in ``blocks`` (the rules the channel must respect)."""
    problems: list[str] = []
    if not isinstance(blocks, list) or not blocks:
        return ["blocks must be a non-empty list"]
    if len(blocks) > 50:
        problems.append(f"{len(blocks)} blocks > 50")
    for i, block in enumerate(blocks):
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            problems.append(f"block {i}: unknown type {kind!r}")
        if kind == "header":
            text = block.get("text") or {}
            if text.get("type") != "plain_text" or not 0 < len(text.get("text", "")) <= 150:
                problems.append(f"block {i}: header needs plain_text of 1-150 characters")
        if kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                problems.append(f"block {i}: section needs text or fields")
            if text is not None and (
                text.get("type") not in ("mrkdwn", "plain_text")
                or not 0 < len(text.get("text", "")) <= 3000
            ):
                problems.append(f"block {i}: section text must be 1-3000 characters")
            if fields is not None and (
                len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields)
            ):
                problems.append(f"block {i}: at most 10 fields of 2000 characters")
        if kind == "context":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= 10:
                problems.append(f"block {i}: context needs 1-10 elements")
    return problems


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None


class _SlackHandler(_JsonHandler):
    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        body = self._body() if self.command == "POST" else b""
        kind = self.headers.get("Content-Type", "")
        if body and "json" in kind:
            params.update(json.loads(body))
        elif body:
            params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
        return params

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        slack: SlackServer = self.server.owner  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        params = self._params()
        with slack.lock:
            slack.requests.append((path, params, dict(self.headers)))
            if slack.down:
                self._reply(503, b"<html>down</html>")
                return
        if path.startswith("/services/"):
            self._webhook(slack, params)
            return
        if self.headers.get("Authorization") != f"Bearer {slack.token}":
            self._reply(200, {"ok": False, "error": "invalid_auth"})
            return
        method = path.rsplit("/", 1)[-1]
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            self._reply(200, {"ok": False, "error": "unknown_method"})
            return
        handler(slack, params)

    def _conversations_open(self, slack: SlackServer, params: dict[str, Any]) -> None:
        user = params.get("users", "")
        if user not in slack.users:
            self._reply(200, {"ok": False, "error": "user_not_found"})
            return
        self._reply(200, {"ok": True, "channel": {"id": "D" + user}})

    def _chat_postMessage(self, slack: SlackServer, params: dict[str, Any]) -> None:
        problems = block_kit_problems(params.get("blocks"))
        if not params.get("text"):
            problems.append("no fallback text")
        if problems:
            slack.violations.extend(problems)
            self._reply(200, {"ok": False, "error": "invalid_blocks", "errors": problems})
            return
        with slack.lock:
            slack.clock += 1
            ts = f"{time.time():.0f}.{slack.clock:06d}"
            message = SlackMessage(
                params["channel"], ts, params["text"], params["blocks"], params.get("metadata")
            )
            slack.messages[params["channel"]].append(message)
        self._reply(200, {"ok": True, "channel": params["channel"], "ts": ts})

    def _conversations_history(self, slack: SlackServer, params: dict[str, Any]) -> None:
        oldest = float(params.get("oldest") or 0)
        with slack.lock:
            found = [m for m in slack.messages.get(params["channel"], []) if float(m.ts) >= oldest]
        include = params.get("include_all_metadata") in ("1", "true", True)
        out = [
            {
                "ts": m.ts,
                "text": m.text,
                **({"metadata": m.metadata} if include and m.metadata else {}),
            }
            for m in reversed(found)
        ]
        self._reply(200, {"ok": True, "messages": out, "has_more": False})

    def _webhook(self, slack: SlackServer, params: dict[str, Any]) -> None:
        problems = block_kit_problems(params.get("blocks"))
        if problems:
            slack.violations.extend(problems)
            self._reply(400, b"invalid_blocks")
            return
        with slack.lock:
            slack.webhook_posts.append(params)
        self._reply(200, b"ok")


class SlackServer:
    """Slack's Web API and an incoming webhook, for the methods chartroute calls."""

    def __init__(self, token: str = "xoxb-test-token", users: tuple[str, ...] = ()) -> None:
        self.token = token
        self.users = set(users)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.messages: dict[str, list[SlackMessage]] = defaultdict(list)
        self.webhook_posts: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.down = False
        self.clock = 0
        self.server, self.port = _serve(_SlackHandler, self)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/T000/B000/XXXX"

    def keys_in(self, user: str) -> list[str]:
        """Message keys (from metadata) posted to a user's direct message, in order."""
        return [
            (m.metadata or {}).get("event_payload", {}).get("key", "")
            for m in self.messages.get("D" + user, [])
        ]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------- webhook


class _HookHandler(_JsonHandler):
    def do_POST(self) -> None:
        hook: WebhookReceiver = self.server.owner  # type: ignore[attr-defined]
        body = self._body()
        timestamp = self.headers.get("X-Chartroute-Timestamp", "")
        signature = self.headers.get("X-Chartroute-Signature", "")
        expected = (
            "v1="
            + hmac.new(
                hook.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
            ).hexdigest()
        )
        with hook.lock:
            hook.raw.append(body)
            if hook.down:
                self._reply(503, {"error": "down"})
                return
            if hook.reject:
                self._reply(400, {"error": "rejected"})
                return
            if (
                not hmac.compare_digest(signature, expected)
                or abs(time.time() - int(timestamp or 0)) > 300
            ):
                hook.bad_signatures += 1
                self._reply(401, {"error": "bad signature"})
                return
            key = self.headers.get("Idempotency-Key", "")
            payload = json.loads(body)
            if key in hook.seen:
                hook.duplicates += 1
            else:
                hook.seen.add(key)
                hook.accepted.append(payload)
        if hook.delay:
            time.sleep(hook.delay)
        self._reply(200, {"ok": True}, {"X-Request-Id": f"req-{len(hook.raw)}"})


class WebhookReceiver:
    """A webhook endpoint that checks signatures and drops repeated Idempotency-Keys."""

    def __init__(self, secret: str = "whsec-test") -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.raw: list[bytes] = []
        self.accepted: list[dict[str, Any]] = []
        self.seen: set[str] = set()
        self.duplicates = 0
        self.bad_signatures = 0
        self.down = False
        self.reject = False
        self.delay = 0.0
        self.server, self.port = _serve(_HookHandler, self)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def raw_keys(self) -> list[str]:
        return [json.loads(b)["id"] for b in self.raw]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
