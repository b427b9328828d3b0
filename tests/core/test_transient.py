"""Retries belong on I/O that can heal: real database contention is retried, a read-only
database, a missing file or a config error is not."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from chartroute.config import ConfigError, ConfigProblem
from chartroute.fhirclient.errors import AuthorizationFailed, Fatal, Temporary
from chartroute.tasks.retry import retry_if_transient
from chartroute.transient import is_transient


class _Failed:
    """A Prefect state whose result raises ``error``."""

    def __init__(self, error: BaseException):
        self.error = error

    def result(self) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (Temporary("503", status=503), True),
        (Fatal("400", status=400), False),
        (AuthorizationFailed("401", status=401), False),
        (TimeoutError("read timed out"), True),
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (FileNotFoundError(2, "No such file or directory"), False),
        (PermissionError(13, "Permission denied"), False),
        (IsADirectoryError(21, "Is a directory"), False),
        (ConfigError([ConfigProblem("practice.yaml", 3, "roster", "bad")]), False),
        (ValueError("bad input"), False),
    ],
)
def test_only_what_can_heal_is_retried(error: BaseException, retried: bool) -> None:
    assert is_transient(error) is retried
    assert retry_if_transient(None, None, _Failed(error)) is retried


def _caught(run: Any) -> BaseException:
    try:
        run()
    except Exception as exc:
        return exc
    raise AssertionError("expected the database to refuse")


def test_sqlite_lock_held_by_another_writer_is_retried(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    holder = create_engine(url)
    waiter = create_engine(url, connect_args={"timeout": 0})
    with holder.connect() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.commit()
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.execute(text("INSERT INTO t VALUES (1)"))

        def write() -> None:
            with waiter.begin() as other:
                other.execute(text("INSERT INTO t VALUES (2)"))

        error = _caught(write)
        conn.rollback()
    assert isinstance(error, OperationalError) and "locked" in str(error)
    assert is_transient(error)


def test_a_read_only_sqlite_database_is_not_retried(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (x INTEGER)")
    read_only = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    )

    def write() -> None:
        with read_only.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))

    error = _caught(write)
    assert isinstance(error, OperationalError) and "readonly" in str(error)
    assert not is_transient(error)
    missing_table = _caught(lambda: read_only.connect().execute(text("SELECT * FROM nope")))
    assert not is_transient(missing_table)


@pytest.mark.integration
def test_postgresql_lock_timeout_and_refused_connection_are_retried(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    with engine.connect() as holder:
        holder.execute(text("CREATE TABLE IF NOT EXISTS transient_probe (x INTEGER)"))
        holder.commit()
        holder.execute(text("LOCK TABLE transient_probe IN ACCESS EXCLUSIVE MODE"))

        def wait_for_lock() -> None:
            with engine.connect() as waiter:
                waiter.execute(text("SET lock_timeout = '50ms'"))
                waiter.execute(text("SELECT * FROM transient_probe"))

        locked = _caught(wait_for_lock)
        holder.rollback()
    assert isinstance(locked, OperationalError) and is_transient(locked)

    def read_only_write() -> None:
        with engine.begin() as conn:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            conn.execute(text("INSERT INTO transient_probe VALUES (1)"))

    read_only = _caught(read_only_write)
    assert isinstance(read_only, DBAPIError) and not is_transient(read_only)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE transient_probe"))
    engine.dispose()

    closed_port = create_engine("postgresql+psycopg://postgres@127.0.0.1:9/test")
    refused = _caught(closed_port.connect)
    assert isinstance(refused, OperationalError) and is_transient(refused)
    missing = create_engine(postgres_url.rsplit("/", 1)[0] + "/no_such_database_here")
    assert not is_transient(_caught(missing.connect))
