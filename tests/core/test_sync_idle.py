"""A sync with nothing to do does the plan and stops: no Great Expectations, no Prefect, no
classification; the run is still recorded. Anything left to do runs the whole sync."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from chartroute.config import PracticeConfig
from chartroute.sources import NdjsonDirSource
from chartroute.store import facts as fact_store
from chartroute.store.engine import make_engine
from chartroute.store.schema import sync_run
from chartroute.sync_here import SyncHere
from chartroute.sync_idle import nothing_to_do, record_idle_run
from chartroute.sync_sequence import run_sync
from tests import builders as b
from tests.conftest import ROOT

CONFIG = ROOT / "config" / "practice.yaml"
AS_OF = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)

#: Runs the CLI in a fresh interpreter and says which heavy packages it loaded.
HEAVY = """
import sys
from chartroute.cli.main import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    names = ("great_expectations", "prefect", "pandas", "httpx", "jwt")
    heavy = [m for m in names if m in sys.modules]
    print("HEAVY", ",".join(heavy) or "none", file=sys.stderr)
"""


def synced(engine: Engine, folder: Path, config: PracticeConfig) -> NdjsonDirSource:
    b.write_ndjson(folder, [b.encounter("e1"), b.note("n1"), b.encounter("e2"), b.order("s1")])
    source = NdjsonDirSource(folder)
    run_sync(SyncHere(engine, source, config, AS_OF), config)
    return source


def test_an_unchanged_rerun_loads_neither_gx_nor_prefect_and_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: PracticeConfig
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("CHARTROUTE_HOME", str(home))
    monkeypatch.delenv("CHARTROUTE_DATABASE_URL", raising=False)
    engine = make_engine()
    synced(engine, tmp_path / "feed", config)
    env = {**os.environ, "CHARTROUTE_HOME": str(home), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    args = ["sync", "--source", str(tmp_path / "feed"), "--config", str(CONFIG)]
    done = subprocess.run(
        [sys.executable, "-c", HEAVY, *args, "--as-of", AS_OF.isoformat()],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "HEAVY none" in done.stderr, done.stderr[-2000:]
    assert "nothing changed since the last sync" in done.stderr
    assert "Open charts" not in done.stdout  # no backlog tables: the last sync's are current
    with engine.connect() as conn:
        last = conn.execute(
            select(sync_run.c.status, sync_run.c.counts).order_by(sync_run.c.started_at.desc())
        ).first()
    assert last is not None and last.status == "completed" and last.counts["unchanged"] is True
    assert last.counts["ingest"]["read"] == 0 and last.counts["ingest"]["partitions_skipped"] == 3


def test_only_a_settled_store_is_idle(
    engine: Engine, tmp_path: Path, config: PracticeConfig
) -> None:
    source = synced(engine, tmp_path / "feed", config)
    idle = nothing_to_do(engine, source, config, AS_OF)
    assert idle is not None and idle.partitions_skipped == 3
    assert nothing_to_do(engine, source, config, AS_OF, full=True) is None
    # a new go-live cut-off changes what the charts are: classify must run
    assert nothing_to_do(engine, source, config.with_since(date(2026, 3, 1)), AS_OF) is None
    # a queued chart
    with engine.begin() as conn:
        fact_store.mark_dirty(conn, ["Encounter/e1"])
    assert nothing_to_do(engine, source, config, AS_OF) is None


def test_a_changed_file_or_a_new_day_is_not_idle(
    engine: Engine, tmp_path: Path, config: PracticeConfig
) -> None:
    source = synced(engine, tmp_path / "feed", config)
    tomorrow = AS_OF.replace(day=11)
    assert nothing_to_do(engine, source, config, tomorrow) is None  # no snapshot of that day yet
    b.write_ndjson(tmp_path / "feed", [b.encounter("e3")])
    assert nothing_to_do(engine, source, config, AS_OF) is None


def test_an_idle_run_is_recorded_completed(
    engine: Engine, tmp_path: Path, config: PracticeConfig
) -> None:
    source = synced(engine, tmp_path / "feed", config)
    idle = nothing_to_do(engine, source, config, AS_OF)
    assert idle is not None
    record = record_idle_run(engine, idle, config, AS_OF)
    with engine.connect() as conn:
        row = conn.execute(select(sync_run).where(sync_run.c.id == record["run_id"])).one()
    assert row.status == "completed" and row.finished_at is not None
    assert row.counts["unchanged"] is True and row.counts["classify"]["charts"] == 0
