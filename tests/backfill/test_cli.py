"""``chartroute backfill`` without Prefect: exit codes, messages, and what it writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.backfill.run import load_source
from chartroute.cli.main import app
from chartroute.sources import NdjsonDirSource
from chartroute.store.engine import make_engine

from .conftest import FINAL_AS_OF, Practice
from .helpers import snapshot_values

runner = CliRunner()


def _text(output: str) -> str:
    """The output with the console's line wrapping undone."""
    return " ".join(output.split())


def _args(practice: Practice, *extra: str) -> list[str]:
    return [
        "backfill", "--start", practice.first.isoformat(), "--end", practice.last.isoformat(),
        "--config", str(practice.dir / "practice.yaml"), "--no-prefect", *extra,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2025-13-01", "--end", "2025-02-01"], "--start: '2025-13-01'"),
        (["--start", "2025-02-01", "--end", "2025-01-01"], "is before --start"),
        (["--start", "2025-01-01", "--end", "2025-02-01", "--source", "/nonexistent"],
         "folder not found"),
        (["--start", "2025-01-01", "--end", "2025-02-01", "--runner", "fibres"], "--runner"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_and_names_the_option(
    practice: Practice, args: list[str], message: str
) -> None:
    config = str(practice.dir / "practice.yaml")
    result = runner.invoke(app, ["backfill", *args, "--config", config, "--no-prefect"])
    assert result.exit_code == 2, result.output
    assert message in _text(result.output)


def test_backfill_then_rerun_writes_each_day_once(
    tmp_path: Path, practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    empty = runner.invoke(app, _args(practice, "--dry-run"))
    assert empty.exit_code == 2, empty.output
    assert "the store holds none" in _text(empty.output)
    first = runner.invoke(app, _args(practice, "--source", str(practice.dir)))
    assert first.exit_code == 0, first.output
    days = (practice.last - practice.first).days + 1
    assert f"snapshots for {days} days" in _text(first.output)
    values = snapshot_values(make_engine(url))
    assert values
    again = runner.invoke(app, _args(practice))
    assert again.exit_code == 0, again.output
    assert "(9 already done)" in _text(again.output)
    assert snapshot_values(make_engine(url)) == values


def test_without_a_source_it_backfills_what_sync_stored(
    tmp_path: Path, practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's ``backfill --start D --end D`` after a sync: the store's charts, not 0."""
    url = f"sqlite:///{tmp_path / 'synced.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    load_source(make_engine(url), NdjsonDirSource(practice.dir), FINAL_AS_OF)
    first = runner.invoke(app, _args(practice))
    assert first.exit_code == 0, first.output
    assert "(0 already done), 900 encounters" in _text(first.output)
    again = runner.invoke(app, _args(practice, "--source", str(practice.dir)))
    assert "(9 already done), 0 encounters" in _text(again.output)
    forced = runner.invoke(app, _args(practice, "--force"))
    assert "(0 already done, 9 redone), 900 encounters" in _text(forced.output)
    outside = runner.invoke(
        app, [*_args(practice)[:1], "--start", "2024-06-03", "--end", "2024-06-30",
              *_args(practice)[5:]],
    )  # fmt: skip
    assert outside.exit_code == 2, outside.output
    assert "no encounters to backfill from 2024-06-03 to 2024-06-30" in _text(outside.output)
