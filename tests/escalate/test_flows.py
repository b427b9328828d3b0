"""The sweep flow and the sync lease, run through Prefect for real (a temporary test server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chartroute.store.engine import make_engine
from chartroute.store.lease import LeaseHeld, acquire, holder_of, release
from chartroute.store.schema import escalation_event, lease, notification
from tests import builders as b
from tests.conftest import ROOT, artifacts_since
from tests.escalate.test_sweep_store import add_item

pytestmark = pytest.mark.slow


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'flow.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "home"))
    return url


def test_sweep_flow_escalates_publishes_and_releases_its_lease(
    prefect_harness: None, database: str
) -> None:

    from chartroute.flows.escalate import escalate_flow

    engine = make_engine(database)
    opened = datetime(2026, 3, 2, 17, tzinfo=UTC)
    add_item(engine, "wi-1", opened, assignee="dr-avery")
    params: dict[str, Any] = {
        "config": str(ROOT / "config" / "practice.yaml"),
        "as_of": opened + timedelta(days=3),
    }
    since = datetime.now(UTC)
    result = escalate_flow(**params)
    assert result["items"] == 1 and result["escalated"] == 1 and result["notifications"] >= 1
    assert "deliver" in result
    again = escalate_flow(**params)
    assert again["escalated"] == 0 and again["notifications"] == 0
    with engine.connect() as conn:
        assert len(conn.execute(select(escalation_event)).all()) == 1
        assert conn.execute(select(lease)).all() == []  # released at the end
        recipients = {r.recipient for r in conn.execute(select(notification))}
    assert recipients == {"dr-avery", "mgr-harper"}  # the default ladder's manager tier

    sweep = [a for a in artifacts_since(since) if a.key == "escalation-sweep"]
    assert sweep and "escalated" in str(sweep[0].data) and "Encounter/" not in str(sweep[0].data)


def test_a_sync_cannot_start_while_another_holds_the_lease(
    prefect_harness: None, database: str, tmp_path: Path
) -> None:
    from chartroute.flows.sync import sync_flow

    engine = make_engine(database)
    b.write_ndjson(tmp_path / "src", [b.encounter("e1")])
    params: dict[str, Any] = {
        "source": str(tmp_path / "src"),
        "config": str(ROOT / "config" / "practice.yaml"),
        "as_of": datetime(2026, 3, 10, 12, tzinfo=UTC),
    }
    other = acquire(engine, "chartroute-sync", "other-server:1", timedelta(minutes=5))
    with pytest.raises(LeaseHeld, match="other-server"):
        sync_flow(**params)
    assert holder_of(engine, "chartroute-sync") == ("other-server:1", other.expires_at)
    release(engine, other)
    result: dict[str, Any] = sync_flow(**params)
    assert result["classify"]["opened"] >= 1
    assert holder_of(engine, "chartroute-sync") is None


def test_a_failed_sync_releases_its_lease(
    prefect_harness: None, database: str, tmp_path: Path
) -> None:
    from chartroute.flows.sync import sync_flow

    engine = make_engine(database)
    with pytest.raises(Exception):  # noqa: B017 - whatever the source error, the lease goes
        sync_flow(source=str(tmp_path / "missing"), config=str(ROOT / "config" / "practice.yaml"))
    assert holder_of(engine, "chartroute-sync") is None
