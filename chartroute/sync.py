"""The sync's stages as plain functions: plan, ingest a partition, validate the run, advance
cursors, classify, write back, finish.

``chartroute/sync_sequence.py`` runs them in their one order, on either runner: the Prefect
flow (a task per stage, or per partition) or ``SyncHere`` in this process. They take and return
identifiers and counts only. Each stage commits its own work in batches and leaves the database
consistent if it dies: facts and the dirty queue are written together, classification results
and the removal of their dirty keys are written together, and cursors advance only after the
data they cover is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine

from chartroute.classify import ChartVerdict, classify_chart
from chartroute.config.models import PracticeConfig
from chartroute.config.validation import Validation
from chartroute.counts import Counts
from chartroute.feed_notes import (
    OLD_VISITS_WARNED,
    changed_after,
    note_resolver,
    note_verdict,
)
from chartroute.fhir.facts import Fact
from chartroute.fhir.references import resource_key
from chartroute.fhirclient.retry import retries_in_this_thread
from chartroute.heap import older_objects_frozen
from chartroute.lifecycle import ChartOutcome, holders
from chartroute.mode import current_mode
from chartroute.notify.outbox import enqueue_transitions
from chartroute.route import Router
from chartroute.sources.base import Partition, Source, SourceRecord, skipped_files
from chartroute.sources.decode import Decoded, Rejected, decode_record
from chartroute.store import facts as fact_store
from chartroute.store import quarantine as held_store
from chartroute.store import runs
from chartroute.store import work_items as item_store
from chartroute.store.planner_stats import analyze_if_bulk_loaded
from chartroute.validation.feed import FeedValidator
from chartroute.validation.reasons import reason_label
from chartroute.validation.report import RunValidation, validate_run
from chartroute.validation.threshold import TooManyBadRecords

#: Bump when fact extraction changes, so unchanged files are re-read once.
EXTRACTOR_VERSION = "2"  # 2: identifiers, conditional references, Practitioner(Role)
INGEST_BATCH = 5000
#: Records validated together: the expectation suites cost ~0.1 s per table per run whatever
#: the size, so they run over up to this many records (never more than one partition).
VALIDATE_BATCH = 50_000
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
    #: Files of a folder source that are not read, each with why (names only, no content).
    files_skipped: list[str] = field(default_factory=list)


@dataclass
class IngestCounts(Counts):
    """What ingesting one partition did (no PHI: counts only)."""

    read: int = 0
    stored: int = 0
    quarantined: int = 0
    skipped_types: int = 0
    facts_inserted: int = 0
    facts_updated: int = 0
    facts_unchanged: int = 0
    facts_stale: int = 0
    deleted: int = 0
    changed_after_as_of: int = 0  # records last changed after a past as-of (feed_notes.py)
    http_retries: int = 0  # EHR requests retried after a temporary failure (fhirclient/retry)
    reasons: dict[str, int] = field(default_factory=dict)
    #: Per expectation ("table / reason"): rows checked and failed by the validate step.
    checks: dict[str, dict[str, int]] = field(default_factory=dict)


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
    with engine.connect() as conn:
        seen = {} if full else runs.cursors(conn, source.name)
    parts = source.partitions(source_cursors(seen))
    with engine.begin() as conn:
        runs.close_crashed_runs(conn, utcnow())
        run_id = runs.start_run(conn, source.name, as_of, utcnow(), holder)
    fingerprints = {p.cursor_name: f"{EXTRACTOR_VERSION}:{p.fingerprint}" for p in parts}
    todo = [p for p in parts if p.changed or seen.get(p.cursor_name) != fingerprints[p.cursor_name]]
    return SyncPlan(
        run_id, source.name, todo, len(parts) - len(todo), fingerprints, skipped_files(source)
    )


def source_cursors(stored: dict[str, str]) -> dict[str, str]:
    """The fingerprints a source last committed, as it wrote them (this extractor version only).

    An EHR source reads what changed since these; a cursor written by an older extractor is
    dropped, so that source reads everything again once.
    """
    prefix = f"{EXTRACTOR_VERSION}:"
    return {name: fp[len(prefix) :] for name, fp in stored.items() if fp.startswith(prefix)}


def ingest_partition(
    engine: Engine,
    source: Source,
    partition: Partition,
    batch_size: int = INGEST_BATCH,
    validator: FeedValidator | None = None,
    validate_size: int = VALIDATE_BATCH,
) -> IngestCounts:
    """Read, validate and store one partition, a transaction per batch.

    Decoding rejects what the rules cannot read; ``validator`` (the expectation suites) then
    rejects what they should not trust, over up to ``validate_size`` records at a time.
    """
    counts = IngestCounts()
    retried_before = retries_in_this_thread()
    flush_at = validate_size if validator is not None else batch_size
    pending: list[SourceRecord] = []
    batch: list[Decoded | Rejected | SourceRecord] = []
    for record in source.read(partition):
        pending.append(record)
        batch.append(record if record.deleted else decode_record(record))
        if len(batch) >= flush_at:
            counts.add(_validate_and_store(engine, pending, batch, batch_size, validator))
            pending, batch = [], []
    if batch:
        counts.add(_validate_and_store(engine, pending, batch, batch_size, validator))
    counts.http_retries = retries_in_this_thread() - retried_before
    return counts


def _validate_and_store(
    engine: Engine,
    records: list[SourceRecord],
    batch: list[Decoded | Rejected | SourceRecord],
    batch_size: int,
    validator: FeedValidator | None,
) -> IngestCounts:
    counts = IngestCounts()
    items: list[Decoded | Rejected | SourceRecord] = batch
    if validator is not None:
        screened = validator.screen(batch, lambda i: raw_bytes(records[i]))
        items = screened.items
        counts.checks = screened.checks
        counts.changed_after_as_of = sum(
            isinstance(i, Decoded) and changed_after(i.facts, validator.as_of) for i in items
        )
    for start in range(0, len(items), batch_size):
        counts.add(store_batch(engine, items[start : start + batch_size]))
    return counts


def raw_bytes(record: SourceRecord) -> bytes:
    """A record's bytes as read, for quarantine (a Bundle entry is re-encoded)."""
    if record.raw is not None:
        return record.raw
    try:
        return orjson.dumps(record.decoded)
    except TypeError:
        return repr(record.decoded).encode()


