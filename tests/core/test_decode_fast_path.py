"""The fast paths of reading a record (dates, plain references, building facts) give exactly
what the general paths give: the same instants, keys, Decoded facts and Rejected reasons.

The general paths are the code as it was before the fast paths; each test runs a value or a
record through both and compares, over generated values and issue 18's mutated feeds.
"""

from __future__ import annotations

import inspect
import random
from dataclasses import MISSING, FrozenInstanceError, fields, replace
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.fhir import dates, field_reader, references
from chartroute.fhir.dates import parse_fhir_datetime, parse_general
from chartroute.fhir.facts import FACT_CLASSES
from chartroute.fhir.references import read_reference
from chartroute.sources.base import SourceRecord
from chartroute.sources.decode import Decoded, Rejected, decode_record
from chartroute.sources.file_names import file_type
from tests.validation.mutations import BAD_DATES, BAD_REFERENCES, mutated_feed

_DIGITS2 = st.integers(0, 99).map(lambda n: f"{n:02d}")
_YEAR = st.sampled_from(["0000", "0001", "0999", "1000", "1999", "2026", "9999"]) | st.integers(
    0, 9999
).map(lambda n: f"{n:04d}")
_OFFSET = st.sampled_from(["Z", "+00:00", "-00:00", "+14:00", "-14:00", "+14:30", "+13:59"]) | (
    st.tuples(st.sampled_from("+-"), _DIGITS2, _DIGITS2).map(lambda t: f"{t[0]}{t[1]}:{t[2]}")
)


@st.composite
def _date_like(draw: st.DrawFn) -> str:
    """Strings near the FHIR dateTime grammar: every part at and beyond its bounds."""
    text = draw(_YEAR)
    if draw(st.booleans()):
        text += f"-{draw(_DIGITS2)}"
        if draw(st.booleans()):
            text += f"-{draw(_DIGITS2)}"
            if draw(st.booleans()):
                hour, minute, second = draw(_DIGITS2), draw(_DIGITS2), draw(_DIGITS2)
                text += f"T{hour}:{minute}:{second}"
                if draw(st.booleans()):
                    text += "." + draw(st.text("0123456789", min_size=1, max_size=10))
                text += draw(_OFFSET | st.just(""))
    return text + draw(st.sampled_from(["", "", "", "\n", " ", "Z"]))


def _read(parse: object, value: object) -> tuple[str, object]:
    try:
        result = parse(value)  # type: ignore[operator]
    except ValueError as exc:
        return "error", str(exc)
    if isinstance(result, datetime):
        return "instant", (result, result.tzinfo, result.utcoffset())
    return "value", result


_VALUES = _date_like() | st.sampled_from(BAD_DATES) | st.text(max_size=30) | st.none()


@settings(max_examples=600, deadline=None)
@given(_VALUES)
def test_dates_fast_path_reads_as_the_general_path(value: str | None) -> None:
    expected = _read(parse_general, value)
    assert _read(parse_fhir_datetime, value) == expected
    assert _read(parse_fhir_datetime, value) == expected  # read again: from the cache


def test_the_date_cache_stays_bounded() -> None:
    for day in range(dates._SEEN_MAX + 10):
        parse_fhir_datetime(f"{2000 + day // 366:04d}-01-01T00:00:{day % 60:02d}Z")
    assert len(dates._SEEN) <= dates._SEEN_MAX


_ID = st.text("AZaz09-.", min_size=0, max_size=66)
_REFERENCES = (
    st.tuples(st.sampled_from(["Encounter", "E", "encounter", "Encounter x", ""]), _ID).map(
        "/".join
    )
    | st.sampled_from(BAD_REFERENCES)
    | st.text(max_size=30)
)
#: The spellings real exports write (Synthea, Epic and Cerner Bulk files): conditional
#: references by identifier (an NPI, a role), absolute and versioned URLs on our base or
#: another server's, PractitionerRole, and a Bundle's urn:uuid.
_TYPES = st.sampled_from(["Practitioner", "PractitionerRole", "Encounter", "Patient"])
_BASES = st.sampled_from(["https://ehr.example/fhir", "http://other.example/r4"])
_REAL_EXPORT_REFERENCES = (
    st.tuples(_TYPES, st.sampled_from(["http://hl7.org/fhir/sid/us-npi", "urn:oid:2.16"]), _ID).map(
        lambda t: f"{t[0]}?identifier={t[1]}|{t[2]}"
    )
    | st.tuples(_BASES, _TYPES, _ID).map("/".join)
    | st.tuples(_TYPES, _ID, st.integers(1, 9)).map(lambda t: f"{t[0]}/{t[1]}/_history/{t[2]}")
    | st.uuids().map(lambda u: f"urn:uuid:{u}")
)


