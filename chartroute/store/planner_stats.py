"""Fresh planner statistics on PostgreSQL after a sync has loaded many rows.

PostgreSQL's autovacuum analyzes a table some time after it changes, not within a run: the
classify stage that follows a first or a large ingest would plan its queries on statistics
of the tables as they were before (or none at all), and an ordered read of the dirty queue
or a lookup by key may then scan a whole table once per batch. One ``ANALYZE`` of the tables
the stage reads, when the queue it is about to work through is large, costs a sampled read
of each (about 30,000 rows per table, whatever its size) and keeps every batch on its index.

SQLite plans these lookups from its indexes without statistics; nothing is done there.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from chartroute.store.schema import chart, dirty_key, fact, fact_identifier, fact_link, work_item

#: A dirty queue at least this long means an ingest wrote in bulk (a first sync, a backfill,
#: a config change): a day's changes at a 100k-encounter practice queue about 1,000 charts.
ANALYZE_AFTER = 5000
#: The tables the classify stage reads by key.
_READ_BY_CLASSIFY = (fact, fact_link, fact_identifier, dirty_key, chart, work_item)


def analyze_if_bulk_loaded(conn: Connection) -> bool:
    """ANALYZE the classify stage's tables when the dirty queue says a bulk load just
    happened (PostgreSQL only); True when it did."""
    if conn.dialect.name != "postgresql":
        return False
    queued = conn.execute(select(func.count()).select_from(dirty_key)).scalar_one()
    if queued < ANALYZE_AFTER:
        return False
    conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{t.name}"' for t in _READ_BY_CLASSIFY))
    return True
