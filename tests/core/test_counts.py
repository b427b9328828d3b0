"""Counts add up one way: numbers summed, mappings merged, lists extended, extra fields left out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartroute.counts import Counts, merge_counts
from chartroute.lifecycle import ReconcileCounts
from chartroute.notify.deliver import DeliverCounts
from chartroute.notify.digest import ComposeCounts
from chartroute.sync import ClassifyCounts, IngestCounts

small = st.integers(min_value=0, max_value=10_000)
labels = st.sampled_from(["a", "b", "c"])
ingest_counts = st.builds(
    IngestCounts,
    read=small,
    stored=small,
    quarantined=small,
    facts_inserted=small,
    reasons=st.dictionaries(labels, small),
    checks=st.dictionaries(
        labels, st.fixed_dictionaries({"checked": small, "failed": small}), max_size=3
    ),
)


@given(st.lists(ingest_counts, max_size=6))
def test_totals_are_the_sums_of_their_parts(parts: list[IngestCounts]) -> None:
    snapshots = [asdict(p) for p in parts]
    totals = IngestCounts()
    for part in parts:
        totals.add(part)
    assert totals.read == sum(p["read"] for p in snapshots)
    assert totals.facts_inserted == sum(p["facts_inserted"] for p in snapshots)
    for label in ("a", "b", "c"):
        assert totals.reasons.get(label, 0) == sum(p["reasons"].get(label, 0) for p in snapshots)
        for name in ("checked", "failed"):
            assert totals.checks.get(label, {}).get(name, 0) == sum(
                p["checks"].get(label, {}).get(name, 0) for p in snapshots
            )
    # Adding never changes the parts (the totals own their mappings).
    assert [asdict(p) for p in parts] == snapshots


def test_a_stage_takes_the_figures_it_shares_with_a_lower_layer() -> None:
    classified = ClassifyCounts(charts=3, open_charts=2, notifications=1)
    classified.add(ReconcileCounts(opened=2, closed=1, unchanged=4))
    classified.add(ReconcileCounts(opened=1, reassigned=1))
    assert (classified.charts, classified.open_charts, classified.notifications) == (3, 2, 1)
    assert (classified.opened, classified.closed, classified.reassigned) == (3, 1, 1)
    assert classified.unchanged == 4

    delivered = DeliverCounts().add(ComposeCounts(digests=2, immediate=1, notifications=9, held=3))
    assert (delivered.digests, delivered.immediate, delivered.held) == (2, 1, 3)
    assert not hasattr(delivered, "notifications")


@dataclass
class _Keys(Counts):
    names: list[str] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)


@dataclass
class _Flagged(Counts):
    done: bool = False


def test_lists_extend_labels_are_replaced_and_flags_are_refused() -> None:
    keys = _Keys(names=["x"], why={"slack": "no token"})
    keys.add(_Keys(names=["y"], why={"slack": "no token yet", "smtp": "down"}))
    assert keys.names == ["x", "y"]
    assert keys.why == {"slack": "no token yet", "smtp": "down"}
    with pytest.raises(TypeError, match="flag"):
        _Flagged().add(_Flagged(done=True))


def test_merge_counts_merges_nested_mappings_in_place() -> None:
    into = {"x": {"checked": 1, "failed": 0}}
    assert merge_counts(into, {"x": {"checked": 2, "failed": 1}, "y": {"checked": 1}}) is into
    assert into == {"x": {"checked": 3, "failed": 1}, "y": {"checked": 1}}
