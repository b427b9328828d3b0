"""``chartroute serve``: one process that schedules and runs every chartroute flow.

The embedded default for a single machine: the deployments (sync every 15 minutes in clinic
hours, escalation sweep hourly, in the practice's timezone) are registered with the Prefect
API in ``PREFECT_API_URL`` and their runs execute in processes forked from a warm one that
this one starts (``deployments/warm_runs.py``), until it is stopped. The runs appear in the
Prefect UI like any other; see "For engineers" in the README.
It refuses (exit 2) while deployments of the same names belong to a work pool.
"""

from __future__ import annotations

import os

import typer

from chartroute.cli.errors import BadInput, exit_codes
from chartroute.cli.options import config_option, not_empty
from chartroute.config import load_config


def serve(
    source: str = typer.Option(
        ...,
        "--source",
        help="What the sync reads: a folder, a FHIR base URL or bulk+<URL>.",
        callback=not_empty,
    ),
    config: str = config_option(),
    alert_block: str | None = typer.Option(
        None,
        "--alert-block",
        help="Prefect notification block '<block-type>/<name>' told when a flow run fails.",
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Most flow runs this process executes at once."
    ),
) -> None:
    """Schedule and run every chartroute flow in this process (Ctrl-C stops it)."""
    from chartroute.cli.prefect_server import use_for_flows

    use_for_flows()  # before Prefect is imported: the environment's server, else the home's
    from chartroute.deployments.automations import AlertBlockNotFound
    from chartroute.deployments.serve import DeploymentsOwnedElsewhere, serve_all

    # A deployment prefect deploy made for a work pool is the engineer's to free or keep.
    with exit_codes(bad_input=(DeploymentsOwnedElsewhere, AlertBlockNotFound)):
        load_config(config)
        if "://" not in source and not os.path.isdir(source):
            raise BadInput(f"--source: folder not found: {source}")
        if alert_block is not None and "/" not in alert_block:
            raise BadInput(f"--alert-block: expected '<block-type>/<name>', got {alert_block!r}")
        serve_all(os.path.abspath(config), _absolute(source), alert_block=alert_block, limit=limit)


def _absolute(source: str) -> str:
    """Runs execute in subprocesses that may start elsewhere: pass folders as absolute paths."""
    return source if "://" in source else os.path.abspath(source)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``chartroute`` command."""
    app.command("serve")(serve)
