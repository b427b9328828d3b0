"""Exit codes and the one place that turns exceptions into them.

0 success; 2 bad input or config (the message names the file, line or record and field);
1 any other failure. Codes are never reused for a different meaning.

Every command runs its work inside ``exit_codes``, naming the domain errors it can meet and
which of the two kinds each is; no command raises ``typer.Exit`` with a code of its own. An
error a command did not name is a bug: it propagates with its traceback (exit 1).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from chartroute.config import ConfigError
from chartroute.fhirclient.errors import UnusableKey
from chartroute.sources.ndjson_dir import NoRecords

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

ErrorTypes = tuple[type[BaseException], ...]


class BadInput(Exception):
    """Input the user must fix (a missing folder, an unparseable option)."""


@contextmanager
def exit_codes(*, bad_input: ErrorTypes = (), failure: ErrorTypes = ()) -> Iterator[None]:
    """Map errors to exit codes with a one-line message per problem on stderr.

    A config error, ``BadInput``, a missing file, a folder with no records and an unusable
    signing key always mean bad input; ``bad_input`` and ``failure`` add the domain errors
    the command can meet (too many bad records; an EHR that failed, a lease another run holds).
    """
    bad: ErrorTypes = (BadInput, FileNotFoundError, NoRecords, UnusableKey, *bad_input)
    try:
        yield
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except bad as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except failure as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_FAILURE) from None
