"""Database leases for flows: take at the start, release at the end, release on failure too.

``take_lease_task`` takes the named lease for the current flow run and keeps it renewed on a
thread of this process; ``release_lease_task`` gives it up. A flow that fails, crashes or is
cancelled in between releases its leases through the ``release_leases`` state hook (pass it as
``on_failure``/``on_crashed``/``on_cancellation``); a process that dies outright stops renewing
and its lease expires after ``ttl_seconds``. A flow retry re-takes the lease it already holds.
Only the lease name and token pass through Prefect.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from prefect import get_run_logger, task
from prefect.runtime import flow_run

from chartroute.store.lease import LeaseKeeper, acquire, default_holder
from chartroute.tasks import context
from chartroute.tasks.retry import DATABASE_ONLY, UNCACHED

SYNC_LEASE = "chartroute-sync"
SWEEP_LEASE = "chartroute-escalation-sweep"
DEFAULT_TTL_SECONDS = 120

_keepers: dict[str, LeaseKeeper] = {}  # by token, for this process
_lock = threading.Lock()


def _run_id() -> str | None:
    run = flow_run.get_id()
    return str(run) if run else None


@task(
    name="take-lease",
    task_run_name="take-lease [{name}]",
    **DATABASE_ONLY.options(),
    **UNCACHED,
)
def take_lease_task(name: str, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
    """Take the lease or fail the run with who holds it; returns the lease token."""
    ttl = timedelta(seconds=ttl_seconds)
    holder = default_holder(_run_id())
    with _lock:
        for token, keeper in list(_keepers.items()):
            if keeper.lease.name == name and keeper.lease.holder == holder and not keeper.lost:
                return token  # a retry of this flow run: still ours
        held = acquire(context.engine(), name, holder, ttl)
        _keepers[held.token] = LeaseKeeper(context.engine(), held, ttl)
    get_run_logger().info("took lease %s as %s until %s", name, holder, held.expires_at.isoformat())
    return held.token


@task(name="release-lease", **UNCACHED)
def release_lease_task(token: str) -> bool:
    """Give the lease up; False (with a warning) when it had been lost meanwhile."""
    with _lock:
        keeper = _keepers.pop(token, None)
    if keeper is None:
        return False
    released = keeper.release()
    if not released or keeper.lost:
        get_run_logger().warning("lease %s had been lost before release", keeper.lease.name)
    return released


def release_leases(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow state hook: release every lease the failed, crashed or cancelled run still holds.

    The parameters are named as Prefect names them: the flow engine passes them by position,
    but the runner that serves deployments calls a cancelled run's hooks by keyword
    (``flow=, flow_run=, state=``). In the runner's process this finds no lease to release:
    the keepers live in the run's own process, which the cancelling killed, so its lease
    lapses after its time to live, as for any process that dies."""
    holder = default_holder(str(flow_run.id))
    with _lock:
        mine = [t for t, k in _keepers.items() if k.lease.holder == holder]
        keepers = [_keepers.pop(t) for t in mine]
    for keeper in keepers:
        keeper.release()


#: Hooks for ``@flow(...)`` so a run that ends badly frees its leases at once.
LEASE_HOOKS: dict[str, Any] = {
    "on_failure": [release_leases],
    "on_crashed": [release_leases],
    "on_cancellation": [release_leases],
}
