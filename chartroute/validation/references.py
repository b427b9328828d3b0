"""The references table: every link from a fact to the chart resource it belongs to.

A result whose order never arrived, or a note whose encounter is missing, is not a bad record
— the target may come in the next sync — but a feed full of them is a feed that is missing
something, so the ``references`` suite counts them (``on_fail: count``) and the run reports
the count. Only links to resource types the rules read are checked: a Task focused on a
MedicationRequest points at something chartroute never reads, which is not an orphan.

The table is built once per run, after every partition is stored, from the links of the facts
written in that run, so the order files are read in does not matter and the cost follows what
changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Select, select

from chartroute.fhir.extract import RULE_RESOURCE_TYPES
from chartroute.fhir.facts import Fact
from chartroute.fhir.references import key_type
from chartroute.store.schema import fact, fact_identifier, fact_link

if TYPE_CHECKING:
    import pandas as pd

REFERENCES_TABLE = "references"
#: Clinicians are read to resolve references to them, not as parts of a chart: an export
#: without Practitioner resources is ordinary, not a feed with orphans.
_NOT_CHECKED = frozenset({"Practitioner", "PractitionerRole"})
REFERENCE_COLUMNS = ("fact_key", "target_key", "target_type", "target_found")
_KINDS = (
    ("row", "int"),
    ("fact_key", "text"),
    ("target_key", "text"),
    ("target_type", "code"),
    ("target_found", "flag"),
)


def references_frame(links: Iterable[tuple[str, str, bool]]) -> pd.DataFrame:
    """One row per (fact key, target key, whether the target is known).

    Built column by column, with one string per target type: at 100k encounters the run's
    links are over a million, and a tuple plus a type name per row cost more than the frame.
    """
    from chartroute.validation.fact_tables import frame_of_columns

    fact_keys: list[str] = []
    target_keys: list[str] = []
    target_types: list[str] = []
    found: list[bool] = []
    checked: dict[str, str | None] = {}  # type name -> its one copy, or None if not checked
    for fact_key, target_key, target_found in links:
        name = key_type(target_key)
        target_type = checked.get(name, "")
        if target_type == "":
            keep = name in RULE_RESOURCE_TYPES and name not in _NOT_CHECKED
            target_type = checked[name] = name if keep else None
        if target_type is None:
            continue
        fact_keys.append(fact_key)
        target_keys.append(target_key)
        target_types.append(target_type)
        found.append(bool(target_found))
    rows = range(len(found))
    columns = (rows, fact_keys, target_keys, target_types, found)
    return frame_of_columns(("row", *REFERENCE_COLUMNS), _KINDS, columns)


def links_among(facts: Iterable[Fact]) -> list[tuple[str, str, bool]]:
    """Links of a set of facts held in memory, resolved against the same set."""
    by_key = {f.key: f for f in facts}  # a resource read twice links once
    known = set(by_key) | {i for f in by_key.values() for i in f.identifiers}
    return [
        (key, target, target in known)
        for key, f in sorted(by_key.items())
        for target in sorted(set(f.links))
    ]


#: Rows fetched from the database at a time by ``links_written_since``.
LINKS_PER_FETCH = 10_000


def links_written_since(conn: Connection, since: datetime) -> Iterator[tuple[str, str, bool]]:
    """Links of the facts stored at or after ``since``, resolved against the whole store (a
    link by identifier is found when a stored resource carries that identifier).

    Streamed while ``conn`` is open: a first full load has over a million, and a list of them
    next to the frame built from them was the sync's peak of memory. Found from the run's facts
    by ``ix_fact_synced_at``, so a small sync into a large store reads only its own links."""
    stmt = links_statement(since)
    # yield_per: a server-side cursor on PostgreSQL, whose client otherwise fetches every row
    # into its own buffer before the first one is read (SQLite reads as it goes either way)
    for r in conn.execute(stmt.execution_options(yield_per=LINKS_PER_FETCH)):
        yield r[0], r[1], bool(r[2])


def links_statement(since: datetime) -> Select[str, str, bool]:
    """The query of ``links_written_since``: (fact key, target key, target found)."""
    source = fact.alias("source")
    target = fact.alias("target")
    by_identifier = (
        select(fact_identifier.c.identifier_key)
        .where(fact_identifier.c.identifier_key == fact_link.c.target_key)
        .exists()
    )
    return (
        select(
            fact_link.c.fact_key,
            fact_link.c.target_key,
            target.c.key.is_not(None) | by_identifier,
        )
        .join(source, source.c.key == fact_link.c.fact_key)
        .outerjoin(target, target.c.key == fact_link.c.target_key)
        .where(source.c.synced_at >= since)
    )  # no ORDER BY: each link is counted on its own, and a sort made SQLite read every link
