"""Classifying ahead in a helper process routes exactly what the stage routes alone, on both
databases, and loses nothing when the helper dies or the queue is not as planned."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select

from chartroute import classify_ahead, sync
from chartroute.classify_ahead import ClassifyAhead
from chartroute.classify_batch import ClassifiedBatch, classify_batch
from chartroute.config import PracticeConfig, load_config
from chartroute.generate import GeneratorProfile, generate_practice
from chartroute.sources import NdjsonDirSource
from chartroute.store import facts as fact_store
from chartroute.store.engine import make_engine
from chartroute.store.schema import chart, dirty_key, outbox_message, work_item, work_item_event

pytestmark = pytest.mark.slow

BATCH = 40


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PracticeConfig, datetime]:
    folder = tmp_path_factory.mktemp("practice")
    profile = GeneratorProfile(providers=3, days=8, seed=5)
    generate_practice(folder, profile)
    return folder, load_config(folder / "practice.yaml"), profile.resolved_as_of()


def _ingest(engine: Engine, folder: Path, as_of: datetime) -> str:
    source = NdjsonDirSource(folder)
    plan = sync.plan_sync(engine, source, as_of)
    sync.ingest_partitions(engine, source, plan.partitions)
    sync.commit_cursors(engine, plan)
    return plan.run_id


@pytest.fixture
def loaded(practice: tuple[Path, PracticeConfig, datetime], tmp_path: Path) -> Iterator[Engine]:
    """A SQLite store holding the practice, every chart queued."""
    folder, _config, as_of = practice
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    _ingest(engine, folder, as_of)
    yield engine
    engine.dispose()


def _routed(engine: Engine) -> tuple[object, ...]:
    """Everything the classify stage writes, without the generated ids' randomness."""
    with engine.connect() as conn:
        items = conn.execute(
            select(
                work_item.c.encounter,
                work_item.c.category,
                work_item.c.subject,
                work_item.c.role,
                work_item.c.assignee,
                work_item.c.clinician,
                work_item.c.status,
            ).order_by(work_item.c.encounter, work_item.c.category, work_item.c.subject)
        ).all()
        charts = conn.execute(
            select(
                chart.c.encounter, chart.c.state, chart.c.clinician, chart.c.blocker_count
            ).order_by(chart.c.encounter)
        ).all()
        events = conn.execute(select(func.count()).select_from(work_item_event)).scalar()
        messages = conn.execute(select(func.count()).select_from(outbox_message)).scalar()
        queued = conn.execute(select(func.count()).select_from(dirty_key)).scalar()
    return tuple(items), tuple(charts), events, messages, queued


