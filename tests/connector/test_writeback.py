"""Task write-back against a real FHIR server: one Task per open work item, completed on close."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from chartroute.config import PracticeConfig
from chartroute.fhirclient.connect import connect
from chartroute.fhirclient.retry import RetryPolicy
from chartroute.generate import GenerationSummary
from chartroute.sources.rest import FhirRestSource
from chartroute.store.schema import work_item
from chartroute.writeback import mirror_work_items
from chartroute.writeback.fhir_task import WORK_ITEM_CODE
from tests.connector.conftest import classify_time, ehr_settings, practice_config
from tests.connector.faultproxy import Fault, FaultProxy
from tests.connector.pipeline import run_sync
from tests.connector.sekmet import SekmetServer, free_port

pytestmark = pytest.mark.integration

SYSTEM = "https://chartroute.org/fhir/work-item"


def our_tasks(server: SekmetServer) -> dict[str, list[dict[str, Any]]]:
    """The server's chartroute Tasks, by work item id."""
    out: dict[str, list[dict[str, Any]]] = {}
    for task in server.search("Task", {"code": WORK_ITEM_CODE}):
        ident = next(i["value"] for i in task["identifier"] if i["system"] == SYSTEM)
        out.setdefault(ident, []).append(task)
    return out


def items(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(select(work_item))}


def mirror(config: PracticeConfig, engine: Engine) -> Any:
    assert config.ehr is not None
    http = connect(config.ehr)
    try:
        return mirror_work_items(engine, http, config)
    finally:
        http.close()


def test_each_open_item_is_one_task_and_closing_the_chart_completes_it(
    loaded_server: SekmetServer,
    practice: GenerationSummary,
    practice_resources: list[dict[str, Any]],
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    ehr = ehr_settings(loaded_server.base_url, key_file, tmp_path, writeback={"enabled": True})
    config = practice_config(practice, ehr)
    assert config.ehr is not None
    source = FhirRestSource.from_config(config.ehr)
    engine = db_factory("rest")
    as_of = classify_time()
    run_sync(engine, source, config, as_of)
    open_ids = {i for i, row in items(engine).items() if row["status"] == "open"}
    assert len(open_ids) > 20

    first = mirror(config, engine)
    second = mirror(config, engine)
    assert first.created == len(open_ids) and second.created == 0
    tasks = our_tasks(loaded_server)
    assert set(tasks) == open_ids
    assert all(len(found) == 1 for found in tasks.values())

    row = next(r for r in items(engine).values() if r["status"] == "open" and r["filing_deadline"])
    task = tasks[row["id"]][0]
    encounter = next(r for r in practice_resources if f"Encounter/{r['id']}" == row["encounter"])
    assert task["status"] == "requested" and task["intent"] == "order"
    assert task["focus"] == {"reference": row["encounter"]}
    assert task["for"] == encounter["subject"]
    assert task["businessStatus"]["coding"][0]["code"] == row["category"]
    assert task["code"]["coding"][0]["code"] == WORK_ITEM_CODE
    assert task["restriction"]["period"]["end"] == row["filing_deadline"].isoformat()
    person = config.person(row["assignee"])
    if person.practitioner:
        assert task["owner"]["reference"] == person.practitioner
    else:
        assert task["owner"]["identifier"]["value"] == person.id

    # Our Tasks come back on the next sync; they must not read as coders' questions.
    time.sleep(3)
    again = run_sync(engine, source, config, as_of)
    assert again.classified.opened == 0

    notes = {
        f"DocumentReference/{r['id']}": r
        for r in practice_resources
        if r["resourceType"] == "DocumentReference" and r.get("docStatus") == "preliminary"
    }
    unsigned = next(
        r
        for r in items(engine).values()
        if r["status"] == "open"
        and r["category"] == "unsigned-note"
        and [k for k in r["evidence"] if k in notes]
    )
    for key in [k for k in unsigned["evidence"] if k in notes]:
        loaded_server.put({**copy.deepcopy(notes[key]), "docStatus": "final"})
    time.sleep(3)
    closing = run_sync(engine, source, config, as_of)
    assert closing.classified.closed >= 1
    done = mirror(config, engine)
    assert done.completed == closing.classified.closed and done.created == 0
    after = our_tasks(loaded_server)
    assert set(after) == set(tasks)
    assert after[unsigned["id"]][0]["status"] == "completed"
    still_open = {i for i, r in items(engine).items() if r["status"] == "open"}
    assert {i for i, found in after.items() if found[0]["status"] == "requested"} == still_open


def test_a_lost_response_does_not_duplicate_a_task(
    sekmet: Callable[..., SekmetServer],
    proxy_factory: Callable[[str, int], FaultProxy],
    practice: GenerationSummary,
    practice_resources: list[dict[str, Any]],
    key_file: Path,
    tmp_path: Path,
    db_factory: Callable[[str], Engine],
) -> None:
    proxy_port, server_port = free_port(), free_port()
    server = sekmet(port=server_port, base_url=f"http://127.0.0.1:{proxy_port}")
    server.load(practice_resources)
    proxy = proxy_factory(f"http://127.0.0.1:{server_port}", proxy_port)
    ehr = ehr_settings(server.base_url, key_file, tmp_path, writeback={"enabled": True})
    config = practice_config(practice, ehr)
    assert config.ehr is not None
    engine = db_factory("rest")
    run_sync(engine, FhirRestSource.from_config(config.ehr), config, classify_time())
    open_ids = {i for i, row in items(engine).items() if row["status"] == "open"}
    # The server makes the Task, then the connection drops before the answer arrives.
    proxy.add(Fault("drop", "/fhir/Task", method="POST", times=3))
    http = connect(config.ehr, retry=RetryPolicy(attempts=5, base_delay=0.05))
    try:
        counts = mirror_work_items(engine, http, config)
    finally:
        http.close()
    assert proxy.fired() == 3
    assert counts.created + counts.unchanged == len(open_ids)
    tasks = our_tasks(server)
    assert set(tasks) == open_ids and all(len(found) == 1 for found in tasks.values())


@pytest.mark.slow
def test_sync_flow_over_rest_with_write_back(
    loaded_server: SekmetServer,
    practice: GenerationSummary,
    key_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from chartroute.flows.sync import sync_flow
    from tests.connector.conftest import write_practice_yaml

    ehr = ehr_settings(loaded_server.base_url, key_file, tmp_path, writeback={"enabled": True})
    config_file = write_practice_yaml(practice, ehr, tmp_path / "practice.yaml")
    monkeypatch.setenv("CHARTROUTE_DATABASE_URL", f"sqlite:///{tmp_path / 'flow.db'}")
    monkeypatch.setenv("CHARTROUTE_HOME", str(tmp_path / "home"))
    params: dict[str, Any] = {
        "source": loaded_server.base_url,
        "config": str(config_file),
        "as_of": classify_time(),
        "deliver": False,
    }
    with prefect_test_harness(server_startup_timeout=120):
        first = sync_flow(**params)
        time.sleep(3)
        second = sync_flow(**params)
    opened = first["classify"]["opened"]
    assert opened > 20 and first["ingest"]["quarantined"] == 0
    assert second["ingest"]["partitions_skipped"] >= 9  # only our own Tasks changed
    tasks = our_tasks(loaded_server)
    assert len(tasks) == opened and all(len(found) == 1 for found in tasks.values())
