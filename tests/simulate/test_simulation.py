"""The practice simulation: deterministic, fair between policies, and the invariant every day.

Routed runs use the real pipeline (sync, validate, classify, route, deliver, sweep) on a real
store, SQLite and PostgreSQL; the Prefect flows' own run of it is compared in a slow test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from chartroute.config import load_config
from chartroute.simulate import InvariantViolation, SimAssumptions, SimSettings, simulate
from chartroute.simulate.metrics import DayRow
from chartroute.simulate.pipeline import StagePipeline, fresh_store
from chartroute.simulate.run import RunResult, write_practice

SMALL = SimSettings(providers=2, days=8, seed=3)


def stage_pipeline(engine: Engine) -> Callable[[Path, Path], StagePipeline]:
    return lambda ehr, cfg: StagePipeline(engine, ehr, load_config(cfg))


def routed(settings: SimSettings, workdir: Path, engine: Engine) -> RunResult:
    return simulate(settings, "routed", workdir, stage_pipeline(engine))


def sqlite_store(path: Path) -> Engine:
    return fresh_store(f"sqlite:///{path}")


def assert_invariant_every_day(rows: list[DayRow]) -> None:
    assert rows, "no day was simulated"
    for row in rows:
        assert row.invariant_checked, row.day
        assert row.clinical_to_staff == 0, row.day


def test_manual_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = simulate(SMALL, "manual", tmp_path / "a")
    second = simulate(SMALL, "manual", tmp_path / "b")
    assert [asdict(r) for r in first.rows] == [asdict(r) for r in second.rows]
    assert first.summary == second.summary
    other = simulate(SimSettings(providers=2, days=8, seed=4), "manual", tmp_path / "c")
    assert [asdict(r) for r in other.rows] != [asdict(r) for r in first.rows]
    assert_invariant_every_day(first.rows)


@pytest.mark.slow
def test_routed_is_deterministic_and_agrees_with_the_pipeline(tmp_path: Path) -> None:
    one = routed(SMALL, tmp_path / "a", sqlite_store(tmp_path / "a.db"))
    two = routed(SMALL, tmp_path / "b", sqlite_store(tmp_path / "b.db"))
    assert [asdict(r) for r in one.rows] == [asdict(r) for r in two.rows]
    assert_invariant_every_day(one.rows)
    # The real classifier found exactly the blockers the simulation made, every day.
    assert all(r.mismatched == 0 for r in one.rows), [r.mismatched for r in one.rows]
    # Routing takes the chasing off the clinicians: they chase nothing themselves.
    assert all(r.chase_minutes == 0 for r in one.rows)
    assert (
        one.summary.clinician_backlog
        < simulate(SMALL, "manual", tmp_path / "m").summary.clinician_backlog
    )


def test_without_administrative_blockers_both_policies_give_the_same_backlog(
    tmp_path: Path, engine: Engine
) -> None:
    none = SimSettings(providers=2, days=8, seed=5, assumptions=SimAssumptions(admin_share_scale=0))
    manual = simulate(none, "manual", tmp_path / "manual")
    route = routed(none, tmp_path / "routed", engine)
    assert [r.clinician_backlog for r in manual.rows] == [r.clinician_backlog for r in route.rows]
    assert [r.after_hours_minutes for r in manual.rows] == [
        r.after_hours_minutes for r in route.rows
    ]
    assert sum(r.clinician_backlog for r in manual.rows) > 0  # there was clinical work to do
    assert all(r.mismatched == 0 for r in route.rows)
    assert_invariant_every_day(manual.rows)
    assert_invariant_every_day(route.rows)


def test_with_zero_staff_capacity_routing_cannot_beat_manual_chasing(tmp_path: Path) -> None:
    none = SimSettings(
        providers=2, days=8, seed=6, assumptions=SimAssumptions(staff_items_per_day=0)
    )
    manual = simulate(none, "manual", tmp_path / "manual")
    route = routed(none, tmp_path / "routed", sqlite_store(tmp_path / "r.db"))
    for m, r in zip(manual.rows, route.rows, strict=True):
        assert r.clinician_backlog >= m.clinician_backlog, m.day
        assert r.after_hours_minutes >= m.after_hours_minutes, m.day
        assert r.open_charts >= m.open_charts, m.day
    assert sum(m.chase_minutes for m in manual.rows) > 0  # administrative work existed
    assert route.summary.clinician_backlog >= manual.summary.clinician_backlog
    assert_invariant_every_day(route.rows)


def test_routing_a_clinical_blocker_to_staff_stops_the_run(tmp_path: Path) -> None:
    """A config that sends missing diagnoses to medical assistants breaks the invariant."""

    def misrouted(ehr: Path, cfg: Path) -> StagePipeline:
        config = load_config(cfg)
        fields = dict(config.routing.documentation_fields)
        fields["diagnosis"] = "medical-assistant"
        fields["level-of-service"] = "medical-assistant"
        routing = config.routing.model_copy(update={"documentation_fields": fields})
        bad = config.model_copy(update={"routing": routing})
        return StagePipeline(sqlite_store(tmp_path / "bad.db"), ehr, bad)

    settings = SimSettings(providers=3, days=6, seed=2)
    with pytest.raises(InvariantViolation, match="clinical blockers assigned to staff"):
        simulate(settings, "routed", tmp_path / "run", misrouted)


def test_routed_needs_a_pipeline(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pipeline"):
        simulate(SMALL, "routed", tmp_path)


def test_simulated_practice_has_nobody_away_and_staff_capacity_as_assumed(tmp_path: Path) -> None:
    settings = SimSettings(assumptions=SimAssumptions(staff_items_per_day=7))
    config = write_practice(settings, tmp_path / "practice.yaml")
    assert all(not p.out_of_office for p in config.roster)
    staff = [p for p in config.roster if "medical-assistant" in p.roles]
    assert staff and all(p.daily_capacity == 7 for p in staff)


def test_a_store_with_data_is_refused(tmp_path: Path, engine: Engine) -> None:
    from chartroute.simulate.pipeline import StoreNotEmpty

    routed(SimSettings(providers=1, days=1, seed=1), tmp_path / "one", engine)
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        return  # a SQLite file is the simulation's own and is recreated
    with pytest.raises(StoreNotEmpty, match="already holds"):
        fresh_store(url)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    clinic=st.floats(0, 90),
    cap=st.floats(0, 240),
    note=st.floats(0, 20),
    chase=st.floats(0, 10),
    recheck=st.integers(1, 4),
    staff=st.sampled_from([0.0, 1.0, 5.0, 30.0]),
    scale=st.sampled_from([0.0, 0.5, 1.0, 2.5]),
    habits=st.booleans(),
)
@example(
    clinic=0.0, cap=1.1875, note=1.1875, chase=0.0, recheck=1, staff=0.0, scale=0.0, habits=False
)  # a day's minutes are rounded in its row: found by this test
def test_manual_days_stay_within_every_clinicians_minutes(
    tmp_path_factory: pytest.TempPathFactory,
    clinic: float, cap: float, note: float, chase: float, recheck: int, staff: float,
    scale: float, habits: bool,
) -> None:  # fmt: skip
    if clinic + cap <= 0:
        return
    a = SimAssumptions(
        clinic_chart_minutes=clinic, after_hours_cap_minutes=cap, note_minutes=note,
        chase_minutes=chase, recheck_days=recheck, staff_items_per_day=staff,
        admin_share_scale=scale, clinician_habits=habits,
    )  # fmt: skip
    result = simulate(
        SimSettings(providers=1, days=4, seed=9, assumptions=a),
        "manual",
        tmp_path_factory.mktemp("sim"),
    )
    slack = 0.005 + 1e-9  # a day's minutes are rounded to 0.01 in its row
    for row in result.rows:
        assert row.clinician_minutes <= clinic + cap + slack
        assert row.after_hours_minutes <= cap + slack
        assert row.open_charts >= row.clinician_backlog >= 0
        if scale == 0:
            assert row.chase_minutes == 0
    assert_invariant_every_day(result.rows)


@pytest.mark.slow
@pytest.mark.integration
def test_the_prefect_flows_give_the_same_days_as_the_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
) -> None:
    from chartroute.flows.simulate import simulate_flow

    settings = SimSettings(providers=2, days=3, seed=11)
    stages = routed(settings, tmp_path / "stages", sqlite_store(tmp_path / "s.db"))
    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "home"))
    state = simulate_flow(
        days=3, providers=2, policy="routed", seed=11, out=str(tmp_path / "flow"),
        return_state=True,
    )  # fmt: skip
    flow_rows = state.result()["days"]
    assert flow_rows == [asdict(r) for r in stages.rows]
    assert_invariant_every_day([DayRow(**r) for r in flow_rows])
    # the evenings' sync and sweep subflows carry the tag the failure alert matches
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    parent = FlowRunFilterParentFlowRunId(any_=[state.state_details.flow_run_id])
    with get_client(sync_client=True) as client:
        evenings = client.read_flow_runs(flow_run_filter=FlowRunFilter(parent_flow_run_id=parent))
    assert len(evenings) == 6 and all("chartroute" in run.tags for run in evenings)


def test_every_sensitivity_cell_keeps_what_it_changed(tmp_path: Path) -> None:
    """Cells that differ only off the grid (chase minutes, clinician minutes) must not land on
    a grid position: each one-at-a-time cell carries its label and its own assumption."""
    from chartroute.simulate.sensitivity import cell, grid

    base = SimSettings(providers=1, days=2, seed=1)
    cells = grid(base)
    grid_keys = [
        (s.assumptions.admin_share_scale, s.assumptions.staff_items_per_day)
        for label, s in cells
        if not label
    ]
    assert len(grid_keys) == len(set(grid_keys))
    labels = [label for label, _ in cells if label]
    assert len(labels) == len(set(labels)) and "none (the defaults)" in labels
    label, chase = next((lab, s) for lab, s in cells if lab.startswith("chase minutes"))
    run = simulate(chase, "manual", tmp_path / "m")
    made = cell(run, run, label)
    assert made.chase_minutes == chase.assumptions.chase_minutes != base.assumptions.chase_minutes
    assert made.label == label


@pytest.mark.slow
@pytest.mark.parametrize(("scale", "staff"), [(2.0, 20.0), (0.5, 5.0)])
def test_a_grid_cell_routes_no_worse_than_manual_chasing_on_open_charts(
    tmp_path: Path, scale: float, staff: float
) -> None:
    """The cells where strict pods left more charts open than manual chasing (twice the
    administrative work with 20 staff items a day; half of it with 5): with capacity-aware
    routing the routed practice has no more open charts, on average or at the end."""
    a = SimAssumptions(admin_share_scale=scale, staff_items_per_day=staff)
    settings = SimSettings(providers=3, days=10, seed=1, assumptions=a)
    manual = simulate(settings, "manual", tmp_path / "m")
    result = routed(settings, tmp_path / "r", sqlite_store(tmp_path / "r.db"))
    assert result.summary.open_charts <= manual.summary.open_charts
    assert result.summary.still_open_at_end <= manual.summary.still_open_at_end
    assert result.summary.clinician_backlog < manual.summary.clinician_backlog
    assert_invariant_every_day(result.rows)
    assert all(row.mismatched == 0 for row in result.rows)
