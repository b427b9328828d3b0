"""The sync flow: the stage sequence of ``chartroute/sync_sequence.py``, each stage a Prefect task.

check-for-changes (a run with nothing to do is recorded and stops here) → plan →
scan-validate-store (the run's changed partitions) → validate-run (the bad-record threshold
fails the run here) → advance-cursors → classify-route-record → write-back-tasks (when
enabled) → summary → deliver → backlog-snapshot, between taking and releasing the sync lease.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from prefect import flow

from chartroute.flows.parameters import DEFAULT_CONFIG, PracticeFile, SourceSpec
from chartroute.flows.run_tags import untagged_tasks
from chartroute.flows.undelivered import final_state
from chartroute.notify.deliver import DeliverCounts
from chartroute.pinned_config import PinnedConfig, pin_config
from chartroute.summary import SnapshotCounts
from chartroute.sync import ClassifyCounts, IngestCounts, SyncPlan
from chartroute.sync_sequence import run_sync
from chartroute.tasks.deliver import deliver_task
from chartroute.tasks.lease import LEASE_HOOKS, SYNC_LEASE, release_lease_task, take_lease_task
from chartroute.tasks.report import snapshot_task
from chartroute.tasks.sync import (
    classify_task,
    cursors_task,
    idle_task,
    ingest_task,
    plan_task,
    summary_task,
)
from chartroute.tasks.validate import validate_run_task
from chartroute.tasks.writeback import writeback_task
from chartroute.validation.report import ValidationSummary
from chartroute.writeback import WritebackCounts


class SyncTasks:
    """The sync's stages as Prefect tasks: the flow's runner of the stage sequence."""

    def __init__(self, source: str, config: PinnedConfig, as_of: datetime, full: bool) -> None:
        self.source = source
        self.config = config
        self.full = full
        self.as_of = as_of

    def plan(self) -> SyncPlan:
        return plan_task(self.source, self.as_of, self.full, self.config)

    def ingest(self, plan: SyncPlan) -> IngestCounts:
        return ingest_task(self.source, plan.partitions, self.config, self.as_of)

    def validate(self, plan: SyncPlan, ingested: IngestCounts) -> ValidationSummary:
        return validate_run_task(plan, self.config, self.as_of, ingested)

    def advance_cursors(self, plan: SyncPlan) -> None:
        cursors_task(plan)

    def classify(self, plan: SyncPlan) -> ClassifyCounts:
        return classify_task(self.config, self.as_of, plan.run_id)

    def write_back(self) -> WritebackCounts:
        return writeback_task(self.config)

    def finish(self, plan: SyncPlan, ingested: IngestCounts, classified: ClassifyCounts) -> None:
        summary_task(plan, ingested, classified)

    def deliver(self) -> DeliverCounts:
        return deliver_task(self.config)

    def snapshot(self, plan: SyncPlan) -> SnapshotCounts:
        return snapshot_task(self.config, self.as_of, plan.run_id)


@flow(name="chartroute-sync", retries=0, **LEASE_HOOKS)
def sync_flow(
    source: SourceSpec,
    config: PracticeFile = DEFAULT_CONFIG,
    as_of: datetime | None = None,
    full: bool = False,
    deliver: bool = True,
    since: date | None = None,
) -> dict[str, Any]:
    """Bring chartroute's work items up to date with the EHR.

    Args:
        source: Folder of FHIR NDJSON / Bundle files, a FHIR base URL (incremental REST), or
            bulk+<base URL> (Bulk Data $export).
        config: Practice YAML file.
        as_of: Classify as of this instant (default: now).
        full: Re-read every file, even those unchanged since the last sync.
        deliver: Send the outbox (digests, urgent messages) at the end.
        since: Go-live cut-off for this run, overriding the file's charts.since: visits
            that started before it are not charts.
    """
    pin, practice = pin_config(config, since)  # read once: every task checks it is unchanged
    when = as_of or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    with untagged_tasks():
        idle = idle_task(source, when, full, deliver, pin)
        if idle is not None:  # nothing changed: the run is recorded, and no other task runs
            return idle
        lease = take_lease_task(SYNC_LEASE)  # at most one sync at a time, across servers
        outcome = run_sync(SyncTasks(source, pin, when, full), practice, deliver=deliver)
        release_lease_task(lease)
    # Dead letters or a channel left down end the run Failed, with how many and where to look.
    return final_state(outcome.as_dict(), outcome.delivered)  # type: ignore[no-any-return]
