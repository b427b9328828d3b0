"""Every row of the classification contract (docs/DESIGN.md), one behaviour per test."""

from __future__ import annotations

from datetime import datetime

import pytest

from chartroute.config import PracticeConfig
from tests import builders as b
from tests.core.rules import categories, verdicts

SIGNED = [b.note("n-signed")]


def only(resources: list[dict], config: PracticeConfig, as_of: datetime) -> list[tuple[str, str]]:
    result = categories(resources, config, as_of)
    return result.get("Encounter/e1", [])


# --- what is a chart -------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["finished", "in-progress", "onleave"])
def test_chart_statuses_make_charts(status: str, config: PracticeConfig, as_of: datetime) -> None:
    assert only([b.encounter(status=status)], config, as_of) == [("unsigned-note", "note")]


@pytest.mark.parametrize(
    "status", ["planned", "arrived", "triaged", "cancelled", "entered-in-error"]
)
def test_other_statuses_are_not_charts(
    status: str, config: PracticeConfig, as_of: datetime
) -> None:
    v = verdicts([b.encounter(status=status)], config, as_of)["Encounter/e1"]
    assert not v.is_chart and v.blockers == ()


@pytest.mark.parametrize(
    "klass,is_chart", [("AMB", True), ("VR", True), ("HH", True), ("IMP", False), ("EMER", False)]
)
def test_encounter_class(
    klass: str, is_chart: bool, config: PracticeConfig, as_of: datetime
) -> None:
    assert verdicts([b.encounter(klass=klass)], config, as_of)["Encounter/e1"].is_chart is is_chart


def test_encounter_starting_after_as_of_is_not_a_chart(
    config: PracticeConfig, as_of: datetime
) -> None:
    enc = b.encounter(start="2026-03-11T09:00:00Z", end=None)
    v = verdicts([enc], config, as_of)["Encounter/e1"]
    assert not v.is_chart and "after the as-of" in (v.not_chart_reason or "")


def test_encounter_starting_exactly_at_as_of_is_a_chart(
    config: PracticeConfig, as_of: datetime
) -> None:
    enc = b.encounter(start=as_of.isoformat(), end=None)
    assert verdicts([enc], config, as_of)["Encounter/e1"].is_chart


def test_a_chart_with_every_field_and_a_signed_note_is_closed(
    config: PracticeConfig, as_of: datetime
) -> None:
    v = verdicts([b.encounter(), *SIGNED], config, as_of)["Encounter/e1"]
    assert v.is_chart and not v.is_open


# --- unsigned-note ---------------------------------------------------------------------------


def test_no_note_is_unsigned(config: PracticeConfig, as_of: datetime) -> None:
    v = verdicts([b.encounter()], config, as_of)["Encounter/e1"]
    assert [(x.category, x.evidence) for x in v.blockers] == [("unsigned-note", ("Encounter/e1",))]


def test_preliminary_note_is_started_not_signed(config: PracticeConfig, as_of: datetime) -> None:
    v = verdicts([b.encounter(), b.note("n1", doc_status="preliminary")], config, as_of)[
        "Encounter/e1"
    ]
    (blocker,) = v.blockers
    assert blocker.category == "unsigned-note"
    assert blocker.evidence == ("Encounter/e1", "DocumentReference/n1")
    assert "DocumentReference/n1" in blocker.detail


@pytest.mark.parametrize("doc_status", ["final", "amended", None])
def test_signed_or_statusless_note_signs_the_chart(
    doc_status: str | None, config: PracticeConfig, as_of: datetime
) -> None:
    assert only([b.encounter(), b.note("n1", doc_status=doc_status)], config, as_of) == []


def test_final_note_entered_in_error_does_not_sign(config: PracticeConfig, as_of: datetime) -> None:
    assert only([b.encounter(), b.note("n1", status="entered-in-error")], config, as_of) == [
        ("unsigned-note", "note")
    ]


def test_superseded_reference_still_points_at_a_written_note(
    config: PracticeConfig, as_of: datetime
) -> None:
    """Synthea marks every note but each patient's latest superseded: the note was written."""
    assert only([b.encounter(), b.note("n1", status="superseded")], config, as_of) == []
    unsigned = b.note("n1", status="superseded", doc_status="preliminary")
    assert only([b.encounter(), unsigned], config, as_of) == [("unsigned-note", "note")]


