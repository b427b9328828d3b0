"""Properties of partition planning and of the daily figure arithmetic."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartroute.backfill.history import DayFigures
from chartroute.backfill.partitions import DatePartition, plan_partitions

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@given(days, st.integers(0, 800), st.integers(1, 60))
def test_partitions_cover_the_range_exactly_once(start: date, length: int, size: int) -> None:
    end = start + timedelta(days=length)
    plan = plan_partitions(start, end, size)
    assert plan[0].start == start and plan[-1].end == end + timedelta(days=1)
    for before, after in itertools.pairwise(plan):
        assert before.end == after.start
    assert all(1 <= p.days <= size for p in plan)
    assert all(p.days == size for p in plan[:-1])
    assert plan == plan_partitions(start, end, size), "a resumed run must name the same plan"
    assert [DatePartition.from_key(p.key) for p in plan] == plan


@pytest.mark.parametrize(
    "key", ["", "2025-01-01", "2025-01-01..", "x..2025-01-02", "2025-13-01..2025-01-02"]
)
def test_a_malformed_partition_key_names_itself(key: str) -> None:
    with pytest.raises(ValueError, match="partition key"):
        DatePartition.from_key(key)


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before its start"):
        plan_partitions(date(2025, 2, 1), date(2025, 1, 1), 7)
    with pytest.raises(ValueError, match="at least 1 day"):
        plan_partitions(date(2025, 1, 1), date(2025, 2, 1), 0)


intervals = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(-5, 40), st.integers(-5, 40)),
    max_size=40,
)


@given(st.integers(1, 30), intervals)
def test_day_figures_equal_counting_day_by_day(
    length: int, spans: list[tuple[str, int, int]]
) -> None:
    figures = DayFigures(date(2025, 1, 1), length)
    brute: dict[str, list[int]] = {}
    for key, a, b in spans:
        figures.add(("m", "d", key), a, b)
        row = brute.setdefault(key, [0] * length)
        for i in range(max(a, 0), min(b, length)):
            row[i] += 1
    series = {k[2]: v for k, v in figures.series().items()}
    assert {k: v for k, v in series.items() if any(v)} == {k: v for k, v in brute.items() if any(v)}


@given(st.integers(1, 20), intervals, intervals)
def test_merged_series_add_up(
    length: int, left: list[tuple[str, int, int]], right: list[tuple[str, int, int]]
) -> None:
    one, two, both = (DayFigures(date(2025, 1, 1), length) for _ in range(3))
    for fig, spans in ((one, left), (two, right)):
        for key, a, b in spans:
            fig.add(("m", "d", key), a, b)
            both.add(("m", "d", key), a, b)
    merged = DayFigures(date(2025, 1, 1), length)
    for fig in (one, two):
        for figure_key, values in fig.series().items():
            merged.merge_series(figure_key, values)
    assert merged.series() == both.series()
