"""Business-time arithmetic across weekends, holidays, short days and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.business_time import BusinessClock, Duration
from chartroute.calendar import ClinicCalendar
from tests.escalate.helpers import local

WEEKDAYS = ClinicCalendar()  # Mon-Fri 08:00-17:00
NY = "America/New_York"


def clock(holidays: tuple[str, ...] = (), hours: dict[str, str] | None = None) -> BusinessClock:
    calendar = ClinicCalendar(
        holidays=[date.fromisoformat(d) for d in holidays],
        **({"hours": hours} if hours else {}),
    )
    return BusinessClock(NY, calendar)


# (start local, duration, holidays, hours, expected local)
ADD_CASES = [
    # a weekend that is also the spring-forward weekend (2026-03-08): same wall time on Monday
    ("2026-03-06 10:00", "1 business day", (), None, "2026-03-09 10:00"),
    ("2026-03-06 10:00", "8 business hours", (), None, "2026-03-09 09:00"),
    # a holiday on the Monday moves it to Tuesday
    ("2026-03-06 10:00", "1 business day", ("2026-03-09",), None, "2026-03-10 10:00"),
    ("2026-03-06 10:00", "8 business hours", ("2026-03-09",), None, "2026-03-10 09:00"),
    # starting on a weekend or after closing counts from the next opening
    ("2026-03-07 12:00", "1 business day", (), None, "2026-03-10 08:00"),
    ("2026-03-06 17:00", "2 business hours", (), None, "2026-03-09 10:00"),
    ("2026-03-06 06:30", "1 business hour", (), None, "2026-03-06 09:00"),
    # ending exactly at closing time stays on that day
    ("2026-03-06 08:00", "9 business hours", (), None, "2026-03-06 17:00"),
    # fall back (2026-11-01): Friday 10:00 EDT → Monday 10:00 EST
    ("2026-10-30 10:00", "1 business day", (), None, "2026-11-02 10:00"),
    ("2026-10-30 10:00", "3 business days", ("2026-11-03",), None, "2026-11-05 10:00"),
    # calendar days keep the wall-clock time across the change; hours are elapsed hours
    ("2026-02-20 10:00", "30 days", (), None, "2026-03-22 10:00"),
    ("2026-03-07 12:00", "24 hours", (), None, "2026-03-08 13:00"),
    # a short Saturday clips the same-offset instant at its close
    (
        "2026-03-06 16:00",
        "1 business day",
        (),
        {"fri": "08:00-17:00", "sat": "09:00-12:00"},
        "2026-03-07 12:00",
    ),
]


@pytest.mark.parametrize(("start", "duration", "holidays", "hours", "expected"), ADD_CASES)
def test_add(
    start: str,
    duration: str,
    holidays: tuple[str, ...],
    hours: dict[str, str] | None,
    expected: str,
) -> None:
    result = clock(holidays, hours).add(local(start), Duration.parse(duration))
    assert result == local(expected)
    assert result.tzinfo == UTC


def test_open_all_day_on_spring_forward_has_23_business_hours() -> None:
    every_day = {d: "00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    c = clock(hours=every_day)
    sunday = local("2026-03-08 00:00")
    assert c.business_time_between(sunday, local("2026-03-09 00:00")) == timedelta(hours=23)
    assert c.add(sunday, Duration.parse("23 business hours")) == local("2026-03-09 00:00")


@pytest.mark.parametrize(
    ("holidays", "expected"), [((), 5), (("2026-03-11",), 4), (("2026-03-11", "2026-03-12"), 3)]
)
def test_count_business_days(holidays: tuple[str, ...], expected: int) -> None:
    c = clock(holidays)
    assert (
        c.count(local("2026-03-09 10:00"), local("2026-03-16 10:00"), Duration(1, "business days"))
        == expected
    )


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("2 business days", 2, "business days"),
        ("1 business day", 1, "business days"),
        ("16 Business Hours", 16, "business hours"),
        ("2bd", 2, "business days"),
        ("4.5 bh", 4.5, "business hours"),
        ("30 days", 30, "days"),
        ("1 hour", 1, "hours"),
    ],
)
def test_parse(text: str, amount: float, unit: str) -> None:
    parsed = Duration.parse(text)
    assert (parsed.amount, parsed.unit) == (amount, unit)
    assert Duration.parse(str(parsed)) == parsed


@pytest.mark.parametrize("text", ["", "2 weeks", "business days", "-1 days", "0 days", "1.5 days"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        Duration.parse(text)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        clock().add(datetime(2026, 3, 6, 10), Duration(1, "business days"))


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
holiday_sets = st.lists(
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 2, 1)), max_size=20
).map(tuple)
business_units = st.sampled_from(["business hours", "business days"])


@settings(max_examples=300, deadline=None)
@given(start=instants, hours=st.integers(1, 60), holidays=holiday_sets)
def test_business_hours_add_is_the_inverse_of_business_time_between(
    start: datetime, hours: int, holidays: tuple[date, ...]
) -> None:
    c = clock(tuple(d.isoformat() for d in holidays))
    due = c.add(start, Duration(hours, "business hours"))
    assert c.business_time_between(start, due) == timedelta(hours=hours)
    # and no earlier instant has that much open time behind it
    assert c.business_time_between(start, due - timedelta(seconds=1)) < timedelta(hours=hours)


@settings(max_examples=300, deadline=None)
@given(start=instants, days=st.integers(1, 15), holidays=holiday_sets)
def test_business_days_land_inside_opening_hours_on_the_nth_open_day(
    start: datetime, days: int, holidays: tuple[date, ...]
) -> None:
    c = clock(tuple(d.isoformat() for d in holidays))
    due = c.add(start, Duration(days, "business days"))
    local_due = due.astimezone(c.tz)
    assert local_due.weekday() < 5 and local_due.date() not in holidays
    assert 8 <= local_due.hour < 17 or (local_due.hour, local_due.minute) == (17, 0)
    # every open day is 9 hours long, so exactly `days` of them lie between start and due
    assert c.business_time_between(start, due) == timedelta(hours=9 * days)


@settings(max_examples=200, deadline=None)
@given(start=instants, span=st.integers(0, 40 * 24), unit=business_units, amount=st.integers(1, 5))
def test_count_is_the_largest_k_with_add_not_after_end(
    start: datetime, span: int, unit: str, amount: int
) -> None:
    c = clock(("2026-07-03", "2026-11-26", "2026-12-25"))
    end = start + timedelta(hours=span)
    step = Duration(amount, unit)  # type: ignore[arg-type]
    k = c.count(start, end, step)
    assert c.add(start, step, k) <= end
    assert c.add(start, step, k + 1) > end
