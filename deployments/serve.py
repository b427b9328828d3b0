"""The embedded default: one process that registers and runs every chartroute deployment.

``chartroute serve`` builds the deployments of ``catalog.py`` with their schedules in the
practice's timezone, registers them with the Prefect API in ``PREFECT_API_URL``, and executes
their runs in subprocesses until stopped; on the way out Prefect pauses the deployments this
process registered, and the next ``chartroute serve`` resumes them. It needs
no work pool and no worker; ``chartroute deployments render`` writes the same deployments as a
``prefect.yaml`` for a server with workers.
"""

from __future__ import annotations

import logging

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from chartroute.config import load_config
from chartroute.deployments.automations import ensure_failure_alert
from chartroute.deployments.catalog import (
    DEPLOYMENTS,
    default_parameters,
    deployment_tags,
)

log = logging.getLogger(__name__)


def one_at_a_time() -> ConcurrencyLimitConfig:
    """A run that would overlap a running one is cancelled, not queued behind it."""
    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def deployments_for(config_path: str, source: str) -> list[RunnerDeployment]:
    """Every chartroute deployment, scheduled in the practice's timezone."""
    config = load_config(config_path)
    tags = deployment_tags(config)
    return [
        _built(
            spec.flow.to_deployment(
                name=spec.name,
                description=spec.description,
                schedules=[Cron(s.cron, timezone=s.timezone) for s in spec.schedules(config)],
                parameters=default_parameters(spec, source, config_path),
                tags=tags,
                concurrency_limit=one_at_a_time(),
            )
        )
        for spec in DEPLOYMENTS
    ]


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
