"""The practice's business calendar: when the clinic is open, in its own timezone.

Messages to people wait for opening hours (quiet hours), and escalation clocks count business
time, so both read the same weekly hours and holidays. Hours are local wall-clock times; the
arithmetic is done on aware datetimes in the clinic's zone so daylight-saving changes fall
where the clinic's clocks put them.

Closed days are the country's (and state's) public holidays from the ``holidays`` package,
minus the ones the practice works, plus its own closures::

    calendar:
      holidays:
        country: US          # ISO 3166 code, as the holidays package knows it
        subdivision: NY      # optional: a state, province or region of that country
        open_on: [2026-10-12]         # public holidays the clinic works
        closures: [2026-12-24]        # the practice's own closed days

A plain list of dates (``holidays: [2026-12-24, ...]``), the older form, still means the
practice's own closures and no public holidays.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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


class Holidays(BaseModel):
    """The days the clinic is closed although the weekday is open."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str | None = Field(
        None,
        description="Close on this country's public holidays, from the holidays package: an "
        "ISO 3166 code such as US, CA or GB. Holidays that fall on a weekend are observed as "
        "the package says (Independence Day on a Saturday closes the Friday before).",
    )
    subdivision: str | None = Field(
        None,
        description="A state, province or region of the country (e.g. NY, ON), adding its own "
        "public holidays. Needs country.",
    )
    open_on: list[date] = Field(
        default_factory=list, description="Public holidays on which the clinic opens anyway."
    )
    closures: list[date] = Field(
        default_factory=list,
        description="The practice's own closed days (a staff day, the day after Thanksgiving).",
    )

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        known = _supported_countries()
        canonical = value.strip().upper()
        if canonical not in known:
            raise ValueError(
                f"{value!r} is not a country the holidays package knows: use an ISO 3166 "
                "code such as US, CA or GB"
            )
        return canonical

    @field_validator("subdivision")
    @classmethod
    def _known_subdivision(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        country = info.data.get("country")
        if country is None:
            if "country" in info.data:
                raise ValueError("a subdivision needs a country")
            return value  # the country itself was wrong, and is reported on its own
        subdivisions = _supported_countries()[country]
        for known in subdivisions:
            if known.upper() == value.strip().upper():
                return known
        listed = ", ".join(subdivisions) if subdivisions else "none"
        raise ValueError(f"{value!r} is not a subdivision of {country} (known: {listed})")


def _supported_countries() -> dict[str, list[str]]:
    import holidays  # imported when a practice file names a country, not at every start

    return holidays.list_supported_countries()


class ClinicCalendar(BaseModel):
    """Opening hours per weekday and the days the clinic is closed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hours: dict[Weekday, str] = Field(
        default_factory=_default_hours,
        description='Local opening hours per weekday, e.g. mon: "08:00-17:00"; a day left out '
        "is closed. Default: Monday to Friday, 08:00-17:00.",
    )
    holidays: Holidays = Field(
        default_factory=Holidays,
        description="Closed days: {country, subdivision} for public holidays, open_on for "
        "those the clinic works, closures for its own. A list of dates means closures only.",
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

    @field_validator("holidays", mode="before")
    @classmethod
    def _dates_are_closures(cls, value: Any) -> Any:
        """The older form, a list of dates, is the practice's own closures."""
        return {"closures": value} if isinstance(value, list | tuple) else value


class ClosedDays:
    """Whether the clinic is closed on a day its weekday is open, public holidays per year."""

    def __init__(self, holidays: Holidays) -> None:
        self._holidays = holidays
        self._closures = frozenset(holidays.closures)
        self._open_on = frozenset(holidays.open_on)
        self._public: dict[int, frozenset[date]] = {}

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if day in self._closures:
            return True
        return day not in self._open_on and day in self._public_holidays(day.year)

    def _public_holidays(self, year: int) -> frozenset[date]:
        known = self._public.get(year)
        if known is None:
            known = self._public[year] = _public_holidays(self._holidays, year)
        return known


def _public_holidays(holidays: Holidays, year: int) -> frozenset[date]:
    if holidays.country is None:
        return frozenset()
    from holidays import country_holidays

    return frozenset(country_holidays(holidays.country, subdiv=holidays.subdivision, years=year))


class BusinessCalendar:
    """Answers "is the clinic open?" and "when does it next open?" for aware instants."""

    def __init__(self, timezone: str, calendar: ClinicCalendar | None = None) -> None:
        self.tz = ZoneInfo(timezone)
        calendar = calendar or ClinicCalendar()
        self.closed_days = ClosedDays(calendar.holidays)
        self._hours: dict[int, tuple[time, time | None]] = {
            WEEKDAYS.index(day): parse_hours(text) for day, text in calendar.hours.items()
        }

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The opening and closing instants of ``day`` (local), or None when closed all day."""
        if day in self.closed_days:
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
        window = self.window(local.date())
        return window is not None and window[0] <= local < window[1]

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself while open, else the next opening instant (in UTC)."""
        local = _aware(at).astimezone(self.tz)
        day = local.date()
        for _ in range(_HORIZON_DAYS):
            window = self.window(day)
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
            window = self.window(day)
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