def test_signed_referral_letter_is_not_the_visit_note(
    config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(), b.note("letter", loinc="57133-1")]
    assert only(resources, config, as_of) == [("unsigned-note", "note")]


def test_note_of_another_encounter_does_not_sign(config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(), b.note("n1", "Encounter/other")]
    assert only(resources, config, as_of) == [("unsigned-note", "note")]


@pytest.mark.parametrize(
    "status,signed", [("final", True), ("amended", True), ("preliminary", False)]
)
def test_composition_status(
    status: str, signed: bool, config: PracticeConfig, as_of: datetime
) -> None:
    result = only([b.encounter(), b.composition("c1", status=status)], config, as_of)
    assert (result == []) is signed


# --- pending-result --------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["108252007", "363679005"])
def test_active_order_without_result_is_pending(
    category: str, config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(), *SIGNED, b.order("sr1", category=category)]
    assert only(resources, config, as_of) == [("pending-result", "ServiceRequest/sr1")]


@pytest.mark.parametrize("status", ["final", "amended", "corrected", "appended"])
def test_final_result_clears_the_order(
    status: str, config: PracticeConfig, as_of: datetime
) -> None:
    resources = [
        b.encounter(),
        *SIGNED,
        b.order("sr1"),
        b.report("dr1", "ServiceRequest/sr1", status=status),
    ]
    assert only(resources, config, as_of) == []


@pytest.mark.parametrize(
    "status", ["registered", "partial", "preliminary", "cancelled", "entered-in-error", "unknown"]
)
def test_non_final_result_leaves_the_order_pending(
    status: str, config: PracticeConfig, as_of: datetime
) -> None:
    resources = [
        b.encounter(),
        *SIGNED,
        b.order("sr1"),
        b.report("dr1", "ServiceRequest/sr1", status=status),
    ]
    assert only(resources, config, as_of) == [("pending-result", "ServiceRequest/sr1")]


@pytest.mark.parametrize(
    "status,pending",
    [
        ("active", True),
        ("on-hold", True),
        ("completed", False),
        ("draft", False),
        ("revoked", False),
        ("entered-in-error", False),
    ],
)
def test_order_status(status: str, pending: bool, config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(), *SIGNED, b.order("sr1", status=status)]
    assert bool(only(resources, config, as_of)) is pending


def test_order_of_other_category_is_not_a_result_order(
    config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(), *SIGNED, b.order("sr1", category="409063005")]
    assert only(resources, config, as_of) == []


def test_result_for_another_order_does_not_clear(config: PracticeConfig, as_of: datetime) -> None:
    resources = [
        b.encounter(),
        *SIGNED,
        b.order("sr1"),
        b.order("sr2"),
        b.report("dr1", "ServiceRequest/sr2"),
    ]
    assert only(resources, config, as_of) == [("pending-result", "ServiceRequest/sr1")]


def test_each_pending_order_is_its_own_blocker(config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(), *SIGNED, b.order("sr2"), b.order("sr1", category="363679005")]
    assert only(resources, config, as_of) == [
        ("pending-result", "ServiceRequest/sr1"),
        ("pending-result", "ServiceRequest/sr2"),
    ]


# --- awaiting-referral-auth ------------------------------------------------------------------


@pytest.mark.parametrize(
    "status,open_",
    [
        ("draft", True),
        ("active", True),
        ("on-hold", True),
        ("completed", False),
        ("revoked", False),
    ],
)
def test_referral_without_letter(
    status: str, open_: bool, config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(), *SIGNED, b.order("ref1", category="3457005", status=status)]
    expected = [("awaiting-referral-auth", "ServiceRequest/ref1")] if open_ else []
    assert only(resources, config, as_of) == expected


def test_referral_letter_clears_the_referral(config: PracticeConfig, as_of: datetime) -> None:
    resources = [
        b.encounter(),
        *SIGNED,
        b.order("ref1", category="3457005"),
        b.note("letter", loinc="57133-1"),
    ]
    assert only(resources, config, as_of) == []


