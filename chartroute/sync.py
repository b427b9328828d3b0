"""The sync pipeline's stages as plain functions: plan, ingest a partition, classify, finish.

The Prefect flow in ``flows/sync.py`` calls these one stage (or one partition) per task, passing
only identifiers and counts; ``chartroute sync`` without Prefect would call them the same way.
Each stage commits its own work in batches and leaves the database consistent if it dies:
facts and the dirty queue are written together, classification results and the removal of their
dirty keys are written together, and cursors advance only after the data they cover is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from chartroute.classify import classify_chart
from chartroute.config.models import PracticeConfig
from chartroute.fhir.decode import Decoded, Rejected, decode_record
from chartroute.fhir.facts import Fact
from chartroute.fhir.references import resource_key
from chartroute.route import Router
from chartroute.sources.base import Partition, Source
from chartroute.store import facts as fact_store
from chartroute.store import runs
from chartroute.store import work_items as item_store
from chartroute.store.schema import fact

#: Bump when fact extraction changes, so unchanged files are re-read once.
EXTRACTOR_VERSION = "1"
INGEST_BATCH = 5000
CLASSIFY_BATCH = 1000


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class SyncPlan:
    """The partitions a run must read, and those skipped because nothing changed."""

    run_id: str
    source: str
    partitions: list[Partition]
    skipped: int
    fingerprints: dict[str, str]


@dataclass
class IngestCounts:
    """What ingesting one partition did (no PHI: counts only)."""

    read: int = 0
    stored: int = 0
    quarantined: int = 0
    skipped_types: int = 0
    facts_inserted: int = 0
    facts_updated: int = 0
    facts_unchanged: int = 0
    facts_stale: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, other: IngestCounts) -> None:
        for name, value in asdict(other).items():
            if name == "reasons":
                for reason, n in value.items():
                    self.reasons[reason] = self.reasons.get(reason, 0) + n
            else:
                setattr(self, name, getattr(self, name) + value)


@dataclass
class ClassifyCounts:
    """What the classify-and-route stage did."""

    charts: int = 0
    open_charts: int = 0
    opened: int = 0
    reopened: int = 0
    closed: int = 0
    reassigned: int = 0
    updated: int = 0
    unchanged: int = 0


def config_fingerprint(config: PracticeConfig) -> str:
    """Changes whenever a setting that affects classification or routing changes."""
    payload = config.model_dump_json(exclude={"practice": {"name"}})
    return hashlib.sha256(f"{EXTRACTOR_VERSION}:{payload}".encode()).hexdigest()


def plan_sync(engine: Engine, source: Source, as_of: datetime, full: bool = False) -> SyncPlan:
    """Start a run: list partitions and skip those whose data has not changed since."""
    parts = source.partitions()
    with engine.begin() as conn:
        run_id = runs.start_run(conn, source.name, as_of, utcnow())
        seen = {} if full else runs.cursors(conn, source.name)
    fingerprints = {p.cursor_name: f"{EXTRACTOR_VERSION}:{p.fingerprint}" for p in parts}
    todo = [p for p in parts if seen.get(p.cursor_name) != fingerprints[p.cursor_name]]
    return SyncPlan(run_id, source.name, todo, len(parts) - len(todo), fingerprints)


def ingest_partition(
    engine: Engine, source: Source, partition: Partition, batch_size: int = INGEST_BATCH
) -> IngestCounts:
    """Read, validate and store one partition, a transaction per batch."""
    counts = IngestCounts()
    batch: list[Decoded | Rejected] = []
    for record in source.read(partition):
        batch.append(decode_record(record))
        if len(batch) >= batch_size:
            counts.add(store_batch(engine, batch))
            batch = []
    if batch:
        counts.add(store_batch(engine, batch))
    return counts


def store_batch(engine: Engine, batch: Iterable[Decoded | Rejected]) -> IngestCounts:
    """Store the good records' facts and quarantine the bad ones, in one transaction."""
    counts = IngestCounts()
    facts: list[Fact] = []
    good_keys: list[str] = []
    held: list[dict[str, Any]] = []
    for item in batch:
        counts.read += 1
        if isinstance(item, Rejected):
            counts.quarantined += 1
            for reason in item.reasons:
                label = reason.split(":", 1)[0]
                counts.reasons[label] = counts.reasons.get(label, 0) + 1
            held.append(quarantine_row(item))
            continue
        if not item.facts:
            counts.skipped_types += 1
            continue
        counts.stored += 1
        facts.extend(item.facts)
        good_keys.append(resource_key(item.resource_type, item.resource_id))
    now = utcnow()
    with engine.begin() as conn:
        result = fact_store.upsert_facts(conn, facts, now)
        runs.quarantine_records(conn, held, now)
        runs.release_quarantine(conn, good_keys)
    counts.facts_inserted = result.inserted
    counts.facts_updated = result.updated
    counts.facts_unchanged = result.unchanged
    counts.facts_stale = result.stale
    return counts


