"""The backfill's stages in their one order, and what each hands the next.

    load the export (the sync's first half) and index its encounters → plan the partitions
    → every partition not yet completed → the reconstructed snapshot of every day

``run_backfill_stages`` is the only place that order is written. It runs on a
``BackfillStages``: the Prefect flow (``flows/backfill.py``) supplies one whose stages are
named tasks, with the partitions spread over threads, processes or Dask; ``BackfillHere``
runs the same domain functions one after another in this process (``chartroute backfill
--no-prefect``). A dry run loads and writes nothing: it plans and counts each partition's
encounters in the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import Engine

from chartroute.backfill.ledger import PartitionResult, backfill_for, completed_partitions
from chartroute.backfill.partitions import DatePartition, plan_partitions
from chartroute.backfill.run import (
    LoadResult,
    load_export,
    run_partition,
    write_reconstructed_snapshots,
)
from chartroute.config.models import PracticeConfig
from chartroute.sources.base import Source


@dataclass(frozen=True)
class BackfillRequest:
    """What to backfill: the days, the partition size, and whether to load or only count."""

    start: date
    end: date
    partition_days: int
    load: bool = True
    dry_run: bool = False


@dataclass(frozen=True)
class BackfillPlan:
    """The backfill's name (its ledger), its partitions' keys and those already completed."""

    backfill_id: str
    partitions: list[str]
    completed: list[str] = field(default_factory=list)

    @property
    def todo(self) -> list[str]:
        done = set(self.completed)
        return [key for key in self.partitions if key not in done]


@dataclass(frozen=True)
class BackfillSummary:
    """What a backfill did: identifiers and counts only."""

    backfill_id: str
    load: LoadResult | None
    partitions: int
    skipped: int  # completed by an earlier run
    ran: int
    encounters: int
    snapshot_days: int | None  # None for a dry run


class BackfillStages(Protocol):
    """How each stage of a backfill is carried out."""

    def load(self) -> LoadResult:
        """Store the historical export and index its encounters by start day."""
        ...

    def plan(self, request: BackfillRequest) -> BackfillPlan:
        """Name the backfill and list its partitions, noting those already completed."""
        ...

    def run_partitions(
        self, plan: BackfillPlan, keys: list[str], request: BackfillRequest
    ) -> list[PartitionResult]:
        """Reconstruct the partitions ``keys`` (in any order, in parallel if it can)."""
        ...

    def snapshots(
        self, plan: BackfillPlan, request: BackfillRequest, results: list[PartitionResult]
    ) -> int:
        """Write the reconstructed snapshot of every day of the request; returns the days."""
        ...


def run_backfill_stages(stages: BackfillStages, request: BackfillRequest) -> BackfillSummary:
    """The whole backfill, in order (see the module's docstring)."""
    loaded = stages.load() if request.load and not request.dry_run else None
    plan = stages.plan(request)
    results = stages.run_partitions(plan, plan.todo, request)
    days = None if request.dry_run else stages.snapshots(plan, request, results)
    return BackfillSummary(
        backfill_id=plan.backfill_id,
        load=loaded,
        partitions=len(plan.partitions),
        skipped=len(plan.completed),
        ran=len(results),
        encounters=sum(r.encounters for r in results),
        snapshot_days=days,
    )


def plan_backfill(engine: Engine, config: PracticeConfig, request: BackfillRequest) -> BackfillPlan:
    """The backfill's name, its partitions, and those its ledger says are completed."""
    name = backfill_for(config, request.start, request.end, request.partition_days)
    keys = [p.key for p in plan_partitions(request.start, request.end, request.partition_days)]
    with engine.connect() as conn:
        done = completed_partitions(conn, name)
    return BackfillPlan(name, keys, sorted(done & set(keys)))


class BackfillHere:
    """Every stage of a backfill in this process, one partition after another.

    ``source`` is the export to load (None: backfill what the store already holds);
    ``on_partition`` is told of each partition as it finishes (a progress bar).
    """

    def __init__(
        self,
        engine: Engine,
        config: PracticeConfig,
        source: Source | None,
        as_of: datetime,
        on_partition: Callable[[PartitionResult], None] | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.source = source
        self.as_of = as_of
        self.on_partition = on_partition

    def load(self) -> LoadResult:
        if self.source is None:
            raise ValueError("nothing to load: the backfill was given no source")
        return load_export(self.engine, self.source, self.as_of, self.config.practice.timezone)

    def plan(self, request: BackfillRequest) -> BackfillPlan:
        return plan_backfill(self.engine, self.config, request)

    def run_partitions(
        self, plan: BackfillPlan, keys: list[str], request: BackfillRequest
    ) -> list[PartitionResult]:
        results = []
        for key in keys:
            result = run_partition(
                self.engine, self.config, plan.backfill_id, DatePartition.from_key(key),
                request.end, dry_run=request.dry_run,
            )  # fmt: skip
            results.append(result)
            if self.on_partition is not None:
                self.on_partition(result)
        return results

    def snapshots(
        self, plan: BackfillPlan, request: BackfillRequest, results: list[PartitionResult]
    ) -> int:
        return write_reconstructed_snapshots(
            self.engine, self.config, plan.backfill_id, request.start, request.end,
            plan.backfill_id,
        )  # fmt: skip
