"""Read one batch of queued charts back from the store and classify them: the pure half of the
classify stage.

The stage does two things per batch: this, which only reads facts already committed and
computes verdicts, and routing plus writing the outcomes, which must happen in queue order in
the process that holds the sync's lease (the router's loads change with every chart routed).
Kept apart so the first half can run anywhere that can read the store — in the sync's own
process or in a helper process beside it (``chartroute/classify_ahead.py``) — and give the
same answer from the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from chartroute.classify import ChartVerdict, classify_chart
from chartroute.config.models import PracticeConfig
from chartroute.feed_notes import note_resolver
from chartroute.store import facts as fact_store


@dataclass(slots=True)
class ClassifiedBatch:
    """One batch's verdicts, by encounter, and what resolving its references counted.

    ``verdicts`` holds each stored encounter's verdict and visit start; an encounter of the
    batch missing from it has no Encounter fact any more (deleted in the EHR). Identifiers and
    categories only: this crosses a process boundary, never a log.
    """

    keys: tuple[str, ...]
    encounters: list[str]
    verdicts: dict[str, tuple[ChartVerdict, datetime | None]]
    resolved_by_identifier: int = 0
    unresolved_references: dict[str, int] = field(default_factory=dict)


def classify_batch(
    conn: Connection, keys: tuple[str, ...], config: PracticeConfig, as_of: datetime
) -> ClassifiedBatch:
    """Classify the charts that the queued ``keys`` touch, as the store holds their facts."""
    encounters = sorted(fact_store.encounters_of(conn, set(keys)))
    batch = ClassifiedBatch(keys, encounters, {})
    charts = fact_store.load_charts(conn, encounters, lambda r: note_resolver(batch, r))
    for enc_key in encounters:
        chart = charts.get(enc_key)
        if chart is not None:
            verdict = classify_chart(chart, config.charts, config.documentation, as_of)
            batch.verdicts[enc_key] = (verdict, chart.encounter.start_at)
    return batch
