"""Schedules derived from the practice file, so the deployments follow the clinic — served by
``chartroute serve`` or written into ``prefect.yaml`` by ``chartroute deployments render``.

Syncs run every 15 minutes while the clinic is open: one cron schedule per group of weekdays
that share opening hours, in the practice's own timezone (Prefect then keeps the clinic's wall
clock across daylight-saving changes). Holidays are not expressible in cron; a sync on a
holiday finds little to do and costs little. Escalation sweeps run hourly all day, because
delinquency counts calendar time; their notices still wait for clinic hours on channels that
keep quiet hours. The report is rendered daily at 06:30, before the clinic opens.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from chartroute.calendar import WEEKDAYS, ClinicCalendar, parse_hours

SYNC_EVERY_MINUTES = 15
SWEEP_CRON = "5 * * * *"  # hourly, off the quarter hours the sync takes
REPORT_CRON = "30 6 * * *"  # daily, before the clinic opens
_CRON_DOW = {day: str((i + 1) % 7) for i, day in enumerate(WEEKDAYS)}  # cron: sun = 0


def clinic_hours_crons(calendar: ClinicCalendar, every: int = SYNC_EVERY_MINUTES) -> list[str]:
    """Cron expressions that fire every ``every`` minutes within each day's opening hours.

    A run is scheduled in every hour the clinic is open for any part of, up to the last
    start before closing: ``08:30-17:00`` gives ``*/15 8-16``.
    """
    groups: dict[tuple[int, int], list[str]] = defaultdict(list)
    for day in WEEKDAYS:
        text = calendar.hours.get(day)
        if text is None:
            continue
        opens, closes = parse_hours(text)
        last = 23 if closes is None else (closes.hour if closes.minute else closes.hour - 1)
        groups[(opens.hour, max(opens.hour, last))].append(_CRON_DOW[day])
    return [
        f"*/{every} {first}-{last} * * {','.join(sorted(days, key=int))}"
        for (first, last), days in sorted(groups.items())
    ]


#: When a deployment runs: every quarter hour the clinic is open, hourly, daily, or only by hand.
ScheduleKind = Literal["clinic-hours", "hourly", "daily", "none"]


@dataclass(frozen=True)
class Schedule:
    """A cron schedule in a timezone: what ``prefect.yaml`` writes and ``serve`` registers."""

    cron: str
    timezone: str


def schedules_for(kind: ScheduleKind, timezone: str, calendar: ClinicCalendar) -> list[Schedule]:
    """The schedules of one kind, in the practice's timezone; ``none`` for an ad hoc deployment."""
    if kind == "clinic-hours":
        crons = clinic_hours_crons(calendar)
    elif kind == "hourly":
        crons = [SWEEP_CRON]
    elif kind == "daily":
        crons = [REPORT_CRON]
    else:
        crons = []
    return [Schedule(cron, timezone) for cron in crons]
