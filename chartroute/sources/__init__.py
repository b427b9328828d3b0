"""Where chart data comes from: one protocol, one module per kind of source."""

from chartroute.sources.base import Partition, Source, SourceRecord
from chartroute.sources.ndjson_dir import NdjsonDirSource

__all__ = ["NdjsonDirSource", "Partition", "Source", "SourceRecord", "open_source"]


def open_source(spec: str) -> Source:
    """The source a command-line argument names (a folder of NDJSON and Bundle files)."""
    return NdjsonDirSource(spec)
