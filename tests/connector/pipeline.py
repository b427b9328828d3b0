"""Run the sync stages the way the flow does, and snapshot what they stored, for comparisons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from chartroute import sync
from chartroute.config import PracticeConfig
from chartroute.preview import jsonl_records, preview
from chartroute.sources.base import Source
from chartroute.store.schema import chart, work_item


@dataclass
class SyncResult:
    plan: sync.SyncPlan
    ingest: sync.IngestCounts
    classified: sync.ClassifyCounts


def run_sync(engine: Engine, source: Source, config: PracticeConfig, as_of: datetime) -> SyncResult:
    """plan → ingest every partition → advance cursors → classify, as flows/sync.py does."""
    plan = sync.plan_sync(engine, source, as_of)
    totals = sync.IngestCounts()
    for partition in plan.partitions:
        totals.add(sync.ingest_partition(engine, source, partition))
    sync.commit_cursors(engine, plan)
    classified = sync.classify_pending(engine, config, as_of, plan.run_id)
    return SyncResult(plan, totals, classified)


def work_items(engine: Engine) -> list[tuple[Any, ...]]:
    """The work items as comparable tuples (no timestamps)."""
    columns = (
        work_item.c.id,
        work_item.c.encounter,
        work_item.c.category,
        work_item.c.subject,
        work_item.c.role,
        work_item.c.assignee,
        work_item.c.status,
        work_item.c.evidence,
        work_item.c.detail,
    )
    with engine.connect() as conn:
        rows = conn.execute(select(*columns).order_by(work_item.c.id)).all()
    return [(*r[:7], tuple(r[7]), r[8]) for r in rows]


def chart_states(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(chart.c.encounter, chart.c.state))
        return {r.encounter: r.state for r in rows}


def open_items(engine: Engine) -> set[str]:
    return {row[0] for row in work_items(engine) if row[6] == "open"}


def preview_records(
    source: Source, config: PracticeConfig, as_of: datetime
) -> list[dict[str, object]]:
    """What ``chartroute classify --format jsonl`` prints for a source."""
    result = preview(source, config, as_of)
    assert not result.stopped, "too many records were rejected to classify"
    return list(jsonl_records(result))
