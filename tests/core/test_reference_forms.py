"""Every way an EHR may spell a reference gives the same classification and routing.

Real exports (Synthea's US Core Bulk output among them) name clinicians, locations and
organizations by conditional reference (``Practitioner?identifier=…us-npi|…``) or by a bare
``Reference.identifier``, and point participants at a PractitionerRole; the rules must see
through all of it, in memory and in the store alike.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from chartroute.config import PracticeConfig
from chartroute.fhir.references import parse_reference
from chartroute.route import Router
from chartroute.store.schema import work_item
from tests import builders as b
from tests.conftest import _truncate
from tests.core.rules import verdicts
from tests.core.test_sync_store import run_sync

NPI = "http://hl7.org/fhir/sid/us-npi"
NPI_001 = "1234567893"
LOCAL = "urn:oid:1.2.3.4"
BASE = "https://ehr.example.org/fhir/r4/"
#: resource key → the identifier (system, value) it carries
IDENTIFIERS = {
    "Encounter/e1": (LOCAL, "visit-1"),
    "ServiceRequest/sr1": (LOCAL, "acc-1"),
    "ServiceRequest/sr2": (LOCAL, "acc-2"),
    "Claim/pa1": (LOCAL, "claim-1"),
    "Practitioner/prac-001": (NPI, NPI_001),
    "PractitionerRole/role-1": (LOCAL, "role-1"),
}
FORMS = ("literal", "absolute", "versioned", "conditional", "identifier")
CLINICIAN_FORMS = (*FORMS, "role", "role-conditional", "contained")


def spell(key: str, form: str) -> dict[str, Any]:
    """A Reference to ``key`` in one of FHIR's spellings."""
    rtype = key.split("/", 1)[0]
    system, value = IDENTIFIERS[key]
    if form == "literal":
        return {"reference": key}
    if form == "absolute":
        return {"reference": BASE + key}
    if form == "versioned":
        return {"reference": f"{key}/_history/3"}
    if form == "conditional":
        return {"reference": f"{rtype}?identifier={system}|{value}"}
    return {"identifier": {"system": system, "value": value}, "type": rtype}


