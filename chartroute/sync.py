"""The sync's stages as plain functions: plan, ingest the run's partitions
(``chartroute/ingest.py``), validate the run, advance cursors, classify, write back, finish.

``chartroute/sync_sequence.py`` runs them in their one order, on either runner: the Prefect
flow (a task per stage) or ``SyncHere`` in this process. They take and return
identifiers and counts only. Each stage commits its own work in batches and leaves the database
consistent if it dies: facts and the dirty queue are written together, classification results
and the removal of their dirty keys are written together, and cursors advance only after the
data they cover is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from chartroute.classify import ChartVerdict
from chartroute.classify_ahead import AHEAD_FROM, ClassifyAhead, can_share
from chartroute.classify_batch import ClassifiedBatch, classify_batch
from chartroute.config.models import PracticeConfig
from chartroute.config.validation import Validation
from chartroute.counts import Counts
from chartroute.feed_notes import OLD_VISITS_WARNED, note_verdict
from chartroute.heap import older_objects_frozen
from chartroute.ingest import INGEST_BATCH as INGEST_BATCH
from chartroute.ingest import VALIDATE_BATCH as VALIDATE_BATCH
from chartroute.ingest import IngestCounts as IngestCounts
from chartroute.ingest import ingest_partition as ingest_partition
from chartroute.ingest import ingest_partitions as ingest_partitions
from chartroute.ingest import store_batch as store_batch
from chartroute.lifecycle import ChartOutcome, ReconcileCounts, holders, routed_outcome
from chartroute.mode import current_mode
from chartroute.notify.outbox import enqueue_transitions
from chartroute.route import Router
from chartroute.sources.base import Partition, Source, skipped_files
from chartroute.store import facts as fact_store
from chartroute.store import quarantine as held_store
from chartroute.store import runs
from chartroute.store import work_items as item_store
from chartroute.store.planner_stats import GrowingTables, analyze_if_bulk_loaded
from chartroute.validation.report import RunValidation, validate_run
from chartroute.validation.threshold import TooManyBadRecords

#: Bump when fact extraction changes, so unchanged files are re-read once.
EXTRACTOR_VERSION = "2"  # 2: identifiers, conditional references, Practitioner(Role)
CLASSIFY_BATCH = 1000
#: Charts queued from which classifying freezes the objects the process holds first: a
#: bulk classify allocates enough to trigger many full collections, each walking the
#: imports' 300,000 objects; a next day's few thousand charts trigger few, and the full
#: collection the freeze begins with cost more (0.26 s of a 100k next day's 2,133 charts).
FREEZE_FROM = 5000


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
    #: Files of a folder source that are not read, each with why (names only, no content).
    files_skipped: list[str] = field(default_factory=list)


@dataclass
class ClassifyCounts(Counts):
    """What the classify-and-route stage did."""

    charts: int = 0
    open_charts: int = 0
    opened: int = 0
    reopened: int = 0
    closed: int = 0
    reassigned: int = 0
    updated: int = 0
    unchanged: int = 0
    notifications: int = 0  # outbox rows enqueued with the transitions
    mode: str = ""  # shadow: the notifications are recorded and never sent; or live
    before_cutoff: int = 0  # visits before charts.since (chartroute/feed_notes.py)
    older_than_a_year: int = 0  # charts of visits over a year old, with no cut-off set
    resolved_by_identifier: int = 0
    unresolved_references: dict[str, int] = field(default_factory=dict)  # by resource type
    warn_old_visits: int = 0  # 1: this run is the first to find old charts with no cut-off


def config_fingerprint(config: PracticeConfig) -> str:
    """Changes whenever a setting that affects classification or routing changes.

    Only those sections count (an include list, not an exclude list), so editing a channel,
    an escalation tier or a report setting does not re-classify every chart.
    """
    payload = config.model_dump_json(
        include={"charts", "roster", "routing", "documentation", "billing"}
    )
    return hashlib.sha256(f"{EXTRACTOR_VERSION}:{payload}".encode()).hexdigest()


def plan_sync(
    engine: Engine, source: Source, as_of: datetime, full: bool = False, holder: str | None = None
) -> SyncPlan:
    """Start a run: list partitions and skip those whose data has not changed since.

    Runs a killed process left ``running`` are closed as ``crashed`` first.
    """
    parts, todo, fingerprints = partitions_to_read(engine, source, full)
    with engine.begin() as conn:
        runs.close_crashed_runs(conn, utcnow())
        run_id = runs.start_run(conn, source.name, as_of, utcnow(), holder)
        _store_ranges(conn, source)
    return SyncPlan(
        run_id, source.name, todo, len(parts) - len(todo), fingerprints, skipped_files(source)
    )


def partitions_to_read(
    engine: Engine, source: Source, full: bool = False
) -> tuple[list[Partition], list[Partition], dict[str, str]]:
    """The source's partitions, those changed since the last sync, and every cursor's new
    fingerprint; reads the store only (the sync's plan, and the check for a run with nothing
    to do in ``chartroute/sync_idle.py``)."""
    remember = getattr(source, "remember_ranges", None)
    with engine.connect() as conn:
        seen = {} if full else runs.cursors(conn, source.name)
        if callable(remember):
            remember(runs.get_setting(conn, ranges_setting(source.name)))
    parts = source.partitions(source_cursors(seen))
    fingerprints = {p.cursor_name: f"{EXTRACTOR_VERSION}:{p.fingerprint}" for p in parts}
    todo = [p for p in parts if p.changed or seen.get(p.cursor_name) != fingerprints[p.cursor_name]]
    return parts, todo, fingerprints


def ranges_setting(source_name: str) -> str:
    """The setting holding a folder source's byte ranges (``sources/ndjson_dir.py``)."""
    return f"byte_ranges:{hashlib.sha256(source_name.encode()).hexdigest()[:40]}"


