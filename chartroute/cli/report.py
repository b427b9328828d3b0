"""``chartroute report`` (the management report, through the report flow) and ``chartroute roi``.

``report`` runs the daily report flow through Prefect, like ``sync``: today's snapshot, the
HTML file, and the headline artifacts on the flow run. ``roi`` reads the stored snapshots and
prints each figure with its formula and inputs, or what is missing; it writes nothing.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum

import typer
from rich.console import Console

from chartroute.cli.errors import BadInput, exit_codes
from chartroute.cli.options import config_option, output_folder, parse_day
from chartroute.cli.practice_home import reading_store
from chartroute.config import load_config

err = Console(stderr=True)


class RoiFormat(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add the ``report`` and ``roi`` commands to the CLI."""
    app.command("report")(report)
    app.command("roi")(roi)


def _range(
    first_option: str, first: str | None, last_option: str, last: str | None
) -> tuple[date | None, date | None]:
    start, end = parse_day(first_option, first), parse_day(last_option, last)
    if start and end and start > end:
        raise BadInput(f"{first_option} {start} is after {last_option} {end}")
    return start, end


def report(
    out_dir: str | None = typer.Option(
        None, "--out", help="Folder for the HTML file (default: $CHARTROUTE_HOME/reports)."
    ),
    start: str | None = typer.Option(
        None, "--from", help="First day (ISO date; default: up to 30 days before --to)."
    ),
    end: str | None = typer.Option(
        None, "--to", help="Last day (ISO date; default: the newest snapshot's day)."
    ),
    config: str = config_option(),
    snapshot: bool = typer.Option(
        True, "--snapshot/--no-snapshot", help="Take today's live snapshot first."
    ),
) -> None:
    """Write the management report (one self-contained HTML file) through the report flow."""
    from chartroute.cli.prefect_server import use_for_flows

    use_for_flows()  # before Prefect is imported: the environment's, the home's, or temporary
    from chartroute.flows.report import report_flow
    from chartroute.flows.run_tags import tagged

    with exit_codes():
        practice = load_config(config).practice.name
        output_folder("--out", out_dir)
        first, last = _range("--from", start, "--to", end)
        reading_store().dispose()  # the report reads a store; it never starts an empty one
        with tagged(practice):
            result = report_flow(
                config=config, out_dir=out_dir, start=first, end=last, snapshot=snapshot
            )
    if result.get("mode") == "shadow":
        err.print("shadow mode: the report shows work recorded in shadow; nobody was notified")
    for key, value in result["headlines"].items():
        err.print(f"{key}: {value}")
    if result.get("mode") == "shadow":  # the review's answer (docs/go-live.md)
        err.print(f"ready to go live: {'yes' if result.get('ready_to_go_live') else 'not yet'}")
    err.print(
        f"report {result['start']} to {result['end']} "
        f"({result['days_with_snapshots']} days with snapshots)"
    )
    sys.stdout.write(result["path"] + "\n")


def roi(
    config: str = config_option(),
    baseline_from: str | None = typer.Option(
        None,
        "--baseline-from",
        help="First baseline day (default: backfilled days, else the first weeks).",
    ),
    baseline_to: str | None = typer.Option(None, "--baseline-to", help="Last baseline day."),
    start: str | None = typer.Option(
        None, "--from", help="First day of the 'after' window (default: the last weeks)."
    ),
    end: str | None = typer.Option(None, "--to", help="Last day of the 'after' window."),
    fmt: RoiFormat = typer.Option(RoiFormat.text, "--format", help="text or json."),
) -> None:
    """What routing is worth, before against after, from this practice's own snapshots."""
    from chartroute.analytics.roi import compute_roi
    from chartroute.analytics.roi_render import roi_json, roi_text
    from chartroute.store.snapshots import read_snapshots

    with exit_codes():
        cfg = load_config(config)
        base = _window("--baseline-from", baseline_from, "--baseline-to", baseline_to)
        current = _window("--from", start, "--to", end)
        with reading_store().connect() as conn:
            days = read_snapshots(conn)
    result = compute_roi(days, cfg.roi, cfg.billing, base, current)
    if fmt is RoiFormat.json:
        sys.stdout.write(json.dumps(roi_json(result), indent=2) + "\n")
    else:
        sys.stdout.write(roi_text(result) + "\n")


def _window(
    first_option: str, first: str | None, last_option: str, last: str | None
) -> tuple[date, date] | None:
    start, end = _range(first_option, first, last_option, last)
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise BadInput(f"give both {first_option} and {last_option}, or neither")
    return start, end
