"""The backfill flow: the stage sequence of ``chartroute/backfill/sequence.py`` as Prefect tasks,
backfill-load (or backfill-index, without an export) → backfill-plan → backfill-partition [key]
per partition → backfill-snapshots.

Partitions run on the task runner the practice's ``backfill:`` settings choose (threads,
processes or Dask); ``run_backfill`` picks it and starts the flow.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from prefect import flow, unmapped
from pydantic import Field

from chartroute.backfill.ledger import PartitionResult
from chartroute.backfill.run import LoadResult
from chartroute.backfill.sequence import (
    BackfillPlan,
    BackfillRequest,
    BackfillSummary,
    run_backfill_stages,
)
from chartroute.config import load_config
from chartroute.flows.parameters import (
    DEFAULT_CONFIG,
    PracticeFile,
    SourceSpec,
    check_day_range,
)
from chartroute.flows.run_tags import untagged_tasks
from chartroute.pinned_config import PinnedConfig, pin_config
from chartroute.tasks.backfill import (
    index_task,
    load_task,
    partition_task,
    plan_task,
    snapshots_task,
    task_runner_for,
)


class BackfillTasks:
    """The backfill's stages as Prefect tasks; partitions are mapped over the task runner."""

    def __init__(self, source: str, config: PinnedConfig, as_of: datetime) -> None:
        self.source = source
        self.config = config
        self.as_of = as_of
        self.progress_artifact: str | None = None

    def load(self) -> LoadResult:
        return load_task(self.source, self.config, self.as_of)

    def index(self) -> int:
        return index_task(self.config)

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
def backfill_flow(
    source: SourceSpec,
    start: date,
    end: date,
    config: PracticeFile = DEFAULT_CONFIG,
    partition_days: Annotated[int, Field(ge=1, le=366)] | None = None,
    dry_run: bool = False,
    load: bool = True,
    as_of: datetime | None = None,
    force: bool = False,
    since: date | None = None,
) -> BackfillSummary:
    """Reconstruct the backlog of past days from historical charts, partition by partition.

    Args:
        source: The historical export: a folder of FHIR NDJSON, a FHIR base URL, or
            bulk+<base URL>.
        start: First encounter start day (practice-local).
        end: Last day backfilled (inclusive).
        config: Practice YAML file.
        partition_days: Days per partition (default: the config's).
        dry_run: Plan and count encounters per partition from the store; load and write
            nothing.
        load: Load the source into the store first; off, backfill what the store holds.
        as_of: When the export was taken (default: now).
        force: Redo every partition, even those a previous run completed over the same store.
        since: Go-live cut-off for this run, overriding the file's charts.since.
    """
    check_day_range(start, end)
    pin, practice = pin_config(config, since)  # read once: every task checks it is unchanged
    taken = as_of or datetime.now(UTC)
    if taken.tzinfo is None:
        taken = taken.replace(tzinfo=UTC)
    request = BackfillRequest(
        start, end, partition_days or practice.backfill.partition_days,
        load=load, dry_run=dry_run, force=force,
    )  # fmt: skip
    with untagged_tasks():
        return run_backfill_stages(BackfillTasks(source, pin, taken), request)


def run_backfill(
    source: str,
    start: date,
    end: date,
    *,
    config: str = DEFAULT_CONFIG,
    partition_days: int | None = None,
    dry_run: bool = False,
    load: bool = True,
    as_of: datetime | None = None,
    runner: str | None = None,
    workers: int | None = None,
    force: bool = False,
    since: date | None = None,
) -> BackfillSummary:
    """Run the flow on the task runner the config chooses (or ``runner``/``workers``)."""
    settings = load_config(config).backfill  # the launcher's choice, before the run
    task_runner = task_runner_for(
        runner or settings.task_runner, workers or settings.workers, settings.dask_address
    )
    result: BackfillSummary = backfill_flow.with_options(task_runner=task_runner)(
        source=source, start=start, end=end, config=config,
        partition_days=partition_days, dry_run=dry_run, load=load, as_of=as_of,
        force=force, since=since,
    )  # fmt: skip
    return result
