"""A folder in FHIR Bulk Data layout: ``<Type>.ndjson`` / ``<Type>.<n>.ndjson``, plus Bundles.

This is the embedded default and what a Bulk ``$export`` writes. NDJSON files are streamed line
by line in byte-range partitions (constant memory however large the file); only the resource
types the rules read are opened, so Patient files and their PHI are never read. ``*.json`` files
are read whole as a Bundle (or a single resource); ``urn:uuid:`` fullUrls in a Bundle become
aliases so entries can reference each other the way transaction Bundles do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import orjson

from chartroute.fhir.extract import RULE_RESOURCE_TYPES
from chartroute.fhir.references import resource_key
from chartroute.sources.base import Partition, SourceRecord

_NDJSON_NAME = re.compile(r"^(?P<type>[A-Z][A-Za-z]+)(\.(?P<n>\d+))?\.ndjson$")
DEFAULT_PARTITION_BYTES = 32 * 1024 * 1024


class NdjsonDirSource:
    """Reads a Bulk Data folder; ``partition_bytes`` bounds the size of one partition."""

    def __init__(self, directory: str | Path, partition_bytes: int = DEFAULT_PARTITION_BYTES):
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise FileNotFoundError(f"source folder not found: {self.directory}")
        self.name = f"ndjson:{self.directory.resolve()}"
        self.partition_bytes = max(1, partition_bytes)

    def files(self) -> list[Path]:
        """The files this source reads, in a stable order."""
        out = []
        for path in sorted(self.directory.iterdir()):
            if not path.is_file():
                continue
            match = _NDJSON_NAME.match(path.name)
            wanted = match is not None and match.group("type") in RULE_RESOURCE_TYPES
            bundle = path.suffix == ".json" and path.name not in _NOT_BUNDLES
            if wanted or bundle:
                out.append(path)
        return out

    def partitions(self, cursors: Mapping[str, str] | None = None) -> list[Partition]:
        """Byte-range slices of every file; a file's fingerprint is its size, mtime and inode."""
        parts: list[Partition] = []
        for path in self.files():
            stat = path.stat()
            fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"
            if path.suffix == ".json":
                parts.append(Partition(f"{path.name}@bundle", path.name, fingerprint, path.name))
                continue
            for start, end, first_line in _byte_ranges(path, stat.st_size, self.partition_bytes):
                pid = f"{path.name}@{start}-{end}:{first_line}"
                label = f"{path.name} lines {first_line}+"
                parts.append(Partition(pid, label, fingerprint, path.name))
        return parts

    def read(self, partition: Partition) -> Iterator[SourceRecord]:
        name, _, spec = partition.id.partition("@")
        path = self.directory / name
        if spec == "bundle":
            yield from _read_json_file(path)
            return
        span, _, first = spec.partition(":")
        start_s, _, end_s = span.partition("-")
        yield from _read_ndjson_range(path, int(start_s), int(end_s), int(first))


_NOT_BUNDLES = {"generator.json", "manifest.json"}


def _byte_ranges(path: Path, size: int, chunk: int) -> Iterator[tuple[int, int, int]]:
    """Split a file into newline-aligned ranges with the line number each starts at."""
    if size == 0:
        return
    with path.open("rb") as fh:
        start, line = 0, 1
        while start < size:
            end = min(size, start + chunk)
            if end < size:
                fh.seek(end)
                rest = fh.readline()
                end += len(rest)
            fh.seek(start)
            lines_here = _count_newlines(fh, end - start)
            yield start, end, line
            line += lines_here
            start = end


def _count_newlines(fh: object, length: int) -> int:
    count = 0
    remaining = length
    read = fh.read  # type: ignore[attr-defined]
    while remaining > 0:
        block = read(min(remaining, 1 << 20))
        if not block:
            break
        count += block.count(b"\n")
        remaining -= len(block)
    return count


def _read_ndjson_range(path: Path, start: int, end: int, first_line: int) -> Iterator[SourceRecord]:
    with path.open("rb") as fh:
        fh.seek(start)
        position, line_no = start, first_line
        name = path.name
        for line in fh:
            if position >= end:
                break
            position += len(line)
            if line.strip():
                yield SourceRecord(location=f"{name}:{line_no}", raw=line)
            line_no += 1


def _read_json_file(path: Path) -> Iterator[SourceRecord]:
    name = path.name
    try:
        document = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        yield SourceRecord(location=name, raw=b"", decoded=_Undecodable(str(exc)))
        return
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        yield SourceRecord(location=name, decoded=document)
        return
    entries = document.get("entry") or []
    if not isinstance(entries, list):
        yield SourceRecord(location=f"{name}#entry", decoded=_Undecodable("entry is not an array"))
        return
    aliases: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        full_url = entry.get("fullUrl")
        if (
            isinstance(full_url, str)
            and isinstance(resource, dict)
            and isinstance(resource.get("resourceType"), str)
            and isinstance(resource.get("id"), str)
        ):
            aliases[full_url] = resource_key(resource["resourceType"], resource["id"])
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None:
            continue
        rtype = resource.get("resourceType") if isinstance(resource, dict) else None
        if isinstance(rtype, str) and rtype not in RULE_RESOURCE_TYPES and rtype != "Bundle":
            continue
        yield SourceRecord(location=f"{name}#entry[{i}]", decoded=resource, aliases=aliases)


class _Undecodable:
    """Marks a record whose bytes were not JSON; carries the decoder's message."""

    def __init__(self, message: str):
        self.message = message


def is_undecodable(value: object) -> str | None:
    """The decode error message if ``value`` marks an undecodable record."""
    return value.message if isinstance(value, _Undecodable) else None


__all__ = ["DEFAULT_PARTITION_BYTES", "NdjsonDirSource", "is_undecodable"]
