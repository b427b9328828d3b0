"""``chartroute classify``: decide every chart of a source in memory, writing nothing.

The ops lead's preview of what a sync would do, with the reason for each decision. It uses the
same decoder, expectation suites, rules and router as the sync; only the storage differs (a
``FactIndex`` in memory instead of the database), so what it prints is what sync would route.
Bad records are left out exactly as the sync would quarantine them; when too many are bad the
preview stops short of classifying, as the sync would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chartroute.charts import FactIndex
from chartroute.classify import classify_chart
from chartroute.config.models import PracticeConfig
from chartroute.feed_notes import changed_after, note_resolver, note_verdict
from chartroute.fhir.facts import Fact
from chartroute.route import Router, WorkItem
from chartroute.sources.base import Source
from chartroute.sources.decode import Decoded, Rejected, decode_record
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


def read_records(source: Source) -> list[Decoded | Rejected]:
    """Every record of the source, decoded (deletions a source reports are not records)."""
    return [
        decode_record(record)
        for partition in source.partitions()
        for record in source.read(partition)
        if not record.deleted
    ]


def read_index(
    source: Source, rejected: list[Rejected], validator: FeedValidator
) -> tuple[FactIndex, int, Checks]:
    """Every good fact of the source in memory; bad records are appended to ``rejected``."""
    items = read_records(source)
    screened = validator.screen(items)
    index = FactIndex()
    for item in screened.items:
        if isinstance(item, Rejected):
            rejected.append(item)
            continue
        for f in item.facts:
            index.add(f)
    good = [f for item in screened.items if isinstance(item, Decoded) for f in item.facts]
    checks = merge_checks(screened.checks, validator.count_orphans_among(good))
    return index, len(items), checks


#: Given record keys and the as-of time, the store's facts of those it holds as they stood then.
StoredAt = Callable[[list[str], datetime], dict[str, list[Fact]]]


def preview(
    source: Source,
    config: PracticeConfig,
    as_of: datetime,
    validator: FeedValidator | None = None,
    stored_at: StoredAt | None = None,
) -> Preview:
    """Classify and route every chart of ``source`` as of ``as_of``.

    A record the source changed after ``as_of`` is read as ``stored_at`` (the practice's
    store) held it then, where it did; otherwise in its current version, and counted.
    """
    out = Preview()
    validator = validator or FeedValidator(config.validation, as_of)
    index, out.records_read, out.checks = read_index(source, out.rejected, validator)
    out.bad_share = BadShare(out.records_read, len(out.rejected), config.validation.max_bad_share)
    changed = [f.key for f in index.facts() if "#" not in f.key and changed_after([f], as_of)]
    if changed and stored_at is not None:
        for key, facts in stored_at(changed, as_of).items():
            index.replace(key, facts)
            out.read_from_store += 1
    out.changed_after_as_of = len(changed) - out.read_from_store
    if out.stopped:
        return out
    router = Router(config, as_of)
    since_set = config.charts.since is not None
    for chart in index.charts():
        verdict = classify_chart(chart, config.charts, config.documentation, as_of)
        note_verdict(out, verdict, as_of, since_set)
        if verdict.is_chart:
            out.charts_seen += 1
        if verdict.is_open:
            out.charts.append((verdict.encounter, router.route(verdict)))
    note_resolver(out, index.resolver)
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
