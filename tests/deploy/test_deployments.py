"""Deployments against one real Prefect server on 127.0.0.1, started once for the session.

- The prefect.yaml that ``chartroute deployments render`` writes deploys (schedules from the
  practice file, one-at-a-time concurrency, flat parameters, tags) and refuses to deploy while
  ``CHARTROUTE_SOURCE`` is empty; a process worker runs a sync and a ``-p start= -p end=``
  backfill started with ``prefect deployment run``, and a sweep the scheduler created.
- ``chartroute serve`` refuses a deployment a work pool owns, changing nothing.
- ``chartroute serve`` registers the same deployments from the practice file and runs them,
  each forked from its fork server; the alert made by ``chartroute alerts create`` fires for
  a failed served run and for a failed ``chartroute sync`` typed by hand; stopping serve
  pauses only what it still serves.

Each test starts from a server with no deployments or automations (``api``).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.store.engine import make_engine
from chartroute.store.schema import (
    backlog_snapshot,
    escalation_event,
    sync_run,
    work_item,
    work_item_event,
)
from tests import builders as b
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
T = TypeVar("T")
NAMES = (
    "chartroute-sync/sync",
    "chartroute-escalate/escalation-sweep",
    "chartroute-report/daily-report",
    "chartroute-simulate/simulation",
    "chartroute-backfill/backfill",
)
TAGS = ["chartroute", "practice:Deploy Test"]

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
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_serve(
    api: dict[str, str], practice: dict[str, str], tmp_path: Path
) -> tuple[subprocess.Popen[bytes], Any]:
    """``chartroute serve`` for the practice, its output in ``tmp_path/serve.log``."""
    env = {
        **api,
        "CHARTROUTE_DATABASE_URL": practice["CHARTROUTE_DATABASE_URL"],
        "CHARTROUTE_HOME": practice["CHARTROUTE_HOME"],
    }
    chartroute = shutil.which("chartroute", path=str(BIN)) or str(BIN / "chartroute")
    serve_log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed by the caller
    serving = subprocess.Popen(
        [chartroute, "serve", "--source", practice["source"], "--config", practice["config"]],
        env=env,
        cwd=tmp_path,
        stdout=serve_log,
        stderr=subprocess.STDOUT,
    )
    return serving, serve_log


def registered(client: Any) -> Any:
    """The backfill deployment, the last one serve registers."""
    try:
        return client.read_deployment_by_name("chartroute-backfill/backfill")
    except Exception:
        return None


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A Prefect server on 127.0.0.1 with its own home and SQLite database, for the session."""
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
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
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
        wait_for("the Prefect server", healthy, 120)
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
def api(server: dict[str, str]) -> dict[str, str]:
    """The session's server with no deployments or automations left by an earlier test, and
    a process work pool named ``chartroute``."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    def clear(client: Any) -> None:
        for deployment in client.read_deployments():
            client.delete_deployment(deployment.id)
        for automation in client.read_automations():
            client.delete_automation(automation.id)
        with contextlib.suppress(ObjectAlreadyExists):
            client.create_work_pool(WorkPoolCreate(name="chartroute", type="process"))

    client_call(server, clear)
    return server


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


def count(url: str, query: Any) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)
    finally:
        engine.dispose()


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


SWEEP = "chartroute-escalate/escalation-sweep"


def completed_or_refused(runs: list[Any]) -> list[Any] | None:
    """The completed runs, once there is one; any other finished run must be one the
    deployment's concurrency limit refused."""
    for run in runs:
        if not run.state.is_completed():
            assert run.state.is_cancelled(), run.state
            assert "concurrency limit" in (run.state.message or ""), run.state
    return [run for run in runs if run.state.is_completed()] or None


def read_deployments(env: dict[str, str]) -> dict[str, Any]:
    return client_call(env, lambda client: {n: client.read_deployment_by_name(n) for n in NAMES})


