"""Closed days: public holidays from the holidays package, minus the ones the clinic works,
plus its own closures; the older list of dates still loads; a bad country is a config error."""

from __future__ import annotations

from datetime import UTC, date, datetime

import holidays as holiday_data
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.business_time import BusinessClock, Duration
from chartroute.calendar import BusinessCalendar, ClinicCalendar, ClosedDays, Holidays
from chartroute.config import ConfigError, load_config_text
from tests.conftest import ROOT

GOOD = (ROOT / "config" / "practice.yaml").read_text()
ZONE = "America/New_York"
CALIFORNIA = ClosedDays(Holidays(country="US", subdivision="CA"))  # remembers every year asked


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 16, 0, tzinfo=UTC)  # 11:00 or 12:00 local


def calendar(**holidays: object) -> BusinessCalendar:
    return BusinessCalendar(ZONE, ClinicCalendar.model_validate({"holidays": holidays}))


def with_calendar(block: str) -> str:
    """The shipped practice file with a ``calendar:`` section under ``practice:``."""
    return GOOD.replace("practice:\n", "practice:\n  calendar:\n" + block.rstrip("\n") + "\n", 1)


def test_a_country_closes_its_public_holidays_as_observed() -> None:
    us = calendar(country="US")
    assert not us.is_open(at_noon(date(2026, 7, 3)))  # Independence Day, observed on the Friday
    assert us.is_open(at_noon(date(2026, 7, 2)))
    assert not us.is_open(at_noon(date(2026, 11, 26)))  # Thanksgiving
    assert us.is_open(at_noon(date(2026, 2, 12)))  # Lincoln's Birthday is New York's, not federal
    assert not calendar(country="US", subdivision="NY").is_open(at_noon(date(2026, 2, 12)))


def test_the_practice_works_some_holidays_and_closes_its_own_days() -> None:
    mine = calendar(country="US", open_on=["2026-10-12"], closures=["2026-11-27"])
    assert mine.is_open(at_noon(date(2026, 10, 12)))  # Columbus Day, worked
    assert not mine.is_open(at_noon(date(2026, 11, 11)))  # Veterans Day, closed
    assert not mine.is_open(at_noon(date(2026, 11, 27)))  # the day after Thanksgiving


def test_business_days_skip_public_holidays() -> None:
    clock = BusinessClock(ZONE, ClinicCalendar.model_validate({"holidays": {"country": "US"}}))
    thursday_10 = datetime(2026, 7, 2, 14, 0, tzinfo=UTC)
    assert clock.add(thursday_10, Duration.parse("1 business day")) == datetime(
        2026, 7, 6, 14, 0, tzinfo=UTC
    )


def test_codes_are_matched_without_regard_to_case() -> None:
    holidays = Holidays(country="us", subdivision="ny")
    assert (holidays.country, holidays.subdivision) == ("US", "NY")


def test_a_list_of_dates_still_means_the_practices_own_closures() -> None:
    config = load_config_text(with_calendar("    holidays: [2026-03-09, 2026-12-24]\n"))
    closed = config.practice.calendar.holidays
    assert closed == Holidays(closures=[date(2026, 3, 9), date(2026, 12, 24)])
    assert ClinicCalendar(holidays=[date(2026, 3, 9)]).holidays.closures == [date(2026, 3, 9)]


def test_the_mapping_form_loads() -> None:
    block = (
        "    holidays:\n      country: US\n      subdivision: NY\n      closures: [2026-12-24]\n"
    )
    closed = load_config_text(with_calendar(block)).practice.calendar.holidays
    assert (closed.country, closed.subdivision, closed.closures) == (
        "US",
        "NY",
        [date(2026, 12, 24)],
    )


@pytest.mark.parametrize(
    ("block", "field", "bad_line", "says"),
    [
        ("    holidays:\n      country: XX\n", "country", "country: XX", "'XX' is not a country"),
        (
            "    holidays:\n      country: US\n      subdivision: ZZ\n",
            "subdivision",
            "subdivision: ZZ",
            "'ZZ' is not a subdivision of US (known: AK, AL,",
        ),
        ("    holidays:\n      subdivision: NY\n", "subdivision", "subdivision", "needs a country"),
    ],
)
def test_a_bad_country_or_subdivision_names_the_field(
    block: str, field: str, bad_line: str, says: str
) -> None:
    text = with_calendar(block)
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "practice.yaml")
    (problem,) = info.value.problems
    line = next(i for i, row in enumerate(text.splitlines(), 1) if bad_line in row)
    assert (problem.line, problem.field) == (line, f"practice.calendar.holidays.{field}")
    assert says in problem.message


@settings(max_examples=200, deadline=None)
@given(st.dates(date(1990, 1, 1), date(2099, 12, 31)))
def test_closed_days_are_the_packages_holidays_in_any_year(day: date) -> None:
    expected = holiday_data.country_holidays("US", subdiv="CA", years=day.year)
    assert (day in CALIFORNIA) == (day in expected)
