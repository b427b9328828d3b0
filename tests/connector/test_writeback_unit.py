"""Building the Task for a work item, and the conditional writes, against a scripted server."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from chartroute.config import PracticeConfig
from chartroute.config.ehr import WritebackSettings
from chartroute.fhirclient.http import FhirHttp
from chartroute.fhirclient.ratelimit import RateLimiter
from chartroute.fhirclient.retry import RetryPolicy
from chartroute.writeback.fhir_task import WORK_ITEM_CODE, build_fhir_task, differs
from chartroute.writeback.mirror import mirror_item

BASE = "https://ehr.test/fhir"
SETTINGS = WritebackSettings(enabled=True)


def item(**overrides: Any) -> dict[str, Any]:
    row = {
        "id": "wi-0123456789abcdef0123",
        "encounter": "Encounter/e1",
        "category": "pending-result",
        "subject": "ServiceRequest/sr1",
        "role": "medical-assistant",
        "assignee": None,
        "status": "open",
        "detail": "ServiceRequest/sr1 (active) has no final DiagnosticReport",
        "opened_at": datetime(2026, 3, 2, 15, 4, 5, 123456, tzinfo=UTC),
        "filing_deadline": date(2026, 5, 31),
    }
    return {**row, **overrides}


def http() -> FhirHttp:
    return FhirHttp(
        BASE, retry=RetryPolicy(attempts=2, sleep=lambda s: None), limiter=RateLimiter(1000, 2)
    )


def test_the_task_carries_what_the_issue_asks_for(config: PracticeConfig) -> None:
    person = next(p for p in config.roster if p.practitioner)
    staff = next(p for p in config.roster if not p.practitioner)
    task = build_fhir_task(
        item(assignee=person.id), patient="Patient/p1", config=config, settings=SETTINGS
    )
    assert task["identifier"] == [
        {"system": SETTINGS.identifier_system, "value": "wi-0123456789abcdef0123"}
    ]
    assert task["status"] == "requested" and task["intent"] == "order"
    assert task["focus"] == {"reference": "Encounter/e1"} and task["for"] == {
        "reference": "Patient/p1"
    }
    assert task["code"]["coding"][0] == {
        "system": SETTINGS.code_system,
        "code": WORK_ITEM_CODE,
        "display": "Chart work item",
    }
    assert task["businessStatus"]["coding"][0]["code"] == "pending-result"
    assert task["restriction"] == {"period": {"end": "2026-05-31"}}
    assert task["owner"] == {"reference": person.practitioner, "display": person.name}
    assert task["authoredOn"] == "2026-03-02T15:04:05Z"
    for_staff = build_fhir_task(
        item(assignee=staff.id, status="closed"), patient=None, config=config, settings=SETTINGS
    )
    assert for_staff["owner"]["identifier"]["value"] == staff.id and "for" not in for_staff
    assert for_staff["status"] == "completed"
    assert "coding-query" not in json.dumps(task)  # never mistaken for a coder's question


@given(st.sampled_from(["status", "owner", "restriction", "businessStatus", "description"]))
def test_a_change_to_an_owned_element_is_a_difference(name: str) -> None:
    desired = {
        "status": "requested",
        "owner": {"reference": "Practitioner/a"},
        "description": "x",
        "restriction": {"period": {"end": "2026-01-01"}},
        "businessStatus": {"text": "a"},
    }
    server = {**desired, "id": "t1", "meta": {"versionId": "3"}, "text": {"status": "generated"}}
    assert not differs(server, desired)
    assert differs({**server, name: "changed"}, desired)


@respx.mock
def test_an_open_item_is_created_conditionally(config: PracticeConfig) -> None:
    route = respx.post(f"{BASE}/Task").mock(return_value=httpx.Response(201, json={}))
    assert mirror_item(http(), item(), "Patient/p1", config, SETTINGS) == "created"
    sent = route.calls.last.request
    assert (
        sent.headers["If-None-Exist"]
        == f"identifier={SETTINGS.identifier_system}|wi-0123456789abcdef0123"
    )


@respx.mock
def test_an_existing_task_is_updated_with_if_match_and_a_conflict_is_re_read(
    config: PracticeConfig,
) -> None:
    desired = build_fhir_task(item(), patient="Patient/p1", config=config, settings=SETTINGS)
    stale = {**desired, "id": "t1", "status": "on-hold", "meta": {"versionId": "4"}}
    respx.post(f"{BASE}/Task").mock(return_value=httpx.Response(200, json=stale))
    put = respx.put(f"{BASE}/Task/t1").mock(
        side_effect=[httpx.Response(412), httpx.Response(200, json={})]
    )
    respx.get(f"{BASE}/Task/t1").mock(
        return_value=httpx.Response(200, json={**stale, "meta": {"versionId": "5"}})
    )
    assert mirror_item(http(), item(), "Patient/p1", config, SETTINGS) == "updated"
    assert [c.request.headers["If-Match"] for c in put.calls] == ['W/"4"', 'W/"5"']


@respx.mock
def test_an_unchanged_task_is_left_alone(config: PracticeConfig) -> None:
    desired = build_fhir_task(item(), patient="Patient/p1", config=config, settings=SETTINGS)
    respx.post(f"{BASE}/Task").mock(
        return_value=httpx.Response(200, json={**desired, "id": "t1", "meta": {"versionId": "1"}})
    )
    put = respx.put(f"{BASE}/Task/t1").mock(return_value=httpx.Response(200, json={}))
    assert mirror_item(http(), item(), "Patient/p1", config, SETTINGS) == "unchanged"
    assert put.call_count == 0


@respx.mock
def test_a_closed_item_completes_its_task_or_finds_none(config: PracticeConfig) -> None:
    open_task = {
        **build_fhir_task(item(), patient=None, config=config, settings=SETTINGS),
        "id": "t1",
        "meta": {"versionId": "2"},
    }
    search = respx.get(f"{BASE}/Task").mock(
        side_effect=[
            httpx.Response(
                200, json={"resourceType": "Bundle", "entry": [{"resource": open_task}]}
            ),
            httpx.Response(200, json={"resourceType": "Bundle"}),
        ]
    )
    put = respx.put(f"{BASE}/Task/t1").mock(return_value=httpx.Response(200, json={}))
    assert mirror_item(http(), item(status="closed"), None, config, SETTINGS) == "completed"
    assert json.loads(put.calls.last.request.content)["status"] == "completed"
    assert mirror_item(http(), item(status="closed"), None, config, SETTINGS) == "absent"
    assert search.call_count == 2


def test_a_task_that_would_not_validate_is_refused(config: PracticeConfig) -> None:
    with pytest.raises(ValueError):
        build_fhir_task(item(encounter=42), patient=None, config=config, settings=SETTINGS)
