"""Bulk writes for the hot path (facts, links, the dirty queue), below SQLAlchemy's per-row
parameter processing, which costs more than the database itself at 50k+ rows a second.

SQLite: one ``executemany`` of a prepared ``INSERT … ON CONFLICT``, values pre-converted to what
SQLAlchemy's types would store (UTC datetimes as ``YYYY-MM-DD HH:MM:SS.ffffff``), so reads
through SQLAlchemy see the same values. PostgreSQL: ``COPY`` into a temporary staging table,
then one ``INSERT … SELECT … ON CONFLICT`` — the fastest way into a table with a unique key.
Both run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table

from chartroute.store.schema import UtcDateTime


def _sqlite_time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_rows(table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Any]:
    """Rows with their datetime columns in SQLAlchemy's SQLite storage format."""
    times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, UtcDateTime)]
    if not times:
        return [tuple(r) for r in rows]
    out = []
    seen: dict[datetime | None, str | None] = {}  # a batch shares its sync time and many stamps
    for row in rows:
        values = list(row)
        for i in times:
            value = values[i]
            text = seen.get(value)
            if text is None:
                text = seen[value] = _sqlite_time(value)
            values[i] = text
        out.append(tuple(values))
    return out


def bulk_upsert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    keys: Sequence[str],
    *,
    update: bool = True,
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order); on a key conflict update or skip."""
    if not rows:
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    key_cols = ", ".join(f'"{k}"' for k in keys)
    others = [c for c in columns if c not in keys]
    if update and others:
        action = "DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in others)
    else:
        action = "DO NOTHING"
    if conn.dialect.name == "postgresql":
        _copy_upsert(conn, table, columns, rows, key_cols, cols, action)
        return
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks}) ON CONFLICT ({key_cols}) {action}'
    conn.exec_driver_sql(sql, _sqlite_rows(table, columns, rows))


def _copy_upsert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    key_cols: str,
    cols: str,
    action: str,
) -> None:
    stage = f"_stage_{table.name}"
    like = f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
    with _staged(conn, stage, like, cols, rows) as cur:
        cur.execute(
            f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{stage}" '
            f"ON CONFLICT ({key_cols}) {action}"
        )


def bulk_update(
    conn: Connection,
    table: Table,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Set ``columns`` of the rows whose ``key`` is each tuple's first value (key, values…).

    For the rare mass update of existing rows (a column filled in after a migration): one
    prepared ``executemany`` on SQLite; on PostgreSQL a ``COPY`` into staging and one
    ``UPDATE … FROM``, since an ``executemany`` of updates there costs a round trip a row.
    """
    if not rows:
        return
    sets = ", ".join(f'"{c}" = ?' for c in columns)
    if conn.dialect.name != "postgresql":
        sql = f'UPDATE "{table.name}" SET {sets} WHERE "{key}" = ?'
        keyed = _sqlite_rows(table, [key, *columns], rows)
        conn.exec_driver_sql(sql, [(*r[1:], r[0]) for r in keyed])
        return
    stage = "_stage_update_" + "_".join((table.name, key, *columns))
    cols = ", ".join(f'"{c}"' for c in (key, *columns))
    # the columns' types without the table's NOT NULLs, which the other columns would break
    shape = f'ON COMMIT DELETE ROWS AS SELECT {cols} FROM "{table.name}" WITH NO DATA'
    with _staged(conn, stage, shape, cols, rows) as cur:
        assigned = ", ".join(f'"{c}" = s."{c}"' for c in columns)
        cur.execute(
            f'UPDATE "{table.name}" AS t SET {assigned} FROM "{stage}" AS s '
            f'WHERE t."{key}" = s."{key}"'
        )


@contextmanager
def _staged(
    conn: Connection, stage: str, shape: str, cols: str, rows: Sequence[Sequence[Any]]
) -> Iterator[Any]:
    """A PostgreSQL cursor with ``rows`` copied into the temporary table ``stage`` (created
    once per session as ``shape`` says, emptied at each commit and before each use)."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" {shape}')
        cur.execute(f'TRUNCATE "{stage}"')
        with cur.copy(f'COPY "{stage}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        yield cur
