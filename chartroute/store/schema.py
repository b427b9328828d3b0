"""The tables chartroute owns. Schema changes go through Alembic migrations in ``migrations/``.

Facts are stored one row per resource, keyed by ``Type/id`` with the version and a content hash,
so an unchanged resource re-read costs a lookup and no write. ``fact_link`` indexes which chart a
fact belongs to; ``dirty_key`` is the queue of keys whose charts must be re-classified, written
in the same transaction as the facts so a crash between stages loses nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite stores them without an offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        converted: datetime = value.astimezone(UTC)
        return converted.replace(tzinfo=None) if dialect.name == "sqlite" else converted

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
    }
)

KEY = 200  # "Type/id#contained": a FHIR id is at most 64 characters

fact = Table(
    "fact",
    metadata,
    Column("key", String(KEY), primary_key=True),
    Column("resource_type", String(64), nullable=False),
    Column("version", String(64)),
    Column("updated_at", UtcDateTime()),
    Column("content_hash", String(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("synced_at", UtcDateTime(), nullable=False),
)

fact_link = Table(
    "fact_link",
    metadata,
    Column("fact_key", String(KEY), primary_key=True),
    Column("target_key", String(KEY), primary_key=True),
    Index("ix_fact_link_target_key", "target_key"),
)

dirty_key = Table(
    "dirty_key",
    metadata,
    Column("key", String(KEY), primary_key=True),
)

chart = Table(
    "chart",
    metadata,
    Column("encounter", String(KEY), primary_key=True),
    Column("state", String(16), nullable=False),  # open | closed | not-chart | future
    Column("clinician", String(64)),
    Column("visit_at", UtcDateTime()),
    Column("start_at", UtcDateTime()),
    Column("first_open_at", UtcDateTime()),
    Column("closed_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("blocker_count", Integer, nullable=False, default=0),
    Index("ix_chart_state", "state"),
)

work_item = Table(
    "work_item",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("encounter", String(KEY), nullable=False),
    Column("category", String(32), nullable=False),
    Column("subject", String(KEY), nullable=False),
    Column("role", String(32), nullable=False),
    Column("assignee", String(64)),
    Column("clinician", String(64)),
    Column("status", String(16), nullable=False),  # open | closed
    Column("evidence", JSON, nullable=False),
    Column("detail", Text, nullable=False),
    Column("visit_at", UtcDateTime()),
    Column("billing_impact", Float),
    Column("filing_deadline", Date),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_work_item_encounter", "encounter"),
    Index("ix_work_item_assignee_status", "assignee", "status"),
    Index("ix_work_item_status", "status"),
)

work_item_event = Table(
    "work_item_event",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("work_item_id", String(32), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("event", String(16), nullable=False),  # opened | reassigned | closed | reopened
    Column("assignee", String(64)),
    Column("previous_assignee", String(64)),
    Column("run_id", String(36)),
    Index("ix_work_item_event_work_item_id", "work_item_id"),
)

sync_run = Table(
    "sync_run",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("source", Text, nullable=False),
    Column("as_of", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("status", String(16), nullable=False),  # running | completed | failed
    Column("counts", JSON),
)

source_cursor = Table(
    "source_cursor",
    metadata,
    Column("source", String(400), primary_key=True),
    Column("name", String(400), primary_key=True),
    Column("fingerprint", String(200), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("resource_type", String(64)),
    Column("resource_id", String(64)),
    Column("location", Text, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("first_seen", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
    Column("times_seen", Integer, nullable=False),
)

setting = Table(
    "setting",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
