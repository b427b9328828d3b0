"""Open the database: SQLite (WAL) by default, PostgreSQL or another file by URL.

``CHARTROUTE_DATABASE_URL`` selects the database; without it chartroute keeps a SQLite file
under ``CHARTROUTE_HOME`` (default ``./.chartroute``). Migrations run automatically the first
time a database is opened, so a new user never runs Alembic by hand.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

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


def make_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """An engine for ``url`` with the schema at the newest migration."""
    url = url or database_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 60}
        private_sqlite(url)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine)
    return engine


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


def upgrade(engine: Engine) -> None:
    """Apply pending migrations (a no-op when the schema is current)."""
    cfg = alembic_config()
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
