"""The sync's stages in their one order, and what each stage hands the next.

    plan → scan/validate/store (the run's partitions) → validate the run → advance cursors
         → classify/route/record → write back (when enabled) → finish the run
         → deliver (unless asked not to) → snapshot

This module is the only place that order is written. It runs on a ``SyncStages``, which
says how each stage is carried out: the Prefect flow (``flows/sync.py``) supplies one whose
stages are named tasks with their retries, logs and artifacts; ``SyncHere`` runs the same
domain functions in this process (the simulation, the benchmark, the backfill's load). The
backfill's load is the first half alone (``ingest_and_advance``): it stores an export the way a
sync does and classifies nothing. Stages hand each other identifiers and counts, never chart
data, whichever runner carries them.

Why this order: the expectation suites screen the run's records before any is stored
(``chartroute/ingest.py``), and a batch's facts and the charts they queue commit together; the
run-level validation can fail the run before cursors move or anything is routed; cursors
advance only once everything they cover is stored; classification reads the stored facts;
write-back, delivery and the snapshot describe work items the classification has committed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from chartroute.config.models import PracticeConfig
from chartroute.notify.deliver import DeliverCounts
from chartroute.summary import SnapshotCounts
from chartroute.sync import ClassifyCounts, IngestCounts, SyncPlan, run_record
from chartroute.validation.report import ValidationSummary
from chartroute.writeback import WritebackCounts


class IngestStages(Protocol):
    """The first half of a sync: bring the source's changes into the store."""

    def plan(self) -> SyncPlan:
        """Start a run; list the partitions whose data changed since the last one."""
        ...

    def ingest(self, plan: SyncPlan) -> IngestCounts:
        """Scan the plan's partitions, validate their records (the suites once per window of
        records, across partitions), store the good, quarantine the bad."""
        ...

    def validate(self, plan: SyncPlan, ingested: IngestCounts) -> ValidationSummary | None:
        """Validate the run as a whole; raise ``TooManyBadRecords`` to stop it (None when the
        runner does not validate: the backfill's load)."""
        ...

    def advance_cursors(self, plan: SyncPlan) -> None:
        """Mark the plan's partitions as read, now that what they hold is committed."""
        ...


class SyncStages(IngestStages, Protocol):
    """A whole sync: the first half, then the work items and what follows from them."""

    def classify(self, plan: SyncPlan) -> ClassifyCounts:
        """Classify every queued chart, route its blockers and record the work items."""
        ...

    def write_back(self) -> WritebackCounts:
        """Mirror the changed work items into the EHR as FHIR Tasks."""
        ...

    def finish(self, plan: SyncPlan, ingested: IngestCounts, classified: ClassifyCounts) -> None:
        """Record the run as completed with its counts (and publish them)."""
        ...

    def deliver(self) -> DeliverCounts:
        """Compose and send what the outbox holds."""
        ...

    def snapshot(self, plan: SyncPlan) -> SnapshotCounts:
        """Record the day's live backlog snapshot."""
        ...


@dataclass(frozen=True)
class Ingested:
    """What the first half did: the run's plan, the partitions' summed counts, validation."""

    plan: SyncPlan
    counts: IngestCounts
    validation: ValidationSummary | None


@dataclass(frozen=True)
class SyncOutcome:
    """What a whole sync did: identifiers and counts only."""

    ingested: Ingested
    classified: ClassifyCounts
    written: WritebackCounts | None
    delivered: DeliverCounts | None
    snapshot: SnapshotCounts

    def as_dict(self) -> dict[str, Any]:
        """The run's record, then what followed it (the sync flow's return value)."""
        ingested = self.ingested
        result = run_record(ingested.plan, ingested.counts, self.classified)
        if ingested.validation is not None:
            result["validation"] = asdict(ingested.validation)
        if self.delivered is not None:
            result["deliver"] = asdict(self.delivered)
        result["snapshot"] = asdict(self.snapshot)
        return result


def writes_back(config: PracticeConfig) -> bool:
    """Whether the practice turned write-back on (``ehr.writeback.enabled``)."""
    return config.ehr is not None and config.ehr.writeback.enabled


def ingest_and_advance(stages: IngestStages) -> Ingested:
    """plan → the changed partitions (none read, no stage run, when nothing changed) →
    validate the run → advance cursors."""
    plan = stages.plan()
    counts = stages.ingest(plan) if plan.partitions else IngestCounts()
    validation = stages.validate(plan, counts)
    stages.advance_cursors(plan)
    return Ingested(plan, counts, validation)


def run_sync(stages: SyncStages, config: PracticeConfig, *, deliver: bool = True) -> SyncOutcome:
    """The whole sync, in order (see the module's docstring)."""
    ingested = ingest_and_advance(stages)
    classified = stages.classify(ingested.plan)
    written = stages.write_back() if writes_back(config) else None
    stages.finish(ingested.plan, ingested.counts, classified)
    delivered = stages.deliver() if deliver else None
    snapshot = stages.snapshot(ingested.plan)
    return SyncOutcome(ingested, classified, written, delivered, snapshot)
