"""The embedded default: one process that registers and runs every chartroute deployment.

``chartroute serve`` builds the deployments of ``catalog.py`` with their schedules in the
practice's timezone, registers them with the Prefect API in ``PREFECT_API_URL``, and executes
their runs in subprocesses until stopped. It needs no work pool and no worker;
``chartroute deployments render`` writes the same deployments as a ``prefect.yaml`` for a
server with workers.

A deployment ``prefect deploy`` made for a work pool has the same name. Registering over it
would keep its work pool but drop its code location, so its next run would crash in the
worker; serve refuses instead, before registering anything, naming each such deployment and
the command that frees it. Taking it over would also be worse for the engineer: their worker
deployment would silently move into a process that pauses it on exit.

On the way out serve pauses its deployments (their schedules stop; the next ``chartroute
serve`` resumes them) but only those still served: one that ``prefect deploy`` moved to a work
pool while serve ran is left running. Prefect's own pause-on-shutdown pauses every deployment
the process registered, whoever owns it by then.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import ObjectNotFound, TerminationSignal
from prefect.runner import Runner
from prefect.schedules import Cron

from chartroute.config import PracticeConfig, load_config
from chartroute.deployments.automations import ensure_failure_alert
from chartroute.deployments.catalog import (
    DEPLOYMENTS,
    DeploymentSpec,
    default_parameters,
    deployment_tags,
)
from chartroute.deployments.warm_runs import prepare_runs

log = logging.getLogger(__name__)


class DeploymentsOwnedElsewhere(Exception):
    """Deployments of the same names belong to a work pool: serve would break them."""


def one_at_a_time() -> ConcurrencyLimitConfig:
    """A run that would overlap a running one is cancelled, not queued behind it."""
    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def deployment_options(
    spec: DeploymentSpec, config: PracticeConfig, config_path: str, source: str
) -> dict[str, Any]:
    """What a deployment of ``spec`` is registered with: schedules in the practice's timezone,
    the practice's parameters and tags, one run at a time."""
    return {
        "name": spec.name,
        "description": spec.description,
        "schedules": [Cron(s.cron, timezone=s.timezone) for s in spec.schedules(config)],
        "parameters": default_parameters(spec, source, config_path),
        "tags": deployment_tags(config),
        "concurrency_limit": one_at_a_time(),
    }


def deployments_for(config_path: str, source: str) -> list[RunnerDeployment]:
    """Every chartroute deployment, scheduled in the practice's timezone."""
    config = load_config(config_path)
    return [
        _built(spec.flow.to_deployment(**deployment_options(spec, config, config_path, source)))
        for spec in DEPLOYMENTS
    ]


def _built(deployment: object) -> RunnerDeployment:
    """``to_deployment`` called outside an event loop returns the deployment itself."""
    if not isinstance(deployment, RunnerDeployment):
        raise TypeError(f"expected a RunnerDeployment, got {type(deployment).__name__}")
    return deployment


def work_pools_of(specs: tuple[DeploymentSpec, ...] = DEPLOYMENTS) -> dict[str, str | None]:
    """The work pool of each of ``specs`` on the server (None: a served one), if it exists."""
    found: dict[str, str | None] = {}
    with get_client(sync_client=True) as client:
        for spec in specs:
            try:
                deployment = client.read_deployment_by_name(spec.full_name)
            except ObjectNotFound:
                continue
            found[spec.full_name] = deployment.work_pool_name
    return found


def refuse_deployments_in_work_pools() -> None:
    """Raise ``DeploymentsOwnedElsewhere`` naming every deployment serve must not register."""
    owned = {name: pool for name, pool in work_pools_of().items() if pool}
    if owned:
        listed = ", ".join(f"{name} (work pool {pool!r})" for name, pool in owned.items())
        raise DeploymentsOwnedElsewhere(
            f"{listed}: deployed to a work pool by `prefect deploy`; chartroute serve leaves "
            "them alone and registered nothing. Run them with `prefect worker start --pool "
            "<pool>` instead, or free the names for serve with: "
            + "; ".join(f"prefect deployment delete {name}" for name in owned)
        )


def pause_served() -> None:
    """Pause the deployments that are still served; leave any now in a work pool running."""
    pools = work_pools_of()
    with get_client(sync_client=True) as client:
        for name, pool in pools.items():
            if pool:
                log.warning("left %s running: it now belongs to work pool %r", name, pool)
                continue
            client.pause_deployment(client.read_deployment_by_name(name).id)


def serve_all(
    config_path: str, source: str, alert_block: str | None = None, limit: int | None = None
) -> None:
    """Register every deployment (and the failure alert) and run their flows until stopped.

    Each deployment is added with its flow (``Runner.add_flow``), not as a deployment alone:
    the runner then runs the flow it holds in a child process (forked warm,
    ``warm_runs.py``) instead of starting ``python -m prefect.engine`` to import it again.
    """
    config = load_config(config_path)
    refuse_deployments_in_work_pools()
    if alert_block:
        ensure_failure_alert(alert_block)
    else:
        log.warning(
            "no failure alert configured: pass --alert-block <block-type>/<name> (or run "
            "`chartroute alerts create <block-type>/<name>` once) to be told when a flow run "
            "fails"
        )
    warm = prepare_runs()
    runner = Runner(pause_on_shutdown=False, limit=limit)
    for spec in DEPLOYMENTS:
        runner.add_flow(spec.flow, **deployment_options(spec, config, config_path, source))
    names = ", ".join(spec.full_name for spec in DEPLOYMENTS)
    how = "forked from a process with everything imported" if warm else "each in a new process"
    print(f"Serving {names}; runs start {how}. Ctrl-C stops.", flush=True)
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):
        log.info("stopping: served deployments are paused")
    finally:
        pause_served()
