"""Classify the coming batches of a large queue in a helper process while this one routes and
writes them, on a machine's second core.

A bulk classify — a first sync, a changed config, a practice's whole history queued — spends
most of its time reading each batch's charts back and classifying them
(``chartroute/classify_batch.py``), pure work over committed facts, and the rest routing and
writing, which must stay in the sync's process and in queue order (the router's loads change
with every chart routed). The pure part of the batches ahead can run beside it.

How the two share the work: this process plans the next ``AHEAD`` batches of the queue (their
keys, in the order the stage takes them) and keeps the helper supplied with up to ``DEPTH`` of
them; when the batch to route next is not back yet, it classifies another planned batch itself
rather than wait, and waits only when the helper holds every batch not yet classified. Nothing
routed depends on which process classified a batch: a verdict depends on the committed facts
alone. A batch the store no longer queues as planned, one the helper failed on, a helper that
died, hung or never started: each batch missing is classified here, so the stage never does
less than it would alone.

The helper is ``python -m chartroute.classify_helper``, a fresh interpreter that imports only
what classifying needs, talking over two pipes. Not ``multiprocessing``'s spawn: that runs the
caller's main script again in the child, and a script that syncs without a ``__main__`` guard
would sync twice. Used only where a second process can open the store (a SQLite file, a
server); the helper is given the database URL, the practice config and the as-of time, and
sends back verdicts: identifiers and categories, nothing else.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from multiprocessing.connection import Connection

from sqlalchemy import Connection as Database
from sqlalchemy import Engine

from chartroute.classify_batch import ClassifiedBatch
from chartroute.config.models import PracticeConfig
from chartroute.store.facts import queued_after

#: Queued keys from which the stage takes a helper: starting one costs about a second of the
#: other core (a fresh interpreter importing the store), which a next day's queue would not
#: earn back.
AHEAD_FROM = 5000
#: Batches planned and not yet routed: what waits in memory, as keys or as verdicts.
AHEAD = 8
#: Batches the helper holds at once: one to work on, one so it never waits for this process
#: to look up from a batch of its own.
DEPTH = 2
#: How long to wait for the helper before checking it is still alive, and how long with no
#: batch back before it counts as hung (a batch of 1,000 charts takes a tenth of a second).
POLL_SECONDS = 0.5
STUCK_SECONDS = 120.0

log = logging.getLogger(__name__)

Classify = Callable[[tuple[str, ...]], ClassifiedBatch]


def can_share(engine: Engine) -> bool:
    """Whether another process can open this store: not an in-memory SQLite database."""
    database = engine.url.database or ""
    return engine.dialect.name != "sqlite" or database not in ("", ":memory:")


class ClassifyAhead:
    """The helper process and the batches planned for it; see the module's docstring."""

    def __init__(self, engine: Engine, config: PracticeConfig, as_of: datetime, size: int):
        self._size = size
        self._planned: dict[int, tuple[str, ...]] = {}  # index -> keys, not yet routed
        self._unsent: deque[int] = deque()  # planned, with neither process yet
        self._sent: set[int] = set()  # with the helper
        self._ready: dict[int, ClassifiedBatch | None] = {}  # None: the helper failed on it
        self._by_helper: set[int] = set()  # batches in _ready that the helper classified
        self._after: dict[int, str | None] = {}  # index -> the last key of the batch before
        self._next = 0  # index of the next batch to plan
        self._last_key: str | None = None  # the queue's last key planned
        self._exhausted = False
        self._helper_ready = False  # it says so once it has imported and opened the store
        self._given_up = False
        self._heard_at = time.monotonic()
        self.from_helper = 0  # batches the helper classified and this process routed
        tasks_in, tasks = os.pipe()
        results, results_out = os.pipe()
        self._to = Connection(tasks, readable=False)
        self._from = Connection(results, writable=False)
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "chartroute.classify_helper",
                    str(tasks_in),
                    str(results_out),
                ],
                pass_fds=(tasks_in, results_out),
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            log.warning("no classify helper (%s); classifying in this process", type(exc).__name__)
            self._process = None
        finally:
            os.close(tasks_in)
            os.close(results_out)
        try:  # the URL goes down the pipe, not on the command line where `ps` would show it
            self._to.send((engine.url.render_as_string(hide_password=False), config, as_of))
        except OSError:
            self.close()  # gone already: everything is classified here
        if self._process is None:
            self.close()

    def batch(
        self, conn: Database, index: int, keys: list[str], classify: Classify
    ) -> ClassifiedBatch:
        """Batch ``index`` of the queue — ``keys``, as the store queues them now — classified
        by the helper or, when it is not back in time, here. ``classify`` reads in ``conn``'s
        transaction."""
        self._plan(conn)
        if self._given_up or self._planned.get(index) != tuple(keys):
            self.close()  # the queue is not as planned: everything is classified here
            return classify(tuple(keys))
        found = self._wait_for(index, classify)
        self._planned.pop(index, None)
        self._after.pop(index, None)
        by_helper = index in self._by_helper
        self._by_helper.discard(index)
        if found is None or found.keys != tuple(keys):  # the helper read another batch than planned
            return classify(tuple(keys))
        self.from_helper += by_helper
        return found

    def close(self) -> None:
        """End the helper (it holds nothing that needs finishing) and drop what it sent."""
        if not self._given_up:
            self._given_up = True
            for end in (self._to, self._from):
                end.close()  # the helper reads the end of its tasks and stops
            if self._process is not None:
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
        self._ready.clear()
        self._by_helper.clear()
        self._planned.clear()
        self._after.clear()
        self._unsent.clear()

    def _plan(self, conn: Database) -> None:
        """Plan batches up to ``AHEAD`` beyond those routed, in the order the stage takes them:
        the queue's next keys after the last planned."""
        while not self._given_up and not self._exhausted and len(self._planned) < AHEAD:
            keys = tuple(queued_after(conn, self._last_key, self._size))
            if not keys:
                self._exhausted = True
                return
            self._planned[self._next] = keys
            self._after[self._next] = self._last_key
            self._unsent.append(self._next)
            self._next += 1
            self._last_key = keys[-1]

    def _wait_for(self, index: int, classify: Classify) -> ClassifiedBatch | None:
        """Batch ``index`` once classified (None: to be classified here); meanwhile this
        process classifies batches the helper has not taken."""
        while True:
            self._hear(0)  # the helper is given what it has room for first
            if index in self._ready or self._given_up:
                return self._ready.pop(index, None)
            if index in self._unsent:  # the helper is full: classified here
                self._unsent.remove(index)
                return None
            if self._unsent:  # the helper has it: classify another meanwhile
                other = self._unsent.popleft()
                self._ready[other] = classify(self._planned[other])
                continue
            if not self._hear(POLL_SECONDS) and self._failing():
                log.warning(
                    "the classify helper %s; classifying the rest of the queue in this process",
                    "stopped" if self._stopped() else "stopped answering",
                )
                self.close()
                return None

    def _hear(self, timeout: float) -> bool:
        """Take what the helper sent, waiting up to ``timeout`` for the first; then keep it
        supplied. False when nothing came."""
        heard = False
        try:
            while self._from.poll(timeout):
                message = self._from.recv()
                timeout = 0
                heard = True
                self._heard_at = time.monotonic()
                if message == "ready":
                    self._helper_ready = True
                    continue
                index, found = message
                self._sent.discard(index)
                self._ready[index] = found
                if found is not None:
                    self._by_helper.add(index)
            while self._helper_ready and self._unsent and len(self._sent) < DEPTH:
                index = self._unsent.popleft()
                # the keys after the batch before, not the keys: a task stays a few bytes, so
                # sending one never waits on a helper that is itself waiting to send a result
                self._to.send((index, self._after[index], self._size))
                self._sent.add(index)
        except (EOFError, OSError):
            self.close()  # the helper is gone; what it held is classified here
        return heard

    def _stopped(self) -> bool:
        return self._process is None or self._process.poll() is not None

    def _failing(self) -> bool:
        return self._stopped() or time.monotonic() - self._heard_at > STUCK_SECONDS
