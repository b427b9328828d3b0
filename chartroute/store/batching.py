"""Helpers for set-based SQL on both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

T = TypeVar("T")
IN_CHUNK = 5000  # under SQLite's (32,766 since 3.32) and PostgreSQL's (65,535) parameter limits


def chunks(items: Sequence[T] | Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """Consecutive slices of at most ``size`` items."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def dialect_insert(conn: Connection, table: Table) -> Any:
    """An INSERT that supports ON CONFLICT on the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows, skipping any whose primary key already exists (executemany)."""
    if not rows:
        return
    stmt: Insert = dialect_insert(conn, table).on_conflict_do_nothing()
    conn.execute(stmt, rows)


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Insert rows, replacing the non-key columns of rows whose key exists (executemany)."""
    if not rows:
        return
    ins = dialect_insert(conn, table)
    columns = [c for c in rows[0] if c not in keys]
    stmt = ins.on_conflict_do_update(
        index_elements=keys, set_={c: getattr(ins.excluded, c) for c in columns}
    )
    conn.execute(stmt, rows)
