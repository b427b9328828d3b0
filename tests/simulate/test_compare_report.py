"""The comparison tables and the simulation page, on hand-made runs (no simulation runs)."""

from __future__ import annotations

import math
import re
import statistics
from pathlib import Path
from typing import Any

import pytest

from chartroute.simulate.assumptions import SimAssumptions
from chartroute.simulate.compare import (
    AFTER_HOURS,
    BACKLOG,
    CHARGE_LAG,
    CHASING,
    DAILY_HEADERS,
    HEADLINE_HEADERS,
    OPEN_CHARTS,
    SHORTAGE_HEADERS,
    daily_markdown,
    headline,
    headline_markdown,
    sensitivity_markdown,
)
from chartroute.simulate.metrics import DayRow, RunSummary
from chartroute.simulate.report import render_html, write_html
from chartroute.simulate.run import RunResult, SimSettings
from chartroute.simulate.sensitivity import SensitivityCell
from chartroute.simulate.work import Policy

DAYS = ("2026-01-05", "2026-01-06", "2026-01-07")


def _run(
    policy: Policy,
    seed: int,
    backlog: float,
    after_hours: float = 60.0,
    time_to_close: dict[str, float] | None = None,
    days: tuple[str, ...] = DAYS,
) -> RunResult:
    rows = [
        DayRow(
            day=day,
            policy=policy,
            clinician_backlog=int(backlog) + i,
            open_charts=int(backlog) + 5,
            after_hours_minutes=after_hours * 2,
            clinician_minutes=100.0,
            chase_minutes=10.0,
            clinician_did_admin=0,
            staff_done=3,
            asked_again=0,
            charts_closed=2,
            charge_lag_days=1.5 if i else None,
            invariant_checked=True,
        )
        for i, day in enumerate(days)
    ]
    summary = RunSummary(
        policy=policy,
        seed=seed,
        clinicians=2,
        days=len(days),
        clinician_backlog=backlog,
        open_charts=backlog + 5,
        after_hours_per_clinician=after_hours,
        chase_minutes_per_clinician=12.0 if policy == "manual" else 3.0,
        charge_lag_days=2.0,
        still_open_at_end=4,
        time_to_close=dict(time_to_close or {"unsigned-note": 1.0, "pending-result": 2.0}),
    )
    return RunResult(SimSettings(providers=2, days=len(days), seed=seed), policy, rows, summary)


def _pairs() -> list[tuple[RunResult, RunResult]]:
    return [
        (_run("manual", 1, 10.0, 60.0), _run("routed", 1, 7.0, 30.0)),
        (_run("manual", 2, 20.0, 80.0), _run("routed", 2, 12.0, 60.0)),
    ]


def test_reduction_is_per_seed_then_averaged() -> None:
    row = headline(_pairs())[0]
    assert row.measure == BACKLOG
    assert row.unit == "charts"
    # Seed 1: 1 - 7/10 = 0.3; seed 2: 1 - 12/20 = 0.4. Pooled means would give 1 - 19/30.
    assert row.reduction_mean == pytest.approx(0.35)
    assert row.reduction_mean != pytest.approx(1 - 19 / 30)
    assert row.reduction_min == pytest.approx(0.3)
    assert row.reduction_max == pytest.approx(0.4)
    assert row.manual_mean == pytest.approx(15.0)
    assert row.manual_sd == pytest.approx(statistics.stdev([10.0, 20.0]))
    assert row.routed_mean == pytest.approx(9.5)
    assert row.routed_sd == pytest.approx(statistics.stdev([7.0, 12.0]))


def test_measures_in_order_then_categories_in_classifier_order() -> None:
    pairs = [
        (
            _run("manual", 1, 10.0, time_to_close={"zeta": 3.0, "unsigned-note": 1.0}),
            _run("routed", 1, 7.0, time_to_close={"pending-result": 2.0, "unsigned-note": 0.5}),
        )
    ]
    rows = headline(pairs)
    assert [r.measure for r in rows] == [
        BACKLOG,
        OPEN_CHARTS,
        AFTER_HOURS,
        CHASING,
        CHARGE_LAG,
        "Time to close: Pending result",
        "Time to close: Unsigned note",
        "Time to close: zeta",
    ]
    assert [r.unit for r in rows] == ["charts", "charts", "minutes", "minutes"] + ["days"] * 4
    by = {r.measure: r for r in rows}
    note = by["Time to close: Unsigned note"]
    assert note.reduction_mean == pytest.approx(0.5)
    # One seed: no spread to report.
    assert note.manual_sd == 0.0
    assert note.routed_sd == 0.0
    # A category only one policy closed has no reduction, and no mean for the other policy.
    zeta = by["Time to close: zeta"]
    assert zeta.reduction_mean is None and zeta.reduction_min is None
    assert zeta.manual_mean == pytest.approx(3.0)
    assert math.isnan(zeta.routed_mean)  # nothing to average


