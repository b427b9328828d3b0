"""After a bulk load the classify stage plans its batches on fresh PostgreSQL statistics."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from chartroute.config import PracticeConfig
from chartroute.store import planner_stats
from chartroute.store.engine import make_engine
from chartroute.store.facts import mark_dirty
from chartroute.store.planner_stats import ANALYZE_AFTER, analyze_if_bulk_loaded
from chartroute.sync import classify_pending
from tests import builders as b
from tests.conftest import _truncate
from tests.validation.helpers import ingest


def _reltuples(engine: Engine, table: str) -> float:
    with engine.connect() as conn:
        query = text("SELECT reltuples FROM pg_class WHERE relname = :t")
        return float(conn.execute(query, {"t": table}).scalar_one())


def test_a_bulk_loaded_queue_is_analyzed_before_it_is_classified(
    engine: Engine, config: PracticeConfig, as_of: datetime
) -> None:
    with engine.begin() as conn:
        mark_dirty(conn, [f"Encounter/e{i:05d}" for i in range(ANALYZE_AFTER)])
    classify_pending(engine, config, as_of)
    if engine.dialect.name == "postgresql":  # -1: never analyzed
        assert _reltuples(engine, "dirty_key") == ANALYZE_AFTER
    else:
        with engine.begin() as conn:
            assert not analyze_if_bulk_loaded(conn)


def test_a_day_of_changes_is_not_analyzed(engine: Engine) -> None:
    with engine.begin() as conn:
        mark_dirty(conn, [f"Encounter/e{i:05d}" for i in range(ANALYZE_AFTER - 1)])
        assert not analyze_if_bulk_loaded(conn)


@pytest.mark.slow
def test_the_tables_a_bulk_classify_writes_are_analyzed_as_they_fill(
    postgres_url: str,
    config: PracticeConfig,
    as_of: datetime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Analyzed while still empty, the work items a first load opens were planned as an empty
    table all run long: each batch's lookup of its work items then scanned them all."""
    engine = make_engine(postgres_url)  # SQLite plans without statistics: nothing to check
    _truncate(engine)
    monkeypatch.setattr(planner_stats, "ANALYZE_AFTER", 100)
    monkeypatch.setattr(planner_stats, "REANALYZE_FIRST", 100)
    b.write_ndjson(tmp_path / "feed", [b.encounter(f"e{i:04d}") for i in range(400)])
    try:
        ingest(engine, tmp_path / "feed", as_of)
        counts = classify_pending(engine, config, as_of, batch_size=50)
        assert counts.charts == 400 and counts.opened >= 400
        items = _count(engine, "work_item")
        # analyzed last after 200 charts, well after the first batches wrote their items
        assert _reltuples(engine, "work_item") >= items / 4 > 0
        assert _reltuples(engine, "chart") >= 100
    finally:
        engine.dispose()


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
