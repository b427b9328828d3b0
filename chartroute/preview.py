"""``chartroute classify``: decide every chart of a source in memory, writing nothing.

The ops lead's preview of what a sync would do, with the reason for each decision. It uses the
same decoder, rules and router as the sync; only the storage differs (a ``FactIndex`` in
memory instead of the database), so what it prints is what sync would route.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from chartroute.charts import FactIndex
from chartroute.classify import classify_chart
from chartroute.config.models import PracticeConfig
from chartroute.fhir.decode import Rejected, decode_record
from chartroute.route import Router, WorkItem
from chartroute.sources.base import Source


@dataclass
class Preview:
    """Open charts with their routed items, plus what could not be read."""

    charts: list[tuple[str, list[WorkItem]]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    records_read: int = 0
    charts_seen: int = 0


def read_index(source: Source, rejected: list[Rejected]) -> tuple[FactIndex, int]:
    """Every fact of the source in memory; bad records are appended to ``rejected``."""
    index = FactIndex()
    read = 0
    for partition in source.partitions():
        for record in source.read(partition):
            read += 1
            result = decode_record(record)
            if isinstance(result, Rejected):
                rejected.append(result)
                continue
            for f in result.facts:
                index.add(f)
    return index, read


def preview(source: Source, config: PracticeConfig, as_of: datetime) -> Preview:
    """Classify and route every chart of ``source`` as of ``as_of``."""
    out = Preview()
    index, out.records_read = read_index(source, out.rejected)
    router = Router(config, as_of)
    for chart in index.charts():
        verdict = classify_chart(chart, config.charts, config.documentation, as_of)
        if verdict.is_chart:
            out.charts_seen += 1
        if verdict.is_open:
            out.charts.append((verdict.encounter, router.route(verdict)))
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
                    "evidence": list(i.evidence),
                    "detail": i.detail,
                }
                for i in sorted(items, key=lambda i: (i.category, i.subject))
            ],
        }
