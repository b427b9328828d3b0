"""The sync's stage order is written once: a runner is told each stage in turn, with what the
stage before it returned, and a refused validation stops the run before anything moves."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chartroute.config import PracticeConfig
from chartroute.notify.deliver import DeliverCounts
from chartroute.sources import NdjsonDirSource
from chartroute.sources.base import Partition
from chartroute.summary import SnapshotCounts
from chartroute.sync import ClassifyCounts, IngestCounts, SyncPlan
from chartroute.sync_here import SyncHere
from chartroute.sync_sequence import ingest_and_advance, run_sync
from chartroute.validation.report import ValidationSummary
from chartroute.validation.threshold import BadShare, TooManyBadRecords
from chartroute.writeback import WritebackCounts
from tests import builders as b

AS_OF = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class Recorder:
    """A runner that records each stage and what it was handed."""

    def __init__(self, partitions: int = 2, refuse: bool = False) -> None:
        parts = [Partition(f"p{i}", f"p{i}", "x", f"p{i}") for i in range(partitions)]
        self.plan_ = SyncPlan("run-1", "src", parts, 1, {})
        self.refuse = refuse
        self.calls: list[str] = []

    def plan(self) -> SyncPlan:
        self.calls.append("plan")
        return self.plan_

    def ingest(self, plan: SyncPlan) -> IngestCounts:
        self.calls.append("ingest " + " ".join(p.label for p in plan.partitions))
        n = len(plan.partitions)
        return IngestCounts(read=10 * n, stored=9 * n, quarantined=n, reasons={"bad date": n})

    def validate(self, plan: SyncPlan, ingested: IngestCounts) -> ValidationSummary:
        self.calls.append(f"validate {plan.run_id} read={ingested.read}")
        if self.refuse:
            raise TooManyBadRecords(BadShare(ingested.read, ingested.quarantined, 0.01))
        return ValidationSummary(0.1, 0, None)

    def advance_cursors(self, plan: SyncPlan) -> None:
        self.calls.append("advance cursors")

    def classify(self, plan: SyncPlan) -> ClassifyCounts:
        self.calls.append(f"classify {plan.run_id}")
        return ClassifyCounts(charts=3, opened=2)

    def write_back(self) -> WritebackCounts:
        self.calls.append("write back")
        return WritebackCounts()

    def finish(self, plan: SyncPlan, ingested: IngestCounts, classified: ClassifyCounts) -> None:
        self.calls.append(f"finish read={ingested.read} opened={classified.opened}")

    def deliver(self) -> DeliverCounts:
        self.calls.append("deliver")
        return DeliverCounts(sent=4)

    def snapshot(self, plan: SyncPlan) -> SnapshotCounts:
        self.calls.append("snapshot")
        return SnapshotCounts("2026-03-10", 5, 3, 2, 1)


def test_the_stages_run_in_order_each_fed_by_the_one_before(config: PracticeConfig) -> None:
    stages = Recorder()
    outcome = run_sync(stages, config)
    assert stages.calls == [
        "plan", "ingest p0 p1", "validate run-1 read=20", "advance cursors",
        "classify run-1", "finish read=20 opened=2", "deliver", "snapshot",
    ]  # fmt: skip
    result = outcome.as_dict()
    assert list(result) == ["run_id", "ingest", "classify", "validation", "deliver", "snapshot"]
    assert result["ingest"]["read"] == 20 and result["ingest"]["partitions_skipped"] == 1
    assert result["ingest"]["reasons"] == {"bad date": 2}
    assert result["deliver"]["sent"] == 4 and result["snapshot"]["open_items"] == 2


def test_write_back_runs_when_enabled_and_delivery_when_asked(config: PracticeConfig) -> None:
    ehr = {"base_url": "http://127.0.0.1:9/fhir", "writeback": {"enabled": True}}
    writes = config.model_validate({**config.model_dump(), "ehr": ehr})
    stages = Recorder()
    outcome = run_sync(stages, writes, deliver=False)
    assert stages.calls[-3:] == ["write back", "finish read=20 opened=2", "snapshot"]
    assert "deliver" not in outcome.as_dict() and outcome.delivered is None


def test_a_refused_feed_stops_before_cursors_move(config: PracticeConfig) -> None:
    stages = Recorder(refuse=True)
    with pytest.raises(TooManyBadRecords):
        run_sync(stages, config)
    assert stages.calls[-1].startswith("validate") and "advance cursors" not in stages.calls


def test_in_process_runner_stores_classifies_and_records_the_run(
    engine: Engine, config: PracticeConfig, tmp_path: Path
) -> None:
    b.write_ndjson(tmp_path, [b.encounter("e1"), b.order("s1"), b.encounter("e2")])
    source = NdjsonDirSource(tmp_path)
    first = run_sync(SyncHere(engine, source, config, AS_OF), config, deliver=False)
    assert first.ingested.counts.stored == 3 and first.classified.opened >= 2
    assert first.ingested.validation is not None and first.snapshot.open_items >= 2
    again = ingest_and_advance(SyncHere(engine, source, config, AS_OF))
    assert again.plan.partitions == [] and again.counts.read == 0  # cursors moved
