"""Option values every command reads the same way: the practice file, ``--as-of``, ISO days.

Each parser raises ``BadInput`` naming the option, so ``exit_codes`` reports it with exit 2.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import overload

from chartroute.cli.errors import BadInput

#: The practice file every command reads unless ``--config`` names another.
DEFAULT_CONFIG = "config/practice.yaml"


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
