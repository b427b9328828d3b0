"""Run a generated practice through daily syncs, sweeps and snapshots, one evening at a time.

Each simulated evening regenerates the practice as the EHR stood at 18:30 local, syncs it with
the store's clock set to that evening (so work items open and close at the instants a live
sync would have recorded), runs the escalation sweep and takes the day's live snapshot. This
is how the report's trends, the ROI's windows and the PHI scans get realistic data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from chartroute import ingest, sync
from chartroute.analytics.live_snapshot import record_snapshot
from chartroute.config import PracticeConfig, load_config
from chartroute.generate import GeneratorProfile, generate_practice
from chartroute.sources import open_source

TIMEZONE = "America/New_York"


@dataclass
class SimulatedPractice:
    """What a simulation left behind."""

    source_dir: Path
    config_path: Path
    config: PracticeConfig
    evenings: list[datetime]


@contextmanager
def store_clock(monkeypatch: pytest.MonkeyPatch, at: datetime) -> Iterator[None]:
    """Make the sync stages stamp rows with ``at`` instead of the wall clock."""
    with monkeypatch.context() as patch:
        patch.setattr(sync, "utcnow", lambda: at)
        patch.setattr(ingest, "utcnow", lambda: at)  # store_batch stamps the facts it writes
        yield


def evening(day: date, tz: str = TIMEZONE) -> datetime:
    return datetime.combine(day, time(18, 30), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def sync_evening(engine: Engine, source_dir: Path, config: PracticeConfig, as_of: datetime) -> None:
    """The sync pipeline's stages, as the sync flow runs them, at ``as_of``."""
    source = open_source(str(source_dir))
    plan = sync.plan_sync(engine, source, as_of)
    for partition in plan.partitions:
        sync.ingest_partition(engine, source, partition)
    sync.commit_cursors(engine, plan)
    sync.classify_pending(engine, config, as_of, plan.run_id)
    sync.finish_sync(engine, plan.run_id, "completed", {})


def simulate(
    engine: Engine,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    providers: int = 2,
    days: int = 15,
    seed: int = 7,
    start: date = date(2026, 3, 2),
    sweep: bool = True,
) -> SimulatedPractice:
    """Simulate ``days`` clinic days with a sync, a sweep and a snapshot each evening."""
    source_dir = workdir / "ehr"
    profile = GeneratorProfile(providers=providers, days=days, seed=seed, start=start)
    clinic_days = profile.clinic_days()
    evenings: list[datetime] = []
    config: PracticeConfig | None = None
    for day in clinic_days:
        at = evening(day)
        generate_practice(source_dir, profile.model_copy(update={"as_of": at}))
        if config is None:
            config = load_config(source_dir / "practice.yaml")
        with store_clock(monkeypatch, at):
            sync_evening(engine, source_dir, config, at)
        if sweep:
            from chartroute.sweep import run_sweep

            run_sweep(engine, config, at, f"sweep-{day.isoformat()}")
        record_snapshot(engine, config, at)
        evenings.append(at)
    assert config is not None
    return SimulatedPractice(source_dir, source_dir / "practice.yaml", config, evenings)
