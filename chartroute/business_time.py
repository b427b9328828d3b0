"""Business-time arithmetic on the practice's calendar: "two business days after this instant".

``chartroute.calendar`` answers whether the clinic is open and how much open time lies between
two instants; escalation thresholds need the inverse — the instant at which a given amount of
business time has passed — and a count of repeat intervals. Four units cover what an ops lead
writes in a policy:

- ``business hours``: open time only, walked across closed nights, weekends and holidays;
- ``business days``: the same point of the open day (its offset from opening), that many open
  days later, so "1 business day" after Friday 10:00 is Monday 10:00, and after a day of short
  hours it is clipped at that day's close;
- ``days`` and ``hours``: plain calendar time; ``days`` keep the local wall-clock time across a
  daylight-saving change, ``hours`` are elapsed hours.

Every instant in and out is an aware datetime; results are in UTC. Opening hours are local
wall-clock times, so the windows of a daylight-saving day are as long as the clinic's clocks say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from chartroute.calendar import BusinessCalendar, ClinicCalendar

Unit = Literal["business hours", "business days", "days", "hours"]
_ALIASES: dict[str, Unit] = {
    "business hour": "business hours",
    "business hours": "business hours",
    "bh": "business hours",
    "business day": "business days",
    "business days": "business days",
    "bd": "business days",
    "day": "days",
    "days": "days",
    "d": "days",
    "hour": "hours",
    "hours": "hours",
    "h": "hours",
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z ]+?)\s*$")
#: How far the arithmetic walks before deciding the clinic never opens.
HORIZON_DAYS = 800
#: Results remembered per clock: a sweep asks the same question for every item a sync opened
#: at the same instant.
_CACHE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class Duration:
    """An amount of business or calendar time, written like ``"2 business days"``."""

    amount: float
    unit: Unit

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValueError("a duration must be more than zero")
        if self.unit in ("business days", "days") and self.amount != int(self.amount):
            raise ValueError(f"{self.unit} must be a whole number")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read ``"16 business hours"``, ``"2 business days"``, ``"30 days"``, ``"4 hours"``."""
        match = _DURATION.match(text.lower())
        unit = _ALIASES.get(" ".join(match[2].split())) if match else None
        if match is None or unit is None:
            raise ValueError(
                f"{text!r} is not a duration like '16 business hours', '2 business days', "
                "'30 days' or '4 hours'"
            )
        return cls(float(match[1]), unit)

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount} {self.unit}"


class BusinessClock:
    """Adds and counts business time on one practice calendar (windows cached per day)."""

    def __init__(self, timezone: str, calendar: ClinicCalendar | None = None) -> None:
        self.calendar = BusinessCalendar(timezone, calendar or ClinicCalendar())
        self.tz = self.calendar.tz
        self._windows: dict[date, tuple[datetime, datetime] | None] = {}
        self._next_open: dict[date, date] = {}
        self._sums: dict[tuple[datetime, Duration, int], datetime] = {}

    def local_date(self, at: datetime) -> date:
        """The clinic's calendar day at the instant ``at``."""
        return _aware(at).astimezone(self.tz).date()

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's opening and closing instants in UTC, or None when closed all day."""
        if day in self._windows:
            return self._windows[day]
        local = self.calendar.window(day)
        result = None if local is None else (local[0].astimezone(UTC), local[1].astimezone(UTC))
        self._windows[day] = result
        return result

    def is_open(self, at: datetime) -> bool:
        return self.calendar.is_open(at)

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two instants (zero when ``end`` is not after ``start``)."""
        return self.calendar.business_time_between(start, end)

    def add(self, start: datetime, duration: Duration, times: int = 1) -> datetime:
        """The instant ``times`` durations after ``start`` (``start`` itself for zero)."""
        start = _aware(start).astimezone(UTC)
        if times < 0:
            raise ValueError("cannot add a negative number of durations")
        if times == 0:
            return start
        key = (start, duration, times)
        known = self._sums.get(key)
        if known is None:
            if len(self._sums) >= _CACHE_LIMIT:
                self._sums.clear()
            known = self._sums[key] = self._add(start, duration, times)
        return known

    def _add(self, start: datetime, duration: Duration, times: int) -> datetime:
        if duration.unit == "hours":
            return start + timedelta(hours=duration.amount * times)
        if duration.unit == "days":
            local = start.astimezone(self.tz) + timedelta(days=int(duration.amount) * times)
            return local.astimezone(UTC)
        if duration.unit == "business hours":
            return self._add_open_time(start, timedelta(hours=duration.amount * times))
        return self._add_open_days(start, int(duration.amount) * times)

    def count(self, start: datetime, end: datetime, duration: Duration) -> int:
        """How many whole ``duration``s fit from ``start`` to ``end``: the largest k ≥ 0 with
        ``add(start, duration, k) <= end``."""
        start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
        if end <= start:
            return 0
        if duration.unit == "business hours":
            return self.business_time_between(start, end) // timedelta(hours=duration.amount)
        if duration.unit == "hours":
            return (end - start) // timedelta(hours=duration.amount)
        low, high = 0, 1
        while self.add(start, duration, high) <= end:
            low, high = high, high * 2
        while high - low > 1:  # add(low) <= end < add(high)
            middle = (low + high) // 2
            if self.add(start, duration, middle) <= end:
                low = middle
            else:
                high = middle
        return low

    def _add_open_time(self, start: datetime, amount: timedelta) -> datetime:
        """Walk the open windows from ``start`` until ``amount`` of open time has passed."""
        remaining = amount
        day = self.local_date(start)
        for _ in range(HORIZON_DAYS):
            window = self.window(day)
            day += timedelta(days=1)
            if window is None or window[1] <= start:
                continue
            begin = max(start, window[0])
            available = window[1] - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise ValueError(f"the clinic does not open within {HORIZON_DAYS} days of {start}")

    def _add_open_days(self, start: datetime, days: int) -> datetime:
        """The same offset into the open day, ``days`` open days later (clipped at close)."""
        day, offset = self._position(start)
        for _ in range(days):
            day = self._next_open_day(day)
        window = self.window(day)
        assert window is not None
        return min(window[0] + offset, window[1])

    def _position(self, at: datetime) -> tuple[date, timedelta]:
        """The open day ``at`` falls in (or the next one) and how far into it ``at`` is."""
        day = self.local_date(at)
        window = self.window(day)
        if window is not None and at < window[1]:
            return day, max(timedelta(0), at - window[0])
        return self._next_open_day(day), timedelta(0)

    def _next_open_day(self, day: date) -> date:
        known = self._next_open.get(day)
        if known is not None:
            return known
        following = day
        for _ in range(HORIZON_DAYS):
            following += timedelta(days=1)
            if self.window(following) is not None:
                self._next_open[day] = following
                return following
        raise ValueError(f"the clinic does not open within {HORIZON_DAYS} days of {day}")


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime given to the business clock")
    return at
