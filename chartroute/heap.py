"""Keep Python's cycle collector off the objects a process holds before a long stage starts.

A sync process has imported Prefect, Great Expectations and pandas before it classifies:
over 300,000 long-lived objects that every full collection walks again, while the classify
stage allocates millions of short-lived facts that keep triggering collections. Measured on a
10k-encounter practice, collection took a third of the stage's CPU time and grew with
the batches. ``gc.freeze`` moves everything alive at the start into a generation the
collector skips; ``gc.unfreeze`` at the end hands it back, so nothing is leaked, only not
re-examined while the stage runs. Garbage the stage makes is collected as usual.

Garbage in reference cycles left by the stages before (Great Expectations' results, pandas
frames) is collected first: frozen, it would stay for the whole stage, along with the
allocator pages it keeps from being reused.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache


@contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Exempt what is alive now from cycle collection until the block ends."""
    gc.collect()
    return_free_memory()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def freeze_what_lives() -> None:
    """Freeze what is alive now, once garbage is collected: inside ``older_objects_frozen``,
    which hands it back at the block's end, or for a helper process's whole life.

    For a stage whose long-lived objects keep arriving: an ingest's window of decoded records
    lives through the expectation suites, whose allocations trigger full collections that
    would walk every record again. Only what survived a full collection is frozen, so no
    garbage is kept; a frozen record that is done with is still freed when its last reference
    goes, and the block's end hands everything frozen back.
    """
    gc.collect()
    gc.freeze()


def return_free_memory() -> None:
    """Hand the C allocator's free pages back to the system (glibc's ``malloc_trim``).

    After a stage frees a few hundred MB of frames and strings, glibc keeps most of the pages
    mapped for reuse; the process's RSS then stays at the stage's peak through every later
    stage. A no-op where the C library has no ``malloc_trim``.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    return getattr(ctypes.CDLL(name), "malloc_trim", None)
