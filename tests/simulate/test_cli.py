"""`chartroute simulate`: bad options exit 2 naming what is wrong; runs write the comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.main import app


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["simulate", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "bogus=1"], "unknown assumption"),
        (["--set", "chase_minutes=-1"], "chase_minutes"),
        (["--set", "staff_items_per_day=lots"], "staff_items_per_day"),
        (["--set", "novalue"], "expected name=value"),
        (["--policy", "sometimes"], "--policy"),
        (["--start", "yesterday"], "--start"),
        (["--seed", "1", "--seed", "1"], "each seed once"),
        (["--days", "5"], "--days 5 is not longer than warmup_days 5"),
        (["--days", "4", "--set", "warmup_days=4"], "--days 4 is not longer than warmup_days 4"),
    ],
)
def test_bad_options_exit_2_naming_the_problem(
    args: list[str], message: str, tmp_path: Path
) -> None:
    code, _, err = run(*args, "--out", str(tmp_path))
    assert code == 2
    assert message in err
    assert not (tmp_path / "simulation.md").exists()


def test_one_policy_prints_its_days_and_summary(tmp_path: Path) -> None:
    code, out, _ = run(
        "--policy", "manual", "--days", "3", "--providers", "1", "--out", str(tmp_path),
        "--set", "warmup_days=1", "--json",
    )  # fmt: skip
    assert code == 0
    (summary,) = json.loads(out)
    assert summary["policy"] == "manual" and summary["days"] == 3
    code, out, _ = run(
        "--policy", "manual", "--days", "3", "--providers", "1", "--out", str(tmp_path),
        "--set", "warmup_days=1",
    )  # fmt: skip
    assert code == 0 and "manual, seed 1" in out and "2026-01-07" in out


def test_both_policies_write_the_comparison(tmp_path: Path) -> None:
    code, _, err = run(
        "--days", "3", "--providers", "1", "--seed", "1", "--seed", "2", "--no-prefect",
        "--set", "warmup_days=0", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    text = (tmp_path / "simulation.md").read_text()
    assert "Seeds: 1, 2" in text and "Clinicians' own backlog" in text
    assert text.count("## Days, seed") == 2
    html = (tmp_path / "simulation.html").read_text()
    assert "<svg" in html and "<script" not in html
    assert (tmp_path / "seed-2" / "routed" / "simulation.db").exists()
