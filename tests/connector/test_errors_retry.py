"""Error types and the retry schedule: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartroute.fhirclient.errors import (
    AuthorizationFailed,
    Fatal,
    Temporary,
    error_for_status,
    redact_url,
)
from chartroute.fhirclient.retry import RetryPolicy, parse_retry_after, with_retries
from chartroute.tasks.retry import retry_if_transient


@given(st.integers(min_value=400, max_value=599))
def test_status_codes_map_to_the_issue_s_error_types(status: int) -> None:
    error = error_for_status(status, "GET", "http://ehr/fhir/Encounter?_lastUpdated=ge2026")
    if status in (408, 429) or status >= 500:
        assert isinstance(error, Temporary)
    elif status in (401, 403):
        assert isinstance(error, AuthorizationFailed)
    else:
        assert isinstance(error, Fatal) and not isinstance(error, AuthorizationFailed)
    assert "?" not in str(error) and str(status) in str(error)


@given(st.integers(min_value=0, max_value=10**7))
def test_retry_after_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == seconds


@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_http_date(seconds: int) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=seconds), usegmt=True)
    assert parse_retry_after(header, now) == pytest.approx(seconds, abs=1)


@given(st.text(max_size=30).filter(lambda s: not s.strip().isdigit()))
def test_retry_after_garbage_is_ignored(value: str) -> None:
    parsed = parse_retry_after(value)
    assert parsed is None or parsed >= 0


@given(
    failures=st.integers(min_value=0, max_value=8),
    base=st.floats(min_value=0.01, max_value=5),
    cap=st.floats(min_value=0.1, max_value=60),
)
def test_backoff_has_jitter_within_an_exponential_bound(
    failures: int, base: float, cap: float
) -> None:
    sleeps: list[float] = []
    outcomes: list[Exception | str] = [Temporary("busy", status=503) for _ in range(failures)]
    outcomes.append("ok")
    calls = iter(outcomes)

    def call() -> str:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    policy = RetryPolicy(attempts=10, base_delay=base, max_delay=cap, sleep=sleeps.append)
    assert with_retries(policy, call, "test") == "ok"
    assert len(sleeps) == failures
    for attempt, delay in enumerate(sleeps):
        assert 0 <= delay <= min(cap, base * 2**attempt)


@given(st.floats(min_value=0, max_value=10_000))
def test_server_retry_after_wins_up_to_the_cap(wait: float) -> None:
    sleeps: list[float] = []
    calls = iter([Temporary("slow", status=429, retry_after=wait), "ok"])

    def call() -> str:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return str(item)

    policy = RetryPolicy(retry_after_cap=120, sleep=sleeps.append)
    if wait <= 120:
        assert with_retries(policy, call, "test") == "ok" and sleeps == [wait]
    else:
        with pytest.raises(Temporary):
            with_retries(policy, call, "test")
        assert sleeps == []


def test_with_retries_retries_temporary_then_succeeds() -> None:
    sleeps: list[float] = []
    calls = iter(
        [Temporary("busy", status=503), Temporary("slow", status=429, retry_after=3), "ok"]
    )

    def call() -> str:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return str(item)

    policy = RetryPolicy(attempts=5, base_delay=0.1, sleep=sleeps.append)
    assert with_retries(policy, call, "test") == "ok"
    assert len(sleeps) == 2 and sleeps[1] == 3


def test_with_retries_gives_up_after_its_attempts_and_never_retries_fatal() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=3, sleep=sleeps.append)
    attempts = []

    def temporary() -> None:
        attempts.append(1)
        raise Temporary("down", status=503)

    with pytest.raises(Temporary):
        with_retries(policy, temporary, "test")
    assert len(attempts) == 3 and len(sleeps) == 2

    def fatal() -> None:
        attempts.append(2)
        raise Fatal("bad request", status=400)

    with pytest.raises(Fatal):
        with_retries(policy, fatal, "test")
    assert attempts.count(2) == 1


def test_a_retry_after_beyond_the_cap_is_raised_without_sleeping() -> None:
    sleeps: list[float] = []

    def call() -> None:
        raise Temporary("later", status=429, retry_after=7200)

    with pytest.raises(Temporary):
        with_retries(RetryPolicy(retry_after_cap=120, sleep=sleeps.append), call, "test")
    assert sleeps == []


class _State:
    def __init__(self, exc: BaseException):
        self.exc = exc

    def result(self) -> Any:
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "retried"),
    [
        (Temporary("503", status=503), True),
        (Temporary("timeout"), True),
        (Fatal("400", status=400), False),
        (AuthorizationFailed("401", status=401), False),
        (ValueError("bug"), False),
    ],
)
def test_prefect_retries_temporary_and_not_fatal(exc: BaseException, retried: bool) -> None:
    assert retry_if_transient(None, None, _State(exc)) is retried


def test_urls_in_messages_lose_their_query() -> None:
    assert redact_url("https://ehr/fhir/Task?identifier=x|wi-1") == "https://ehr/fhir/Task"
