"""The classify stage and a long ingest keep the cycle collector off what the process held
before them."""

from __future__ import annotations

import gc
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from chartroute import ingest, sync
from chartroute.config import PracticeConfig
from chartroute.generate import GeneratorProfile, generate_practice
from chartroute.heap import freeze_what_lives, older_objects_frozen
from chartroute.sources import NdjsonDirSource
from chartroute.store.engine import make_engine
from chartroute.store.facts import mark_dirty


def test_objects_alive_before_are_frozen_inside_and_handed_back_after() -> None:
    before = gc.get_freeze_count()
    with older_objects_frozen():
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == before


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it


def test_what_lives_is_frozen_and_garbage_is_not() -> None:
    """A window's records are frozen with the rest; a cycle already dropped is collected,
    not kept frozen for the rest of the stage."""
    with older_objects_frozen():
        before = gc.get_freeze_count()
        window = [_Node() for _ in range(100)]
        dropped = weakref.ref(_Node())
        freeze_what_lives()
        assert gc.get_freeze_count() >= before + 100
        assert dropped() is None
        del window
    assert gc.get_freeze_count() == 0


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


def _frozen_while_storing(
    engine: Engine, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[int], object]:
    """Freeze counts seen each time a batch is stored, and the run's counts."""
    seen: list[int] = []
    store = ingest.store_batch

    def watched(*args: Any) -> Any:
        seen.append(gc.get_freeze_count())
        return store(*args)

    monkeypatch.setattr(ingest, "store_batch", watched)
    source = NdjsonDirSource(folder)
    counts = ingest.ingest_partitions(engine, source, source.partitions({}), batch_size=50)
    return seen, counts


def test_a_long_ingest_stores_with_the_older_objects_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``FREEZE_AFTER`` records on (a first load's; here one record stands for it), and
    the freeze is handed back when the run's records are stored; nothing else changes."""
    folder = tmp_path / "practice"
    generate_practice(folder, GeneratorProfile(providers=1, days=3, seed=3))
    alone = make_engine(f"sqlite:///{tmp_path / 'alone.db'}")
    seen_alone, counts_alone = _frozen_while_storing(alone, folder, monkeypatch)
    assert seen_alone and not any(seen_alone)  # a small run: no freeze

    monkeypatch.setattr(ingest, "FREEZE_AFTER", 1)
    frozen = make_engine(f"sqlite:///{tmp_path / 'frozen.db'}")
    seen, counts = _frozen_while_storing(frozen, folder, monkeypatch)
    assert seen and all(n > 0 for n in seen)
    assert gc.get_freeze_count() == 0
    assert counts == counts_alone
