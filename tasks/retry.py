"""How chartroute's tasks are retried, in one place: which failures, how often, how far apart.

Only failures that may pass by themselves are retried (``chartroute.transient``: Temporary EHR
errors, timeouts, dropped connections, database contention); a Fatal EHR answer, a config
error, a missing file or a read-only database fails the task at once. The schedules differ by
what a task waits on: the source (an EHR or a shared folder), the EHR when writing to it, or
only chartroute's own database. Tasks that cannot meet a transient failure (publishing
artifacts, releasing a lease) are not retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect.cache_policies import NO_CACHE

from chartroute.transient import is_transient

#: Options every task shares: each run does its work (no cache), and no result is persisted,
#: so nothing a task returns is stored in Prefect's database.
UNCACHED: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only errors that may pass by themselves."""
    try:
        state.result()
    except Exception as error:
        return is_transient(error)
    return False


@dataclass(frozen=True)
class TaskRetries:
    """A retry schedule: the delays before each retry, spread by jitter."""

    delays: tuple[float, ...]
    jitter: float = 0.5

    def options(self) -> dict[str, Any]:
        """The ``@task`` options for this schedule."""
        return {
            "retries": len(self.delays),
            "retry_delay_seconds": list(self.delays),
            "retry_jitter_factor": self.jitter,
            "retry_condition_fn": retry_if_transient,
        }


#: Reading the source: an EHR's search or export, or a folder on a share.
READS_SOURCE = TaskRetries((2, 5, 15))
#: Writing Tasks to the EHR: a server that is down may take minutes to come back.
WRITES_EHR = TaskRetries((5, 30, 120))
#: Only chartroute's database: a lock another writer holds is released within seconds.
DATABASE_ONLY = TaskRetries((2, 10))
