"""``chartroute deployments render``: the prefect.yaml an engineer deploys, from the practice file.

The schedules come from ``practice.timezone`` and ``practice.calendar`` — the same ones
``chartroute serve`` registers — so deploying and serving cannot disagree about when the
clinic is open. Render again after changing the practice's hours or timezone.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from chartroute.cli.errors import exit_codes
from chartroute.cli.options import config_option
from chartroute.config import load_config

DEFAULT_OUT = "deployments/prefect.yaml"
err = Console(stderr=True, soft_wrap=True)  # paths stay whole (cli/render.py)

deployments_app = typer.Typer(
    help="The deployments for a Prefect server with workers.", no_args_is_help=True
)


@deployments_app.command("render")
def render(
    config: str = config_option(
        "Practice YAML: its timezone and hours make the schedules.", database=False
    ),
    out: Path = typer.Option(
        Path(DEFAULT_OUT), "--out", help="Where to write prefect.yaml ('-' for stdout)."
    ),
) -> None:
    """Write prefect.yaml: every deployment, scheduled from the practice file."""
    from chartroute.deployments.prefect_yaml import render_prefect_yaml

    with exit_codes():
        cfg = load_config(config)
        text = render_prefect_yaml(cfg, config)
        if str(out) == "-":
            typer.echo(text, nl=False)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    err.print(
        f"wrote {out}: schedules in {cfg.practice.timezone} from {config}; deploy it with "
        f"CHARTROUTE_SOURCE set: prefect --no-prompt deploy --all --prefect-file {out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``deployments render`` to the ``chartroute`` command."""
    app.add_typer(deployments_app, name="deployments")
