"""The sync's scan → validate → store stage over all the partitions of one run.

Records are decoded as they are read and held, with their raw bytes, until a window of up to
``VALIDATE_BATCH`` records is full or the run's last partition is read; the expectation suites
then run once over the window and only what passes is stored. Windows run across partition
boundaries, so a run of up to ``VALIDATE_BATCH`` records — every incremental run — is screened
once, however many files or byte ranges it spans: the suites cost ~0.1 s per table per call
whatever the size, paid per partition before. The window is what bounds memory for a first
full load; nothing is stored before it is screened, so a rejected record is never stored as a
fact, never queued and never routed.

Screen before store, rather than store and then run the suites over the stored rows: un-storing
a rejected row would have to restore the version it replaced and un-queue the charts it
queued, and a crash between the two would leave a bad fact visible to ``classify``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine

from chartroute.counts import Counts
from chartroute.feed_notes import changed_after
from chartroute.fhir.facts import Fact
from chartroute.fhir.references import resource_key
from chartroute.fhirclient.retry import retries_in_this_thread
from chartroute.heap import freeze_what_lives, older_objects_frozen, return_free_memory
from chartroute.sources.base import Partition, Source, SourceRecord
from chartroute.sources.decode import Decoded, Rejected
from chartroute.store import facts as fact_store
from chartroute.store import quarantine as held_store
from chartroute.stored_lines import (
    LINES_PER_LOOKUP,
    LineHashes,
    LineSifter,
    read_record,
    rules_text,
)
from chartroute.validation.feed import FeedValidator
from chartroute.validation.reasons import reason_label

INGEST_BATCH = 5000
#: Records screened together, across partitions: the suites cost ~0.1 s per table per call
#: whatever the size, so a run calls them once per this many records (once for any run up
#: to this size). Bounds the records (with their raw bytes) held in memory at a time: at 100k
#: encounters 30,000 keeps a full sync's peak under 400 MB (50,000 peaked at 401-407 MB)
#: at no CPU cost measurable on the bench (bench/README.md).
VALIDATE_BATCH = 30_000

#: Records from which a run is ingested with the objects the process held before frozen out of
#: cycle collection (``chartroute/heap.py``), and each window's decoded records frozen too
#: before the suites run over it: a first sync at 100k encounters spent 7 s in full
#: collections, each walking the 360,000 objects the imports left (Prefect, Great Expectations,
#: pandas) and the window's 30,000 records; frozen, 4 s (bench/README.md, the sixth round). A
#: next day's few thousand records trigger few, fewer than the freeze's own full collection
#: costs.
FREEZE_AFTER = 20_000

#: A run as of more than this before its feed is read counts, over every record, those
#: changed since (feed_notes.changed_after): it does not skip stored lines.
PAST_AS_OF = timedelta(hours=1)

Item = Decoded | Rejected | SourceRecord


@dataclass
class IngestCounts(Counts):
    """What ingesting a run's partitions did (no PHI: counts only)."""

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
    #: lines recognised as the ones their stored facts were read from: not decoded again
    #: (chartroute/stored_lines.py); counted in ``read`` and ``stored`` as before
    unchanged_lines: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    #: Per expectation ("table / reason"): rows checked and failed by the validate step.
    checks: dict[str, dict[str, int]] = field(default_factory=dict)


def utcnow() -> datetime:
    return datetime.now(UTC)


