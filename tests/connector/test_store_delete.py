"""Deletions reported by a source: facts and links leave, their charts are re-classified.

Runs on SQLite and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from chartroute import sync
from chartroute.config import PracticeConfig
from chartroute.sources import NdjsonDirSource, SourceRecord
from chartroute.store.schema import chart, fact, fact_link, work_item
from tests import builders as b


def classify(engine: Engine, config: PracticeConfig, as_of: datetime) -> sync.ClassifyCounts:
    return sync.classify_pending(engine, config, as_of)


def test_deleted_resources_leave_the_store_and_their_charts(
    engine: Engine, tmp_path: Path, config: PracticeConfig, as_of: datetime
) -> None:
    report = b.report("r1", "#sr-local")
    report["contained"] = [{**b.order("sr-local"), "id": "sr-local"}]
    b.write_ndjson(
        tmp_path,
        [
            b.encounter("e1"),
            b.note("n1", "Encounter/e1"),
            b.encounter("e2"),
            b.note("n2", "Encounter/e2"),
            b.order("sr2", "Encounter/e2"),
            report,
        ],
    )
    source = NdjsonDirSource(tmp_path)
    plan = sync.plan_sync(engine, source, as_of)
    for partition in plan.partitions:
        sync.ingest_partition(engine, source, partition)
    classify(engine, config, as_of)
    with engine.connect() as conn:
        assert (
            conn.execute(select(chart.c.state).where(chart.c.encounter == "Encounter/e1")).scalar()
            == "closed"
        )
        assert (
            conn.execute(
                select(func.count())
                .select_from(fact)
                .where(fact.c.key.like("DiagnosticReport/r1%"))
            ).scalar()
            == 2
        )

    counts = sync.store_batch(
        engine,
        [
            SourceRecord("x:1", deleted="DocumentReference/n1"),
            SourceRecord("x:2", deleted="Encounter/e2"),
            SourceRecord("x:3", deleted="DiagnosticReport/r1"),
            SourceRecord("x:4", deleted="Claim/never-stored"),
        ],
    )
    assert counts.deleted == 3 and counts.read == 4
    classified = classify(engine, config, as_of)
    assert classified.opened == 1 and classified.closed == 1

    with engine.connect() as conn:
        keys = set(conn.execute(select(fact.c.key)).scalars())
        links = set(conn.execute(select(fact_link.c.fact_key)).scalars())
        rows = conn.execute(select(chart.c.encounter, chart.c.state))
        states = {r.encounter: r.state for r in rows}
        items = conn.execute(
            select(work_item.c.encounter, work_item.c.category, work_item.c.status)
        ).all()
    assert not {"DocumentReference/n1", "Encounter/e2", "DiagnosticReport/r1"} & keys
    assert not any(k.startswith("DiagnosticReport/r1") for k in keys | links)
    assert "DocumentReference/n1" not in links
    assert states["Encounter/e1"] == "open" and states["Encounter/e2"] == "not-chart"
    assert ("Encounter/e1", "unsigned-note", "open") in items
    assert all(status == "closed" for enc, _, status in items if enc == "Encounter/e2")