def _store_ranges(conn: Connection, source: Source) -> None:
    """Keep the byte ranges a folder source counted, so the next run need not count the
    newlines of files that have not changed since (keyed by each file's fingerprint)."""
    ranges = getattr(source, "ranges_to_remember", None)
    if not callable(ranges):
        return
    name, text = ranges_setting(source.name), ranges()
    if runs.get_setting(conn, name) != text:
        runs.put_setting(conn, name, text)


def source_cursors(stored: dict[str, str]) -> dict[str, str]:
    """The fingerprints a source last committed, as it wrote them (this extractor version only).

    An EHR source reads what changed since these; a cursor written by an older extractor is
    dropped, so that source reads everything again once.
    """
    prefix = f"{EXTRACTOR_VERSION}:"
    return {name: fp[len(prefix) :] for name, fp in stored.items() if fp.startswith(prefix)}


def validate_ingested(
    engine: Engine,
    plan: SyncPlan,
    settings: Validation,
    as_of: datetime,
    ingested: IngestCounts,
    *,
    data_docs: bool = True,
) -> RunValidation:
    """The run-level half of the validate step over what the run's partitions stored.

    Raw bytes of records quarantined longer than ``settings.keep_raw_days`` ago are dropped
    here, once a run, so a bad record's content is not kept longer than someone may explain it.
    """
    with engine.begin() as conn:
        held_store.forget_raw(conn, utcnow() - timedelta(days=settings.keep_raw_days))
    return validate_run(
        engine,
        plan.run_id,
        settings,
        as_of,
        read=ingested.read,
        quarantined=ingested.quarantined,
        checks=ingested.checks,
        reasons=ingested.reasons,
        data_docs=data_docs,
    )


def refuse_bad_feed(
    engine: Engine, plan: SyncPlan, checked: RunValidation, ingested: IngestCounts
) -> None:
    """Fail the run, before cursors move or anything is routed, when the feed's share of bad
    records passes the practice's limit: the run is recorded as failed and
    ``TooManyBadRecords`` raised."""
    if not checked.share.exceeded:
        return
    record = {"run_id": plan.run_id, "ingest": asdict(ingested)}
    finish_sync(engine, plan.run_id, "failed", record)
    raise TooManyBadRecords(checked.share, f"sync run {plan.run_id}")


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
    notify: bool = True,
) -> ClassifyCounts:
    """Re-classify and re-route every chart touched since the last run, a batch at a time.

    With ``notify`` (the default) each batch's transitions are enqueued in the outbox in the
    batch's own transaction; a backfill of past days passes False so nobody is told of them.
    A queue of ``FREEZE_FROM`` charts or more is classified with the objects the process
    already held frozen out of cycle collection (``chartroute/heap.py``).
    """
    counts = ClassifyCounts()
    with engine.begin() as conn:
        fingerprint = config_fingerprint(config)
        if runs.get_setting(conn, "config_fingerprint") != fingerprint:
            fact_store.mark_all_charts_dirty(conn)
            runs.put_setting(conn, "config_fingerprint", fingerprint)
        fact_store.mark_dirty(conn, item_store.due_future_charts(conn, as_of))
        bulk = analyze_if_bulk_loaded(conn)  # PostgreSQL: plan the batches on what was loaded
        load = item_store.open_load(conn)
        counts.mode = str(current_mode(conn, config))
        queued = fact_store.queued_count(conn)
    router = Router(config, as_of, load)
    growing = GrowingTables(bulk)
    ahead = ClassifyAhead(engine, config, as_of, batch_size) if _shared(engine, queued) else None
    # the imports' objects are not re-walked by collections
    try:
        with older_objects_frozen() if queued >= FREEZE_FROM else nullcontext():
            index = 0
            while True:
                with engine.begin() as conn:
                    growing.after(conn, counts.charts)  # ... and on what the batches so far wrote
                    keys = fact_store.take_dirty_keys(conn, batch_size)
                    if not keys:
                        break
                    classify = _classifier(conn, config, as_of)
                    batch = (
                        ahead.batch(conn, index, keys, classify)
                        if ahead is not None
                        else classify(tuple(keys))
                    )
                    done = _route_batch(conn, config, as_of, run_id, notify, router, batch, counts)
                    fact_store.clear_dirty(conn, keys)
                counts.add(done)
                index += 1
                if progress is not None:
                    progress(len(batch.encounters))
    finally:
        if ahead is not None:
            ahead.close()
    if counts.older_than_a_year:
        with engine.begin() as conn:  # the warning naming charts.since is given once per store
            counts.warn_old_visits = int(runs.get_setting(conn, OLD_VISITS_WARNED) is None)
            runs.put_setting(conn, OLD_VISITS_WARNED, "yes")
    if router.pooled:
        moved = _relieve(engine, config, as_of, run_id, notify)
        counts.reassigned += moved.reassigned
        counts.notifications += moved.notifications
    return counts


