"""The practice's business calendar: when the clinic is open, in its own timezone.

Messages to people wait for opening hours (quiet hours), and escalation clocks count business
time, so both read the same weekly hours and holidays. Hours are local wall-clock times; the
arithmetic is done on aware datetimes in the clinic's zone so daylight-saving changes fall
where the clinic's clocks put them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
#: How far ahead ``next_open`` looks before deciding the clinic never opens.
_HORIZON_DAYS = 400


def parse_hours(text: str) -> tuple[time, time | None]:
    """``"08:00-17:30"`` → (08:00, 17:30); a close of ``24:00`` is returned as None (midnight)."""
    match = _HOURS.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not opening hours like '08:00-17:00'")
    opens = time(int(match[1]), int(match[2]))
    if match[3] == "24":
        if match[4] != "00":
            raise ValueError(f"{text!r}: closing time after 24:00")
        return opens, None
    closes = time(int(match[3]), int(match[4]))
    if closes <= opens:
        raise ValueError(f"{text!r}: the clinic must close after it opens (same day)")
    return opens, closes


def _default_hours() -> dict[Weekday, str]:
    return {day: "08:00-17:00" for day in WEEKDAYS[:5]}


class ClinicCalendar(BaseModel):
    """Opening hours per weekday and the days the clinic is closed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hours: dict[Weekday, str] = Field(
        default_factory=_default_hours,
        description='Local opening hours per weekday, e.g. mon: "08:00-17:00"; a day left out '
        "is closed. Default: Monday to Friday, 08:00-17:00.",
    )
    holidays: list[date] = Field(
        default_factory=list, description="Days the clinic is closed although the weekday is open."
    )

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: dict[Weekday, str]) -> dict[Weekday, str]:
        if not value:
            raise ValueError("the clinic must be open on at least one weekday")
        for day, text in value.items():
            try:
                parse_hours(text)
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
        return value


class BusinessCalendar:
    """Answers "is the clinic open?" and "when does it next open?" for aware instants."""

    def __init__(self, timezone: str, calendar: ClinicCalendar | None = None) -> None:
        self.tz = ZoneInfo(timezone)
        calendar = calendar or ClinicCalendar()
        self.holidays = frozenset(calendar.holidays)
        self._hours: dict[int, tuple[time, time | None]] = {
            WEEKDAYS.index(day): parse_hours(text) for day, text in calendar.hours.items()
        }

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        """The opening and closing instants of ``day`` (local), or None when closed all day."""
        if day in self.holidays:
            return None
        hours = self._hours.get(day.weekday())
        if hours is None:
            return None
        opens, closes = hours
        start = datetime.combine(day, opens, tzinfo=self.tz)
        if closes is None:
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
        else:
            end = datetime.combine(day, closes, tzinfo=self.tz)
        return start, end

    def is_open(self, at: datetime) -> bool:
        """True while the clinic is open at the aware instant ``at``."""
        local = _aware(at).astimezone(self.tz)
        window = self._window(local.date())
        return window is not None and window[0] <= local < window[1]

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself while open, else the next opening instant (in UTC)."""
        local = _aware(at).astimezone(self.tz)
        day = local.date()
        for _ in range(_HORIZON_DAYS):
            window = self._window(day)
            if window is not None:
                start, end = window
                if local < end:
                    return max(start, local).astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError(
            f"the clinic does not open within {_HORIZON_DAYS} days of {at.isoformat()}"
        )

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two instants (zero when ``end`` is not after ``start``)."""
        start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            window = self._window(day)
            if window is not None:
                lo = max(window[0].astimezone(UTC), start)
                hi = min(window[1].astimezone(UTC), end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime given to the business calendar")
    return at
