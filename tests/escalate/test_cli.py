"""``chartroute sweep``, ``chartroute serve`` input checks and the worklist's escalation columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.store.engine import make_engine
from chartroute.sweep import run_sweep
from tests.conftest import ROOT
from tests.escalate.helpers import local
from tests.escalate.test_sweep_store import add_item

CONFIG = str(ROOT / "config" / "practice.yaml")
runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "home"))
    return url


def test_worklist_shows_escalation_level_and_next_time(database: str) -> None:
    from chartroute.config import load_config

    engine = make_engine(database)
    add_item(engine, "wi-1", local("2026-03-02 12:00"), assignee="dr-avery")
    run_sweep(engine, load_config(CONFIG), local("2026-03-05 12:00"))
    result = runner.invoke(app, ["worklist", "--format", "jsonl", "--as-of", "2026-03-05"])
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["escalation_level"] == 2 and row["escalation_tier"] == "manager"
    # Monday 12:00 New York: two business days after the manager tier (over the weekend)
    assert row["next_escalation_at"].startswith("2026-03-09T16:00")
    table = runner.invoke(app, ["worklist", "--as-of", "2026-03-05"])
    assert table.exit_code == 0 and "16:0" in table.stdout  # the next escalation time


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "--config", "nope.yaml"], "cannot read"),
        (["sweep", "--config", CONFIG, "--as-of", "yesterday"], "--as-of"),
        (["serve", "--config", CONFIG, "--source", "/no/such/folder"], "folder not found"),
        (["serve", "--config", CONFIG, "--source", str(ROOT), "--alert-block", "x"], "block-type"),
    ],
)
def test_bad_input_exits_2_with_a_message(database: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.slow
def test_sweep_command_runs_the_flow(database: str) -> None:
    engine = make_engine(database)
    add_item(engine, "wi-1", local("2026-03-02 12:00"), assignee="dr-avery")
    args = ["sweep", "--config", CONFIG, "--as-of", "2026-03-03T17:00:00+00:00", "--no-deliver"]
    first = runner.invoke(app, [*args, "--jsonl"])
    assert first.exit_code == 0, first.output
    counts = json.loads(first.stdout.strip().splitlines()[-1])
    assert counts["escalated"] == 1 and counts["notifications"] == 1
    assert counts["mode"] == "shadow"  # the example practice file has not gone live
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "escalated" in again.stdout
    assert "shadow mode" in " ".join(again.stderr.split())
    # a sweep started by hand carries the tags the failure alert matches
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    run_id = counts["run_id"]
    with get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    assert {"chartroute", "practice:Example Family Medicine"} <= set(run.tags)
