"""The classify stage's helper process (``chartroute/classify_ahead.py``): classify the batches
it is sent, one at a time, and send their verdicts back.

Run as ``python -m chartroute.classify_helper TASKS RESULTS`` with the two pipe ends it
inherits. It first receives the database URL, the practice config and the as-of time, says
``ready`` once it can read the store, then answers each ``(index, after, size)`` — the
batch of ``size`` queued keys after the key ``after`` — with ``(index, verdicts)``, or
``(index, None)`` for a batch it could not classify: the sync's process
classifies that one itself and reports any error. It ends when the sync's process closes its
end of the tasks, however that process ended. Nothing is logged: the batches are the sync's.
"""

from __future__ import annotations

import sys
from contextlib import suppress
from multiprocessing.connection import Connection

from chartroute.classify_batch import ClassifiedBatch, classify_batch
from chartroute.heap import freeze_what_lives
from chartroute.store.engine import make_engine
from chartroute.store.facts import queued_after


def serve(tasks: Connection, results: Connection) -> None:
    """Answer batches until the tasks end."""
    url, config, as_of = tasks.recv()
    engine = make_engine(url, migrate=False)
    freeze_what_lives()  # for the process's life: its imports are not walked by every collection
    try:
        results.send("ready")
        while True:
            try:
                index, after, size = tasks.recv()
            except EOFError:
                return
            found: ClassifiedBatch | None
            try:
                with engine.connect() as conn:
                    keys = tuple(queued_after(conn, after, size))
                    found = classify_batch(conn, keys, config, as_of)
            except Exception:  # the sync's process classifies it again and reports the error
                found = None
            results.send((index, found))
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    tasks = Connection(int(argv[1]), writable=False)
    results = Connection(int(argv[2]), readable=False)
    with suppress(EOFError, BrokenPipeError):  # the sync's process is gone or done
        serve(tasks, results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
