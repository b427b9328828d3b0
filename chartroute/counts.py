"""Counts of what a stage did, and the one way they are added up.

Every stage reports a small dataclass of counts (identifiers and numbers only, so it can be
logged, published and stored with the run). A stage's totals are the sum of its batches', and
a stage's counts often sum a lower layer's (the classify stage adds up each batch's
reconciliation); ``Counts.add`` does that for every such dataclass instead of each copying
its fields by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, fields
from typing import Any, ClassVar, Self


class Counts:
    """Base of the counts dataclasses: ``add`` sums another's figures into these."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def add(self, other: Counts) -> Self:
        """Add ``other``'s figures into these, field by field, and return these.

        Numbers are summed, mappings merged key by key (numbers summed, nested mappings
        merged, any other value replaced) and lists extended. A field of ``other`` that these
        counts do not have is left out, so totals may keep fewer figures than their parts.
        """
        mine = {f.name for f in fields(self)}
        for f in fields(other):
            if f.name in mine:
                setattr(self, f.name, _sum(getattr(self, f.name), getattr(other, f.name), f.name))
        return self


def merge_counts(into: dict[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """Add the mapping ``other`` into ``into`` (in place) and return it."""
    for key, value in other.items():
        into[key] = _sum(into[key], value, key) if key in into else _copy(value)
    return into


def _sum(mine: Any, theirs: Any, name: str) -> Any:
    if isinstance(mine, bool) or isinstance(theirs, bool):
        raise TypeError(f"counts field {name!r} is a flag, not a count")
    if isinstance(mine, int | float) and isinstance(theirs, int | float):
        return mine + theirs
    if isinstance(mine, dict) and isinstance(theirs, Mapping):
        return merge_counts(mine, theirs)
    if isinstance(mine, list) and isinstance(theirs, list):
        return mine + theirs
    if isinstance(mine, str) and isinstance(theirs, str):
        return theirs  # a label (a channel's reason for being skipped): the latest stands
    raise TypeError(f"counts field {name!r}: cannot add {type(theirs).__name__}")


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return merge_counts({}, value)
    if isinstance(value, list):
        return list(value)
    return value
