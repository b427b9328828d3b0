"""Turn the store's fact rows back into facts, each in one call, without a walk over values.

The classify stage reads back every fact a sync just stored (a 10k-encounter sync decodes
~50k rows), and the generic ``fact_from_json`` visits every value of every payload to find
lists and times. These rows were written by the store itself (``fact_to_json``), so each
kind's shape is known: a decoder per kind, compiled once from the dataclass's fields, calls
the class with every field in order, converting only those that need it (lists to tuples,
ISO strings to datetimes). That leaves the JSON parse itself as nearly the whole cost.

A fact class or field type this module does not know, or a row of another shape, goes
through ``fact_from_json``: a fact class changed elsewhere still reads right, only slower.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields
from datetime import datetime
from typing import Any

import orjson

from chartroute.fhir.facts import FACT_CLASSES, Fact, fact_from_json

_Decoder = Callable[[dict[str, Any]], Fact]


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _nested(value: Any) -> Any:
    return tuple(_nested(v) for v in value) if type(value) is list else value


#: How a stored JSON value becomes a field's value, by the field's annotation (None: as is).
_CONVERTERS: dict[str, Callable[[Any], Any] | None] = {
    "bool": None,
    "str": None,
    "str | None": None,
    "float | None": None,
    "datetime | None": _time,
    "tuple[str, ...]": tuple,
    "tuple[tuple[tuple[str, ...], str], ...]": _nested,
}


def _decoder(cls: type[Any]) -> _Decoder:
    """One class's decoder: ``cls(d["key"], …, _time(d["updated_at"]), …)``, compiled once
    so that a row costs one call rather than a loop over the fields.

    Raises TypeError for a class that is not a dataclass or has a field type not listed.
    """
    names: dict[str, Any] = {"cls": cls}
    args = []
    for i, f in enumerate(fields(cls)):
        convert = _CONVERTERS.get(str(f.type), MISSING)
        if convert is MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: {f.type}")
        if f.default is not MISSING:
            names[f"default{i}"] = f.default
            value = f"d.get({f.name!r}, default{i})"
        elif f.default_factory is not MISSING:
            names[f"default{i}"] = f.default_factory()
            value = f"d.get({f.name!r}, default{i})"
        else:
            value = f"d[{f.name!r}]"
        if convert is not None:
            names[f"convert{i}"] = convert
            value = f"convert{i}({value})"
        args.append(value)
    exec(f"def decode(d):\n    return cls({', '.join(args)})\n", names)
    decode: _Decoder = names["decode"]
    return decode


def _decoders() -> dict[str, _Decoder]:
    out: dict[str, _Decoder] = {}
    for kind, cls in FACT_CLASSES.items():
        try:
            out[kind] = _decoder(cls)
        except TypeError:  # not a dataclass of known field types: the generic path
            continue
    return out


_DECODERS = _decoders()


def fact_of_row(body: bytes | str) -> Fact:
    """The fact a stored row's body holds, equal to what ``fact_from_json`` returns."""
    payload = orjson.loads(body)
    decode = _DECODERS.get(payload.get("kind"))
    if decode is not None:
        try:
            return decode(payload)
        except (KeyError, TypeError, ValueError):  # a row of another shape
            pass
    return fact_from_json(body)
