"""Sync runs, per-partition source cursors and settings (quarantine: ``store/quarantine.py``)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from chartroute.store.batching import upsert
from chartroute.store.lease import database_now, default_holder
from chartroute.store.owners import owner_gone, this_host
from chartroute.store.schema import lease, setting, source_cursor, sync_run

log = logging.getLogger(__name__)
#: The lease every sync takes (``tasks/lease.py``): a run on another host is alive while its
#: holder still holds it.
SYNC_LEASE = "chartroute-sync"


def start_run(
    conn: Connection, source: str, as_of: datetime, now: datetime, holder: str | None = None
) -> str:
    """Record a run as ``running`` under ``holder`` (``host:pid[:flow run]``)."""
    run_id = str(uuid.uuid4())
    conn.execute(
        sync_run.insert().values(
            id=run_id,
            source=source,
            as_of=as_of,
            started_at=now,
            status="running",
            counts={},
            holder=holder or default_holder(),
        )
    )
    return run_id


def close_crashed_runs(conn: Connection, now: datetime, lease_name: str = SYNC_LEASE) -> int:
    """Mark ``crashed`` the runs still ``running`` whose process is gone; returns how many.

    Gone: on this host, its pid no longer runs; on another host, a leased sync (holder
    ``host:pid:flow run``) whose lease has expired or passed to someone else. A run on another
    host that took no lease (a backfill's load) is left alone: nothing here can tell.
    """
    running = conn.execute(
        select(sync_run.c.id, sync_run.c.holder).where(sync_run.c.status == "running")
    ).all()
    if not running:
        return 0
    held = conn.execute(
        select(lease.c.holder, lease.c.expires_at).where(lease.c.name == lease_name)
    ).first()
    lease_live = held is not None and held.expires_at > database_now(conn)

    def crashed(holder: str | None) -> bool:
        if owner_gone(holder):
            return True
        leased_elsewhere = (
            holder is not None and holder.count(":") >= 2 and holder.split(":", 1)[0] != this_host()
        )
        return leased_elsewhere and not (lease_live and held is not None and held.holder == holder)

    ids = [row.id for row in running if crashed(row.holder)]
    if ids:
        conn.execute(
            update(sync_run)
            .where(sync_run.c.id.in_(ids), sync_run.c.status == "running")
            .values(status="crashed", finished_at=now)
        )
        log.warning("closed %d sync runs as crashed: their process is gone", len(ids))
    return len(ids)


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