def test_referral_letter_entered_in_error_does_not_count(
    config: PracticeConfig, as_of: datetime
) -> None:
    resources = [
        b.encounter(),
        *SIGNED,
        b.order("ref1", category="3457005"),
        b.note("letter", loinc="57133-1", status="entered-in-error"),
    ]
    assert only(resources, config, as_of) == [("awaiting-referral-auth", "ServiceRequest/ref1")]


def test_preauthorization_without_response(config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(), *SIGNED, b.claim("pa1")]
    assert only(resources, config, as_of) == [("awaiting-referral-auth", "Claim/pa1")]


@pytest.mark.parametrize(
    "outcome,open_", [("queued", True), ("partial", True), ("complete", False), ("error", False)]
)
def test_preauthorization_response_outcome(
    outcome: str, open_: bool, config: PracticeConfig, as_of: datetime
) -> None:
    resources = [
        b.encounter(),
        *SIGNED,
        b.claim("pa1"),
        b.claim_response("cr1", "Claim/pa1", outcome=outcome),
    ]
    assert bool(only(resources, config, as_of)) is open_


def test_latest_response_decides(config: PracticeConfig, as_of: datetime) -> None:
    resources = [
        b.encounter(),
        *SIGNED,
        b.claim("pa1"),
        b.claim_response("cr1", "Claim/pa1", outcome="queued", created="2026-03-03T10:00:00Z"),
        b.claim_response("cr2", "Claim/pa1", outcome="complete", created="2026-03-05T10:00:00Z"),
    ]
    assert only(resources, config, as_of) == []


def test_billing_claim_is_not_an_authorization(config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(), *SIGNED, b.claim("bill1", use="claim")]
    assert only(resources, config, as_of) == []


# --- coding-query ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["requested", "received", "accepted", "in-progress", "on-hold"])
def test_open_coding_query_on_encounter(
    status: str, config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(), *SIGNED, b.task("t1", status=status)]
    assert only(resources, config, as_of) == [("coding-query", "Task/t1")]


@pytest.mark.parametrize(
    "status", ["completed", "cancelled", "rejected", "failed", "draft", "entered-in-error"]
)
def test_closed_coding_query(status: str, config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(), *SIGNED, b.task("t1", status=status)]
    assert only(resources, config, as_of) == []


def test_coding_query_on_the_encounters_note(config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(), *SIGNED, b.task("t1", focus="DocumentReference/n-signed")]
    v = verdicts(resources, config, as_of)["Encounter/e1"]
    assert [(x.category, x.evidence) for x in v.blockers] == [
        ("coding-query", ("Task/t1", "DocumentReference/n-signed"))
    ]


def test_task_with_another_code_is_not_a_coding_query(
    config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(), *SIGNED, b.task("t1", code="fulfill")]
    assert only(resources, config, as_of) == []


# --- documentation-gap -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"reason": False}, "chief-complaint"),
        ({"diagnosis": False}, "diagnosis"),
        ({"level": None}, "level-of-service"),
        ({"practitioner": None}, "rendering-clinician"),
    ],
)
def test_missing_field(kwargs: dict, field: str, config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(**kwargs), *SIGNED]
    assert only(resources, config, as_of) == [("documentation-gap", field)]


def test_encounter_diagnosis_condition_supplies_the_diagnosis(
    config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(diagnosis=False), *SIGNED, b.condition("c1")]
    assert only(resources, config, as_of) == []


@pytest.mark.parametrize(
    "kwargs", [{"category": "problem-list-item"}, {"verification": "entered-in-error"}]
)
def test_other_conditions_do_not_supply_the_diagnosis(
    kwargs: dict, config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(diagnosis=False), *SIGNED, b.condition("c1", **kwargs)]
    assert only(resources, config, as_of) == [("documentation-gap", "diagnosis")]


def test_claim_item_supplies_the_level_of_service(config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(level=None), *SIGNED, b.claim("bill", use="claim", code="99214")]
    assert only(resources, config, as_of) == []


@pytest.mark.parametrize(
    "code,ok",
    [("99202", True), ("99215", True), ("99201", False), ("99216", False), ("abc", False)],
)
def test_level_of_service_range(
    code: str, ok: bool, config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(level=code), *SIGNED]
    assert (only(resources, config, as_of) == []) is ok


