"""A backfill process killed with SIGKILL and started again ends as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chartroute.backfill.ledger import backfill_for
from chartroute.backfill.partitions import plan_partitions
from chartroute.backfill.run import run_partition, write_reconstructed_snapshots
from chartroute.store.engine import make_engine
from chartroute.store.schema import backfill_partition

from .conftest import Practice, loaded_engine
from .helpers import snapshot_values

pytestmark = pytest.mark.slow
DAYS = 1  # many small partitions, so the kill lands between and inside them


def _command(practice: Practice) -> list[str]:
    return [
        str(Path(sys.executable).parent / "chartroute"), "backfill", "--no-prefect",
        "--start", practice.first.isoformat(), "--end", practice.last.isoformat(),
        "--partition-days", str(DAYS), "--config", str(practice.dir / "practice.yaml"),
        "--source", str(practice.dir),
    ]  # fmt: skip


def test_sigkill_mid_backfill_then_resume(tmp_path: Path, practice: Practice) -> None:
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    env = {**os.environ, "CHARTROUTE_DATABASE_URL": url}
    engine = make_engine(url)
    total = len(plan_partitions(practice.first, practice.last, DAYS))
    proc = subprocess.Popen(_command(practice), env=env, stderr=subprocess.DEVNULL)
    done = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        with engine.connect() as conn:
            done = conn.execute(select(func.count()).select_from(backfill_partition)).scalar_one()
        if done >= 3:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the backfill finished before it could be killed"
    assert 3 <= done < total

    resumed = subprocess.run(_command(practice), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "already done" in " ".join(resumed.stderr.split())

    reference = loaded_engine(f"sqlite:///{tmp_path / 'reference.db'}", practice)
    name = backfill_for(practice.config, practice.first, practice.last, DAYS)
    for partition in plan_partitions(practice.first, practice.last, DAYS):
        run_partition(reference, practice.config, name, partition, practice.last)
    write_reconstructed_snapshots(reference, practice.config, name, practice.first, practice.last)
    assert snapshot_values(engine) == snapshot_values(reference)
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(backfill_partition)).scalar_one()
    assert rows == total
