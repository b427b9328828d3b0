"""A day's figures counted one chart at a time from streamed records equal those counted from
whole lists, as the snapshot did before it streamed (issue 19: at a million charts the lists
were the sync's largest allocation at its end).

The reference below is the list-based computation as it stood, verbatim but for taking its
records from ``_Lists``; Hypothesis draws the records, and the streamed version gets them both
as shuffled lists and as iterators grouped by encounter, as the store streams them.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.analytics.metrics import (
    ClosedChart,
    ClosedItem,
    charge_lags,
    duration_stats,
    time_to_close,
)
from chartroute.analytics.snapshots import (
    AGED_AFTER_DAYS,
    CLINICIAN_ROLE,
    TOTAL,
    UNASSIGNED,
    UNKNOWN,
    BacklogItem,
    DayChart,
    EscalationSent,
    SnapshotInputs,
    Transition,
    _backlog,
    _day_figures,
    _Figures,
    age_bucket,
    stuck_reason,
)
from chartroute.calendar import BusinessCalendar
from chartroute.route import age_days
from chartroute.store.snapshots import Figure

START = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
END = START + timedelta(days=1)
AS_OF = START + timedelta(hours=17)
CALENDAR = BusinessCalendar("America/New_York", None)


@dataclass
class _Lists:
    """The inputs as they were: whole lists, and the first staff item per encounter apart."""

    as_of: datetime
    open_items: list[BacklogItem]
    transitions: list[Transition]
    closed_items: list[ClosedItem]
    charts: list[DayChart]
    first_staff_item_at: dict[str, datetime]
    escalations: list[EscalationSent] = field(default_factory=list)
    observed_since: datetime | None = None

    def during(self, at: datetime | None) -> bool:
        return at is not None and START <= at < END


def _reference(inputs: _Lists) -> list[Figure]:
    out = _Figures()
    _backlog_before(inputs, out)
    _movement_before(inputs, out)
    _closing_times_before(inputs, out)
    return out.values()


def _backlog_before(inputs: _Lists, out: _Figures) -> None:
    items = inputs.open_items
    by_chart: dict[str, list[BacklogItem]] = defaultdict(list)
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


def _movement_before(inputs: _Lists, out: _Figures) -> None:
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


def _closing_times_before(inputs: _Lists, out: _Figures) -> None:
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


# --- drawing records ----------------------------------------------------------------------

_ENCOUNTERS = st.sampled_from([f"Encounter/e{i}" for i in range(6)])
_CATEGORIES = st.sampled_from(["unsigned-note", "coding-query", "awaiting-referral-auth"])
_ROLES = st.sampled_from([CLINICIAN_ROLE, "ma", "biller"])
_PEOPLE = st.sampled_from([None, "", "dr-a", "dr-b", "ma-1"])
_SUBJECTS = st.sampled_from(["Claim/c1", "ServiceRequest/s1", "form:x", "signature"])
_HOURS = st.integers(min_value=-24 * 45, max_value=48)
_WHEN = _HOURS.map(lambda h: START + timedelta(hours=h))
_MAYBE = st.none() | _WHEN


@st.composite
def _lists(draw: st.DrawFn) -> _Lists:
    items = [
        BacklogItem(
            f"W{n}",
            draw(_ENCOUNTERS),
            draw(_CATEGORIES),
            draw(_SUBJECTS),
            draw(_ROLES),
            draw(_PEOPLE),
            draw(_MAYBE),
            draw(st.booleans()),
        )
        for n in range(draw(st.integers(0, 25)))
    ]
    events = st.sampled_from(["opened", "reopened", "closed", "reassigned"])
    transitions = [
        Transition(
            f"W{n}",
            draw(_ENCOUNTERS),
            draw(_CATEGORIES),
            draw(_ROLES),
            draw(events),
            draw(_WHEN),
            draw(_PEOPLE),
        )
        for n in range(draw(st.integers(0, 25)))
    ]
    first = {t.encounter: draw(_WHEN) for t in transitions if draw(st.booleans())}
    states = st.sampled_from(["open", "closed", "not-chart", "future"])
    charts = [
        DayChart(
            f"Encounter/c{n}",
            draw(states),
            draw(_PEOPLE),
            draw(_MAYBE),
            draw(_MAYBE),
            draw(_MAYBE),
        )
        for n in range(draw(st.integers(0, 20)))
    ]
    closed = [
        ClosedItem(draw(_CATEGORIES), draw(_MAYBE), draw(_WHEN), draw(_WHEN))
        for _ in range(draw(st.integers(0, 10)))
    ]
    escalations = [EscalationSent(f"W{n}", "coding-query", "escalated") for n in range(2)]
    return _Lists(AS_OF, items, transitions, closed, charts, first, escalations, draw(_MAYBE))


def _streamed(lists: _Lists, *, as_streams: bool, seed: int) -> list[Figure]:
    """The figures as the snapshot now counts them, from lists in any order or from
    iterators grouped by encounter, the first staff item carried by each opening."""
    transitions = [
        replace(t, first_staff_at=lists.first_staff_item_at.get(t.encounter))
        if t.event == "opened"
        else t
        for t in lists.transitions
    ]
    items = list(lists.open_items)
    rng = random.Random(seed)
    rng.shuffle(items)
    rng.shuffle(transitions)
    inputs = SnapshotInputs(day=date(2026, 3, 10), as_of=AS_OF, start=START, end=END)
    if as_streams:
        inputs.open_items = iter(sorted(items, key=lambda i: i.encounter))
        inputs.transitions = iter(sorted(transitions, key=lambda t: t.encounter))
        inputs.charts = iter(lists.charts)
        inputs.closed_items = iter(lists.closed_items)
    else:
        inputs.open_items, inputs.transitions = items, transitions
        inputs.charts, inputs.closed_items = list(lists.charts), list(lists.closed_items)
    inputs.escalations = lists.escalations
    inputs.observed_since = lists.observed_since
    out = _Figures()
    _backlog(inputs, out)
    _day_figures(inputs, CALENDAR, out)
    notes = {"notes_signed", "notes_signed_after_hours"}
    return [f for f in out.values() if f.metric not in notes]


@settings(max_examples=300, deadline=None)
@given(lists=_lists(), seed=st.integers(0, 2**16))
def test_streamed_figures_equal_the_list_based_ones(lists: _Lists, seed: int) -> None:
    expected = _reference(lists)
    assert _streamed(lists, as_streams=False, seed=seed) == expected
    assert _streamed(lists, as_streams=True, seed=seed) == expected
