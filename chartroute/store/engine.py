"""Open the database: SQLite (WAL) by default, PostgreSQL or another file by URL.

``CHARTROUTE_DATABASE_URL`` selects the database; without it chartroute keeps a SQLite file
under ``CHARTROUTE_HOME`` (default ``./.chartroute``). Migrations run automatically the first
time a database is opened, so a new user never runs Alembic by hand.

Migrating is all or nothing, whoever is killed and whoever comes second:

- SQLite: Python's driver opens no transaction before DDL, so each ``CREATE`` would commit on
  its own and a process killed mid-migration would leave half a schema that no later run can
  finish. The migration runs on a connection of its own with the driver's transaction
  handling off and an explicit ``BEGIN IMMEDIATE``: the whole upgrade commits at once or not at
  all, and a second process waits on the write lock, then finds the schema current.
- PostgreSQL: DDL is transactional already; two first runs at once would both try to create
  the schema and the loser would fail on ``alembic_version``. The upgrade holds a transaction
  advisory lock, so the second waits, then finds the schema current.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.pool import NullPool

from chartroute.store.private_files import private_dir, private_sqlite

MIGRATIONS = Path(__file__).with_name("migrations")


def home() -> Path:
    """Folder for chartroute's local state (the SQLite file, reports, outbox files)."""
    return Path(os.environ.get("CHARTROUTE_HOME", ".chartroute")).resolve()


def database_url() -> str:
    """The configured database URL."""
    url = os.environ.get("CHARTROUTE_DATABASE_URL")
    if url:
        return url
    path = home() / "chartroute.db"
    private_dir(path.parent)  # the quarantine holds raw records: owner-only
    return f"sqlite:///{path}"


class DatabaseFolderUnwritable(PermissionError):
    """SQLite must create its ``-wal`` and ``-shm`` files next to the database; in a folder it
    cannot write, the driver was seen to die of SIGBUS instead of raising an error."""


def make_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """An engine for ``url`` with the schema at the newest migration."""
    url = url or database_url()
    _check_sqlite_folder(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        private_sqlite(url)
    engine = create_engine(url, **_engine_options(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine)
    return engine


def _check_sqlite_folder(url: str) -> None:
    """Refuse, with the folder named, a SQLite file whose folder or files cannot be written."""
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return
    path = Path(url.removeprefix("sqlite:///"))
    unwritable = [
        p
        for p in (path.parent, path, Path(f"{path}-wal"), Path(f"{path}-shm"))
        if p.exists() and not os.access(p, os.W_OK)
    ]
    if unwritable:
        raise DatabaseFolderUnwritable(
            f"database {path} cannot be written: {unwritable[0]} is read-only for this user; "
            "fix its permissions or set CHARTROUTE_HOME to a folder this user can write"
        )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _engine_options(url: str, **extra: Any) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}, **extra}
    if url.startswith("postgresql+psycopg"):
        # An unreachable server fails within seconds instead of the OS's minutes-long timeout.
        return {"connect_args": {"connect_timeout": 10}, **extra}
    return extra


#: Any fixed number: the key of PostgreSQL's advisory lock that serialises migrations.
MIGRATION_LOCK_KEY = 0x63_68_72_74  # "chrt"


class HalfMigrated(RuntimeError):
    """A database holds chartroute tables but no migration version: an interrupted first
    migration of a release before migrations were atomic. Nothing can be assumed about it."""


@cache
def migration_head() -> str | None:
    """The newest migration's revision, read from the scripts once per process: alembic
    executes every migration script to learn it (0.1 s, paid by every engine made before).
    A process that outlives an upgrade of chartroute keeps the head it started with, as it
    keeps the code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: Engine) -> None:
    """Apply pending migrations atomically (a no-op when the schema is current)."""
    cfg = alembic_config()
    head = migration_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(cfg, engine)
        return
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        _run_upgrade(cfg, conn)


def _upgrade_sqlite(cfg: Config, engine: Engine) -> None:
    """The upgrade in one SQLite transaction, on a connection whose driver leaves BEGIN to us."""
    migrator = create_engine(engine.url, **_engine_options(str(engine.url), poolclass=NullPool))

    @event.listens_for(migrator, "connect")
    def _manual_transactions(dbapi_connection: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, _record)
        dbapi_connection.isolation_level = None  # no implicit BEGIN/COMMIT by the driver

    @event.listens_for(migrator, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock first: a second process waits

    try:
        with migrator.begin() as conn:
            _run_upgrade(cfg, conn)
    finally:
        migrator.dispose()


def _run_upgrade(cfg: Config, conn: Connection) -> None:
    current = MigrationContext.configure(conn).get_current_revision()
    if current is None:
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        if tables:
            raise HalfMigrated(
                f"database {conn.engine.url.render_as_string(hide_password=True)} has "
                f"{len(tables)} chartroute tables but no schema version: its first migration was "
                "interrupted by an older release; move it aside and run again to start afresh"
            )
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")
