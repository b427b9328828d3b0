"""Retry on Temporary failures: exponential backoff with full jitter, Retry-After honoured.

Full jitter (a random wait between zero and the exponential bound) keeps many workers that
failed together from retrying together. A server's ``Retry-After`` wins over our own schedule,
but only up to a cap: Oracle Health has been seen asking for hours, and a sync task should give
the decision back to its orchestrator (by raising) rather than sleep that long.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from chartroute.fhirclient.errors import Temporary

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
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``; None when the server asks too long."""
        if retry_after is not None:
            if retry_after > self.retry_after_cap:
                return None
            return max(0.0, retry_after)
        bound = min(self.max_delay, self.base_delay * (2**attempt))
        return self.rng.uniform(0, bound)


def with_retries(policy: RetryPolicy, call: Callable[[], T], what: str) -> T:
    """Run ``call``; on ``Temporary`` wait and try again, up to ``policy.attempts`` times."""
    attempt = 0
    while True:
        try:
            return call()
        except Temporary as exc:
            attempt += 1
            if attempt >= policy.attempts:
                raise
            wait = policy.delay(attempt - 1, exc.retry_after)
            if wait is None:
                log.warning(
                    "%s: server asks to wait %.0f s, more than the cap; giving up",
                    what,
                    exc.retry_after or 0,
                )
                raise
            log.info(
                "%s: %s; attempt %d of %d in %.1f s", what, exc, attempt + 1, policy.attempts, wait
            )
            policy.sleep(wait)


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
