"""Sync runs, per-partition source cursors and settings (quarantine: ``store/quarantine.py``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from chartroute.store.batching import upsert
from chartroute.store.schema import setting, source_cursor, sync_run


def start_run(conn: Connection, source: str, as_of: datetime, now: datetime) -> str:
    run_id = str(uuid.uuid4())
    conn.execute(
        sync_run.insert().values(
            id=run_id, source=source, as_of=as_of, started_at=now, status="running", counts={}
        )
    )
    return run_id


def finish_run(
    conn: Connection, run_id: str, status: str, counts: dict[str, Any], now: datetime
) -> None:
    conn.execute(
        update(sync_run)
        .where(sync_run.c.id == run_id)
        .values(status=status, counts=counts, finished_at=now)
    )


def cursors(conn: Connection, source: str) -> dict[str, str]:
    """Fingerprint of each part of a source as of its last complete sync."""
    rows = conn.execute(
        select(source_cursor.c.name, source_cursor.c.fingerprint).where(
            source_cursor.c.source == source
        )
    )
    return {r.name: r.fingerprint for r in rows}


def advance_cursors(
    conn: Connection, source: str, fingerprints: dict[str, str], now: datetime
) -> None:
    """Record parts of a source as synced; only called after their data is committed."""
    rows = [
        {"source": source, "name": name, "fingerprint": fp, "updated_at": now}
        for name, fp in sorted(fingerprints.items())
    ]
    upsert(conn, source_cursor, rows, ["source", "name"])


def get_setting(conn: Connection, name: str) -> str | None:
    return conn.execute(select(setting.c.value).where(setting.c.name == name)).scalar_one_or_none()


def put_setting(conn: Connection, name: str, value: str) -> None:
    upsert(conn, setting, [{"name": name, "value": value}], ["name"])
