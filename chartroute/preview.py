"""``chartroute classify``: decide every chart of a source, writing nothing that outlives it.

The ops lead's preview of what a sync would do, with the reason for each decision. It uses the
same decoder, expectation suites, rules, chart loading and router as the sync; only the storage
differs (a private temporary store, ``preview_store.py``, read a window at a time so memory
does not grow with the practice), so what it prints is what sync would route.
Bad records are left out exactly as the sync would quarantine them; when too many are bad the
preview stops short of classifying, as the sync would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from chartroute.classify import classify_chart
from chartroute.config.models import PracticeConfig
from chartroute.feed_notes import note_resolver, note_verdict
from chartroute.fhir.facts import EncounterFact, Fact
from chartroute.preview_store import (
    changed_after_keys,
    encounter_batches,
    link_windows,
    private_store,
    replace_facts,
    resolvers,
    store_facts,
)
from chartroute.route import Router, WorkItem
from chartroute.sources.base import Source
from chartroute.sources.decode import Decoded, Rejected, decode_record
from chartroute.store.facts import load_charts
from chartroute.validation.feed import Checks, FeedValidator, merge_checks
from chartroute.validation.threshold import BadShare


@dataclass
class Preview:
    """Open charts with their routed items, plus what could not be read."""

    charts: list[tuple[str, list[WorkItem]]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    records_read: int = 0
    charts_seen: int = 0
    checks: Checks = field(default_factory=dict)  # per expectation, orphan references included
    bad_share: BadShare | None = None
    before_cutoff: int = 0  # the feed notes of chartroute/feed_notes.py
    older_than_a_year: int = 0
    resolved_by_identifier: int = 0
    unresolved_references: dict[str, int] = field(default_factory=dict)
    changed_after_as_of: int = 0
    read_from_store: int = 0  # records changed after the as-of time, read as the store held them

    def notes(self) -> dict[str, Any]:
        """The feed notes as the mapping ``feed_lines`` reads."""
        names = (
            "before_cutoff",
            "older_than_a_year",
            "resolved_by_identifier",
            "unresolved_references",
            "changed_after_as_of",
            "read_from_store",
        )
        return {name: getattr(self, name) for name in names}

    @property
    def stopped(self) -> bool:
        """True when too many records were bad to classify the rest."""
        return self.bad_share is not None and self.bad_share.exceeded


#: Records decoded and screened together: the suites cost ~0.1 s per table per call, and the
#: window (decoded records and their validation tables) is what the preview holds in memory.
PREVIEW_WINDOW = 20_000


class _Reader:
    """Decodes, screens and stores a source a window at a time, counting into a ``Preview``."""

    def __init__(self, engine: Engine, validator: FeedValidator, out: Preview) -> None:
        self.engine = engine
        self.validator = validator
        self.out = out
        #: encounters contained in other resources: their keys do not say they are encounters
        self.contained_encounters: set[str] = set()

    def read(self, source: Source, window: int) -> None:
        """Every record of the source (deletions a source reports are not records)."""
        pending: list[Decoded | Rejected] = []
        for partition in source.partitions():
            for record in source.read(partition):
                if record.deleted:
                    continue
                pending.append(decode_record(record))
                if len(pending) >= window:
                    self.screen_and_store(pending)
                    pending = []
        if pending:
            self.screen_and_store(pending)

    def screen_and_store(self, items: list[Decoded | Rejected]) -> None:
        self.out.records_read += len(items)
        screened = self.validator.screen(items)
        merge_checks(self.out.checks, screened.checks)
        good: list[Fact] = []
        for item in screened.items:
            if isinstance(item, Rejected):
                self.out.rejected.append(item)
            else:
                good.extend(item.facts)
        self.note_contained(good)
        store_facts(self.engine, good)

    def note_contained(self, facts: list[Fact]) -> None:
        self.contained_encounters.update(
            f.key for f in facts if "#" in f.key and isinstance(f, EncounterFact)
        )

    def count_orphans(self) -> None:
        """The references suite over every stored link, a window of links at a time."""
        for links in link_windows(self.engine):
            merge_checks(self.out.checks, self.validator.count_orphans(links))

    def read_changed_from(self, stored_at: StoredAt | None, as_of: datetime) -> None:
        """Read the records changed after ``as_of`` as the practice's store held them then."""
        changed = changed_after_keys(self.engine, as_of)
        if changed and stored_at is not None:
            replaced = stored_at(changed, as_of)
            self.contained_encounters = {
                k for k in self.contained_encounters if k.split("#", 1)[0] not in replaced
            }
            for facts in replaced.values():
                self.note_contained(facts)
            replace_facts(self.engine, replaced)
            self.out.read_from_store = len(replaced)
        self.out.changed_after_as_of = len(changed) - self.out.read_from_store


#: Given record keys and the as-of time, the store's facts of those it holds as they stood then.
StoredAt = Callable[[list[str], datetime], dict[str, list[Fact]]]


def preview(
    source: Source,
    config: PracticeConfig,
    as_of: datetime,
    validator: FeedValidator | None = None,
    stored_at: StoredAt | None = None,
    window: int = PREVIEW_WINDOW,
) -> Preview:
    """Classify and route every chart of ``source`` as of ``as_of``.

    A record the source changed after ``as_of`` is read as ``stored_at`` (the practice's
    store) held it then, where it did; otherwise in its current version, and counted.
    Records are read ``window`` at a time into a private temporary store (preview_store.py);
    the window changes memory, never the result.
    """
    out = Preview()
    validator = validator or FeedValidator(config.validation, as_of)
    with private_store() as engine:
        reader = _Reader(engine, validator, out)
        reader.read(source, window)
        reader.count_orphans()
        out.bad_share = BadShare(
            out.records_read, len(out.rejected), config.validation.max_bad_share
        )
        reader.read_changed_from(stored_at, as_of)
        if out.stopped:
            return out
        router = Router(config, as_of)
        since_set = config.charts.since is not None
        for encounters in encounter_batches(engine, reader.contained_encounters):
            with engine.connect() as conn:
                charts = load_charts(conn, encounters)
            for key in encounters:
                chart = charts.get(key)
                if chart is None:
                    continue
                verdict = classify_chart(chart, config.charts, config.documentation, as_of)
                note_verdict(out, verdict, as_of, since_set)
                if verdict.is_chart:
                    out.charts_seen += 1
                if verdict.is_open:
                    out.charts.append((verdict.encounter, router.route(verdict)))
        for resolver in resolvers(engine):
            note_resolver(out, resolver)
    return out


def jsonl_records(result: Preview) -> Iterator[dict[str, object]]:
    """The DESIGN.md record per open chart, sorted by encounter id."""
    for encounter, items in sorted(result.charts, key=lambda c: c[0]):
        yield {
            "encounter": encounter,
            "blockers": [
                {
                    "category": i.category,
                    "role": i.role,
                    "assignee": i.assignee,
                    "reason": str(i.reason),
                    "evidence": list(i.evidence),
                    "detail": i.detail,
                }
                for i in sorted(items, key=lambda i: (i.category, i.subject))
            ],
        }
