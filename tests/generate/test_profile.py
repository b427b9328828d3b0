"""The profile: documented, frozen, validated, and its calendar is right."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from chartroute.generate import GeneratorProfile


def test_every_field_says_what_it_models() -> None:
    for name, field in GeneratorProfile.model_fields.items():
        assert field.description and len(field.description) > 15, name


def test_profile_is_frozen() -> None:
    profile = GeneratorProfile()
    with pytest.raises(ValidationError):
        profile.providers = 9  # type: ignore[misc]


@pytest.mark.parametrize(
    "bad",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"order_share": 1.5},
        {"note_unsigned_share": -0.1},
        {"providers": 0},
        {"telehealth_share": 0.7, "home_visit_share": 0.5},
        {"note_same_day_share": 0.8, "note_after_hours_share": 0.3},
        {"clinic_open_hour": 12, "clinic_close_hour": 9},
        {"no_such_knob": 1},
    ],
)
def test_impossible_profiles_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GeneratorProfile.model_validate(bad)


def test_clinic_days_are_weekdays_from_start() -> None:
    days = GeneratorProfile(days=7).clinic_days()
    assert days[0] == date(2026, 1, 5)
    assert len(days) == 7 and all(d.weekday() < 5 for d in days)
    assert days[-1] == date(2026, 1, 13)


def test_weekend_start_moves_to_monday() -> None:
    assert GeneratorProfile(start=date(2026, 1, 3), days=1).clinic_days() == [date(2026, 1, 5)]


def test_default_as_of_is_the_last_clinic_evening() -> None:
    profile = GeneratorProfile(days=3, timezone="America/Chicago")
    tz = ZoneInfo("America/Chicago")
    assert profile.resolved_as_of() == datetime.combine(date(2026, 1, 7), time(18), tzinfo=tz)


def test_naive_as_of_is_practice_local_and_aware_is_converted() -> None:
    naive = GeneratorProfile(as_of=datetime(2026, 1, 6, 12, 0)).resolved_as_of()
    assert naive.utcoffset() is not None and naive.hour == 12
    aware = GeneratorProfile(as_of=datetime(2026, 1, 6, 17, 0, tzinfo=ZoneInfo("UTC")))
    assert aware.resolved_as_of().hour == 12
