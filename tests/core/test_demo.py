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
    command = [sys.executable, "-m", "chartroute.cli.main"]
    try:
        result = subprocess.run(
            [*command, "demo", "--providers", "2", "--days", "5"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        # The commands after the demo need no flags and no waiting: the home's practice file
        # and its Prefect server.
        listed = subprocess.run(
            [*command, "worklist"], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        status = subprocess.run(
            [*command, "server", "status"], cwd=tmp_path, env=env, capture_output=True, text=True
        )
    finally:
        subprocess.run([*command, "server", "stop"], cwd=tmp_path, env=env, capture_output=True)
    assert result.returncode == 0, result.stderr[-3000:]
    said = " ".join(result.stderr.split())
    assert result.stderr.startswith("using practice ")
    assert "the runs are in the Prefect UI at http://127.0.0.1:" in said
    assert "temporary" not in said
    assert listed.returncode == 0 and listed.stdout.startswith("priority\tid\t"), listed.stderr
    assert status.stdout.startswith("running\t")
    assert (tmp_path / "home" / "practice.yaml").is_symlink()
    assert "Open charts by category" in result.stderr  # piped: titles on stderr, rows on stdout
    assert "on clinicians:" in result.stderr and "on staff only:" in result.stderr
    assert "category\tcharts" in result.stdout
    home = tmp_path / "home"
    assert (home / "chartroute.db").exists()
    reports = list((home / "reports").glob("*.html"))
    assert len(reports) == 1
    # the demo ends with what the file channel wrote: one file per message, by person
    outbox = home / "outbox"
    written = sorted(outbox.rglob("*.txt"))
    assert written, "the file channel wrote nothing"
    assert f"notifications: {len(written)} messages sent" in said
    assert f"to {outbox}" in said
    assert {"clin-001", "clin-002"} <= {p.parent.name for p in written}
    assert all(p.read_text().startswith("To: ") for p in written)
    names = [
        line.split('"family":"')[1].split('"')[0]
        for line in (home / "demo-practice" / "Patient.ndjson").read_text().splitlines()[:50]
        if '"family":"' in line
    ]
    assert names
    page = reports[0].read_text()
    assert not [n for n in names if n in result.stdout or n in page]
