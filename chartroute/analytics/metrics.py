"""The durations and rates management asks about: time to close, charge lag, after-hours signing.

Pure functions over small records, so the same arithmetic serves a live snapshot, a snapshot a
backfill reconstructs for a past day, the report's window figures and the tests' hand-computed
values. Durations are in days (fractional): charge lag is talked about in days, and a work
item's time to close spans nights and weekends like the chart it holds open.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from chartroute.calendar import BusinessCalendar
from chartroute.classify import (
    REFERRAL_NOTE,
    SIGNED_COMPOSITION_STATUSES,
    SIGNED_DOC_STATUSES,
)
from chartroute.fhir.facts import NoteFact

SECONDS_PER_DAY = 86_400.0


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile with linear interpolation between order statistics.

    The same definition as a spreadsheet's PERCENTILE.INC (Hyndman & Fan type 7), so a
    practice manager can check a figure by hand.
    """
    if not values:
        raise ValueError("quantile of no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} is outside [0, 1]")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Count, sum, median and 90th percentile of durations in days.

    ``count`` and ``total`` add up across days, so a window's mean can be rebuilt from daily
    snapshots exactly; the median and p90 describe one day (or one window computed directly).
    """

    count: int
    total: float
    median: float | None
    p90: float | None

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


def duration_stats(values: Sequence[float]) -> DurationStats:
    """Summarise durations; an empty input has a count of 0 and no median."""
    if not values:
        return DurationStats(0, 0.0, None, None)
    return DurationStats(
        len(values), math.fsum(values), quantile(values, 0.5), quantile(values, 0.9)
    )


def days_between(start: datetime, end: datetime) -> float:
    """Elapsed days from ``start`` to ``end`` (never negative)."""
    return max(0.0, (end - start).total_seconds() / SECONDS_PER_DAY)


@dataclass(frozen=True, slots=True)
class ClosedItem:
    """One closing of a work item: its category, when its blocker began, when it closed.

    ``visit_at`` is the visit the blocker holds open; ``opened_at`` (when chartroute first saw
    the blocker) stands in when the visit time is unknown.
    """

    category: str
    visit_at: datetime | None
    opened_at: datetime
    closed_at: datetime


def time_to_close(items: Iterable[ClosedItem]) -> dict[str, DurationStats]:
    """Days from the visit to the item's close, per category.

    Measured from the visit rather than from when chartroute first saw the blocker, so the
    figure does not shrink for charts that were already stuck when chartroute was installed.
    """
    by_category: dict[str, list[float]] = defaultdict(list)
    for item in items:
        start = item.visit_at or item.opened_at
        by_category[item.category].append(days_between(start, item.closed_at))
    return {category: duration_stats(v) for category, v in sorted(by_category.items())}


@dataclass(frozen=True, slots=True)
class ClosedChart:
    """A chart that closed: its visit, whether chartroute ever saw it open, when it closed."""

    encounter: str
    visit_at: datetime | None
    first_open_at: datetime | None
    closed_at: datetime


def charge_lags(charts: Iterable[ClosedChart], observed_since: datetime | None) -> list[float]:
    """Days from the visit to the chart's close (the earliest a claim can go out).

    A chart that was already complete the first time chartroute read it, from a visit before
    the first sync (``observed_since``), closed at some unknown time before that sync: its lag
    was not observed and is left out rather than counted as "closed at the first sync". A
    chart without a visit time has no lag.
    """
    lags: list[float] = []
    for c in charts:
        if c.visit_at is None:
            continue
        unobserved = c.first_open_at is None and (
            observed_since is None or c.visit_at < observed_since
        )
        if unobserved:
            continue
        lags.append(days_between(c.visit_at, c.closed_at))
    return lags


def is_signed_clinical_note(note: NoteFact) -> bool:
    """A note that signs a chart: final/amended (or no docStatus), not a referral letter.

    The same reading of a note as the unsigned-note rule in ``chartroute.classify``; its
    ``signed_at`` is the signing time the EHR recorded (DocumentReference.date, or a
    Composition's attester time).
    """
    if REFERRAL_NOTE in note.type_codings:
        return False
    if note.is_composition:
        return note.status in SIGNED_COMPOSITION_STATUSES
    if note.status != "current":
        return False
    return note.doc_status is None or note.doc_status in SIGNED_DOC_STATUSES


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A signed note: when, and the roster id of the chart's rendering clinician (if known)."""

    key: str
    signed_at: datetime
    clinician: str | None


@dataclass(frozen=True, slots=True)
class AfterHoursCounts:
    """Notes signed, and how many of them outside clinic hours, in total and per clinician."""

    signed: int
    after_hours: int
    signed_by_clinician: dict[str, int]
    after_hours_by_clinician: dict[str, int]

    @property
    def share(self) -> float | None:
        return self.after_hours / self.signed if self.signed else None


UNKNOWN = "(unknown)"


def after_hours_signing(
    notes: Iterable[SignedNote], calendar: BusinessCalendar
) -> AfterHoursCounts:
    """Count notes signed while the clinic was closed (evenings, weekends, holidays).

    "Clinic hours" are the practice calendar's opening hours in its own timezone, the same
    definition that holds messages in quiet hours, so the two never disagree.
    """
    signed = after = 0
    by_clinician: dict[str, int] = defaultdict(int)
    after_by_clinician: dict[str, int] = defaultdict(int)
    for note in notes:
        who = note.clinician or UNKNOWN
        signed += 1
        by_clinician[who] += 1
        if not calendar.is_open(note.signed_at):
            after += 1
            after_by_clinician[who] += 1
    return AfterHoursCounts(
        signed, after, dict(sorted(by_clinician.items())), dict(sorted(after_by_clinician.items()))
    )
