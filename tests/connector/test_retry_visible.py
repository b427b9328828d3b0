"""Retries that heal are not silent: each is a warning with the status, the wait and attempt
n of m (no query values, no PHI), and they are counted into the run's ingest counts."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from chartroute.fhirclient.retry import retries_in_this_thread
from tests.connector.test_http import BASE, client


@respx.mock
def test_each_retry_is_logged_and_counted_without_the_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    respx.get(f"{BASE}/Patient").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.ConnectError("refused"),
            httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset"}),
        ]
    )
    sleeps: list[float] = []
    before = retries_in_this_thread()
    with caplog.at_level(logging.WARNING, logger="chartroute.fhirclient"):
        client(sleeps).get_json(f"{BASE}/Patient", {"identifier": "MRN-4411", "name": "Smith"})
    assert retries_in_this_thread() - before == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "chartroute.fhirclient"]
    assert len(lines) == 3 and all(r.levelno == logging.WARNING for r in caplog.records)
    assert lines[0].startswith(f"GET {BASE}/Patient: HTTP 503; retrying in ")
    assert lines[0].endswith("attempt 2 of 4")
    assert lines[1] == f"GET {BASE}/Patient: HTTP 429; retrying in 1.0 s, attempt 3 of 4"
    assert "ConnectError" in lines[2] and lines[2].endswith("attempt 4 of 4")
    assert not any("MRN-4411" in line or "Smith" in line for line in lines)
