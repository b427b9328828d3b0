"""The sync flow runs through Prefect for real and publishes counts, not chart data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import builders as b
from tests.conftest import ROOT, artifacts_since

pytestmark = pytest.mark.slow


def test_sync_flow_end_to_end(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    from chartroute.flows.sync import SyncParameters, sync_flow

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
    since = datetime.now(UTC)
    result = sync_flow(params)
    assert result["ingest"]["stored"] == 4
    assert result["classify"]["opened"] == 2
    again = sync_flow(params)
    assert again["classify"]["opened"] == 0 and again["ingest"]["partitions_skipped"] == 3

    found = artifacts_since(since)
    keys = {a.key for a in found}
    assert {"backlog-summary", "sync-counts"} <= keys
    summary = next(a for a in found if a.key == "backlog-summary")
    assert "unsigned-note" in str(summary.data) and "Patient/" not in str(summary.data)
