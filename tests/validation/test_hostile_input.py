"""Records a tester built to break the run: each is quarantined (or counted) with a reason,
never a crash and never silently accepted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine

from chartroute.fhir.dates import parse_fhir_datetime
from chartroute.sources.base import SourceRecord
from chartroute.sources.decode import Decoded, Rejected, decode_record
from chartroute.store.quarantine import location_key
from tests import builders as b
from tests.validation.helpers import held, ingest, stored_keys


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


def _write(folder: Path, name: str, resources: list[object]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))


def test_ids_beyond_fhirs_limits_are_quarantined_alike_on_every_database(
    engine: Engine, tmp_path: Path, as_of: datetime
) -> None:
    long_version = b.encounter("e-version")
    long_version["meta"] = {"versionId": "7" * 100}
    long_contained = b.encounter("e-contained")
    long_contained["contained"] = [b.condition("c" * 300)]
    long_reference = b.report("r-long", "ServiceRequest/s1")
    long_reference["basedOn"] = [{"reference": "ServiceRequest?identifier=urn:x|" + "v" * 250}]
    long_type = b.report("r-long-type", "ServiceRequest/s1")
    long_type["basedOn"] = [{"reference": "S" + "r" * 250 + "/s1"}]
    good = b.encounter("e-good")
    _write(tmp_path / "feed", "Encounter.ndjson", [long_version, long_contained, good])
    _write(tmp_path / "feed", "DiagnosticReport.ndjson", [long_reference, long_type])
    _, counts = ingest(engine, tmp_path / "feed", as_of)
    quarantine = held(engine)
    assert counts.read == 5 and counts.stored == 1 and counts.quarantined == 4
    assert stored_keys(engine) == {"Encounter/e-good"}
    assert "meta.versionId: not a valid FHIR id" in quarantine["Encounter/e-version"].reasons[0]
    assert "contained[0].id: not a valid FHIR id" in quarantine["Encounter/e-contained"].reasons[0]
    # an oversized identifier or type is a malformed reference: held before the store
    for key in ("DiagnosticReport/r-long", "DiagnosticReport/r-long-type"):
        assert quarantine[key].reasons[0].startswith("basedOn[0].reference: malformed reference")
    for record in quarantine.values():
        assert not any("7" * 10 in r or "c" * 10 in r or "v" * 10 in r for r in record.reasons)


def test_a_location_too_long_for_the_key_column_keeps_one_key() -> None:
    long = "https://ehr.example/fhir/" + "x" * 600
    assert len(location_key(long)) <= 400
    assert location_key(long) == location_key(long) != location_key(long + "y")


@pytest.mark.parametrize(
    "first,second",
    [
        (b.condition("cd1", verification="confirmed"), b.condition("cd1", verification="refuted")),
        (
            b.claim_response("cr1", "Claim/c1", outcome="complete"),
            b.claim_response("cr1", "Claim/c1", outcome="queued"),
        ),
        (b.form("q1", "http://q", status="completed"), b.form("q1", "http://q", status="stopped")),
    ],
)
def test_conflicting_copies_of_every_type_the_rules_read_are_held_in_either_order(
    engine: Engine,
    tmp_path: Path,
    as_of: datetime,
    first: dict[str, object],
    second: dict[str, object],
) -> None:
    rtype = str(first["resourceType"])
    key = f"{rtype}/{first['id']}"
    for order, name in (((first, second), "a"), ((second, first), "b")):
        _write(tmp_path / name, f"{rtype}.ndjson", list(order))
        _, counts = ingest(engine, tmp_path / name, as_of)
        assert counts.quarantined == 2 and key not in stored_keys(engine)
        record = held(engine)[key]
        assert record.reasons == [
            "id: sent more than once at the same version with different content"
        ]


@pytest.mark.parametrize(
    "resource,reason",
    [
        (
            {**b.condition("cd1"), "verificationStatus": {"coding": [{"code": "maybe"}]}},
            "verificationStatus: not in the FHIR R4 condition-ver-status value set",
        ),
        (
            {**b.claim_response("cr1", "Claim/c1"), "status": "paid"},
            "status: not in the FHIR R4 fm-status value set",
        ),
        (
            {**b.claim_response("cr1", "Claim/c1"), "outcome": None},
            "outcome: missing (the rules read whether an authorization is settled)",
        ),
        (
            {**b.claim_response("cr1", "Claim/c1"), "created": "2027-01-01"},
            "created: after the as-of time",
        ),
        (
            {**b.form("q1", "http://q"), "status": "done"},
            "status: not in the FHIR R4 questionnaire-answers-status value set",
        ),
        (
            {**b.form("q1", "http://q"), "meta": {"lastUpdated": "2027-01-01T00:00:00Z"}},
            "meta.lastUpdated: after the as-of time",
        ),
    ],
)
def test_status_and_dates_of_every_type_the_rules_read_are_checked(
    sqlite_engine: Engine, tmp_path: Path, as_of: datetime, resource: dict[str, object], reason: str
) -> None:
    _write(tmp_path / "feed", f"{resource['resourceType']}.ndjson", [resource])
    _, counts = ingest(sqlite_engine, tmp_path / "feed", as_of)
    assert counts.quarantined == 1
    (record,) = held(sqlite_engine).values()
    assert reason in record.reasons
