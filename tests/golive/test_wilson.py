"""The Wilson score interval: published values, its defining equation, and its shape."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartroute.review.wilson import wilson_interval, z_for

Z = 1.959963984540054  # the 97.5% standard normal quantile


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int]:
    trials = draw(st.integers(min_value=1, max_value=100_000))
    return draw(st.integers(min_value=0, max_value=trials)), trials


# Newcombe, "Two-sided confidence intervals for the single proportion", Stat Med 1998;
# 17:857-872, Table I, method 3 (the score interval), to four places.
PUBLISHED = [
    ((81, 263), (0.2553, 0.3662)),
    ((15, 148), (0.0624, 0.1605)),
    ((0, 20), (0.0000, 0.1611)),
    ((1, 29), (0.0061, 0.1718)),
    ((29, 29), (0.8830, 1.0000)),
]


@pytest.mark.parametrize(("k_n", "bounds"), PUBLISHED)
def test_published_values(k_n: tuple[int, int], bounds: tuple[float, float]) -> None:
    interval = wilson_interval(*k_n)
    assert (round(interval.low, 4), round(interval.high, 4)) == bounds


def test_the_quantile_is_the_usual_one() -> None:
    assert z_for(0.95) == pytest.approx(Z, abs=1e-12)


@given(counts())
def test_bounds_solve_the_score_equation(k_n: tuple[int, int]) -> None:
    """Each bound p is where the observed share is exactly z standard errors from p."""
    k, n = k_n
    interval = wilson_interval(k, n)
    observed = k / n
    for p in (interval.low, interval.high):
        gap = (observed - p) ** 2
        assert gap == pytest.approx(Z * Z * p * (1 - p) / n, rel=1e-7, abs=1e-13)


@given(counts())
def test_matches_the_quadratic_roots(k_n: tuple[int, int]) -> None:
    """The same bounds as the roots of (n + z²)p² - (2k + z²)p + k²/n = 0, solved directly."""
    k, n = k_n
    a, b, c = n + Z * Z, -(2 * k + Z * Z), k * k / n
    root = math.sqrt(max(0.0, b * b - 4 * a * c))
    low, high = (-b - root) / (2 * a), (-b + root) / (2 * a)
    interval = wilson_interval(k, n)
    assert interval.low == pytest.approx(max(0.0, low), abs=1e-9)
    assert interval.high == pytest.approx(min(1.0, high), abs=1e-9)


@given(counts())
def test_the_interval_holds_the_estimate_inside_zero_and_one(k_n: tuple[int, int]) -> None:
    k, n = k_n
    interval = wilson_interval(k, n)
    assert 0.0 <= interval.low <= interval.estimate <= interval.high <= 1.0
    assert interval.estimate == k / n
    assert (interval.low == 0.0) == (k == 0) and (interval.high == 1.0) == (k == n)


@given(counts())
def test_one_more_success_raises_both_bounds_and_the_interval_mirrors(k_n: tuple[int, int]) -> None:
    k, n = k_n
    interval = wilson_interval(k, n)
    mirrored = wilson_interval(n - k, n)
    assert interval.low == pytest.approx(1 - mirrored.high, abs=1e-12)
    if k < n:
        higher = wilson_interval(k + 1, n)
        assert higher.low > interval.low and higher.high > interval.high


@given(st.integers(min_value=1, max_value=5000))
def test_more_reviews_all_correct_narrow_the_interval(n: int) -> None:
    assert wilson_interval(n + 1, n + 1).low > wilson_interval(n, n).low


def test_thirty_five_correct_reviews_reach_ninety_percent_and_thirty_four_do_not() -> None:
    """The figure docs/go-live.md and the config's description give the ops lead."""
    assert wilson_interval(35, 35).low >= 0.90 > wilson_interval(34, 34).low


@pytest.mark.parametrize(("k", "n"), [(0, 0), (-1, 5), (6, 5)])
def test_impossible_counts_are_refused(k: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson_interval(k, n)
