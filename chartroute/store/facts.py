"""Persist facts idempotently and load them back, a batch of charts at a time.

An upsert compares each incoming fact's content hash with the stored one, so re-reading an
unchanged feed writes nothing; a stored fact is replaced only by one at least as new
(``meta.lastUpdated``), so a late-arriving old version cannot roll a chart back. Every change
queues the keys of the charts it touches in ``dirty_key`` within the same transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select

from chartroute.charts import ChartFacts, build_chart
from chartroute.counts import Counts
from chartroute.fhir.facts import (
    ClinicianFact,
    EncounterFact,
    Fact,
    fact_to_json,
)
from chartroute.fhir.references import is_identifier_key, key_type
from chartroute.fhir.resolve import Resolver, referenced_keys
from chartroute.store.batching import dialect_insert
from chartroute.store.bulk import bulk_update, bulk_upsert
from chartroute.store.fact_rows import fact_of_row
from chartroute.store.key_sets import key_in
from chartroute.store.schema import dirty_key, fact, fact_identifier, fact_link


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
    "line_hash",
)


def _hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def upsert_facts(
    conn: Connection,
    facts: Iterable[Fact],
    now: datetime,
    lines: Mapping[str, tuple[Fact, str]] | None = None,
) -> UpsertCounts:
    """Store a batch of facts; queue the charts they touch for re-classification.

    ``lines`` gives, by key, a record's own fact and the hash of the line it was read from
    (``chartroute/stored_lines.py``); the hash is stored with that fact — only if it is the
    very fact stored, not another copy of the resource — and set on an unchanged fact that
    lacks it, so the next re-export of the line is recognised unread.
    """
    read_from = lines or {}
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
    rows = conn.execute(
        select(fact.c.key, fact.c.content_hash, fact.c.updated_at, fact.c.line_hash).where(
            key_in(conn, fact.c.key, latest)
        )
    )
    stored = {r.key: (r.content_hash, r.updated_at, r.line_hash) for r in rows}
    writes: list[tuple[Any, ...]] = []
    changed: list[Fact] = []
    relined: list[tuple[str, str]] = []
    for key, f in latest.items():
        body = fact_to_json(f)
        digest = _hash(body)
        entry = read_from.get(key)
        line = entry[1] if entry is not None and entry[0] is f else None
        previous = stored.get(key)
        if previous is not None:
            if previous[0] == digest:
                counts.unchanged += 1
                if line is not None and previous[2] != line:
                    relined.append((key, line))
                continue
            if previous[1] and f.updated_at and previous[1] > f.updated_at:
                counts.stale += 1
                continue
            counts.updated += 1
        else:
            counts.inserted += 1
        changed.append(f)
        writes.append((key, key_type(key), f.version, f.updated_at, digest, body, now, line))
    bulk_update(conn, fact, "key", ["line_hash"], relined)
    if not changed:
        return counts
    changed_keys = [f.key for f in changed]
    dirty: set[str] = set()
    replaced = [k for k in changed_keys if k in stored]
    if replaced:
        linked = select(fact_link.c.target_key).where(key_in(conn, fact_link.c.fact_key, replaced))
        dirty.update(r.target_key for r in conn.execute(linked))
        conn.execute(delete(fact_link).where(key_in(conn, fact_link.c.fact_key, replaced)))
        conn.execute(delete(fact_identifier).where(key_in(conn, fact_identifier.c.key, replaced)))
    bulk_upsert(conn, fact, _FACT_COLUMNS, writes, ["key"])
    idents = [(i, f.key) for f in changed for i in sorted(set(f.identifiers))]
    bulk_upsert(
        conn,
        fact_identifier,
        ("identifier_key", "key"),
        idents,
        ["identifier_key", "key"],
        update=False,
    )
    links = [(f.key, t) for f in changed for t in sorted(set(f.links))]
    bulk_upsert(
        conn, fact_link, ("fact_key", "target_key"), links, ["fact_key", "target_key"], update=False
    )
    for f in changed:
        dirty.update(f.links)
        if isinstance(f, EncounterFact):
            dirty.add(f.key)
    encounters = encounters_of(conn, dirty)
    bulk_upsert(
        conn, dirty_key, ("key",), [(k,) for k in sorted(encounters)], ["key"], update=False
    )
    _queue_charts_of_clinicians(conn, [f for f in changed if isinstance(f, ClinicianFact)])
    counts.changed_keys = changed_keys
    return counts


def any_fact(conn: Connection) -> bool:
    """Whether anything is stored yet (a first load has nothing to compare with)."""
    return conn.execute(select(fact.c.key).limit(1)).first() is not None


def lines_of(conn: Connection, keys: Iterable[str]) -> dict[str, str]:
    """Key → the hash of the line its stored fact was read from, for these keys' facts that
    have one: primary-key lookups, no index of its own to keep up on every load."""
    wanted = list(keys)
    if not wanted:
        return {}
    stmt = select(fact.c.key, fact.c.line_hash).where(
        key_in(conn, fact.c.key, wanted), fact.c.line_hash.is_not(None)
    )
    return {r.key: r.line_hash for r in conn.execute(stmt)}


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
    found = set(conn.execute(select(fact.c.key).where(key_in(conn, fact.c.key, wanted))).scalars())
    doomed = set(found)
    for key in sorted(found):  # contained resources are keyed "Type/id#local"
        inner = conn.execute(select(fact.c.key).where(fact.c.key.like(f"{key}#%")))
        doomed.update(r.key for r in inner)
    if not doomed:
        return 0
    targets = {k for k in doomed if _is_encounter(k)}
    linked = select(fact_link.c.target_key).where(key_in(conn, fact_link.c.fact_key, doomed))
    targets.update(r.target_key for r in conn.execute(linked))
    encounters = encounters_of(conn, targets)
    conn.execute(delete(fact_link).where(key_in(conn, fact_link.c.fact_key, doomed)))
    conn.execute(delete(fact_identifier).where(key_in(conn, fact_identifier.c.key, doomed)))
    conn.execute(delete(fact).where(key_in(conn, fact.c.key, doomed)))
    bulk_upsert(
        conn, dirty_key, ("key",), [(k,) for k in sorted(encounters)], ["key"], update=False
    )
    return len(found)


def _is_encounter(key: str) -> bool:
    return key.startswith("Encounter/") and "#" not in key


def encounters_of(conn: Connection, keys: set[str]) -> set[str]:
    """The encounters a set of link targets belongs to, following at most two hops.

    A parent not stored yet (a result that arrives before its order) resolves to nothing,
    which loses nothing: when the parent arrives it is new and queues its own encounter,
    and loading that chart picks up the child through ``fact_link``.
    """
    keys = keys | set(_identified(conn, {k for k in keys if is_identifier_key(k)}))
    encounters = {k for k in keys if _is_encounter(k)}
    pending = sorted(k for k in keys if not _is_encounter(k) and not is_identifier_key(k))
    for _hop in range(2):
        if not pending:
            break
        linked = select(fact_link.c.target_key).where(key_in(conn, fact_link.c.fact_key, pending))
        found = set(conn.execute(linked).scalars())
        found |= set(_identified(conn, {k for k in found if is_identifier_key(k)}))
        encounters.update(k for k in found if _is_encounter(k))
        pending = sorted(k for k in found if not _is_encounter(k) and not is_identifier_key(k))
    return encounters


def _queue_charts_of_clinicians(conn: Connection, clinicians: list[ClinicianFact]) -> None:
    """Queue the encounters whose participant is one of these clinicians, by key, identifier or
    through a role: a Practitioner or role arriving after its charts changes whom they route to.

    Queued on the server, ``INSERT … SELECT`` from ``fact_link``: a clinician's charts are
    every chart of a large practice when its Practitioner file is read after its Encounters
    (a million keys, over 100 MB as Python sets and rows). Only the roles come back.
    """
    targets = {f.key for f in clinicians} | {i for f in clinicians for i in f.identifiers}
    if not targets:
        return
    _queue_encounters_linking_to(conn, targets)  # encounter → practitioner
    linking = fact_link.c.fact_key
    stmt = select(linking).where(
        key_in(conn, fact_link.c.target_key, targets),
        or_(*(func.substr(linking, 1, len(p)) == p for p in _ROLE_PREFIXES)),
    )
    roles = {k for k in conn.execute(stmt).scalars() if key_type(k) == "PractitionerRole"}
    if roles:  # encounter → role → practitioner
        aliases = {i for idents in _identifiers_of(conn, roles).values() for i in idents}
        _queue_encounters_linking_to(conn, roles | aliases)


#: How a role's key begins: ``PractitionerRole/id`` or, by identifier, ``PractitionerRole?…``.
_ROLE_PREFIXES = ("PractitionerRole/", "PractitionerRole?")
_ENCOUNTER_PREFIX = "Encounter/"


def _queue_encounters_linking_to(conn: Connection, targets: set[str]) -> None:
    """Queue the encounters (not contained resources) that link to any of ``targets``.

    ``_is_encounter`` in SQL: ``substr`` compares case-sensitively on both databases, where
    SQLite's ``LIKE`` would not. Duplicates and keys already queued are skipped by the insert.
    """
    key = fact_link.c.fact_key
    encounters = select(key).where(
        key_in(conn, fact_link.c.target_key, targets),
        func.substr(key, 1, len(_ENCOUNTER_PREFIX)) == _ENCOUNTER_PREFIX,
        key.not_like("%#%"),
    )
    stmt = dialect_insert(conn, dirty_key).from_select(["key"], encounters)
    conn.execute(stmt.on_conflict_do_nothing())


def _identified(conn: Connection, identifier_keys: set[str]) -> dict[str, str]:
    """Resource key → identifier key, for the resources carrying these identifiers."""
    if not identifier_keys:
        return {}
    stmt = select(fact_identifier.c.identifier_key, fact_identifier.c.key).where(
        key_in(conn, fact_identifier.c.identifier_key, sorted(identifier_keys))
    )
    return {r.key: r.identifier_key for r in conn.execute(stmt)}


def _identifiers_of(conn: Connection, keys: set[str]) -> dict[str, set[str]]:
    """Identifier keys of each of these resources (how references by identifier name them)."""
    out: dict[str, set[str]] = defaultdict(set)
    if not keys:
        return out
    stmt = select(fact_identifier.c.identifier_key, fact_identifier.c.key).where(
        key_in(conn, fact_identifier.c.key, keys)
    )
    for r in conn.execute(stmt):
        out[r.key].add(r.identifier_key)
    return out


def _linked_to(conn: Connection, targets: set[str]) -> dict[str, set[str]]:
    """Target → keys of the facts linking to it, by its key or any of its identifiers."""
    aliases = _identifiers_of(conn, targets)
    spelled: dict[str, str] = {t: t for t in targets}
    spelled.update({ident: t for t, idents in aliases.items() for ident in idents})
    out: dict[str, set[str]] = defaultdict(set)
    if not spelled:
        return out
    stmt = select(fact_link.c.fact_key, fact_link.c.target_key).where(
        key_in(conn, fact_link.c.target_key, spelled)
    )
    for r in conn.execute(stmt):
        out[spelled[r.target_key]].add(r.fact_key)
    return out


def _load(conn: Connection, keys: set[str]) -> dict[str, Fact]:
    if not keys:
        return {}
    rows = conn.execute(select(fact.c.key, fact.c.body).where(key_in(conn, fact.c.key, keys)))
    return {r.key: fact_of_row(r.body) for r in rows}


def resolver_for(conn: Connection, facts: list[Fact]) -> Resolver:
    """A resolver knowing every identifier and clinician these facts refer to.

    Two rounds: a participant's PractitionerRole names its Practitioner, perhaps itself by
    identifier, so the role is read before its practitioner can be looked up.
    """
    index: dict[str, set[str]] = defaultdict(set)
    roles: dict[str, str | None] = {}
    idents: dict[str, tuple[str, ...]] = {}
    wanted: set[str] = set()
    for f in facts:
        wanted |= referenced_keys(f)
    seen: set[str] = set()
    for _round in range(2):
        wanted -= seen
        if not wanted:
            break
        seen |= wanted
        found = _identified(conn, {k for k in wanted if is_identifier_key(k)})
        for key, ident in found.items():
            index[ident].add(key)
        # participants and role targets (any key, a contained one too) and what identifiers
        # found among practitioners and roles
        clinicians = {k for k in wanted if not is_identifier_key(k)}
        clinicians |= {k for k in found if key_type(k).startswith("Practitioner")}
        wanted = set()
        for key, loaded in _load(conn, clinicians).items():
            if isinstance(loaded, ClinicianFact):
                idents[key] = loaded.identifiers
                if loaded.practitioner:
                    roles[key] = loaded.practitioner
                    wanted.add(loaded.practitioner)
    return Resolver(index, roles, idents)


def facts_as_of(conn: Connection, keys: Iterable[str], as_of: datetime) -> dict[str, list[Fact]]:
    """The stored facts (with their contained ones) of those ``keys`` whose stored version was
    last changed at or before ``as_of``: the store's copy of a record as it stood then."""
    stmt = select(fact.c.key, fact.c.body, fact.c.updated_at).where(
        key_in(conn, fact.c.key, set(keys)),
        fact.c.updated_at.is_not(None),
        fact.c.updated_at <= as_of,
    )
    out: dict[str, list[Fact]] = {r.key: [fact_of_row(r.body)] for r in conn.execute(stmt)}
    for key, found in out.items():
        inner = conn.execute(select(fact.c.body).where(fact.c.key.like(f"{key}#%")))
        found.extend(fact_of_row(r.body) for r in inner)
    return out