def test_zero_manual_figure_has_no_reduction() -> None:
    pairs = [(_run("manual", 1, 0.0), _run("routed", 1, 0.0))]
    row = headline(pairs)[0]
    assert row.reduction_mean is None
    assert "| n/a |" in headline_markdown([row], [1])


@pytest.mark.parametrize(
    "pairs, message",
    [
        ([], "at least one"),
        ([(_run("routed", 1, 7.0), _run("manual", 1, 10.0))], "manual, routed"),
        ([(_run("manual", 1, 10.0), _run("manual", 1, 7.0))], "manual, routed"),
        ([(_run("manual", 1, 10.0), _run("routed", 2, 7.0))], "share its seed"),
        (
            [
                (_run("manual", 1, 10.0), _run("routed", 1, 7.0)),
                (_run("manual", 1, 10.0), _run("routed", 1, 7.0)),
            ],
            "more than one pair",
        ),
    ],
)
def test_mismatched_pairs_are_refused(
    pairs: list[tuple[RunResult, RunResult]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        headline(pairs)


def test_headline_markdown() -> None:
    rows = headline(_pairs())
    text = headline_markdown(rows, [1, 2])
    lines = text.strip().splitlines()
    assert lines[0].startswith("Seeds: 1, 2 ")
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| " + " | ".join(HEADLINE_HEADERS) + " |"
    assert set(table[1]) <= set("|-:")
    assert len(table) == 2 + len(rows)
    body = table[2:]
    assert body[0] == (f"| {BACKLOG} (charts) | 15.0 ± 7.1 | 9.5 ± 3.5 | 35% (30% to 40%) |")
    assert "| Charge lag (days) | 2.00 ± 0.00 | 2.00 ± 0.00 | 0% |" in body
    assert all(line.count(" | ") == 3 for line in body)


def test_markdown_pipe_in_category_does_not_split_the_cell() -> None:
    ttc = {"a|b": 1.0}
    pairs = [
        (_run("manual", 1, 10.0, time_to_close=ttc), _run("routed", 1, 5.0, time_to_close=ttc))
    ]
    last = headline_markdown(headline(pairs), [1]).strip().splitlines()[-1]
    assert last.startswith("| Time to close: a\\|b (days) |")
    assert len(re.findall(r"(?<!\\)\|", last)) == 5


def test_daily_markdown_has_a_row_per_day() -> None:
    manual, routed = _pairs()[0]
    lines = daily_markdown(manual, routed).strip().splitlines()
    assert lines[0] == "| " + " | ".join(DAILY_HEADERS) + " |"
    assert len(lines) == 2 + len(DAYS)
    assert lines[2] == "| 2026-01-05 | 10 / 7 | 15 / 12 | 120.0 / 60.0 | n/a / n/a | ok | 0 |"
    assert lines[3].startswith("| 2026-01-06 | 11 / 8 |")
    with pytest.raises(ValueError, match="different days"):
        daily_markdown(manual, _run("routed", 1, 7.0, days=DAYS[:2]))


def _cell(scale: float, staff: float, minutes: float = 150.0, **kw: Any) -> SensitivityCell:
    values = {
        "manual_backlog": 10.0,
        "routed_backlog": 7.0,
        "manual_after_hours": 50.0,
        "routed_after_hours": 40.0,
        "manual_open": 20.0,
        "routed_open": 21.0,
        "manual_end": 30.0,
        "routed_end": 30.0,
    }
    values.update(kw)
    return SensitivityCell(scale, staff, minutes, **values)


def test_sensitivity_markdown_grid_and_shortage() -> None:
    cells = [
        _cell(0.0, 0.0, manual_backlog=0.0, routed_backlog=0.0),
        _cell(0.0, 20.0),
        _cell(1.0, 0.0),
        _cell(1.0, 20.0, routed_backlog=12.0),
        _cell(
            1.0,
            20.0,
            minutes=60.0,
            manual_backlog=30.0,
            routed_backlog=27.0,
            label="clinician chart minutes a day: 60",
            routed_growth=1.25,
        ),
        _cell(
            1.0,
            20.0,
            manual_backlog=30.0,
            routed_backlog=27.0,
            chase_minutes=6.0,
            label="chase minutes: 6",
        ),
    ]
    text = sensitivity_markdown(cells)
    tables = [block for block in text.split("\n\n") if block.startswith("|")]
    assert len(tables) == 2
    grid = tables[0].splitlines()
    assert grid[0].endswith("| 0 items/day | 20 items/day |")
    assert len(grid) == 2 + 2  # two admin scales
    assert grid[2].startswith("| 0 | backlog n/a · after-hours -20% · open +5% · end 0% |")
    assert grid[3] == (
        "| 1 | backlog -30% · after-hours -20% · open +5% · end 0% "
        "| backlog +20% · after-hours -20% · open +5% · end 0% |"
    )
    shortage = tables[1].splitlines()
    assert shortage[0] == "| " + " | ".join(SHORTAGE_HEADERS) + " |"
    assert shortage[2:] == [
        "| clinician chart minutes a day: 60 | 30.0 | 27.0 | 10% | 20% | +0.0 / +1.2 |",
        "| chase minutes: 6 | 30.0 | 27.0 | 10% | 20% | +0.0 / +0.0 |",
    ]
    assert sensitivity_markdown([]) == ""


def test_cells_on_several_seeds_average_every_figure() -> None:
    from chartroute.simulate.sensitivity import average

    one = _cell(1.0, 5.0, manual_open=20.0, routed_open=22.0, manual_end=30.0, routed_end=27.0)
    two = _cell(1.0, 5.0, manual_open=24.0, routed_open=21.0, manual_end=34.0, routed_end=36.0)
    mean = average([one, two])
    assert (mean.manual_open, mean.routed_open, mean.manual_end, mean.routed_end) == (
        22.0,
        21.5,
        32.0,
        31.5,
    )
    assert mean.seeds == 2 and mean.admin_share_scale == 1.0
    assert "each the mean over 2 seeds" in sensitivity_markdown([mean])


_LOADS = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    odd = {"<b>odd": 2.0, "unsigned-note": 1.0}
    pairs = [
        (
            _run("manual", 1, 10.0, time_to_close=odd),
            _run("routed", 1, 7.0, time_to_close=odd),
        ),
        (_run("manual", 2, 20.0), _run("routed", 2, 12.0)),
    ]
    rows = headline(pairs)
    cells = [_cell(1.0, 20.0), _cell(1.0, 20.0, minutes=45.0)]
    page = render_html(pairs, rows, SimAssumptions(), cells, title="Sim <test>")
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;' in (
        page
    )
    assert "<script" not in page.lower()
    assert not _LOADS.search(page)
    assert "<link" not in page.lower()
    assert "url(" not in page.lower()
    assert page.count("<svg") >= 4
    assert "<b>odd" not in page
    assert "&lt;b&gt;odd" in page
    assert "Sim &lt;test&gt;" in page and "Sim <test>" not in page
    assert 'data-key="clinician-backlog"' in page
    assert "35% lower" in page
    assert 'id="sensitivity"' in page
    assert "staff_items_per_day" in page
    path = write_html(tmp_path / "out" / "sim.html", pairs, rows, SimAssumptions())
    written = path.read_text(encoding="utf-8")
    assert path == tmp_path / "out" / "sim.html"
    assert 'id="sensitivity"' not in written
    assert written.startswith("<!DOCTYPE html>")


def test_the_docs_list_every_assumption_with_its_default() -> None:
    from chartroute.simulate.assumptions import SimAssumptions, assumption_rows

    page = (Path(__file__).resolve().parents[2] / "docs" / "simulation.md").read_text()
    for name, value, _, _ in assumption_rows(SimAssumptions()):
        assert f"| `{name}` | {value} |" in page, name