@settings(max_examples=400, deadline=None)
@given(
    _REFERENCES | _REAL_EXPORT_REFERENCES,
    st.booleans(),
    st.sampled_from([None, "https://ehr.example/fhir"]),
)
def test_plain_references_read_as_the_general_path(
    reference: str, aliased: bool, base: str | None
) -> None:
    aliases = {reference: "Encounter/aliased"} if aliased else None

    def read() -> tuple[str, object]:
        try:
            key = read_reference(reference, container_key="Claim/c1", aliases=aliases, base=base)
            return "key", key
        except references.MalformedReference as exc:
            return "malformed", str(exc)

    fast = read()
    assert read() == fast  # again: from the cache
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(references, "is_plain", lambda *_: False)
        mp.setattr(references, "_READ", _Forgetful())
        assert read() == fast


class _Forgetful(dict[tuple[str, str | None], str | None]):
    """A cache that keeps nothing: every read takes the general path."""

    def __setitem__(self, key: tuple[str, str | None], value: str | None) -> None:
        pass


def test_the_reference_cache_stays_bounded() -> None:
    for n in range(references._READ_MAX + 10):
        read_reference(f"Encounter?identifier=urn:x|{n}")
    assert len(references._READ) <= references._READ_MAX


def test_the_reference_cache_tells_bases_apart() -> None:
    theirs = "http://evil.example/fhir/Encounter/e1"
    assert read_reference(theirs) == "Encounter/e1"  # a folder knows no base
    assert read_reference(theirs, base="https://ehr.example/fhir") is None


def _outcome(result: Decoded | Rejected) -> object:
    if isinstance(result, Decoded):
        return ("decoded", result.resource_type, result.resource_id, result.facts)
    return ("rejected", result.resource_type, result.resource_id, result.reasons, result.raw)


def _general(mp: pytest.MonkeyPatch) -> None:
    """Route decoding through the general paths only."""
    mp.setattr(field_reader, "parse_fhir_datetime", parse_general)
    mp.setattr(field_reader, "is_plain", lambda *_: False)
    mp.setattr(references, "is_plain", lambda *_: False)
    mp.setattr(references, "_READ", _Forgetful())


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_mutated_feeds_decode_alike_on_both_paths(seed: int) -> None:
    feed = mutated_feed(random.Random(seed), 60)
    records = [
        SourceRecord(location=f"{name}:{i}", raw=line, expected_type=file_type(name))
        for name, content in feed.files.items()
        for i, line in enumerate(content.splitlines(keepends=True), 1)
        if line.strip()
    ]
    fast = [_outcome(decode_record(r)) for r in records]
    with pytest.MonkeyPatch.context() as mp:
        _general(mp)
        assert [_outcome(decode_record(r)) for r in records] == fast


@pytest.mark.parametrize(
    "cls", [*sorted(FACT_CLASSES.values(), key=lambda c: c.kind), Decoded, Rejected]
)
def test_facts_are_built_as_their_dataclass_would(cls: type[Any]) -> None:
    """The slot-filling ``__init__`` takes the dataclass's parameters and stays frozen."""
    params = inspect.signature(cls).parameters
    assert [(p.name, p.default) for p in params.values()] == [
        (f.name, inspect.Parameter.empty if f.default is MISSING else f.default)
        for f in fields(cls)
    ]
    values = {f.name: f"{f.name}-value" for f in fields(cls)}
    fact = cls(**values)
    assert all(getattr(fact, name) == value for name, value in values.items())
    assert cls(*values.values()) == fact and hash(cls(*values.values())) == hash(fact)
    first = fields(cls)[0].name
    assert getattr(replace(fact, **{first: "other"}), first) == "other"
    with pytest.raises(FrozenInstanceError):
        setattr(fact, first, "changed")
