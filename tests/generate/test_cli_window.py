"""``chartroute generate`` draws visits that end today unless told otherwise.

Sync, worklist and sweep read the clock; a practice generated for January and synced in
December made every item hundreds of days old, past filing limits and delinquent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from chartroute.cli.main import app

from .ndjson_helpers import read


def _visit_days(out: Path) -> list[date]:
    return sorted(
        datetime.fromisoformat(e["period"]["start"]).date() for e in read(out, "Encounter")
    )


def _generate(out: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        app, ["generate", str(out), "--providers", "1", "--days", "3", *extra]
    )
    assert result.exit_code == 0, result.output
    return " ".join(result.stderr.split())  # undo the console's wrapping


def test_the_default_window_ends_today_and_the_as_of_is_now(tmp_path: Path) -> None:
    message = _generate(tmp_path / "out")
    days = _visit_days(tmp_path / "out")
    assert days, "no visits"
    today = datetime.now(UTC).date()
    # The last clinic day is today or, on a weekend, the Friday before (practice time may be a
    # day behind UTC).
    assert today - timedelta(days=3) <= days[-1] <= today
    assert today - days[0] <= timedelta(days=7)
    assert f"clinic days from {days[0]}" in message
    assert "2026-01-05" not in (tmp_path / "out" / "generator.json").read_text()


def test_an_as_of_without_a_start_ends_the_window_on_that_day(tmp_path: Path) -> None:
    message = _generate(tmp_path / "out", "--as-of", "2026-03-11")
    days = _visit_days(tmp_path / "out")
    assert days[-1] == date(2026, 3, 11)
    assert days[0] == date(2026, 3, 9)
    assert "as of 2026-03-11" in message


def test_an_explicit_start_still_wins(tmp_path: Path) -> None:
    _generate(tmp_path / "out", "--start", "2026-01-05")
    days = _visit_days(tmp_path / "out")
    assert (days[0], days[-1]) == (date(2026, 1, 5), date(2026, 1, 7))
