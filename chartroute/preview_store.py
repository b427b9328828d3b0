"""Where ``chartroute classify`` keeps a source's facts: a throwaway store, read in windows.

Holding every decoded record of a practice at once cost ~60 MB per 10k encounters, so the
preview grew past a gigabyte at 100k. Records are instead decoded, screened by the expectation
suites and stored a window at a time, as the sync does, in a SQLite file of its own; charts are
then loaded from it a batch at a time with the sync's own ``load_charts``. Memory follows the
window, not the practice.

The file holds patient data, so it lives in a folder only this user can read (``mkdtemp``
creates it 0700) and is removed on leaving, on error too: ``classify`` still writes nothing
that outlives it.
"""

from __future__ import annotations

import heapq
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, and_, exists, not_, or_, select

from chartroute.fhir.facts import Fact
from chartroute.fhir.resolve import Resolver
from chartroute.store import facts as fact_store
from chartroute.store.engine import make_engine
from chartroute.store.fact_rows import fact_of_row
from chartroute.store.schema import fact, fact_identifier, fact_link, metadata

#: Facts written per statement batch, and charts (or facts) loaded per query batch.
STORE_BATCH = 5000
#: Charts loaded and classified together, as the sync's classify stage does (sync.py).
CHART_BATCH = 1000
#: Links counted by the references suite per call.
LINK_WINDOW = 50_000


@contextmanager
def private_store() -> Iterator[Engine]:
    """An empty fact store in a private temporary folder, removed with everything in it."""
    folder = Path(tempfile.mkdtemp(prefix="chartroute-classify-"))  # 0700
    try:
        engine = make_engine(f"sqlite:///{folder / 'preview.db'}", migrate=False)
        try:
            metadata.create_all(engine)
            yield engine
        finally:
            engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def store_facts(engine: Engine, facts: Sequence[Fact]) -> None:
    """Store facts in read order; a later copy of a key wins unless the stored one is newer,
    as ``FactIndex.add`` decides."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for start in range(0, len(facts), STORE_BATCH):
            fact_store.upsert_facts(conn, facts[start : start + STORE_BATCH], now)


def changed_after_keys(engine: Engine, as_of: datetime) -> list[str]:
    """Keys of the stored resources (not contained ones) last changed after ``as_of``."""
    stmt = select(fact.c.key).where(fact.c.updated_at > as_of, not_(fact.c.key.contains("#")))
    with engine.connect() as conn:
        return list(conn.execute(stmt).scalars())


def replace_facts(engine: Engine, replaced: dict[str, list[Fact]]) -> None:
    """Put each key's facts in place of the resource and everything it contains."""
    if not replaced:
        return
    with engine.begin() as conn:
        fact_store.delete_facts(conn, replaced)
        fact_store.upsert_facts(
            conn, [f for facts in replaced.values() for f in facts], datetime.now(UTC)
        )


def _keys_after(conn: Connection, after: str | None, where: object = None) -> list[str]:
    """The next batch of fact keys in key order (keyset paging: no offset scans)."""
    stmt = select(fact.c.key).order_by(fact.c.key).limit(STORE_BATCH)
    if after is not None:
        stmt = stmt.where(fact.c.key > after)
    if where is not None:
        stmt = stmt.where(where)  # type: ignore[arg-type]
    return list(conn.execute(stmt).scalars())


def encounter_batches(engine: Engine, contained: set[str]) -> Iterator[list[str]]:
    """Every stored encounter key in key order, a batch at a time; ``contained`` names the
    encounters held inside other resources (``Claim/c1#e``), which the in-memory index
    classified as charts too and whose keys do not say they are encounters."""

    def stored() -> Iterator[str]:
        after: str | None = None
        while True:
            with engine.connect() as conn:
                keys = _keys_after(conn, after, fact.c.resource_type == "Encounter")
            if not keys:
                return
            yield from (k for k in keys if "#" not in k)
            after = keys[-1]

    batch: list[str] = []
    for key in heapq.merge(stored(), sorted(contained)):
        batch.append(key)
        if len(batch) >= CHART_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def fact_batches(engine: Engine) -> Iterator[tuple[Connection, list[Fact]]]:
    """Every stored fact in key order, a batch at a time, with the connection it came from."""
    after: str | None = None
    with engine.connect() as conn:
        while True:
            keys = _keys_after(conn, after)
            if not keys:
                return
            rows = conn.execute(select(fact.c.body).where(fact.c.key.in_(keys)))
            yield conn, [fact_of_row(r.body) for r in rows]
            after = keys[-1]


def resolvers(engine: Engine) -> Iterator[Resolver]:
    """Every stored fact resolved once, a batch at a time; each batch's resolver holds what
    resolved by identifier and what did not — counted once per fact, as the in-memory index
    counted them (loading charts counts a fact shared by two batches twice)."""
    for conn, batch in fact_batches(engine):
        resolver = fact_store.resolver_for(conn, batch)
        for f in batch:
            resolver.fact(f)
        yield resolver


def link_windows(engine: Engine) -> Iterator[list[tuple[str, str, bool]]]:
    """Every stored (fact, target, target known) link, a window at a time; a target is known
    when a stored resource has that key or carries that identifier."""
    by_identifier = exists().where(fact_identifier.c.identifier_key == fact_link.c.target_key)
    known = exists().where(fact.c.key == fact_link.c.target_key)
    stmt = select(fact_link.c.fact_key, fact_link.c.target_key, or_(known, by_identifier))
    with engine.connect() as conn:
        after: tuple[str, str] | None = None
        while True:
            page = stmt.order_by(fact_link.c.fact_key, fact_link.c.target_key).limit(LINK_WINDOW)
            if after is not None:
                page = page.where(
                    or_(
                        fact_link.c.fact_key > after[0],
                        and_(fact_link.c.fact_key == after[0], fact_link.c.target_key > after[1]),
                    )
                )
            links = [(r[0], r[1], bool(r[2])) for r in conn.execute(page)]
            if not links:
                return
            yield links
            after = (links[-1][0], links[-1][1])
