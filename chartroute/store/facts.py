"""Persist facts idempotently and load them back, a batch of charts at a time.

An upsert compares each incoming fact's content hash with the stored one, so re-reading an
unchanged feed writes nothing; a stored fact is replaced only by one at least as new
(``meta.lastUpdated``), so a late-arriving old version cannot roll a chart back. Every change
queues the keys of the charts it touches in ``dirty_key`` within the same transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from chartroute.charts import ChartFacts, build_chart
from chartroute.counts import Counts
from chartroute.fhir.facts import EncounterFact, Fact, fact_from_json, fact_to_json
from chartroute.fhir.references import key_type
from chartroute.store.batching import chunks, insert_ignore
from chartroute.store.bulk import bulk_upsert
from chartroute.store.schema import dirty_key, fact, fact_link


@dataclass
class UpsertCounts(Counts):
    """What one upsert batch did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    changed_keys: list[str] = field(default_factory=list)


_FACT_COLUMNS = (
    "key",
    "resource_type",
    "version",
    "updated_at",
    "content_hash",
    "body",
    "synced_at",
)


def _hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def upsert_facts(conn: Connection, facts: Iterable[Fact], now: datetime) -> UpsertCounts:
    """Store a batch of facts; queue the charts they touch for re-classification."""
    latest: dict[str, Fact] = {}
    for f in facts:
        current = latest.get(f.key)
        if current is None or not (
            current.updated_at and f.updated_at and current.updated_at > f.updated_at
        ):
            latest[f.key] = f
    counts = UpsertCounts()
    if not latest:
        return counts
    stored: dict[str, tuple[str, datetime | None]] = {}
    for part in chunks(list(latest)):
        rows = conn.execute(
            select(fact.c.key, fact.c.content_hash, fact.c.updated_at).where(fact.c.key.in_(part))
        )
        stored.update({r.key: (r.content_hash, r.updated_at) for r in rows})
    writes: list[tuple[Any, ...]] = []
    changed: list[Fact] = []
    for key, f in latest.items():
        body = fact_to_json(f)
        digest = _hash(body)
        previous = stored.get(key)
        if previous is not None:
            if previous[0] == digest:
                counts.unchanged += 1
                continue
            if previous[1] and f.updated_at and previous[1] > f.updated_at:
                counts.stale += 1
                continue
            counts.updated += 1
        else:
            counts.inserted += 1
        changed.append(f)
        writes.append((key, key_type(key), f.version, f.updated_at, digest, body, now))
    if not changed:
        return counts
    changed_keys = [f.key for f in changed]
    dirty: set[str] = set()
    replaced = [k for k in changed_keys if k in stored]
    for part in chunks(replaced):
        dirty.update(
            r.target_key
            for r in conn.execute(
                select(fact_link.c.target_key).where(fact_link.c.fact_key.in_(part))
            )
        )
        conn.execute(delete(fact_link).where(fact_link.c.fact_key.in_(part)))
    bulk_upsert(conn, fact, _FACT_COLUMNS, writes, ["key"])
    links = [(f.key, t) for f in changed for t in sorted(set(f.links))]
    bulk_upsert(
        conn, fact_link, ("fact_key", "target_key"), links, ["fact_key", "target_key"], update=False
    )
    for f in changed:
        dirty.update(f.links)
        if isinstance(f, EncounterFact):
            dirty.add(f.key)
    encounters = _encounters_of(conn, dirty)
    bulk_upsert(
        conn, dirty_key, ("key",), [(k,) for k in sorted(encounters)], ["key"], update=False
    )
    counts.changed_keys = changed_keys
    return counts


