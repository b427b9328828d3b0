"""The backfill flow: the stage sequence of ``chartroute/backfill/sequence.py`` as Prefect tasks,
backfill-load → backfill-plan → backfill-partition [key] per partition → backfill-snapshots.

Partitions run on the task runner the practice's ``backfill:`` settings choose (threads,
processes or Dask); ``run_backfill`` picks it and starts the flow.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from prefect import flow, unmapped
from pydantic import BaseModel, Field, model_validator

from chartroute.backfill.ledger import PartitionResult
from chartroute.backfill.run import LoadResult
from chartroute.backfill.sequence import (
    BackfillPlan,
    BackfillRequest,
    BackfillSummary,
    run_backfill_stages,
)
from chartroute.config import load_config
from chartroute.pinned_config import PinnedConfig, pin_config
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


class BackfillTasks:
    """The backfill's stages as Prefect tasks; partitions are mapped over the task runner."""

    def __init__(self, source: str, config: PinnedConfig, as_of: datetime) -> None:
        self.source = source
        self.config = config
        self.as_of = as_of
        self.progress_artifact: str | None = None

    def load(self) -> LoadResult:
        return load_task(self.source, self.config, self.as_of)

    def plan(self, request: BackfillRequest) -> BackfillPlan:
        planned = plan_task(self.config, request)
        self.progress_artifact = planned.progress_artifact
        return planned.plan

    def run_partitions(
        self, plan: BackfillPlan, keys: list[str], request: BackfillRequest
    ) -> list[PartitionResult]:
        futures = partition_task.map(
            unmapped(self.config),
            unmapped(plan.backfill_id),
            keys,
            unmapped(request.end),
            unmapped(len(plan.partitions)),
            unmapped(self.progress_artifact),
            unmapped(request.dry_run),
        )
        return [f.result() for f in futures]

    def snapshots(
        self, plan: BackfillPlan, request: BackfillRequest, results: list[PartitionResult]
    ) -> int:
        return snapshots_task(self.config, plan.backfill_id, request, results)


@flow(name="chartroute-backfill", retries=0)
def backfill_flow(params: BackfillParameters) -> BackfillSummary:
    """Reconstruct the backlog of past days from historical charts, partition by partition."""
    pin, config = pin_config(params.config)  # read once: every task checks it is unchanged
    as_of = params.as_of or datetime.now(UTC)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    request = BackfillRequest(
        params.start, params.end, params.partition_days or config.backfill.partition_days,
        load=params.load, dry_run=params.dry_run,
    )  # fmt: skip
    return run_backfill_stages(BackfillTasks(params.source, pin, as_of), request)


def run_backfill(
    params: BackfillParameters, runner: str | None = None, workers: int | None = None
) -> BackfillSummary:
    """Run the flow on the task runner the config chooses (or ``runner``/``workers``)."""
    settings = load_config(params.config).backfill  # the launcher's choice, before the run
    task_runner = task_runner_for(
        runner or settings.task_runner, workers or settings.workers, settings.dask_address
    )
    result: BackfillSummary = backfill_flow.with_options(task_runner=task_runner)(params)
    return result
