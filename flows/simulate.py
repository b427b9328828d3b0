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
from typing import Annotated, Any, Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from pydantic import Field

from chartroute.flows.escalate import escalate_flow
from chartroute.flows.run_tags import subflows_tagged_like_this_run
from chartroute.flows.sync import sync_flow
from chartroute.simulate import SimAssumptions, SimSettings, simulate
from chartroute.simulate.pipeline import Evening, fresh_store, open_work_items, sim_database_url
from chartroute.tasks import context


class FlowPipeline:
    """One simulated evening = a ``chartroute-sync`` run and a ``chartroute-escalate`` run."""

    def __init__(self, source_dir: Path, config_path: Path) -> None:
        self.source = str(source_dir)
        self.config = str(config_path)

    def evening(self, as_of: datetime) -> Evening:
        sync_flow(source=self.source, config=self.config, as_of=as_of)
        swept = escalate_flow(config=self.config, as_of=as_of)
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


#: The assumptions of docs/simulation.md, unless a run sets some of them.
DEFAULT_ASSUMPTIONS = SimAssumptions()


@flow(name="chartroute-simulate", retries=0)
def simulate_flow(
    days: Annotated[int, Field(ge=1, le=400)] = 20,
    providers: Annotated[int, Field(ge=1, le=200)] = 5,
    policy: Literal["manual", "routed"] = "routed",
    seed: int = 1,
    start: date = date(2026, 1, 5),
    out: Annotated[str, Field(min_length=1)] = ".chartroute/simulation",
    assumptions: SimAssumptions = DEFAULT_ASSUMPTIONS,
) -> dict[str, Any]:
    """Simulate the practice day by day under one policy; return the days and the summary.

    Args:
        days: Clinic days to simulate.
        providers: Clinicians in the practice.
        policy: manual: clinicians chase; routed: chartroute routes.
        seed: Seed of the generated practice.
        start: First simulated clinic day.
        out: Folder for the run's files.
        assumptions: Assumptions (docs/simulation.md); a run may set only some of them.
    """
    logger = get_run_logger()
    workdir = Path(out) / policy
    settings = SimSettings(providers, days, seed, start, assumptions)
    with store_for_flows(sim_database_url(workdir)), subflows_tagged_like_this_run():
        result = simulate(
            settings,
            policy,
            workdir,
            FlowPipeline if policy == "routed" else None,
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
            [f"### Simulation, {policy}, seed {seed}", ""]
            + [f"- {k}: {v}" for k, v in summary.items()]
        ),
        description="Steady-state averages of the simulated practice (counts and minutes)",
    )
    return {"summary": summary, "days": [asdict(row) for row in result.rows]}