def delete_facts(conn: Connection, keys: Iterable[str]) -> int:
    """Remove resources deleted in the EHR: their facts, contained facts and links.

    The charts they belonged to are resolved *before* their links go and queued for
    re-classification, so a chart loses the deleted note or result; a deleted Encounter
    queues itself, and classification then closes what it had open. Returns how many
    stored resources were removed (an unknown key is a no-op).
    """
    wanted = sorted(set(keys))
    if not wanted:
        return 0
    found: set[str] = set()
    for part in chunks(wanted):
        found.update(r.key for r in conn.execute(select(fact.c.key).where(fact.c.key.in_(part))))
    doomed = set(found)
    for key in sorted(found):  # contained resources are keyed "Type/id#local"
        inner = conn.execute(select(fact.c.key).where(fact.c.key.like(f"{key}#%")))
        doomed.update(r.key for r in inner)
    if not doomed:
        return 0
    targets = {k for k in doomed if _is_encounter(k)}
    for part in chunks(sorted(doomed)):
        linked = select(fact_link.c.target_key).where(fact_link.c.fact_key.in_(part))
        targets.update(r.target_key for r in conn.execute(linked))
    encounters = _encounters_of(conn, targets)
    for part in chunks(sorted(doomed)):
        conn.execute(delete(fact_link).where(fact_link.c.fact_key.in_(part)))
        conn.execute(delete(fact).where(fact.c.key.in_(part)))
    bulk_upsert(
        conn, dirty_key, ("key",), [(k,) for k in sorted(encounters)], ["key"], update=False
    )
    return len(found)


def _is_encounter(key: str) -> bool:
    return key.startswith("Encounter/") and "#" not in key


def _encounters_of(conn: Connection, keys: set[str]) -> set[str]:
    """The encounters a set of link targets belongs to, following at most two hops.

    A parent not stored yet (a result that arrives before its order) resolves to nothing,
    which loses nothing: when the parent arrives it is new and queues its own encounter,
    and loading that chart picks up the child through ``fact_link``.
    """
    encounters = {k for k in keys if _is_encounter(k)}
    pending = sorted(k for k in keys if not _is_encounter(k))
    for _hop in range(2):
        if not pending:
            break
        found: set[str] = set()
        for part in chunks(pending):
            found.update(
                r.target_key
                for r in conn.execute(
                    select(fact_link.c.target_key).where(fact_link.c.fact_key.in_(part))
                )
            )
        encounters.update(k for k in found if _is_encounter(k))
        pending = sorted(k for k in found if not _is_encounter(k))
    return encounters


def take_dirty(conn: Connection, limit: int) -> tuple[list[str], list[str]]:
    """Up to ``limit`` queued keys, and the encounters whose charts they touch."""
    keys = [
        r.key for r in conn.execute(select(dirty_key.c.key).order_by(dirty_key.c.key).limit(limit))
    ]
    return keys, sorted(_encounters_of(conn, set(keys)))


def clear_dirty(conn: Connection, keys: list[str]) -> None:
    """Remove keys whose charts have been re-classified (same transaction as the results)."""
    for part in chunks(keys):
        conn.execute(delete(dirty_key).where(dirty_key.c.key.in_(part)))


def mark_dirty(conn: Connection, keys: Iterable[str]) -> None:
    """Queue charts for re-classification (config change, a start time now past)."""
    insert_ignore(conn, dirty_key, [{"key": k} for k in keys])


def load_charts(conn: Connection, encounters: list[str]) -> dict[str, ChartFacts]:
    """The facts of a batch of charts: three indexed queries, not one per chart."""
    wanted = set(encounters)
    direct: dict[str, set[str]] = defaultdict(set)  # encounter -> fact keys
    for part in chunks(encounters):
        for r in conn.execute(
            select(fact_link.c.fact_key, fact_link.c.target_key).where(
                fact_link.c.target_key.in_(part)
            )
        ):
            direct[r.target_key].add(r.fact_key)
    parents = {k for keys in direct.values() for k in keys}
    second: dict[str, set[str]] = defaultdict(set)  # parent -> fact keys
    for part in chunks(sorted(parents)):
        for r in conn.execute(
            select(fact_link.c.fact_key, fact_link.c.target_key).where(
                fact_link.c.target_key.in_(part)
            )
        ):
            second[r.target_key].add(r.fact_key)
    needed = wanted | parents | {k for keys in second.values() for k in keys}
    loaded: dict[str, Fact] = {}
    for part in chunks(sorted(needed)):
        for r in conn.execute(select(fact.c.key, fact.c.body).where(fact.c.key.in_(part))):
            loaded[r.key] = fact_from_json(r.body)
    charts: dict[str, ChartFacts] = {}
    for enc_key in encounters:
        enc = loaded.get(enc_key)
        if not isinstance(enc, EncounterFact):
            continue
        keys = set(direct.get(enc_key, ()))
        for parent in list(keys):
            keys.update(second.get(parent, ()))
        charts[enc_key] = build_chart(enc, (loaded[k] for k in sorted(keys) if k in loaded))
    return charts
