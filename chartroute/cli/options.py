"""Option values every command reads the same way: the practice file, ``--as-of``, ISO days.

``DEFAULT_CONFIG`` is where flows look when no caller names a file; a command resolves its
practice file through ``config_option`` (``--config``, ``CHARTROUTE_CONFIG``, the home, then
``DEFAULT_CONFIG``).

Each parser raises ``BadInput`` naming the option, so ``exit_codes`` reports it with exit 2.
``--config`` and ``--source`` refuse an empty value before a command starts: read as a path,
"" means "this folder", which would fail later with an error about a directory.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, overload

import typer

from chartroute.cli.errors import BadInput
from chartroute.cli.practice_home import config_callback
from chartroute.flows.parameters import DEFAULT_CONFIG

__all__ = ["DEFAULT_CONFIG", "config_option", "not_empty", "parse_as_of", "parse_day"]

_HOW_TO_NAME = {
    "--config": "name the practice YAML file, e.g. --config config/practice.yaml",
    "SOURCE": "name a folder of FHIR NDJSON / Bundles, a FHIR base URL or bulk+<base URL>",
    "--source": "name a folder of FHIR NDJSON / Bundles, a FHIR base URL or bulk+<base URL>",
}


def not_empty(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """Refuse an empty path option (exit 2), saying how to give it (an option callback)."""
    if value is not None and not value.strip():
        option = param.opts[0] if param.opts else str(param.name)
        option = option.upper() if not option.startswith("-") else option
        how = _HOW_TO_NAME.get(option, "give a value")
        raise typer.BadParameter(f"is empty: {how}")
    return value


#: The help of ``--since`` on classify, sync and backfill.
SINCE_HELP = (
    "Go-live cut-off (YYYY-MM-DD): visits that started before it are not charts; "
    "overrides the practice file's charts.since for this run."
)


def config_option(help: str = "Practice YAML.", *, database: bool = True) -> Any:
    """The ``--config`` option: the practice file, never empty, found the one way every command
    finds it (``cli/practice_home.py``); the command's first line names it, and the database
    too unless ``database`` is false (a command that reads no store)."""
    return typer.Option(
        None,
        "--config",
        help=f"{help} Default: $CHARTROUTE_CONFIG, else $CHARTROUTE_HOME/practice.yaml, "
        "else config/practice.yaml.",
        callback=config_callback(database),
        show_default=False,
    )


def parse_as_of(value: str | None) -> datetime:
    """An ISO date or datetime; a date means the end of that day (UTC); none means now."""
    if value is None:
        return datetime.now(UTC)
    try:
        if len(value) == 10:
            return datetime.fromisoformat(value).replace(tzinfo=UTC) + timedelta(
                days=1, microseconds=-1
            )
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--as-of: {value!r} is not an ISO 8601 date or datetime") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@overload
def parse_day(option: str, value: str) -> date: ...
@overload
def parse_day(option: str, value: None) -> None: ...
@overload
def parse_day(option: str, value: str | None) -> date | None: ...
def parse_day(option: str, value: str | None) -> date | None:
    """An ISO date given to ``option``, or None."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{option}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def output_folder(option: str, value: str | Path | None) -> None:
    """Refuse a folder option that names an existing file, before any work is done.

    Writing into it would fail half way with a ``FileExistsError`` traceback (exit 1); the
    user has only to name another path.
    """
    if value is None:
        return
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise BadInput(f"{option}: {path} exists and is not a folder; name a folder to write into")
