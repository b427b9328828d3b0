"""The arithmetic behind the snapshot: quantiles, durations, charge lag, after-hours signing,
age buckets and stuck reasons, against values worked out by hand and general properties."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartroute.analytics.metrics import (
    ClosedChart,
    ClosedItem,
    SignedNote,
    after_hours_signing,
    charge_lags,
    duration_stats,
    is_signed_clinical_note,
    quantile,
    time_to_close,
)
from chartroute.analytics.snapshots import age_bucket, day_bounds, stuck_reason
from chartroute.calendar import BusinessCalendar, ClinicCalendar
from tests.report.dataset import note

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_quantile_hand_computed() -> None:
    assert quantile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)
    assert quantile([1.0, 2.0, 3.0, 4.0, 10.0], 0.9) == pytest.approx(7.6)
    assert quantile([5.0], 0.9) == 5.0
    with pytest.raises(ValueError):
        quantile([], 0.5)
    with pytest.raises(ValueError):
        quantile([1.0], 1.5)


@given(st.lists(finite, min_size=1, max_size=50), st.floats(0, 1), st.floats(0, 1))
def test_quantile_is_monotone_and_bounded(values: list[float], q1: float, q2: float) -> None:
    low, high = sorted((q1, q2))
    a, b = quantile(values, low), quantile(values, high)
    assert min(values) <= a <= b + 1e-9 * max(1.0, abs(b)) and b <= max(values)
    assert quantile(values, 0.0) == min(values) and quantile(values, 1.0) == max(values)


@given(st.lists(st.floats(0, 1e4), min_size=0, max_size=40))
def test_duration_stats_add_up(values: list[float]) -> None:
    stats = duration_stats(values)
    assert stats.count == len(values)
    assert math.isclose(stats.total, math.fsum(values), abs_tol=1e-6)
    if values:
        assert stats.median is not None and stats.p90 is not None
        assert min(values) <= stats.median <= stats.p90 + 1e-9 <= max(values) + 1e-9
    else:
        assert stats.median is None and stats.mean is None


T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_time_to_close_from_the_visit_per_category() -> None:
    items = [
        ClosedItem("pending-result", T0, T0 + timedelta(days=1), T0 + timedelta(days=2)),
        ClosedItem("pending-result", T0, T0, T0 + timedelta(days=4)),
        ClosedItem("pending-result", T0, T0, T0 + timedelta(hours=12)),
        ClosedItem("coding-query", None, T0, T0 + timedelta(hours=6)),  # no visit: from opening
    ]
    stats = time_to_close(items)
    assert list(stats) == ["coding-query", "pending-result"]
    assert stats["pending-result"].median == 2.0
    assert stats["pending-result"].p90 == pytest.approx(2 + 0.8 * 2)
    assert stats["pending-result"].mean == pytest.approx(6.5 / 3)
    assert stats["coding-query"].median == 0.25


def test_charge_lag_skips_what_was_never_observed() -> None:
    first_sync = T0 + timedelta(days=1)
    charts = [
        ClosedChart("a", T0, T0 + timedelta(hours=2), T0 + timedelta(days=3)),  # seen open: 3 d
        ClosedChart("b", first_sync + timedelta(hours=1), None, first_sync + timedelta(hours=7)),
        ClosedChart("c", T0, None, first_sync),  # complete before the first sync: unknown
        ClosedChart("d", None, T0, T0 + timedelta(days=1)),  # no visit time
    ]
    assert charge_lags(charts, first_sync) == [3.0, 0.25]
    assert charge_lags(charts, None) == [3.0]  # nothing observed yet: only seen-open charts


def test_after_hours_uses_the_practice_calendar() -> None:
    tz = "America/New_York"
    calendar = BusinessCalendar(tz, ClinicCalendar(holidays=[date(2026, 3, 4)]))
    # Monday 2026-03-02 (EST, UTC-5): 08:00-17:00 local is 13:00-22:00Z.
    notes = [
        SignedNote("a", datetime(2026, 3, 2, 13, 0, tzinfo=UTC), "dr-a"),  # 08:00 open
        SignedNote("b", datetime(2026, 3, 2, 21, 59, tzinfo=UTC), "dr-a"),  # 16:59 open
        SignedNote("c", datetime(2026, 3, 2, 22, 0, tzinfo=UTC), "dr-a"),  # 17:00 closed
        SignedNote("d", datetime(2026, 3, 2, 12, 59, tzinfo=UTC), None),  # 07:59 closed
        SignedNote("e", datetime(2026, 3, 4, 15, 0, tzinfo=UTC), "dr-b"),  # holiday
        SignedNote("f", datetime(2026, 3, 7, 15, 0, tzinfo=UTC), "dr-b"),  # Saturday
        SignedNote("g", datetime(2026, 3, 9, 12, 30, tzinfo=UTC), "dr-b"),  # 08:30 EDT open
    ]
    counts = after_hours_signing(notes, calendar)
    assert (counts.signed, counts.after_hours) == (7, 4)
    assert counts.signed_by_clinician == {"(unknown)": 1, "dr-a": 3, "dr-b": 3}
    assert counts.after_hours_by_clinician == {"(unknown)": 1, "dr-a": 1, "dr-b": 2}
    assert counts.share == pytest.approx(4 / 7)


def test_which_notes_count_as_signed() -> None:
    at = T0
    assert is_signed_clinical_note(note("DocumentReference/a", "E1", at))
    assert is_signed_clinical_note(note("DocumentReference/b", "E1", at, doc_status=None))
    assert is_signed_clinical_note(note("DocumentReference/c", "E1", at, doc_status="amended"))
    assert not is_signed_clinical_note(
        note("DocumentReference/d", "E1", at, doc_status="preliminary")
    )
    assert not is_signed_clinical_note(note("DocumentReference/e", "E1", at, status="superseded"))
    assert not is_signed_clinical_note(note("DocumentReference/f", "E1", at, loinc="57133-1"))
    assert is_signed_clinical_note(note("Composition/g", "E1", at, status="final"))
    assert not is_signed_clinical_note(note("Composition/h", "E1", at, status="preliminary"))


def test_age_buckets_and_boundaries() -> None:
    expected = {0: "0-2", 2: "0-2", 3: "3-7", 7: "3-7", 8: "8-14", 14: "8-14", 15: "15-30"}
    expected |= {30: "15-30", 31: "31+", 400: "31+"}
    assert {age: age_bucket(age) for age in expected} == expected
    assert age_bucket(None) == "(unknown)"
    with pytest.raises(ValueError):
        age_bucket(-1)


@given(st.integers(min_value=0, max_value=10_000))
def test_every_age_has_exactly_one_bucket(age: int) -> None:
    from chartroute.analytics.snapshots import AGE_BUCKETS

    matches = [lbl for lo, hi, lbl in AGE_BUCKETS if age >= lo and (hi is None or age <= hi)]
    assert matches == [age_bucket(age)]


def test_stuck_reasons() -> None:
    assert stuck_reason("awaiting-referral-auth", "Claim/c1") == "awaiting-referral-auth/prior-auth"
    assert stuck_reason("awaiting-referral-auth", "ServiceRequest/r") == (
        "awaiting-referral-auth/referral"
    )
    assert stuck_reason("documentation-gap", "diagnosis") == "documentation-gap/diagnosis"
    assert stuck_reason("documentation-gap", "form:http://x/q") == "documentation-gap/form"
    assert stuck_reason("unsigned-note", "note") == "unsigned-note"


def test_day_bounds_follow_daylight_saving() -> None:
    start, end = day_bounds(date(2026, 3, 8), "America/New_York")  # clocks go forward
    assert start == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=23)