def clinician_ref(form: str, role_form: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The participant's individual, and contained resources the encounter then needs."""
    if form == "role":
        return spell("PractitionerRole/role-1", "literal"), []
    if form == "role-conditional":
        return spell("PractitionerRole/role-1", "conditional"), []
    if form == "contained":
        inner = {
            "resourceType": "Practitioner",
            "id": "p",
            "identifier": [{"system": NPI, "value": NPI_001}],
        }
        return {"reference": "#p"}, [inner]
    return spell("Practitioner/prac-001", form), []


def world(forms: dict[str, str]) -> list[dict[str, Any]]:
    """One visit: an unsigned note, a lab with a result, an open lab, a decided pre-auth."""
    enc = b.encounter("e1")
    enc["identifier"] = [dict(zip(("system", "value"), IDENTIFIERS["Encounter/e1"], strict=True))]
    individual, contained = clinician_ref(forms["clinician"], forms["role"])
    enc["participant"][0]["individual"] = individual
    if contained:
        enc["contained"] = contained
    note = b.note("n1", doc_status="preliminary")
    note["context"]["encounter"] = [spell("Encounter/e1", forms["note"])]
    orders = []
    for sid in ("sr1", "sr2"):
        order = b.order(sid)
        order["encounter"] = spell("Encounter/e1", forms["order"])
        order["identifier"] = [{"system": LOCAL, "value": IDENTIFIERS[f"ServiceRequest/{sid}"][1]}]
        orders.append(order)
    report = b.report("dr1", "ServiceRequest/sr1")
    report["basedOn"] = [spell("ServiceRequest/sr1", forms["report"])]
    claim = b.claim("pa1")
    claim["item"][0]["encounter"] = [spell("Encounter/e1", forms["claim"])]
    claim["identifier"] = [{"system": LOCAL, "value": "claim-1"}]
    response = b.claim_response("cr1", "Claim/pa1", outcome="complete")
    response["request"] = spell("Claim/pa1", forms["response"])
    practitioner = {
        "resourceType": "Practitioner",
        "id": "prac-001",
        "identifier": [{"system": NPI, "value": NPI_001}],
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": "role-1",
        "identifier": [{"system": LOCAL, "value": "role-1"}],
        "practitioner": spell("Practitioner/prac-001", forms["role"]),
    }
    return [enc, note, *orders, report, claim, response, practitioner, role]


def routed(resources: list[dict[str, Any]], config: PracticeConfig, as_of: datetime) -> set[Any]:
    router = Router(config, as_of)
    return {
        (item.category, item.subject, item.assignee)
        for verdict in verdicts(resources, config, as_of).values()
        for item in router.route(verdict)
    }


def by_npi(config: PracticeConfig) -> PracticeConfig:
    """The example practice with prac-001's person known by NPI instead of resource id."""
    roster = [
        p.model_copy(update={"practitioner": None, "npi": NPI_001})
        if p.practitioner == "Practitioner/prac-001"
        else p
        for p in config.roster
    ]
    return config.model_copy(update={"roster": roster})


LITERAL = dict.fromkeys(("note", "order", "report", "claim", "response", "role"), "literal")
EXPECTED = {
    ("unsigned-note", "note", "dr-lee"),
    ("pending-result", "ServiceRequest/sr2", None),
}
forms_strategy = st.fixed_dictionaries(
    {
        **{name: st.sampled_from(FORMS) for name in LITERAL},
        "clinician": st.sampled_from(CLINICIAN_FORMS),
    }
)


def test_the_literal_world_routes_as_expected(config: PracticeConfig, as_of: datetime) -> None:
    got = routed(world({**LITERAL, "clinician": "literal"}), by_npi(config), as_of)
    assert {(c, s) for c, s, _ in got} == {(c, s) for c, s, _ in EXPECTED}
    assert ("unsigned-note", "note", _clinician(config)) in got


@given(forms=forms_strategy)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_mix_of_spellings_classifies_and_routes_alike(
    forms: dict[str, str], config: PracticeConfig, as_of: datetime
) -> None:
    npi_config = by_npi(config)
    baseline = routed(world({**LITERAL, "clinician": "literal"}), npi_config, as_of)
    assert routed(world(forms), npi_config, as_of) == baseline


def test_identifier_nobody_carries_stays_the_clinician_key(
    config: PracticeConfig, as_of: datetime
) -> None:
    """The Practitioner is not in the export: its NPI is still how the roster knows them."""
    resources = [
        r
        for r in world({**LITERAL, "clinician": "conditional"})
        if r["resourceType"] != "Practitioner"
    ]
    v = verdicts(resources, config, as_of)["Encounter/e1"]
    assert v.rendering_clinician == f"Practitioner?identifier={NPI}|{NPI_001}"
    assert ("unsigned-note", "note", _clinician(config)) in routed(resources, by_npi(config), as_of)
    assert not [b for b in v.blockers if b.subject == "rendering-clinician"]


def test_role_is_followed_to_its_practitioner(config: PracticeConfig, as_of: datetime) -> None:
    v = verdicts(world({**LITERAL, "clinician": "role"}), config, as_of)["Encounter/e1"]
    assert v.rendering_clinician == "Practitioner/prac-001"
    assert "PractitionerRole/role-1" in v.clinician_keys


def test_a_roster_by_role_still_matches(config: PracticeConfig, as_of: datetime) -> None:
    roster = [
        p.model_copy(update={"practitioner": "PractitionerRole/role-1"})
        if p.practitioner == "Practitioner/prac-001"
        else p
        for p in config.roster
    ]
    by_role = config.model_copy(update={"roster": roster})
    got = routed(world({**LITERAL, "clinician": "role"}), by_role, as_of)
    assert ("unsigned-note", "note", _clinician(config)) in got


def test_the_store_resolves_as_memory_does_in_any_file_order(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    """Identifiers arrive in a later file than the references to them: same work items."""
    forms = {
        "note": "conditional",
        "order": "identifier",
        "report": "conditional",
        "claim": "conditional",
        "response": "identifier",
        "role": "conditional",
        "clinician": "role-conditional",
    }
    resources = world(forms)
    # DocumentReference, Encounter, … sort before Practitioner: references first
    by_type: dict[str, list[bytes]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(orjson.dumps(r))
    for rtype, lines in by_type.items():
        (tmp_path / f"{rtype}.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    npi_config = by_npi(config)
    run_sync(engine, tmp_path, npi_config, as_of)
    with engine.connect() as conn:
        stored = {
            (r.category, r.subject, r.assignee)
            for r in conn.execute(
                select(work_item.c.category, work_item.c.subject, work_item.c.assignee).where(
                    work_item.c.status == "open"
                )
            )
        }
    assert stored == routed(resources, npi_config, as_of)
    assert ("unsigned-note", "note", _clinician(config)) in stored


def _clinician(config: PracticeConfig) -> str:
    return next(p.id for p in config.roster if p.practitioner == "Practitioner/prac-001")


def test_conditional_and_identifier_parse_to_one_key() -> None:
    want = f"Practitioner?identifier={NPI}|{NPI_001}"
    assert parse_reference(f"Practitioner?identifier={NPI}|{NPI_001}") == want
    assert parse_reference(f"Practitioner?identifier={NPI}%7C{NPI_001}") == want
    assert parse_reference(f"{BASE}Practitioner?identifier={NPI}|{NPI_001}") == want


def test_a_practitioner_arriving_in_a_later_sync_reroutes_its_charts(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    """The roster knows prac-001 by resource id; the chart names them by NPI or role."""
    for clinician in ("conditional", "role-conditional"):
        resources = world({**LITERAL, "clinician": clinician})
        later = [r for r in resources if r["resourceType"].startswith("Practitioner")]
        first = [r for r in resources if r not in later]
        folder = tmp_path / clinician
        folder.mkdir()
        b.write_ndjson(folder, first)
        run_sync(engine, folder, config, as_of)
        assert _note_holder(engine, "Encounter/e1") is None
        b.write_ndjson(folder, resources)
        run_sync(engine, folder, config, as_of)
        assert _note_holder(engine, "Encounter/e1") == _clinician(config)
        _truncate(engine)


def _note_holder(engine: Engine, encounter: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(work_item.c.assignee).where(
                work_item.c.encounter == encounter, work_item.c.category == "unsigned-note"
            )
        ).scalar_one()
