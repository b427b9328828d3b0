"""The practice simulation as a flow: each simulated evening runs the real sync and escalation
flows (as subflows) against the simulated EHR, so every step shows in the Prefect UI.

The simulation gets its own store — a SQLite file in its folder, or the empty database named by
``CHARTROUTE_SIM_DATABASE_URL`` — and points the flows' tasks at it for the run: simulated work
items never mix with a practice's real ones, and no database URL goes into Prefect's parameters.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from pydantic import BaseModel, Field

from chartroute.flows.escalate import SweepParameters, escalate_flow
from chartroute.flows.sync import SyncParameters, sync_flow
from chartroute.simulate import SimAssumptions, SimSettings, simulate
from chartroute.simulate.pipeline import Evening, fresh_store, open_work_items, sim_database_url
from chartroute.tasks import context


class FlowPipeline:
    """One simulated evening = a ``chartroute-sync`` run and a ``chartroute-escalate`` run."""

    def __init__(self, source_dir: Path, config_path: Path) -> None:
        self.source = str(source_dir)
        self.config = str(config_path)

    def evening(self, as_of: datetime) -> Evening:
        sync_flow(SyncParameters(source=self.source, config=self.config, as_of=as_of))
        swept = escalate_flow(SweepParameters(config=self.config, as_of=as_of))
        return Evening(
            items=open_work_items(context.engine(), as_of),
            escalated=int(swept.get("escalated", 0)),
            notifications=int(swept.get("notifications", 0)),
        )


@contextmanager
def store_for_flows(url: str) -> Iterator[None]:
    """Point the flows' tasks at the simulation's store for the duration of the run."""
    fresh_store(url).dispose()
    previous = os.environ.get("CHARTROUTE_DATABASE_URL")
    os.environ["CHARTROUTE_DATABASE_URL"] = url
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("CHARTROUTE_DATABASE_URL", None)
        else:
            os.environ["CHARTROUTE_DATABASE_URL"] = previous


class SimulateParameters(BaseModel):
    """Parameters of a simulation run (shown as a form in the Prefect UI)."""

    days: int = Field(default=20, ge=1, le=400, description="Clinic days to simulate.")
    providers: int = Field(default=5, ge=1, le=200, description="Clinicians in the practice.")
    policy: Literal["manual", "routed"] = Field(
        default="routed", description="manual: clinicians chase; routed: chartroute routes."
    )
    seed: int = Field(default=1, description="Seed of the generated practice.")
    start: date = Field(default=date(2026, 1, 5), description="First simulated clinic day.")
    out: str = Field(default=".chartroute/simulation", description="Folder for the run's files.")
    assumptions: SimAssumptions = Field(
        default_factory=SimAssumptions, description="Assumptions (docs/simulation.md)."
    )


@flow(name="chartroute-simulate", retries=0)
def simulate_flow(params: SimulateParameters) -> dict[str, Any]:
    """Simulate the practice day by day under one policy; return the days and the summary."""
    logger = get_run_logger()
    workdir = Path(params.out) / params.policy
    settings = SimSettings(
        params.providers, params.days, params.seed, params.start, params.assumptions
    )
    with store_for_flows(sim_database_url(workdir)):
        result = simulate(
            settings,
            params.policy,
            workdir,
            FlowPipeline if params.policy == "routed" else None,
            on_day=lambda row: logger.info(
                "%s: clinicians' backlog %d, open charts %d, after-hours %.0f min",
                row.day,
                row.clinician_backlog,
                row.open_charts,
                row.after_hours_minutes,
            ),
        )
    summary = result.summary.as_dict()
    create_markdown_artifact(
        key="simulation-summary",
        markdown="\n".join(
            [f"### Simulation, {params.policy}, seed {params.seed}", ""]
            + [f"- {k}: {v}" for k, v in summary.items()]
        ),
        description="Steady-state averages of the simulated practice (counts and minutes)",
    )
    return {"summary": summary, "days": [asdict(row) for row in result.rows]}
