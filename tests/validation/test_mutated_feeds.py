"""Mutated feeds through a whole sync on SQLite and PostgreSQL (issue 18's families): no
exception escapes, every record read is stored, quarantined or counted as skipped, every file
not read is named, and both databases give the same answers.

Bounded here; ``bench/fuzz/run.py`` runs the same families over 10,000+ records."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from chartroute.config import PracticeConfig
from chartroute.store.engine import make_engine
from tests.conftest import AS_OF, _truncate
from tests.validation.fuzz_harness import Outcome, run_feed, write_feed
from tests.validation.mutations import mutated_feed

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def postgres(request: pytest.FixtureRequest) -> Iterator[Engine]:
    engine = make_engine(request.getfixturevalue("postgres_url"))
    yield engine
    engine.dispose()


def _on_sqlite(folder: Path, config: PracticeConfig) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/db.sqlite")
        try:
            return run_feed(engine, folder, config, AS_OF)
        finally:
            engine.dispose()


def _check(seed: int, size: int, config: PracticeConfig, postgres: Engine) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "feed"
        feed = mutated_feed(random.Random(seed), size)
        write_feed(folder, feed)
        lite = _on_sqlite(folder, config)
        _truncate(postgres)
        pg = run_feed(postgres, folder, config, AS_OF)
    for name, outcome in (("sqlite", lite), ("postgresql", pg)):
        assert outcome.crash is None, (name, seed, outcome.crash)
        assert outcome.unaccounted == [], (name, seed, outcome.unaccounted)
        assert outcome.read and outcome.quarantined, (name, seed)  # the feed was read, and bad
    assert lite.answers() == pg.answers(), seed


@settings(FUZZ, max_examples=3)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(30, 120))
def test_mutated_feeds_never_crash_lose_a_record_or_disagree(
    seed: int, size: int, config: PracticeConfig, postgres: Engine
) -> None:
    _check(seed, size, config, postgres)


@pytest.mark.slow
@settings(FUZZ, max_examples=6)  # two syncs of up to 400 records each; bench/fuzz/run.py goes long
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(100, 400))
def test_mutated_feeds_at_length(
    seed: int, size: int, config: PracticeConfig, postgres: Engine
) -> None:
    _check(seed, size, config, postgres)
