"""Tasks of the backfill flow: load and index (or index only), plan, one partition, snapshots.

Each carries out one stage of ``chartroute/backfill/sequence.py`` and returns identifiers and
counts as typed values; a partition task is named after its date range so the UI shows which
weeks are done. Progress is a Prefect progress artifact, recomputed from the ledger after each
partition so it is right whichever worker (thread, process or Dask host) finished last.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from chartroute.backfill.ledger import PartitionResult, completed_partitions
from chartroute.backfill.partitions import DatePartition
from chartroute.backfill.run import (
    LoadResult,
    index_encounters,
    load_export,
    run_partition,
    write_reconstructed_snapshots,
)
from chartroute.backfill.sequence import BackfillPlan, BackfillRequest, plan_backfill
from chartroute.pinned_config import PinnedConfig
from chartroute.tasks import context
from chartroute.tasks.ehr import source_for
from chartroute.tasks.retry import DATABASE_ONLY, READS_SOURCE, UNCACHED


@task(name="backfill-load", **READS_SOURCE.options(), **UNCACHED)
def load_task(source_spec: str, config: PinnedConfig, as_of: datetime) -> LoadResult:
    """Store the historical export with the sync's ingest, then index encounters by start day.

    Safe to retry: facts are upserted by key and hash, and the index by encounter.
    """
    practice = context.config(config)
    loaded = load_export(
        context.engine(), source_for(source_spec, config), as_of, practice.practice.timezone
    )
    get_run_logger().info(
        "loaded %d records (%d stored, %d quarantined) from %d partitions (%d unchanged); "
        "indexed %d encounters",
        loaded.read,
        loaded.stored,
        loaded.quarantined,
        loaded.partitions,
        loaded.skipped,
        loaded.indexed,
    )
    return loaded


@task(name="backfill-index", **DATABASE_ONLY.options(), **UNCACHED)
def index_task(config: PinnedConfig) -> int:
    """Index the encounters the store already holds by start day, for a backfill without an
    export: without it the partitions would find nothing. Safe to retry (rows by encounter)."""
    indexed = index_encounters(context.engine(), context.config(config).practice.timezone)
    get_run_logger().info("indexed %d stored encounters by start day", indexed)
    return indexed


@dataclass(frozen=True)
class PlanWithProgress:
    """The backfill's plan, and the progress artifact its partition tasks update."""

    plan: BackfillPlan
    progress_artifact: str


@task(name="backfill-plan", **DATABASE_ONLY.options(), **UNCACHED)
def plan_task(config: PinnedConfig, request: BackfillRequest) -> PlanWithProgress:
    """Name the backfill, list its partitions and those a previous run already completed."""
    plan = plan_backfill(context.engine(), context.config(config), request)
    progress = create_progress_artifact(
        progress=100.0 * len(plan.completed) / len(plan.partitions),
        key="backfill-progress",
        description=f"Backfill {request.start} to {request.end}: partitions completed",
    )
    get_run_logger().info(
        "backfill %s: %d partitions of %d days, %d already completed, %d to redo",
        plan.backfill_id,
        len(plan.partitions),
        request.partition_days,
        len(plan.completed),
        len(plan.redone),
    )
    return PlanWithProgress(plan, str(progress))


@task(
    name="backfill-partition",
    task_run_name="backfill-partition [{partition_key}]",
    **DATABASE_ONLY.options(),
    **UNCACHED,
)
def partition_task(
    config: PinnedConfig,
    backfill: str,
    partition_key: str,
    last_day: date,
    total: int,
    progress_artifact: str | None = None,
    dry_run: bool = False,
) -> PartitionResult:
    """Reconstruct one partition's daily open blockers and commit them with its ledger row.

    Safe to retry and to run twice: a completed partition is skipped, and an interrupted one
    committed nothing.
    """
    engine = context.engine()
    partition = DatePartition.from_key(partition_key)
    result = run_partition(
        engine, context.config(config), backfill, partition, last_day, dry_run=dry_run
    )
    logger = get_run_logger()
    if result.skipped:
        logger.info("%s: already completed, skipped", partition_key)
    else:
        logger.info(
            "%s: %d encounters, %d charts, %d open item-days%s",
            partition_key,
            result.encounters,
            result.charts,
            result.open_item_days,
            " (dry run, nothing written)" if dry_run else "",
        )
    if progress_artifact and not dry_run:
        with engine.connect() as conn:
            done = len(completed_partitions(conn, backfill))
        update_progress_artifact(UUID(progress_artifact), min(100.0, 100.0 * done / total))
    return result


@task(name="backfill-snapshots", **DATABASE_ONLY.options(), **UNCACHED)
def snapshots_task(
    config: PinnedConfig, backfill: str, request: BackfillRequest, results: list[PartitionResult]
) -> int:
    """Write the reconstructed backlog snapshot of every day and a table of partition counts."""
    start, end = request.start, request.end
    days = write_reconstructed_snapshots(
        context.engine(), context.config(config), backfill, start, end, backfill
    )
    create_table_artifact(
        key="backfill-partitions",
        table=[asdict(r) for r in results],
        description=f"Backfill {start} to {end}: encounters and open item-days per partition",
    )
    get_run_logger().info("wrote reconstructed snapshots for %d days, %s to %s", days, start, end)
    return days


def task_runner_for(kind: str, workers: int, dask_address: str | None = None) -> Any:
    """The Prefect task runner a backfill's ``backfill:`` settings name.

    Dask is imported only when chosen. A LocalCluster gets one single-threaded worker process
    per partition slot, since the work holds the GIL; an address joins an existing scheduler.
    """
    if kind == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "processes":
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=workers)
    if kind == "dask":
        from prefect_dask.task_runners import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                            "dashboard_address": None},
        )  # fmt: skip
    raise ValueError(f"task runner must be threads, processes or dask, not {kind!r}")
