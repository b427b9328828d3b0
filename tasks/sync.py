"""Tasks of the sync flow: each carries out one stage (or one partition) of the sequence in
``chartroute/sync_sequence.py`` and returns identifiers and counts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run, task_run

from chartroute import sync
from chartroute.feed_notes import old_visits_warning
from chartroute.pinned_config import PinnedConfig
from chartroute.sources import is_url_spec
from chartroute.sources.base import Partition
from chartroute.store.lease import default_holder
from chartroute.summary import backlog_summary, summary_markdown
from chartroute.sync_idle import nothing_to_do, record_idle_run
from chartroute.tasks import context
from chartroute.tasks.ehr import source_for
from chartroute.tasks.retry import DATABASE_ONLY, READS_SOURCE, UNCACHED
from chartroute.validation.feed import FeedValidator


@task(name="plan", **READS_SOURCE.options(), **UNCACHED)
def plan_task(source_spec: str, as_of: datetime, full: bool, config: PinnedConfig) -> sync.SyncPlan:
    """List the partitions that changed since the last sync (for an EHR: ask it what changed)."""
    run = flow_run.get_id()
    holder = default_holder(str(run)) if run else None  # the sync lease's holder: this run
    plan = sync.plan_sync(context.engine(), source_for(source_spec, config), as_of, full, holder)
    get_run_logger().info(
        "run %s: %d partitions to read, %d unchanged and skipped",
        plan.run_id,
        len(plan.partitions),
        plan.skipped,
    )
    return plan


@task(name="check-for-changes", **READS_SOURCE.options(), **UNCACHED)
def idle_task(
    source_spec: str, as_of: datetime, full: bool, deliver: bool, config: PinnedConfig
) -> dict[str, Any] | None:
    """Record the run and return its record when nothing changed since the last sync
    (``chartroute/sync_idle.py``), so the flow runs no other task; None: run every stage.

    A URL source is never checked here: its plan asks the EHR what changed.
    """
    if is_url_spec(source_spec):
        return None
    engine, practice = context.engine(), context.config(config)
    source = source_for(source_spec, config)
    idle = nothing_to_do(engine, source, practice, as_of, full=full, deliver=deliver)
    if idle is None:
        return None
    run = flow_run.get_id()
    holder = default_holder(str(run)) if run else None
    record = record_idle_run(engine, idle, practice, as_of, holder)
    get_run_logger().info(
        "run %s: nothing changed since the last sync (%d partitions unchanged, no chart queued, "
        "nothing to deliver); recorded, and no other stage runs",
        record["run_id"],
        idle.partitions_skipped,
    )
    return record


@task(
    name="scan-validate-store",
    task_run_name=lambda: (
        f"scan-validate-store [{len(task_run.parameters['partitions'])} partitions]"
    ),
    **READS_SOURCE.options(),
    **UNCACHED,
)
def ingest_task(
    source_spec: str, partitions: list[Partition], config: PinnedConfig, as_of: datetime
) -> sync.IngestCounts:
    """Scan the run's changed partitions, validate each record (structure, then the
    expectation suites, once per window of records across partitions), and upsert the good
    records' facts; bad ones go to quarantine with every reason.

    Safe to retry: facts are upserted by key and content hash, so a replayed batch is a no-op.
    """
    logger = get_run_logger()
    validator = FeedValidator(context.config(config).validation, as_of)

    def read(partition: Partition, records: int) -> None:
        logger.info("%s: read %d records", partition.label, records)

    counts = sync.ingest_partitions(
        context.engine(),
        source_for(source_spec, config),
        partitions,
        validator=validator,
        on_partition=read,
    )
    logger.info(
        "%d partitions: read %d, stored %d (new %d, changed %d, unchanged %d, lines as stored "
        "and not decoded again %d), quarantined %d",
        len(partitions),
        counts.read,
        counts.stored,
        counts.facts_inserted,
        counts.facts_updated,
        counts.facts_unchanged,
        counts.unchanged_lines,
        counts.quarantined,
    )
    if counts.quarantined:
        logger.warning("%d records quarantined: %s", counts.quarantined, counts.reasons)
    if counts.http_retries:
        logger.warning(
            "%d EHR requests were retried after temporary failures (a flaky EHR?)",
            counts.http_retries,
        )
    return counts


@task(name="advance-cursors", **DATABASE_ONLY.options(), **UNCACHED)
def cursors_task(plan: sync.SyncPlan) -> None:
    """Mark the source's files as synced, now that everything they hold is committed."""
    sync.commit_cursors(context.engine(), plan)


@task(name="classify-route-record", **DATABASE_ONLY.options(), **UNCACHED)
def classify_task(config: PinnedConfig, as_of: datetime, run_id: str) -> sync.ClassifyCounts:
    """Classify every touched chart, route its blockers and record the work items.

    Runs the whole stage in batches of charts inside one task run; a retry resumes from the
    charts still queued, since each batch removes its queue entries when it commits.
    """
    counts = sync.classify_pending(context.engine(), context.config(config), as_of, run_id)
    get_run_logger().info(
        "classified %d charts (%d open): %d items opened, %d closed, %d reassigned, %d reopened",
        counts.charts,
        counts.open_charts,
        counts.opened,
        counts.closed,
        counts.reassigned,
        counts.reopened,
    )
    warning = old_visits_warning(asdict(counts)) if counts.warn_old_visits else None
    if warning:
        get_run_logger().warning(warning)
    return counts


@task(name="summary", **UNCACHED)
def summary_task(
    plan: sync.SyncPlan, ingested: sync.IngestCounts, classified: sync.ClassifyCounts
) -> None:
    """Publish the backlog summary and the run's counts as artifacts (no PHI) and close the run."""
    engine = context.engine()
    with engine.connect() as conn:
        summary = backlog_summary(conn)
    create_markdown_artifact(
        key="backlog-summary",
        markdown=summary_markdown(summary, classified.mode),
        description="Open charts by category, role and person after this sync",
    )
    record = sync.run_record(plan, ingested, classified)
    ingest = record["ingest"]
    rows = [
        {"stage": "ingest", "count": k, "value": v}
        for k, v in ingest.items()
        if k not in ("reasons", "checks")  # per-reason counts below; checks: validate-run
    ]
    rows += [
        {"stage": "ingest", "count": f"quarantined: {k}", "value": v}
        for k, v in ingest["reasons"].items()
    ]
    rows += [{"stage": "classify", "count": k, "value": v} for k, v in asdict(classified).items()]
    create_table_artifact(
        key="sync-counts", table=rows, description=f"Counts of sync run {plan.run_id}"
    )
    sync.finish_sync(engine, plan.run_id, "completed", record)
