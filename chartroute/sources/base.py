"""The source protocol: split the feed into partitions, then stream each partition's records.

Partitions let the sync flow give each Prefect task a slice of the feed by name (a file and a
byte range), so no resource ever passes through Prefect; records carry their location (file and
line, or URL) so a bad one can be reported where an engineer can find it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Partition:
    """A named slice of a source; ``fingerprint`` changes when its data may have changed."""

    id: str
    label: str
    fingerprint: str
    cursor_name: str  # partitions sharing a cursor are skipped together when unchanged


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One resource as read: raw bytes (undecoded) or an already-decoded object."""

    location: str
    raw: bytes | None = None
    decoded: Any = None
    aliases: Mapping[str, str] | None = field(default=None)


class Source(Protocol):
    """Anything chartroute can read charts from."""

    name: str

    def partitions(self) -> list[Partition]:
        """Slices of the feed, in a stable order."""
        ...

    def read(self, partition: Partition) -> Iterator[SourceRecord]:
        """Every record of one partition, streamed."""
        ...
