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
``snapshot_inputs`` reads those records from the store for a live snapshot. Figures carry
identifiers of people and categories only, never patient data.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, func, or_, select

from chartroute.analytics.metrics import (
    ClosedChart,
    ClosedItem,
    DurationStats,
    SignedNote,
    after_hours_signing,
    charge_lags,
    duration_stats,
    is_signed_clinical_note,
    time_to_close,
)
from chartroute.calendar import BusinessCalendar
from chartroute.config.models import PracticeConfig
from chartroute.fhir.facts import NoteFact, fact_from_json
from chartroute.route import age_days
from chartroute.store.batching import chunks
from chartroute.store.schema import (
    chart,
    escalation_event,
    escalation_state,
    fact,
    sync_run,
    work_item,
    work_item_event,
)
from chartroute.store.snapshots import (
    Figure,
    Origin,
    replace_day_figures,
    snapshot_days,
    write_snapshot,
)

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
class OpenItem:
    """An open work item as the snapshot counts it."""

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


@dataclass(frozen=True, slots=True)
class Escalation:
    """An escalation step sent during the day."""

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
    """Everything a day's snapshot is computed from (plain records, no database)."""

    day: date
    as_of: datetime
    start: datetime  # the day's first instant (practice-local midnight, aware)
    end: datetime  # the next day's first instant
    open_items: list[OpenItem] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    closed_items: list[ClosedItem] = field(default_factory=list)
    charts: list[DayChart] = field(default_factory=list)
    #: For each encounter with a staff item opened during the day: its earliest staff item.
    first_staff_item_at: dict[str, datetime] = field(default_factory=dict)
    notes: list[SignedNote] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
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
    _closing_times(inputs, out)
    signing = after_hours_signing(inputs.notes, calendar)
    out.total("notes_signed", signing.signed)
    out.by("notes_signed", "clinician", signing.signed_by_clinician)
    out.total("notes_signed_after_hours", signing.after_hours)
    out.by("notes_signed_after_hours", "clinician", signing.after_hours_by_clinician)


def _backlog(inputs: SnapshotInputs, out: _Figures) -> None:
    """The backlog as it stands at the snapshot's instant."""
    items = inputs.open_items
    by_chart: dict[str, list[OpenItem]] = defaultdict(list)
    for item in items:
        by_chart[item.encounter].append(item)
    ages = {i.id: age_days(i.visit_at, inputs.as_of) for i in items}

    out.total("open_items", len(items))
    out.by("open_items", "category", Counter(i.category for i in items))
    out.by("open_items", "reason", Counter(stuck_reason(i.category, i.subject) for i in items))
    out.by("open_items", "role", Counter(i.role for i in items))
    out.by("open_items", "person", Counter(i.assignee or UNASSIGNED for i in items))
    out.by("open_items", "age", Counter(age_bucket(ages[i.id]) for i in items))
    out.by(
        "open_items_aged",
        "person",
        Counter(i.assignee or UNASSIGNED for i in items if (ages[i.id] or 0) > AGED_AFTER_DAYS),
    )

    out.total("open_charts", len(by_chart))
    out.by(
        "open_charts",
        "category",
        Counter(c for its in by_chart.values() for c in {i.category for i in its}),
    )
    chart_age = {enc: _oldest(ages[i.id] for i in its) for enc, its in by_chart.items()}
    out.by("open_charts", "age", Counter(age_bucket(a) for a in chart_age.values()))

    clinician_charts = {
        enc: {i.assignee or UNASSIGNED for i in its if i.role == CLINICIAN_ROLE}
        for enc, its in by_chart.items()
    }
    mine = {enc: people for enc, people in clinician_charts.items() if people}
    out.total("clinician_backlog_charts", len(mine))
    out.by("clinician_backlog_charts", "person", Counter(p for ps in mine.values() for p in ps))
    out.total("staff_only_charts", len(by_chart) - len(mine))

    delinquent = {enc for enc, its in by_chart.items() if any(i.delinquent for i in its)}
    out.total("delinquent_charts", len(delinquent))
    out.by(
        "delinquent_charts",
        "category",
        Counter(c for enc in delinquent for c in {i.category for i in by_chart[enc]}),
    )


def _oldest(ages: Iterable[int | None]) -> int | None:
    known = [a for a in ages if a is not None]
    return max(known) if known else None


