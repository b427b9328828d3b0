"""Every failure ends in one line that names what failed and what to do, and exit code 1; the
traceback is kept in the error log (or printed with ``--debug``), never shown by default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.main import app

CONFIG = str(Path(__file__).resolve().parents[2] / "config" / "practice.yaml")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CHARTROUTE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CHARTROUTE_DEBUG", raising=False)
    return tmp_path / "home"


def migrated_store(home: Path) -> None:
    """A practice's store, so that read-only commands (which never create one) open it."""
    from chartroute.store.engine import make_engine

    make_engine(f"sqlite:///{home / 'chartroute.db'}").dispose()


def one_line_failure(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    # the first line names the practice file and database used (cli/practice_home.py)
    lines = [x for x in result.stderr.strip().splitlines() if not x.startswith("using ")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_an_unreachable_database_is_one_line(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", "postgresql://postgres@127.0.0.1:9/chartroute")
    line = one_line_failure(["sync", "--source", str(home.parent), "--config", CONFIG])
    assert "postgresql://postgres@127.0.0.1:9/chartroute unreachable" in line
    assert "check that it is running" in line


def test_an_unwritable_database_folder_is_named_before_sqlite_opens_it(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.mkdir()
    migrated_store(home)
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == home else real_access(p, mode)
    )
    line = one_line_failure(["worklist"])
    assert f"{home} is read-only for this user" in line
    assert "CHARTROUTE_HOME" in line


def test_a_damaged_database_file_is_one_line(home: Path) -> None:
    home.mkdir()
    (home / "chartroute.db").write_bytes(b"this is not sqlite" * 200)
    line = one_line_failure(["worklist"])
    assert "is damaged" in line and "move it aside" in line


def test_a_bug_says_where_its_traceback_went(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("something no one expected")

    home.mkdir()
    migrated_store(home)
    monkeypatch.setattr("chartroute.worklist.worklist", broken)
    line = one_line_failure(["worklist"])
    log = home / "logs" / "errors.log"
    assert line == (
        "error: unexpected RuntimeError: something no one expected; this is a bug to report "
        f"with the command you ran (the traceback is in {log})"
    )
    assert "Traceback" in log.read_text() and "something no one expected" in log.read_text()

    debug = CliRunner().invoke(app, ["--debug", "worklist"])
    assert debug.exit_code == 1
    assert isinstance(debug.exception, RuntimeError)  # the traceback reaches the terminal
