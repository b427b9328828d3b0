"""Quarantine: bad records held with every reason, never dropped, released when fixed.

A record is keyed by its resource (``Type/id``) when it has one, otherwise by where it was read
(``at:<file>:<line>`` or ``at:<url>``). Seeing it again bumps ``times_seen`` and keeps
``first_seen``; a good copy of the same resource, or a good record read at the same location,
releases it. The raw bytes are kept so ``chartroute quarantine --explain`` can re-validate the
record; listings show identifiers, locations and reasons only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from chartroute.store.batching import upsert
from chartroute.store.key_sets import key_in
from chartroute.store.schema import quarantine

LOCATION_PREFIX = "at:"


#: The quarantine key column's width; a longer location (a server's fullUrl) is shortened.
KEY_WIDTH = 400


def location_key(location: str) -> str:
    """The key of a record that has no usable resource type and id.

    A location too long for the key column keeps its start and gains a hash of the whole, so
    the same location always gives the same key on every database.
    """
    key = f"{LOCATION_PREFIX}{location}"
    if len(key) <= KEY_WIDTH:
        return key
    digest = hashlib.sha256(location.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{key[: KEY_WIDTH - 18]}#{digest}"


@dataclass(frozen=True)
class HeldRecord:
    """One quarantined record as listed (``raw`` only when asked for)."""

    key: str
    resource_type: str | None
    resource_id: str | None
    location: str
    reasons: list[str]
    first_seen: datetime
    last_seen: datetime
    times_seen: int
    raw: bytes | None = None

    def listing(self) -> dict[str, Any]:
        """The record as printed by ``chartroute quarantine`` (no raw content)."""
        return {
            "key": self.key,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "location": self.location,
            "reasons": list(self.reasons),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "times_seen": self.times_seen,
        }


def quarantine_records(conn: Connection, records: list[dict[str, Any]], now: datetime) -> None:
    """Hold bad records with their reasons; a record seen again bumps its count.

    Copies of one key in the same call (a resource sent twice with conflicting content) become
    one row with every location and every reason.
    """
    if not records:
        return
    merged: dict[str, dict[str, Any]] = {}
    for rec in records:
        held = merged.get(rec["key"])
        if held is None:
            merged[rec["key"]] = {**rec, "reasons": list(rec["reasons"])}
            continue
        if rec["location"] not in held["location"].split(", "):
            held["location"] = f"{held['location']}, {rec['location']}"
        held["reasons"].extend(r for r in rec["reasons"] if r not in held["reasons"])
        held["raw"] = rec["raw"] or held["raw"]
    found = select(quarantine.c.key, quarantine.c.first_seen, quarantine.c.times_seen).where(
        key_in(conn, quarantine.c.key, merged)
    )
    stored = {r.key: (r.first_seen, r.times_seen) for r in conn.execute(found)}
    rows = []
    for rec in merged.values():
        first, times = stored.get(rec["key"], (now, 0))
        rows.append({**rec, "first_seen": first, "last_seen": now, "times_seen": times + 1})
    upsert(conn, quarantine, rows, ["key"])


def holds_any(conn: Connection) -> bool:
    """Whether anything is held: usually not, and then no good key need be looked up."""
    return conn.execute(select(quarantine.c.key).limit(1)).first() is not None


def release_quarantine(conn: Connection, keys: list[str]) -> int:
    """Drop records that have since arrived in good shape; returns how many left quarantine."""
    if not keys or not holds_any(conn):
        return 0
    released = conn.execute(delete(quarantine).where(key_in(conn, quarantine.c.key, keys)))
    return released.rowcount or 0


def forget_raw(conn: Connection, seen_before: datetime) -> int:
    """Drop the raw bytes of records last seen before ``seen_before``; returns how many.

    The row stays (identifiers, location, reasons, counts) so the record is still listed and
    still counted; only the content, which may carry patient data, goes.
    """
    result = conn.execute(
        update(quarantine)
        .where(quarantine.c.last_seen < seen_before, quarantine.c.raw != b"")
        .values(raw=b"")
    )
    return result.rowcount or 0


def held_records(conn: Connection) -> Iterator[HeldRecord]:
    """Every quarantined record, sorted by key, without its raw bytes."""
    columns = [c for c in quarantine.c if c.name != "raw"]
    for r in conn.execute(select(*columns).order_by(quarantine.c.key)):
        yield _held(r._mapping, None)


def held_record(conn: Connection, key: str) -> HeldRecord | None:
    """One quarantined record with its raw bytes, or None."""
    row = conn.execute(select(quarantine).where(quarantine.c.key == key)).first()
    return _held(row._mapping, row.raw) if row is not None else None


def _held(row: Any, raw: bytes | None) -> HeldRecord:
    return HeldRecord(
        key=row["key"],
        resource_type=row["resource_type"],
        resource_id=row["resource_id"],
        location=row["location"],
        reasons=list(row["reasons"] or []),
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        times_seen=row["times_seen"],
        raw=raw,
    )
