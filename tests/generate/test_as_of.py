"""The output is the EHR as it stood at as_of: nothing from the future, history consistent."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chartroute.generate import GenerationSummary, GeneratorProfile, generate_practice

from .ndjson_helpers import instant, read, read_all

MIDDAY = datetime(2026, 1, 8, 12, 30)


@pytest.fixture(scope="module")
def early_and_late(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[GenerationSummary, GenerationSummary]:
    """The same practice seen at midday on day 4 and on the last evening."""
    base = {"providers": 3, "days": 8, "seed": 11}
    early = generate_practice(
        tmp_path_factory.mktemp("early"), GeneratorProfile(**base, as_of=MIDDAY)
    )
    late = generate_practice(tmp_path_factory.mktemp("late"), GeneratorProfile(**base))
    return early, late


def _final_notes(out_dir: Path) -> int:
    return sum(
        1
        for doc in read(out_dir, "DocumentReference")
        if doc["type"]["coding"][0]["code"] == "11506-3"
        and doc["status"] == "current"
        and doc["docStatus"] == "final"
    )


def test_results_not_yet_arrived_are_not_emitted(
    early_and_late: tuple[GenerationSummary, GenerationSummary],
) -> None:
    early, late = early_and_late
    cutoff = early.as_of
    early_reports = {r["id"]: r for r in read(early.out_dir, "DiagnosticReport")}
    late_reports = read(late.out_dir, "DiagnosticReport")
    arrived_later = [
        r for r in late_reports if r["meta"]["versionId"] == "1" and instant(r["issued"]) > cutoff
    ]
    assert arrived_later, "no result arrives after the early as_of: the test would be vacuous"
    for report in arrived_later:
        assert report["id"] not in early_reports
    for report in late_reports:
        arrived_final_later = report["status"] == "final" and instant(report["issued"]) > cutoff
        if arrived_final_later and report["id"] in early_reports:
            assert early_reports[report["id"]]["status"] == "preliminary"
    for report in early_reports.values():
        assert instant(report["issued"]) <= cutoff


def test_orders_are_active_until_their_result(
    early_and_late: tuple[GenerationSummary, GenerationSummary],
) -> None:
    early, late = early_and_late
    late_orders = {r["id"]: r for r in read(late.out_dir, "ServiceRequest")}
    finals_after = {
        b["reference"].split("/")[1]
        for r in read(late.out_dir, "DiagnosticReport")
        if r["status"] == "final" and instant(r["issued"]) > early.as_of
        for b in r["basedOn"]
    }
    checked = 0
    for order in read(early.out_dir, "ServiceRequest"):
        if order["id"] in finals_after:
            assert order["status"] == "active"
            assert late_orders[order["id"]]["status"] == "completed"
            checked += 1
    assert checked


def test_later_as_of_has_more_signed_notes(
    early_and_late: tuple[GenerationSummary, GenerationSummary],
) -> None:
    early, late = early_and_late
    assert _final_notes(late.out_dir) > _final_notes(early.out_dir) > 0


def test_nothing_from_after_as_of(
    early_and_late: tuple[GenerationSummary, GenerationSummary],
) -> None:
    early, _ = early_and_late
    for resources in read_all(early.out_dir).values():
        for resource in resources:
            assert instant(resource["meta"]["lastUpdated"]) <= early.as_of
    starts = [instant(e["period"]["start"]) for e in read(early.out_dir, "Encounter")]
    assert max(starts) <= early.as_of


def test_visits_under_way_at_as_of_are_in_progress_without_end(
    early_and_late: tuple[GenerationSummary, GenerationSummary],
) -> None:
    early, _ = early_and_late
    running = [
        e
        for e in read(early.out_dir, "Encounter")
        if e["class"]["code"] != "IMP"
        and "end" not in e["period"]
        and e["status"] not in ("planned", "cancelled", "entered-in-error")
    ]
    assert running
    assert all(e["status"] == "in-progress" for e in running)


def test_history_is_consistent(
    early_and_late: tuple[GenerationSummary, GenerationSummary],
) -> None:
    """A resource whose last change precedes the early as_of looks the same in both runs."""
    early, late = early_and_late
    early_data = read_all(early.out_dir)
    compared = 0
    for resource_type, resources in read_all(late.out_dir).items():
        before: dict[str, dict[str, Any]] = {r["id"]: r for r in early_data.get(resource_type, [])}
        for resource in resources:
            if instant(resource["meta"]["lastUpdated"]) <= early.as_of:
                assert before.get(resource["id"]) == resource, f"{resource_type}/{resource['id']}"
                compared += 1
    assert compared > 100


def test_today_unsigned_visits_stay_in_progress(default_dir: Path) -> None:
    """At the default as_of (18:00 on the last day) today's unsigned visits are in progress."""
    encounters = read(default_dir, "Encounter")
    last_day = max(e["period"]["start"][:10] for e in encounters)
    today = [e for e in encounters if e["period"]["start"].startswith(last_day)]
    assert {"finished", "in-progress"} <= {e["status"] for e in today}
    earlier = [e for e in encounters if not e["period"]["start"].startswith(last_day)]
    assert all(e["status"] != "in-progress" for e in earlier if e["class"]["code"] != "IMP")
