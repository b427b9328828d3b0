"""Deployments against a real Prefect server started on 127.0.0.1 by the test.

- ``deployments/prefect.yaml`` deploys (schedules with explicit timezones, one-at-a-time
  concurrency, typed parameters) and a run created by the server's scheduler is executed by a
  process worker: the sweep it runs records escalations under its flow run id.
- ``chartroute serve`` registers the same deployments from the practice file and executes
  their runs; a failed run sets off the failure alert, delivered to a local webhook.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
import yaml
from sqlalchemy import select

from chartroute.store.engine import make_engine
from chartroute.store.schema import escalation_event, work_item, work_item_event
from tests import builders as b
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
T = TypeVar("T")

PRACTICE = """\
practice:
  name: Deploy Test
  timezone: America/Chicago
  calendar:
    hours: {mon: "07:30-18:00", tue: "07:30-18:00", wed: "07:30-18:00", thu: "07:30-18:00",
            fri: "07:30-18:00", sat: "09:00-12:00"}
roster:
  - {id: dr-a, name: A, roles: [clinician], practitioner: Practitioner/prac-001}
  - {id: ma-a, name: B, roles: [medical-assistant]}
  - {id: rc-a, name: C, roles: [referral-coordinator]}
  - {id: fd-a, name: D, roles: [front-desk]}
  - {id: mgr-a, name: E, roles: [manager]}
escalation:
  default:
    tiers:
      - {name: reminder, after: 1 hours, notify: [assignee]}
      - {name: manager, after: 2 hours, notify: [manager]}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 1.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A Prefect server on 127.0.0.1 with its own home and SQLite database, per test: a
    deployment made by `prefect deploy` keeps its code storage when `serve` re-registers the
    same name, so the two ways must not share a server."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def healthy() -> bool | None:
        if process.poll() is not None:
            raise AssertionError((home / "server.log").read_text()[-3000:])
        try:
            import httpx

            return (
                httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200
                or None
            )
        except Exception:
            return None

    try:
        wait_for("the Prefect server", healthy, 90)
        yield env
    finally:
        stop(process)
        log.close()


