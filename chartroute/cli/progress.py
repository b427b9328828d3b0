"""A progress bar over a source's partitions, on stderr, for commands that read a whole feed."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from chartroute.sources.base import Partition, Source, SourceRecord


class ProgressSource:
    """Wraps a source so reading it advances a progress bar, one step per partition."""

    def __init__(self, source: Source, progress: Progress) -> None:
        self._source = source
        self._progress = progress
        self._task = progress.add_task("reading", total=None)
        self.name = source.name

    def partitions(self, cursors: Mapping[str, str] | None = None) -> list[Partition]:
        parts = self._source.partitions(cursors)
        self._progress.update(self._task, total=len(parts))
        return parts

    def read(self, partition: Partition) -> Iterator[SourceRecord]:
        self._progress.update(self._task, description=f"reading {partition.label}")
        yield from self._source.read(partition)
        self._progress.advance(self._task)

    def __getattr__(self, name: str) -> object:
        return getattr(self._source, name)


@contextmanager
def reading_progress(source: Source) -> Iterator[Source]:
    """The source, reporting its progress on stderr when stderr is a terminal."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    with progress:
        yield ProgressSource(source, progress)
