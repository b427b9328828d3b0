"""The classify stage keeps the cycle collector off what the process held before it."""

from __future__ import annotations

import gc
from datetime import datetime

import pytest
from sqlalchemy import Engine

from chartroute import sync
from chartroute.config import PracticeConfig
from chartroute.heap import older_objects_frozen
from chartroute.store.facts import mark_dirty


def test_objects_alive_before_are_frozen_inside_and_handed_back_after() -> None:
    before = gc.get_freeze_count()
    with older_objects_frozen():
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == before


def test_classify_runs_its_batches_with_the_older_objects_frozen(
    sqlite_engine: Engine, config: PracticeConfig, as_of: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queue from ``FREEZE_FROM`` on (a bulk load's; here one chart stands for it)."""
    monkeypatch.setattr(sync, "FREEZE_FROM", 1)
    with sqlite_engine.begin() as conn:
        mark_dirty(conn, ["Encounter/gone"])
    frozen: list[int] = []
    sync.classify_pending(
        sqlite_engine, config, as_of, progress=lambda _n: frozen.append(gc.get_freeze_count())
    )
    assert frozen and all(n > 0 for n in frozen)
    assert gc.get_freeze_count() == 0