def store_batch(engine: Engine, batch: Iterable[Decoded | Rejected | SourceRecord]) -> IngestCounts:
    """Store the good records' facts and quarantine the bad ones, in one transaction.

    A ``SourceRecord`` in the batch is a deletion the source reported: its fact is removed
    (after the upserts, in the same transaction) and its charts are queued.
    """
    counts = IngestCounts()
    facts: list[Fact] = []
    good_keys: list[str] = []
    held: list[dict[str, Any]] = []
    read_clean: list[str] = []  # locations that read clean this time
    removed: list[str] = []
    for item in batch:
        counts.read += 1
        if isinstance(item, SourceRecord):
            if item.deleted:
                removed.append(item.deleted)
            continue
        if isinstance(item, Rejected):
            counts.quarantined += 1
            for label in dict.fromkeys(reason_label(r) for r in item.reasons):
                counts.reasons[label] = counts.reasons.get(label, 0) + 1
            held.append(quarantine_row(item))
            continue
        read_clean.append(held_store.location_key(item.location))
        if not item.facts:
            counts.skipped_types += 1
            continue
        counts.stored += 1
        facts.extend(item.facts)
        good_keys.append(resource_key(item.resource_type, item.resource_id))
    now = utcnow()
    with engine.begin() as conn:
        result = fact_store.upsert_facts(conn, facts, now)
        counts.deleted = fact_store.delete_facts(conn, removed)
        held_store.quarantine_records(conn, held, now)
        # A good copy releases its resource, and a clean read releases its location; but not
        # a key that a bad copy in this same batch holds.
        still_bad = {row["key"] for row in held}
        fixed = [k for k in dict.fromkeys(good_keys + read_clean + removed) if k not in still_bad]
        held_store.release_quarantine(conn, fixed)
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
        key = held_store.location_key(item.location)
    return {
        "key": key,
        "resource_type": item.resource_type,
        "resource_id": item.resource_id,
        "location": item.location,
        "reasons": list(item.reasons),
        "raw": item.raw,
    }


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


@older_objects_frozen()  # the imports' objects are not re-walked by every collection
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
    """
    counts = ClassifyCounts()
    with engine.begin() as conn:
        fingerprint = config_fingerprint(config)
        if runs.get_setting(conn, "config_fingerprint") != fingerprint:
            fact_store.mark_all_charts_dirty(conn)
            runs.put_setting(conn, "config_fingerprint", fingerprint)
        fact_store.mark_dirty(conn, item_store.due_future_charts(conn, as_of))
        analyze_if_bulk_loaded(conn)  # PostgreSQL: plan the batches on what was just loaded
        load = item_store.open_load(conn)
        counts.mode = str(current_mode(conn, config))
    router = Router(config, as_of, load)
    while True:
        with engine.begin() as conn:
            keys, encounters = fact_store.take_dirty(conn, batch_size)
            if not keys:
                break
            charts = fact_store.load_charts(
                conn, encounters, lambda resolver: note_resolver(counts, resolver)
            )
            existing = item_store.items_for(conn, encounters)
            stored_charts = item_store.charts_for(conn, encounters)
            current = holders(existing.values())
            results: list[ChartOutcome] = []
            for enc_key in encounters:
                chart = charts.get(enc_key)
                if chart is None:
                    if enc_key in stored_charts:  # deleted in the EHR: close what it had open
                        results.append(ChartOutcome(deleted_chart_verdict(enc_key), None, None, ()))
                    continue
                verdict = classify_chart(chart, config.charts, config.documentation, as_of)
                note_verdict(counts, verdict, as_of, config.charts.since is not None)
                items = router.route(verdict, current) if verdict.is_open else []
                clinician = router.clinician_of(verdict)
                results.append(
                    ChartOutcome(
                        verdict,
                        chart.encounter.start_at,
                        clinician.id if clinician else None,
                        tuple(items),
                    )
                )
                counts.charts += 1
                counts.open_charts += verdict.is_open
            # Transitions are stamped with the instant the classification describes, so a
            # sync, a backfill or a simulation of a past day dates its events on that day.
            now = as_of
            done = item_store.reconcile(conn, results, existing, stored_charts, now, run_id)
            if notify:
                touched = set(existing) | {i.id for outcome in results for i in outcome.items}
                counts.notifications += enqueue_transitions(
                    conn, config, touched, now, run_id, as_of
                )
            fact_store.clear_dirty(conn, keys)
        counts.add(done)
        if progress is not None:
            progress(len(encounters))
    if counts.older_than_a_year:
        with engine.begin() as conn:  # the warning naming charts.since is given once per store
            counts.warn_old_visits = int(runs.get_setting(conn, OLD_VISITS_WARNED) is None)
            runs.put_setting(conn, OLD_VISITS_WARNED, "yes")
    if router.pooled:
        moved = _relieve(engine, config, as_of, run_id, notify)
        counts.reassigned += moved.reassigned
        counts.notifications += moved.notifications
    return counts


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