def _movement(inputs: SnapshotInputs, out: _Figures) -> None:
    """What opened, closed and escalated during the day, and the day's visits."""
    opened = [t for t in inputs.transitions if t.event in ("opened", "reopened")]
    closed = [t for t in inputs.transitions if t.event == "closed"]
    out.total("items_opened", len(opened))
    out.by("items_opened", "category", Counter(t.category for t in opened))
    out.total("items_closed", len(closed))
    out.by("items_closed", "category", Counter(t.category for t in closed))

    out.total("escalations", len(inputs.escalations))
    out.by("escalations", "kind", Counter(e.kind for e in inputs.escalations))
    out.by("escalations", "category", Counter(e.category for e in inputs.escalations))

    live = [c for c in inputs.charts if c.state in ("open", "closed")]
    visits = [c for c in live if inputs.during(c.visit_at)]
    out.total("visits", len(visits))
    out.by("visits", "clinician", Counter(c.clinician or UNKNOWN for c in visits))
    out.total("charts_opened", sum(1 for c in inputs.charts if inputs.during(c.first_open_at)))
    out.total(
        "charts_closed",
        sum(
            1
            for c in inputs.charts
            if c.state == "closed" and c.first_open_at is not None and inputs.during(c.closed_at)
        ),
    )

    # Charts whose first administrative (non-clinician) item opened today: before routing,
    # each of these waited on its clinician to chase it. "Unrouted" ones reached no staff
    # member (nobody held the role), so a clinician still had to chase them.
    staff_opened = [t for t in opened if t.event == "opened" and t.role != CLINICIAN_ROLE]
    admin: set[str] = set()
    unrouted: set[str] = set()
    for t in staff_opened:
        first = inputs.first_staff_item_at.get(t.encounter, t.at)
        if not inputs.during(first):
            continue
        admin.add(t.encounter)
        if t.assignee is None:
            unrouted.add(t.encounter)
    out.total("admin_charts", len(admin))
    out.total("admin_charts_unrouted", len(unrouted))


def _closing_times(inputs: SnapshotInputs, out: _Figures) -> None:
    """Charge lag of the charts closed today; time to close of the items closed today."""
    closed_charts = [
        ClosedChart(c.encounter, c.visit_at, c.first_open_at, c.closed_at)
        for c in inputs.charts
        if c.state == "closed" and c.closed_at is not None and inputs.during(c.closed_at)
    ]
    out.stats(
        "charge_lag_days",
        TOTAL,
        "",
        duration_stats(charge_lags(closed_charts, inputs.observed_since)),
    )
    for category, stats in time_to_close(inputs.closed_items).items():
        out.stats("time_to_close_days", "category", category, stats)


# --- reading the records from the store ---------------------------------------------------


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The first instant of ``day`` and of the next day in the practice's zone, in UTC."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_day(at: datetime, timezone: str) -> date:
    """The practice-local date of an instant."""
    return at.astimezone(ZoneInfo(timezone)).date()


NOTE_TYPES = ("DocumentReference", "Composition")


def snapshot_inputs(
    conn: Connection, day: date, as_of: datetime, timezone: str, *, backlog: bool = True
) -> SnapshotInputs:
    """Read a live snapshot's records: the open backlog now, and the day's movements.

    ``backlog=False`` skips the open items, for re-counting a past day's movements.
    """
    start, end = day_bounds(day, timezone)
    inputs = SnapshotInputs(day=day, as_of=as_of, start=start, end=end)
    if backlog:
        inputs.open_items = _open_items(conn)
    _day_transitions(conn, inputs)
    inputs.charts = [
        DayChart(r.encounter, r.state, r.clinician, r.visit_at, r.first_open_at, r.closed_at)
        for r in conn.execute(
            select(
                chart.c.encounter,
                chart.c.state,
                chart.c.clinician,
                chart.c.visit_at,
                chart.c.first_open_at,
                chart.c.closed_at,
            ).where(
                or_(
                    and_(chart.c.visit_at >= start, chart.c.visit_at < end),
                    and_(chart.c.first_open_at >= start, chart.c.first_open_at < end),
                    and_(chart.c.closed_at >= start, chart.c.closed_at < end),
                )
            )
        )
    ]
    inputs.escalations = [
        Escalation(r.work_item_id, r.category or UNKNOWN, r.kind)
        for r in conn.execute(
            select(escalation_event.c.work_item_id, escalation_event.c.kind, work_item.c.category)
            .select_from(
                escalation_event.outerjoin(
                    work_item, work_item.c.id == escalation_event.c.work_item_id
                )
            )
            .where(escalation_event.c.at >= start, escalation_event.c.at < end)
        )
    ]
    inputs.notes = _notes_signed(conn, start, end)
    inputs.observed_since = conn.execute(select(func.min(sync_run.c.as_of))).scalar_one_or_none()
    return inputs


def _open_items(conn: Connection) -> list[OpenItem]:
    rows = conn.execute(
        select(
            work_item.c.id,
            work_item.c.encounter,
            work_item.c.category,
            work_item.c.subject,
            work_item.c.role,
            work_item.c.assignee,
            work_item.c.visit_at,
            escalation_state.c.delinquent,
        )
        .select_from(
            work_item.outerjoin(escalation_state, escalation_state.c.work_item_id == work_item.c.id)
        )
        .where(work_item.c.status == "open")
    )
    return [
        OpenItem(
            r.id,
            r.encounter,
            r.category,
            r.subject,
            r.role,
            r.assignee,
            r.visit_at,
            bool(r.delinquent),
        )
        for r in rows
    ]


