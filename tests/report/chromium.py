"""Drive Debian's headless Chromium over the DevTools protocol: load a page, collect what went
wrong, read its text and take a screenshot.

The command line alone (``--screenshot``, ``--dump-dom``) cannot report console errors
reliably, so the browser is started with ``--remote-debugging-port=0`` (it prints the loopback
WebSocket it chose) and the test listens to ``Runtime.consoleAPICalled``,
``Runtime.exceptionThrown``, ``Log.entryAdded`` (blocked loads and CSP violations land here)
and ``Network.requestWillBeSent`` (every request the page makes).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
)
_LISTENING = re.compile(r"DevTools listening on (ws://127\.0\.0\.1:\d+/\S+)")


@dataclass
class PageVisit:
    """What loading one page showed."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    screenshot: Path | None = None

    @property
    def problems(self) -> list[str]:
        return self.console_errors + self.exceptions + self.log_errors


class _Session:
    """One DevTools WebSocket, with a flat session attached to a page target."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self.ws = connect(url, max_size=None, open_timeout=20)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.session_id: str | None = None

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        call_id = next(self.ids)
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if self.session_id and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session_id
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == call_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        for event in self.events:
            if event["method"] == method:
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if "method" in reply:
                self.events.append(reply)
                if reply["method"] == method:
                    found: dict[str, Any] = reply
                    return found
        raise TimeoutError(f"no {method} within {timeout} s")

    def drain(self, seconds: float) -> None:
        """Collect events for a short while (late console messages)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                reply = json.loads(self.ws.recv(timeout=max(0.05, deadline - time.monotonic())))
            except TimeoutError:
                return
            if "method" in reply:
                self.events.append(reply)

    def close(self) -> None:
        self.ws.close()


def visit(url: str, screenshot: Path, width: int = 1200) -> PageVisit:
    """Load ``url`` in a fresh headless Chromium; report errors, text, HTML and a screenshot."""
    profile = tempfile.mkdtemp(prefix="chartroute-chromium-")
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            *FLAGS,
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--window-size={width},900",
            "about:blank",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOME": profile},
    )
    session: _Session | None = None
    try:
        ws_url = _devtools_url(proc)
        session = _Session(ws_url)
        target = session.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = session.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        session.session_id = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            session.send(f"{domain}.enable")
        session.send("Page.navigate", {"url": url})
        session.wait_for("Page.loadEventFired")
        session.drain(1.0)
        result = _collect(session)
        metrics = session.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot = session.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1},
            },
            timeout=60,
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        result.screenshot = screenshot
        return result
    finally:
        if session is not None:
            with contextlib.suppress(Exception):
                session.send("Browser.close", timeout=5)
            session.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line.strip())
        match = _LISTENING.search(line)
        if match:
            return match.group(1)
    raise RuntimeError("Chromium did not start its DevTools endpoint:\n" + "\n".join(seen[-20:]))


def _collect(session: _Session) -> PageVisit:
    result = PageVisit()
    for event in session.events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = params.get("args", [])
            result.console_errors.append(" ".join(str(a.get("value", a)) for a in args))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            result.exceptions.append(str(details.get("text")) + " " + str(details.get("exception")))
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error":
                result.log_errors.append(f"{entry.get('source')}: {entry.get('text')}")
        elif method == "Network.requestWillBeSent":
            result.requests.append(params.get("request", {}).get("url", ""))
    text = session.send(
        "Runtime.evaluate", {"expression": "document.body.innerText", "returnByValue": True}
    )
    result.text = str(text.get("result", {}).get("value", ""))
    html = session.send(
        "Runtime.evaluate",
        {"expression": "document.documentElement.outerHTML", "returnByValue": True},
    )
    result.html = str(html.get("result", {}).get("value", ""))
    return result
