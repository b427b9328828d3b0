"""What the validate step leaves in memory once a window or a run is checked."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime

from chartroute.heap import older_objects_frozen, return_free_memory
from chartroute.validation.fact_tables import make_frame
from chartroute.validation.feed import runner_for
from chartroute.validation.references import _KINDS, REFERENCE_COLUMNS, references_frame


def _links(n: int) -> list[tuple[str, str, bool]]:
    targets = ("Encounter/e", "ServiceRequest/s", "Practitioner/p", "MedicationRequest/m")
    return [(f"Task/{i}", f"{targets[i % 4]}{i % 7}", i % 3 != 0) for i in range(n)]


def test_a_run_keeps_no_frame_once_its_outcomes_are_read() -> None:
    # GX's execution engine kept the last frame of every table for the life of the process
    runner = runner_for(None)
    frame = references_frame(_links(300))
    alive = weakref.ref(frame)
    now = datetime.now(UTC)
    outcomes = runner.run({"references": frame}, {"as_of": now, "latest_allowed": now})
    del frame
    assert outcomes and outcomes[0].failed == 50
    assert alive() is None


def test_the_references_frame_is_the_one_built_from_rows() -> None:
    links = _links(500)
    rows = []
    for fact_key, target_key, found in links:
        kind = target_key.split("/", 1)[0]
        if kind in {"Encounter", "ServiceRequest"}:
            rows.append((len(rows), fact_key, target_key, kind, found))
    expected = make_frame(("row", *REFERENCE_COLUMNS), _KINDS, rows)
    built = references_frame(links)
    assert built.equals(expected)
    assert list(built.dtypes) == list(expected.dtypes)


def test_garbage_in_cycles_is_collected_before_the_heap_is_frozen() -> None:
    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    gc.disable()
    try:
        del a, b
        with older_objects_frozen():
            assert gone() is None
    finally:
        gc.enable()


def test_returning_free_memory_is_harmless() -> None:
    return_free_memory()
    return_free_memory()


def test_runs_leave_no_results_in_the_gx_context() -> None:
    # a ValidationDefinition run kept every result in the context's in-memory store for the
    # life of the process: one per table per window, growing through a long ingest
    runner = runner_for(None)
    now = datetime.now(UTC)
    for _ in range(3):
        runner.run(
            {"references": references_frame(_links(50))}, {"as_of": now, "latest_allowed": now}
        )
    assert runner._context.validation_results_store.list_keys() == []
