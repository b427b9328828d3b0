"""The embedded default: one process that registers and runs every chartroute deployment.

``chartroute serve`` (or ``python -m chartroute.deployments.serve``) builds one deployment per
flow with its schedule in the practice's timezone, registers them with the Prefect API in
``PREFECT_API_URL``, and executes their runs in subprocesses until stopped (Prefect pauses the
schedules on shutdown). It needs no work pool and no worker; ``deployments/prefect.yaml`` is the
same set of deployments for a server with workers.

- sync: every 15 minutes in clinic hours, at most one at a time (the deployment's concurrency
  limit cancels a run that would overlap; the database lease keeps out a sync started anywhere
  else, by another server or by hand);
- escalation sweep: hourly, one at a time the same way;
- daily report: every morning before the clinic opens;
- simulation: no schedule; manual chasing against routing on a simulated practice;
- backfill: no schedule; run from the UI, whose form is the flow's typed parameters.

Flows added later get one line each in ``deployments_for``.
"""

from __future__ import annotations

import logging
from typing import Any

from prefect import Flow, serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Schedule

from chartroute.config import load_config
from chartroute.deployments.automations import ensure_failure_alert
from chartroute.deployments.schedules import REPORT_CRON, SWEEP_CRON, clinic_hours_crons
from chartroute.flows.backfill import backfill_flow
from chartroute.flows.escalate import escalate_flow
from chartroute.flows.report import report_flow
from chartroute.flows.simulate import simulate_flow
from chartroute.flows.sync import sync_flow

log = logging.getLogger(__name__)

TAGS = ["chartroute"]
SYNC_TEXT = "Read what changed in the EHR, classify, route, notify."
SWEEP_TEXT = "Escalate work items that stayed open past their policy's thresholds."
REPORT_TEXT = "Snapshot the backlog and publish the management report."
SIMULATE_TEXT = "Simulate a practice day by day under manual chasing or routing."
BACKFILL_TEXT = "Rebuild past days' backlog from historical charts (enter start and end)."


def one_at_a_time() -> ConcurrencyLimitConfig:
    """A run that would overlap a running one is cancelled, not queued behind it."""
    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def deployments_for(config_path: str, source: str) -> list[RunnerDeployment]:
    """Every chartroute deployment, scheduled in the practice's timezone (one line per flow)."""
    config = load_config(config_path)
    tz = config.practice.timezone
    clinic_hours = [Cron(c, timezone=tz) for c in clinic_hours_crons(config.practice.calendar)]
    hourly, daily = [Cron(SWEEP_CRON, timezone=tz)], [Cron(REPORT_CRON, timezone=tz)]
    ehr = {"source": source, "config": config_path}
    practice = {"config": config_path}
    return [
        _deployment(sync_flow, "sync", SYNC_TEXT, clinic_hours, ehr),
        _deployment(escalate_flow, "escalation-sweep", SWEEP_TEXT, hourly, practice),
        _deployment(report_flow, "daily-report", REPORT_TEXT, daily, practice),
        _deployment(simulate_flow, "simulation", SIMULATE_TEXT, [], {}),  # ad hoc, own store
        _deployment(backfill_flow, "backfill", BACKFILL_TEXT, [], ehr),  # ad hoc: a form in the UI
    ]


def _deployment(
    flow: Flow[..., Any],
    name: str,
    description: str,
    schedules: list[Schedule],
    params: dict[str, Any],
) -> RunnerDeployment:
    """A deployment of ``flow`` with ``params`` as its default parameters."""
    return _built(
        flow.to_deployment(
            name=name,
            description=description,
            schedules=schedules,
            parameters=params,
            tags=TAGS,
            concurrency_limit=one_at_a_time(),
        )
    )


def _built(deployment: object) -> RunnerDeployment:
    """``to_deployment`` called outside an event loop returns the deployment itself."""
    if not isinstance(deployment, RunnerDeployment):
        raise TypeError(f"expected a RunnerDeployment, got {type(deployment).__name__}")
    return deployment


def serve_all(
    config_path: str, source: str, alert_block: str | None = None, limit: int | None = None
) -> None:
    """Register every deployment (and the failure alert) and run their flows until stopped."""
    deployments = deployments_for(config_path, source)
    if alert_block:
        ensure_failure_alert(alert_block)
    else:
        log.warning(
            "no failure alert configured: pass --alert-block <block-type>/<name> to be told "
            "when a flow run fails"
        )
    serve(*deployments, limit=limit)


if __name__ == "__main__":  # pragma: no cover - `chartroute serve` is the documented way in
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/practice.yaml")
    parser.add_argument("--source", required=True)
    parser.add_argument("--alert-block", default=None)
    args = parser.parse_args()
    serve_all(args.config, args.source, args.alert_block)
