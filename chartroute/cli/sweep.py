"""``chartroute sweep [--as-of T]``: run the escalation sweep flow once.

The flow escalates every open work item whose next step is due at T (default: now), records
each escalation in the audit trail, enqueues its notifications in the outbox and, unless
``--no-deliver``, sends the outbox. Running it twice at the same T sends nothing the second time.
"""

from __future__ import annotations

import sys

import orjson
import typer
from rich.console import Console

from chartroute.cli.errors import exit_codes
from chartroute.cli.options import config_option, parse_as_of
from chartroute.cli.outbox import SHADOW_NOTE
from chartroute.cli.render import records_table
from chartroute.config import load_config

COUNTS = ("items", "escalated", "repeated", "delinquent", "notifications", "unrouted", "settled")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # paths stay whole (cli/render.py)


def sweep(
    config: str = config_option(),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Escalate as of this ISO date/time (a date: the end of that day)."
    ),
    deliver: bool = typer.Option(
        True, "--deliver/--no-deliver", help="Send the outbox after the sweep."
    ),
    jsonl: bool = typer.Option(False, "--jsonl", help="Print the counts as one JSON line."),
) -> None:
    """Escalate overdue work items: record each escalation and notify the next person up."""
    from chartroute.cli.prefect_server import use_for_flows

    use_for_flows()  # before Prefect is imported: the environment's, the home's, or temporary
    from chartroute.flows.escalate import escalate_flow
    from chartroute.flows.run_tags import tagged
    from chartroute.store.lease import LeaseHeld

    with exit_codes(failure=(LeaseHeld,)):  # LeaseHeld: another sweep is running
        practice = load_config(config).practice.name
        with tagged(practice):
            result = escalate_flow(config=config, as_of=parse_as_of(as_of), deliver=deliver)
    if jsonl:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
        return
    if result.get("mode") == "shadow":
        messages = (result.get("deliver") or {}).get("shadow", 0)
        err.print(SHADOW_NOTE.format(messages=messages))
    records_table(
        out,
        f"escalation sweep at {result['as_of']}",
        ["count", "value"],
        [{"count": name, "value": result[name]} for name in COUNTS],
    )
    if result["by_tier"]:
        records_table(
            out,
            "escalations sent (kind/tier)",
            ["step", "items"],
            [{"step": k, "items": v} for k, v in sorted(result["by_tier"].items())],
        )


def register(app: typer.Typer) -> None:
    """Add ``sweep`` to the ``chartroute`` command."""
    app.command("sweep")(sweep)
