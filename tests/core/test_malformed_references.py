"""A malformed reference is a reason to hold the record, never a reference read as absent.

Read as absent, a note whose encounter reference is broken vanishes from its chart and the
visit shows a false "no clinical note" with nothing said; held, the note is in
``chartroute quarantine`` with the field and the form it failed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from chartroute.config import PracticeConfig
from chartroute.fhir.extract import BadRecord, extract_facts
from chartroute.fhir.facts import NoteFact
from chartroute.fhir.references import MalformedReference, read_reference
from chartroute.store.quarantine import held_records
from tests import builders as b
from tests.core.test_sync_store import run_sync

MALFORMED = [
    "Encounter/",
    "Patient/../../etc",
    "Encounter/../e1",
    "Encounter/e1'; DROP TABLE fact; --",
    "'; DROP TABLE fact; --",
    "1 OR 1=1",
    "Encounter?name=x",
    "Encounter?identifier=",
    "encounter/e1",
    "Encounter/e1/extra",
    " ",
]


@pytest.mark.parametrize("ref", MALFORMED)
def test_a_malformed_reference_holds_the_record(ref: str) -> None:
    with pytest.raises(BadRecord) as info:
        extract_facts(b.note("n1", ref))
    (reason,) = info.value.reasons
    assert reason.startswith("encounter[0].reference: malformed reference (")
    assert "DROP" not in reason and "etc" not in reason  # the form, never the value


def test_a_local_reference_to_nothing_contained_holds_the_record() -> None:
    with pytest.raises(BadRecord) as info:
        extract_facts(b.note("n1", "#nope"))
    assert "no contained resource" in info.value.reasons[0] or "outside" in info.value.reasons[0]
    report = b.report("dr1", "#nope")
    report["contained"] = [b.order("sr1")]
    with pytest.raises(BadRecord) as info:
        extract_facts(report)
    assert "'#' reference to no contained resource" in info.value.reasons[0]


def test_another_servers_absolute_reference_is_not_ours() -> None:
    base = "https://ehr.example.org/fhir"
    ours = extract_facts(b.note("n1", f"{base}/Encounter/e1"), base=base)
    theirs = extract_facts(b.note("n1", "http://evil.example/fhir/Encounter/e1"), base=base)
    assert isinstance(ours[0], NoteFact) and ours[0].encounters == ("Encounter/e1",)
    assert isinstance(theirs[0], NoteFact) and theirs[0].encounters == ()
    # a folder knows no base: an absolute reference is read by its tail, as before
    folder = extract_facts(b.note("n1", "http://evil.example/fhir/Encounter/e1"))
    assert isinstance(folder[0], NoteFact) and folder[0].encounters == ("Encounter/e1",)


@pytest.mark.parametrize(
    "ref",
    [
        "https://ehr.example.org/fhir/Encounter/e1?x=1",
        "https://ehr.example.org/fhir/Encounter/e1/_history/2",
        "Encounter/e1?x=1",
    ],
)
def test_a_query_on_a_literal_reference_is_ignored(ref: str) -> None:
    assert read_reference(ref) == "Encounter/e1"


@given(st.text(max_size=80))
def test_any_text_is_a_key_none_or_malformed(text: str) -> None:
    try:
        key = read_reference(text, container_key="DocumentReference/n1")
    except MalformedReference:
        return
    if key is not None:
        assert "/" in key or "?identifier=" in key
        assert ".." not in key.split("?identifier=", 1)[0]
        assert "\n" not in key


def test_the_store_holds_it_and_quarantine_shows_why(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    b.write_ndjson(tmp_path, [b.encounter("e1"), b.note("n1", "Patient/../../etc")])
    run_sync(engine, tmp_path, config, as_of)
    with engine.connect() as conn:
        (held,) = list(held_records(conn))
    assert held.resource_id == "n1"
    assert any("malformed reference" in reason for reason in held.reasons)