def ingest_partitions(
    engine: Engine,
    source: Source,
    partitions: Sequence[Partition],
    batch_size: int = INGEST_BATCH,
    validator: FeedValidator | None = None,
    validate_size: int = VALIDATE_BATCH,
    on_partition: Callable[[Partition, int], None] | None = None,
) -> IngestCounts:
    """Read, validate and store ``partitions``, a transaction per ``batch_size`` records.

    Decoding rejects what the rules cannot read; ``validator`` (the expectation suites) then
    rejects what they should not trust, over up to ``validate_size`` records at a time, across
    partitions. A line a stored fact was read from is recognised by its hash and not decoded
    again (``chartroute/stored_lines.py``), so a re-exported file costs its changed lines; the
    window fills with the records still to read. ``on_partition(partition, records read)`` is
    told as each one is read.
    """
    counts = IngestCounts()
    retried_before = retries_in_this_thread()
    flush_at = validate_size if validator is not None else batch_size
    sifter = line_sifter(engine, validator)
    pending: list[SourceRecord] = []
    batch: list[Item] = []
    lines: LineHashes = {}
    unread: list[SourceRecord] = []  # waiting for one lookup of their lines' hashes
    lookup = LINES_PER_LOOKUP if sifter is not None else 1

    taken = 0
    freeze = ExitStack()  # entered once the run has taken FREEZE_AFTER records

    def take(records: list[SourceRecord]) -> None:
        nonlocal pending, batch, lines, taken
        if taken < FREEZE_AFTER <= taken + len(records):
            freeze.enter_context(older_objects_frozen())
        taken += len(records)
        if sifter is None:
            sifted = [(r, read_record(r)) for r in records]
        else:
            found = sifter.sift(records, lines)
            counts.unchanged_lines += found.unchanged
            counts.read += found.unchanged
            counts.stored += found.unchanged
            sifted = found.items
        for record, item in sifted:
            pending.append(record)
            batch.append(item)
            if len(batch) >= flush_at:
                flush()

    def flush() -> None:
        nonlocal pending, batch, lines
        if taken >= FREEZE_AFTER:
            freeze_what_lives()  # the window's records are not walked by the suites' collections
        counts.add(_validate_and_store(engine, pending, batch, batch_size, validator, lines))
        pending, batch, lines = [], [], {}
        return_free_memory()

    with freeze:
        for partition in partitions:
            read = 0
            for record in source.read(partition):
                read += 1
                unread.append(record)
                if len(unread) >= lookup:
                    take(unread)
                    unread = []
            if on_partition is not None:
                on_partition(partition, read)
        take(unread)
        if batch:
            flush()
    counts.http_retries = retries_in_this_thread() - retried_before
    return counts


def line_sifter(engine: Engine, validator: FeedValidator | None) -> LineSifter | None:
    """The run's line lookup, keyed by what its facts depend on; none for a run as of a past
    time, whose notes on records changed since then are counted over every record read."""
    if validator is None:
        return LineSifter(engine, rules_text())
    if validator.as_of < validator.read_at - PAST_AS_OF:
        return None
    return LineSifter(engine, rules_text() + b"\0" + validator.screen_text())


def ingest_partition(
    engine: Engine,
    source: Source,
    partition: Partition,
    batch_size: int = INGEST_BATCH,
    validator: FeedValidator | None = None,
    validate_size: int = VALIDATE_BATCH,
) -> IngestCounts:
    """One partition alone (tests, tools that load a file at a time)."""
    return ingest_partitions(engine, source, [partition], batch_size, validator, validate_size)


def _validate_and_store(
    engine: Engine,
    records: list[SourceRecord],
    batch: list[Item],
    batch_size: int,
    validator: FeedValidator | None,
    lines: LineHashes,
) -> IngestCounts:
    counts = IngestCounts()
    items: list[Item] = batch
    if validator is not None:
        screened = validator.screen(batch, lambda i: raw_bytes(records[i]))
        records.clear()  # the raw bytes were for quarantine rows, now built: not kept to store
        items = screened.items
        counts.checks = screened.checks
        counts.changed_after_as_of = sum(
            isinstance(i, Decoded) and changed_after(i.facts, validator.as_of) for i in items
        )
    for start in range(0, len(items), batch_size):
        counts.add(store_batch(engine, items[start : start + batch_size], lines))
    return counts


def raw_bytes(record: SourceRecord) -> bytes:
    """A record's bytes as read, for quarantine (a Bundle entry is re-encoded)."""
    if record.raw is not None:
        return record.raw
    try:
        return orjson.dumps(record.decoded)
    except TypeError:
        return repr(record.decoded).encode()


def store_batch(
    engine: Engine, batch: Iterable[Item], lines: LineHashes | None = None
) -> IngestCounts:
    """Store the good records' facts and quarantine the bad ones, in one transaction;
    ``lines`` gives the line each record's own fact was read from, to store with it.

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
        result = fact_store.upsert_facts(conn, facts, now, lines)
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
