"""Retry on Temporary failures: exponential backoff with full jitter, Retry-After honoured.

The retrying itself is tenacity's; this module says what chartroute asks of it. Only a
``Temporary`` error is retried (``is_temporary``, the same test the Prefect tasks' retry
condition applies), never a ``Fatal`` one. Full jitter (a random wait between zero and the
exponential bound) keeps many workers that failed together from retrying together. A
server's ``Retry-After`` wins over our own schedule, but only up to a cap: Oracle Health has
been seen asking for hours, and a sync task should give the decision back to its orchestrator
(by raising) rather than sleep that long. Every retry is logged as a warning (the request
without its query, the status or kind of failure, the wait, attempt n of m: no PHI) and
counted per thread, so a run's counts show a flaky EHR before it fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_random_exponential

from chartroute.fhirclient.errors import Temporary, is_temporary

T = TypeVar("T")
log = logging.getLogger("chartroute.fhirclient")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving a Temporary failure back to the caller."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    retry_after_cap: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def retrying(self, what: str) -> Retrying:
        """A tenacity controller for one call, ``what`` naming it in the log."""
        return Retrying(
            retry=retry_if_exception(is_temporary),
            stop=stop_after_attempt(self.attempts) | _ServerAsksTooLong(self.retry_after_cap, what),
            wait=_RetryAfterOr(wait_random_exponential(self.base_delay, self.max_delay)),
            sleep=self.sleep,
            before_sleep=_log_attempt(what, self.attempts),
            reraise=True,
        )


def with_retries(policy: RetryPolicy, call: Callable[[], T], what: str) -> T:
    """Run ``call``; on ``Temporary`` wait and try again, up to ``policy.attempts`` times."""
    return policy.retrying(what)(call)


def _retry_after(state: RetryCallState) -> float | None:
    error = state.outcome.exception() if state.outcome is not None else None
    return error.retry_after if isinstance(error, Temporary) else None


class _RetryAfterOr(wait_base):
    """The server's Retry-After when it sent one, else the backoff schedule."""

    def __init__(self, schedule: wait_base):
        self.schedule = schedule

    def __call__(self, retry_state: RetryCallState) -> float:
        asked = _retry_after(retry_state)
        return max(0.0, asked) if asked is not None else self.schedule(retry_state)


class _ServerAsksTooLong(stop_base):
    """Give up at once when the server asks for a longer wait than ``cap`` seconds."""

    def __init__(self, cap: float, what: str):
        self.cap = cap
        self.what = what

    def __call__(self, retry_state: RetryCallState) -> bool:
        asked = _retry_after(retry_state)
        if asked is None or asked <= self.cap:
            return False
        log.warning(
            "%s: server asks to wait %.0f s, more than the cap; giving up", self.what, asked
        )
        return True


def _log_attempt(what: str, attempts: int) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        _local.retries = retries_in_this_thread() + 1
        log.warning(
            "%s: %s; retrying in %.1f s, attempt %d of %d",
            what, _cause(error), wait, state.attempt_number + 1, attempts,
        )  # fmt: skip

    return before_sleep


def _cause(error: BaseException | None) -> str:
    """The status, or the kind of failure: never the message, which may carry a URL's query."""
    status = getattr(error, "status", None)
    if status:
        return f"HTTP {status}"
    if isinstance(error, Temporary):  # "<METHOD> <url without query>: <transport error kind>"
        return str(error).rsplit(": ", 1)[-1]
    return type(error).__name__ if error is not None else "unknown error"


_local = threading.local()


def retries_in_this_thread() -> int:
    """How many retries this thread's requests have waited for so far: a stage reads it before
    and after its work to count its own (a Prefect task runs on one thread)."""
    return int(getattr(_local, "retries", 0))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header names (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
