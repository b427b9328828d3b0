"""Seconds, not a minute: read-only commands never import Prefect; commands that run flows use
the environment's server, else the home's (``chartroute server start``), else say once that
Prefect starts a temporary one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from chartroute.cli import prefect_server
from chartroute.store.engine import make_engine
from tests.conftest import ROOT

EXAMPLE = ROOT / "config" / "practice.yaml"

#: Runs one command in a fresh interpreter and fails if it imported Prefect.
NO_PREFECT = """
import sys
from chartroute.cli.main import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    loaded = sorted(m for m in sys.modules if m == "prefect" or m.startswith("prefect."))
    print("PREFECT-MODULES", len(loaded), file=sys.stderr)
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("CHARTROUTE_HOME", str(folder))
    monkeypatch.delenv("CHARTROUTE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return folder


@pytest.mark.parametrize(
    "command",
    [
        ["worklist"],
        ["outbox"],
        ["quarantine"],
        ["config", "check", "--config", str(EXAMPLE)],
        ["review", "report", "--config", str(EXAMPLE)],
        ["server", "status"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_reading_commands_do_not_import_prefect(home: Path, command: list[str]) -> None:
    make_engine().dispose()  # an (empty) store to read
    env = {**os.environ, "CHARTROUTE_HOME": str(home)}
    env.pop("CHARTROUTE_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", NO_PREFECT, *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "PREFECT-MODULES 0" in done.stderr, done.stderr[-2000:]


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.path == "/api/health"
        self.send_response(200 if ok else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[int]:
    """A port where something answers Prefect's health check."""
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()


def test_flows_use_the_environment_then_the_home_then_say_temporary_once(
    home: Path, answering: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(prefect_server, "_told_temporary", False)
    assert prefect_server.use_for_flows() is None
    assert prefect_server.use_for_flows() is None
    said = capsys.readouterr().err
    assert said.count("Prefect starts a temporary one") == 1
    assert "PREFECT_API_URL" not in os.environ

    home.mkdir(parents=True)
    state = {"pid": os.getpid(), "port": answering, "log": str(home / "prefect-server.log")}
    (home / prefect_server.STATE_FILE).write_text(json.dumps(state))
    monkeypatch.setenv("PREFECT_API_URL", "")  # restored after the test
    assert prefect_server.use_for_flows() == f"http://127.0.0.1:{answering}/runs"
    assert os.environ["PREFECT_API_URL"] == f"http://127.0.0.1:{answering}/api"

    monkeypatch.setenv("PREFECT_API_URL", "http://10.0.0.5:4300/api")
    assert prefect_server.use_for_flows() == "http://10.0.0.5:4300/runs"
    assert os.environ["PREFECT_API_URL"] == "http://10.0.0.5:4300/api"
    assert capsys.readouterr().err == ""


def test_a_stopped_server_is_not_used(home: Path) -> None:
    home.mkdir(parents=True)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    state = {"pid": int(gone.stdout), "port": 9, "log": "x"}
    (home / prefect_server.STATE_FILE).write_text(json.dumps(state))
    assert prefect_server.running() is None


def test_start_refuses_a_port_another_program_holds(home: Path, answering: int) -> None:
    from chartroute.cli.errors import BadInput

    with pytest.raises(BadInput, match=f"port {answering} on 127.0.0.1 is in use"):
        prefect_server.start(answering)


@pytest.mark.slow
def test_a_local_server_on_a_non_default_port_serves_the_flow_commands(
    home: Path, tmp_path: Path
) -> None:
    """`server start --port N`, then `sweep` uses it with no other variable; `server stop`."""
    port = prefect_server._any_free_port()
    env = {
        **os.environ,
        "CHARTROUTE_HOME": str(home),
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    env.pop("PREFECT_API_URL", None)
    env.pop("CHARTROUTE_DATABASE_URL", None)

    def chartroute(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "chartroute.cli.main", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=400,
            check=False,
        )

    try:
        started = chartroute("server", "start", "--port", str(port))
        assert started.returncode == 0, started.stderr[-3000:]
        assert f"UI http://127.0.0.1:{port}/runs" in started.stderr
        status = chartroute("server", "status")
        assert status.stdout.startswith("running\t") and f":{port}/api" in status.stdout
        swept = chartroute("sweep", "--config", str(EXAMPLE), "--as-of", "2026-03-10")
        assert swept.returncode == 0, swept.stderr[-3000:]
        assert "temporary" not in swept.stderr
        ui = subprocess.run(
            [sys.executable, "-c",
             f"import urllib.request as u; print(u.urlopen('http://127.0.0.1:{port}/ui-settings')"
             ".read().decode())"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
        assert f"127.0.0.1:{port}/api" in ui.stdout  # the UI calls its own port
    finally:
        stopped = chartroute("server", "stop")
    assert stopped.returncode == 0 and "stopped the Prefect server" in stopped.stderr
    assert chartroute("server", "status").stdout.startswith("not running")