def queued_count(conn: Connection) -> int:
    """Encounters waiting in the queue to be classified."""
    return int(conn.execute(select(func.count()).select_from(dirty_key)).scalar_one())


def take_dirty(conn: Connection, limit: int) -> tuple[list[str], list[str]]:
    """Up to ``limit`` queued keys, and the encounters whose charts they touch."""
    keys = take_dirty_keys(conn, limit)
    return keys, sorted(encounters_of(conn, set(keys)))


def take_dirty_keys(conn: Connection, limit: int) -> list[str]:
    """The first ``limit`` queued keys, in the order the classify stage takes them."""
    return queued_after(conn, None, limit)


def queued_after(conn: Connection, after: str | None, limit: int) -> list[str]:
    """The ``limit`` queued keys after ``after`` (None: from the first), in the order
    ``take_dirty_keys`` takes them: a batch the classify stage will take later."""
    stmt = select(dirty_key.c.key).order_by(dirty_key.c.key).limit(limit)
    if after is not None:
        stmt = stmt.where(dirty_key.c.key > after)
    return list(conn.execute(stmt).scalars())


def clear_dirty(conn: Connection, keys: list[str]) -> None:
    """Remove keys whose charts have been re-classified (same transaction as the results)."""
    if keys:
        conn.execute(delete(dirty_key).where(key_in(conn, dirty_key.c.key, keys)))


