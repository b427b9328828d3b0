"""Parse FHIR date and dateTime values into aware UTC datetimes.

FHIR allows partial dates (``2026``, ``2026-01``, ``2026-01-05``) and full instants with an
offset. The rules compare times against an as-of instant, so every value becomes an aware
UTC datetime; a partial date means the start of the period it names.

FHIR's own grammar (the ``dateTime`` regex of the R4 specification) is the rule: a value it
does not match — ``20260105``, ``2026-01-05 08:31:00``, ``2026-01-05T08``, a time without an
offset — raises ``ValueError`` so the caller can quarantine the record instead of guessing
what the EHR meant. So does a value the grammar allows but no UTC instant can hold (year 1
with a positive offset, year 9999 with a negative one): one bad record must never stop a feed
with an ``OverflowError``. Messages give the expected shape and never quote the value (a date
of service is patient data).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

#: FHIR R4 ``dateTime`` (``http://hl7.org/fhir/R4/datatypes.html#dateTime``), written out so
#: each part can be read back. Fractions: R4 allows any number of digits and R5 bounds them at
#: nine; nine is kept (beyond microseconds the digits are dropped, never rounded up).
_DATETIME = re.compile(
    r"(?P<year>[0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
    r"(-(?P<month>0[1-9]|1[0-2])"
    r"(-(?P<day>0[1-9]|[1-2][0-9]|3[0-1])"
    r"(T(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9]):(?P<second>[0-5][0-9]|60)"
    r"(\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<zone>Z|(?P<sign>[+-])(?P<zh>0[0-9]|1[0-3]|14):(?P<zm>[0-5][0-9]))"
    r")?)?)?"
)

_SHAPE = "expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff]+zz:zz"


def parse_fhir_datetime(value: object) -> datetime | None:
    """Return the instant a FHIR date/dateTime names, None when absent.

    Raises ``ValueError`` (never another error) for anything that is not one.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a FHIR date: a {type(value).__name__}, not a string")
    # fullmatch: ``$`` would let a trailing newline through
    match = _DATETIME.fullmatch(value)
    if match is None:
        raise ValueError(f"not a FHIR dateTime: {_SHAPE}")
    if match["zh"] == "14" and match["zm"] != "00":
        raise ValueError(f"not a FHIR dateTime: offsets run from -14:00 to +14:00; {_SHAPE}")
    try:
        return _instant(match)
    except (ValueError, OverflowError):
        # a day the month does not have, or an instant outside what UTC datetimes can hold
        raise ValueError(
            "not a FHIR dateTime: no such day, or outside the years 0001-9999 in UTC"
        ) from None


def _instant(match: re.Match[str]) -> datetime:
    year = int(match["year"])
    month = int(match["month"] or 1)
    day = int(match["day"] or 1)
    if match["hour"] is None:
        return datetime(year, month, day, tzinfo=UTC)
    second = int(match["second"])
    leap = second == 60  # a leap second: read as the next second's start
    micros = int((match["fraction"] or "0")[:6].ljust(6, "0"))
    zone = UTC
    if match["sign"] is not None:
        offset = timedelta(hours=int(match["zh"]), minutes=int(match["zm"]))
        zone = timezone(-offset if match["sign"] == "-" else offset)
    local = datetime(
        year,
        month,
        day,
        int(match["hour"]),
        int(match["minute"]),
        59 if leap else second,
        0 if leap else micros,
        tzinfo=zone,
    )
    if leap:
        local += timedelta(seconds=1)
    return local.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, the spelling chartroute writes everywhere."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