def test_a_helper_routes_what_the_stage_routes_alone(
    practice: tuple[Path, PracticeConfig, datetime],
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, config, as_of = practice
    alone = make_engine(f"sqlite:///{tmp_path / 'alone.db'}")
    run_alone = _ingest(alone, folder, as_of)
    expected_counts = sync.classify_pending(alone, config, as_of, run_alone, batch_size=BATCH)
    expected = _routed(alone)
    alone.dispose()

    run_id = _ingest(engine, folder, as_of)
    with engine.connect() as conn:
        queued = fact_store.queued_count(conn)
    assert queued > 4 * BATCH  # more batches than are planned ahead at once
    started: list[ClassifyAhead] = []
    original = ClassifyAhead.__init__

    def recording(self: ClassifyAhead, *args: object) -> None:
        original(self, *args)  # type: ignore[arg-type]
        started.append(self)

    classifier = sync._classifier

    def slowly(*args: Any) -> Callable[[tuple[str, ...]], ClassifiedBatch]:
        here = classifier(*args)

        def classify(keys: tuple[str, ...]) -> ClassifiedBatch:
            time.sleep(0.2)  # slower here than the helper: it takes its share of the batches
            return here(keys)

        return classify

    monkeypatch.setattr(sync, "AHEAD_FROM", 1)
    monkeypatch.setattr(sync, "_classifier", slowly)
    monkeypatch.setattr(ClassifyAhead, "__init__", recording)
    counts = sync.classify_pending(engine, config, as_of, run_id, batch_size=BATCH)

    assert len(started) == 1
    assert started[0].from_helper > 0
    assert started[0]._process.poll() is not None  # ended with the stage
    assert counts == expected_counts
    assert _routed(engine) == expected
    assert expected[0]  # work was routed at all


def test_batches_the_helper_never_sends_are_classified_here(
    practice: tuple[Path, PracticeConfig, datetime], loaded: Engine
) -> None:
    _folder, config, as_of = practice
    engine = loaded
    ahead = ClassifyAhead(engine, config, as_of, BATCH)
    ahead._process.kill()  # dies before it classifies anything
    ahead._process.wait()
    index = 0
    try:
        while True:
            with engine.begin() as conn:
                keys = fact_store.take_dirty_keys(conn, BATCH)
                if not keys:
                    break
                here = classify_batch(conn, tuple(keys), config, as_of)
                found = ahead.batch(conn, index, keys, sync._classifier(conn, config, as_of))
                assert found == here
                fact_store.clear_dirty(conn, keys)
            index += 1
    finally:
        ahead.close()
    assert index > 4


def test_a_queue_changed_since_it_was_planned_is_classified_here(
    practice: tuple[Path, PracticeConfig, datetime], loaded: Engine
) -> None:
    _folder, config, as_of = practice
    engine = loaded
    ahead = ClassifyAhead(engine, config, as_of, BATCH)
    try:
        with engine.begin() as conn:
            keys = fact_store.take_dirty_keys(conn, BATCH)
            classify = sync._classifier(conn, config, as_of)
            ahead.batch(conn, 0, keys, classify)
            fact_store.clear_dirty(conn, keys)
        with engine.begin() as conn:
            keys = fact_store.take_dirty_keys(conn, BATCH)[1:]  # not the batch planned
            classify = sync._classifier(conn, config, as_of)
            found = ahead.batch(conn, 1, keys, classify)
            assert found.keys == tuple(keys)
            assert found == classify_batch(conn, tuple(keys), config, as_of)
        assert ahead._process.poll() is not None  # given up: the rest is classified here
    finally:
        ahead.close()


def test_an_in_memory_store_is_classified_alone(tmp_path: Path) -> None:
    assert not classify_ahead.can_share(create_engine("sqlite://"))
    assert not classify_ahead.can_share(create_engine("sqlite:///:memory:"))
    assert classify_ahead.can_share(create_engine(f"sqlite:///{tmp_path / 'store.db'}"))


def test_a_helper_that_cannot_start_leaves_the_work_here(
    practice: tuple[Path, PracticeConfig, datetime],
    loaded: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _folder, config, as_of = practice
    engine = loaded

    def no_process(*args: object, **kwargs: object) -> None:
        raise PermissionError("no exec here")

    monkeypatch.setattr(classify_ahead.subprocess, "Popen", no_process)
    ahead = ClassifyAhead(engine, config, as_of, BATCH)
    with engine.begin() as conn:
        keys = fact_store.take_dirty_keys(conn, BATCH)
        found = ahead.batch(conn, 0, keys, sync._classifier(conn, config, as_of))
        assert found == classify_batch(conn, tuple(keys), config, as_of)
    assert "no classify helper (PermissionError)" in caplog.text
    ahead.close()


def test_the_helper_ends_when_the_sync_process_is_gone(
    practice: tuple[Path, PracticeConfig, datetime], loaded: Engine
) -> None:
    """A sync killed mid-stage leaves no helper behind: the end of its pipe ends the helper."""
    _folder, config, as_of = practice
    engine = loaded
    ahead = ClassifyAhead(engine, config, as_of, BATCH)
    assert ahead._from.poll(30) and ahead._from.recv() == "ready"
    ahead._to.close()  # what the kernel does to a killed process's pipes
    assert ahead._process is not None
    assert ahead._process.wait(timeout=30) == 0
    ahead._from.close()
