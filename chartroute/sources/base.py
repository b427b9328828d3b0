"""The source protocol: split the feed into partitions, then stream each partition's records.

Partitions let the sync flow give each Prefect task a slice of the feed by name (a file and a
byte range, or a resource type and a ``_lastUpdated`` bound), so no resource ever passes
through Prefect; records carry their location (file and line, or URL) so a bad one can be
reported where an engineer can find it.

Cursors: the sync hands ``partitions`` the fingerprint each cursor had when its data was last
committed. A folder ignores them (it fingerprints files); an EHR source reads only what
changed since them, and returns the new cursor value as each partition's fingerprint, which
the sync stores only after that partition's data is committed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chartroute.fhir.facts import fill_slots_init


@dataclass(frozen=True, slots=True)
class Partition:
    """A named slice of a source; ``fingerprint`` changes when its data may have changed.

    ``changed`` tells the sync to read the partition even if its fingerprint equals the stored
    one: an EHR source that found changes but whose cursor cannot move (the server's clock has
    not advanced past it) still has data to read.
    """

    id: str
    label: str
    fingerprint: str
    cursor_name: str  # partitions sharing a cursor are skipped together when unchanged
    changed: bool = False


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One resource as read: raw bytes (undecoded) or an already-decoded object.

    ``deleted`` instead names the key (``Type/id``) of a resource the source reports as
    deleted since the last sync; such a record carries no resource. ``expected_type`` is the
    resource type the record's file is named for (``Encounter.ndjson``) or its search asked
    for: a record of another type there is quarantined rather than read as if it were right.
    """

    location: str
    raw: bytes | None = None
    decoded: Any = None
    aliases: Mapping[str, str] | None = field(default=None)
    deleted: str | None = None
    #: the server's base URL when the source knows it: an absolute reference to another
    #: server's base then does not resolve to a resource of ours
    base: str | None = None
    expected_type: str | None = None


# one of these per line read: built as cheaply as the facts
fill_slots_init(SourceRecord)


class Source(Protocol):
    """Anything chartroute can read charts from."""

    name: str

    def partitions(self, cursors: Mapping[str, str] | None = None) -> list[Partition]:
        """Slices of the feed, in a stable order; ``cursors`` are the stored fingerprints."""
        ...

    def read(self, partition: Partition) -> Iterator[SourceRecord]:
        """Every record of one partition, streamed."""
        ...


def skipped_files(source: object) -> list[str]:
    """The files a source did not read, each with its reason; a source that reads no folder
    (REST, Bulk) skips none. One answer for ``classify`` and the sync's plan."""
    listed = getattr(source, "skipped_files", None)
    return list(listed()) if callable(listed) else []
