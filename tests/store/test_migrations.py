"""Migrations are all or nothing: a first migration that dies half-way leaves a database the
next run can migrate, and two first runs at once on a new database both end with the schema."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.operations import Operations
from sqlalchemy import create_engine, inspect, text

from chartroute.store.engine import HalfMigrated, make_engine
from tests.conftest import PG_ADMIN_URL, _postgres_available


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way handles it."""


def test_a_first_migration_interrupted_half_way_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'chartroute.db'}"
    created: list[str] = []
    real_create_table = Operations.create_table

    def create_then_die(self: Operations, name: str, *columns: Any, **kw: Any) -> Any:
        if len(created) == 3:  # the first migration is under way: three tables exist
            raise Killed
        created.append(name)
        return real_create_table(self, name, *columns, **kw)

    monkeypatch.setattr(Operations, "create_table", create_then_die)
    with pytest.raises(Killed):
        make_engine(url)
    monkeypatch.undo()

    assert created, "the migration never started"
    leftover = create_engine(url)
    with leftover.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    leftover.dispose()
    engine = make_engine(url)  # the next run migrates the database as if it were new
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM work_item")).scalar_one() == 0
    engine.dispose()


def test_a_database_an_older_release_left_half_migrated_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chartroute.db'}"
    raw = create_engine(url)
    with raw.begin() as conn:
        conn.execute(text("CREATE TABLE chart (encounter TEXT PRIMARY KEY)"))
    raw.dispose()
    with pytest.raises(HalfMigrated, match="move it aside"):
        make_engine(url)


@pytest.fixture
def new_postgres_url() -> Iterator[str]:
    if not _postgres_available():
        pytest.skip("PostgreSQL not reachable")
    name = f"chartroute_m_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_first_runs_at_once_both_find_the_schema(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'chartroute.db'}"
    else:
        url = request.getfixturevalue("new_postgres_url")
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def first_run() -> None:
        start.wait()
        try:
            make_engine(url).dispose()
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)

    runners = [threading.Thread(target=first_run) for _ in range(3)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(timeout=120)
    assert errors == []
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()


def test_an_engine_on_a_current_store_reads_no_migration_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every engine read every migration script to learn the head (0.1 s a process, and a
    served run's first engine paid it too): now once per process."""
    from alembic.script import ScriptDirectory

    from chartroute.store import engine as engine_module

    engine_module.migration_head.cache_clear()
    reads: list[int] = []
    real = ScriptDirectory.from_config

    def counted(*args: Any, **kwargs: Any) -> ScriptDirectory:
        reads.append(1)
        return real(*args, **kwargs)

    url = f"sqlite:///{tmp_path / 'store.db'}"
    make_engine(url).dispose()  # a new store: the upgrade reads the scripts, as it must
    monkeypatch.setattr(ScriptDirectory, "from_config", counted)
    again = make_engine(url)
    assert reads == []
    with again.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    head = real(engine_module.alembic_config()).get_current_head()
    assert version == engine_module.migration_head() == head
    again.dispose()
