"""The Bulk export source against a scripted server: kick-off, polling, manifest, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import respx

from chartroute.config.ehr import BulkSettings, VendorProfile
from chartroute.fhirclient.auth import BearerAuth
from chartroute.fhirclient.errors import Temporary
from chartroute.fhirclient.http import FhirHttp
from chartroute.fhirclient.ratelimit import RateLimiter
from chartroute.fhirclient.retry import RetryPolicy
from chartroute.sources.bulk import BulkExportSource
from tests import builders as b

BASE = "https://ehr.test/fhir"
STATUS = f"{BASE}/bulk-status/job1"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_source(tmp_path: Path, fake: FakeTime, **settings: Any) -> BulkExportSource:
    http = FhirHttp(
        BASE,
        BearerAuth("tok"),
        retry=RetryPolicy(attempts=2, sleep=lambda s: None),
        limiter=RateLimiter(1000, 3),
    )
    return BulkExportSource(
        http,
        VendorProfile(name="t"),
        BulkSettings(**settings),
        work_dir=tmp_path / "exports",
        clock=fake.clock,
        sleep=fake.sleep,
    )


def ndjson(resources: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in resources)


def manifest(output: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "transactionTime": "2026-03-05T12:00:00.000Z",
        "request": f"{BASE}/$export",
        "requiresAccessToken": True,
        "output": output,
        "error": [],
        **extra,
    }


def mock_export(files: dict[str, bytes], body: dict[str, Any], polls: int = 1) -> dict[str, Any]:
    routes: dict[str, Any] = {}
    routes["kickoff"] = respx.get(f"{BASE}/$export").mock(
        return_value=httpx.Response(202, headers={"Content-Location": STATUS})
    )
    answers = [httpx.Response(202, headers={"Retry-After": "7", "X-Progress": "busy"})] * polls
    routes["status"] = respx.get(STATUS).mock(
        side_effect=[*answers, httpx.Response(200, json=body)]
    )
    routes["delete"] = respx.delete(STATUS).mock(return_value=httpx.Response(202))
    routes["files"] = {
        name: respx.get(f"{BASE}/files/{name}").mock(
            return_value=httpx.Response(200, content=content)
        )
        for name, content in files.items()
    }
    return routes


@respx.mock
def test_an_export_is_kicked_off_polled_downloaded_read_and_deleted(tmp_path: Path) -> None:
    fake = FakeTime()
    deleted = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"request": {"method": "DELETE", "url": "DocumentReference/n9"}},
            {"request": {"method": "DELETE", "url": "Patient/p9"}},
        ],
    }
    files = {
        "Encounter.ndjson": ndjson([b.encounter("e1"), b.encounter("e2")]),
        "DocumentReference.ndjson": ndjson([b.note("n1")]),
        "Patient.ndjson": b'{"resourceType":"Patient","id":"p1"}\n',
        "del.ndjson": ndjson([deleted]),
    }
    body = manifest(
        [
            {"type": t, "url": f"{BASE}/files/{t}.ndjson"}
            for t in ("Encounter", "DocumentReference", "Patient")
        ],
        deleted=[{"type": "Bundle", "url": f"{BASE}/files/del.ndjson"}],
    )
    routes = mock_export(files, body, polls=2)
    src = make_source(tmp_path, fake)
    parts = src.partitions({"export": "tx:2026-03-01T00:00:00.000Z"})

    kickoff = routes["kickoff"].calls.last.request
    assert kickoff.headers["Prefer"] == "respond-async"
    assert kickoff.url.params["_since"] == "2026-03-01T00:00:00.000Z"
    assert (
        "Encounter" in kickoff.url.params["_type"] and "Patient" not in kickoff.url.params["_type"]
    )
    assert fake.sleeps == [7, 7]
    assert (
        routes["files"]["Patient.ndjson"].call_count == 0
    )  # never fetched: PHI the rules don't read
    assert routes["delete"].call_count == 1
    assert {p.fingerprint for p in parts} == {"tx:2026-03-05T12:00:00.000Z"}
    assert {p.cursor_name for p in parts} == {"export"}

    records = [r for p in parts for r in src.read(p)]
    assert sorted(
        r.decoded["id"] if r.raw is None else orjson.loads(r.raw)["id"]
        for r in records
        if not r.deleted
    ) == ["e1", "e2", "n1"]
    assert [r.deleted for r in records if r.deleted] == ["DocumentReference/n9"]


@respx.mock
def test_files_that_need_no_token_are_fetched_without_one(tmp_path: Path) -> None:
    fake = FakeTime()
    body = manifest(
        [{"type": "Encounter", "url": "https://bucket.test/e.ndjson"}], requiresAccessToken=False
    )
    mock_export({}, body)
    file_route = respx.get("https://bucket.test/e.ndjson").mock(
        return_value=httpx.Response(200, content=ndjson([b.encounter("e1")]))
    )
    make_source(tmp_path, fake).partitions()
    assert "Authorization" not in file_route.calls.last.request.headers


@respx.mock
def test_an_export_without_changes_still_advances_the_cursor(tmp_path: Path) -> None:
    mock_export({}, manifest([]))
    parts = make_source(tmp_path, FakeTime()).partitions()
    assert len(parts) == 1 and parts[0].fingerprint == "tx:2026-03-05T12:00:00.000Z"


@respx.mock
def test_a_resumed_export_whose_job_is_gone_starts_again(tmp_path: Path) -> None:
    fake = FakeTime()
    src = make_source(tmp_path, fake)
    src.work_dir.mkdir(parents=True)
    (src.work_dir / "job-old").mkdir()
    state: dict[str, Any] = {
        "since": None,
        "job": "job-old",
        "status_url": f"{BASE}/bulk-status/gone",
        "phase": "polling",
        "poll_failures": 0,
        "files": {},
    }
    (src.work_dir / "state-all.json").write_text(json.dumps(state))
    respx.get(f"{BASE}/bulk-status/gone").mock(return_value=httpx.Response(404))
    routes = mock_export(
        {"Encounter.ndjson": ndjson([b.encounter("e1")])},
        manifest([{"type": "Encounter", "url": f"{BASE}/files/Encounter.ndjson"}]),
    )
    parts = src.partitions()
    assert routes["kickoff"].call_count == 1 and not (src.work_dir / "job-old").exists()
    assert len(parts) == 1


@respx.mock
def test_polling_gives_up_after_the_wait_limit_and_keeps_the_status_url(tmp_path: Path) -> None:
    fake = FakeTime()
    respx.get(f"{BASE}/$export").mock(
        return_value=httpx.Response(202, headers={"Content-Location": STATUS})
    )
    respx.get(STATUS).mock(return_value=httpx.Response(202, headers={"Retry-After": "60"}))
    src = make_source(tmp_path, fake, max_wait_minutes=5)
    with pytest.raises(Temporary, match="still running"):
        src.partitions()
    state = json.loads((src.work_dir / "state-all.json").read_text())
    assert state["phase"] == "polling" and state["status_url"] == STATUS
    assert sum(fake.sleeps) <= 300


@respx.mock
def test_a_status_url_that_keeps_failing_is_abandoned(tmp_path: Path) -> None:
    fake = FakeTime()
    respx.get(f"{BASE}/$export").mock(
        return_value=httpx.Response(202, headers={"Content-Location": STATUS})
    )
    respx.get(STATUS).mock(return_value=httpx.Response(500))
    src = make_source(tmp_path, fake)
    for _ in range(3):
        with pytest.raises(Temporary):
            src.partitions()
    state = json.loads((src.work_dir / "state-all.json").read_text())
    assert state["phase"] == "done"  # the next plan kicks off a new export
