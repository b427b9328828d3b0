"""Storing screened batches beside the reading of the next window, on PostgreSQL.

On PostgreSQL most of a batch's store is the server's work — ``COPY`` into staging, then
``INSERT … SELECT`` into ``fact``, ``fact_link`` and ``dirty_key`` — and the process waited for
it: about 10 s of a 100k-encounter first load (bench/README.md). A thread that stores the batches,
one at a time and in the order given, while this one reads, decodes and screens the next window
hides that wait: psycopg lets go of the interpreter's lock while the server works.

Not on SQLite, whose work is the store itself: its ``executemany`` lets go of the lock and takes
it back for every row, and beside a thread decoding in pure Python each take-back waits out the
interpreter's switch interval — one 200,000-row insert went from 0.5 s to 259 s in a probe, while
a ``COPY`` beside the same thread took 1.2 times its time alone (bench/README.md). There
``BatchWriter`` stores each batch as it is handed over, as the sync always did.

The store sees the same transactions in the same order either way. What changes is that the
reading thread may now read the store while earlier batches still wait: the line lookup
(``chartroute/stored_lines.py``) must not trust what it finds for a resource of a batch not yet
stored, so ``busy_keys`` names them and those lines are read again, as on a store that had never
seen them.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from types import TracebackType
from typing import Generic, TypeVar

from sqlalchemy import Engine

T = TypeVar("T")
B = TypeVar("B")

#: Batches handed over and not yet being stored: with the one being stored, what a window
#: may hold in memory beyond the next window's records (~11 MB per 5,000 records at 100k).
QUEUE_DEPTH = 2


def stores_aside(engine: Engine) -> bool:
    """Whether to store on a thread of its own: where the database's work is done by a server
    (PostgreSQL), not in this process (SQLite)."""
    return engine.dialect.name != "sqlite"


class BatchWriter(Generic[B, T]):
    """Stores batches in the order handed over, on a thread of its own or as each is handed.

    ``store(batch)`` stores one batch in its own transaction and returns its counts; ``finish``
    returns them all, in order. A batch that fails stops the storing: the batches after it
    are dropped unstored (each is a transaction of its own, so the store holds the ones
    before it, as when a sync dies), and the error is raised in the thread that hands batches
    over, at its next ``put`` or at ``finish``.
    """

    def __init__(self, store: Callable[[B], T], *, aside: bool, depth: int = QUEUE_DEPTH):
        self._store = store
        self._aside = aside
        self._results: list[T] = []
        self._error: BaseException | None = None
        self._busy: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[B, list[str]] | None] = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None
        if aside:
            self._thread = threading.Thread(target=self._run, name="chartroute-store", daemon=True)
            self._thread.start()

    def put(self, batch: B, keys: Iterable[str]) -> None:
        """Hand over a batch and the resource keys it writes; may wait while ``depth`` batches
        are queued. Raises the error that stopped the storing, if one did."""
        self._raise_failure()
        if not self._aside:
            self._results.append(self._store(batch))
            return
        wanted = list(keys)
        with self._lock:  # busy before it is queued, so no lookup can miss it
            self._busy.update(wanted)
        self._queue.put((batch, wanted))

    def busy_keys(self) -> Collection[str]:
        """Resource keys of batches handed over and not yet stored (none when storing as each
        batch is handed over)."""
        if not self._aside:
            return ()
        with self._lock:
            return frozenset(self._busy)

    def finish(self) -> list[T]:
        """Wait for every batch to be stored; their counts, in the order handed over."""
        self._stop()
        self._raise_failure()
        return self._results

    def __enter__(self) -> BatchWriter[B, T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """On the way out, batches already handed over are still stored (they were screened,
        as a window stored before a later failure always was), then the thread ends."""
        self._stop()

    def _stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            batch, keys = job
            try:
                if self._error is None:
                    self._results.append(self._store(batch))
            except BaseException as exc:  # raised again in the handing thread
                self._error = exc
            finally:
                with self._lock:
                    self._busy.subtract(keys)
                    for key in keys:
                        if self._busy.get(key, 0) <= 0:
                            self._busy.pop(key, None)
