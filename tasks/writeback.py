"""Task of the sync flow that mirrors work items into the EHR as FHIR Tasks (when enabled).

Retried only on Temporary EHR errors: conditional creates and version-checked updates make a
repeated attempt find the Tasks the failed one already wrote, so nothing is duplicated.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import get_run_logger, task

from chartroute.config import load_config
from chartroute.fhirclient.connect import connect
from chartroute.writeback import mirror_work_items
from chartroute.tasks import context
from chartroute.tasks.retry import UNCACHED, WRITES_EHR
from chartroute.tasks.secrets import prefect_secret


def writeback_enabled(config_path: str) -> bool:
    """Whether the practice turned write-back on (``ehr.writeback.enabled``)."""
    config = load_config(config_path)
    return config.ehr is not None and config.ehr.writeback.enabled


@task(name="write-back-tasks", **WRITES_EHR.options(), **UNCACHED)
def writeback_task(config_path: str) -> dict[str, Any]:
    """Create, update or complete the EHR Task of every work item changed since the last mirror."""
    config = context.config(config_path)
    if config.ehr is None:
        raise ValueError(f"{config_path}: write-back needs an `ehr:` section")
    http = connect(config.ehr, prefect_secret)
    try:
        counts = mirror_work_items(context.engine(), http, config)
    finally:
        http.close()
    get_run_logger().info(
        "write-back: %d items considered; %d Tasks created, %d updated, %d completed, %d unchanged",
        counts.considered,
        counts.created,
        counts.updated,
        counts.completed,
        counts.unchanged,
    )
    return asdict(counts)
