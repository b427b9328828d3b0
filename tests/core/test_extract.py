"""Structural checks while decoding: bad records are named, good ones become facts."""

from __future__ import annotations

import pytest

from chartroute.fhir.extract import BadRecord, extract_facts
from chartroute.fhir.facts import fact_from_json, fact_to_json
from chartroute.sources.base import SourceRecord
from chartroute.sources.decode import Decoded, Rejected, decode_record
from tests import builders as b


def test_facts_round_trip_through_json() -> None:
    for resource in [
        b.encounter(),
        b.note("n1"),
        b.order("s"),
        b.report("r", "ServiceRequest/s"),
        b.claim("c", total=12.5),
        b.claim_response("cr", "Claim/c"),
        b.task("t"),
        b.condition("cd"),
        b.form("q", "http://q"),
    ]:
        for fact in extract_facts(resource):
            assert fact_from_json(fact_to_json(fact)) == fact


def test_types_the_rules_do_not_read_are_skipped() -> None:
    assert extract_facts({"resourceType": "Patient", "id": "p1", "name": [{"family": "X"}]}) == []


@pytest.mark.parametrize(
    "raw,reason",
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"id": "x"}', "resourceType: missing"),
        (b'{"resourceType": "Encounter"}', "id: missing"),
        (b'{"resourceType": "Encounter", "id": "bad id!"}', "not a valid FHIR id"),
        (b'{"resourceType": "Encounter", "id": "e1", "status": 5}', "status: expected a string"),
        (
            b'{"resourceType": "Encounter", "id": "e1", "period": {"start": "yesterday"}}',
            "period.start",
        ),
        (
            b'{"resourceType": "Encounter", "id": "e1", "participant": "x"}',
            "participant: expected an array",
        ),
        (
            b'{"resourceType": "DiagnosticReport", "id": "d", "basedOn": [{"reference": 7}]}',
            "basedOn[0].reference",
        ),
    ],
)
def test_bad_records_are_rejected_with_reason_and_location(raw: bytes, reason: str) -> None:
    result = decode_record(SourceRecord(location="Encounter.ndjson:7", raw=raw))
    assert isinstance(result, Rejected)
    assert result.location == "Encounter.ndjson:7"
    assert any(reason in r for r in result.reasons), result.reasons


def test_every_problem_is_listed() -> None:
    with pytest.raises(BadRecord) as info:
        extract_facts(
            {
                "resourceType": "Encounter",
                "id": "e1",
                "status": 1,
                "period": {"start": "x", "end": "y"},
            }
        )
    assert len(info.value.reasons) == 3


def test_vendor_extensions_pass() -> None:
    enc = b.encounter()
    enc["extension"] = [{"url": "http://vendor.example/x", "valueString": "y"}]
    enc["_status"] = {"extension": []}
    result = decode_record(SourceRecord(location="x", decoded=enc))
    assert isinstance(result, Decoded) and len(result.facts) == 1


@pytest.mark.parametrize(
    "value",
    ["2026", "2026-03", "2026-03-02", "2026-03-02T09:00:00Z", "2026-03-02T09:00:00.123+05:30"],
)
def test_fhir_date_forms_parse(value: str) -> None:
    (fact,) = extract_facts(b.encounter(start=value, end=None))
    assert fact.start_at is not None and fact.start_at.tzinfo is not None
