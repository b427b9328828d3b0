"""The hand-written SVG charts: well-formed whatever the labels and numbers, with missing days
drawn as gaps and every number available on hover."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.report import graphs

SVG = "{http://www.w3.org/2000/svg}"
labels = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=1, max_size=30
)
values = st.floats(min_value=0, max_value=1e6, allow_nan=False)


def parse(svg: str) -> ET.Element:
    """A chart's SVG, or the note that says why there is nothing to draw (no empty axes)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" or (root.tag == "p" and root.get("class") == "empty")
    return root


def titles(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}title")]


def test_nice_max() -> None:
    cases = {0: 1, 1e-300: 1, 0.3: 0.5, 1: 1, 7: 10, 11: 20, 24: 25, 26: 50, 101: 200, 990: 1000}
    assert {v: graphs.nice_max(v) for v in cases} == {v: float(m) for v, m in cases.items()}


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_nice_max_is_a_positive_bound(value: float) -> None:
    top = graphs.nice_max(value)
    assert top > 0 and top >= value


def test_stacked_bars_leave_missing_days_blank() -> None:
    svg = graphs.stacked_bars(
        "t", ["d1", "d2", "d3"], {"a": [1.0, None, 2.0], "b": [3.0, None, 0.0]}
    )
    root = parse(svg)
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert sorted(titles(root)) == ["d1 · a: 1", "d1 · b: 3", "d3 · a: 2"]
    assert len(rects) == 3


def test_lines_break_at_missing_days() -> None:
    svg = graphs.line_chart("t", ["1", "2", "3", "4", "5"], {"x": [1.0, 2.0, None, 4.0, 5.0]})
    root = parse(svg)
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 4


def test_pareto_sorts_and_accumulates() -> None:
    root = parse(graphs.pareto_chart("t", ["small", "big", "none"], [1.0, 3.0, 0.0]))
    bars = [t for t in titles(root) if not t.startswith("cumulative")]
    assert bars == ["big: 3 (75%; cumulative 75%)", "small: 1 (25%; cumulative 100%)"]


def test_empty_inputs_say_so() -> None:
    assert "no snapshots" in graphs.stacked_bars("t", ["d"], {"a": [None]})
    assert "nothing open" in graphs.bar_chart("t", ["a"], [0.0])
    assert "nothing open" in graphs.pareto_chart("t", [], [])
    assert "no work items closed" in graphs.median_p90_chart("t", [], [], [], "d")
    empty = graphs.horizontal_bars("t", [], [])
    assert parse(empty).tag == "p" and "<svg" not in empty  # a note, not empty axes


@settings(max_examples=80, deadline=None)
@given(
    names=st.lists(labels, min_size=1, max_size=6, unique=True),
    data=st.data(),
)
def test_any_labels_and_numbers_give_well_formed_svg(names: list[str], data: st.DataObject) -> None:
    days = [f"03-{i:02d}" for i in range(1, 8)]
    series = {
        n: data.draw(st.lists(st.one_of(st.none(), values), min_size=7, max_size=7)) for n in names
    }
    nums = data.draw(st.lists(values, min_size=len(names), max_size=len(names)))
    svgs = [
        graphs.stacked_bars("<stack>", days, series),
        graphs.line_chart("<line>", days, series, references={"<ref>": 5.0}),
        graphs.bar_chart("<bar>", names, nums),
        graphs.pareto_chart("<pareto>", names, nums),
        graphs.horizontal_bars("<h>", names, nums, [v / 2 for v in nums], "half", "all"),
        graphs.median_p90_chart("<m>", names, [v / 2 for v in nums], nums, " d"),
    ]
    for svg in svgs:
        root = parse(svg)  # raises on any unescaped label
        assert "<script" not in svg
        for text in titles(root):
            assert text  # every mark says what it is
