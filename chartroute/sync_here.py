"""The sync's stages carried out in this process, without Prefect.

``IngestHere`` runs the first half of the sequence (``sync_sequence.ingest_and_advance``) and
``SyncHere`` the whole of it (``sync_sequence.run_sync``), calling the same domain functions
the flow's tasks call, with live objects instead of identifiers. Used where a Prefect run per
stage would cost more than the stage: the simulation's evenings, the sync benchmark and the
backfill's load.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from chartroute import sync
from chartroute.config.models import PracticeConfig
from chartroute.config.validation import Validation
from chartroute.notify.deliver import Clock, DeliverCounts, deliver, utcnow
from chartroute.notify.secrets import SecretResolver, env_secrets
from chartroute.sources.base import Source
from chartroute.summary import SnapshotCounts, take_snapshot
from chartroute.sync import ClassifyCounts, IngestCounts, SyncPlan
from chartroute.validation.feed import FeedValidator
from chartroute.validation.report import ValidationSummary
from chartroute.writeback import WritebackCounts
from chartroute.writeback.run import write_back


class IngestHere:
    """Plan, ingest, validate and advance cursors in this process.

    ``validation`` None skips the expectation suites and the run-level validation (the
    backfill's load, the benchmark's foundation figures); ``data_docs`` writes the Data Docs
    pages as the flow does.
    """

    def __init__(
        self,
        engine: Engine,
        source: Source,
        as_of: datetime,
        validation: Validation | None = None,
        *,
        full: bool = False,
        data_docs: bool = False,
    ) -> None:
        self.engine = engine
        self.source = source
        self.as_of = as_of
        self.validation = validation
        self.full = full
        self.data_docs = data_docs
        # One validator for the run; it loads the suites (and GX) only when a record is read.
        self.validator = FeedValidator(validation, as_of) if validation is not None else None

    def plan(self) -> SyncPlan:
        return sync.plan_sync(self.engine, self.source, self.as_of, self.full)

    def ingest(self, plan: SyncPlan) -> IngestCounts:
        return sync.ingest_partitions(
            self.engine, self.source, plan.partitions, validator=self.validator
        )

    def validate(self, plan: SyncPlan, ingested: IngestCounts) -> ValidationSummary | None:
        if self.validation is None:
            return None
        checked = sync.validate_ingested(
            self.engine, plan, self.validation, self.as_of, ingested, data_docs=self.data_docs
        )
        sync.refuse_bad_feed(self.engine, plan, checked, ingested)
        return ValidationSummary.of(checked)

    def advance_cursors(self, plan: SyncPlan) -> None:
        sync.commit_cursors(self.engine, plan)


class SyncHere(IngestHere):
    """Every stage of a sync in this process, for one practice config.

    ``clock`` is what delivery takes as now (a simulation delivers at its evening's instant);
    ``resolve`` finds channel secrets (environment variables by default).
    """

    def __init__(
        self,
        engine: Engine,
        source: Source,
        config: PracticeConfig,
        as_of: datetime,
        *,
        full: bool = False,
        data_docs: bool = False,
        clock: Clock = utcnow,
        resolve: SecretResolver = env_secrets,
    ) -> None:
        super().__init__(engine, source, as_of, config.validation, full=full, data_docs=data_docs)
        self.config = config
        self.clock = clock
        self.resolve = resolve

    def classify(self, plan: SyncPlan) -> ClassifyCounts:
        return sync.classify_pending(self.engine, self.config, self.as_of, plan.run_id)

    def write_back(self) -> WritebackCounts:
        return write_back(self.engine, self.config)

    def finish(self, plan: SyncPlan, ingested: IngestCounts, classified: ClassifyCounts) -> None:
        record = sync.run_record(plan, ingested, classified)
        sync.finish_sync(self.engine, plan.run_id, "completed", record)

    def deliver(self) -> DeliverCounts:
        return deliver(self.engine, self.config, clock=self.clock, resolve=self.resolve)

    def snapshot(self, plan: SyncPlan) -> SnapshotCounts:
        return take_snapshot(self.engine, self.config, self.as_of, plan.run_id)
