"""Split a backfill's date range into partitions of encounter start days.

A partition is a half-open range of practice-local days: every encounter that started on one
of those days belongs to it, whatever happened to it later. Partitions are the unit of work,
of retry and of resumption: thousands of encounters each, never one chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True, order=True)
class DatePartition:
    """Encounters that started on a day in ``[start, end)`` (practice-local days)."""

    start: date
    end: date

    @property
    def key(self) -> str:
        """A stable name, e.g. ``2025-01-01..2025-01-08`` (end exclusive)."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @classmethod
    def from_key(cls, key: str) -> DatePartition:
        """Inverse of ``key``; a malformed key names itself in the error."""
        first, sep, last = key.partition("..")
        try:
            if not sep:
                raise ValueError
            return cls(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError:
            raise ValueError(f"partition key {key!r} is not 'YYYY-MM-DD..YYYY-MM-DD'") from None

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def plan_partitions(start: date, end: date, days: int) -> list[DatePartition]:
    """Partitions of ``days`` days covering ``start`` to ``end`` inclusive, the last shorter.

    The plan depends only on its arguments, so a resumed run names the same partitions.
    """
    if days < 1:
        raise ValueError(f"partition size must be at least 1 day, not {days}")
    if end < start:
        raise ValueError(f"backfill end {end} is before its start {start}")
    stop = end + timedelta(days=1)
    out: list[DatePartition] = []
    first = start
    while first < stop:
        last = min(first + timedelta(days=days), stop)
        out.append(DatePartition(first, last))
        first = last
    return out
