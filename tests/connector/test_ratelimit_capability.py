"""Client-side rate limits, and what a CapabilityStatement tells the connector."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.fhirclient.capability import Capability
from chartroute.fhirclient.errors import Fatal
from chartroute.fhirclient.ratelimit import RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@settings(max_examples=50)
@given(
    rate=st.floats(min_value=0.5, max_value=100), requests=st.integers(min_value=1, max_value=300)
)
def test_requests_never_outrun_the_rate(rate: float, requests: int) -> None:
    fake = FakeTime()
    limiter = RateLimiter(rate, 1, clock=fake.clock, sleep=fake.sleep)
    for _ in range(requests):
        limiter.acquire()
    allowed = limiter.capacity + rate * fake.now
    assert requests <= allowed + 1e-6
    assert fake.now >= (requests - limiter.capacity) / rate - 1e-6


def test_concurrency_is_capped() -> None:
    limiter = RateLimiter(1000, 3)
    active = peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal active, peak
        with limiter.slot():
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.05)
            with lock:
                active -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 3


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0, 1)
    with pytest.raises(ValueError):
        RateLimiter(1, 0)


STATEMENT = {
    "resourceType": "CapabilityStatement",
    "fhirVersion": "4.0.1",
    "rest": [
        {
            "mode": "server",
            "security": {
                "extension": [
                    {
                        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                        "extension": [{"url": "token", "valueUri": "https://ehr.test/oauth/token"}],
                    }
                ]
            },
            "resource": [
                {
                    "type": "Encounter",
                    "interaction": [{"code": "search-type"}, {"code": "history-type"}],
                    "searchParam": [
                        {"name": "_lastUpdated", "type": "date"},
                        {"name": "date", "type": "date"},
                    ],
                },
                {"type": "DocumentReference", "searchParam": [{"name": "date", "type": "date"}]},
            ],
            "operation": [{"name": "export", "definition": "x"}],
        }
    ],
}


def test_capability_statement_is_read() -> None:
    cap = Capability.parse(STATEMENT)
    assert cap.supports_search("Encounter", "_lastUpdated") is True
    assert cap.supports_search("DocumentReference", "_lastUpdated") is False
    assert cap.supports_search("Claim", "_lastUpdated") is None
    assert cap.history_types == {"Encounter"}
    assert "export" in cap.operations
    assert cap.token_url == "https://ehr.test/oauth/token"
    with pytest.raises(Fatal):
        Capability.parse({"resourceType": "Bundle"})


def test_rest_level_search_params_apply_to_every_type() -> None:
    rest: dict[str, Any] = {**STATEMENT["rest"][0], "searchParam": [{"name": "_lastUpdated"}]}  # type: ignore[dict-item]
    statement = {**STATEMENT, "rest": [rest]}
    assert Capability.parse(statement).supports_search("DocumentReference", "_lastUpdated") is True
