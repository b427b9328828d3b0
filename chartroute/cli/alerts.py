"""``chartroute alerts create BLOCK``: be told when any chartroute flow run fails.

Creates (or re-points) the Prefect automation of ``deployments/automations.py`` on the server
in ``PREFECT_API_URL``: every failed, crashed or timed-out flow run tagged ``chartroute`` —
scheduled, run from the UI, or started by hand with ``chartroute sync`` — sends a message
through the notification block BLOCK (``<block-type>/<name>``, made once in the UI).
"""

from __future__ import annotations

import typer
from rich.console import Console

from chartroute.cli.errors import BadInput, exit_codes

err = Console(stderr=True, soft_wrap=True)  # paths stay whole (cli/render.py)

alerts_app = typer.Typer(help="Alerts on failed flow runs.", no_args_is_help=True)


@alerts_app.command("create")
def create(
    block: str = typer.Argument(
        ..., help="Prefect notification block '<block-type>/<name>', e.g. slack-webhook/oncall."
    ),
) -> None:
    """Alert through BLOCK whenever a chartroute flow run fails, crashes or times out."""
    from prefect.settings import get_current_settings

    from chartroute.deployments.automations import (
        ALERT_NAME,
        AlertBlockNotFound,
        ensure_failure_alert,
    )

    with exit_codes(bad_input=(AlertBlockNotFound,)):
        if "/" not in block or block.startswith("/") or block.endswith("/"):
            raise BadInput(f"BLOCK: expected '<block-type>/<name>', got {block!r}")
        if not get_current_settings().api.url:  # else a temporary server would get it
            raise BadInput(
                "PREFECT_API_URL is not set: the alert lives on your Prefect server; "
                "export PREFECT_API_URL=http://127.0.0.1:4200/api (your server's address)"
            )
        automation = ensure_failure_alert(block)
    err.print(f"{ALERT_NAME!r} ({automation}) sends through {block}")


def register(app: typer.Typer) -> None:
    """Add ``alerts create`` to the ``chartroute`` command."""
    app.add_typer(alerts_app, name="alerts")
