"""Partition bookkeeping: which partitions of a backfill are done, and what they counted.

A partition's figures and its completion row are written in one transaction, replacing any
earlier rows of that partition: a partition killed half-way leaves nothing, one retried after
it committed is skipped, and one recomputed on purpose replaces itself. The database's keys,
not Prefect's state, are what make a rerun safe on any number of machines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, delete, select

from chartroute.backfill.history import DayFigures
from chartroute.backfill.partitions import DatePartition
from chartroute.config.models import PracticeConfig
from chartroute.store.schema import backfill_figure, backfill_partition
from chartroute.sync import config_fingerprint

#: Bump when reconstruction changes, so an old backfill's partitions are not reused.
RECONSTRUCTION_VERSION = "2"  # 2: open items by stuck reason, for the report's Pareto


def backfill_id(start: date, end: date, partition_days: int, config_hash: str) -> str:
    """A stable name for one backfill: the same request resumes the same ledger.

    The source is not part of it: partitions read the store, and loading a source into the
    store is idempotent, so a rerun with or without ``--source`` resumes the same backfill.
    """
    text = "|".join(
        (RECONSTRUCTION_VERSION, start.isoformat(), end.isoformat(), str(partition_days))
    )
    return hashlib.sha256(f"{text}|{config_hash}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class PartitionResult:
    """What one partition did: counts only."""

    partition: str
    encounters: int
    charts: int
    open_item_days: int
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """A completed partition as recorded: the encounters it covered and when it finished."""

    partition: str
    encounters: int
    finished_at: datetime


def ledger_rows(conn: Connection, backfill: str) -> dict[str, LedgerRow]:
    """The completed partitions of ``backfill``, by key, with what each covered."""
    rows = conn.execute(
        select(
            backfill_partition.c.partition,
            backfill_partition.c.encounters,
            backfill_partition.c.finished_at,
        ).where(backfill_partition.c.backfill_id == backfill)
    )
    return {r.partition: LedgerRow(r.partition, r.encounters, r.finished_at) for r in rows}


def forget_partitions(conn: Connection, backfill: str, keys: list[str]) -> None:
    """Drop the figures and completion rows of ``keys``, so the run redoes them."""
    if not keys:
        return
    for table in (backfill_figure, backfill_partition):
        conn.execute(
            delete(table).where(table.c.backfill_id == backfill, table.c.partition.in_(keys))
        )


def completed_partitions(conn: Connection, backfill: str) -> set[str]:
    """The partitions of ``backfill`` already committed."""
    rows = conn.execute(
        select(backfill_partition.c.partition).where(backfill_partition.c.backfill_id == backfill)
    )
    return {r.partition for r in rows}


def is_completed(conn: Connection, backfill: str, partition: DatePartition) -> bool:
    row = conn.execute(
        select(backfill_partition.c.partition).where(
            backfill_partition.c.backfill_id == backfill,
            backfill_partition.c.partition == partition.key,
        )
    ).first()
    return row is not None


def record_partition(
    conn: Connection,
    backfill: str,
    partition: DatePartition,
    figures: DayFigures,
    result: PartitionResult,
    finished_at: datetime,
) -> None:
    """Replace the partition's figures and mark it completed (call inside one transaction)."""
    for table in (backfill_figure, backfill_partition):
        conn.execute(
            delete(table).where(table.c.backfill_id == backfill, table.c.partition == partition.key)
        )
    rows = [
        {
            "backfill_id": backfill,
            "partition": partition.key,
            "metric": metric,
            "dimension": dimension,
            "key": key,
            "first_day": figures.first,
            "counts": values,
        }
        for (metric, dimension, key), values in sorted(figures.series().items())
    ]
    if rows:
        conn.execute(backfill_figure.insert(), rows)
    conn.execute(
        backfill_partition.insert(),
        [
            {
                "backfill_id": backfill,
                "partition": partition.key,
                "encounters": result.encounters,
                "charts": result.charts,
                "open_item_days": result.open_item_days,
                "finished_at": finished_at,
            }
        ],
    )


def summed_figures(conn: Connection, backfill: str, first: date, last: date) -> DayFigures:
    """The daily figures of every completed partition of ``backfill``, added up."""
    total = DayFigures(first, (last - first).days + 1)
    rows = conn.execute(
        select(
            backfill_figure.c.metric,
            backfill_figure.c.dimension,
            backfill_figure.c.key,
            backfill_figure.c.first_day,
            backfill_figure.c.counts,
        ).where(backfill_figure.c.backfill_id == backfill)
    )
    for r in rows:
        shift = (r.first_day - first).days
        values = list(r.counts)
        if shift > 0:
            values = [0] * shift + values
        elif shift < 0:
            values = values[-shift:]
        total.merge_series((r.metric, r.dimension, r.key), values)
    return total


def backfill_for(config: PracticeConfig, start: date, end: date, partition_days: int) -> str:
    """The id of a backfill of ``config``'s practice: its classification settings and zone."""
    fingerprint = f"{config_fingerprint(config)}:{config.practice.timezone}"
    return backfill_id(start, end, partition_days, fingerprint)
