"""Run one mutated feed through a whole sync on one database and say what became of it.

Shared by the bounded fuzz test and ``bench/fuzz/run.py``: the sync's stages in this process
(plan, ingest with the suites, validate the run, advance cursors, classify and route, the
day's snapshot), then an account of every line written: stored, quarantined or counted as
skipped. ``Outcome`` compares equal across databases when they gave the same answers.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson
from sqlalchemy import Engine, select

from chartroute import sync
from chartroute.config.models import PracticeConfig
from chartroute.config.validation import Validation
from chartroute.sources.file_names import is_read
from chartroute.sources.ndjson_dir import NdjsonDirSource
from chartroute.store.quarantine import held_records
from chartroute.store.schema import fact, work_item
from chartroute.summary import take_snapshot
from chartroute.validation.feed import FeedValidator
from tests.validation.mutations import Feed

BOM = b"\xef\xbb\xbf"


@dataclass
class Outcome:
    """What one database made of one feed (``crash`` and ``unaccounted`` should be empty)."""

    read: int = 0
    stored: int = 0
    quarantined: int = 0
    skipped: int = 0
    stored_keys: frozenset[str] = frozenset()
    held: dict[str, tuple[str, ...]] = field(default_factory=dict)
    items: frozenset[tuple[str, str, str, str]] = frozenset()
    files_skipped: tuple[str, ...] = ()
    unaccounted: list[str] = field(default_factory=list)
    crash: str | None = None

    def answers(self) -> tuple[object, ...]:
        """Everything two databases must agree on."""
        return (
            self.read,
            self.stored,
            self.quarantined,
            self.skipped,
            self.stored_keys,
            self.held,
            self.items,
            self.files_skipped,
        )


def write_feed(folder: Path, feed: Feed) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in feed.files.items():
        (folder / name).write_bytes(content)


def run_feed(engine: Engine, folder: Path, config: PracticeConfig, as_of: datetime) -> Outcome:
    """A whole sync of ``folder`` (every bad share allowed, so routing always runs)."""
    out = Outcome()
    settings = Validation(max_bad_share=1)
    try:
        source = NdjsonDirSource(folder)
        plan = sync.plan_sync(engine, source, as_of, full=True)
        validator = FeedValidator(settings, as_of)
        # every partition in one call, as the sync's task reads them: the suites screen the
        # run's records together, not a file at a time
        counts = sync.ingest_partitions(engine, source, plan.partitions, validator=validator)
        sync.validate_ingested(engine, plan, settings, as_of, counts, data_docs=False)
        sync.commit_cursors(engine, plan)
        classified = sync.classify_pending(engine, config, as_of, plan.run_id)
        sync.finish_sync(
            engine, plan.run_id, "completed", sync.run_record(plan, counts, classified)
        )
        take_snapshot(engine, config, as_of, plan.run_id)
    except Exception as exc:  # the point: nothing may escape
        out.crash = f"{type(exc).__name__}: {traceback.format_exc(limit=-3)[-2000:]}"
        return out
    out.read, out.stored = counts.read, counts.stored
    out.quarantined, out.skipped = counts.quarantined, counts.skipped_types
    out.files_skipped = tuple(plan.files_skipped)
    with engine.connect() as conn:
        out.stored_keys = frozenset(r.key for r in conn.execute(select(fact.c.key)))
        held = list(held_records(conn))
        out.items = frozenset(
            (r.encounter, r.category, r.subject, r.status)
            for r in conn.execute(
                select(
                    work_item.c.encounter,
                    work_item.c.category,
                    work_item.c.subject,
                    work_item.c.status,
                )
            )
        )
    out.held = {h.key: tuple(h.reasons) for h in held}
    held_at = {loc for h in held for loc in h.location.split(", ")}
    out.unaccounted = unaccounted(folder, out, held_at)
    return out


def unaccounted(folder: Path, out: Outcome, held_at: set[str]) -> list[str]:
    """Locations of records read that were neither stored, quarantined nor skipped."""
    missing = []
    if out.read != out.stored + out.quarantined + out.skipped:
        missing.append(f"counts: read {out.read} != stored + quarantined + skipped")
    for path in sorted(folder.iterdir()):
        if not is_read(path.name):
            if not any(s.startswith(f"{path.name}: ") for s in out.files_skipped):
                missing.append(f"{path.name}: not read and not said")
            continue
        if path.suffix == ".json":
            if (
                path.name not in held_at
                and out.skipped == 0
                and not _stored(path.read_bytes(), out)
            ):
                missing.append(path.name)
            continue
        for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
            if not line.strip():
                continue
            location = f"{path.name}:{number}"
            if location in held_at:
                continue
            if not _stored(line.removeprefix(BOM) if number == 1 else line, out):
                missing.append(location)
    return missing


def _stored(text: bytes, out: Outcome) -> bool:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(value, dict):
        return False
    return f"{value.get('resourceType')}/{value.get('id')}" in out.stored_keys
