"""``chartroute demo``: the README's first command — a generated practice run through sync,
the escalation sweep and the report on the embedded defaults, then recorded as the home's
practice so the commands after it need no flags."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from chartroute.cli.errors import BadInput, exit_codes
from chartroute.cli.generate import clinic_days_back
from chartroute.cli.main import _print_sync_result, _run_sync, err
from chartroute.cli.practice_home import (
    Practice,
    announce,
    how_to_run,
    record_home_default,
    resolve_practice,
)
from chartroute.config import load_config
from chartroute.store.engine import home

__all__ = ["demo", "register"]


def demo(
    providers: int = typer.Option(5, "--providers", min=1),
    days: int = typer.Option(20, "--days", min=1),
    seed: int = typer.Option(1, "--seed"),
    server: bool = typer.Option(
        True,
        "--server/--no-server",
        help="Start the home's local Prefect server (kept running for the commands after) "
        "unless PREFECT_API_URL names one; --no-server: a temporary one for this run.",
    ),
) -> None:
    """Generate a synthetic practice; run sync, escalation sweep and report on the defaults."""
    from chartroute.cli.outbox import file_outbox_note
    from chartroute.cli.prefect_server import ServerFailed, use_for_flows
    from chartroute.generate import GeneratorProfile, generate_practice
    from chartroute.store.lease import LeaseHeld

    target = home() / "demo-practice"
    practice_file = str(target / "practice.yaml")
    announce(Practice(practice_file, "demo"), database=True)
    start = clinic_days_back(date.today(), days)
    profile = GeneratorProfile(providers=providers, days=days, seed=seed, start=start)
    with exit_codes(failure=(LeaseHeld, ServerFailed)):
        runs_at = use_for_flows(start_local=server)  # before Prefect is imported
        from chartroute.flows.escalate import escalate_flow
        from chartroute.flows.report import report_flow
        from chartroute.flows.run_tags import tagged

        summary = generate_practice(target, profile)
        err.print(
            f"generated {summary.encounters} encounters for {providers} providers over {days} "
            f"clinic days in {target} (as of {summary.as_of:%Y-%m-%d %H:%M %Z})"
        )
        recorded = record_home_default(Path(practice_file))
        practice = load_config(practice_file).practice.name
        result = _run_sync(str(target), practice_file, summary.as_of, False, practice)
        _print_sync_result(result)
        err.print(file_outbox_note(result, practice_file))
        with tagged(practice):
            swept = escalate_flow(config=practice_file, as_of=summary.as_of)
            err.print(
                f"escalation sweep: {swept.get('escalated', 0)} escalations due at the as-of time"
            )
            rendered = report_flow(config=practice_file, as_of=summary.as_of)
    err.print(f"management report: {rendered['path']}")
    err.print(recorded)
    command = how_to_run()
    flag = "" if _is_default(practice_file) else f" --config {practice_file}"
    runs = (
        f"the runs are in the Prefect UI at {runs_at} (`{command} server stop` stops the local "
        "server)"
        if runs_at
        else "the runs went to a temporary Prefect server, gone now"
    )
    err.print(
        f"Next: `{command} worklist` lists the items; `{command} classify {target}{flag}` "
        f"explains each chart; {runs}"
    )


def _is_default(practice_file: str) -> bool:
    """Whether a command given no --config would use this practice file."""
    try:
        found = resolve_practice(None)
    except BadInput:
        return False
    return Path(found.path).resolve() == Path(practice_file).resolve()


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``chartroute`` command."""
    app.command("demo")(demo)
