"""ROI figures from stored snapshot days: hand-computed values, formulas that show their inputs,
and an honest "missing" instead of an invented baseline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.analytics.roi import compute_roi
from chartroute.analytics.roi_render import roi_json, roi_text
from chartroute.analytics.roi_windows import DAYS_PER_MONTH, choose_windows
from chartroute.config.models import Billing
from chartroute.config.roi import RoiInputs
from chartroute.store.snapshots import Origin, StoredDay

AT = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)
BILLING = Billing(fee_schedule={"99213": 100.0, "99214": 140.0})


def day(
    when: date,
    origin: Origin,
    *,
    visits: float,
    admin: float,
    unrouted: float,
    signed: float,
    after: float,
    lag_count: float,
    lag_sum: float,
) -> StoredDay:
    figures = {
        ("visits", "total", ""): visits,
        ("admin_charts", "total", ""): admin,
        ("admin_charts_unrouted", "total", ""): unrouted,
        ("notes_signed", "total", ""): signed,
        ("notes_signed_after_hours", "total", ""): after,
        ("charge_lag_days.count", "total", ""): lag_count,
        ("charge_lag_days.sum", "total", ""): lag_sum,
        ("open_charts", "total", ""): 40.0,
        ("clinician_backlog_charts", "total", ""): 25.0,
    }
    return StoredDay(when, origin, AT, figures)


def baseline_days() -> list[StoredDay]:
    return [
        day(
            date(2026, 1, 1) + timedelta(days=i),
            "reconstructed",
            visits=20,
            admin=6,
            unrouted=6,
            signed=20,
            after=8,
            lag_count=18,
            lag_sum=108,
        )
        for i in range(10)
    ]


def current_days() -> list[StoredDay]:
    return [
        day(
            date(2026, 3, 1) + timedelta(days=i),
            "live",
            visits=25,
            admin=7,
            unrouted=1,
            signed=25,
            after=5,
            lag_count=24,
            lag_sum=60,
        )
        for i in range(10)
    ]


def test_hand_computed_figures_from_a_backfilled_baseline() -> None:
    report = compute_roi(baseline_days() + current_days(), RoiInputs(), BILLING)
    assert report.baseline is not None and report.current is not None
    assert (report.baseline.start, report.baseline.end) == (date(2026, 1, 1), date(2026, 1, 10))
    assert (report.current.start, report.current.end) == (date(2026, 3, 1), date(2026, 3, 10))
    hours, lag, after_hours = report.figures
    visits_month = 250 * DAYS_PER_MONTH / 10  # 760.9375
    assert visits_month == pytest.approx(760.9375)
    # (60/200 - 10/250) x 760.9375 x 4 / 60
    assert hours.value == pytest.approx(0.26 * 760.9375 * 4 / 60)
    assert hours.worth == pytest.approx(0.26 * 760.9375 * 4 / 60 * 150)
    # 1080/180 - 600/240 = 6.0 - 2.5 days; cash once = 3.5 x 25 visits/day x 120 mean fee
    assert lag.value == pytest.approx(3.5)
    assert lag.worth == pytest.approx(10_500)
    assert "840 USD a year" in lag.worth_label  # 10,500 x 8%
    # (80/200 - 50/250) x 760.9375 notes x 3.9 / 60
    assert after_hours.value == pytest.approx(0.2 * 760.9375 * 3.9 / 60)
    assert all(not f.missing for f in report.figures)


def test_every_figure_shows_its_formula_and_inputs() -> None:
    report = compute_roi(baseline_days() + current_days(), RoiInputs(), BILLING)
    text = roi_text(report)
    for figure in report.figures:
        assert figure.formula in text and figure.worked in text
        for item in figure.inputs:
            assert item.name in text and item.source in text
    assert "mean of the 2 codes in config billing.fee_schedule" in text
    assert "config roi.minutes_per_admin_chart" in text
    assert "60 charts with a staff item / 200 visits" in text
    data = roi_json(report)
    figures = data["figures"]
    assert isinstance(figures, list)
    assert [f["name"] for f in figures] == [f.name for f in report.figures]


def test_no_snapshots_means_nothing_is_invented() -> None:
    report = compute_roi([], RoiInputs(), BILLING)
    assert report.baseline is None and report.current is None
    assert all(f.value is None and f.worth is None for f in report.figures)
    assert all(any("baseline" in m for m in f.missing) for f in report.figures)
    text = roi_text(report)
    assert "not computed" in text and "no snapshots at all" in text


def test_first_weeks_only_say_what_is_missing() -> None:
    report = compute_roi(current_days(), RoiInputs(), BILLING)  # 10 live days, baseline 28
    assert report.baseline is not None and report.current is None
    assert all(f.value is None for f in report.figures)
    assert any("no days after the baseline" in p for p in report.problems)
    assert "chartroute backfill" in roi_text(report)


def test_first_weeks_become_the_baseline_once_later_days_exist() -> None:
    days = current_days() + [
        day(
            date(2026, 4, 20) + timedelta(days=i),
            "live",
            visits=25,
            admin=7,
            unrouted=0,
            signed=25,
            after=5,
            lag_count=25,
            lag_sum=50,
        )
        for i in range(5)
    ]
    base, current, problems = choose_windows(days, RoiInputs(baseline_days=28, current_days=28))
    assert [d.day for d in base] == [d.day for d in current_days()]
    assert [d.day for d in current] == [date(2026, 4, 20) + timedelta(days=i) for i in range(5)]
    assert not problems


def test_explicit_windows() -> None:
    days = current_days()
    report = compute_roi(
        days,
        RoiInputs(),
        BILLING,
        baseline=(date(2026, 3, 1), date(2026, 3, 3)),
        current=(date(2026, 3, 8), date(2026, 3, 10)),
    )
    assert report.baseline is not None and report.baseline.days == 3
    assert report.current is not None and report.current.days == 3
    assert report.figures[1].value == pytest.approx(0.0)  # same lag in both
    empty = compute_roi(days, RoiInputs(), BILLING, baseline=(date(2025, 1, 1), date(2025, 1, 2)))
    assert empty.baseline is None
    assert any("no snapshots in the baseline" in p for p in empty.problems)


def test_missing_charge_per_visit_is_said_not_guessed() -> None:
    report = compute_roi(baseline_days() + current_days(), RoiInputs(), Billing())
    lag = report.figures[1]
    assert lag.value == pytest.approx(3.5) and lag.worth is None
    assert any("average charge per visit" in m for m in lag.missing)
    given_charge = compute_roi(
        baseline_days() + current_days(), RoiInputs(average_charge_per_visit=200.0), Billing()
    )
    assert given_charge.figures[1].worth == pytest.approx(3.5 * 25 * 200)


counts = st.integers(min_value=1, max_value=500)


@settings(max_examples=60, deadline=None)
@given(visits=counts, admin=counts, signed=counts, after=counts, lag=counts, n=st.integers(1, 20))
def test_no_change_is_worth_nothing(
    visits: int, admin: int, signed: int, after: int, lag: int, n: int
) -> None:
    """When after looks exactly like before, every saving is zero, whatever the volumes."""
    admin, after = min(admin, visits), min(after, signed)

    def window(start: date, origin: Origin) -> list[StoredDay]:
        return [
            day(
                start + timedelta(days=i),
                origin,
                visits=visits,
                admin=admin,
                unrouted=admin,
                signed=signed,
                after=after,
                lag_count=visits,
                lag_sum=lag,
            )
            for i in range(n)
        ]

    report = compute_roi(
        window(date(2026, 1, 1), "reconstructed") + window(date(2026, 3, 1), "live"),
        RoiInputs(),
        BILLING,
    )
    for figure in report.figures:
        assert figure.value == pytest.approx(0.0, abs=1e-9)
