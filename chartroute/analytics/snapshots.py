"""A day's backlog snapshot: where charts are stuck, and what moved, as rows of figures.

A snapshot is a list of ``(metric, dimension, key, value)`` figures for one practice-local day:

* the backlog at the snapshot's instant: open charts and work items by category, stuck reason,
  role, person and age; the clinicians' own backlog (charts holding at least one clinician item)
  against all open charts; charts the escalation policy has marked delinquent;
* what happened during the day: items and charts opened and closed, escalations, visits,
  charts that needed administrative work, notes signed and how many outside clinic hours,
  charge lag (visit → chart closed) and time to close per category.

``build_snapshot`` is pure: it takes plain records, so a backfill can feed it records it
reconstructed for a past day and get figures defined exactly like the live ones.
``analytics/live_snapshot.py`` reads those records from the store for a live snapshot and
stores the figures. Figures carry identifiers of people and categories only, never patient
data.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from typing import TypeVar
from zoneinfo import ZoneInfo

from chartroute.analytics.metrics import (
    ClosedChart,
    ClosedItem,
    DurationStats,
    SignedNote,
    after_hours_signing,
    charge_lags,
    duration_stats,
    time_to_close,
)
from chartroute.calendar import BusinessCalendar
from chartroute.route import age_days
from chartroute.store.snapshots import Figure

TOTAL = "total"
CLINICIAN_ROLE = "clinician"
UNASSIGNED = "(unassigned)"
UNKNOWN = "(unknown)"

#: Age buckets in whole days since the visit: the 24-48 h closure policies, a week, two
#: weeks, the 30-day deficiency threshold, and beyond.
AGE_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (0, 2, "0-2"),
    (3, 7, "3-7"),
    (8, 14, "8-14"),
    (15, 30, "15-30"),
    (31, None, "31+"),
)
#: Items older than this many days are counted separately in each person's queue.
AGED_AFTER_DAYS = 7


def age_bucket(age: int | None) -> str:
    """The bucket label of an age in days (``(unknown)`` without a visit time)."""
    if age is None:
        return UNKNOWN
    for low, high, label in AGE_BUCKETS:
        if age >= low and (high is None or age <= high):
            return label
    raise ValueError(f"negative age {age}")


def stuck_reason(category: str, subject: str) -> str:
    """A finer reason than the category, for the Pareto: which field, referral or authorization.

    Built from the work item's subject (a field name, or the key of the order or claim), which
    never carries clinical text.
    """
    if category == "awaiting-referral-auth":
        return f"{category}/{'prior-auth' if subject.startswith('Claim/') else 'referral'}"
    if category == "documentation-gap":
        return f"{category}/{'form' if subject.startswith('form:') else subject}"
    return category


@dataclass(frozen=True, slots=True)
class BacklogItem:
    """An open work item as the snapshot counts it (the backlog at the snapshot's instant)."""

    id: str
    encounter: str
    category: str
    subject: str
    role: str
    assignee: str | None
    visit_at: datetime | None
    delinquent: bool = False


@dataclass(frozen=True, slots=True)
class Transition:
    """A work item's audit event during the day (opened, reopened, closed, reassigned)."""

    work_item_id: str
    encounter: str
    category: str
    role: str
    event: str
    at: datetime
    assignee: str | None
    #: For a staff item's opening: the earliest opening of any staff item of its chart (its
    #: own ``at`` when not given).
    first_staff_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EscalationSent:
    """An escalation step sent during the day, as the snapshot counts it."""

    work_item_id: str
    category: str
    kind: str  # escalated | repeated | delinquent


@dataclass(frozen=True, slots=True)
class DayChart:
    """A chart visited, first opened or closed during the day."""

    encounter: str
    state: str
    clinician: str | None
    visit_at: datetime | None
    first_open_at: datetime | None
    closed_at: datetime | None


@dataclass
class SnapshotInputs:
    """Everything a day's snapshot is computed from (plain records, no database).

    The records that grow with the practice (the open backlog; on a first sync, every chart
    opened) are iterables read once, so the live snapshot streams them from the store rather
    than holding them: ``open_items`` and ``transitions`` arrive grouped by encounter (a list
    is sorted first), ``charts`` and ``closed_items`` in any order.
    """

    day: date
    as_of: datetime
    start: datetime  # the day's first instant (practice-local midnight, aware)
    end: datetime  # the next day's first instant
    open_items: Iterable[BacklogItem] = field(default_factory=list)
    transitions: Iterable[Transition] = field(default_factory=list)
    closed_items: Iterable[ClosedItem] = field(default_factory=list)
    charts: Iterable[DayChart] = field(default_factory=list)
    notes: list[SignedNote] = field(default_factory=list)
    escalations: list[EscalationSent] = field(default_factory=list)
    #: The as-of instant of the first sync: charts complete before it were never seen open.
    observed_since: datetime | None = None

    def during(self, at: datetime | None) -> bool:
        return at is not None and self.start <= at < self.end


@dataclass
class Snapshot:
    """A day's figures."""

    day: date
    as_of: datetime
    values: list[Figure]

    def get(self, metric: str, dimension: str = TOTAL, key: str = "") -> float | None:
        """One figure, or None when the snapshot does not have it."""
        for v in self.values:
            if v.metric == metric and v.dimension == dimension and v.key == key:
                return v.value
        return None

    def breakdown(self, metric: str, dimension: str) -> dict[str, float]:
        """Every key of one metric's dimension."""
        return {
            v.key: v.value for v in self.values if v.metric == metric and v.dimension == dimension
        }


class _Figures:
    """Collects figures, with zero totals kept (a 0 is a measurement; a missing row is not)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], float] = {}

    def total(self, metric: str, value: float) -> None:
        self.rows[(metric, TOTAL, "")] = float(value)

    def by(self, metric: str, dimension: str, counts: Mapping[str, float]) -> None:
        for key, value in counts.items():
            if value:
                self.rows[(metric, dimension, key)] = float(value)

    def stats(self, metric: str, dimension: str, key: str, stats: DurationStats) -> None:
        self.rows[(f"{metric}.count", dimension, key)] = float(stats.count)
        self.rows[(f"{metric}.sum", dimension, key)] = stats.total
        if stats.median is not None and stats.p90 is not None:
            self.rows[(f"{metric}.median", dimension, key)] = stats.median
            self.rows[(f"{metric}.p90", dimension, key)] = stats.p90

    def values(self) -> list[Figure]:
        return sorted(Figure(m, d, k, v) for (m, d, k), v in self.rows.items())


#: Figures describing the backlog at the snapshot's instant; they cannot be recomputed later.
#: Every other figure counts what happened during the day, from recorded times, and can be.
BACKLOG_METRICS = frozenset(
    {
        "open_items",
        "open_items_aged",
        "open_charts",
        "clinician_backlog_charts",
        "staff_only_charts",
        "delinquent_charts",
    }
)


def build_snapshot(inputs: SnapshotInputs, calendar: BusinessCalendar) -> Snapshot:
    """Compute a day's figures from its records."""
    out = _Figures()
    _backlog(inputs, out)
    _day_figures(inputs, calendar, out)
    return Snapshot(inputs.day, inputs.as_of, out.values())


def build_day_figures(inputs: SnapshotInputs, calendar: BusinessCalendar) -> list[Figure]:
    """Only the figures of what happened during the day (``inputs.open_items`` is unused)."""
    out = _Figures()
    _day_figures(inputs, calendar, out)
    return out.values()


def _day_figures(inputs: SnapshotInputs, calendar: BusinessCalendar, out: _Figures) -> None:
    _movement(inputs, out)
    closed_charts = _day_charts(inputs, out)
    _closing_times(inputs, closed_charts, out)
    signing = after_hours_signing(inputs.notes, calendar)
    out.total("notes_signed", signing.signed)
    out.by("notes_signed", "clinician", signing.signed_by_clinician)
    out.total("notes_signed_after_hours", signing.after_hours)
    out.by("notes_signed_after_hours", "clinician", signing.after_hours_by_clinician)


T = TypeVar("T", BacklogItem, Transition)


def _by_encounter(records: Iterable[T]) -> Iterator[list[T]]:
    """Each encounter's records together: a stream comes grouped, a list is sorted here."""
    key: Callable[[T], str] = lambda r: r.encounter  # noqa: E731
    if isinstance(records, list | tuple):
        records = sorted(records, key=key)
    return (list(group) for _enc, group in groupby(records, key=key))


def _backlog(inputs: SnapshotInputs, out: _Figures) -> None:
    """The backlog as it stands at the snapshot's instant, one chart's items at a time."""
    items, charts = _Tally(), _Tally()
    for its in _by_encounter(inputs.open_items):
        ages = [age_days(i.visit_at, inputs.as_of) for i in its]
        for i, age in zip(its, ages, strict=True):
            who = i.assignee or UNASSIGNED
            items.count("total", "")
            items.count("category", i.category)
            items.count("reason", stuck_reason(i.category, i.subject))
            items.count("role", i.role)
            items.count("person", who)
            items.count("age", age_bucket(age))
            if (age or 0) > AGED_AFTER_DAYS:
                items.count("aged", who)
        categories = {i.category for i in its}
        charts.count("total", "")
        charts.update("category", categories)
        charts.count("age", age_bucket(_oldest(ages)))
        mine = {i.assignee or UNASSIGNED for i in its if i.role == CLINICIAN_ROLE}
        if mine:
            charts.count("clinician", "")
            charts.update("clinician_person", mine)
        if any(i.delinquent for i in its):
            charts.count("delinquent", "")
            charts.update("delinquent_category", categories)

    out.total("open_items", items.of("total")[""])
    for dimension in ("category", "reason", "role", "person", "age"):
        out.by("open_items", dimension, items.of(dimension))
    out.by("open_items_aged", "person", items.of("aged"))

    open_charts = charts.of("total")[""]
    out.total("open_charts", open_charts)
    out.by("open_charts", "category", charts.of("category"))
    out.by("open_charts", "age", charts.of("age"))
    out.total("clinician_backlog_charts", charts.of("clinician")[""])
    out.by("clinician_backlog_charts", "person", charts.of("clinician_person"))
    out.total("staff_only_charts", open_charts - charts.of("clinician")[""])
    out.total("delinquent_charts", charts.of("delinquent")[""])
    out.by("delinquent_charts", "category", charts.of("delinquent_category"))


class _Tally:
    """Counters by dimension: what a figure counts, without the records it counted."""

    def __init__(self) -> None:
        self.counters: dict[str, Counter[str]] = defaultdict(Counter)

    def count(self, dimension: str, key: str) -> None:
        self.counters[dimension][key] += 1

    def update(self, dimension: str, keys: Iterable[str]) -> None:
        self.counters[dimension].update(keys)

    def of(self, dimension: str) -> Counter[str]:
        return self.counters[dimension]


def _oldest(ages: Iterable[int | None]) -> int | None:
    known = [a for a in ages if a is not None]
    return max(known) if known else None


def _movement(inputs: SnapshotInputs, out: _Figures) -> None:
    """What opened, closed and escalated during the day."""
    moved = _Tally()
    # Charts whose first administrative (non-clinician) item opened today: before routing,
    # each of these waited on its clinician to chase it. "Unrouted" ones reached no staff
    # member (nobody held the role), so a clinician still had to chase them.
    admin = unrouted = 0
    for transitions in _by_encounter(inputs.transitions):
        is_admin = is_unrouted = False
        for t in transitions:
            if t.event in ("opened", "reopened"):
                moved.count("opened", t.category)
            elif t.event == "closed":
                moved.count("closed", t.category)
            if t.event != "opened" or t.role == CLINICIAN_ROLE:
                continue
            if inputs.during(t.first_staff_at or t.at):
                is_admin = True
                is_unrouted = is_unrouted or t.assignee is None
        admin += is_admin
        unrouted += is_unrouted
    out.total("items_opened", moved.of("opened").total())
    out.by("items_opened", "category", moved.of("opened"))
    out.total("items_closed", moved.of("closed").total())
    out.by("items_closed", "category", moved.of("closed"))

    out.total("escalations", len(inputs.escalations))
    out.by("escalations", "kind", Counter(e.kind for e in inputs.escalations))
    out.by("escalations", "category", Counter(e.category for e in inputs.escalations))
    out.total("admin_charts", admin)
    out.total("admin_charts_unrouted", unrouted)


def _day_charts(inputs: SnapshotInputs, out: _Figures) -> list[ClosedChart]:
    """The day's visits, charts opened and closed; returns the charts closed during the day
    (their charge lags)."""
    visits: Counter[str] = Counter()
    opened = closed = 0
    closed_charts: list[ClosedChart] = []
    for c in inputs.charts:
        if c.state in ("open", "closed") and inputs.during(c.visit_at):
            visits[c.clinician or UNKNOWN] += 1
        opened += inputs.during(c.first_open_at)
        if c.state == "closed" and c.closed_at is not None and inputs.during(c.closed_at):
            closed += c.first_open_at is not None
            closed_charts.append(ClosedChart(c.encounter, c.visit_at, c.first_open_at, c.closed_at))
    out.total("visits", visits.total())
    out.by("visits", "clinician", visits)
    out.total("charts_opened", opened)
    out.total("charts_closed", closed)
    return closed_charts


def _closing_times(inputs: SnapshotInputs, closed_charts: list[ClosedChart], out: _Figures) -> None:
    """Charge lag of the charts closed today; time to close of the items closed today."""
    out.stats(
        "charge_lag_days",
        TOTAL,
        "",
        duration_stats(charge_lags(closed_charts, inputs.observed_since)),
    )
    for category, stats in time_to_close(inputs.closed_items).items():
        out.stats("time_to_close_days", "category", category, stats)


# --- practice-local days -----------------------------------------------------------------


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The first instant of ``day`` and of the next day in the practice's zone, in UTC."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_day(at: datetime, timezone: str) -> date:
    """The practice-local date of an instant."""
    return at.astimezone(ZoneInfo(timezone)).date()


def iter_days(start: date, end: date) -> Iterable[date]:
    """Every day from ``start`` to ``end`` inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)
