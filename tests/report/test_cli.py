"""``chartroute roi`` and the argument checks of ``chartroute report`` (exit codes, messages)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.store.engine import make_engine
from tests.conftest import ROOT
from tests.report.conftest import Simulation, leaked, phi_strings

CONFIG = str(ROOT / "config" / "practice.yaml")


def test_roi_on_first_days_says_what_is_missing(
    simulation: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", simulation.url)
    config = str(simulation.practice.config_path)
    result = CliRunner().invoke(app, ["roi", "--config", config])
    assert result.exit_code == 0, result.output
    assert "not computed" in result.stdout and "no days after the baseline" in result.stdout
    assert leaked(result.stdout, phi_strings(simulation.practice.source_dir)) == []


def test_roi_with_windows_as_json(simulation: Simulation, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", simulation.url)
    args = ["roi", "--config", str(simulation.practice.config_path), "--format", "json"]
    args += ["--baseline-from", "2026-03-02", "--baseline-to", "2026-03-04"]
    args += ["--from", "2026-03-09", "--to", "2026-03-11"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["baseline"]["days"] == 3 and data["current"]["days"] == 3
    lag = data["figures"][1]
    assert lag["value"] == pytest.approx(
        data["baseline"]["charge_lag_mean_days"] - data["current"]["charge_lag_mean_days"]
    )
    assert all(f["formula"] and f["inputs"] for f in data["figures"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["roi", "--baseline-from", "2026-13-01", "--baseline-to", "2026-12-01"], "ISO date"),
        (["roi", "--baseline-from", "2026-03-01"], "give both"),
        (["roi", "--from", "2026-03-09", "--to", "2026-03-01"], "is after"),
        (["report", "--from", "yesterday"], "--from"),
        (["report", "--from", "2026-03-09", "--to", "2026-03-01"], "is after"),
    ],
)
def test_bad_dates_exit_2_with_the_option_named(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(app, [*args, "--config", CONFIG])
    assert result.exit_code == 2
    assert message in result.output


def test_roi_without_any_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["roi", "--config", CONFIG])
    assert result.exit_code == 2 and "no database at" in result.stderr  # never creates one
    make_engine(url).dispose()  # a store with no snapshots yet
    result = CliRunner().invoke(app, ["roi", "--config", CONFIG])
    assert result.exit_code == 0
    assert "no snapshots at all" in result.stdout
    assert "Recovered clinician hours per month: not computed" in result.stdout
