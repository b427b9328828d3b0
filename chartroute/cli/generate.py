"""``chartroute generate``: a synthetic practice, in the generator's own shapes or a real
export's, whose clinic days end today unless told otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from chartroute.cli.errors import BadInput, exit_codes
from chartroute.cli.options import output_folder, parse_as_of, parse_day

__all__ = ["clinic_days_back", "generate", "register"]

err = Console(stderr=True, soft_wrap=True)


def generate(
    out_dir: Path = typer.Argument(..., help="Folder to write the practice into."),
    providers: int = typer.Option(5, "--providers", min=1),
    days: int = typer.Option(20, "--days", min=1, help="Clinic days (Mon-Fri)."),
    seed: int = typer.Option(1, "--seed"),
    start: str | None = typer.Option(
        None, "--start", help="First clinic day (ISO date). Default: the window ends at --as-of."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Emit the EHR as it stood at this date/time. Default: now."
    ),
    flavour: str = typer.Option(
        "synthetic",
        "--flavour",
        help="synthetic, or real-world: the shapes of a US Core export such as Synthea's "
        "(conditional NPI references, PractitionerRole, superseded notes, old history).",
    ),
) -> None:
    """Write a synthetic practice (FHIR R4 NDJSON, Bulk Data layout, plus its practice.yaml).

    Without ``--start`` the clinic days end on the as-of day (today unless ``--as-of`` says
    otherwise), like ``demo``: sync, worklist and sweep read the clock, and a practice drawn in
    another month would make every item months old, past filing limits and delinquent.
    """
    from chartroute.generate import GeneratorProfile, generate_practice
    from chartroute.generate.real_world import FLAVOURS

    with exit_codes():
        output_folder("OUT_DIR", out_dir)
        if flavour not in FLAVOURS:
            raise BadInput(f"--flavour: {flavour!r} is not one of {', '.join(FLAVOURS)}")
        kwargs: dict[str, Any] = {
            "providers": providers,
            "days": days,
            "seed": seed,
            "flavour": flavour,
        }
        when = parse_as_of(as_of) if as_of else None
        if start:
            kwargs["start"] = parse_day("--start", start)
            if when is not None:
                kwargs["as_of"] = when
        else:
            # Only the window's end moves to the clock; an explicit --start keeps the profile's
            # own as-of (18:00 on its last clinic day), as before.
            when = when or datetime.now(UTC)
            today = when.astimezone(GeneratorProfile().tz).date()
            kwargs["start"] = clinic_days_back(today, days)
            kwargs["as_of"] = when
        summary = generate_practice(out_dir, GeneratorProfile(**kwargs))
    err.print(
        f"wrote {summary.encounters} encounters to {out_dir} (clinic days from "
        f"{kwargs['start']}, as of "
        f"{summary.as_of:%Y-%m-%d %H:%M %Z})"
    )


def clinic_days_back(end: date, days: int) -> date:
    """The first of ``days`` weekdays ending on ``end`` (or the last weekday before it)."""
    day = end
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    count = 1
    while count < days:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    return day


def register(app: typer.Typer) -> None:
    """Add ``generate`` to the ``chartroute`` command."""
    app.command("generate")(generate)
