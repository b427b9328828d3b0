"""Database leases: at most one holder of a named job at a time, across processes and servers.

A Prefect concurrency limit stops one Prefect server from starting two syncs; it cannot see a
second server, a worker on another Prefect installation, or someone running ``chartroute sync``
by hand. The database all of them write to can: a lease is one row (name, holder, token,
expiry) taken with a conditional write that succeeds for exactly one contender:

- free name: ``INSERT … ON CONFLICT DO NOTHING`` — the primary key lets one insert win;
- expired lease (or one this holder already has): ``UPDATE … WHERE expires_at <= now OR
  holder = :holder`` — PostgreSQL re-checks the condition after a concurrent update commits,
  SQLite serialises writers, so two contenders cannot both see it expired.

The holder renews the lease well before it expires (``LeaseKeeper`` does it on a thread) and
deletes it when done; a holder that dies simply stops renewing, and the lease frees itself at
expiry (at once for a contender on the same host, which can see the holder's process is
gone). Expiry is judged by the database's clock on PostgreSQL, so clock skew between
application servers cannot let two of them in.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, or_, select, text, update
from sqlalchemy.exc import OperationalError

from chartroute.store.batching import insert_ignore
from chartroute.store.owners import owner_gone
from chartroute.store.schema import lease as lease_table

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(minutes=2)


@dataclass(frozen=True)
class Lease:
    """A lease this process holds: proof of ownership is the token."""

    name: str
    holder: str
    token: str
    expires_at: datetime


class LeaseHeld(RuntimeError):
    """Someone else holds the lease; the message says who and until when."""

    def __init__(self, name: str, holder: str | None, expires_at: datetime | None) -> None:
        until = f" until {expires_at.isoformat()}" if expires_at else ""
        super().__init__(f"lease {name!r} is held by {holder or 'another process'}{until}")
        self.name = name
        self.holder = holder
        self.expires_at = expires_at


def default_holder(run: str | None = None) -> str:
    """``host:pid[:run]`` — enough for a person to find the process that holds a lease."""
    parts = [socket.gethostname(), str(os.getpid())]
    if run:
        parts.append(run)
    return ":".join(parts)[:200]


def database_now(conn: Connection) -> datetime:
    """The database server's clock on PostgreSQL (shared by every server); else this host's."""
    if conn.dialect.name == "postgresql":
        value = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
        return value.astimezone(UTC)  # type: ignore[no-any-return]
    return datetime.now(UTC)


def acquire(
    engine: Engine,
    name: str,
    holder: str,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> Lease:
    """Take the lease ``name`` for ``ttl``, or raise ``LeaseHeld``.

    The same ``holder`` may take it again while it holds it (a retried flow run), which
    renews it under a new token.
    """
    token = str(uuid.uuid4())
    with engine.begin() as conn:
        at = now or database_now(conn)
        values = {"holder": holder, "token": token, "acquired_at": at, "expires_at": at + ttl}
        taken = conn.execute(
            update(lease_table)
            .where(
                lease_table.c.name == name,
                or_(lease_table.c.expires_at <= at, lease_table.c.holder == holder),
            )
            .values(**values)
        ).rowcount
        if not taken:
            before = _row(conn, name)
            if before is None:
                insert_ignore(conn, lease_table, [{"name": name, **values}])
                after = _row(conn, name)
                taken = int(after is not None and after.token == token)
        if not taken:
            current = _row(conn, name)
            if current is not None and owner_gone(current.holder):
                # its holder on this host was killed: no need to wait for the expiry
                taken = conn.execute(
                    update(lease_table)
                    .where(lease_table.c.name == name, lease_table.c.token == current.token)
                    .values(**values)
                ).rowcount
        if not taken:
            current = _row(conn, name)
            raise LeaseHeld(
                name, current.holder if current else None, current.expires_at if current else None
            )
    return Lease(name, holder, token, at + ttl)


def _row(conn: Connection, name: str) -> Row[Any] | None:
    return conn.execute(select(lease_table).where(lease_table.c.name == name)).first()


def renew(
    engine: Engine, held: Lease, ttl: timedelta = DEFAULT_TTL, now: datetime | None = None
) -> Lease | None:
    """Push the expiry out; None when the lease was lost (taken over after it expired)."""
    with engine.begin() as conn:
        at = now or database_now(conn)
        done = conn.execute(
            update(lease_table)
            .where(lease_table.c.name == held.name, lease_table.c.token == held.token)
            .values(expires_at=at + ttl)
        ).rowcount
    if not done:
        return None
    return Lease(held.name, held.holder, held.token, at + ttl)


def release(engine: Engine, held: Lease) -> bool:
    """Give the lease up; False when it had already been lost."""
    with engine.begin() as conn:
        done = conn.execute(
            delete(lease_table).where(
                lease_table.c.name == held.name, lease_table.c.token == held.token
            )
        ).rowcount
    return bool(done)


def holder_of(engine: Engine, name: str) -> tuple[str, datetime] | None:
    """Who holds ``name`` and until when (an expired row still shows its last holder)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(lease_table.c.holder, lease_table.c.expires_at).where(lease_table.c.name == name)
        ).first()
    return (row.holder, row.expires_at) if row else None


class LeaseKeeper:
    """Holds a lease for as long as a job runs: renews it every ``ttl / 3`` on a daemon thread.

    If a renewal finds the lease lost, ``lost`` is set and renewing stops; the job should check
    ``lost`` at its next safe point. A renewal that fails on a database error is retried at the
    next tick, so a short outage does not drop the lease before it expires.
    """

    def __init__(self, engine: Engine, held: Lease, ttl: timedelta = DEFAULT_TTL) -> None:
        self.engine = engine
        self.lease = held
        self.ttl = ttl
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{held.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        interval = self.ttl.total_seconds() / 3
        while not self._stop.wait(interval):
            try:
                renewed = renew(self.engine, self.lease, self.ttl)
            except OperationalError as exc:
                log.warning("lease %s: renewal failed, will retry: %s", self.lease.name, exc)
                continue
            if renewed is None:
                self.lost = True
                log.error("lease %s was lost to another holder", self.lease.name)
                return
            self.lease = renewed

    def release(self) -> bool:
        """Stop renewing and give the lease up."""
        self._stop.set()
        self._thread.join(timeout=30)
        return release(self.engine, self.lease)
