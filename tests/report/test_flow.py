"""The report flow and the sync flow's snapshot step, run through Prefect for real."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from chartroute.store.engine import make_engine
from chartroute.store.schema import backlog_snapshot
from tests import builders as b
from tests.conftest import ROOT, artifacts_since
from tests.report.conftest import Simulation, leaked, phi_strings

pytestmark = pytest.mark.slow


def test_report_command_runs_the_flow_and_publishes_artifacts(
    prefect_harness: None,
    simulation: Simulation,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chartroute.cli.main import app

    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", simulation.url)
    config = str(simulation.practice.config_path)
    since = datetime.now(UTC)
    result = CliRunner().invoke(
        app,
        ["report", "--config", config, "--out", str(tmp_path), "--no-snapshot"],
    )
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.parent == tmp_path and path.suffix == ".html"
    html = path.read_text(encoding="utf-8")

    found = {a.key: a for a in artifacts_since(since) if a.key}
    assert {"management-report", "report-headlines", "review-accuracy"} <= set(found)
    markdown = str(found["management-report"].data)
    assert path.resolve().as_uri() in markdown and "Open charts" in markdown
    table = json.dumps(found["report-headlines"].data) + json.dumps(found["review-accuracy"].data)
    phi = phi_strings(simulation.practice.source_dir)
    for text in (html, markdown, table, result.output):
        assert leaked(text, phi) == []


def test_report_flow_takes_the_days_snapshot(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chartroute.flows.report import report_flow

    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    result = report_flow(
        config=str(ROOT / "config" / "practice.yaml"),
        out_dir=str(tmp_path / "out"),
        as_of="2026-03-10T22:00:00Z",
    )
    assert result["snapshot"]["day"] == "2026-03-10"
    assert Path(result["path"]).exists()
    with make_engine(url).connect() as conn:
        days = conn.execute(select(backlog_snapshot.c.day, backlog_snapshot.c.origin)).all()
    assert [(str(d), o) for d, o in days] == [("2026-03-10", "live")]


def test_sync_flow_ends_with_a_snapshot(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chartroute.flows.sync import sync_flow

    url = f"sqlite:///{tmp_path / 's.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "home"))
    b.write_ndjson(
        tmp_path / "src",
        [b.encounter("e1"), b.order("s1"), b.encounter("e2"), b.note("n2", "Encounter/e2")],
    )
    result = sync_flow(
        source=str(tmp_path / "src"),
        config=str(ROOT / "config" / "practice.yaml"),
        as_of="2026-03-10T12:00:00Z",
        deliver=False,
    )
    snapshot = result["snapshot"]
    assert snapshot["day"] == "2026-03-10"
    assert snapshot["open_charts"] == 1 and snapshot["open_items"] == 2  # note + result on e1
    assert snapshot["clinician_backlog_charts"] == 1
