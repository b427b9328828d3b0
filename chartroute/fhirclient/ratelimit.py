"""Client-side rate limit: at most N requests per second and M in flight, across threads.

EHR vendors publish (and enforce) per-client quotas; staying under them on our side is cheaper
than being answered with 429 and waiting out a Retry-After that can run to hours. A token
bucket spaces requests evenly with a small burst; a semaphore caps concurrency, which is what
keeps parallel Bulk downloads from swamping the server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_EPSILON = 1e-9


class RateLimiter:
    """Token bucket of ``requests_per_second`` (burst ``burst``) plus a concurrency cap."""

    def __init__(
        self,
        requests_per_second: float,
        concurrency: int,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if requests_per_second <= 0:
            raise ValueError("requests_per_second must be positive")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.rate = requests_per_second
        self.capacity = burst if burst is not None else max(1.0, min(requests_per_second, 5.0))
        self.concurrency = concurrency
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrency)

    def acquire(self) -> None:
        """Wait for a request token (does not take a concurrency slot)."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1.0 - _EPSILON:  # tolerance: float sums may fall just short
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / self.rate
            self._sleep(wait)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a concurrency slot and a request token for the duration of one request."""
        with self._slots:
            self.acquire()
            yield
