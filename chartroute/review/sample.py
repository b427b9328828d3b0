"""Draw a review sample from the store: stratified by category and clinician, plus closed charts.

Precision is measured per category, so each category is its own stratum of up to ``size``
blockers (every one when it has fewer); within a category the draw is spread over the charts'
clinicians in proportion to their share, with at least one for each clinician while the size
allows, so one doctor's documentation habits cannot hide another's. Closed charts are a stratum
of their own, spread the same way, because a blocker chartroute missed shows only on a chart it
closed. The same seed over the same store draws the same sample.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from chartroute.config.models import PracticeConfig
from chartroute.lifecycle import ChartState, ItemStatus
from chartroute.notify.content import deep_link
from chartroute.review.sheet import NONE, SheetRow, evidence_cell, sorted_rows
from chartroute.store.schema import chart, work_item
from chartroute.vocabulary import CATEGORIES


@dataclass(frozen=True, slots=True)
class Candidate:
    """One thing the sample may draw: a work item's blocker, or a closed chart."""

    chart: str
    category: str
    clinician: str  # roster id of the chart's clinician; "" when unknown
    subject: str = ""
    role: str = ""
    assignee: str = ""
    evidence: tuple[str, ...] = ()


def allocate(counts: Mapping[str, int], size: int) -> dict[str, int]:
    """How many of ``size`` draws each stratum gets: one each first (largest strata first),
    then in proportion to the strata's sizes, never more than a stratum holds."""
    total = sum(counts.values())
    if size >= total:
        return dict(counts)
    keys = sorted(counts, key=lambda k: (-counts[k], k))
    given = {k: 0 for k in keys}
    for k in keys[:size]:
        given[k] = 1
    for _ in range(size - sum(given.values())):
        room = [k for k in keys if given[k] < counts[k]]
        best = max(room, key=lambda k: (counts[k] * size / total - given[k], counts[k], k))
        given[best] += 1
    return given


def stratified(candidates: Sequence[Candidate], size: int, rng: random.Random) -> list[Candidate]:
    """Up to ``size`` of ``candidates`` (one category's), spread over their clinicians."""
    by_clinician: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_clinician[c.clinician].append(c)
    shares = allocate({k: len(v) for k, v in by_clinician.items()}, size)
    drawn: list[Candidate] = []
    for clinician in sorted(by_clinician):
        pool = sorted(by_clinician[clinician], key=lambda c: (c.chart, c.subject))
        drawn.extend(rng.sample(pool, shares[clinician]))
    return drawn


def open_blockers(conn: Connection) -> list[Candidate]:
    """Every open work item as a candidate, with its chart's clinician."""
    rows = conn.execute(select(work_item).where(work_item.c.status == ItemStatus.OPEN.value))
    return [
        Candidate(
            chart=r.encounter,
            category=r.category,
            clinician=r.clinician or "",
            subject=r.subject,
            role=r.role,
            assignee=r.assignee or "",
            evidence=tuple(r.evidence or ()),
        )
        for r in rows
    ]


def closed_charts(conn: Connection) -> list[Candidate]:
    """Every chart the last classification found closed."""
    rows = conn.execute(
        select(chart.c.encounter, chart.c.clinician).where(chart.c.state == ChartState.CLOSED.value)
    )
    return [Candidate(chart=r.encounter, category=NONE, clinician=r.clinician or "") for r in rows]


def draw_sample(conn: Connection, config: PracticeConfig, size: int, seed: int) -> list[SheetRow]:
    """The review sheet's rows: up to ``size`` blockers of each category and ``size`` closed
    charts, in the sheet's order, verdicts blank."""
    if size < 1:
        raise ValueError("the sample size must be at least 1")
    rng = random.Random(seed)
    by_category: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in open_blockers(conn):
        by_category[candidate.category].append(candidate)
    order = [c.value for c in CATEGORIES] + sorted(set(by_category) - set(CATEGORIES))
    drawn: list[Candidate] = []
    for category in order:
        drawn.extend(stratified(by_category.get(category, []), size, rng))
    drawn.extend(stratified(closed_charts(conn), size, rng))
    template = config.practice.ehr_link_template
    return sorted_rows(
        SheetRow(
            chart=c.chart,
            category=c.category,
            role=c.role,
            assignee=c.assignee,
            evidence=evidence_cell(c.subject, c.evidence),
            link=deep_link(template, c.chart) or "",
        )
        for c in drawn
    )
