"""Turn a source record into facts, or into a quarantine reason — never an exception.

This is where a run stays alive on bad data: a line that is not JSON, a resource without an id,
a field the rules read with the wrong type all become a ``Rejected`` with the record's location
and every reason, and the rest of the feed flows on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from chartroute.fhir.extract import BadRecord, extract_facts
from chartroute.fhir.facts import Fact, fill_slots_init
from chartroute.sources.base import SourceRecord
from chartroute.sources.ndjson_dir import is_undecodable
from chartroute.store.schema import KEY


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record held back, with where it came from and why."""

    location: str
    resource_type: str | None
    resource_id: str | None
    reasons: tuple[str, ...]
    raw: bytes


@dataclass(frozen=True, slots=True)
class Decoded:
    """A record's facts (empty for types the rules do not read) and its raw bytes."""

    location: str
    resource_type: str
    resource_id: str
    facts: list[Fact]


# one of these per record read: built as cheaply as the facts (``fill_slots_init``)
fill_slots_init(Rejected)
fill_slots_init(Decoded)


def decode_record(record: SourceRecord) -> Decoded | Rejected:
    """Decode and extract one record."""
    resource: Any
    if record.raw is not None and record.decoded is None:
        try:
            resource = orjson.loads(record.raw)
        except orjson.JSONDecodeError as exc:
            return Rejected(record.location, None, None, (f"not JSON: {exc}",), record.raw)
    else:
        resource = record.decoded
        message = is_undecodable(resource)
        if message is not None:
            return Rejected(record.location, None, None, (f"not JSON: {message}",), b"")
    wrong_file = _not_the_files_type(record, resource)
    if wrong_file is not None:
        raw = record.raw if record.raw is not None else _dump(resource)
        return Rejected(record.location, None, None, (wrong_file,), raw)
    try:
        facts = extract_facts(resource, record.aliases, record.base)
    except BadRecord as bad:
        raw = record.raw if record.raw is not None else _dump(resource)
        return Rejected(
            record.location, bad.resource_type, bad.resource_id, tuple(bad.reasons), raw
        )
    too_long = _too_long(facts)
    if too_long:
        raw = record.raw if record.raw is not None else _dump(resource)
        return Rejected(
            record.location, resource["resourceType"], resource["id"], tuple(too_long), raw
        )
    return Decoded(record.location, resource["resourceType"], resource["id"], facts)


def _not_the_files_type(record: SourceRecord, resource: Any) -> str | None:
    """The reason a record is not of the type its file is named for, or None.

    ``Encounterx``, ``"Encounter "`` or a Patient in ``Encounter.ndjson`` would otherwise be
    read as a type the rules ignore and vanish with nothing said. Held by location: a record in
    the wrong file has no trustworthy key.
    """
    expected = record.expected_type
    if expected is None or not isinstance(resource, dict):
        return None
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype or rtype == expected:
        return None  # missing: the structural check says so
    return f"resourceType: not {expected}, the type its file or search holds"


def _too_long(facts: list[Fact]) -> list[str]:
    """Keys and references longer than the store keeps, found before the store is asked.

    SQLite would keep any length and PostgreSQL refuse the whole batch, so the same record
    must be refused here for both (FHIR ids are at most 64 characters; a reference's type
    name is not bounded by the reference grammar).
    """
    reasons = []
    for fact in facts:
        if len(fact.key) > KEY:
            reasons.append(f"id: the resource's key is longer than {KEY} characters")
        if fact.links and max(map(len, fact.links)) > KEY:
            reasons.append(f"reference: a reference is longer than {KEY} characters")
    return list(dict.fromkeys(reasons)) if reasons else reasons


def _dump(resource: Any) -> bytes:
    try:
        return orjson.dumps(resource)
    except TypeError:
        return repr(resource).encode()
