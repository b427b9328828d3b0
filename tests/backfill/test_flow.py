"""The backfill flow through Prefect: threads and a Dask LocalCluster give the same result,
a rerun skips every partition, and progress is published as an artifact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chartroute.backfill.sequence import BackfillSummary
from chartroute.flows.backfill import run_backfill

from .conftest import FINAL_AS_OF, Practice
from .helpers import snapshot_values

pytestmark = pytest.mark.slow


def _progress_artifacts() -> list[Any]:
    import anyio
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def read() -> list[Any]:
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["backfill-progress"]))
            )

    return anyio.run(read)


def _run(
    tmp_path: Path, practice: Practice, name: str, runner: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[BackfillSummary, dict[tuple[Any, ...], float], str]:
    url = f"sqlite:///{tmp_path / name}.db"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    result = run_backfill(
        str(practice.dir), practice.first, practice.last,
        config=str(practice.dir / "practice.yaml"), partition_days=7, as_of=FINAL_AS_OF,
        runner=runner, workers=2,
    )  # fmt: skip
    from chartroute.store.engine import make_engine

    return result, snapshot_values(make_engine(url)), url


def test_dask_local_cluster_equals_threads(
    prefect_harness: None, tmp_path: Path, practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    threaded, threaded_values, url = _run(tmp_path, practice, "threads", "threads", monkeypatch)
    assert threaded.ran == threaded.partitions > 1
    assert threaded.encounters > 0 and threaded_values
    dask, dask_values, _ = _run(tmp_path, practice, "dask", "dask", monkeypatch)
    assert dask.encounters == threaded.encounters
    assert dask_values == threaded_values

    # The same backfill again on the threaded store: every partition is skipped.
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    again = run_backfill(
        str(practice.dir), practice.first, practice.last,
        config=str(practice.dir / "practice.yaml"), partition_days=7, as_of=FINAL_AS_OF,
        runner="threads", workers=2,
    )  # fmt: skip
    assert again.ran == 0 and again.skipped == threaded.partitions
    from chartroute.store.engine import make_engine

    assert snapshot_values(make_engine(url)) == threaded_values
    progress = _progress_artifacts()
    assert progress and max(a.data for a in progress) == pytest.approx(100.0)


def test_a_range_ending_before_it_starts_fails_the_run_at_once(
    prefect_harness: None, tmp_path: Path
) -> None:
    from datetime import date

    from chartroute.flows.backfill import backfill_flow
    from tests.conftest import ROOT

    state = backfill_flow(
        source=str(tmp_path), start=date(2026, 2, 1), end=date(2026, 1, 1),
        config=str(ROOT / "config" / "practice.yaml"), return_state=True,
    )  # fmt: skip
    assert state.is_failed()
    with pytest.raises(ValueError, match="end 2026-01-01 is before start 2026-02-01"):
        state.result()
