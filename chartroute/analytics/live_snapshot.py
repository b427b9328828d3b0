"""A live snapshot: read a day's records from the store, compute its figures, store them.

The figures themselves are defined in ``analytics/snapshots.py`` from plain records; this
module is the SQL that gathers those records for one practice-local day (the open backlog now,
and what moved during the day) and the transaction that writes the result.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, or_, select

from chartroute.analytics.metrics import ClosedItem, SignedNote, is_signed_clinical_note
from chartroute.analytics.snapshots import (
    BACKLOG_METRICS,
    CLINICIAN_ROLE,
    UNKNOWN,
    BacklogItem,
    DayChart,
    EscalationSent,
    Snapshot,
    SnapshotInputs,
    Transition,
    build_day_figures,
    build_snapshot,
    day_bounds,
    local_day,
)
from chartroute.calendar import BusinessCalendar
from chartroute.config.models import PracticeConfig
from chartroute.fhir.facts import NoteFact, fact_from_json
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
from chartroute.store.snapshots import Origin, replace_day_figures, snapshot_days, write_snapshot

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
    inputs.observed_since = conn.execute(select(func.min(sync_run.c.as_of))).scalar_one_or_none()
    inputs.charts = _day_charts(conn, start, end, inputs.observed_since)
    inputs.escalations = [
        EscalationSent(r.work_item_id, r.category or UNKNOWN, r.kind)
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
    return inputs


def _day_charts(
    conn: Connection, start: datetime, end: datetime, observed_since: datetime | None
) -> list[DayChart]:
    """The charts a day's figures count: visited or first opened during the day, or closed
    during it with a charge lag that was observed (``charge_lags``) or a first opening.

    A chart closed during the day that was never seen open, from a visit before the first
    sync, counts in no figure; leaving it out in SQL keeps the read in proportion to the day
    (a first sync closes nearly every chart of the practice at once).
    """
    during = {
        column: and_(column >= start, column < end)
        for column in (chart.c.visit_at, chart.c.first_open_at, chart.c.closed_at)
    }
    counted_close: list[ColumnElement[bool]] = [chart.c.first_open_at.is_not(None)]
    if observed_since is not None:
        counted_close.append(chart.c.visit_at >= observed_since)
    rows = conn.execute(
        select(
            chart.c.encounter,
            chart.c.state,
            chart.c.clinician,
            chart.c.visit_at,
            chart.c.first_open_at,
            chart.c.closed_at,
        ).where(
            or_(
                during[chart.c.visit_at],
                during[chart.c.first_open_at],
                and_(during[chart.c.closed_at], chart.c.state == "closed", or_(*counted_close)),
            )
        )
    )
    return [
        DayChart(r.encounter, r.state, r.clinician, r.visit_at, r.first_open_at, r.closed_at)
        for r in rows
    ]


def _open_items(conn: Connection) -> list[BacklogItem]:
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
        BacklogItem(
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
