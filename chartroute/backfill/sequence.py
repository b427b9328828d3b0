"""The backfill's stages in their one order, and what each hands the next.

    load the export (the sync's first half) and index its encounters, or without an export
    index what the store holds → plan the partitions (refusing a range with no encounters,
    redoing those that no longer cover the store) → every partition not yet completed
    → the reconstructed snapshot of every day

``run_backfill_stages`` is the only place that order is written. It runs on a
``BackfillStages``: the Prefect flow (``flows/backfill.py``) supplies one whose stages are
named tasks, with the partitions spread over threads, processes or Dask; ``BackfillHere``
runs the same domain functions one after another in this process (``chartroute backfill
--no-prefect``). A dry run loads nothing and writes no figures or snapshots: it refreshes
the start-day index of what the store holds, plans, and counts each partition's encounters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import Engine

from chartroute.backfill.coverage import (
    encounters_per_partition,
    refuse_empty_range,
    stale_partitions,
    store_changed_at,
)
from chartroute.backfill.ledger import (
    PartitionResult,
    backfill_for,
    forget_partitions,
    ledger_rows,
)
from chartroute.backfill.partitions import DatePartition, plan_partitions
from chartroute.backfill.run import (
    LoadResult,
    index_encounters,
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
    force: bool = False  # redo every partition, even those that still cover the store


@dataclass(frozen=True)
class BackfillPlan:
    """The backfill's name (its ledger), its partitions' keys, those already completed, and
    those completed before that no longer cover the store (done again)."""

    backfill_id: str
    partitions: list[str]
    completed: list[str] = field(default_factory=list)
    redone: list[str] = field(default_factory=list)

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
    skipped: int  # completed by an earlier run, still covering the store
    ran: int
    encounters: int
    snapshot_days: int | None  # None for a dry run
    redone: int = 0  # completed by an earlier run, done again (store changed, or --force)


class BackfillStages(Protocol):
    """How each stage of a backfill is carried out."""

    def load(self) -> LoadResult:
        """Store the historical export and index its encounters by start day."""
        ...

    def index(self) -> int:
        """Index the encounters the store holds by start day (a backfill without an export)."""
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
    if loaded is None:
        stages.index()
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
        redone=len(plan.redone),
    )


def plan_backfill(engine: Engine, config: PracticeConfig, request: BackfillRequest) -> BackfillPlan:
    """The backfill's name, its partitions, and those its ledger says are completed.

    Refuses (``NothingToBackfill``) a range where the store holds no encounter. A completed
    partition that no longer covers the store (``coverage.stale_partitions``) is forgotten
    here, so the run does it again; a dry run only reports it.
    """
    name = backfill_for(config, request.start, request.end, request.partition_days)
    partitions = plan_partitions(request.start, request.end, request.partition_days)
    keys = [p.key for p in partitions]
    with engine.begin() as conn:
        held = encounters_per_partition(conn, partitions)
        refuse_empty_range(conn, request.start, request.end, held)
        done = ledger_rows(conn, name)
        stale = stale_partitions(done, held, store_changed_at(conn), force=request.force)
        if not request.dry_run:
            forget_partitions(conn, name, stale)
    completed = sorted((done.keys() & set(keys)) - set(stale))
    return BackfillPlan(name, keys, completed, stale)


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

    def index(self) -> int:
        return index_encounters(self.engine, self.config.practice.timezone)

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
