"""What the management report shows, gathered from the store for a range of days.

Trends come from the stored daily snapshots (one per day, live preferred over reconstructed);
the current breakdowns (aging, stuck reasons, per-person queues) from the last snapshot in the
range; time to close and charge lag over the whole range are computed from the closings
themselves, because medians of daily medians are not medians. Everything here is identifiers,
categories and counts: there is no patient data in the store's work item tables to leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, and_, func, select

from chartroute.analytics.metrics import (
    ClosedChart,
    ClosedItem,
    DurationStats,
    charge_lags,
    duration_stats,
    time_to_close,
)
from chartroute.analytics.snapshots import TOTAL, day_bounds, iter_days, local_day
from chartroute.config.models import PracticeConfig
from chartroute.mode import current_mode
from chartroute.review.accuracy import Accuracy, measure_store
from chartroute.store.schema import (
    backlog_snapshot,
    chart,
    sync_run,
    work_item,
    work_item_event,
)
from chartroute.store.snapshots import StoredDay, read_snapshots

#: Days shown when the caller gives no range.
DEFAULT_DAYS = 30

#: The (metric, dimension) pairs a backfill reconstructs (``chartroute/backfill/history.py``):
#: the backlog as it stood at each day's end. Everything else — the day's movements, signing,
#: charge lag, escalations, delinquency, per-person queues — is measured by live syncs only, so
#: on a ``reconstructed`` day it is unknown: neither zero nor "nothing open".
RECONSTRUCTED: frozenset[tuple[str, str]] = frozenset(
    {
        ("open_items", TOTAL),
        ("open_items", "category"),
        ("open_items", "role"),
        ("open_items", "age"),
        ("open_items", "reason"),
        ("open_charts", TOTAL),
        ("open_charts", "category"),
        ("open_charts", "age"),
        ("clinician_backlog_charts", TOTAL),
        ("clinician_backlog_charts", "person"),
        ("staff_only_charts", TOTAL),
    }
)


def measures(stored: StoredDay, metric: str, dimension: str = TOTAL) -> bool:
    """Whether a stored day's snapshot measured ``metric`` by ``dimension`` at all."""
    return stored.origin != "reconstructed" or (metric, dimension) in RECONSTRUCTED


@dataclass(frozen=True)
class Headline:
    """One headline number: what it is, its value as shown, and how to read it."""

    key: str  # stable id, used by the artifact table and tests
    label: str
    value: str
    detail: str


