"""The sync flow: scan → validate → store, per partition; then classify → route → record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from chartroute.sync import IngestCounts
from tasks.sync import classify_task, cursors_task, ingest_task, plan_task, summary_task


class SyncParameters(BaseModel):
    """Parameters of a sync run (shown as a form in the Prefect UI)."""

    source: str = Field(description="Folder of FHIR NDJSON / Bundle files to read.")
    config: str = Field(default="config/practice.yaml", description="Practice YAML file.")
    as_of: datetime | None = Field(default=None, description="Classify as of this instant (default: now).")
    full: bool = Field(default=False, description="Re-read every file, even those unchanged since the last sync.")


@flow(name="chartroute-sync", retries=0)
def sync_flow(params: SyncParameters) -> dict[str, Any]:
    """Bring chartroute's work items up to date with the EHR."""
    as_of = params.as_of or datetime.now(UTC)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    plan = plan_task(params.source, as_of, params.full)
    totals = IngestCounts()
    for partition in plan.partitions:
        totals.add(IngestCounts(**ingest_task(params.source, partition)))
    cursors_task(plan)
    classified = classify_task(params.config, as_of, plan.run_id)
    ingest = {k: v for k, v in totals.__dict__.items()}
    ingest["partitions_skipped"] = plan.skipped
    return summary_task(plan.run_id, ingest, classified)
