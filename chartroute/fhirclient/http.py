"""The one door to an EHR's FHIR API: authorized, rate-limited, retried, with typed errors.

Every request goes through ``FhirHttp.request``: it takes a rate-limit slot, adds the
Authorization header and the vendor's extra headers, and turns the outcome into either a
response or a ``Temporary``/``Fatal`` error. Temporary ones (408, 429, 5xx, timeouts, a
connection dropped mid-body) are retried here with backoff and jitter; a 401 triggers one
re-authorization. Links the server hands back (``next`` pages, Bulk status and file URLs) are
only followed on the server's own origin, so the token is never sent anywhere else by accident.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import orjson

from chartroute.fhirclient.auth import Auth, NoAuth
from chartroute.fhirclient.errors import (
    AuthorizationFailed,
    Fatal,
    Temporary,
    error_for_status,
    redact_url,
)
from chartroute.fhirclient.ratelimit import RateLimiter
from chartroute.fhirclient.retry import RetryPolicy, parse_retry_after, with_retries

log = logging.getLogger("chartroute.fhirclient")
FHIR_JSON = "application/fhir+json"
DOWNLOAD_CHUNK = 1 << 20


class FhirHttp:
    """A FHIR server at ``base_url``; thread-safe (one pooled httpx client)."""

    def __init__(
        self,
        base_url: str,
        auth: Auth | None = None,
        *,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        rebase_links: bool = False,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.auth: Auth = auth or NoAuth()
        self.limiter = limiter or RateLimiter(10, 4)
        self.retry = retry or RetryPolicy()
        self.rebase_links = rebase_links
        self.client = httpx.Client(
            timeout=timeout,
            transport=transport,
            headers={"Accept": FHIR_JSON, **(headers or {})},
            follow_redirects=False,
        )
        self._count_lock = threading.Lock()
        self.requests_sent = 0

    def close(self) -> None:
        self.client.close()

    # ---- URLs -------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """Absolute URL of a path relative to the base (``Encounter``, ``$export``)."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def follow(self, link: str) -> str:
        """A URL the server gave us, checked to be on its own origin (or rebased onto it)."""
        absolute = urljoin(self.base_url + "/", link)
        if _origin(absolute) == _origin(self.base_url):
            return absolute
        if self.rebase_links:
            base = urlsplit(self.base_url)
            parts = urlsplit(absolute)
            return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
        raise Fatal(
            f"server link {redact_url(absolute)} is not on {self.base_url}; refusing to send "
            "credentials there (set the vendor profile's rebase_links if the server "
            "reports the wrong host behind a proxy)"
        )

    # ---- requests ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        authorized: bool = True,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send with retries; return a 2xx (or a status listed in ``ok``) or raise typed."""
        body = orjson.dumps(json) if json is not None else None
        extra = dict(headers or {})
        if body is not None:
            extra.setdefault("Content-Type", FHIR_JSON)
        what = f"{method} {redact_url(url)}"
        return with_retries(
            self.retry, lambda: self._send(method, url, params, body, extra, authorized, ok), what
        )

    def get_json(
        self, url: str, params: dict[str, str] | None = None
    ) -> tuple[Any, httpx.Response]:
        """GET and decode JSON; a 200 that is not JSON (a gateway's error page) is Temporary."""

        def call() -> tuple[Any, httpx.Response]:
            response = self._send("GET", url, params, None, {}, True, ())
            try:
                return orjson.loads(response.content), response
            except orjson.JSONDecodeError:
                raise Temporary(
                    f"GET {redact_url(url)} answered {response.status_code} without JSON",
                    status=response.status_code,
                    url=url,
                ) from None

        return with_retries(self.retry, call, f"GET {redact_url(url)}")

    def download(self, url: str, dest: Path, *, authorized: bool = True) -> int:
        """Stream a file to ``dest`` through a temporary file; returns its size in bytes.

        The file appears under its final name only when complete (an atomic rename), so a
        crash never leaves a truncated file that looks finished.
        """
        partial = dest.with_name(dest.name + ".part")

        def call() -> int:
            for attempt in (1, 2):
                size, header = self._stream_to(url, partial, authorized)
                if size is not None:
                    partial.replace(dest)
                    return size
                if attempt == 1 and self.auth.renew(header):
                    continue
                break
            raise AuthorizationFailed(
                f"GET {redact_url(url)} answered HTTP 401 after re-authorizing", status=401, url=url
            )

        return with_retries(self.retry, call, f"download {redact_url(url)}")

    def _stream_to(
        self, url: str, partial: Path, authorized: bool
    ) -> tuple[int | None, str | None]:
        """Write one response body to ``partial``: (its size, or None when the server answered
        401; the Authorization header sent)."""
        request_headers = {"Accept": "application/fhir+ndjson"}
        with self.limiter.slot():
            header = self.auth.authorization() if authorized else None
            if header:
                request_headers["Authorization"] = header
            self._count()
            try:
                with self.client.stream("GET", url, headers=request_headers) as response:
                    if response.status_code == 401 and header:
                        return None, header
                    if response.status_code != 200:
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                        raise error_for_status(response.status_code, "GET", url, retry_after)
                    size = 0
                    with partial.open("wb") as fh:
                        for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                            fh.write(chunk)
                            size += len(chunk)
                        fh.flush()
                        os.fsync(fh.fileno())
                    return size, header
            except httpx.TimeoutException as exc:
                raise Temporary(f"GET {redact_url(url)}: {type(exc).__name__}", url=url) from None
            except httpx.TransportError as exc:
                raise Temporary(f"GET {redact_url(url)}: {type(exc).__name__}", url=url) from None

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        body: bytes | None,
        headers: dict[str, str],
        authorized: bool,
        ok: tuple[int, ...],
    ) -> httpx.Response:
        for attempt in (1, 2):
            with self.limiter.slot():
                # Judge the token fresh when the request leaves, not before a rate-limit wait.
                header = self.auth.authorization() if authorized else None
                request_headers = dict(headers)
                if header:
                    request_headers["Authorization"] = header
                self._count()
                try:
                    response = self.client.request(
                        method, url, params=params, content=body, headers=request_headers
                    )
                except httpx.TimeoutException as exc:
                    raise Temporary(
                        f"{method} {redact_url(url)}: {type(exc).__name__}", url=url
                    ) from None
                except httpx.TransportError as exc:
                    raise Temporary(
                        f"{method} {redact_url(url)}: {type(exc).__name__}", url=url
                    ) from None
            status = response.status_code
            log.debug("%s %s -> %d", method, redact_url(url), status)
            if status == 401 and authorized and attempt == 1 and self.auth.renew(header):
                continue
            if 200 <= status < 300 or status in ok:
                return response
            if status == 401:
                raise AuthorizationFailed(
                    f"{method} {redact_url(url)} answered HTTP 401 after re-authorizing",
                    status=status,
                    url=url,
                )
            raise error_for_status(
                status, method, url, parse_retry_after(response.headers.get("Retry-After"))
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _count(self) -> None:
        with self._count_lock:
            self.requests_sent += 1


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def server_time(response: httpx.Response) -> datetime | None:
    """The server's clock from its ``Date`` header (whole seconds, rounded down), if any."""
    value = response.headers.get("Date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
