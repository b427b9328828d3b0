""" "Did you mean ...?": the closest valid name for a misspelt key, code or person id.

An ops lead who types ``bakup:`` or ``clinican`` is told which name was meant, not only that
theirs is wrong. Names come from the models themselves (field names and aliases, the codes a
field allows), so a suggestion can never name something the file does not accept.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = ["did_you_mean", "hint_for", "keys_at"]


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or "" when none is close."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def hint_for(model: type[BaseModel], error: Any, loc: Sequence[Any]) -> str:
    """A suggestion for one pydantic error at ``loc`` (union tags removed), or ""."""
    kind = error.get("type")
    if kind == "extra_forbidden" and loc:
        return did_you_mean(loc[-1], keys_at(model, loc[:-1]))
    if kind in ("literal_error", "enum"):
        expected = str((error.get("ctx") or {}).get("expected", ""))
        return did_you_mean(error.get("input"), re.findall(r"'([^']*)'", expected))
    return ""


def keys_at(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The keys a mapping at ``loc`` of ``model`` may hold: field names and their aliases."""
    current: list[Any] = [model]
    for part in loc:
        following = [t for kind in current for t in _step(kind, part)]
        current = following or current  # a discriminator's tag names no field: stay
    keys: list[str] = []
    for kind in current:
        for found in _models(kind):
            for name, field in found.model_fields.items():
                keys += [name] + ([field.alias] if field.alias else [])
    return keys


def _step(kind: Any, part: Any) -> list[Any]:
    origin = get_origin(kind)
    if origin is Annotated:
        return _step(get_args(kind)[0], part)
    if origin is Union or origin is types.UnionType:
        return [t for arg in get_args(kind) for t in _step(arg, part)]
    if origin in (list, tuple, set, frozenset) and isinstance(part, int):
        return [get_args(kind)[0]] if get_args(kind) else []
    if origin is dict and isinstance(part, str):
        return [get_args(kind)[1]] if get_args(kind) else []
    if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(part, str):
        for name, field in kind.model_fields.items():
            if part in (name, field.alias):
                return [field.annotation]
    return []


def _models(kind: Any) -> list[type[BaseModel]]:
    origin = get_origin(kind)
    if origin is Annotated:
        return _models(get_args(kind)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(kind) for m in _models(arg)]
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return [kind]
    return []
