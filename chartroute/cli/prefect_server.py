"""The Prefect server that commands running flows use, and ``chartroute server start|stop|status``.

Without a server named, every command that ran a flow started Prefect's temporary server first:
13 to 58 s on this project's 2-core machine before any work. So a command that runs flows uses,
in this order:

1. the server the environment names (``PREFECT_API_URL``);
2. the local server ``chartroute server start`` runs in the background for this practice home
   (on 127.0.0.1, analytics off, its UI's API pointed at its own port, so ``--port 4300``
   needs no other variable); its pid and URL are kept in ``$CHARTROUTE_HOME/prefect-server.json``
   and its log beside it;
3. only with neither, Prefect's temporary server, saying so once.

Commands that only read the store never come here, and never import Prefect.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import typer

from chartroute.cli.errors import BadInput, exit_codes
from chartroute.store.engine import home

__all__ = ["LocalServer", "ServerFailed", "register", "running", "start", "stop", "use_for_flows"]

STATE_FILE = "prefect-server.json"
LOG_FILE = "prefect-server.log"
DEFAULT_PORT = 4200
HOST = "127.0.0.1"
#: A first start creates Prefect's database; on a loaded 2-core machine that took over a minute.
START_TIMEOUT_S = 240.0

server_app = typer.Typer(
    help="A local Prefect server for this practice home: flows run against it in seconds.",
    no_args_is_help=True,
)


class ServerFailed(Exception):
    """The local server did not start (its log says why) or could not be stopped."""


@dataclass(frozen=True)
class LocalServer:
    """A server ``chartroute server start`` runs: its process and where it listens."""

    pid: int
    port: int
    log: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def ui_url(self) -> str:
        return f"{self.url}/runs"


def _state() -> Path:
    return home() / STATE_FILE


def recorded() -> LocalServer | None:
    """The server the home's state file names, alive or not."""
    try:
        data = json.loads(_state().read_text(encoding="utf-8"))
        return LocalServer(int(data["pid"]), int(data["port"]), str(data["log"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """True when a Prefect API answers its health check at ``api_url``."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def running() -> LocalServer | None:
    """The home's local server when its process is alive and its API answers."""
    server = recorded()
    if server is None or not _process_alive(server.pid) or not healthy(server.api_url):
        return None
    return server


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _any_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start(port: int = DEFAULT_PORT, timeout: float = START_TIMEOUT_S) -> tuple[LocalServer, bool]:
    """Start the home's server on ``port`` in the background (or find it running).

    Returns the server and whether this call started it. ``BadInput`` when the port is taken
    by something else; ``ServerFailed`` when the server does not answer in ``timeout``.
    """
    already = running()
    if already is not None:
        return already, False
    if not _port_free(port):
        raise BadInput(
            f"port {port} on {HOST} is in use by another program: "
            "`chartroute server start --port N` picks another"
        )
    home().mkdir(parents=True, exist_ok=True)
    log = home() / LOG_FILE
    api_url = f"http://{HOST}:{port}/api"
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_UI_API_URL": api_url,  # the UI calls this server, whatever the port
        "PREFECT_SERVER_API_HOST": HOST,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", HOST]
    command += ["--port", str(port), "--analytics-off"]
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # outlives this command; stopped by `server stop`
        )
    server = LocalServer(process.pid, port, str(log))
    _state().write_text(json.dumps(asdict(server)) + "\n", encoding="utf-8")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(server.api_url):
            return server, True
        if process.poll() is not None:
            break
        time.sleep(0.5)
    _terminate(server)
    raise ServerFailed(f"the Prefect server did not start on port {port}; see {log}")


def _terminate(server: LocalServer, wait: float = 20.0) -> None:
    """Stop the server's process group (the server and its workers), then forget it."""
    if _process_alive(server.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while _process_alive(server.pid) and time.monotonic() < deadline:
            _reap(server.pid)
            time.sleep(0.2)
        if _process_alive(server.pid):
            os.killpg(server.pid, signal.SIGKILL)
            _reap(server.pid)
    _state().unlink(missing_ok=True)


def _reap(pid: int) -> None:
    """Collect the exit of a server this very process started (else it lingers as a zombie)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop() -> LocalServer | None:
    """Stop the home's server; None when none was recorded."""
    server = recorded()
    if server is None:
        return None
    _terminate(server)
    return server


_told_temporary = False


def use_for_flows(*, start_local: bool = False) -> str | None:
    """Point this process's flows at a server before Prefect is imported; the UI's URL.

    ``start_local`` (the demo) starts the home's server when neither the environment nor the
    home names one. Otherwise, with neither, Prefect's temporary server runs the flows, and
    the user is told once per process.
    """
    global _told_temporary
    named = os.environ.get("PREFECT_API_URL", "").strip()
    if named:
        return named.removesuffix("/").removesuffix("/api") + "/runs"
    server = running()
    if server is None and start_local:
        port = DEFAULT_PORT if _port_free(DEFAULT_PORT) else _any_free_port()
        print(f"starting a local Prefect server on {HOST}:{port} (once) ...", file=sys.stderr)
        server, _ = start(port)
    if server is not None:
        os.environ["PREFECT_API_URL"] = server.api_url
        return server.ui_url
    if not _told_temporary:
        _told_temporary = True
        print(
            "no Prefect server: PREFECT_API_URL is not set and `chartroute server start` is not "
            "running for this home, so Prefect starts a temporary one for this command (slow: "
            "up to a minute); `chartroute server start` keeps one running",
            file=sys.stderr,
        )
    return None


@server_app.command("start")
def start_command(
    port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help="Port on 127.0.0.1."),
) -> None:
    """Run a Prefect server in the background for this practice home."""
    with exit_codes(failure=(ServerFailed,)):
        server, started = start(port)
    verb = "started" if started else "already running"
    print(
        f"Prefect server {verb} (pid {server.pid}): UI {server.ui_url}, API {server.api_url}; "
        f"log {server.log}. Commands in this home use it; `chartroute server stop` stops it.",
        file=sys.stderr,
    )


@server_app.command("stop")
def stop_command() -> None:
    """Stop this practice home's Prefect server."""
    with exit_codes(failure=(ServerFailed,)):
        server = stop()
    if server is None:
        print("no Prefect server recorded for this home", file=sys.stderr)
    else:
        print(f"stopped the Prefect server (pid {server.pid}, {server.url})", file=sys.stderr)


@server_app.command("status")
def status_command() -> None:
    """Say whether this home's Prefect server runs, and where; which server flows would use."""
    with exit_codes():
        named = os.environ.get("PREFECT_API_URL", "").strip()
        server = running()
        stale = recorded() if server is None else None
    if server is not None:
        sys.stdout.write(f"running\tpid {server.pid}\t{server.ui_url}\t{server.api_url}\n")
    elif stale is not None:
        sys.stdout.write(f"not running\t(pid {stale.pid} on port {stale.port} has stopped)\n")
    else:
        sys.stdout.write("not running\n")
    if named:
        print(f"flows use PREFECT_API_URL={named} (it comes first)", file=sys.stderr)


def register(app: typer.Typer) -> None:
    """Add ``server start|stop|status`` to the ``chartroute`` command."""
    app.add_typer(server_app, name="server")
