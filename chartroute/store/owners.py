"""Whether the process that owns a row (a running sync, a claimed outbox message) is gone.

Owners are written as ``host:pid[:flow run]`` (``lease.default_holder``). Only a process on
this host can be seen to be gone: its pid no longer exists, or it is a zombie its parent has
not reaped. An owner on another host is never judged here; its lease's expiry decides.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def this_host() -> str:
    return socket.gethostname()


def owner_gone(owner: str | None) -> bool:
    """True only when ``owner`` ran on this host and its process no longer runs."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != this_host() or not pid_text.isdigit():
        return False
    return not pid_alive(int(pid_text))


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie counts as gone)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
