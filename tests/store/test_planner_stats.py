"""After a bulk load the classify stage plans its batches on fresh PostgreSQL statistics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, text

from chartroute.config import PracticeConfig
from chartroute.store.facts import mark_dirty
from chartroute.store.planner_stats import ANALYZE_AFTER, analyze_if_bulk_loaded
from chartroute.sync import classify_pending


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
