"""The sync flow runs through Prefect for real and publishes counts, not chart data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import builders as b
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_sync_flow_end_to_end(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client

    from flows.sync import SyncParameters, sync_flow

    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'flow.db'}")
    b.write_ndjson(
        tmp_path / "src",
        [b.encounter("e1"), b.order("s1"), b.encounter("e2"), b.note("n2", "Encounter/e2")],
    )
    params = SyncParameters(
        source=str(tmp_path / "src"),
        config=str(ROOT / "config" / "practice.yaml"),
        as_of="2026-03-10T12:00:00Z",
    )
    result = sync_flow(params)
    assert result["ingest"]["stored"] == 4
    assert result["classify"]["opened"] == 2
    again = sync_flow(params)
    assert again["classify"]["opened"] == 0 and again["ingest"]["partitions_skipped"] == 3

    import anyio

    async def artifacts() -> list:
        async with get_client() as client:
            return await client.read_artifacts()

    found = anyio.run(artifacts)
    keys = {a.key for a in found}
    assert {"backlog-summary", "sync-counts"} <= keys
    summary = next(a for a in found if a.key == "backlog-summary")
    assert "unsigned-note" in str(summary.data) and "Patient/" not in str(summary.data)
