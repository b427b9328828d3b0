"""Exit codes and the one place that turns exceptions into them.

0 success; 2 bad input or config (the message names the file, line or record and field);
1 any other failure. Codes are never reused for a different meaning.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer

from chartroute.config import ConfigError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

T = TypeVar("T")


class BadInput(Exception):
    """Input the user must fix (a missing folder, an unparseable option)."""


@contextmanager
def exit_codes() -> Iterator[None]:
    """Map known errors to exit codes with a one-line message per problem on stderr."""
    try:
        yield
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config error: {problem}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (BadInput, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def guarded(fn: Callable[[], T]) -> T:
    with exit_codes():
        return fn()
