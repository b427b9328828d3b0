"""Tasks of the management view: take the day's backlog snapshot; render and publish the report.

They receive a config path, instants and days, and return days, counts and a file path: no
chart data passes through Prefect.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from chartroute.pinned_config import PinnedConfig
from chartroute.report.html import render_report, report_filename, write_report
from chartroute.report.markdown import accuracy_rows, headline_markdown, headline_rows
from chartroute.report.model import build_report_data
from chartroute.summary import SnapshotCounts, take_snapshot
from chartroute.tasks import context
from chartroute.tasks.retry import DATABASE_ONLY, UNCACHED


@task(name="backlog-snapshot", **DATABASE_ONLY.options(), **UNCACHED)
def snapshot_task(
    config: PinnedConfig, as_of: datetime, run_id: str | None = None
) -> SnapshotCounts:
    """Record the day's live backlog snapshot as the store stands now.

    Safe to retry and to repeat: the day's live figures are replaced whole in one transaction.
    """
    counts = take_snapshot(context.engine(), context.config(config), as_of, run_id)
    get_run_logger().info(
        "snapshot of %s: %d figures; %d open charts (%d on clinicians), %d open items",
        counts.day,
        counts.figures,
        counts.open_charts,
        counts.clinician_backlog_charts,
        counts.open_items,
    )
    return counts


@task(name="render-report", **DATABASE_ONLY.options(), **UNCACHED)
def render_report_task(
    config: PinnedConfig, out_dir: str, start: date | None, end: date | None, now: datetime
) -> dict[str, Any]:
    """Write the HTML report and publish its headline numbers with a link to the file."""
    practice = context.config(config)
    with context.engine().connect() as conn:
        data = build_report_data(conn, practice, start, end, now)
    people = {p.id: p.name for p in practice.roster}
    path = write_report(render_report(data, people), Path(out_dir), report_filename(data))
    create_markdown_artifact(
        key="management-report",
        markdown=headline_markdown(data, path),
        description=f"Headline numbers {data.start} to {data.end} and a link to the report",
    )
    create_table_artifact(
        key="report-headlines",
        table=headline_rows(data),
        description=f"Headline numbers {data.start} to {data.end}",
    )
    accuracy = data.accuracy
    create_table_artifact(
        key="review-accuracy",
        table=accuracy_rows(data),
        description="Classification accuracy per category from the ops lead's review: "
        + ("ready to go live" if accuracy and accuracy.ready else "not ready to go live yet"),
    )
    get_run_logger().info(
        "report %s to %s: %d of %d days with a snapshot, written to %s",
        data.start,
        data.end,
        len(data.stored),
        len(data.days),
        path,
    )
    return {
        "path": str(path),
        "start": data.start.isoformat(),
        "end": data.end.isoformat(),
        "days_with_snapshots": len(data.stored),
        "headlines": {h.key: h.value for h in data.headlines},
        "mode": data.mode,
        "ready_to_go_live": bool(accuracy and accuracy.ready),
    }
