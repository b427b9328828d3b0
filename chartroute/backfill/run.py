"""The backfill's stages as plain functions: load, index, one partition, snapshots.

``chartroute/backfill/sequence.py`` runs them in their one order: the Prefect flow one stage
(or one partition) per task, ``chartroute backfill --no-prefect`` in this process. Every
stage commits its own work and can be repeated: loading is the sync's idempotent upsert,
indexing replaces rows by key, a partition commits its figures with its completion row, and
snapshots replace their day whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, and_, select

from chartroute.analytics.snapshots import local_day
from chartroute.backfill.history import HistoryBuilder, day_end
from chartroute.backfill.ledger import (
    PartitionResult,
    is_completed,
    record_partition,
    summed_figures,
)
from chartroute.backfill.partitions import DatePartition
from chartroute.config.models import PracticeConfig
from chartroute.fhir.facts import EncounterFact, fact_from_json
from chartroute.sources.base import Source
from chartroute.store import facts as fact_store
from chartroute.store.batching import chunks, upsert
from chartroute.store.schema import backfill_encounter, fact
from chartroute.store.snapshots import write_snapshot
from chartroute.sync import finish_sync, utcnow
from chartroute.sync_here import IngestHere
from chartroute.sync_sequence import ingest_and_advance

CHART_BATCH = 1000
INDEX_BATCH = 5000


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What loading the source into the store did: counts only."""

    run_id: str
    partitions: int
    skipped: int
    read: int
    stored: int
    quarantined: int
    indexed: int = 0  # encounters indexed by start day afterwards (``load_export``)


def load_source(engine: Engine, source: Source, as_of: datetime) -> LoadResult:
    """Store the source's facts with the first half of the sync's own sequence (idempotent
    upserts, quarantine, cursors), without the expectation suites.

    Unchanged source partitions are skipped by their fingerprints, as in a sync. The charts
    are queued for the next sync's classification; the backfill itself classifies nothing live.
    """
    loaded = ingest_and_advance(IngestHere(engine, source, as_of))
    plan, counts = loaded.plan, loaded.counts
    finish_sync(engine, plan.run_id, "completed", {"backfill_load": counts.read})
    return LoadResult(
        plan.run_id, len(plan.partitions), plan.skipped, counts.read, counts.stored,
        counts.quarantined,
    )  # fmt: skip


def load_export(engine: Engine, source: Source, as_of: datetime, timezone: str) -> LoadResult:
    """The backfill's load stage: store the export, then index its encounters by start day."""
    loaded = load_source(engine, source, as_of)
    return replace(loaded, indexed=index_encounters(engine, timezone))


def index_encounters(engine: Engine, timezone: str) -> int:
    """Index stored Encounters by local start day: new ones, and those changed since indexed.

    Streams the Encounters in batches, so memory does not grow with the history.
    """
    now = utcnow()
    todo = (
        select(fact.c.key, fact.c.body)
        .select_from(
            fact.outerjoin(backfill_encounter, backfill_encounter.c.encounter == fact.c.key)
        )
        .where(
            fact.c.resource_type == "Encounter",
            (backfill_encounter.c.encounter.is_(None))
            | (fact.c.synced_at > backfill_encounter.c.indexed_at),
        )
    )
    indexed = 0
    with engine.connect() as reader:
        result = reader.execution_options(stream_results=True, yield_per=INDEX_BATCH).execute(todo)
        for part in result.partitions(INDEX_BATCH):
            batch = []
            for key, body in part:
                enc = fact_from_json(body)
                if not isinstance(enc, EncounterFact):
                    continue
                day = local_day(enc.start_at, timezone) if enc.start_at is not None else None
                batch.append({"encounter": key, "start_day": day, "indexed_at": now})
            with engine.begin() as conn:
                upsert(conn, backfill_encounter, batch, ["encounter"])
            indexed += len(batch)
    return indexed


def partition_encounters(engine: Engine, partition: DatePartition) -> list[str]:
    """The stored encounters that started on a day of the partition, in key order."""
    query = (
        select(backfill_encounter.c.encounter)
        .where(
            and_(
                backfill_encounter.c.start_day >= partition.start,
                backfill_encounter.c.start_day < partition.end,
            )
        )
        .order_by(backfill_encounter.c.encounter)
    )
    with engine.connect() as conn:
        return [r.encounter for r in conn.execute(query)]


def run_partition(
    engine: Engine,
    config: PracticeConfig,
    backfill: str,
    partition: DatePartition,
    last_day: date,
    *,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> PartitionResult:
    """Reconstruct the daily open blockers of one partition's charts, from its first day to
    ``last_day``, and commit them with the partition's completion row.

    Skipped when already completed, so a resumed backfill does no work twice. A dry run
    counts encounters and writes nothing.
    """
    encounters = partition_encounters(engine, partition)
    if dry_run:
        return PartitionResult(partition.key, len(encounters), 0, 0)
    with engine.connect() as conn:
        if is_completed(conn, backfill, partition):
            return PartitionResult(partition.key, 0, 0, 0, skipped=True)
    history = HistoryBuilder(config, partition.start, last_day)
    for batch in chunks(encounters, CHART_BATCH):
        with engine.connect() as conn:
            charts = fact_store.load_charts(conn, batch)
        history.add_charts(charts[k] for k in batch if k in charts)
        if on_batch is not None:
            on_batch(len(batch))
    result = PartitionResult(partition.key, len(encounters), history.charts, history.open_item_days)
    with engine.begin() as conn:
        record_partition(conn, backfill, partition, history.figures, result, utcnow())
    return result


def write_reconstructed_snapshots(
    engine: Engine,
    config: PracticeConfig,
    backfill: str,
    first: date,
    last: date,
    run_id: str | None = None,
) -> int:
    """Write a ``reconstructed`` backlog snapshot for every day of the range; returns days.

    Each day's snapshot is replaced whole, so writing them again after more partitions
    finished (or after a resumed run) leaves one snapshot per day.
    """
    timezone = config.practice.timezone
    taken_at = utcnow()
    with engine.connect() as conn:
        figures = summed_figures(conn, backfill, first, last)
    days = (last - first).days + 1
    with engine.begin() as conn:
        for index in range(days):
            day = first + timedelta(days=index)
            write_snapshot(
                conn, day, "reconstructed", day_end(day, timezone), figures.figures(index),
                taken_at, run_id,
            )  # fmt: skip
    return days