@dataclass
class ReportData:
    """Everything the HTML page and the Prefect artifacts are rendered from."""

    practice: str
    timezone: str
    currency: str
    start: date
    end: date
    generated_at: datetime
    days: list[date]
    stored: dict[date, StoredDay]
    time_to_close: dict[str, DurationStats]
    charge_lag: DurationStats
    headlines: list[Headline] = field(default_factory=list)
    mode: str = ""  # shadow: nobody was notified of what the report shows
    accuracy: Accuracy | None = None  # the classification review's measure

    @property
    def latest(self) -> StoredDay | None:
        return self.stored[max(self.stored)] if self.stored else None

    def series(
        self, metric: str, dimension: str = TOTAL, key: str = "", absent: float | None = 0.0
    ) -> list[float | None]:
        """One figure per day of the range; None for a day without a snapshot.

        A day whose snapshot lacks the figure gets ``absent``: 0 for counts (snapshots keep
        only non-zero breakdowns), None for a statistic such as a median of nothing. A day
        whose snapshot could not measure it (a backfilled day's movements) gets None, a gap.
        """
        out: list[float | None] = []
        for day in self.days:
            stored = self.stored.get(day)
            if stored is None or not measures(stored, metric, dimension):
                out.append(None)
            else:
                value = stored.get(metric, dimension, key)
                out.append(absent if value is None else value)
        return out

    def keys(self, metric: str, dimension: str) -> list[str]:
        """Every key a metric's dimension takes anywhere in the range, sorted."""
        found = {
            k
            for stored in self.stored.values()
            for (m, d, k) in stored.figures
            if m == metric and d == dimension
        }
        return sorted(found)

    def window_total(self, metric: str) -> float | None:
        """The metric summed over the days that measured it; None when none did."""
        days = [s for s in self.stored.values() if measures(s, metric)]
        return sum(s.get(metric) or 0.0 for s in days) if days else None

    def not_measured(self, metric: str, what: str, dimension: str = TOTAL) -> str | None:
        """Why no day of the range shows ``what`` (None when a day does): said once, by the
        section, instead of drawing zeros or empty axes."""
        if not self.stored:
            return f"No snapshots from {self.start} to {self.end}."
        if any(measures(s, metric, dimension) for s in self.stored.values()):
            return None
        return (
            f"Not known for these days: the {len(self.stored)} days with a snapshot from "
            f"{self.start} to {self.end} were reconstructed by a backfill, which rebuilds each "
            f"day's backlog but not {what}. Live syncs measure it from the day they start."
        )

    def latest_breakdown(
        self, metric: str, dimension: str, what: str
    ) -> tuple[dict[str, float], str | None]:
        """The last day's ``metric`` by ``dimension``, and why it is empty when it is."""
        latest = self.latest
        if latest is None:
            return {}, f"No snapshots from {self.start} to {self.end}."
        if not measures(latest, metric, dimension):
            return {}, (
                f"Not known for {latest.day}: its snapshot was reconstructed by a backfill, "
                f"which rebuilds the day's backlog but not {what}."
            )
        values = latest.breakdown(metric, dimension)
        if values:
            return values, None
        if latest.get(metric):
            return {}, f"The snapshot of {latest.day} holds no breakdown of {what}."
        return {}, f"Nothing open on {latest.day}."

    @property
    def origins(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for stored in self.stored.values():
            counts[stored.origin] = counts.get(stored.origin, 0) + 1
        return counts


def report_range(
    conn: Connection, timezone: str, start: date | None, end: date | None, now: datetime
) -> tuple[date, date]:
    """The days to report: as given, else up to ``DEFAULT_DAYS`` ending at the newest snapshot."""
    if end is None:
        newest = conn.execute(select(func.max(backlog_snapshot.c.day))).scalar_one_or_none()
        end = newest or local_day(now, timezone)
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
        oldest = conn.execute(
            select(func.min(backlog_snapshot.c.day)).where(backlog_snapshot.c.day >= start)
        ).scalar_one_or_none()
        start = oldest or start  # no blank weeks before the first snapshot
    if start > end:
        raise ValueError(f"--from {start} is after --to {end}")
    return start, end


def build_report_data(
    conn: Connection,
    config: PracticeConfig,
    start: date | None = None,
    end: date | None = None,
    now: datetime | None = None,
) -> ReportData:
    """Gather the report for ``start``..``end`` (practice-local days, inclusive)."""
    now = now or datetime.now(UTC)
    timezone = config.practice.timezone
    start, end = report_range(conn, timezone, start, end, now)
    first, _ = day_bounds(start, timezone)
    _, last = day_bounds(end, timezone)
    stored = {s.day: s for s in read_snapshots(conn, start, end)}
    data = ReportData(
        practice=config.practice.name,
        timezone=timezone,
        currency=config.billing.currency,
        start=start,
        end=end,
        generated_at=now,
        days=list(iter_days(start, end)),
        stored=stored,
        time_to_close=time_to_close(closed_items_between(conn, first, last)),
        charge_lag=duration_stats(charge_lags_between(conn, first, last)),
        mode=str(current_mode(conn, config)),
        accuracy=measure_store(conn, config.review),
    )
    data.headlines = headlines(data)
    return data


def closed_items_between(conn: Connection, start: datetime, end: datetime) -> list[ClosedItem]:
    """Every closing of a work item in ``[start, end)``."""
    rows = conn.execute(
        select(
            work_item.c.category, work_item.c.visit_at, work_item.c.opened_at, work_item_event.c.at
        )
        .select_from(
            work_item_event.join(work_item, work_item.c.id == work_item_event.c.work_item_id)
        )
        .where(
            work_item_event.c.event == "closed",
            work_item_event.c.at >= start,
            work_item_event.c.at < end,
        )
    )
    return [ClosedItem(r.category, r.visit_at, r.opened_at, r.at) for r in rows]


def charge_lags_between(conn: Connection, start: datetime, end: datetime) -> list[float]:
    """Charge lag (days) of every chart closed in ``[start, end)``."""
    observed_since = conn.execute(select(func.min(sync_run.c.as_of))).scalar_one_or_none()
    rows = conn.execute(
        select(chart.c.encounter, chart.c.visit_at, chart.c.first_open_at, chart.c.closed_at).where(
            and_(chart.c.state == "closed", chart.c.closed_at >= start, chart.c.closed_at < end)
        )
    )
    closed = [ClosedChart(r.encounter, r.visit_at, r.first_open_at, r.closed_at) for r in rows]
    return charge_lags(closed, observed_since)


def _count(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _days(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} days"


def headlines(data: ReportData) -> list[Headline]:
    """The numbers a practice manager reads first, with the trend over the range."""
    latest = data.latest
    earliest = data.stored[min(data.stored)] if data.stored else None
    open_now = latest.get("open_charts") if latest else None
    open_then = earliest.get("open_charts") if earliest else None
    trend = ""
    if open_now is not None and open_then is not None and earliest is not latest:
        change = open_now - open_then
        word = "down" if change < 0 else "up" if change > 0 else "unchanged"
        trend = f"{word} {abs(change):,.0f} since {earliest.day if earliest else ''}"
    mine = latest.get("clinician_backlog_charts") if latest else None
    share = f"{mine / open_now:.0%} of open charts" if mine is not None and open_now else ""
    signed = data.window_total("notes_signed")
    after = data.window_total("notes_signed_after_hours") or 0.0
    opened = data.window_total("items_opened")
    closed = data.window_total("items_closed")
    escalated = data.window_total("escalations")
    as_of = f"on {latest.day}" if latest else "no snapshot in range"
    live_only = "counted by live syncs only" if data.stored else "no snapshot in range"
    return [
        Headline("open_charts", "Open charts", _count(open_now), trend or as_of),
        Headline(
            "clinician_backlog",
            "Clinicians' own backlog",
            _count(mine),
            share or "charts with at least one clinician item",
        ),
        Headline(
            "delinquent_charts",
            "Delinquent charts",
            _count(latest.get("delinquent_charts") if latest else None),
            "marked by the escalation policy",
        ),
        Headline(
            "escalations",
            "Escalations",
            _count(escalated),
            f"{data.start} to {data.end}" if escalated is not None else live_only,
        ),
        Headline(
            "items_closed",
            "Work items closed",
            _count(closed),
            f"{opened or 0.0:,.0f} opened in the same days" if closed is not None else live_only,
        ),
        Headline(
            "charge_lag_median",
            "Median charge lag",
            _days(data.charge_lag.median),
            f"visit to chart closed; p90 {_days(data.charge_lag.p90)} "
            f"({data.charge_lag.count:,} charts)",
        ),
        Headline(
            "after_hours_share",
            "Notes signed after hours",
            f"{after / signed:.0%}" if signed else "n/a",
            f"{after:,.0f} of {signed:,.0f} signed notes" if signed is not None else live_only,
        ),
    ]
