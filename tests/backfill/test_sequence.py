"""The backfill's stage order is written once: load (or, without an export, index the store),
plan, the partitions not yet completed, the snapshots; a dry run loads and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from chartroute.backfill.ledger import PartitionResult
from chartroute.backfill.run import LoadResult
from chartroute.backfill.sequence import (
    BackfillPlan,
    BackfillRequest,
    run_backfill_stages,
)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def load(self) -> LoadResult:
        self.calls.append("load")
        return LoadResult("run-1", 1, 0, 10, 10, 0, indexed=4)

    def index(self) -> int:
        self.calls.append("index")
        return 4

    def plan(self, request: BackfillRequest) -> BackfillPlan:
        self.calls.append(f"plan {request.partition_days}")
        return BackfillPlan("bf", ["a", "b", "c"], completed=["b"])

    def run_partitions(
        self, plan: BackfillPlan, keys: list[str], request: BackfillRequest
    ) -> list[PartitionResult]:
        self.calls.append(f"partitions {','.join(keys)}")
        return [PartitionResult(k, 3, 2, 5) for k in keys]

    def snapshots(
        self, plan: BackfillPlan, request: BackfillRequest, results: list[PartitionResult]
    ) -> int:
        self.calls.append(f"snapshots of {len(results)}")
        return 9


@pytest.mark.parametrize("load", [True, False])
def test_load_plan_the_partitions_left_then_snapshots(load: bool) -> None:
    stages = Recorder()
    request = BackfillRequest(date(2025, 1, 1), date(2025, 1, 9), 3, load=load)
    summary = run_backfill_stages(stages, request)
    expected = ["plan 3", "partitions a,c", "snapshots of 2"]
    assert stages.calls == (["load", *expected] if load else ["index", *expected])
    assert (summary.backfill_id, summary.partitions, summary.skipped, summary.ran) == (
        "bf", 3, 1, 2,
    )  # fmt: skip
    assert summary.encounters == 6 and summary.snapshot_days == 9
    assert (summary.load is not None) is load


def test_a_dry_run_neither_loads_nor_writes_snapshots() -> None:
    stages = Recorder()
    request = BackfillRequest(date(2025, 1, 1), date(2025, 1, 9), 3, dry_run=True)
    summary = run_backfill_stages(stages, request)
    assert stages.calls == ["index", "plan 3", "partitions a,c"]
    assert summary.load is None and summary.snapshot_days is None
