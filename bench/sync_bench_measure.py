"""Whole processes as the user waits for them, for ``sync_bench.py``.

A phase is one child process: its wall time from spawn to exit, its CPU seconds (user + system)
and its peak resident memory, from ``os.wait4`` in a small launcher (``sync_bench_spawn.py``:
the kernel's account of that child alone, not of the bench). The flows' Prefect server is
another process; its CPU seconds over the same interval are read from ``/proc`` so a sync's
cost on the server is not left out.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measured", "group_cpu_seconds", "loadavg", "measure", "scratch_postgres", "settle"]

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Measured:
    """One child process: what it cost and what it wrote."""

    wall_s: float
    cpu_s: float
    peak_mb: float
    server_cpu_s: float
    exit_code: int
    stdout: str
    stderr: str


def loadavg() -> str:
    """The 1, 5 and 15-minute load averages, as ``uptime`` shows them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def group_cpu_seconds(pgid: int | None) -> float:
    """CPU seconds of every live process in group ``pgid`` and of the children they reaped."""
    if pgid is None:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            # after "pid (comm)": state ppid pgrp ... utime(12) stime(13) cutime(14) cstime(15)
            if int(fields[2]) == pgid:
                total += sum(int(v) for v in fields[11:15])
    return total / tick


def settle(
    pgid: int | None, interval: float = 2.0, quiet: float = 0.2, cap: float = 300.0
) -> float:
    """Wait until the server's processes use under ``quiet`` CPU seconds per ``interval``.

    A flow of thousands of task runs leaves the server minutes of events to record after the
    flow returns; the next phase would pay for them (and could time out on them), so each phase
    that uses the server starts on a quiet one. The seconds waited (at most ``cap``).
    """
    began = time.monotonic()
    while pgid is not None and time.monotonic() - began < cap:
        before = group_cpu_seconds(pgid)
        time.sleep(interval)
        if group_cpu_seconds(pgid) - before < quiet:
            break
    return time.monotonic() - began


def measure(
    command: list[str], env: dict[str, str], logs: Path, server_pgid: int | None = None
) -> Measured:
    """Run ``command`` to its end with its output in ``logs``.{out,err}; what it cost."""
    logs.parent.mkdir(parents=True, exist_ok=True)
    out, err = logs.with_suffix(".out"), logs.with_suffix(".err")
    server_before = group_cpu_seconds(server_pgid)
    figures = logs.with_suffix(".cost.json")
    launcher = [sys.executable, "-S", str(Path(__file__).with_name("sync_bench_spawn.py"))]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        subprocess.run(
            [*launcher, str(figures), *command],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=env,
            check=False,
        )
    cost = json.loads(figures.read_text())
    return Measured(
        wall_s=cost["wall_s"],
        cpu_s=cost["cpu_s"],
        peak_mb=cost["peak_mb"],
        server_cpu_s=group_cpu_seconds(server_pgid) - server_before,
        exit_code=cost["exit_code"],
        stdout=out.read_text(errors="replace"),
        stderr=err.read_text(errors="replace"),
    )


@contextlib.contextmanager
def scratch_postgres(admin_url: str = PG_ADMIN) -> Iterator[str]:
    """A new, empty PostgreSQL database for one round; dropped afterwards."""
    import psycopg

    name = f"bench_sync_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