WELL_CHILD = ("http://snomed.info/sct", "410620009")
SCREENING = "http://example.org/fhir/Questionnaire/well-child-screening"


def test_visit_type_requiring_a_form(config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(types=[WELL_CHILD]), *SIGNED]
    assert only(resources, config, as_of) == [("documentation-gap", f"form:{SCREENING}")]


def test_completed_form_clears_the_gap(config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(types=[WELL_CHILD]), *SIGNED, b.form("q1", SCREENING + "|2.0")]
    assert only(resources, config, as_of) == []


def test_in_progress_form_does_not_clear(config: PracticeConfig, as_of: datetime) -> None:
    resources = [
        b.encounter(types=[WELL_CHILD]),
        *SIGNED,
        b.form("q1", SCREENING, status="in-progress"),
    ]
    assert only(resources, config, as_of) == [("documentation-gap", f"form:{SCREENING}")]


def test_visit_type_with_its_own_field_list(config: PracticeConfig, as_of: datetime) -> None:
    follow_up = ("http://snomed.info/sct", "390906007")
    resources = [b.encounter(types=[follow_up], reason=False), *SIGNED]
    assert only(resources, config, as_of) == []


# --- several blockers, evidence, rendering clinician -----------------------------------------


def test_several_blockers_sorted_by_category(config: PracticeConfig, as_of: datetime) -> None:
    resources = [b.encounter(reason=False), b.order("sr1"), b.task("t1"), b.claim("pa1")]
    assert only(resources, config, as_of) == [
        ("awaiting-referral-auth", "Claim/pa1"),
        ("coding-query", "Task/t1"),
        ("documentation-gap", "chief-complaint"),
        ("pending-result", "ServiceRequest/sr1"),
        ("unsigned-note", "note"),
    ]


@pytest.mark.parametrize(
    "participants,expected",
    [
        ([("ATND", "Practitioner/a"), ("PPRF", "Practitioner/p")], "Practitioner/p"),
        ([("CON", "Practitioner/c"), ("ATND", "Practitioner/a")], "Practitioner/a"),
        ([("CON", "Practitioner/c"), ("SPRF", "Practitioner/s")], "Practitioner/c"),
    ],
)
def test_rendering_clinician(
    participants: list, expected: str, config: PracticeConfig, as_of: datetime
) -> None:
    enc = b.encounter(practitioner=None)
    enc["participant"] = [
        {"type": [{"coding": [{"system": b.PART, "code": t}]}], "individual": {"reference": ref}}
        for t, ref in participants
    ]
    assert verdicts([enc], config, as_of)["Encounter/e1"].rendering_clinician == expected


def _waiting(resources: list[dict], config: PracticeConfig, as_of: datetime) -> list[bool]:
    return [
        blocker.waiting for blocker in verdicts(resources, config, as_of)["Encounter/e1"].blockers
    ]


@pytest.mark.parametrize(
    ("extra", "waiting"),
    [
        ([], True),  # no result yet: waiting on the lab
        ([b.report("dr1", "ServiceRequest/sr1", status="preliminary")], False),  # it came in
    ],
)
def test_a_result_that_came_in_is_work_that_can_be_done_now(
    extra: list[dict], waiting: bool, config: PracticeConfig, as_of: datetime
) -> None:
    resources = [b.encounter(), *SIGNED, b.order("sr1"), *extra]
    assert _waiting(resources, config, as_of) == [waiting]


@pytest.mark.parametrize(
    ("outcome", "waiting"), [(None, True), ("queued", True), ("partial", False)]
)
def test_a_payer_that_answered_is_work_that_can_be_done_now(
    outcome: str | None, waiting: bool, config: PracticeConfig, as_of: datetime
) -> None:
    response = [] if outcome is None else [b.claim_response("cr1", "Claim/pa1", outcome=outcome)]
    resources = [b.encounter(), *SIGNED, b.claim("pa1"), *response]
    assert _waiting(resources, config, as_of) == [waiting]


def test_a_referral_letter_to_write_waits_on_nobody(
    config: PracticeConfig, as_of: datetime
) -> None:
    referral = b.order("ref1", category="3457005")
    assert _waiting([b.encounter(), *SIGNED, referral], config, as_of) == [False]
