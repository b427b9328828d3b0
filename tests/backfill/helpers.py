"""Run a backfill without Prefect and read back what it wrote."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from chartroute.backfill.ledger import backfill_id
from chartroute.backfill.partitions import plan_partitions
from chartroute.backfill.run import run_partition, write_reconstructed_snapshots
from chartroute.config import PracticeConfig
from chartroute.store.schema import backfill_figure, backfill_partition, backlog_snapshot_value

PARTITION_DAYS = 7


def name_for(first: date, last: date) -> str:
    return backfill_id(first, last, PARTITION_DAYS, "test-config")


def backfill(engine: Engine, config: PracticeConfig, first: date, last: date) -> str:
    """Every partition, then the snapshots; returns the backfill's id."""
    name = name_for(first, last)
    for partition in plan_partitions(first, last, PARTITION_DAYS):
        run_partition(engine, config, name, partition, last)
    write_reconstructed_snapshots(engine, config, name, first, last)
    return name


def snapshot_values(engine: Engine) -> dict[tuple[Any, ...], float]:
    """Every reconstructed snapshot figure, keyed by (day, metric, dimension, key)."""
    t = backlog_snapshot_value
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.day, t.c.metric, t.c.dimension, t.c.key, t.c.value).where(
                t.c.origin == "reconstructed"
            )
        ).all()
    out = {(r.day, r.metric, r.dimension, r.key): r.value for r in rows}
    assert len(out) == len(rows), "a snapshot figure is stored twice"
    return out


def ledger(engine: Engine, name: str) -> tuple[list[str], dict[tuple[str, ...], list[int]]]:
    """The completed partitions and their stored daily figures."""
    with engine.connect() as conn:
        parts: list[str] = sorted(
            r.partition
            for r in conn.execute(
                select(backfill_partition.c.partition).where(
                    backfill_partition.c.backfill_id == name
                )
            )
        )
        figures: dict[tuple[str, ...], list[int]] = {
            (r.partition, r.metric, r.dimension, r.key): list(r.counts)
            for r in conn.execute(
                select(backfill_figure).where(backfill_figure.c.backfill_id == name)
            )
        }
    return parts, figures
