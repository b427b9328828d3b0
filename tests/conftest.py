"""Shared fixtures: a practice config, databases (SQLite and PostgreSQL), a clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

# A temporary Prefect server started by a test calls no one outside this machine, however
# pytest was invoked.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from chartroute.config import PracticeConfig, load_config
from chartroute.store.engine import make_engine
from tests.progress import (  # noqa: F401  (hooks: one progress line per test file)
    pytest_collection_finish,
    pytest_configure,
    pytest_report_teststatus,
    pytest_runtest_logreport,
    pytest_xdist_node_collection_finished,
)

ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with a slow or integration test first, each file's tests in their own order.
    With ``--dist loadfile`` the workers take files in this order (pyproject's addopts turn
    off xdist's own reordering by test count, which put a two-test file of four minutes
    last, running alone on one worker while the other idled)."""
    first = {
        item.path
        for item in items
        if item.get_closest_marker("slow") or item.get_closest_marker("integration")
    }
    items.sort(key=lambda item: item.path not in first)


PG_ADMIN_URL = os.environ.get(
    "CHARTROUTE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AS_OF = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def config() -> PracticeConfig:
    return load_config(ROOT / "config" / "practice.yaml")


@pytest.fixture
def as_of() -> datetime:
    return AS_OF


def _postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards.

    Outside CI a missing server skips the PostgreSQL tests; in CI (env CI set) it fails them.
    """
    if not _postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL not reachable; set up 127.0.0.1:5432 to run these tests")
    name = f"chartroute_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate(engine: Engine) -> None:
    from chartroute.store.schema import metadata

    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: each test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'chartroute.db'}")
    else:
        eng = make_engine(request.getfixturevalue("postgres_url"))
        _truncate(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'chartroute.db'}")
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def prefect_session_api() -> Iterator[None]:
    """One temporary Prefect API for every test that runs a flow in this process.

    Starting one costs about 20 s on these machines; the flows' runs are independent (each
    test has its own store), so they share it.
    """
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def prefect_harness(prefect_session_api: None) -> Iterator[None]:
    """The session's Prefect API, with its events reaching it.

    Prefect keeps one events worker per process, bound to the API URL of the moment it was
    made: a CLI test that ran a command on another server (a temporary one, or the home's)
    would leave it sending this test's task-run events to a server that is gone, and the API
    would show no task runs. Stopping it here makes the next event start one for this API.
    """
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=10)
    yield


def artifacts_since(since: datetime) -> list[Any]:
    """Artifacts created at or after ``since``, oldest first: what one test's runs published on
    the shared temporary server (so a dict by key keeps each key's newest)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        newest_first = client.read_artifacts(sort=ArtifactSort.CREATED_DESC, limit=200)
    return [a for a in reversed(newest_first) if a.created is not None and a.created >= since]
