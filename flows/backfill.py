"""The backfill flow: load and index → plan → one task per partition → daily snapshots.

Partitions run on the task runner the practice's ``backfill:`` settings choose (threads,
processes or Dask); ``run_backfill`` picks it and starts the flow.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from prefect import flow, unmapped
from pydantic import BaseModel, Field, model_validator

from chartroute.config import load_config
from chartroute.pinned_config import pin_config
from chartroute.tasks.backfill import (
    load_task,
    partition_task,
    plan_task,
    snapshots_task,
    task_runner_for,
)


class BackfillParameters(BaseModel):
    """Parameters of a backfill run (shown as a form in the Prefect UI)."""

    source: str = Field(
        description="The historical export: a folder of FHIR NDJSON, a FHIR base URL, or "
        "bulk+<base URL>."
    )
    config: str = Field(default="config/practice.yaml", description="Practice YAML file.")
    start: date = Field(description="First encounter start day (practice-local).")
    end: date = Field(description="Last day backfilled (inclusive).")
    partition_days: int | None = Field(
        default=None, ge=1, le=366, description="Days per partition (default: the config's)."
    )
    dry_run: bool = Field(
        default=False,
        description="Plan and count encounters per partition from the store; load and write "
        "nothing.",
    )
    load: bool = Field(
        default=True, description="Load the source into the store first (skip if already done)."
    )
    as_of: datetime | None = Field(
        default=None, description="When the export was taken (default: now)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> BackfillParameters:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


@flow(name="chartroute-backfill", retries=0)
def backfill_flow(params: BackfillParameters) -> dict[str, Any]:
    """Reconstruct the backlog of past days from historical charts, partition by partition."""
    pin, config = pin_config(params.config)  # read once: every task checks it is unchanged
    as_of = params.as_of or datetime.now(UTC)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    days = params.partition_days or config.backfill.partition_days
    loaded = None
    if params.load and not params.dry_run:
        loaded = load_task(params.source, pin, as_of)
    plan = plan_task(pin, params.start, params.end, days)
    todo = [k for k in plan["partitions"] if k not in set(plan["completed"])]
    futures = partition_task.map(
        unmapped(pin),
        unmapped(plan["backfill_id"]),
        todo,
        unmapped(params.end),
        unmapped(len(plan["partitions"])),
        unmapped(plan["progress_artifact"]),
        unmapped(params.dry_run),
    )
    results = [f.result() for f in futures]
    snapshots = None
    if not params.dry_run:
        snapshots = snapshots_task(pin, plan["backfill_id"], params.start, params.end,
                                   results)  # fmt: skip
    return {
        "backfill_id": plan["backfill_id"],
        "load": loaded,
        "partitions": len(plan["partitions"]),
        "skipped": len(plan["completed"]),
        "ran": len(results),
        "encounters": sum(int(r["encounters"]) for r in results),
        "snapshots": snapshots,
    }


def run_backfill(
    params: BackfillParameters, runner: str | None = None, workers: int | None = None
) -> dict[str, Any]:
    """Run the flow on the task runner the config chooses (or ``runner``/``workers``)."""
    settings = load_config(params.config).backfill  # the launcher's choice, before the run
    task_runner = task_runner_for(
        runner or settings.task_runner, workers or settings.workers, settings.dask_address
    )
    result: dict[str, Any] = backfill_flow.with_options(task_runner=task_runner)(params)
    return result
