"""Incremental REST sync: edits between two syncs are picked up exactly, and only they are re-read.

The expected outcome of every edit is computed independently: the same edits applied to the
practice's NDJSON, run through the folder path into a second database.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from chartroute.generate import GenerationSummary
from chartroute.sources import NdjsonDirSource
from chartroute.sources.rest import FhirRestSource
from tests import builders as b
from tests.connector.conftest import classify_time, ehr_settings, practice_config
from tests.connector.pipeline import chart_states, open_items, run_sync, work_items
from tests.connector.sekmet import SekmetServer

pytestmark = pytest.mark.integration

#: Longer than the cursor overlap plus the Date header's rounding: writes before it are
#: safely behind the next cursor.
SETTLE = 4.0


def by_type(resources: list[dict[str, Any]], rtype: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == rtype]


def pending_lab_order(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """An active lab order without a final result."""
    resulted = {
        ref["reference"]
        for r in by_type(resources, "DiagnosticReport")
        if r.get("status") == "final"
        for ref in r.get("basedOn", [])
    }
    for order in by_type(resources, "ServiceRequest"):
        codes = {c["code"] for cat in order.get("category", []) for c in cat.get("coding", [])}
        pending = f"ServiceRequest/{order['id']}" not in resulted
        if order["status"] == "active" and "108252007" in codes and pending:
            return order
    raise AssertionError("the generated practice has no pending lab order")


def the_edits(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A note signed, a result arriving, a coder's query answered (Task completed)."""
    note = next(
        r
        for r in by_type(resources, "DocumentReference")
        if r.get("docStatus") == "preliminary" and r["status"] == "current"
    )
    signed = {**copy.deepcopy(note), "docStatus": "final"}
    order = pending_lab_order(resources)
    result = b.report("dr-arrived-1", f"ServiceRequest/{order['id']}")
    result["encounter"] = order["encounter"]
    query = next(
        r
        for r in by_type(resources, "Task")
        if r["status"] == "requested" and r["code"]["coding"][0]["code"] == "coding-query"
    )
    answered = {**copy.deepcopy(query), "status": "completed"}
    return [signed, result, answered]


def apply(
    resources: list[dict[str, Any]], changed: list[dict[str, Any]], removed: set[str]
) -> list[dict[str, Any]]:
    """The practice after edits: changed resources replace (or join) it, removed keys leave."""
    index = {f"{r['resourceType']}/{r['id']}": r for r in resources}
    for r in changed:
        index[f"{r['resourceType']}/{r['id']}"] = r
    return [r for k, r in index.items() if k not in removed]


def expected_state(
    resources: list[dict[str, Any]],
    folder: Path,
    engine: Engine,
    practice: GenerationSummary,
    as_of: Any,
) -> tuple[set[str], dict[str, str]]:
    """Open work items and chart states the folder path gives for these resources."""
    for path in folder.glob("*.ndjson"):
        path.unlink()
    b.write_ndjson(folder, resources)
    config = practice_config(practice, None)
    run_sync(engine, NdjsonDirSource(folder), config, as_of)
    return open_items(engine), chart_states(engine)


