"""The sync flow runs through Prefect for real and publishes counts, not chart data."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests.conftest import ROOT, artifacts_since

pytestmark = pytest.mark.slow


def test_sync_flow_end_to_end(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    from chartroute.flows.sync import sync_flow

    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'flow.db'}")
    b.write_ndjson(
        tmp_path / "src",
        [b.encounter("e1"), b.order("s1"), b.encounter("e2"), b.note("n2", "Encounter/e2")],
    )
    params: dict[str, Any] = {
        "source": str(tmp_path / "src"),
        "config": str(ROOT / "config" / "practice.yaml"),
        "as_of": "2026-03-10T12:00:00Z",
    }
    since = datetime.now(UTC)
    result = sync_flow(**params)
    assert result["ingest"]["stored"] == 4
    assert result["classify"]["opened"] == 2
    # The example practice file runs in shadow: the messages are recorded, none is sent.
    assert result["classify"]["mode"] == result["deliver"]["mode"] == "shadow"
    assert result["deliver"]["shadow"] > 0 and result["deliver"]["sent"] == 0
    again = sync_flow(**params)
    assert again["classify"]["opened"] == 0 and again["ingest"]["partitions_skipped"] == 3
    assert again["unchanged"] is True  # recorded by check-for-changes; no other task ran

    found = artifacts_since(since)
    keys = {a.key for a in found}
    assert {"backlog-summary", "sync-counts"} <= keys
    summary = next(a for a in found if a.key == "backlog-summary")
    assert "unsigned-note" in str(summary.data) and "Patient/" not in str(summary.data)
    assert "Shadow mode" in str(summary.data)


def _task_runs(flow_run_id: Any) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )


def test_a_config_edited_during_a_run_stops_it_and_nothing_is_done_twice(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file changes after the cursors advance: classification refuses to run on it, at
    once and without a retry, and the next run does the rest exactly once."""
    from sqlalchemy import func, select

    from chartroute import sync
    from chartroute.config import ConfigError
    from chartroute.flows.sync import sync_flow
    from chartroute.store.engine import make_engine
    from chartroute.store.schema import notification, work_item

    url = f"sqlite:///{tmp_path / 'flow.db'}"
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", url)
    config = tmp_path / "practice.yaml"
    shutil.copy(ROOT / "config" / "practice.yaml", config)
    b.write_ndjson(
        tmp_path / "src",
        [b.encounter("e1"), b.order("s1"), b.encounter("e2"), b.note("n2", "Encounter/e2")],
    )
    commit = sync.commit_cursors

    def commit_then_edit(engine: Any, plan: sync.SyncPlan) -> None:
        commit(engine, plan)
        config.write_bytes(config.read_bytes() + b"\n# edited while the sync ran\n")

    monkeypatch.setattr(sync, "commit_cursors", commit_then_edit)
    params: dict[str, Any] = {
        "source": str(tmp_path / "src"),
        "config": str(config),
        "as_of": "2026-03-10T12:00:00Z",
    }
    state = sync_flow(**params, return_state=True)
    assert state.is_failed()
    with pytest.raises(ConfigError, match="changed during the run") as refused:
        state.result()
    assert str(config) in str(refused.value)
    runs = {r.name.rsplit("-", 1)[0]: r for r in _task_runs(state.state_details.flow_run_id)}
    classify = runs["classify-route-record"]
    assert classify.state is not None and classify.state.is_failed()
    assert classify.run_count == 1  # refused at once, not retried
    assert not {"summary", "deliver", "backlog-snapshot"} & set(runs)

    engine = make_engine(url)

    def count(table: Any) -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    assert count(work_item) == 0 and count(notification) == 0
    monkeypatch.setattr(sync, "commit_cursors", commit)
    again = sync_flow(**params)  # the edited file, from the start
    assert again["ingest"]["partitions_skipped"] == 3  # stored by the refused run, not re-read
    assert again["classify"]["opened"] == 2
    items, notices = count(work_item), count(notification)
    assert items == 2 and notices > 0
    third = sync_flow(**params)
    assert third["classify"]["opened"] == 0
    assert (count(work_item), count(notification)) == (items, notices)
    engine.dispose()


def test_a_command_tags_the_flow_run_and_not_its_task_runs(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure alert needs the tags on the flow run; on a task run they only make Prefect
    ask the server for tag concurrency slots before every task (a scheduled run's tasks carry
    none either)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from chartroute.flows.run_tags import tagged
    from chartroute.flows.sync import sync_flow

    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'flow.db'}")
    b.write_ndjson(tmp_path / "src", [b.encounter("e1"), b.order("s1")])
    with tagged("Example Family Medicine"):
        state = sync_flow(
            source=str(tmp_path / "src"),
            config=str(ROOT / "config" / "practice.yaml"),
            as_of="2026-03-10T12:00:00Z",
            return_state=True,
        )
    assert state.is_completed()
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    assert {"chartroute", "practice:Example Family Medicine"} <= set(run.tags)
    tasks = _task_runs(run_id)
    names = " ".join(t.name for t in tasks)
    assert "scan-validate-store" in names and "classify-route-record" in names
    assert all(not t.tags for t in tasks), sorted({tag for t in tasks for tag in t.tags})