def _shared(engine: Engine, queued: int) -> bool:
    """Whether the stage takes a helper process (``chartroute/classify_ahead.py``)."""
    return queued >= AHEAD_FROM and can_share(engine)


def _classifier(
    conn: Connection, config: PracticeConfig, as_of: datetime
) -> Callable[[tuple[str, ...]], ClassifiedBatch]:
    return lambda keys: classify_batch(conn, keys, config, as_of)


def _route_batch(
    conn: Connection,
    config: PracticeConfig,
    as_of: datetime,
    run_id: str | None,
    notify: bool,
    router: Router,
    batch: ClassifiedBatch,
    counts: ClassifyCounts,
) -> ReconcileCounts:
    """Route a classified batch in queue order and write its outcomes, in ``conn``'s
    transaction; its transitions go to the outbox with ``notify``."""
    counts.resolved_by_identifier += batch.resolved_by_identifier
    for rtype, n in batch.unresolved_references.items():
        counts.unresolved_references[rtype] = counts.unresolved_references.get(rtype, 0) + n
    existing = item_store.items_for(conn, batch.encounters)
    stored_charts = item_store.charts_for(conn, batch.encounters)
    current = holders(existing.values())
    results: list[ChartOutcome] = []
    for enc_key in batch.encounters:
        found = batch.verdicts.get(enc_key)
        if found is None:
            if enc_key in stored_charts:  # deleted in the EHR: close what it had open
                results.append(ChartOutcome(deleted_chart_verdict(enc_key), None, None, ()))
            continue
        verdict, start_at = found
        note_verdict(counts, verdict, as_of, config.charts.since is not None)
        results.append(routed_outcome(router, verdict, start_at, current))
        counts.charts += 1
        counts.open_charts += verdict.is_open
    # Transitions are stamped with the instant the classification describes, so a sync, a
    # backfill or a simulation of a past day dates its events on that day.
    done = item_store.reconcile(conn, results, existing, stored_charts, as_of, run_id)
    if notify:
        touched = set(existing) | {i.id for outcome in results for i in outcome.items}
        counts.notifications += enqueue_transitions(conn, config, touched, as_of, run_id, as_of)
    return done


def _relieve(
    engine: Engine, config: PracticeConfig, as_of: datetime, run_id: str | None, notify: bool
) -> ClassifyCounts:
    """Move the staff items queued beyond their holders' reach, after the batches have routed
    the day's changes (docs/DESIGN.md, "Routing details"), in one transaction."""
    with engine.begin() as conn:
        router = Router(config, as_of, item_store.open_load(conn))
        moved = item_store.relieve_over_capacity(conn, router, as_of, run_id)
        counts = ClassifyCounts(reassigned=len(moved))
        if notify and moved:
            counts.notifications = enqueue_transitions(conn, config, moved, as_of, run_id, as_of)
    return counts


def deleted_chart_verdict(encounter: str) -> ChartVerdict:
    """The verdict for an encounter deleted in the EHR: no longer a chart, nothing open."""
    return ChartVerdict(encounter, False, "deleted in the EHR", (), None, None, None, None, None)


def run_record(
    plan: SyncPlan, ingested: IngestCounts, classified: ClassifyCounts
) -> dict[str, Any]:
    """What a completed run stores about itself (and the flow returns): identifiers, counts."""
    ingest = asdict(ingested)
    ingest["partitions_skipped"] = plan.skipped
    ingest["files_skipped"] = list(plan.files_skipped)
    return {"run_id": plan.run_id, "ingest": ingest, "classify": asdict(classified)}


def finish_sync(engine: Engine, run_id: str, status: str, counts: dict[str, Any]) -> None:
    with engine.begin() as conn:
        runs.finish_run(conn, run_id, status, counts, utcnow())
