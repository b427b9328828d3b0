"""The sync flow: scan → validate → store, per partition; validate the run (the bad-record
threshold fails it here); then classify → route → record."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from chartroute.sync import IngestCounts
from chartroute.tasks.deliver import deliver_task
from chartroute.tasks.lease import LEASE_HOOKS, SYNC_LEASE, release_lease_task, take_lease_task
from chartroute.tasks.report import snapshot_task
from chartroute.tasks.sync import classify_task, cursors_task, ingest_task, plan_task, summary_task
from chartroute.tasks.validate import validate_run_task
from chartroute.tasks.writeback import writeback_enabled, writeback_task


class SyncParameters(BaseModel):
    """Parameters of a sync run (shown as a form in the Prefect UI)."""

    source: str = Field(
        description="Folder of FHIR NDJSON / Bundle files, a FHIR base URL (incremental REST), "
        "or bulk+<base URL> (Bulk Data $export)."
    )
    config: str = Field(default="config/practice.yaml", description="Practice YAML file.")
    as_of: datetime | None = Field(
        default=None, description="Classify as of this instant (default: now)."
    )
    full: bool = Field(
        default=False, description="Re-read every file, even those unchanged since the last sync."
    )
    deliver: bool = Field(
        default=True, description="Send the outbox (digests, urgent messages) at the end."
    )


@flow(name="chartroute-sync", retries=0, **LEASE_HOOKS)
def sync_flow(params: SyncParameters) -> dict[str, Any]:
    """Bring chartroute's work items up to date with the EHR."""
    lease = take_lease_task(SYNC_LEASE)  # at most one sync at a time, across servers
    as_of = params.as_of or datetime.now(UTC)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    plan = plan_task(params.source, as_of, params.full, params.config)
    totals = IngestCounts()
    for partition in plan.partitions:
        totals.add(IngestCounts(**ingest_task(params.source, partition, params.config, as_of)))
    validation = validate_run_task(plan.run_id, params.config, as_of, asdict(totals))
    cursors_task(plan)
    classified = classify_task(params.config, as_of, plan.run_id)
    if writeback_enabled(params.config):
        writeback_task(params.config)
    ingest = {k: v for k, v in totals.__dict__.items()}
    ingest["partitions_skipped"] = plan.skipped
    result = summary_task(plan.run_id, ingest, classified)
    result["validation"] = validation
    if params.deliver:
        result["deliver"] = deliver_task(params.config)
    result["snapshot"] = snapshot_task(params.config, as_of, plan.run_id)
    release_lease_task(lease)
    return result
