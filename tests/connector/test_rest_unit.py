"""The REST source's planning and reading against a scripted server (no network)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import respx
from hypothesis import given
from hypothesis import strategies as st

from chartroute import sync
from chartroute.config.ehr import VendorProfile, vendor_profiles
from chartroute.fhirclient.http import FhirHttp
from chartroute.fhirclient.ratelimit import RateLimiter
from chartroute.fhirclient.retry import RetryPolicy
from chartroute.sources.rest import FhirRestSource, format_cursor

BASE = "https://ehr.test/fhir"
SERVER_NOW = datetime(2026, 3, 5, 12, 0, 30, tzinfo=UTC)


def page(
    entries: list[dict[str, Any]], total: int | None = None, next_url: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": entries,
        "link": [{"relation": "next", "url": next_url}] if next_url else [],
    }
    if total is not None:
        body["total"] = total
    return httpx.Response(
        200, json=body, headers={"Date": format_datetime(SERVER_NOW, usegmt=True)}
    )


def match(rtype: str, rid: str, version: str = "1", **extra: Any) -> dict[str, Any]:
    resource = {"resourceType": rtype, "id": rid, "meta": {"versionId": version}, **extra}
    return {"fullUrl": f"{BASE}/{rtype}/{rid}", "resource": resource, "search": {"mode": "match"}}


def source(profile: VendorProfile | None = None) -> FhirRestSource:
    http = FhirHttp(
        BASE, retry=RetryPolicy(attempts=2, sleep=lambda s: None), limiter=RateLimiter(1000, 2)
    )
    return FhirRestSource(
        http, profile or VendorProfile(name="t", history_deletes=True), overlap_seconds=60
    )


def metadata(last_updated_types: list[str]) -> httpx.Response:
    resources = [
        {
            "type": t,
            "searchParam": [{"name": "_lastUpdated"}]
            if t in last_updated_types
            else [{"name": "date"}],
        }
        for t in ("Encounter", "DocumentReference")
    ]
    return httpx.Response(
        200,
        json={
            "resourceType": "CapabilityStatement",
            "rest": [{"mode": "server", "resource": resources}],
        },
    )


@respx.mock
def test_planning_without_cursors_reads_everything_and_sets_cursors_from_the_server_clock() -> None:
    respx.get(f"{BASE}/metadata").mock(return_value=metadata(["Encounter", "DocumentReference"]))
    respx.route(method="GET").mock(return_value=page([], total=5))
    parts = source().partitions()
    assert [p.cursor_name for p in parts] == sorted(p.cursor_name for p in parts)
    # one per type the rules read: the ten chart types, Practitioner and PractitionerRole
    assert len(parts) == 12 and all(p.id.endswith("mode=lastUpdated") for p in parts)
    assert {p.fingerprint for p in parts} == {"lu:2026-03-05T11:59:30.000Z"}


@respx.mock
def test_an_unchanged_type_keeps_its_cursor_and_a_changed_one_moves_it() -> None:
    respx.get(f"{BASE}/metadata").mock(return_value=metadata(["Encounter", "DocumentReference"]))
    history = respx.get(url__regex=rf"{BASE}/\w+/_history").mock(
        side_effect=lambda r: page([], total=2 if "/Encounter/" in str(r.url) else 0)
    )
    respx.route(method="GET").mock(return_value=page([], total=1))
    stored = {
        "Encounter": "lu:2026-03-01T00:00:00.000Z",
        "DocumentReference": "lu:2026-03-01T00:00:00.000Z",
    }
    parts = {p.cursor_name: p for p in source().partitions(stored)}
    assert parts["DocumentReference"].fingerprint == stored["DocumentReference"]
    assert parts["Encounter"].fingerprint == "lu:2026-03-05T11:59:30.000Z"
    assert "since=2026-03-01T00%3A00%3A00.000Z" in parts["Encounter"].id
    assert history.calls[0].request.url.params["_since"] == "2026-03-01T00:00:00.000Z"


@respx.mock
def test_the_sync_skips_unchanged_types(tmp_path: Any) -> None:
    from chartroute.store.engine import make_engine

    respx.get(f"{BASE}/metadata").mock(return_value=metadata(["Encounter", "DocumentReference"]))
    respx.route(method="GET").mock(return_value=page([], total=0))
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    src = source()
    first = sync.plan_sync(engine, src, SERVER_NOW)
    assert first.skipped == 0
    sync.commit_cursors(engine, first)
    second = sync.plan_sync(engine, src, SERVER_NOW)
    assert second.partitions == [] and second.skipped == 12
    assert sync.plan_sync(engine, src, SERVER_NOW, full=True).skipped == 0
    engine.dispose()


@respx.mock
def test_types_without_last_updated_use_a_date_window() -> None:
    respx.get(f"{BASE}/metadata").mock(return_value=metadata(["Encounter"]))
    respx.route(method="GET").mock(return_value=page([], total=1))
    parts = {p.cursor_name: p for p in source().partitions()}
    assert (
        "mode=window" in parts["DocumentReference"].id
        and "mode=lastUpdated" in parts["Encounter"].id
    )
    assert "mode=lastUpdated" in parts["Claim"].id  # not in the statement: assumed searchable
    assert parts["DocumentReference"].fingerprint.startswith("win:")


@respx.mock
def test_reading_searches_from_the_cursor_dedupes_and_reports_deletions() -> None:
    searches = respx.get(f"{BASE}/Encounter").mock(
        side_effect=[
            page(
                [match("Encounter", "e1"), match("Encounter", "e2")],
                next_url=f"{BASE}/Encounter?page=2",
            ),
            page(
                [
                    match("Encounter", "e2"),  # moved across the page boundary: read once
                    match("Encounter", "e3", "4"),
                    {
                        "resource": {"resourceType": "OperationOutcome", "issue": []},
                        "search": {"mode": "outcome"},
                    },
                    {
                        "resource": {"resourceType": "Patient", "id": "p1"},
                        "search": {"mode": "include"},
                    },
                ]
            ),
        ]
    )
    history = {
        "resourceType": "Bundle",
        "type": "history",
        "entry": [
            {"request": {"method": "DELETE", "url": "Encounter/e9"}},
            {
                "request": {"method": "PUT", "url": "Encounter/e8"},
                "resource": {"resourceType": "Encounter", "id": "e8"},
            },
            {"request": {"method": "DELETE", "url": "Encounter/e8"}},  # older: e8 came back
            {
                "request": {"method": "PUT", "url": "Encounter/e9"},
                "resource": {"resourceType": "Encounter", "id": "e9"},
            },
        ],
    }
    respx.get(f"{BASE}/Encounter/_history").mock(return_value=httpx.Response(200, json=history))
    src = source()
    partition = next(p for p in _plan(src) if p.cursor_name == "Encounter")
    records = list(src.read(partition))
    assert [r.decoded["id"] for r in records if r.decoded] == ["e1", "e2", "e3"]
    assert [r.deleted for r in records if r.deleted] == ["Encounter/e9"]
    assert records[0].location == f"{BASE}/Encounter/e1"
    params = searches.calls[0].request.url.params
    assert params["_lastUpdated"] == "ge2026-03-01T00:00:00.000Z" and params["_count"] == "100"


@respx.mock
def test_a_match_of_another_type_than_the_search_is_held() -> None:
    from chartroute.sources.decode import Rejected, decode_record

    respx.get(f"{BASE}/Encounter").mock(
        return_value=page(
            [
                match("Encounter", "e1"),
                match("Patient", "p1"),
                match("Encounter", "MRN00001062 Peregrin Ravensworth"),
            ]
        )
    )
    src = source(VendorProfile(name="t"))
    partition = next(p for p in _plan(src) if p.cursor_name == "Encounter")
    records = list(src.read(partition))
    results = [decode_record(r) for r in records]
    assert [type(r).__name__ for r in results] == ["Decoded", "Rejected", "Rejected"]
    assert isinstance(results[1], Rejected) and results[1].reasons == (
        "resourceType: not Encounter, the type its file or search holds",
    )
    # a bad id is no location either: it would become the quarantine key
    assert "Peregrin" not in records[2].location and records[2].location.endswith("#entry[2]")


def _plan(src: FhirRestSource) -> list[Any]:
    with respx.mock:
        respx.get(f"{BASE}/metadata").mock(return_value=httpx.Response(404))
        respx.route(method="GET").mock(return_value=page([], total=1))
        return src.partitions({"Encounter": "lu:2026-03-01T00:00:00.000Z"})


def test_unavailable_types_are_never_searched() -> None:
    profile = VendorProfile(name="t", unavailable_types=["Claim", "ClaimResponse"])
    assert "Claim" not in source(profile).types and "Encounter" in source(profile).types


def test_profiles_decide_last_updated_per_type() -> None:
    oracle = vendor_profiles()["oracle-health"]
    assert oracle.searches_last_updated("Encounter", None)
    assert not oracle.searches_last_updated("DocumentReference", True)
    generic = vendor_profiles()["generic"]
    assert generic.searches_last_updated("Task", None) and not generic.searches_last_updated(
        "Task", False
    )


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
)
def test_cursors_are_never_later_than_the_instant_they_stand_for(when: datetime) -> None:
    text = format_cursor(when)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed <= when and (when - parsed).total_seconds() < 0.001
    assert len(text) == 24 and text.endswith("Z")


@respx.mock
def test_a_change_is_read_even_when_the_server_clock_has_not_passed_the_cursor(
    tmp_path: Any,
) -> None:
    from chartroute.store.engine import make_engine

    respx.get(f"{BASE}/metadata").mock(return_value=metadata(["Encounter", "DocumentReference"]))
    respx.route(method="GET").mock(return_value=page([], total=1))  # changes, and Date 12:00:30
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    src = source()
    first = sync.plan_sync(engine, src, SERVER_NOW)
    sync.commit_cursors(engine, first)
    from chartroute.store.runs import advance_cursors

    ahead = {
        name: f"{sync.EXTRACTOR_VERSION}:lu:2026-03-05T12:00:45.123Z" for name in first.fingerprints
    }
    with engine.begin() as conn:  # the last cursor came from a finer clock than this Date header
        advance_cursors(conn, src.name, ahead, SERVER_NOW)
    second = sync.plan_sync(engine, src, SERVER_NOW)
    assert len(second.partitions) == 12 and second.skipped == 0
    assert set(second.fingerprints.values()) == set(ahead.values())  # never moved back
    engine.dispose()
