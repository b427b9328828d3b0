"""The one list of chartroute's deployments: name, flow, schedule, and where parameters come from.

``chartroute serve`` (``serve.py``) and ``chartroute deployments render`` (``prefect_yaml.py``)
both read it, so the two ways of running chartroute deploy the same five deployments, named the
same, scheduled from the same practice file. Flows added later get one line each in
``DEPLOYMENTS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect import Flow

from chartroute.config import PracticeConfig
from chartroute.deployments.schedules import Schedule, ScheduleKind, schedules_for
from chartroute.flows.backfill import backfill_flow
from chartroute.flows.escalate import escalate_flow
from chartroute.flows.report import report_flow
from chartroute.flows.run_tags import run_tags
from chartroute.flows.simulate import simulate_flow
from chartroute.flows.sync import sync_flow


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: which flow, when it runs, and which of its parameters the deployment sets.

    ``reads`` names the deployment's default parameters: ``source`` (what the EHR export is),
    ``config`` (the practice file), both, or neither (the simulation makes its own practice).
    Every other parameter keeps the flow's default and is set per run.
    """

    name: str
    flow: Flow[..., Any]
    description: str
    schedule: ScheduleKind
    reads: tuple[str, ...]

    @property
    def full_name(self) -> str:
        """``<flow name>/<deployment name>``, as ``prefect deployment run`` takes it."""
        return f"{self.flow.name}/{self.name}"

    @property
    def entrypoint(self) -> str:
        """Where a worker finds the flow, relative to the repository root."""
        module = self.flow.fn.__module__.rsplit(".", 1)[-1]
        return f"flows/{module}.py:{self.flow.fn.__name__}"

    def schedules(self, config: PracticeConfig) -> list[Schedule]:
        """The deployment's schedules in the practice's timezone (none for an ad hoc one)."""
        return schedules_for(self.schedule, config.practice.timezone, config.practice.calendar)


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "sync", sync_flow, "Read what changed in the EHR, classify, route, notify.",
        "clinic-hours", ("source", "config"),
    ),
    DeploymentSpec(
        "escalation-sweep", escalate_flow,
        "Escalate work items that stayed open past their policy's thresholds.",
        "hourly", ("config",),
    ),
    DeploymentSpec(
        "daily-report", report_flow, "Snapshot the backlog and publish the management report.",
        "daily", ("config",),
    ),
    DeploymentSpec(
        "simulation", simulate_flow,
        "Simulate a practice day by day under manual chasing or routing.", "none", (),
    ),
    DeploymentSpec(
        "backfill", backfill_flow,
        "Rebuild past days' backlog from historical charts (enter start and end).",
        "none", ("source", "config"),
    ),
)  # fmt: skip


def deployment_tags(config: PracticeConfig) -> list[str]:
    """``chartroute`` (which the failure alert matches) and the practice's name."""
    return run_tags(config.practice.name)


def default_parameters(spec: DeploymentSpec, source: str, config_path: str) -> dict[str, str]:
    """The parameters the deployment sets: the values of the names in ``spec.reads``."""
    values = {"source": source, "config": config_path}
    return {name: values[name] for name in spec.reads}
