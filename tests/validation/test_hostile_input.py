"""Records a tester built to break the run: each is quarantined (or counted) with a reason,
never a crash and never silently accepted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chartroute.fhir.dates import parse_fhir_datetime
from chartroute.sources.base import SourceRecord
from chartroute.sources.decode import Decoded, Rejected, decode_record
from tests import builders as b


def _decode(resource: object, location: str = "Encounter.ndjson:1") -> Decoded | Rejected:
    return decode_record(SourceRecord(location=location, decoded=resource))


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:30:00-05:00", "0001-01-01T00:00:00+14:00"]
)
def test_an_instant_outside_utc_is_quarantined_not_an_overflow(value: str) -> None:
    enc = b.encounter()
    enc["meta"] = {"lastUpdated": value}
    result = _decode(enc)
    assert isinstance(result, Rejected)
    assert any(r.startswith("meta.lastUpdated: not a FHIR dateTime") for r in result.reasons)


@pytest.mark.parametrize(
    "value",
    [
        "20260105",
        "2026-01-05 08:31:00",
        "2026-01-05T08",
        "2026-01-05T08:31",
        "2026-01-05T08:31:00",  # a time without an offset: FHIR requires one
        "2026-1-5",
        "2026-01-05Z",
        "2026-01-05T08:31:00+15:00",
        "2026-01-05T08:31:00.Z",
        "2026-01-05T08:31:00.1234567890Z",
        "2026-02-30",
        "0000",
        "2026-01-05T08:31:00Z\n",
        " 2026-01-05",
    ],
)
def test_values_outside_fhirs_datetime_grammar_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a FHIR dateTime"):
        parse_fhir_datetime(value)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-05T08:31:00.123456789Z", datetime(2026, 1, 5, 8, 31, 0, 123456, tzinfo=UTC)),
        ("2026-01-05T08:31:00-14:00", datetime(2026, 1, 5, 22, 31, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:30:00+05:00", datetime(9999, 12, 31, 18, 30, tzinfo=UTC)),
    ],
)
def test_the_grammars_edges_parse(value: str, expected: datetime) -> None:
    assert parse_fhir_datetime(value) == expected


def test_a_date_error_never_quotes_the_value() -> None:
    with pytest.raises(ValueError) as info:
        parse_fhir_datetime("1962-07-14 birthday")
    assert "1962" not in str(info.value)


@pytest.mark.parametrize("rid", ["enc-000001\n", "enc-000001\r\n", "\nenc-1", "a" * 65, "e 1"])
def test_an_id_with_a_trailing_newline_or_beyond_64_characters_is_refused(rid: str) -> None:
    result = _decode(b.encounter(rid))
    assert isinstance(result, Rejected)
    assert any("not a valid FHIR id" in r for r in result.reasons)
    assert result.resource_id is None  # held by where it was read, not by a phantom key


def test_a_64_character_id_is_a_fhir_id() -> None:
    result = _decode(b.encounter("a" * 64))
    assert isinstance(result, Decoded)