def test_edits_between_syncs_are_picked_up_exactly(
    sekmet: Callable[..., SekmetServer],
    practice: GenerationSummary,
    practice_resources: list[dict[str, Any]],
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    server = sekmet()
    server.load(practice_resources)
    time.sleep(SETTLE)
    config = practice_config(practice, ehr_settings(server.base_url, key_file, tmp_path))
    assert config.ehr is not None
    source = FhirRestSource.from_config(config.ehr)
    engine = db_factory("rest")
    as_of = classify_time()

    first = run_sync(engine, source, config, as_of)
    assert first.plan.skipped == 0 and first.ingest.stored == first.ingest.read > 400
    before = open_items(engine)

    edits = the_edits(practice_resources)
    for resource in edits:
        server.put(resource)
    time.sleep(SETTLE)
    second = run_sync(engine, source, config, as_of)

    read_types = {p.cursor_name for p in second.plan.partitions}
    assert read_types == {"DocumentReference", "DiagnosticReport", "Task"}
    assert second.plan.skipped == len(source.types) - 3
    assert second.ingest.read == 3
    assert (second.ingest.facts_inserted, second.ingest.facts_updated) == (1, 2)
    assert second.classified.closed == 3 and second.classified.opened == 0

    want_open, want_charts = expected_state(
        apply(practice_resources, edits, set()),
        tmp_path / "edited",
        db_factory("expected"),
        practice,
        as_of,
    )
    assert open_items(engine) == want_open
    assert chart_states(engine) == want_charts
    assert len(before - want_open) == 3

    third = run_sync(engine, source, config, as_of)
    assert third.plan.partitions == [] and third.ingest.read == 0


def test_deleted_and_entered_in_error_resources_leave_their_charts(
    sekmet: Callable[..., SekmetServer],
    practice: GenerationSummary,
    practice_resources: list[dict[str, Any]],
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    server = sekmet()
    server.load(practice_resources)
    time.sleep(SETTLE)
    config = practice_config(practice, ehr_settings(server.base_url, key_file, tmp_path))
    assert config.ehr is not None
    source = FhirRestSource.from_config(config.ehr)
    engine = db_factory("rest")
    as_of = classify_time()
    run_sync(engine, source, config, as_of)
    states = chart_states(engine)

    notes_by_chart: dict[str, list[dict[str, Any]]] = {}
    for note in by_type(practice_resources, "DocumentReference"):
        for ref in note.get("context", {}).get("encounter", []):
            notes_by_chart.setdefault(ref["reference"], []).append(note)
    closed_one_note = sorted(
        e for e, s in states.items() if s == "closed" and len(notes_by_chart.get(e, [])) == 1
    )
    assert len(closed_one_note) >= 2
    deleted_note = notes_by_chart[closed_one_note[0]][0]
    voided = {**copy.deepcopy(notes_by_chart[closed_one_note[1]][0]), "status": "entered-in-error"}
    open_chart = next(row[1] for row in work_items(engine) if row[6] == "open")
    encounter_id = open_chart.split("/", 1)[1]

    server.delete("DocumentReference", deleted_note["id"])
    server.put(voided)
    server.delete("Encounter", encounter_id)
    time.sleep(SETTLE)
    second = run_sync(engine, source, config, as_of)
    assert second.ingest.deleted == 2

    removed = {f"DocumentReference/{deleted_note['id']}", open_chart}
    want_open, _ = expected_state(
        apply(practice_resources, [voided], removed),
        tmp_path / "edited",
        db_factory("expected"),
        practice,
        as_of,
    )
    assert open_items(engine) == want_open
    after = chart_states(engine)
    assert after[closed_one_note[0]] == "open" and after[closed_one_note[1]] == "open"
    assert after[open_chart] == "not-chart"
    assert not any(row[1] == open_chart and row[6] == "open" for row in work_items(engine))


def test_date_window_fallback_where_last_updated_is_not_searchable(
    loaded_server: SekmetServer,
    practice: GenerationSummary,
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    profile = {"last_updated": "none", "requests_per_second": 200, "history_deletes": True}
    ehr = ehr_settings(
        loaded_server.base_url, key_file, tmp_path, profile=profile, date_window_days=3650
    )
    config = practice_config(practice, ehr)
    assert config.ehr is not None
    source = FhirRestSource.from_config(config.ehr)
    as_of = classify_time()
    plan_ids = [p.id for p in source.partitions()]
    assert all("mode=window" in pid for pid in plan_ids)
    windowed = db_factory("window")
    run_sync(windowed, source, config, as_of)
    reference = db_factory("ndjson")
    run_sync(reference, NdjsonDirSource(practice.out_dir), config, as_of)
    assert work_items(windowed) == work_items(reference)

    oracle = practice_config(
        practice,
        ehr_settings(
            loaded_server.base_url,
            key_file,
            tmp_path,
            vendor="oracle-health",
            profile={"requests_per_second": 200},
        ),
    )
    assert oracle.ehr is not None
    modes = {p.cursor_name: p.id for p in FhirRestSource.from_config(oracle.ehr).partitions()}
    assert "mode=lastUpdated" in modes["Encounter"]
    assert all("mode=window" in pid for name, pid in modes.items() if name != "Encounter")


def test_a_result_arriving_from_the_lab_simulator_closes_its_item(
    sekmet: Callable[..., SekmetServer],
    practice: GenerationSummary,
    practice_resources: list[dict[str, Any]],
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    server = sekmet(simulator=True, simulator_delay=4.0)
    server.load(practice_resources)  # loaded quietly: the simulator does not act on it
    time.sleep(SETTLE)
    config = practice_config(practice, ehr_settings(server.base_url, key_file, tmp_path))
    assert config.ehr is not None
    source = FhirRestSource.from_config(config.ehr)
    engine = db_factory("rest")
    as_of = classify_time()
    run_sync(engine, source, config, as_of)
    closed = sorted(e for e, s in chart_states(engine).items() if s == "closed")
    encounter = next(r for r in practice_resources if f"Encounter/{r['id']}" == closed[0])
    order = b.order("sr-cbc-1", closed[0])
    order["code"] = {"coding": [{"system": "http://loinc.org", "code": "58410-2"}]}
    order["subject"] = encounter["subject"]
    server.put(order, simulate=True)  # the lab (simulator) will answer in a few seconds

    ordered = run_sync(engine, source, config, as_of)
    assert ordered.classified.opened == 1
    assert chart_states(engine)[closed[0]] == "open"
    deadline = time.monotonic() + 30
    while not server.search("DiagnosticReport", {"based-on": "ServiceRequest/sr-cbc-1"}):
        assert time.monotonic() < deadline, "the simulator never resulted the order"
        time.sleep(0.5)
    time.sleep(SETTLE)
    resulted = run_sync(engine, source, config, as_of)
    assert resulted.classified.closed == 1
    assert chart_states(engine)[closed[0]] == "closed"
