"""The daily report flow: take the day's backlog snapshot → render the report → publish it."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from chartroute.pinned_config import pin_config
from chartroute.store.engine import home
from chartroute.tasks.report import render_report_task, snapshot_task


class ReportParameters(BaseModel):
    """Parameters of a report run (shown as a form in the Prefect UI)."""

    config: str = Field(default="config/practice.yaml", description="Practice YAML file.")
    out_dir: str | None = Field(
        default=None, description="Folder for the HTML file (default: $CHARTROUTE_HOME/reports)."
    )
    start: date | None = Field(
        default=None, description="First day reported (default: 30 days before the last)."
    )
    end: date | None = Field(
        default=None, description="Last day reported (default: the newest snapshot's day)."
    )
    as_of: datetime | None = Field(
        default=None, description="The instant of today's snapshot (default: now)."
    )
    snapshot: bool = Field(
        default=True, description="Take the day's live snapshot before rendering."
    )


@flow(name="chartroute-report", retries=0)
def report_flow(params: ReportParameters) -> dict[str, Any]:
    """Show the practice where charts get stuck and whether it is getting better."""
    now = datetime.now(UTC)
    as_of = params.as_of or now
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    pin, _ = pin_config(params.config)  # read once: every task checks it is unchanged
    snapshot = asdict(snapshot_task(pin, as_of)) if params.snapshot else None
    out_dir = params.out_dir or str(home() / "reports")
    result = render_report_task(pin, out_dir, params.start, params.end, now)
    result["snapshot"] = snapshot
    return result
