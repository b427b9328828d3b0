"""Every reference form FHIR allows resolves to the same key, in parsing and in the rules."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartroute.config import PracticeConfig
from chartroute.fhir.references import parse_reference
from tests import builders as b
from tests.core.rules import categories


@pytest.mark.parametrize(
    "ref,expected",
    [
        ("Encounter/e1", "Encounter/e1"),
        ("Encounter/e1/_history/2", "Encounter/e1"),
        ("https://ehr.example.org/fhir/r4/Encounter/e1", "Encounter/e1"),
        ("https://ehr.example.org/fhir/Encounter/e1/_history/7", "Encounter/e1"),
        ("Encounter/e1?x=1", "Encounter/e1"),
        ("encounter/e1", None),
        ("Encounter", None),
        ("", None),
        ("urn:uuid:1234", None),
        ("#x", None),
    ],
)
def test_parse_reference(ref: str, expected: str | None) -> None:
    assert parse_reference(ref) == expected


def test_contained_and_bundle_aliases() -> None:
    assert parse_reference("#sr1", container_key="DiagnosticReport/d1") == "DiagnosticReport/d1#sr1"
    assert parse_reference("#", container_key="DiagnosticReport/d1#sr1") == "DiagnosticReport/d1"
    assert (
        parse_reference("urn:uuid:abc", aliases={"urn:uuid:abc": "Encounter/e9"}) == "Encounter/e9"
    )


@given(
    rtype=st.sampled_from(["Encounter", "ServiceRequest", "Claim"]),
    rid=st.from_regex(r"[A-Za-z0-9\-.]{1,64}", fullmatch=True),
    version=st.integers(min_value=1, max_value=999),
    base=st.sampled_from(["", "https://ehr.example.org/fhir/", "http://x/y/z/"]),
)
def test_any_spelling_resolves_to_the_same_key(
    rtype: str, rid: str, version: int, base: str
) -> None:
    key = f"{rtype}/{rid}"
    assert parse_reference(f"{base}{key}") == key
    assert parse_reference(f"{base}{key}/_history/{version}") == key


@pytest.mark.parametrize(
    "spelling",
    [
        "ServiceRequest/sr1",
        "ServiceRequest/sr1/_history/3",
        "https://ehr.example.org/fhir/ServiceRequest/sr1",
    ],
)
def test_result_matches_its_order_whatever_the_spelling(
    spelling: str, config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(), b.note("n1"), b.order("sr1"), b.report("dr1", spelling)]
    assert categories(resources, config, as_of) == {}


def test_contained_order_is_matched_by_its_report(config: PracticeConfig, as_of: datetime) -> None:
    contained_order = b.order("sr1")
    report = b.report("dr1", "#sr1", status="preliminary")
    report["contained"] = [contained_order]
    result = categories([b.encounter(), b.note("n1"), report], config, as_of)
    assert result == {"Encounter/e1": [("pending-result", "DiagnosticReport/dr1#sr1")]}
    report["status"] = "final"
    assert categories([b.encounter(), b.note("n1"), report], config, as_of) == {}


def test_versioned_encounter_reference_on_a_note(config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(), b.note("n1", "Encounter/e1/_history/4")]
    assert categories(resources, config, as_of) == {}


def test_contained_practitioner_is_the_rendering_clinician(
    config: PracticeConfig, as_of: datetime
) -> None:
    enc = b.encounter(practitioner="#p1")
    enc["contained"] = [{"resourceType": "Practitioner", "id": "p1"}]
    from tests.core.rules import verdicts

    v = verdicts([enc, b.note("n1")], config, as_of)["Encounter/e1"]
    assert v.rendering_clinician == "Encounter/e1#p1"
    assert not v.is_open
