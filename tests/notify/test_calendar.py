"""The business calendar: opening hours, holidays, daylight saving, business time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chartroute.calendar import BusinessCalendar, ClinicCalendar, parse_hours

NEW_YORK = BusinessCalendar(
    "America/New_York",
    ClinicCalendar(
        hours={
            "mon": "08:00-17:00",
            "tue": "08:00-17:00",
            "wed": "08:00-12:30",
            "sat": "09:00-24:00",
        },
        holidays=[date(2026, 3, 9)],
    ),
)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


def test_hours_are_local_and_holidays_are_closed() -> None:
    tuesday_0759 = datetime(2026, 3, 10, 11, 59, tzinfo=UTC)  # EDT (UTC-4) since 8 March
    assert not NEW_YORK.is_open(tuesday_0759)
    assert NEW_YORK.is_open(tuesday_0759 + timedelta(minutes=1))
    assert not NEW_YORK.is_open(datetime(2026, 3, 9, 15, 0, tzinfo=UTC))  # Monday, a holiday
    assert NEW_YORK.next_open(datetime(2026, 3, 9, 15, 0, tzinfo=UTC)) == datetime(
        2026, 3, 10, 12, 0, tzinfo=UTC
    )
    wednesday_evening = datetime(2026, 3, 11, 17, 0, tzinfo=UTC)  # 13:00, closed since 12:30
    assert NEW_YORK.next_open(wednesday_evening) == datetime(
        2026, 3, 14, 13, 0, tzinfo=UTC
    )  # Sat 09:00
    assert NEW_YORK.is_open(datetime(2026, 3, 15, 3, 59, tzinfo=UTC))  # Saturday 23:59
    assert not NEW_YORK.is_open(datetime(2026, 3, 15, 4, 0, tzinfo=UTC))  # Sunday 00:00


def test_opening_follows_daylight_saving() -> None:
    winter = NEW_YORK.next_open(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))  # Mon 2 March, 19:00 EST
    summer = NEW_YORK.next_open(datetime(2026, 3, 16, 0, 0, tzinfo=UTC))
    assert (winter.hour, summer.hour) == (13, 12)  # 08:00 EST, 08:00 EDT


@settings(max_examples=300, deadline=None)
@given(instants)
def test_next_open_is_the_first_open_moment(at: datetime) -> None:
    opens = NEW_YORK.next_open(at)
    assert opens >= at and NEW_YORK.is_open(opens)
    assert (opens == at) == NEW_YORK.is_open(at)
    if opens > at:  # closed all the way there
        assert NEW_YORK.business_time_between(at, opens) == timedelta(0)
        assert not NEW_YORK.is_open(opens - timedelta(minutes=1))


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(0, 20 * 24 * 60), st.integers(0, 20 * 24 * 60))
def test_business_time_adds_up(start: datetime, first: int, second: int) -> None:
    middle = start + timedelta(minutes=first)
    end = middle + timedelta(minutes=second)
    whole = NEW_YORK.business_time_between(start, end)
    assert whole == NEW_YORK.business_time_between(start, middle) + NEW_YORK.business_time_between(
        middle, end
    )
    assert timedelta(0) <= whole <= end - start
    assert NEW_YORK.business_time_between(end, start) == timedelta(0)


def test_a_full_week_of_business_time() -> None:
    monday = datetime(2026, 3, 16, 4, 0, tzinfo=UTC)  # 00:00 EDT
    week = NEW_YORK.business_time_between(monday, monday + timedelta(days=7))
    assert week == timedelta(hours=9 + 9 + 4.5 + 15)


@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 24), st.integers(0, 59))
def test_parse_hours_accepts_exactly_same_day_ranges(h1: int, m1: int, h2: int, m2: int) -> None:
    value = f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"
    valid = (h2, m2) > (h1, m1) and (h2 < 24 or m2 == 0)
    if valid:
        opens, closes = parse_hours(value)
        assert (opens.hour, opens.minute) == (h1, m1)
        if h2 == 24:
            assert closes is None
        else:
            assert closes is not None and (closes.hour, closes.minute) == (h2, m2)
    else:
        with pytest.raises(ValueError):
            parse_hours(value)


@pytest.mark.parametrize(
    "hours", [{}, {"mon": "8-17"}, {"mon": "17:00-08:00"}, {"funday": "08:00-17:00"}]
)
def test_bad_calendars_are_refused(hours: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ClinicCalendar.model_validate({"hours": hours})


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        NEW_YORK.is_open(datetime(2026, 3, 10, 9, 0))
