"""The daily report flow: take the day's backlog snapshot → render the report → publish it."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from prefect import flow

from chartroute.flows.parameters import DEFAULT_CONFIG, PracticeFile, check_day_range
from chartroute.flows.run_tags import untagged_tasks
from chartroute.pinned_config import pin_config
from chartroute.store.engine import home
from chartroute.tasks.report import render_report_task, snapshot_task


@flow(name="chartroute-report", retries=0)
def report_flow(
    config: PracticeFile = DEFAULT_CONFIG,
    out_dir: str | None = None,
    start: date | None = None,
    end: date | None = None,
    as_of: datetime | None = None,
    snapshot: bool = True,
) -> dict[str, Any]:
    """Show the practice where charts get stuck and whether it is getting better.

    Args:
        config: Practice YAML file.
        out_dir: Folder for the HTML file (default: $CHARTROUTE_HOME/reports).
        start: First day reported (default: 30 days before the last).
        end: Last day reported (default: the newest snapshot's day).
        as_of: The instant of today's snapshot (default: now).
        snapshot: Take the day's live snapshot before rendering.
    """
    check_day_range(start, end)
    now = datetime.now(UTC)
    when = as_of or now
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    pin, _ = pin_config(config)  # read once: every task checks it is unchanged
    with untagged_tasks():
        taken = asdict(snapshot_task(pin, when)) if snapshot else None
        result = render_report_task(pin, out_dir or str(home() / "reports"), start, end, now)
    result["snapshot"] = taken
    return result
