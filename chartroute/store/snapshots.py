"""Store and read daily backlog snapshots.

Writing a snapshot replaces every figure of its (day, origin) in one transaction, so a day
re-snapshotted by each sync ends with the figures of the last one, a retried write changes
nothing twice, and a backfill re-run over the same days replaces its own reconstructed rows
without touching live ones. Reading picks one origin per day: ``live`` when the day has a live
snapshot (it was observed), else ``reconstructed``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Connection, delete, select

from chartroute.store.batching import upsert
from chartroute.store.schema import backlog_snapshot, backlog_snapshot_value

Origin = Literal["live", "reconstructed"]
ORIGINS: tuple[Origin, ...] = ("live", "reconstructed")
#: Which origin a reader prefers when a day has both.
PREFERENCE: tuple[Origin, ...] = ("live", "reconstructed")


@dataclass(frozen=True, slots=True, order=True)
class Figure:
    """One figure of a snapshot, e.g. ("open_items", "category", "pending-result", 12)."""

    metric: str
    dimension: str
    key: str
    value: float


def write_snapshot(
    conn: Connection,
    day: date,
    origin: Origin,
    as_of: datetime,
    figures: Iterable[Figure],
    taken_at: datetime,
    run_id: str | None = None,
) -> int:
    """Replace the snapshot of (day, origin) with these figures; returns how many were written."""
    if origin not in ORIGINS:
        raise ValueError(f"snapshot origin must be one of {ORIGINS}, not {origin!r}")
    rows = [
        {
            "day": day,
            "origin": origin,
            "metric": f.metric,
            "dimension": f.dimension,
            "key": f.key,
            "value": float(f.value),
        }
        for f in figures
    ]
    conn.execute(
        delete(backlog_snapshot_value).where(
            backlog_snapshot_value.c.day == day, backlog_snapshot_value.c.origin == origin
        )
    )
    if rows:
        conn.execute(backlog_snapshot_value.insert(), rows)
    upsert(
        conn,
        backlog_snapshot,
        [{"day": day, "origin": origin, "as_of": as_of, "taken_at": taken_at, "run_id": run_id}],
        ["day", "origin"],
    )
    return len(rows)


def replace_day_figures(
    conn: Connection,
    day: date,
    origin: Origin,
    keep_metrics: Iterable[str],
    figures: Iterable[Figure],
) -> int:
    """Replace every figure of (day, origin) except the ``keep_metrics`` ones.

    Used to re-count a past day's movements while keeping the backlog it observed then.
    """
    keep = sorted(set(keep_metrics))
    conn.execute(
        delete(backlog_snapshot_value).where(
            backlog_snapshot_value.c.day == day,
            backlog_snapshot_value.c.origin == origin,
            backlog_snapshot_value.c.metric.not_in(keep),
        )
    )
    rows = [
        {
            "day": day,
            "origin": origin,
            "metric": f.metric,
            "dimension": f.dimension,
            "key": f.key,
            "value": float(f.value),
        }
        for f in figures
        if f.metric not in keep
    ]
    if rows:
        conn.execute(backlog_snapshot_value.insert(), rows)
    return len(rows)


@dataclass
class StoredDay:
    """One day's figures from its preferred origin."""

    day: date
    origin: Origin
    as_of: datetime
    figures: dict[tuple[str, str, str], float] = field(default_factory=dict)

    def get(self, metric: str, dimension: str = "total", key: str = "") -> float | None:
        return self.figures.get((metric, dimension, key))

    def breakdown(self, metric: str, dimension: str) -> dict[str, float]:
        return {k: v for (m, d, k), v in self.figures.items() if m == metric and d == dimension}


def snapshot_days(conn: Connection) -> list[tuple[date, Origin]]:
    """Every (day, origin) that has a snapshot, in day order."""
    rows = conn.execute(
        select(backlog_snapshot.c.day, backlog_snapshot.c.origin).order_by(
            backlog_snapshot.c.day, backlog_snapshot.c.origin
        )
    )
    return [(r.day, r.origin) for r in rows]


def read_snapshots(
    conn: Connection, start: date | None = None, end: date | None = None
) -> list[StoredDay]:
    """The days from ``start`` to ``end`` (inclusive) that have a snapshot, each from one origin."""
    heads = select(backlog_snapshot)
    values = select(backlog_snapshot_value)
    if start is not None:
        heads = heads.where(backlog_snapshot.c.day >= start)
        values = values.where(backlog_snapshot_value.c.day >= start)
    if end is not None:
        heads = heads.where(backlog_snapshot.c.day <= end)
        values = values.where(backlog_snapshot_value.c.day <= end)
    chosen: dict[date, StoredDay] = {}
    for r in conn.execute(heads):
        current = chosen.get(r.day)
        if current is None or PREFERENCE.index(r.origin) < PREFERENCE.index(current.origin):
            chosen[r.day] = StoredDay(r.day, r.origin, r.as_of)
    figures: dict[date, dict[tuple[str, str, str], float]] = defaultdict(dict)
    for r in conn.execute(values):
        head = chosen.get(r.day)
        if head is not None and head.origin == r.origin:
            figures[r.day][(r.metric, r.dimension, r.key)] = r.value
    for when, stored in chosen.items():
        stored.figures = figures.get(when, {})
    return [chosen[d] for d in sorted(chosen)]
