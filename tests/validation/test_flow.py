"""The sync flow's validate step in Prefect: artifacts with counts only, and a broken feed
fails the flow run before anything is routed or any cursor moves."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from chartroute.store.engine import make_engine
from chartroute.store.schema import source_cursor, sync_run, work_item
from chartroute.validation.threshold import TooManyBadRecords
from tests import builders as b
from tests.conftest import ROOT, artifacts_since

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'flow.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "home"))
    return url


def _params(folder: Path) -> dict[str, Any]:
    return {
        "source": str(folder),
        "config": str(ROOT / "config" / "practice.yaml"),
        "as_of": "2026-03-10T12:00:00Z",
        "deliver": False,
    }


def test_a_few_bad_records_pass_with_artifacts_and_data_docs(
    prefect_harness: None, home: str, tmp_path: Path
) -> None:
    from chartroute.flows.sync import sync_flow

    since = datetime.now(UTC)
    good = [b.encounter(f"e{i:02d}") for i in range(40)]
    b.write_ndjson(tmp_path / "src", [*good, b.encounter("bad", status="closed")])
    result = sync_flow(**_params(tmp_path / "src"))
    assert result["ingest"]["stored"] == 40 and result["ingest"]["quarantined"] == 1
    assert result["validation"]["bad_share"] == pytest.approx(1 / 41)
    docs = Path(result["validation"]["data_docs"])
    assert docs.is_file() and docs.is_relative_to(tmp_path / "home")
    found = {a.key: a for a in artifacts_since(since)}
    table = str(found["validation-results"].data)
    assert "status: not in the FHIR R4 encounter-status value set" in table
    assert "Encounter/bad" not in table and "Patient/" not in table
    assert "1 of 41 records quarantined" in str(found["validation-summary"].data)


def test_a_broken_feed_fails_the_flow_run_before_routing(
    prefect_harness: None, home: str, tmp_path: Path
) -> None:
    from chartroute.flows.sync import sync_flow

    good = [b.encounter(f"e{i:02d}") for i in range(10)]
    bad = [b.encounter(f"x{i}", status="closed") for i in range(2)]
    b.write_ndjson(tmp_path / "src", [*good, *bad])
    with pytest.raises(TooManyBadRecords, match=r"2 of 12 records quarantined \(16\.67%\)"):
        sync_flow(**_params(tmp_path / "src"))
    engine = make_engine(home)
    with engine.connect() as conn:
        assert conn.execute(select(sync_run.c.status)).scalars().all() == ["failed"]
        assert conn.execute(select(func.count()).select_from(source_cursor)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(work_item)).scalar() == 0
    engine.dispose()


def test_a_folder_with_nothing_to_read_fails_sync_with_exit_2(
    prefect_harness: None, home: str, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from chartroute.cli.main import app

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "Encounters.ndjson").write_text('{"resourceType": "Encounter"}\n')
    config = str(ROOT / "config" / "practice.yaml")
    result = CliRunner().invoke(
        app, ["sync", "--source", str(tmp_path / "src"), "--config", config]
    )
    assert result.exit_code == 2, result.output
    assert "no records to read" in result.stderr and "Encounters.ndjson" in result.stderr


def test_a_record_no_utc_instant_can_hold_is_quarantined_and_the_run_completes(
    prefect_harness: None, home: str, tmp_path: Path
) -> None:
    from chartroute.flows.sync import sync_flow

    overflow = b.encounter("e-overflow")
    overflow["meta"] = {"lastUpdated": "0001-01-01T00:00:00+05:00"}
    good = [b.encounter(f"e{i:02d}") for i in range(40)]
    b.write_ndjson(tmp_path / "src", [*good, overflow])
    result = sync_flow(**_params(tmp_path / "src"))
    assert result["ingest"]["stored"] == 40 and result["ingest"]["quarantined"] == 1
    engine = make_engine(home)
    try:
        with engine.connect() as conn:
            assert {r.status for r in conn.execute(select(sync_run.c.status))} == {"completed"}
    finally:
        engine.dispose()
