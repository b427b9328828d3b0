"""Turn charts into per-day backlog figures over a backfill's days.

Each chart is classified as of the end of a day only on the days when something about it
changed (``asof.change_points``); between those days its blockers are carried forward. The
figures are kept as difference arrays over the day range, so a chart open for a year costs a
handful of additions, not 365.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from chartroute.analytics.snapshots import (
    AGE_BUCKETS,
    CLINICIAN_ROLE,
    TOTAL,
    UNASSIGNED,
    day_bounds,
    local_day,
    stuck_reason,
)
from chartroute.backfill.asof import change_points, open_blockers_at
from chartroute.charts import ChartFacts
from chartroute.classify import Blocker, rendering_clinician
from chartroute.config.models import PracticeConfig
from chartroute.fhir.resolve import npi_key
from chartroute.route import role_for
from chartroute.store.snapshots import Figure

FigureKey = tuple[str, str, str]  # (metric, dimension, key)


def day_end(day: date, timezone: str) -> datetime:
    """The last instant of a practice-local day, in UTC: the as-of time of its snapshot."""
    return day_bounds(day, timezone)[1] - timedelta(microseconds=1)


@dataclass
class DayFigures:
    """Counts per (metric, dimension, key) for each day of ``[first, first + days)``."""

    first: date
    days: int
    diffs: dict[FigureKey, list[int]] = field(default_factory=dict)

    def add(self, key: FigureKey, start: int, stop: int) -> None:
        """Count one for ``key`` on day indexes ``[start, stop)``."""
        start, stop = max(start, 0), min(stop, self.days)
        if start >= stop:
            return
        diff = self.diffs.get(key)
        if diff is None:
            diff = self.diffs[key] = [0] * (self.days + 1)
        diff[start] += 1
        diff[stop] -= 1

    def series(self) -> dict[FigureKey, list[int]]:
        """The daily counts of every key (prefix sums of the differences)."""
        out: dict[FigureKey, list[int]] = {}
        for key, diff in self.diffs.items():
            running, values = 0, []
            for step in diff[: self.days]:
                running += step
                values.append(running)
            out[key] = values
        return out

    def merge_series(self, key: FigureKey, values: list[int]) -> None:
        """Add stored daily counts back in (summing partitions)."""
        diff = self.diffs.get(key)
        if diff is None:
            diff = self.diffs[key] = [0] * (self.days + 1)
        previous = 0
        for index, value in enumerate(values[: self.days]):
            diff[index] += value - previous
            previous = value
        diff[min(len(values), self.days)] -= previous

    def figures(self, index: int) -> list[Figure]:
        """The figures of one day, leaving out zero counts."""
        out = []
        for (metric, dimension, key), values in sorted(self.series().items()):
            if values[index]:
                out.append(Figure(metric, dimension, key, float(values[index])))
        return out


class HistoryBuilder:
    """Accumulates the reconstructed backlog of many charts over one range of days."""

    def __init__(self, config: PracticeConfig, first: date, last: date) -> None:
        self.config = config
        self.timezone = config.practice.timezone
        self.figures = DayFigures(first, (last - first).days + 1)
        self.ends = [
            day_end(first + timedelta(days=i), self.timezone) for i in range(self.figures.days)
        ]
        self.people = _people_by_practitioner(config)
        self.charts = 0
        self.open_item_days = 0

    def add_chart(self, chart: ChartFacts) -> None:
        """Add one chart's open blockers on every day of the range."""
        start = chart.encounter.start_at
        if start is None:
            return
        first = bisect.bisect_left(self.ends, start)
        if first >= len(self.ends):
            return
        self.charts += 1
        evaluate = {first}
        for moment in change_points(chart):
            index = bisect.bisect_left(self.ends, moment)
            if first < index < len(self.ends):
                evaluate.add(index)
        marks = sorted(evaluate)
        visit = chart.encounter.end_at or start
        visit_day = local_day(visit, self.timezone)
        person = self._person(chart)
        for position, index in enumerate(marks):
            stop = marks[position + 1] if position + 1 < len(marks) else len(self.ends)
            blockers = open_blockers_at(chart, self.config, self.ends[index])
            if blockers:
                self._count(blockers, index, stop, visit_day, person)

    def _count(
        self,
        blockers: list[Blocker],
        start: int,
        stop: int,
        visit_day: date,
        person: str,
    ) -> None:
        add = self.figures.add
        routing = self.config.routing
        categories = {b.category for b in blockers}
        roles = [role_for(routing, b.category, b.subject) for b in blockers]
        self.open_item_days += len(blockers) * (stop - start)
        for blocker, role in zip(blockers, roles, strict=True):
            add(("open_items", TOTAL, ""), start, stop)
            add(("open_items", "category", blocker.category), start, stop)
            add(("open_items", "role", role), start, stop)
            add(
                ("open_items", "reason", stuck_reason(blocker.category, blocker.subject)),
                start,
                stop,
            )
        add(("open_charts", TOTAL, ""), start, stop)
        for category in categories:
            add(("open_charts", "category", category), start, stop)
        if CLINICIAN_ROLE in roles:
            add(("clinician_backlog_charts", TOTAL, ""), start, stop)
            add(("clinician_backlog_charts", "person", person), start, stop)
        else:
            add(("staff_only_charts", TOTAL, ""), start, stop)
        # Ages: whole days since the visit's local day, bucketed as the live snapshots are.
        offset = (self.figures.first - visit_day).days
        for low, high, label in AGE_BUCKETS:
            lo = low - offset
            hi = (high - offset + 1) if high is not None else stop
            a, b = max(start, lo), min(stop, hi)
            if a < b:
                for _ in blockers:
                    add(("open_items", "age", label), a, b)
                add(("open_charts", "age", label), a, b)

    def _person(self, chart: ChartFacts) -> str:
        practitioner = rendering_clinician(chart.encounter)
        if practitioner is None:
            return UNASSIGNED
        for key in (practitioner, *chart.clinician_keys.get(practitioner, ())):
            if key in self.people:  # by the resolved key, else by role or NPI, as routing does
                return self.people[key]
        return UNASSIGNED

    def add_charts(self, charts: Iterable[ChartFacts]) -> None:
        for chart in charts:
            self.add_chart(chart)


def _people_by_practitioner(config: PracticeConfig) -> dict[str, str]:
    """Roster person id by practitioner reference, with and without the ``Practitioner/``, and
    by the identifier key of each NPI."""
    out: dict[str, str] = {}
    for person in config.roster:
        if person.npi:
            out.setdefault(npi_key(person.npi), person.id)
        if person.practitioner:
            bare = person.practitioner.removeprefix("Practitioner/")
            out[f"Practitioner/{bare}"] = person.id
            out[bare] = person.id
    return out
