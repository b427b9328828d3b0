"""A live snapshot: read a day's records from the store, compute its figures, store them.

The figures themselves are defined in ``analytics/snapshots.py`` from plain records; this
module is the SQL that gathers those records for one practice-local day (the open backlog now,
and what moved during the day) and the transaction that writes the result.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Row, Select, and_, case, func, or_, select

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
from chartroute.store.key_sets import key_in
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
#: How long before a day began a note signed during it may have been stored, by our clock.
STORED_MARGIN = timedelta(days=1)


def snapshot_inputs(
    conn: Connection, day: date, as_of: datetime, timezone: str, *, backlog: bool = True
) -> SnapshotInputs:
    """Read a live snapshot's records: the open backlog now, and the day's movements.

    ``backlog=False`` skips the open items, for re-counting a past day's movements. The open
    items, the day's transitions, closings and charts are streamed: each query runs when its
    records are first read, on ``conn``, so they are read before the connection closes. At a
    large practice they are hundreds of thousands of rows on a first sync, and the figures
    need only their counts.
    """
    start, end = day_bounds(day, timezone)
    inputs = SnapshotInputs(day=day, as_of=as_of, start=start, end=end)
    if backlog:
        inputs.open_items = _open_items(conn)
    inputs.transitions = _day_transitions(conn, start, end)
    inputs.closed_items = _closed_items(conn, start, end)
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
) -> Iterator[DayChart]:
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
    rows = _stream(
        conn,
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
        ),
    )
    for r in rows:
        yield DayChart(r.encounter, r.state, r.clinician, r.visit_at, r.first_open_at, r.closed_at)


def _stream(conn: Connection, stmt: Select[Any]) -> Iterator[Row[Any]]:
    """The rows of ``stmt`` a batch at a time (a server-side cursor on PostgreSQL), run when
    the first row is asked for."""
    yield from conn.execute(stmt, execution_options={"yield_per": STREAM_ROWS})


#: Rows fetched at a time from a streamed query.
STREAM_ROWS = 2000


def _open_items(conn: Connection) -> Iterator[BacklogItem]:
    """The open items, grouped by encounter (``_backlog`` counts one chart at a time)."""
    rows = _stream(
        conn,
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
        .order_by(work_item.c.encounter, work_item.c.id),
    )
    for r in rows:
        yield BacklogItem(
            r.id,
            r.encounter,
            r.category,
            r.subject,
            r.role,
            r.assignee,
            r.visit_at,
            bool(r.delinquent),
        )


def _day_transitions(conn: Connection, start: datetime, end: datetime) -> Iterator[Transition]:
    """The day's work-item events, grouped by encounter; a staff item's opening carries the
    earliest opening of a staff item of its chart, looked up by ``work_item``'s encounter
    index."""
    staff = work_item.alias("staff")
    first_staff = (
        select(func.min(staff.c.opened_at))
        .where(staff.c.encounter == work_item.c.encounter, staff.c.role != CLINICIAN_ROLE)
        .scalar_subquery()
    )
    event = work_item_event.c
    rows = _stream(
        conn,
        select(
            event.work_item_id,
            event.event,
            event.at,
            event.assignee,
            work_item.c.encounter,
            work_item.c.category,
            work_item.c.role,
            case(
                (and_(event.event == "opened", work_item.c.role != CLINICIAN_ROLE), first_staff)
            ).label("first_staff_at"),
        )
        .select_from(work_item_event.join(work_item, work_item.c.id == event.work_item_id))
        .where(event.at >= start, event.at < end)
        .order_by(work_item.c.encounter, event.at, event.id),
    )
    for r in rows:
        first = _utc(r.first_staff_at) if r.first_staff_at is not None else None
        yield Transition(
            r.work_item_id, r.encounter, r.category, r.role, r.event, r.at, r.assignee, first
        )


def _closed_items(conn: Connection, start: datetime, end: datetime) -> Iterator[ClosedItem]:
    """The items closed during the day, with when their blocker began (time to close)."""
    event = work_item_event.c
    rows = _stream(
        conn,
        select(work_item.c.category, work_item.c.visit_at, work_item.c.opened_at, event.at)
        .select_from(work_item_event.join(work_item, work_item.c.id == event.work_item_id))
        .where(event.at >= start, event.at < end, event.event == "closed"),
    )
    for r in rows:
        yield ClosedItem(r.category, r.visit_at, r.opened_at, r.at)


def _notes_signed(conn: Connection, start: datetime, end: datetime) -> list[SignedNote]:
    """Clinical notes signed during the day, with the rendering clinician of their chart.

    A note's last update is at or after its signing, so notes last updated before the day
    began cannot have been signed during it: the scan reads only recently updated notes. Nor
    can a note stored before the day began (its stored version carries the signature), so the
    scan starts from the facts stored since, by ``ix_fact_synced_at``: a day's few hundred
    notes, not every note of the store (2.3 s of a 1M-encounter practice's next-day sync). A
    day of margin covers an EHR clock ahead of ours.
    """
    notes: list[NoteFact] = []
    for row in conn.execute(notes_changed_since(start)):
        note = fact_from_json(row.body)
        if (
            isinstance(note, NoteFact)
            and note.signed_at is not None
            and start <= note.signed_at < end
            and is_signed_clinical_note(note)
        ):
            notes.append(note)
    encounters = sorted({n.encounters[0] for n in notes if n.encounters})
    found = conn.execute(
        select(chart.c.encounter, chart.c.clinician).where(
            key_in(conn, chart.c.encounter, encounters)
        )
    )
    clinician: dict[str, str | None] = {r.encounter: r.clinician for r in found}
    return [
        SignedNote(
            n.key,
            _utc(n.signed_at),
            clinician.get(n.encounters[0]) if n.encounters else None,
        )
        for n in sorted(notes, key=lambda n: n.key)
        if n.signed_at is not None
    ]


def notes_changed_since(start: datetime) -> Select[bytes]:
    """The bodies of the note facts that may have been signed at or after ``start``."""
    return select(fact.c.body).where(
        fact.c.synced_at >= start - STORED_MARGIN,
        fact.c.resource_type.in_(NOTE_TYPES),
        or_(fact.c.updated_at >= start, fact.c.updated_at.is_(None)),
    )


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
