"""The classify stage keeps the cycle collector off what the process held before it."""

from __future__ import annotations

import gc
from datetime import datetime

from sqlalchemy import Engine

from chartroute.config import PracticeConfig
from chartroute.heap import older_objects_frozen
from chartroute.store.facts import mark_dirty
from chartroute.sync import classify_pending


def test_objects_alive_before_are_frozen_inside_and_handed_back_after() -> None:
    before = gc.get_freeze_count()
    with older_objects_frozen():
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == before


def test_classify_runs_its_batches_with_the_older_objects_frozen(
    sqlite_engine: Engine, config: PracticeConfig, as_of: datetime
) -> None:
    with sqlite_engine.begin() as conn:
        mark_dirty(conn, ["Encounter/gone"])
    frozen: list[int] = []
    classify_pending(
        sqlite_engine, config, as_of, progress=lambda _n: frozen.append(gc.get_freeze_count())
    )
    assert frozen and all(n > 0 for n in frozen)
    assert gc.get_freeze_count() == 0
