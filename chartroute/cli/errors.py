"""Exit codes and the one place that turns exceptions into them.

0 success; 2 bad input or config (the message names the file, line or record and field);
1 any other failure. Codes are never reused for a different meaning.

Every command runs its work inside ``exit_codes``, naming the domain errors it can meet and
which of the two kinds each is; no command raises ``typer.Exit`` with a code of its own.
Whatever fails, the person at the terminal reads one line that says what failed and what to
do, never a traceback: the database unreachable or unwritable, a disk that is full, a file that
cannot be written, and, for an error no command named (a bug), its type and where the
traceback was kept. The traceback goes to ``$CHARTROUTE_HOME/logs/errors.log`` (or the
temporary folder when that cannot be written); ``chartroute --debug`` prints it instead.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
import typer
from sqlalchemy.exc import DBAPIError, NoSuchTableError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from chartroute.config import ConfigError
from chartroute.fhirclient.errors import UnusableKey
from chartroute.sources.ndjson_dir import NoRecords
from chartroute.store.engine import DatabaseFolderUnwritable, HalfMigrated
from chartroute.transient import HEALING_MESSAGES

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

ErrorTypes = tuple[type[BaseException], ...]

#: Errors of modules that only some commands import, by module and name: an exception whose
#: module was never imported cannot have been raised, so they are looked up when an error
#: arrives rather than imported by every command (the notifier costs ~0.1 s of start-up).
ALWAYS_FAILURE = (("chartroute.notify.deliver", "Undelivered"),)

#: ``chartroute --debug`` (or ``CHARTROUTE_DEBUG=1``): print tracebacks instead of one line.
DEBUG_ENV = "CHARTROUTE_DEBUG"


class BadInput(Exception):
    """Input the user must fix (a missing folder, an unparseable option)."""


class Failure(Exception):
    """A run finished but left work undone that a person must look at (dead letters, a
    channel down); the message says how many and where to look."""


def set_debug(debug: bool) -> None:
    """Keep tracebacks on the terminal for the rest of this process (``--debug``)."""
    if debug:
        os.environ[DEBUG_ENV] = "1"


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


@contextmanager
def exit_codes(*, bad_input: ErrorTypes = (), failure: ErrorTypes = ()) -> Iterator[None]:
    """Map errors to exit codes with a one-line message per problem on stderr.

    A config error, ``BadInput``, a missing file, a folder with no records and an unusable
    signing key always mean bad input; ``bad_input`` and ``failure`` add the domain errors
    the command can meet (too many bad records; an EHR that failed, a lease another run holds).
    Anything else is explained by ``explain`` (exit 1).
    """
    bad: ErrorTypes = (BadInput, FileNotFoundError, NoRecords, UnusableKey, *bad_input)
    failed: ErrorTypes = (Failure, *failure)
    try:
        yield
    except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
        raise
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except Exception as exc:
        if isinstance(exc, bad):
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if isinstance(exc, failed + imported(ALWAYS_FAILURE)):
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(EXIT_FAILURE) from None
        if debugging():
            raise
        kept = keep_traceback(exc)
        print(f"error: {explain(exc, kept)}", file=sys.stderr)
        raise typer.Exit(EXIT_FAILURE) from None


def imported(named: tuple[tuple[str, str], ...]) -> ErrorTypes:
    """The named exception classes whose modules this process has imported."""
    found: list[type[BaseException]] = []
    for module, name in named:
        loaded = sys.modules.get(module)
        if loaded is not None:
            found.append(getattr(loaded, name))
    return tuple(found)


def explain(error: BaseException, kept: Path | None) -> str:
    """One line: what failed and what to do about it."""
    where = f"the traceback is in {kept}" if kept else "run with --debug for the traceback"
    if isinstance(error, HalfMigrated | DatabaseFolderUnwritable):
        return str(error)
    database = _database_problem(error)
    if database:
        return database
    if isinstance(error, OSError):
        return _os_problem(error) + f" ({where})"
    return (
        f"unexpected {type(error).__name__}: {_first_line(error)}; this is a bug to report "
        f"with the command you ran ({where})"
    )


def _database_problem(error: BaseException) -> str | None:
    if isinstance(error, PoolTimeout):
        return "the database gave no connection in time; check its load and max_connections"
    if isinstance(error, NoSuchTableError):
        return f"the database has no table {error}; check CHARTROUTE_DATABASE_URL"
    if not isinstance(error, DBAPIError):
        return None
    url = _database_label()
    message = _first_line(error.orig if error.orig is not None else error)
    lowered = message.lower()
    if any(phrase in lowered for phrase in HEALING_MESSAGES[2:]) or "connection" in lowered:
        return (
            f"database {url} unreachable: {message}; check that it is running and that "
            "CHARTROUTE_DATABASE_URL names it"
        )
    if "locked" in lowered:
        return f"database {url} stayed locked: {message}; another process holds it, try again"
    if any(
        phrase in lowered
        for phrase in ("readonly", "read-only", "disk i/o", "disk is full", "unable to open")
    ):
        return (
            f"database {url} cannot be written: {message}; check the free space and the "
            "permissions of its folder and files"
        )
    if "not a database" in lowered or "malformed" in lowered:
        return (
            f"database {url} is damaged: {message}; restore it from a backup, or move it "
            "aside to start a new one"
        )
    if "no such table" in lowered or "does not exist" in lowered:
        return f"database {url} is missing part of its schema: {message}"
    return f"database {url} failed: {message}; run with --debug for the traceback"


def _os_problem(error: OSError) -> str:
    what = f" {error.filename}" if error.filename else ""
    reason = error.strerror or _first_line(error)
    advice = {
        errno.ENOSPC: "free some space",
        errno.EROFS: "the file system is read-only; point CHARTROUTE_HOME elsewhere",
        errno.EACCES: "check its permissions",
        errno.EPERM: "check its permissions",
    }.get(error.errno or 0, "check the path")
    return f"cannot use{what}: {reason}; {advice}"


def _database_label() -> str:
    """The database in use, without a password (nothing about the URL's user is secret)."""
    from sqlalchemy.engine import make_url

    from chartroute.store.engine import database_url

    try:
        return make_url(database_url()).render_as_string(hide_password=True)
    except Exception:  # the URL itself may be what is wrong
        return "(CHARTROUTE_DATABASE_URL)"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


def keep_traceback(error: BaseException) -> Path | None:
    """Append the traceback to the error log; the log's path, or None if none could be written."""
    from chartroute.store.engine import home

    record = f"--- {datetime.now(UTC).isoformat()} chartroute {' '.join(sys.argv[1:])}\n" + "".join(
        traceback.format_exception(error)
    )
    for folder in (home() / "logs", Path(tempfile.gettempdir())):
        path = folder / ("errors.log" if folder.name == "logs" else "chartroute-errors.log")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as log:
                log.write(record)
        except OSError:
            continue
        return path
    return None
