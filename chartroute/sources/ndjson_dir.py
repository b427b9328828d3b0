"""A folder in FHIR Bulk Data layout: ``<Type>.ndjson`` / ``<Type>.<n>.ndjson``, plus Bundles.

This is the embedded default and what a Bulk ``$export`` writes. NDJSON files are streamed line
by line in byte-range partitions (constant memory however large the file); only the resource
types the rules read are opened, so Patient files and their PHI are never read. ``*.json`` files
are read whole as a Bundle (or a single resource); ``urn:uuid:`` fullUrls in a Bundle become
aliases so entries can reference each other the way transaction Bundles do.

Every other file is named with the reason it is not read (``skipped_files``), a leading UTF-8
byte order mark is read through, and a folder with nothing to read is an error
(``NoRecords``), not an empty sync that reports success.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import pairwise
from pathlib import Path

import orjson

from chartroute.fhir.extract import RULE_RESOURCE_TYPES
from chartroute.fhir.references import resource_key
from chartroute.sources.base import Partition, SourceRecord
from chartroute.sources.file_names import file_type, is_read, why_skipped

DEFAULT_PARTITION_BYTES = 32 * 1024 * 1024
BOM = b"\xef\xbb\xbf"
#: A byte range of an NDJSON file: start, end, and the line number it starts at.
Range = tuple[int, int, int]
#: How many skipped files an error message names before it only counts the rest.
NAMED_IN_ERRORS = 10


class NoRecords(ValueError):
    """A folder with no record to read: nothing to sync is a mistake, not a success."""


class NdjsonDirSource:
    """Reads a Bulk Data folder; ``partition_bytes`` bounds the size of one partition.

    ``require_records`` makes ``partitions`` raise ``NoRecords`` for a folder with nothing to
    read; a Bulk export's download folder, legitimately empty when nothing changed, passes
    False.
    """

    def __init__(
        self,
        directory: str | Path,
        partition_bytes: int = DEFAULT_PARTITION_BYTES,
        *,
        require_records: bool = True,
    ):
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise FileNotFoundError(f"source folder not found: {self.directory}")
        self.name = f"ndjson:{self.directory.resolve()}"
        self.partition_bytes = max(1, partition_bytes)
        self.require_records = require_records
        #: Each NDJSON file's byte ranges by name, with the fingerprint and partition size they
        #: were counted for (``remember_ranges``/``ranges_to_remember``).
        self._ranges: dict[str, tuple[str, list[Range]]] = {}

    def files(self) -> list[Path]:
        """The files this source reads, in a stable order."""
        return [p for p in sorted(self.directory.iterdir()) if p.is_file() and is_read(p.name)]

    def skipped_files(self) -> list[str]:
        """Each file of the folder that is not read, with why (names only: no content)."""
        return [
            f"{p.name}: {why_skipped(p.name)}"
            for p in sorted(self.directory.iterdir())
            if p.is_file() and not is_read(p.name)
        ]

    def partitions(self, cursors: Mapping[str, str] | None = None) -> list[Partition]:
        """Byte-range slices of every file; a file's fingerprint is its size, mtime and inode."""
        parts = self._partitions()
        if not parts and self.require_records:
            raise NoRecords(self._nothing_to_read())
        return parts

    def _nothing_to_read(self) -> str:
        empty = [p.name for p in self.files()]
        skipped = self.skipped_files()
        what = [f"{name}: empty" for name in empty] + skipped
        shown = "; ".join(what[:NAMED_IN_ERRORS])
        more = f"; and {len(what) - NAMED_IN_ERRORS} more" if len(what) > NAMED_IN_ERRORS else ""
        detail = f" ({shown}{more})" if what else " (the folder is empty)"
        return (
            f"{self.directory}: no records to read{detail}; expected <ResourceType>.ndjson files "
            f"of {', '.join(sorted(RULE_RESOURCE_TYPES))}, or Bundles as *.json"
        )

    def remember_ranges(self, text: str | None) -> None:
        """Take byte ranges counted by an earlier run (``ranges_to_remember``'s text).

        A file's remembered ranges are used only while its fingerprint and the partition size
        are those they were counted for, and every range still ends at a newline; otherwise
        the file is counted again. Unreadable text is ignored.
        """
        try:
            known = orjson.loads(text) if text else {}
        except orjson.JSONDecodeError:
            return
        if not isinstance(known, dict):
            return
        for name, entry in known.items():
            try:
                key, ranges = entry
                self._ranges.setdefault(
                    str(name), (str(key), [(int(s), int(e), int(n)) for s, e, n in ranges])
                )
            except (TypeError, ValueError):
                continue

    def ranges_to_remember(self) -> str:
        """The byte ranges of the files the last ``partitions`` listed, as text to store."""
        names = {p.name for p in self.files()}
        kept = {name: entry for name, entry in self._ranges.items() if name in names}
        return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).decode()

    def _file_ranges(self, path: Path, fingerprint: str, size: int) -> list[Range]:
        """A file's byte ranges: remembered while its fingerprint holds, else counted."""
        key = f"{fingerprint}/{self.partition_bytes}"
        known = self._ranges.get(path.name)
        if known is not None and known[0] == key and _still_aligned(path, known[1], size):
            return known[1]
        ranges = list(_byte_ranges(path, size, self.partition_bytes))
        self._ranges[path.name] = (key, ranges)
        return ranges

    def _partitions(self) -> list[Partition]:
        parts: list[Partition] = []
        for path in self.files():
            stat = path.stat()
            fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"
            if path.suffix == ".json":
                parts.append(Partition(f"{path.name}@bundle", path.name, fingerprint, path.name))
                continue
            for start, end, first_line in self._file_ranges(path, fingerprint, stat.st_size):
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


def _still_aligned(path: Path, ranges: list[Range], size: int) -> bool:
    """Whether remembered ranges still tile the file, each ending at a newline (a few seeks)."""
    if not ranges or ranges[0][0] != 0 or ranges[0][2] != 1 or ranges[-1][1] != size:
        return False
    if any(a[1] != b[0] or a[2] > b[2] for a, b in pairwise(ranges)):
        return False
    with path.open("rb") as fh:
        for _start, end, _line in ranges[:-1]:
            fh.seek(end - 1)
            if fh.read(1) != b"\n":
                return False
    return True


def _byte_ranges(path: Path, size: int, chunk: int) -> Iterator[Range]:
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
    name = path.name
    expected = file_type(name)
    with path.open("rb") as fh:
        fh.seek(start)
        position, line_no = start, first_line
        for line in fh:
            if position >= end:
                break
            position += len(line)
            if line_no == 1 and line.startswith(BOM):
                line = line[len(BOM) :]  # some Windows tools write one; it is not data
            if line.strip():
                yield SourceRecord(location=f"{name}:{line_no}", raw=line, expected_type=expected)
            line_no += 1


def _read_json_file(path: Path) -> Iterator[SourceRecord]:
    name = path.name
    try:
        document = orjson.loads(path.read_bytes().removeprefix(BOM))
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
        if not isinstance(entry, dict):  # held, not passed over: it may be a broken record
            yield SourceRecord(location=f"{name}#entry[{i}]", decoded=entry)
            continue
        resource = entry.get("resource")
        if resource is None:
            continue  # a request or response entry: no record
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
