"""At the default as_of the practice has charts stuck for every reason, and closed ones."""

from __future__ import annotations

from pathlib import Path

from .ndjson_helpers import blockers, read

CATEGORIES = (
    "awaiting-referral-auth",
    "coding-query",
    "documentation-gap",
    "pending-result",
    "unsigned-note",
)


def test_all_five_blocker_kinds_are_present(default_dir: Path) -> None:
    found = blockers(default_dir)
    for category in CATEGORIES:
        assert found.get(category), f"no {category} blocker at the default as_of"


def test_every_documentation_gap_kind_is_present(default_dir: Path) -> None:
    gaps = blockers(default_dir)["documentation-gap"]
    kinds = {field for fields in gaps.values() for field in fields}
    assert kinds == {
        "chief-complaint",
        "diagnosis",
        "level-of-service",
        "rendering-clinician",
        "forms",
    }


def test_both_kinds_of_referral_auth_blocker(default_dir: Path) -> None:
    subjects = {
        s.split("-")[0]
        for s in set().union(*blockers(default_dir)["awaiting-referral-auth"].values())
    }
    assert subjects == {"sr", "pa"}


def test_most_charts_are_closed(default_dir: Path) -> None:
    charts = [e for e in read(default_dir, "Encounter") if e["class"]["code"] != "IMP"]
    stuck = set().union(*(set(by_enc) for by_enc in blockers(default_dir).values()))
    assert 0.05 < len(stuck) / len(charts) < 0.5


def test_non_charts_and_entered_in_error_notes_are_present(default_dir: Path) -> None:
    encounters = read(default_dir, "Encounter")
    statuses = {e["status"] for e in encounters}
    assert {"planned", "cancelled", "entered-in-error"} <= statuses
    assert any(e["class"]["code"] == "IMP" for e in encounters)
    docs = read(default_dir, "DocumentReference")
    assert any(d["status"] == "entered-in-error" for d in docs)
    outcomes = {r["outcome"] for r in read(default_dir, "ClaimResponse")}
    assert {"complete", "queued", "partial"} <= outcomes
