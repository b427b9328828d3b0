"""The practice home: which practice file and which database a command uses, found one way.

Every command finds its practice file the same way: ``--config``, else ``CHARTROUTE_CONFIG``,
else ``$CHARTROUTE_HOME/practice.yaml`` (what ``chartroute demo`` records), else
``config/practice.yaml`` in the current folder; and the database as ``store/engine.py`` says
(``CHARTROUTE_DATABASE_URL``, else ``$CHARTROUTE_HOME/chartroute.db``). The first line a command
prints (on stderr, so piped rows stay clean) names both, and where the file came from, so an
operator with two practices never reads one while believing it is the other.

A command that only reads the store never creates one: an empty database made by a typo in
``CHARTROUTE_HOME`` would answer "0 open work items" where the truth is "wrong folder".
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from chartroute.cli.errors import BadInput, exit_codes
from chartroute.store.engine import database_url, home, make_engine

__all__ = [
    "CONFIG_ENV",
    "HOME_PRACTICE",
    "Practice",
    "announce",
    "database_label",
    "how_to_run",
    "reading_store",
    "record_home_default",
    "resolve_practice",
]

#: Names the practice file when ``--config`` is not given.
CONFIG_ENV = "CHARTROUTE_CONFIG"
#: The home's default practice file (``chartroute demo`` links its practice here).
HOME_PRACTICE = "practice.yaml"
#: The last place looked, relative to the current folder (the repository's example).
FALLBACK = "config/practice.yaml"


@dataclass(frozen=True)
class Practice:
    """A practice file and where it was found (``--config``, ``CHARTROUTE_CONFIG``, ...)."""

    path: str
    source: str


def resolve_practice(given: str | None) -> Practice:
    """The practice file: ``given`` (``--config``), the environment, the home, the example.

    Raises ``BadInput`` naming every place looked when none of them holds a file.
    """
    if given is not None:
        return Practice(given, "--config")
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        return Practice(named, CONFIG_ENV)
    in_home = home() / HOME_PRACTICE
    if in_home.is_file():
        return Practice(_shown(in_home), "$CHARTROUTE_HOME")
    if Path(FALLBACK).is_file():
        return Practice(FALLBACK, "default")
    raise BadInput(
        f"no practice file: --config not given, {CONFIG_ENV} not set, none at {in_home} "
        f"($CHARTROUTE_HOME/{HOME_PRACTICE}) nor at {Path(FALLBACK).resolve()}; name one with "
        f"--config FILE or {CONFIG_ENV}=FILE, or run `chartroute demo`"
    )


def _shown(path: Path) -> str:
    """A path relative to the current folder when under it (shorter to read and to type)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def database_label() -> str:
    """The database URL as printed: a PostgreSQL password is masked."""
    return make_url(database_url()).render_as_string(hide_password=True)


def announce(practice: Practice | None, *, database: bool) -> None:
    """The command's first line: the practice file (and whence) and the database it uses."""
    parts = []
    if practice is not None:
        parts.append(f"practice {practice.path} (from {practice.source})")
    if database:
        parts.append(f"database {database_label()}")
    print("using " + ", ".join(parts), file=sys.stderr)


def reading_store() -> Engine:
    """The store for a command that only reads it; ``BadInput`` when there is none.

    A SQLite file that does not exist is not created, nor is a schema put into an empty
    PostgreSQL database; the message says where the command looked.
    """
    url = make_url(database_url())
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not url.database or not path.is_file() or path.stat().st_size == 0:
            raise BadInput(_no_store(f"no database at {path}"))
        return make_engine(str(url))
    engine = make_engine(database_url(), migrate=False)
    if not inspect(engine).has_table("alembic_version"):
        engine.dispose()
        raise BadInput(_no_store(f"no chartroute tables in {database_label()}"))
    return make_engine(database_url())


def _no_store(what: str) -> str:
    where = (
        "CHARTROUTE_DATABASE_URL"
        if os.environ.get("CHARTROUTE_DATABASE_URL")
        else f"CHARTROUTE_HOME={home()}"
    )
    return (
        f"{what} (from {where}); nothing to read: set CHARTROUTE_HOME or "
        "CHARTROUTE_DATABASE_URL to the practice's store, or fill one with `chartroute sync` "
        "or `chartroute demo`"
    )


def record_home_default(practice_file: Path) -> str:
    """Make ``practice_file`` the home's default practice (a link at
    ``$CHARTROUTE_HOME/practice.yaml``) and say what later commands will use.

    A practice file the operator put there themselves is never replaced; a link (an earlier
    demo's) is.
    """
    link = home() / HOME_PRACTICE
    target = practice_file.resolve()
    if link.exists() and not link.is_symlink():
        return (
            f"kept {link} as the home's practice file; give --config {practice_file} to use "
            "the demo's"
        )
    if link.is_symlink():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    try:
        link.symlink_to(os.path.relpath(target, link.parent))
    except OSError:  # a file system without links: a copy serves the same
        shutil.copyfile(target, link)
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        return f"recorded {link} as the home's practice, but {CONFIG_ENV}={named} comes first"
    return f"recorded {link} as the home's practice: the commands below need no --config"


def how_to_run() -> str:
    """How to run this installation's chartroute again from the user's shell.

    ``chartroute`` only when that name on PATH is this installation (an activated virtual
    environment); otherwise the script's own path (``.venv/bin/chartroute``), since a hint
    that fails with "command not found" is worse than a long one.
    """
    script = Path(sys.executable).parent / "chartroute"
    if not script.exists():
        return f"{sys.executable} -m chartroute.cli.main"
    found = shutil.which("chartroute")
    if found and Path(found).resolve() == script.resolve():
        return "chartroute"
    return _shown(script)


def config_callback(
    database: bool,
) -> Callable[[typer.Context, typer.CallbackParam, str | None], str]:
    """The ``--config`` option's callback: resolve the file and print the first line."""

    def resolve(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str:
        if value is not None and not value.strip():
            raise typer.BadParameter("is empty: name the practice YAML file, e.g. --config FILE")
        if ctx.resilient_parsing:  # completion or --help: print nothing
            return value or ""
        with exit_codes():  # "error: no practice file: ..." on one line, exit 2
            practice = resolve_practice(value)
        announce(practice, database=database)
        return practice.path

    return resolve