def client_call(env: dict[str, str], fn: Callable[[Any], T]) -> T:
    """Run ``fn(client)`` with a synchronous Prefect client for this server."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: env["PREFECT_API_URL"]}),
        get_client(sync_client=True) as client,
    ):
        return fn(client)


@pytest.fixture
def practice(tmp_path: Path) -> dict[str, str]:
    """A practice file, an EHR folder and a database holding two items opened 3 hours ago."""
    config = tmp_path / "practice.yaml"
    config.write_text(PRACTICE)
    b.write_ndjson(tmp_path / "ehr", [b.encounter("e1")])
    url = f"sqlite:///{tmp_path / 'chartroute.db'}"
    engine = make_engine(url)
    opened = datetime.now(UTC) - timedelta(hours=3)
    with engine.begin() as conn:
        for item_id in ("wi-1", "wi-2"):
            conn.execute(
                work_item.insert().values(
                    id=item_id,
                    encounter=f"Encounter/{item_id}",
                    category="unsigned-note",
                    subject="note",
                    role="clinician",
                    assignee="dr-a",
                    clinician="dr-a",
                    status="open",
                    evidence=[],
                    detail="",
                    visit_at=opened,
                    opened_at=opened,
                    updated_at=opened,
                )
            )
            conn.execute(
                work_item_event.insert().values(
                    work_item_id=item_id, at=opened, event="opened", assignee="dr-a"
                )
            )
    engine.dispose()
    return {
        "config": str(config),
        "source": str(tmp_path / "ehr"),
        "CHARTROUTE_DATABASE_URL": url,
        "CHARTROUTE_HOME": str(tmp_path / "home"),
    }


def escalation_runs(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(select(escalation_event.c.run_id))}
    finally:
        engine.dispose()


def finished_runs(env: dict[str, str], deployment: str) -> list[Any]:
    def read(client: Any) -> list[Any]:
        from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

        dep = client.read_deployment_by_name(deployment)
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep.id]))
        )
        return [r for r in runs if r.state is not None and r.state.is_final()]

    return client_call(env, read)


def test_prefect_yaml_deploys_and_a_scheduled_run_executes(
    server: dict[str, str], practice: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **server,
        "CHARTROUTE_SOURCE": practice["source"],
        "CHARTROUTE_CONFIG": practice["config"],
        "CHARTROUTE_DATABASE_URL": practice["CHARTROUTE_DATABASE_URL"],
        "CHARTROUTE_HOME": practice["CHARTROUTE_HOME"],
    }
    prefect = str(BIN / "prefect")
    subprocess.run(
        [prefect, "work-pool", "create", "chartroute", "--type", "process"],
        env=env,
        check=True,
        capture_output=True,
    )

    deployed = subprocess.run(
        [prefect, "--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    def read(client: Any) -> dict[str, Any]:
        return {
            name: client.read_deployment_by_name(name)
            for name in (
                "chartroute-sync/sync",
                "chartroute-escalate/escalation-sweep",
                "chartroute-report/daily-report",
                "chartroute-simulate/simulation",
                "chartroute-backfill/backfill",
            )
        }

    deployments = client_call(server, read)
    sync, sweep = (
        deployments["chartroute-sync/sync"],
        deployments["chartroute-escalate/escalation-sweep"],
    )
    assert [(s.schedule.cron, s.schedule.timezone) for s in sync.schedules] == [
        ("*/15 8-16 * * 1-5", "America/New_York")
    ]
    assert [(s.schedule.cron, s.schedule.timezone) for s in sweep.schedules] == [
        ("5 * * * *", "America/New_York")
    ]
    report = deployments["chartroute-report/daily-report"]
    assert [(s.schedule.cron, s.schedule.timezone) for s in report.schedules] == [
        ("30 6 * * *", "America/New_York")
    ]
    assert deployments["chartroute-simulate/simulation"].schedules == []  # ad hoc
    backfill = deployments["chartroute-backfill/backfill"]
    assert backfill.schedules == []  # ad hoc
    form = backfill.parameter_openapi_schema
    assert {"start", "end"} <= set(form["required"])
    for dep in deployments.values():
        assert dep.global_concurrency_limit is not None and dep.global_concurrency_limit.limit == 1
        assert dep.concurrency_options.collision_strategy == "CANCEL_NEW"
        assert dep.work_pool_name == "chartroute" and "chartroute" in dep.tags
    assert sync.parameters == {"source": practice["source"], "config": practice["config"]}
    # the typed parameters are a form in the UI: one field each, with descriptions
    fields = sweep.parameter_openapi_schema["properties"]
    assert {"config", "as_of", "deliver"} <= set(fields) and fields["as_of"]["description"]

    # the same file with the sweep due every minute: the scheduler creates the run, a worker runs it
    spec = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
    for deployment in spec["deployments"]:
        if deployment["name"] == "escalation-sweep":
            deployment["schedules"][0]["cron"] = "* * * * *"
        else:
            for schedule in deployment["schedules"]:
                schedule["active"] = False
    every_minute = tmp_path / "prefect.yaml"
    every_minute.write_text(yaml.safe_dump(spec))
    redeployed = subprocess.run(
        [prefect, "--no-prompt", "deploy", "--all", "--prefect-file", str(every_minute)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert redeployed.returncode == 0, redeployed.stdout + redeployed.stderr
    worker_log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [prefect, "worker", "start", "--pool", "chartroute", "--limit", "1"],
        env={**env, "PREFECT_WORKER_QUERY_SECONDS": "2"},
        cwd=tmp_path,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        done = wait_for(
            "a scheduled sweep run to finish",
            lambda: finished_runs(server, "chartroute-escalate/escalation-sweep") or None,
            180,
            2,
        )
    finally:
        stop(worker)
        worker_log.close()
    run = done[0]
    assert run.auto_scheduled, "the run was created by the server's scheduler"
    assert run.state.is_completed(), (tmp_path / "worker.log").read_text()[-4000:]
    assert str(run.id) in escalation_runs(practice["CHARTROUTE_DATABASE_URL"])


class Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Hook.received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_chartroute_serve_runs_every_flow_and_alerts_on_failure(
    server: dict[str, str], practice: dict[str, str], tmp_path: Path
) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.settings import PREFECT_API_URL, temporary_settings

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    with temporary_settings(updates={PREFECT_API_URL: server["PREFECT_API_URL"]}):
        CustomWebhookNotificationBlock(
            name="chartroute-test",
            url=f"http://127.0.0.1:{hook.server_address[1]}/alert",
            json_data={"subject": "{{subject}}", "body": "{{body}}"},
        ).save("chartroute-test", overwrite=True)

    env = {
        **server,
        "CHARTROUTE_DATABASE_URL": practice["CHARTROUTE_DATABASE_URL"],
        "CHARTROUTE_HOME": practice["CHARTROUTE_HOME"],
    }
    chartroute = shutil.which("chartroute", path=str(BIN)) or str(BIN / "chartroute")
    serve_log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    serving = subprocess.Popen(
        [
            chartroute,
            "serve",
            "--source",
            practice["source"],
            "--config",
            practice["config"],
            "--alert-block",
            "custom-webhook/chartroute-test",
        ],
        env=env,
        cwd=tmp_path,
        stdout=serve_log,
        stderr=subprocess.STDOUT,
    )
    try:

        def registered(client: Any) -> Any:
            """The backfill deployment, the last one serve registers."""
            try:
                return client.read_deployment_by_name("chartroute-backfill/backfill")
            except Exception:
                return None

        backfill = wait_for(
            "chartroute serve to register", lambda: client_call(server, registered), 90
        )
        assert backfill.schedules == []
        report = client_call(
            server, lambda c: c.read_deployment_by_name("chartroute-report/daily-report")
        )
        assert [(s.schedule.cron, s.schedule.timezone) for s in report.schedules] == [
            ("30 6 * * *", "America/Chicago")
        ]
        sync = client_call(server, lambda c: c.read_deployment_by_name("chartroute-sync/sync"))
        # schedules follow the practice file: its hours and its timezone
        assert sorted((s.schedule.cron, s.schedule.timezone) for s in sync.schedules) == [
            ("*/15 7-17 * * 1,2,3,4,5", "America/Chicago"),
            ("*/15 9-11 * * 6", "America/Chicago"),
        ]
        assert sync.concurrency_options.collision_strategy == "CANCEL_NEW"

        from prefect.client.schemas.objects import FlowRun
        from prefect.deployments import run_deployment

        with temporary_settings(updates={PREFECT_API_URL: server["PREFECT_API_URL"]}):
            swept = run_deployment(
                "chartroute-escalate/escalation-sweep", timeout=120, poll_interval=1
            )
            assert isinstance(swept, FlowRun)
            assert swept.state is not None and swept.state.is_completed(), (
                tmp_path / "serve.log"
            ).read_text()[-4000:]
            assert str(swept.id) in escalation_runs(practice["CHARTROUTE_DATABASE_URL"])

            failing = run_deployment(
                "chartroute-sync/sync",
                parameters={"source": str(tmp_path / "no-such-folder")},
                timeout=120,
                poll_interval=1,
            )
            assert isinstance(failing, FlowRun)
            assert failing.state is not None and failing.state.is_failed()
        alert = wait_for(
            "the failure alert", lambda: Hook.received[-1] if Hook.received else None, 60
        )
        assert "chartroute-sync" in alert["subject"] and "Failed" in alert["subject"]
        assert failing.name in alert["body"] and "/runs/flow-run/" in alert["body"]
    finally:
        stop(serving)
        serve_log.close()
        hook.shutdown()
