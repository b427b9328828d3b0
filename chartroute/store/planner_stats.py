"""Fresh planner statistics on PostgreSQL after a sync has loaded many rows.

PostgreSQL's autovacuum analyzes a table some time after it changes, not within a run: the
classify stage that follows a first or a large ingest would plan its queries on statistics
of the tables as they were before (or none at all), and an ordered read of the dirty queue
or a lookup by key may then scan a whole table once per batch. One ``ANALYZE`` of the tables
the stage reads, when the queue it is about to work through is large, costs a sampled read
of each (about 30,000 rows per table, whatever its size) and keeps every batch on its index.

The stage's own tables — work items, their events, notifications, chart rows — are empty when
that ``ANALYZE`` runs on a first load, and fill as the batches go. Planned as empty tables,
a lookup of a batch's work items became a sequential scan testing each row against the whole
key array (rows times keys), up to 4 s of a 100k first load, or not, as autovacuum's analyze
happened to come in mid-run: PostgreSQL's time varied run to run by a fifth. So those tables
are analyzed again each time the classified charts double (``GrowingTables``).

SQLite plans these lookups from its indexes without statistics; nothing is done there.
"""

from __future__ import annotations

from sqlalchemy import Connection

from chartroute.store.facts import queued_count
from chartroute.store.schema import (
    chart,
    dirty_key,
    fact,
    fact_identifier,
    fact_link,
    notification,
    work_item,
    work_item_event,
)

#: A dirty queue at least this long means an ingest wrote in bulk (a first sync, a backfill,
#: a config change): a day's changes at a 100k-encounter practice queue about 1,000 charts.
ANALYZE_AFTER = 5000
#: The tables the classify stage reads by key.
_READ_BY_CLASSIFY = (fact, fact_link, fact_identifier, dirty_key, chart, work_item)
#: The tables the classify stage writes and reads back by key in later batches of the run.
_WRITTEN_BY_CLASSIFY = (work_item, work_item_event, notification, chart)
#: Charts classified before the written tables are first analyzed again; then at each doubling.
REANALYZE_FIRST = 2000


def analyze_if_bulk_loaded(conn: Connection) -> bool:
    """ANALYZE the classify stage's tables when the dirty queue says a bulk load just
    happened (PostgreSQL only); True when it did."""
    if conn.dialect.name != "postgresql":
        return False
    if queued_count(conn) < ANALYZE_AFTER:
        return False
    conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{t.name}"' for t in _READ_BY_CLASSIFY))
    return True


class GrowingTables:
    """ANALYZE the tables the classify stage writes each time the charts it has classified in
    this run double (from ``REANALYZE_FIRST``): six times in a 100k first load, each
    a sampled read of four tables; nothing unless the run began with a bulk load."""

    def __init__(self, bulk_loaded: bool) -> None:
        self.active = bulk_loaded
        self.next_at = REANALYZE_FIRST

    def after(self, conn: Connection, classified: int) -> bool:
        """Call between batches with the charts classified so far; True when it analyzed."""
        if not self.active or classified < self.next_at:
            return False
        while self.next_at <= classified:
            self.next_at *= 2
        conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{t.name}"' for t in _WRITTEN_BY_CLASSIFY))
        return True
