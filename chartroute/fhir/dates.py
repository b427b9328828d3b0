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

#: The two spellings nearly every feed uses — a whole instant to the second with ``Z`` or an
#: offset below 14 hours, and a calendar date — each a strict subset of ``_DATETIME``. They go
#: straight to the C ``fromisoformat``: the general path costs about 10 µs a value, a third of
#: a record's whole extraction. Anything else, and any value ``fromisoformat`` refuses (year
#: 0000, 31 February, an instant outside what UTC holds), takes the general path, which alone
#: words the reasons.
_FAST_INSTANT = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9])"
)
_FAST_DATE = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])")
_from_iso = datetime.fromisoformat
#: Instants already read, by spelling: a record repeats its times (``meta.lastUpdated`` is often
#: ``created`` or ``date``) and neighbouring records share days, so about two in five values of
#: a feed were read just before. Emptied when full, so it stays a few hundred kilobytes.
_SEEN: dict[str, datetime] = {}
_SEEN_MAX = 2048
_OFFSETS: dict[str, timedelta] = {}


def parse_fhir_datetime(value: object) -> datetime | None:
    """Return the instant a FHIR date/dateTime names, None when absent.

    Raises ``ValueError`` (never another error) for anything that is not one.
    """
    if value is None:
        return None
    if type(value) is str:
        seen = _SEEN.get(value)
        if seen is not None:
            return seen
        try:
            if _FAST_INSTANT.fullmatch(value) is not None:
                # to UTC by adding the offset's opposite: astimezone() costs twice as much
                utc = _from_iso(value[:19] + "Z")
                # assigned only once whole: an offset that overflows must leave nothing read
                seen = utc if value[19] == "Z" else utc + _to_utc(value[19:])
            elif _FAST_DATE.fullmatch(value) is not None:
                seen = _from_iso(value + "T00:00:00Z")  # UTC itself: no replace() to pay
        except (ValueError, OverflowError):
            pass  # the general path below says why
        if seen is not None:
            if len(_SEEN) >= _SEEN_MAX:
                _SEEN.clear()
            _SEEN[value] = seen
            return seen
    return parse_general(value)


def _to_utc(offset: str) -> timedelta:
    """What to add to a local time at ``offset`` (``-04:00``) to read it in UTC."""
    delta = _OFFSETS.get(offset)
    if delta is None:
        delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        if offset[0] == "+":
            delta = -delta
        _OFFSETS[offset] = delta  # bounded: the pattern allows 1,680 spellings
    return delta


def parse_general(value: object) -> datetime | None:
    """``parse_fhir_datetime`` without its fast path: every form, every reason.

    Kept apart so a property test can hold the fast path to it, value for value.
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
