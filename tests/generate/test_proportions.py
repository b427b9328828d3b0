"""On a medium practice, what comes out matches the shares the profile asks for."""

from __future__ import annotations

from datetime import datetime

import pytest

from chartroute.generate import GenerationSummary, GeneratorProfile, generate_practice

from .ndjson_helpers import CPT, read

PROFILE = GeneratorProfile(
    providers=5,
    days=20,
    seed=3,
    # Long after the horizon, so every story has played out; gaps never get fixed, so they
    # can be counted from the final state.
    as_of=datetime(2026, 6, 1, 12, 0),
    order_share=0.4,
    referral_share=0.15,
    prior_auth_share=0.08,
    note_unsigned_share=0.1,
    missing_level_of_service_share=0.06,
    missing_chief_complaint_share=0.05,
    gap_never_fixed_share=1.0,
    result_never_share=0.0,
    telehealth_share=0.15,
)


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate_practice(tmp_path_factory.mktemp("medium"), PROFILE)


def _near(observed: float, expected: float, tolerance: float) -> None:
    assert abs(observed - expected) <= tolerance, f"{observed:.3f} vs {expected:.3f}"


def test_share_of_each_kind_of_chart(practice: GenerationSummary) -> None:
    out = practice.out_dir
    encounters = read(out, "Encounter")
    assert len(encounters) == PROFILE.providers * PROFILE.days * 18 == practice.encounters
    charts = [
        e
        for e in encounters
        if e["status"] in ("finished", "in-progress") and e["class"]["code"] != "IMP"
    ]
    ids = {e["id"] for e in charts}
    n = len(charts)
    _near(1 - n / len(encounters), PROFILE.non_chart_share, 0.015)
    _near(sum(e["class"]["code"] == "VR" for e in charts) / n, PROFILE.telehealth_share, 0.03)

    services = read(out, "ServiceRequest")
    with_orders = {
        s["encounter"]["reference"].split("/")[1]
        for s in services
        if s["category"][0]["coding"][0]["code"] != "3457005"
    }
    with_referral = {
        s["encounter"]["reference"].split("/")[1]
        for s in services
        if s["category"][0]["coding"][0]["code"] == "3457005"
    }
    _near(len(with_orders & ids) / n, PROFILE.order_share, 0.04)
    _near(len(with_referral & ids) / n, PROFILE.referral_share, 0.03)
    pre_auth = [c for c in read(out, "Claim") if c["use"] == "preauthorization"]
    _near(len(pre_auth) / n, PROFILE.prior_auth_share, 0.02)
    # No result is lost in this profile and every story has played out: all orders resulted.
    lab_and_imaging = [s for s in services if s["category"][0]["coding"][0]["code"] != "3457005"]
    assert {s["status"] for s in lab_and_imaging} == {"completed"}


def test_share_of_unsigned_notes_and_gaps(practice: GenerationSummary) -> None:
    out = practice.out_dir
    charts = [
        e
        for e in read(out, "Encounter")
        if e["status"] == "finished" and e["class"]["code"] != "IMP"
    ]
    n = len(charts)
    signed = {
        d["context"]["encounter"][0]["reference"].split("/")[1]
        for d in read(out, "DocumentReference")
        if d["status"] == "current"
        and d["docStatus"] == "final"
        and d["type"]["coding"][0]["code"] == "11506-3"
    }
    _near(sum(e["id"] not in signed for e in charts) / n, PROFILE.note_unsigned_share, 0.025)
    no_level = sum(
        not any(c["system"] == CPT for t in e["type"] for c in t.get("coding", [])) for e in charts
    )
    _near(no_level / n, PROFILE.missing_level_of_service_share, 0.02)
    no_reason = sum("reasonCode" not in e for e in charts)
    _near(no_reason / n, PROFILE.missing_chief_complaint_share, 0.02)


def test_after_hours_signing_share(practice: GenerationSummary) -> None:
    """Same-evening plus late-evening signing, as configured, shows in DocumentReference.date."""
    notes = [
        d
        for d in read(practice.out_dir, "DocumentReference")
        if d["docStatus"] == "final" and d["type"]["coding"][0]["code"] == "11506-3"
    ]
    evening = sum(datetime.fromisoformat(d["date"]).hour >= 18 for d in notes) / len(notes)
    late_share = 1 - PROFILE.note_same_day_share - PROFILE.note_after_hours_share
    expected = PROFILE.note_after_hours_share + late_share * PROFILE.note_late_after_hours_share
    _near(evening, expected, 0.05)