def mark_dirty(conn: Connection, keys: Iterable[str]) -> None:
    """Queue charts for re-classification (config change, a start time now past)."""
    rows = [(k,) for k in dict.fromkeys(keys)]
    bulk_upsert(conn, dirty_key, ("key",), rows, ["key"], update=False)


def mark_all_charts_dirty(conn: Connection) -> None:
    """Queue every stored encounter's chart (the settings that decide charts changed), in
    one statement on the server: at a large practice that is a million keys."""
    encounters = select(fact.c.key).where(
        fact.c.resource_type == "Encounter", fact.c.key.not_like("%#%")
    )
    stmt = dialect_insert(conn, dirty_key).from_select(["key"], encounters)
    conn.execute(stmt.on_conflict_do_nothing())


def load_charts(
    conn: Connection,
    encounters: list[str],
    on_resolver: Callable[[Resolver], None] | None = None,
) -> dict[str, ChartFacts]:
    """The facts of a batch of charts, a few indexed queries per batch, not per chart;
    references by identifier or role resolved against the whole store."""
    wanted = set(encounters)
    direct = _linked_to(conn, wanted)  # encounter -> fact keys
    parents = {k for keys in direct.values() for k in keys}
    second = _linked_to(conn, parents)  # parent -> fact keys
    needed = wanted | parents | {k for keys in second.values() for k in keys}
    loaded = _load(conn, needed)
    resolver = resolver_for(conn, list(loaded.values()))
    charts: dict[str, ChartFacts] = {}
    for enc_key in encounters:
        enc = loaded.get(enc_key)
        if not isinstance(enc, EncounterFact):
            continue
        keys = set(direct.get(enc_key, ()))
        for parent in list(keys):
            keys.update(second.get(parent, ()))
        related = (loaded[k] for k in sorted(keys) if k in loaded)
        charts[enc_key] = build_chart(enc, related, resolver)
    if on_resolver is not None:  # the caller counts what resolved by identifier, and what not
        on_resolver(resolver)
    return charts
