"""Parse FHIR date and dateTime values into aware UTC datetimes.

FHIR allows partial dates (``2026``, ``2026-01``, ``2026-01-05``) and full instants with an
offset. The rules compare times against an as-of instant, so every value becomes an aware
UTC datetime; a partial date means the start of the period it names. A value that does not
parse raises ``ValueError`` so the caller can quarantine the record instead of guessing; the
message gives the expected shape and never quotes the value (a date of service is patient data).
"""

from __future__ import annotations

from datetime import UTC, datetime

_PARTIAL_FORMATS = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}


def parse_fhir_datetime(value: object) -> datetime | None:
    """Return the instant a FHIR date/dateTime names, None when absent."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a FHIR date: a {type(value).__name__}, not a string")
    fmt = _PARTIAL_FORMATS.get(len(value))
    if fmt is not None:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            raise ValueError("not a FHIR date: expected YYYY, YYYY-MM or YYYY-MM-DD") from None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "not a FHIR dateTime: expected ISO 8601 such as 2026-03-02T09:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        # FHIR requires an offset when a time is given; a missing one is read as UTC.
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, the spelling chartroute writes everywhere."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
