"""Streaming NDJSON writer in FHIR Bulk Data layout: ``OUT/<Type>.ndjson``.

Each resource is serialised and written as soon as it is built, through one buffered file
handle per resource type, so memory stays constant however large the practice is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

BUFFER_BYTES = 1 << 20


class NdjsonWriter:
    """Writes resources, one compact JSON object per line, to a file per resource type.

    Files are opened lazily, so a type with no resources has no file (as in a Bulk Data
    export). Files of ``known_types`` left over from an earlier run in the same folder are
    removed first, so a folder never mixes two runs.
    """

    def __init__(
        self, out_dir: Path, known_types: Iterable[str] = (), part: int | None = None
    ) -> None:
        self.out_dir = out_dir
        self.part = part
        self._files: dict[str, IO[bytes]] = {}
        self._counts: dict[str, int] = {}
        out_dir.mkdir(parents=True, exist_ok=True)
        for resource_type in known_types:
            self.path(resource_type).unlink(missing_ok=True)

    def path(self, resource_type: str) -> Path:
        """Where resources of a type go (``<Type>.<part>.ndjson``: parts zero-padded to sort)."""
        if self.part is not None:
            return self.out_dir / f"{resource_type}.{self.part:04d}.ndjson"
        return self.out_dir / f"{resource_type}.ndjson"

    def write(self, resource_type: str, resource: Mapping[str, Any]) -> None:
        """Append one resource."""
        handle = self._files.get(resource_type)
        if handle is None:
            handle = self.path(resource_type).open("wb", buffering=BUFFER_BYTES)
            self._files[resource_type] = handle
            self._counts[resource_type] = 0
        handle.write(orjson.dumps(resource, option=orjson.OPT_APPEND_NEWLINE))
        self._counts[resource_type] += 1

    @property
    def counts(self) -> dict[str, int]:
        """Resources written per type, sorted by type name."""
        return dict(sorted(self._counts.items()))

    def close(self) -> None:
        """Flush and close every file."""
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def __enter__(self) -> NdjsonWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
