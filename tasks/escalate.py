"""Tasks of the escalation sweep: run the sweep stage, publish its counts (no PHI)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from chartroute.pinned_config import PinnedConfig
from chartroute.sweep import run_sweep
from chartroute.tasks import context
from chartroute.tasks.retry import DATABASE_ONLY, UNCACHED


@task(name="sweep-record-enqueue", **DATABASE_ONLY.options(), **UNCACHED)
def sweep_task(config: PinnedConfig, as_of: datetime | None) -> dict[str, Any]:
    """Escalate every open work item that is due at ``as_of`` (default: now).

    Safe to retry: batches already committed have recorded their steps, and a step recorded
    once is neither recorded nor announced again.
    """
    when = as_of or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    run = flow_run.get_id()
    run_id = str(run) if run else str(uuid.uuid4())
    counts = run_sweep(context.engine(), context.config(config), when, run_id)
    get_run_logger().info(
        "sweep at %s: %d open items, %d escalated, %d reminded again, %d delinquent, "
        "%d notifications enqueued, %d without anyone to tell, %d ladders stopped (closed)",
        when.isoformat(),
        counts.items,
        counts.escalated,
        counts.repeated,
        counts.delinquent,
        counts.notifications,
        counts.unrouted,
        counts.settled,
    )
    if counts.unrouted:
        get_run_logger().warning(
            "%d escalations had nobody to tell: check escalation.managers and the roster's "
            "manager and medical-director roles",
            counts.unrouted,
        )
    return {"as_of": when.isoformat(), "run_id": run_id, **asdict(counts)}


@task(name="sweep-summary", **UNCACHED)
def sweep_summary_task(result: dict[str, Any]) -> dict[str, Any]:
    """Publish the sweep's counts as a table artifact."""
    rows = [{"count": k, "value": v} for k, v in result.items() if isinstance(v, int)]
    rows.append({"count": "mode", "value": result["mode"]})  # shadow: nothing was sent
    rows += [{"count": f"sent: {k}", "value": v} for k, v in sorted(result["by_tier"].items())]
    create_table_artifact(
        key="escalation-sweep",
        table=rows,
        description=f"Escalation sweep at {result['as_of']}",
    )
    return result
