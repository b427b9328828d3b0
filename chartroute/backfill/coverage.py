"""Whether a backfill's completed partitions still cover what the store holds.

A partition is done only for the store it read: its ledger row records how many encounters it
covered and when it finished. It is redone when the store now indexes a different number of
encounters for its days, when the store stored new or changed records after it finished (a
sync, or a load of a fuller export), or when the user asks (``--force``). A range in which the
store holds no encounter at all is refused before anything is written: empty "reconstructed"
days would read as a practice with no backlog, and their partitions would be skipped by every
later run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import Connection, func, select

from chartroute.backfill.ledger import LedgerRow
from chartroute.backfill.partitions import DatePartition
from chartroute.store.schema import backfill_encounter, fact


class NothingToBackfill(ValueError):
    """No stored encounter started on a day of the range: there is nothing to reconstruct."""


def encounters_per_partition(
    conn: Connection, partitions: Sequence[DatePartition]
) -> dict[str, int]:
    """How many indexed encounters started on the days of each partition (one query)."""
    if not partitions:
        return {}
    first, stop = partitions[0].start, partitions[-1].end
    rows = conn.execute(
        select(backfill_encounter.c.start_day, func.count())
        .where(backfill_encounter.c.start_day >= first, backfill_encounter.c.start_day < stop)
        .group_by(backfill_encounter.c.start_day)
    )
    held = {p.key: 0 for p in partitions}
    for day, count in rows:
        for partition in partitions:
            if partition.start <= day < partition.end:
                held[partition.key] += int(count)
                break
    return held


def store_changed_at(conn: Connection) -> datetime | None:
    """When the store last stored a new or changed record (unchanged records keep their time)."""
    changed: datetime | None = conn.execute(select(func.max(fact.c.synced_at))).scalar()
    return changed


def stale_partitions(
    done: Mapping[str, LedgerRow],
    held: Mapping[str, int],
    changed_at: datetime | None,
    *,
    force: bool = False,
) -> list[str]:
    """The completed partitions that no longer cover what the store holds, in key order."""
    stale = []
    for key in sorted(done.keys() & held.keys()):
        row = done[key]
        if (
            force
            or row.encounters != held[key]
            or (changed_at is not None and changed_at > row.finished_at)
        ):
            stale.append(key)
    return stale


def refuse_empty_range(conn: Connection, start: date, end: date, held: Mapping[str, int]) -> None:
    """Raise ``NothingToBackfill`` naming what the store holds when the range holds nothing."""
    if sum(held.values()):
        return
    count, first, last = conn.execute(
        select(
            func.count(),
            func.min(backfill_encounter.c.start_day),
            func.max(backfill_encounter.c.start_day),
        ).where(backfill_encounter.c.start_day.is_not(None))
    ).one()
    if not count:
        raise NothingToBackfill(
            f"no encounters to backfill from {start} to {end}: the store holds none; load the "
            "history with --source (a folder, FHIR URL or bulk+URL) or run `chartroute sync` first"
        )
    raise NothingToBackfill(
        f"no encounters to backfill from {start} to {end}: the store's {count} encounters "
        f"started from {first} to {last}; choose days in that range"
    )
