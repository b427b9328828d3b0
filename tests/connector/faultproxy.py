"""A tiny HTTP proxy on 127.0.0.1 that injects faults between chartroute and the FHIR server.

Each ``Fault`` matches requests by method and a substring of the path and query, and fires a
set number of times: answer with a status (429 with Retry-After, 500...), stall past the
client's timeout, or send half the body and drop the connection. Everything else is
forwarded unchanged. Served by uvicorn in a thread; every request is recorded.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from tests.connector.sekmet import free_port

PASSED_HEADERS = (
    "content-type",
    "content-location",
    "location",
    "etag",
    "last-modified",
    "retry-after",
    "x-progress",
    "date",
    "www-authenticate",
    "expires",
)


@dataclass
class Fault:
    """What to do to the next ``times`` requests that match."""

    kind: str  # "status" | "stall" | "drop"
    contains: str = ""
    method: str | None = None
    times: int = 1
    status: int = 500
    retry_after: str | None = None
    stall_seconds: float = 3.0
    fired: int = 0

    def matches(self, method: str, target: str) -> bool:
        if self.fired >= self.times:
            return False
        if self.method is not None and method != self.method:
            return False
        return self.contains in target


@dataclass
class Seen:
    method: str
    target: str
    status: int
    fault: str | None = None


@dataclass
class FaultProxy:
    """Forwards http://127.0.0.1:<port>/... to ``upstream`` with faults injected."""

    upstream: str
    port: int = field(default_factory=free_port)
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        config = uvicorn.Config(
            self._app,
            host="127.0.0.1",
            port=self.port,
            log_level="critical",
            lifespan="off",
            interface="asgi3",
        )
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, daemon=True).start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fault proxy did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def fired(self) -> int:
        return sum(f.fired for f in self.faults)

    def requests(self, contains: str = "", method: str | None = None) -> list[Seen]:
        return [
            s for s in self.seen if contains in s.target and (method is None or s.method == method)
        ]

    def _pick(self, method: str, target: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, target):
                    fault.fired += 1
                    return fault
        return None

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method = scope["method"]
        query = scope.get("query_string", b"").decode()
        target = scope["path"] + (f"?{query}" if query else "")
        fault = self._pick(method, target)
        if fault is not None and fault.kind == "status":
            headers = [(b"content-type", b"application/fhir+json")]
            if fault.retry_after is not None:
                headers.append((b"retry-after", fault.retry_after.encode()))
            payload = b'{"resourceType":"OperationOutcome","issue":[{"code":"transient"}]}'
            await send({"type": "http.response.start", "status": fault.status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            self.seen.append(Seen(method, target, fault.status, "status"))
            return
        if fault is not None and fault.kind == "stall":
            await asyncio.sleep(fault.stall_seconds)
        headers_in = {
            k.decode(): v.decode()
            for k, v in scope["headers"]
            if k.decode() not in ("host", "content-length")
        }
        async with httpx.AsyncClient(timeout=60) as client:
            upstream = await client.request(
                method, self.upstream + target, content=body, headers=headers_in
            )
        content = upstream.content
        headers = [
            (k.encode(), v.encode())
            for k, v in upstream.headers.items()
            if k.lower() in PASSED_HEADERS
        ]
        headers.append((b"content-length", str(len(content)).encode()))
        await send(
            {"type": "http.response.start", "status": upstream.status_code, "headers": headers}
        )
        if fault is not None and fault.kind == "drop" and len(content) > 1:
            await send(
                {
                    "type": "http.response.body",
                    "body": content[: len(content) // 2],
                    "more_body": True,
                }
            )
            self.seen.append(Seen(method, target, upstream.status_code, "drop"))
            raise ConnectionAbortedError("fault proxy dropped the connection mid-body")
        await send({"type": "http.response.body", "body": content})
        self.seen.append(Seen(method, target, upstream.status_code, fault.kind if fault else None))
