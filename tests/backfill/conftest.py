"""A generated practice loaded once into a store, and helpers to backfill it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chartroute.backfill.run import index_encounters, load_source
from chartroute.config import PracticeConfig, load_config
from chartroute.generate import GeneratorProfile, generate_practice
from chartroute.sources import NdjsonDirSource
from chartroute.store.engine import make_engine

START = date(2025, 1, 6)  # a Monday
CLINIC_DAYS = 30
#: The final export is taken long after the last visit, so most blockers have resolved.
FINAL_AS_OF = datetime(2025, 4, 30, 12, 0, tzinfo=UTC)


def profile(as_of: datetime | None = None) -> GeneratorProfile:
    """A small practice: 3 clinicians, 30 clinic days, 10 visits a day each (900 charts)."""
    return GeneratorProfile(
        providers=3,
        days=CLINIC_DAYS,
        seed=20250106,
        start=START,
        encounters_per_provider_day=10,
        as_of=as_of or FINAL_AS_OF,
    )


@dataclass(frozen=True)
class Practice:
    dir: Path
    config: PracticeConfig
    first: date
    last: date


@pytest.fixture(scope="session")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Practice:
    out = tmp_path_factory.mktemp("backfill-practice")
    generate_practice(out, profile())
    config = load_config(out / "practice.yaml")
    last = START + timedelta(days=CLINIC_DAYS * 7 // 5 + 20)
    return Practice(out, config, START, last)


def loaded_engine(url: str, practice: Practice) -> Engine:
    """A migrated store holding the practice's facts, indexed by start day."""
    engine = make_engine(url)
    load_source(engine, NdjsonDirSource(practice.dir), FINAL_AS_OF)
    index_encounters(engine, practice.config.practice.timezone)
    return engine


@pytest.fixture(scope="session")
def loaded_store(tmp_path_factory: pytest.TempPathFactory, practice: Practice) -> Engine:
    """One SQLite store loaded with the practice, shared by read-only tests."""
    path = tmp_path_factory.mktemp("backfill-store") / "chartroute.db"
    return loaded_engine(f"sqlite:///{path}", practice)
