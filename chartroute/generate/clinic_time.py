"""Local clinic time: business hours, evenings and how instants are written.

Stories are computed in naive practice-local wall time, because the behaviours being modelled
(clinic hours, evening charting, next business morning) are defined on the wall clock. Only
when a resource is written does a time get its UTC offset, which then follows daylight saving
for that date. Comparisons against ``as_of`` use the same local wall time; the only imprecision
is the repeated hour when clocks fall back, which no clinic event is placed in on purpose.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SECONDS_PER_DAY = 86_400


class ClinicClock:
    """The practice's wall clock: its zone and its opening hours."""

    def __init__(self, tz: ZoneInfo, open_hour: int, close_hour: int) -> None:
        self.tz = tz
        self.open_hour = open_hour
        self.close_hour = close_hour
        self._offsets: dict[tuple[date, int], str] = {}

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """Naive local wall time on ``day``."""
        return datetime.combine(day, time(hour, minute))

    def instant(self, local: datetime) -> str:
        """FHIR instant/dateTime text with the UTC offset in force at that local time.

        Offsets are cached per local hour (daylight saving switches on the hour): formatting
        times is the generator's hottest path, and the cache is bounded by the horizon.
        """
        key = (local.date(), local.hour)
        offset = self._offsets.get(key)
        if offset is None:
            offset = local.replace(tzinfo=self.tz, microsecond=0).isoformat()[19:]
            if len(self._offsets) > 2_048:
                self._offsets.clear()
            self._offsets[key] = offset
        return local.isoformat() + offset

    def to_local(self, moment: datetime) -> datetime:
        """An aware instant as naive local wall time (naive values are taken as local)."""
        if moment.tzinfo is None:
            return moment
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def in_business_hours(self, moment: datetime) -> bool:
        """True on a weekday between opening and closing."""
        return moment.weekday() < 5 and self.open_hour <= moment.hour < self.close_hour

    def next_business_time(self, moment: datetime, rng: random.Random) -> datetime:
        """The first business moment at or after ``moment``.

        Staff work (letters, payer answers, coder queries, form entry) happens in office
        hours: an event computed to fall at night or on a weekend lands the next business
        morning, spread over its first two hours so queues do not all fill at opening time.
        """
        if self.in_business_hours(moment):
            return moment
        day = moment.date()
        if moment.hour >= self.close_hour or moment.weekday() >= 5:
            day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return self.at(day, self.open_hour) + timedelta(seconds=rng.randrange(2 * 3600))

    def business_delay(self, start: datetime, mean_days: float, rng: random.Random) -> datetime:
        """``start`` plus an exponential delay, moved into business hours."""
        return self.next_business_time(start + delay(mean_days, rng), rng)

    def evening(self, day: date, rng: random.Random) -> datetime:
        """A moment on the evening of ``day``, from 90 minutes after closing to 23:30.

        This is after-hours charting ("pajama time"), which the after-hours metric reads.
        """
        first = self.at(day, self.close_hour) + timedelta(minutes=90)
        last = self.at(day, 23, 30)
        span = max(60, int((last - first).total_seconds()))
        return first + timedelta(seconds=rng.randrange(span))


def delay(mean_days: float, rng: random.Random) -> timedelta:
    """An exponential delay with the given mean, whole seconds (FHIR instants carry seconds)."""
    return timedelta(seconds=int(rng.expovariate(1.0 / mean_days) * SECONDS_PER_DAY))