def _day_transitions(conn: Connection, inputs: SnapshotInputs) -> None:
    rows = conn.execute(
        select(
            work_item_event.c.work_item_id,
            work_item_event.c.event,
            work_item_event.c.at,
            work_item_event.c.assignee,
            work_item.c.encounter,
            work_item.c.category,
            work_item.c.role,
            work_item.c.visit_at,
            work_item.c.opened_at,
        )
        .select_from(
            work_item_event.join(work_item, work_item.c.id == work_item_event.c.work_item_id)
        )
        .where(work_item_event.c.at >= inputs.start, work_item_event.c.at < inputs.end)
        .order_by(work_item_event.c.at, work_item_event.c.id)
    ).all()
    staff_encounters: set[str] = set()
    for r in rows:
        inputs.transitions.append(
            Transition(r.work_item_id, r.encounter, r.category, r.role, r.event, r.at, r.assignee)
        )
        if r.event == "closed":
            inputs.closed_items.append(ClosedItem(r.category, r.visit_at, r.opened_at, r.at))
        if r.event == "opened" and r.role != CLINICIAN_ROLE:
            staff_encounters.add(r.encounter)
    for part in chunks(sorted(staff_encounters)):
        for enc, first in conn.execute(
            select(work_item.c.encounter, func.min(work_item.c.opened_at))
            .where(work_item.c.encounter.in_(part), work_item.c.role != CLINICIAN_ROLE)
            .group_by(work_item.c.encounter)
        ):
            inputs.first_staff_item_at[enc] = _utc(first)


def _notes_signed(conn: Connection, start: datetime, end: datetime) -> list[SignedNote]:
    """Clinical notes signed during the day, with the rendering clinician of their chart.

    A note's last update is at or after its signing, so notes last updated before the day
    began cannot have been signed during it: the scan reads only recently updated notes.
    """
    notes: list[NoteFact] = []
    rows = conn.execute(
        select(fact.c.body).where(
            fact.c.resource_type.in_(NOTE_TYPES),
            or_(fact.c.updated_at >= start, fact.c.updated_at.is_(None)),
        )
    )
    for r in rows:
        note = fact_from_json(r.body)
        if (
            isinstance(note, NoteFact)
            and note.signed_at is not None
            and start <= note.signed_at < end
            and is_signed_clinical_note(note)
        ):
            notes.append(note)
    encounters = sorted({n.encounters[0] for n in notes if n.encounters})
    clinician: dict[str, str | None] = {}
    for part in chunks(encounters):
        for r in conn.execute(
            select(chart.c.encounter, chart.c.clinician).where(chart.c.encounter.in_(part))
        ):
            clinician[r.encounter] = r.clinician
    return [
        SignedNote(
            n.key,
            _utc(n.signed_at),
            clinician.get(n.encounters[0]) if n.encounters else None,
        )
        for n in sorted(notes, key=lambda n: n.key)
        if n.signed_at is not None
    ]


def _utc(at: datetime) -> datetime:
    """Aware UTC (SQL aggregates bypass the column type and may return naive values)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


#: Earlier snapshot days whose movements are re-counted: a note signed at 23:00 is often read
#: by the next morning's sync, after its day's last snapshot (a Friday's, after the weekend).
REFRESH_DAYS = 2
REFRESH_WITHIN_DAYS = 7


def _days_to_refresh(conn: Connection, day: date, origin: Origin, count: int) -> list[date]:
    """The last ``count`` days before ``day`` (within a week) with a snapshot of ``origin``."""
    earliest = day - timedelta(days=REFRESH_WITHIN_DAYS)
    earlier = [d for d, o in snapshot_days(conn) if o == origin and earliest <= d < day]
    return earlier[-count:] if count > 0 else []


def record_snapshot(
    engine: Engine,
    config: PracticeConfig,
    as_of: datetime,
    *,
    day: date | None = None,
    origin: Origin = "live",
    run_id: str | None = None,
    refresh_days: int = REFRESH_DAYS,
) -> Snapshot:
    """Compute the snapshot of ``day`` (default: the local day of ``as_of``) and store it.

    The last ``refresh_days`` earlier days with a snapshot of the same origin (within a week)
    get their movement figures re-counted (their backlog figures stay as observed), so late data
    lands on the day it happened. Reads and writes share one transaction, so the figures
    describe one consistent state and a retry replaces them whole.
    """
    timezone = config.practice.timezone
    day = day or local_day(as_of, timezone)
    calendar = BusinessCalendar(timezone, config.practice.calendar)
    taken_at = datetime.now(UTC)
    with engine.begin() as conn:
        snapshot = build_snapshot(snapshot_inputs(conn, day, as_of, timezone), calendar)
        write_snapshot(conn, day, origin, as_of, snapshot.values, taken_at, run_id)
        for earlier in _days_to_refresh(conn, day, origin, refresh_days):
            inputs = snapshot_inputs(conn, earlier, as_of, timezone, backlog=False)
            figures = build_day_figures(inputs, calendar)
            replace_day_figures(conn, earlier, origin, BACKLOG_METRICS, figures)
    return snapshot


def iter_days(start: date, end: date) -> Iterable[date]:
    """Every day from ``start`` to ``end`` inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)
