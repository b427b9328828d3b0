"""How right chartroute is, per category, from the stored verdicts; and whether that is enough.

For each category: the blockers reviewed (verdict ``correct`` or ``wrong``) on how many charts,
the precision (correct ÷ reviewed) with its 95% Wilson interval, and the misses found — a
blocker of the category the reviewer added as ``missing``, or named as the right category of a
row chartroute got wrong (a closed chart that was not closed, a blocker put in the wrong
category). ``none`` is the closed charts' row: its precision is the share of sampled closed
charts that really were closed.

A category is *ready* when at least ``review.min_reviewed`` of its blockers were reviewed and
its interval's lower bound reaches ``review.min_precision``; the practice is ready to go live
when every category it has open work items in, and its closed charts, are. Below that, the rules,
documentation fields and evidence types most often marked wrong say where to look.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from chartroute.analytics.snapshots import stuck_reason
from chartroute.config.review import ReviewSettings
from chartroute.lifecycle import ChartState, ItemStatus
from chartroute.review.sheet import NONE, ROW_CATEGORIES, Verdict
from chartroute.review.verdicts import StoredVerdict, stored_verdicts
from chartroute.review.wilson import CONFIDENCE, wilson_interval
from chartroute.store.schema import chart, work_item
from chartroute.vocabulary import Category

#: How many of the most often wrong rules, fields and evidence types a category lists.
TOP_WRONG = 3
_RESOURCE_KEY = re.compile(r"^([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]")


@dataclass(frozen=True)
class CategoryAccuracy:
    """One category's measured accuracy."""

    category: str
    charts: int  # distinct charts among the reviewed rows
    reviewed: int
    correct: int
    misses: int
    precision: float | None
    low: float | None
    high: float | None
    ready: bool
    status: str  # "ready", "needs N more reviews" or "below <min>": what the ops lead reads
    wrong_rules: list[tuple[str, int]] = field(default_factory=list)
    wrong_fields: list[tuple[str, int]] = field(default_factory=list)
    wrong_evidence: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Accuracy:
    """The review's measure: a row per category present, and the go-live answer."""

    categories: list[CategoryAccuracy]
    ready: bool
    min_precision: float
    min_reviewed: int
    confidence: float = CONFIDENCE

    @property
    def reviewed(self) -> int:
        return sum(c.reviewed for c in self.categories)


def measure_category(
    category: str, verdicts: Sequence[StoredVerdict], settings: ReviewSettings
) -> CategoryAccuracy:
    """One category's row from every stored verdict."""
    own = [v for v in verdicts if v.category == category and v.verdict != Verdict.MISSING]
    correct = sum(1 for v in own if v.verdict == Verdict.CORRECT)
    wrong = [v for v in own if v.verdict == Verdict.WRONG]
    misses = sum(1 for v in verdicts if _missed(v) == category)
    reviewed = len(own)
    interval = wilson_interval(correct, reviewed) if reviewed else None
    ready = (
        interval is not None
        and reviewed >= settings.min_reviewed
        and interval.low >= settings.min_precision
    )
    if ready:
        status = "ready"
    elif reviewed < settings.min_reviewed:
        status = f"needs {settings.min_reviewed - reviewed} more reviews"
    else:
        status = f"below {settings.min_precision:.2f}"
    return CategoryAccuracy(
        category=category,
        charts=len({v.chart for v in own}),
        reviewed=reviewed,
        correct=correct,
        misses=misses,
        precision=interval.estimate if interval else None,
        low=interval.low if interval else None,
        high=interval.high if interval else None,
        ready=ready,
        status=status,
        wrong_rules=[] if ready else _top(_rule(v) for v in wrong),
        wrong_fields=[] if ready else _top(f for v in wrong if (f := _field(v))),
        wrong_evidence=[] if ready else _top(t for v in wrong for t in _evidence_types(v)),
    )


def measure(
    verdicts: Sequence[StoredVerdict], present: Iterable[str], settings: ReviewSettings
) -> Accuracy:
    """The accuracy of every category in ``present`` (those the store has) or with verdicts."""
    shown = (
        set(present) | {v.category for v in verdicts} | {m for v in verdicts if (m := _missed(v))}
    )
    rows = [measure_category(c, verdicts, settings) for c in ROW_CATEGORIES if c in shown]
    return Accuracy(
        categories=rows,
        ready=bool(rows) and all(r.ready for r in rows),
        min_precision=settings.min_precision,
        min_reviewed=settings.min_reviewed,
    )


def measure_store(conn: Connection, settings: ReviewSettings) -> Accuracy:
    """The accuracy from the stored verdicts, over every category with open work (the ones a
    sample can draw) and every category that has verdicts."""
    present = set(
        conn.execute(
            select(work_item.c.category)
            .where(work_item.c.status == ItemStatus.OPEN.value)
            .distinct()
        ).scalars()
    )
    closed = conn.execute(
        select(chart.c.encounter).where(chart.c.state == ChartState.CLOSED.value).limit(1)
    ).first()
    if closed is not None:
        present.add(NONE)
    return measure(stored_verdicts(conn), present, settings)


def accuracy_rows(accuracy: Accuracy) -> list[dict[str, Any]]:
    """One plain row per category (the JSON output, the Prefect artifact's table)."""
    rows = []
    for c in accuracy.categories:
        row = asdict(c)
        for name in ("wrong_rules", "wrong_fields", "wrong_evidence"):
            row[name] = [{"name": n, "wrong": k} for n, k in row[name]]
        rows.append(row)
    return rows


def accuracy_json(accuracy: Accuracy) -> dict[str, Any]:
    """The whole measure as JSON-ready data."""
    return {
        "ready": accuracy.ready,
        "min_precision": accuracy.min_precision,
        "min_reviewed": accuracy.min_reviewed,
        "confidence": accuracy.confidence,
        "categories": accuracy_rows(accuracy),
    }


def _missed(v: StoredVerdict) -> str | None:
    """The category of a blocker this verdict says chartroute did not find, if any."""
    if v.verdict == Verdict.MISSING:
        return v.category
    if v.verdict == Verdict.WRONG and v.correct_category not in (None, "", NONE, v.category):
        return v.correct_category
    return None


def _rule(v: StoredVerdict) -> str:
    """The rule behind a blocker: its category, finer where the category has several rules."""
    if v.category == NONE:
        return f"closed, but {v.correct_category}"
    return stuck_reason(v.category, v.subject)


def _field(v: StoredVerdict) -> str | None:
    if v.category != Category.DOCUMENTATION_GAP:
        return None
    return "forms" if v.subject.startswith("form:") else v.subject


def _evidence_types(v: StoredVerdict) -> set[str]:
    """The resource types a wrong row's evidence names (each counted once per row)."""
    return {m.group(1) for word in v.evidence.split() if (m := _RESOURCE_KEY.match(word))}


def _top(names: Iterable[str]) -> list[tuple[str, int]]:
    counted = Counter(names)
    return sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_WRONG]