def prefect(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A ``prefect`` command as an engineer types it, from the repository root."""
    return subprocess.run(
        [PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def schedules(deployment: Any) -> list[tuple[str, str]]:
    return sorted((s.schedule.cron, s.schedule.timezone) for s in deployment.schedules)


def test_rendered_prefect_yaml_deploys_and_a_worker_runs_it(
    api: dict[str, str], practice: dict[str, str], tmp_path: Path
) -> None:
    rendered = tmp_path / "prefect.yaml"
    made = CliRunner().invoke(
        app, ["deployments", "render", "--config", practice["config"], "--out", str(rendered)]
    )
    assert made.exit_code == 0, made.output
    env = {
        **api,
        "CHARTROUTE_DATABASE_URL": practice["CHARTROUTE_DATABASE_URL"],
        "CHARTROUTE_HOME": practice["CHARTROUTE_HOME"],
    }
    deploy = ("--no-prompt", "deploy", "--all", "--prefect-file", str(rendered))

    refused = prefect({**env, "CHARTROUTE_SOURCE": ""}, *deploy)
    assert refused.returncode != 0
    assert "CHARTROUTE_SOURCE is empty" in refused.stdout + refused.stderr
    assert client_call(api, lambda client: client.read_deployments()) == []

    env["CHARTROUTE_SOURCE"] = practice["source"]
    deployed = prefect(env, *deploy)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    found = read_deployments(api)
    # the practice file's timezone and hours, as chartroute serve schedules them
    assert schedules(found["chartroute-sync/sync"]) == [
        ("*/15 7-17 * * 1,2,3,4,5", "America/Chicago"),
        ("*/15 9-11 * * 6", "America/Chicago"),
    ]
    assert schedules(found["chartroute-escalate/escalation-sweep"]) == [
        ("5 * * * *", "America/Chicago")
    ]
    assert schedules(found["chartroute-report/daily-report"]) == [("30 6 * * *", "America/Chicago")]
    assert found["chartroute-simulate/simulation"].schedules == []
    for dep in found.values():
        assert dep.global_concurrency_limit is not None and dep.global_concurrency_limit.limit == 1
        assert dep.concurrency_options.collision_strategy == "CANCEL_NEW"
        assert dep.work_pool_name == "chartroute" and dep.tags == TAGS and not dep.paused
    sync, backfill = found["chartroute-sync/sync"], found["chartroute-backfill/backfill"]
    assert backfill.schedules == []
    assert sync.parameters == {"source": practice["source"], "config": practice["config"]}
    # flat parameters: one form field each, with its description
    form = backfill.parameter_openapi_schema
    assert {"start", "end"} <= set(form["required"]) and form["properties"]["end"]["description"]

    # the same file with the sweep due every 10 s: redeployed without a FutureWarning
    spec = yaml.safe_load(rendered.read_text())
    for deployment in spec["deployments"]:
        if deployment["name"] == "escalation-sweep":
            deployment["schedules"] = [{"interval": 10, "timezone": "America/Chicago"}]
        else:
            for schedule in deployment["schedules"] or []:
                schedule["active"] = False
    every_10s = tmp_path / "every-10s.yaml"
    every_10s.write_text(yaml.safe_dump(spec))
    redeployed = prefect(env, "--no-prompt", "deploy", "--all", "--prefect-file", str(every_10s))
    assert redeployed.returncode == 0, redeployed.stdout + redeployed.stderr
    assert "Warning" not in redeployed.stdout + redeployed.stderr

    # a backfill as an engineer starts one: one -p per parameter, the rest from the deployment
    backfill_run = prefect(
        env, "deployment", "run", "chartroute-backfill/backfill",
        "-p", "start=2026-03-01", "-p", "end=2026-03-04",
    )  # fmt: skip
    match = re.search(r"UUID: ([0-9a-f-]{36})", backfill_run.stdout)
    assert match, backfill_run.stdout + backfill_run.stderr
    run_ids = {
        "backfill": match.group(1),
        "sync": str(client_call(api, lambda c: c.create_flow_run_from_deployment(sync.id)).id),
    }

    worker_log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [PREFECT, "worker", "start", "--pool", "chartroute", "--limit", "3"],
        env={**env, "PREFECT_WORKER_QUERY_SECONDS": "2"},
        cwd=tmp_path,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )

    def final(run_id: str) -> Any:
        run = client_call(api, lambda client: client.read_flow_run(run_id))
        return run if run.state is not None and run.state.is_final() else None

    try:
        # every 10 s, a sweep due while the last still runs is cancelled (CANCEL_NEW): under
        # load that can be the first to finish, so wait for one that completed
        swept = wait_for(
            "a scheduled sweep run to complete",
            lambda: completed_or_refused(finished_runs(api, SWEEP)),
            240,
            2,
        )[0]
        runs = {
            name: wait_for(f"the {name} run", partial(final, run_id), 240, 2)
            for name, run_id in run_ids.items()
        }
    finally:
        stop(worker)
        worker_log.close()
    log = (tmp_path / "worker.log").read_text()[-4000:]
    assert swept.auto_scheduled, "the run was created by the server's scheduler"
    for run in (swept, *runs.values()):
        assert run.state.is_completed(), log
        assert set(TAGS) <= set(run.tags)  # the failure alert sees every one
    url = practice["CHARTROUTE_DATABASE_URL"]
    assert str(swept.id) in escalation_runs(url)
    assert count(url, select(func.count()).where(sync_run.c.status == "completed")) >= 1
    assert runs["backfill"].parameters["start"] == "2026-03-01"
    reconstructed = select(func.count()).where(backlog_snapshot.c.origin == "reconstructed")
    assert count(url, reconstructed) == 4  # 2026-03-01 to 2026-03-04


def test_serve_refuses_a_deployment_a_work_pool_owns_and_changes_nothing(
    api: dict[str, str], practice: dict[str, str]
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from chartroute.flows.sync import sync_flow

    with temporary_settings(updates={PREFECT_API_URL: api["PREFECT_API_URL"]}):
        sync_flow.to_deployment(
            name="sync", work_pool_name="chartroute", parameters={"source": practice["source"]}
        ).apply()
        before = client_call(api, lambda c: c.read_deployment_by_name("chartroute-sync/sync"))
        result = CliRunner().invoke(
            app, ["serve", "--source", practice["source"], "--config", practice["config"]]
        )
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "chartroute-sync/sync (work pool 'chartroute')" in message
    assert "prefect deployment delete chartroute-sync/sync" in message
    after = client_call(api, lambda c: c.read_deployments())
    assert [(d.id, d.work_pool_name, d.pull_steps, d.path) for d in after] == [
        (before.id, "chartroute", before.pull_steps, before.path)
    ]  # nothing registered, nothing taken over


class Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Hook.received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def alert_for(run_name: str) -> dict[str, Any] | None:
    return next((a for a in Hook.received if run_name in a.get("body", "")), None)


def test_chartroute_serve_runs_every_flow_and_every_failed_run_alerts(
    api: dict[str, str],
    practice: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    with temporary_settings(updates={PREFECT_API_URL: api["PREFECT_API_URL"]}):
        CustomWebhookNotificationBlock(
            name="chartroute-test",
            url=f"http://127.0.0.1:{hook.server_address[1]}/alert",
            json_data={"subject": "{{subject}}", "body": "{{body}}"},
        ).save("chartroute-test", overwrite=True)
        created = CliRunner().invoke(app, ["alerts", "create", "custom-webhook/chartroute-test"])
    assert created.exit_code == 0, created.output

    serving, serve_log = start_serve(api, practice, tmp_path)
    try:
        backfill = wait_for(
            "chartroute serve to register", lambda: client_call(api, registered), 90
        )
        assert backfill.schedules == [] and backfill.work_pool_name is None
        forked = "runs start forked from a process with everything imported"  # warm_runs.py
        log_has = lambda: forked in (tmp_path / "serve.log").read_text() or None  # noqa: E731
        wait_for("serve's start line", log_has, 30)
        found = read_deployments(api)
        assert schedules(found["chartroute-report/daily-report"]) == [
            ("30 6 * * *", "America/Chicago")
        ]
        # schedules follow the practice file: its hours and its timezone
        sync = found["chartroute-sync/sync"]
        assert schedules(sync) == [
            ("*/15 7-17 * * 1,2,3,4,5", "America/Chicago"),
            ("*/15 9-11 * * 6", "America/Chicago"),
        ]
        assert sync.concurrency_options.collision_strategy == "CANCEL_NEW"
        assert all(dep.tags == TAGS for dep in found.values())

        with temporary_settings(updates={PREFECT_API_URL: api["PREFECT_API_URL"]}):
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
                parameters={"source": str(tmp_path / "no-such-folder")},  # one flat parameter
                timeout=120,
                poll_interval=1,
            )
            assert isinstance(failing, FlowRun)
            assert failing.state is not None and failing.state.is_failed()

            # a sync typed by hand, on a feed the validation threshold refuses
            b.write_ndjson(tmp_path / "broken", [b.encounter("x1", status="closed")])
            for name in ("CHARTROUTE_DATABASE_URL", "CHARTROUTE_HOME"):
                monkeypatch.setenv(name, practice[name])
            by_hand = CliRunner().invoke(
                app,
                ["sync", "--source", str(tmp_path / "broken"), "--config", practice["config"]],
            )
            assert by_hand.exit_code == 2, by_hand.output
            from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
            from prefect.client.schemas.sorting import FlowRunSort

            tagged = client_call(
                api,
                lambda c: c.read_flow_runs(
                    flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=TAGS)),
                    sort=FlowRunSort.START_TIME_DESC,
                ),
            )
            typed = next(r for r in tagged if r.deployment_id is None)
            assert typed.state is not None and typed.state.is_failed()

        for run in (failing, typed):
            alert = wait_for(f"the alert for {run.name}", partial(alert_for, run.name), 90)
            assert "chartroute-sync" in alert["subject"] and "Failed" in alert["subject"]
            assert "/runs/flow-run/" in alert["body"]

        # prefect deploy takes one name over while serve runs: stopping serve leaves it alone
        from chartroute.flows.report import report_flow

        with temporary_settings(updates={PREFECT_API_URL: api["PREFECT_API_URL"]}):
            report_flow.to_deployment(name="daily-report", work_pool_name="chartroute").apply()
    finally:
        stop(serving)
        serve_log.close()
        hook.shutdown()
    after = read_deployments(api)
    assert after["chartroute-sync/sync"].paused, (tmp_path / "serve.log").read_text()[-3000:]
    assert not after["chartroute-report/daily-report"].paused


def test_cancelling_a_served_run_ends_its_forked_process(
    api: dict[str, str], practice: dict[str, str], tmp_path: Path
) -> None:
    """A run forked from serve's fork server is cancelled as a spawned one was: it ends
    Cancelled and its process is gone, the fork server left with no children."""
    from prefect.client.schemas.objects import StateType
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.states import Cancelling

    serving, serve_log = start_serve(api, practice, tmp_path)
    try:
        wait_for("chartroute serve to register", lambda: client_call(api, registered), 90)
        fork_server = wait_for(
            "the fork server",
            lambda: next(
                (
                    pid
                    for pid in children_of(serving.pid)
                    if b"multiprocessing.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
                ),
                None,
            ),
            60,
        )
        with temporary_settings(updates={PREFECT_API_URL: api["PREFECT_API_URL"]}):
            long = run_deployment(
                "chartroute-simulate/simulation",
                parameters={"days": 400, "providers": 50, "out": str(tmp_path / "sim")},
                timeout=0,
            )

        def state_of(client: Any) -> Any:
            return client.read_flow_run(long.id).state

        wait_for(
            "the simulation to run",
            lambda: client_call(api, state_of).is_running() or None,
            90,
            every=0.5,
        )
        assert children_of(fork_server), "the run's process is the fork server's child"
        client_call(api, lambda c: c.set_flow_run_state(long.id, Cancelling(), force=True))
        final = wait_for(
            "the run to be cancelled",
            lambda: (lambda st: st if st.is_final() else None)(client_call(api, state_of)),
            90,
            every=0.5,
        )
        assert final.type == StateType.CANCELLED, (tmp_path / "serve.log").read_text()[-3000:]
        wait_for("the run's process to end", lambda: not children_of(fork_server) or None, 30)
    finally:
        stop(serving)
        serve_log.close()
