"""Task of the sync flow that mirrors work items into the EHR as FHIR Tasks (when enabled).

Retried only on Temporary EHR errors: conditional creates and version-checked updates make a
repeated attempt find the Tasks the failed one already wrote, so nothing is duplicated.
"""

from __future__ import annotations

from prefect import get_run_logger, task

from chartroute.pinned_config import PinnedConfig
from chartroute.tasks import context
from chartroute.tasks.retry import UNCACHED, WRITES_EHR
from chartroute.tasks.secrets import prefect_secret
from chartroute.writeback import WritebackCounts
from chartroute.writeback.run import write_back


@task(name="write-back-tasks", **WRITES_EHR.options(), **UNCACHED)
def writeback_task(config: PinnedConfig) -> WritebackCounts:
    """Create, update or complete the EHR Task of every work item changed since the last mirror."""
    counts = write_back(context.engine(), context.config(config), prefect_secret)
    if counts.mode == "shadow":
        get_run_logger().info("write-back: shadow mode, no Task written to the EHR")
        return counts
    get_run_logger().info(
        "write-back: %d items considered; %d Tasks created, %d updated, %d completed, %d unchanged",
        counts.considered,
        counts.created,
        counts.updated,
        counts.completed,
        counts.unchanged,
    )
    return counts