def quarantine_row(item: Rejected) -> dict[str, Any]:
    """The quarantine row of a rejected record, keyed by resource when it has one."""
    if item.resource_type and item.resource_id:
        key = resource_key(item.resource_type, item.resource_id)
    else:
        key = f"at:{item.location}"
    return {
        "key": key,
        "resource_type": item.resource_type,
        "resource_id": item.resource_id,
        "location": item.location,
        "reasons": list(item.reasons),
        "raw": item.raw,
    }


def commit_cursors(engine: Engine, plan: SyncPlan) -> None:
    """Advance the source cursors once every partition of the plan is stored."""
    with engine.begin() as conn:
        runs.advance_cursors(conn, plan.source, plan.fingerprints, utcnow())


def classify_pending(
    engine: Engine,
    config: PracticeConfig,
    as_of: datetime,
    run_id: str | None = None,
    batch_size: int = CLASSIFY_BATCH,
    progress: Callable[[int], None] | None = None,
) -> ClassifyCounts:
    """Re-classify and re-route every chart touched since the last run, a batch at a time."""
    counts = ClassifyCounts()
    with engine.begin() as conn:
        fingerprint = config_fingerprint(config)
        if runs.get_setting(conn, "config_fingerprint") != fingerprint:
            keys = [r.key for r in conn.execute(select(fact.c.key).where(fact.c.resource_type == "Encounter"))]
            fact_store.mark_dirty(conn, (k for k in keys if "#" not in k))
            runs.put_setting(conn, "config_fingerprint", fingerprint)
        fact_store.mark_dirty(conn, item_store.due_future_charts(conn, as_of))
        load = item_store.open_load(conn)
    router = Router(config, as_of, load)
    while True:
        with engine.begin() as conn:
            keys, encounters = fact_store.take_dirty(conn, batch_size)
            if not keys:
                break
            charts = fact_store.load_charts(conn, encounters)
            existing = item_store.items_for(conn, encounters)
            stored_charts = item_store.charts_for(conn, encounters)
            current = {i: row["assignee"] for i, row in existing.items() if row["status"] == "open"}
            results = []
            for enc_key in encounters:
                chart = charts.get(enc_key)
                if chart is None:
                    continue
                verdict = classify_chart(chart, config.charts, config.documentation, as_of)
                items = router.route(verdict, current) if verdict.is_open else []
                clinician = router.by_practitioner.get(verdict.rendering_clinician or "")
                results.append(
                    (verdict, chart.encounter.start_at, clinician.id if clinician else None, items)
                )
                counts.charts += 1
                counts.open_charts += verdict.is_open
            done = item_store.reconcile(conn, results, existing, stored_charts, utcnow(), run_id)
            fact_store.clear_dirty(conn, keys)
        for name in ("opened", "reopened", "closed", "reassigned", "updated", "unchanged"):
            setattr(counts, name, getattr(counts, name) + getattr(done, name))
        if progress is not None:
            progress(len(encounters))
    return counts


def finish_sync(engine: Engine, run_id: str, status: str, counts: dict[str, Any]) -> None:
    with engine.begin() as conn:
        runs.finish_run(conn, run_id, status, counts, utcnow())
