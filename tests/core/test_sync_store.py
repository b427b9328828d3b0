"""The sync stages against a real database (SQLite and PostgreSQL): idempotent, incremental,
and consistent when a batch is retried."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from chartroute import sync
from chartroute.config import PracticeConfig
from chartroute.sources import NdjsonDirSource
from chartroute.store.schema import chart, dirty_key, fact, work_item, work_item_event
from tests import builders as b


def run_sync(
    engine: Engine, folder: Path, config: PracticeConfig, as_of: datetime
) -> sync.ClassifyCounts:
    source = NdjsonDirSource(folder)
    plan = sync.plan_sync(engine, source, as_of)
    for partition in plan.partitions:
        sync.ingest_partition(engine, source, partition)
    sync.commit_cursors(engine, plan)
    return sync.classify_pending(engine, config, as_of, plan.run_id)


def state(engine: Engine) -> tuple:
    with engine.connect() as conn:
        items = conn.execute(
            select(
                work_item.c.id, work_item.c.status, work_item.c.assignee, work_item.c.category
            ).order_by(work_item.c.id)
        ).all()
        charts = conn.execute(
            select(chart.c.encounter, chart.c.state).order_by(chart.c.encounter)
        ).all()
        events = conn.execute(select(func.count()).select_from(work_item_event)).scalar()
        facts = conn.execute(select(func.count()).select_from(fact)).scalar()
    return tuple(items), tuple(charts), events, facts


PRACTICE = [
    b.encounter("e1"),
    b.note("n1", doc_status="preliminary"),
    b.order("sr1"),
    b.encounter("e2", reason=False, practitioner="Practitioner/prac-002"),
    b.note("n2", "Encounter/e2"),
    b.claim("pa1", "Encounter/e2"),
    b.task("t1", "Encounter/e2"),
    b.encounter("e3"),
    b.note("n3", "Encounter/e3"),
    b.encounter("e4", status="planned"),
]


def test_sync_records_work_items(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    b.write_ndjson(tmp_path / "src", PRACTICE)
    counts = run_sync(engine, tmp_path / "src", config, as_of)
    assert counts.opened == 5 and counts.open_charts == 2
    items, charts, events, _ = state(engine)
    assert dict(charts) == {
        "Encounter/e1": "open",
        "Encounter/e2": "open",
        "Encounter/e3": "closed",
        "Encounter/e4": "not-chart",
    }
    assert sorted(i.category for i in items) == [
        "awaiting-referral-auth",
        "coding-query",
        "documentation-gap",
        "pending-result",
        "unsigned-note",
    ]
    assert events == 5


def test_second_sync_of_the_same_data_changes_nothing(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    b.write_ndjson(tmp_path / "src", PRACTICE)
    run_sync(engine, tmp_path / "src", config, as_of)
    before = state(engine)
    counts = run_sync(engine, tmp_path / "src", config, as_of)
    assert counts.charts == 0 and counts.opened == 0
    assert state(engine) == before
    # even when the files are re-read (new mtimes), nothing is written
    b.write_ndjson(tmp_path / "src", PRACTICE)
    counts = run_sync(engine, tmp_path / "src", config, as_of)
    assert counts.charts == 0
    assert state(engine) == before


def test_changes_close_and_open_exactly_the_affected_items(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    b.write_ndjson(tmp_path / "src", PRACTICE)
    run_sync(engine, tmp_path / "src", config, as_of)
    changed = [r for r in PRACTICE if r["id"] not in {"n1"}] + [
        b.note("n1", doc_status="final"),  # note signed
        b.report("dr1", "ServiceRequest/sr1"),  # result arrived
        b.order("sr9", "Encounter/e3"),  # a new order on a closed chart
    ]
    b.write_ndjson(tmp_path / "src", changed)
    counts = run_sync(engine, tmp_path / "src", config, as_of)
    assert counts.charts == 2  # e1 and e3 only
    assert (counts.closed, counts.opened) == (2, 1)
    _, charts, _, _ = state(engine)
    assert dict(charts)["Encounter/e1"] == "closed" and dict(charts)["Encounter/e3"] == "open"


def test_a_retried_batch_leaves_the_same_state(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    b.write_ndjson(tmp_path / "src", PRACTICE)
    source = NdjsonDirSource(tmp_path / "src")
    plan = sync.plan_sync(engine, source, as_of)
    for partition in plan.partitions:
        sync.ingest_partition(engine, source, partition)
        sync.ingest_partition(engine, source, partition)  # the retry of a batch that had committed
    sync.classify_pending(engine, config, as_of, plan.run_id)
    once = state(engine)
    with engine.begin() as conn:  # as if classification died after ingest and is retried
        conn.execute(dirty_key.insert(), [{"key": "Encounter/e1"}, {"key": "Encounter/e2"}])
    sync.classify_pending(engine, config, as_of, plan.run_id)
    assert state(engine) == once


def test_older_version_does_not_roll_back(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    signed = b.note("n1", doc_status="final")
    signed["meta"] = {"versionId": "2", "lastUpdated": "2026-03-05T10:00:00Z"}
    older = b.note("n1", doc_status="preliminary")
    older["meta"] = {"versionId": "1", "lastUpdated": "2026-03-02T10:00:00Z"}
    b.write_ndjson(tmp_path / "a", [b.encounter("e1"), signed])
    run_sync(engine, tmp_path / "a", config, as_of)
    b.write_ndjson(tmp_path / "b", [older])
    run_sync(engine, tmp_path / "b", config, as_of)
    _, charts, _, _ = state(engine)
    assert dict(charts)["Encounter/e1"] == "closed"


def test_future_encounter_becomes_a_chart_when_its_time_comes(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    b.write_ndjson(tmp_path / "src", [b.encounter("e1", start="2026-03-11T09:00:00Z", end=None)])
    run_sync(engine, tmp_path / "src", config, as_of)
    assert dict(state(engine)[1]) == {"Encounter/e1": "future"}
    later = datetime(2026, 3, 12, tzinfo=as_of.tzinfo)
    run_sync(engine, tmp_path / "src", config, later)
    assert dict(state(engine)[1]) == {"Encounter/e1": "open"}


def test_config_change_reclassifies_everything(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    b.write_ndjson(tmp_path / "src", PRACTICE)
    run_sync(engine, tmp_path / "src", config, as_of)
    routing = config.routing.model_copy(
        update={"categories": {**config.routing.categories, "coding-query": "coder"}}
    )
    changed = config.model_copy(update={"routing": routing})
    counts = run_sync(engine, tmp_path / "src", changed, as_of)
    assert counts.charts == 4
    with engine.connect() as conn:
        role = conn.execute(
            select(work_item.c.role, work_item.c.assignee).where(
                work_item.c.category == "coding-query"
            )
        ).one()
    assert tuple(role) == ("coder", "coder-gray")


def test_only_a_large_queue_is_classified_with_older_objects_frozen(
    sqlite_engine: Engine,
    tmp_path: Path,
    config: PracticeConfig,
    as_of: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The freeze begins with a full collection of everything the process holds: worth it
    for a bulk classify, more than a next day's few thousand charts would ever cost."""
    frozen: list[int] = []

    @contextmanager
    def recorded() -> Iterator[None]:
        frozen.append(1)
        yield

    monkeypatch.setattr(sync, "older_objects_frozen", recorded)
    b.write_ndjson(tmp_path / "src", PRACTICE)
    monkeypatch.setattr(sync, "FREEZE_FROM", 5)  # the practice queues 4 encounters
    small = run_sync(sqlite_engine, tmp_path / "src", config, as_of)
    assert frozen == [] and small.charts == 4
    with sqlite_engine.begin() as conn:  # queue every chart again
        sync.fact_store.mark_all_charts_dirty(conn)
    monkeypatch.setattr(sync, "FREEZE_FROM", 4)
    assert sync.classify_pending(sqlite_engine, config, as_of).charts == 4
    assert frozen == [1]
