"""The README's first command: `chartroute demo` on the embedded defaults, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_runs_sync_sweep_and_report(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CHARTROUTE_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "COLUMNS": "200",
    }
    env.pop("CHARTROUTE_DATABASE_URL", None)
    env.pop("PREFECT_API_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "chartroute.cli.main", "demo", "--providers", "2", "--days", "5"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Open charts by category" in result.stderr  # piped: titles on stderr, rows on stdout
    assert "on clinicians:" in result.stderr and "on staff only:" in result.stderr
    assert "category\tcharts" in result.stdout
    home = tmp_path / "home"
    assert (home / "chartroute.db").exists()
    reports = list((home / "reports").glob("*.html"))
    assert len(reports) == 1
    assert any((home / "outbox").rglob("*")), "the file channel wrote nothing"
    names = [
        line.split('"family":"')[1].split('"')[0]
        for line in (home / "demo-practice" / "Patient.ndjson").read_text().splitlines()[:50]
        if '"family":"' in line
    ]
    assert names
    page = reports[0].read_text()
    assert not [n for n in names if n in result.stdout or n in page]
