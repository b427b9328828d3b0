"""Typed access to the fields of one decoded resource, collecting every problem before failing.

The extractors (``extract``) read each field the rules use through a ``FieldReader``: a value
of the wrong JSON type, a reference that is not a Reference object or a date that does not
parse adds a problem naming the field's path and reads as empty, so one pass over a resource
reports everything wrong with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chartroute.fhir.dates import parse_fhir_datetime
from chartroute.fhir.references import parse_reference


class FieldReader:
    """Typed access to one resource's fields, collecting every problem before failing."""

    def __init__(self, resource: Mapping[str, Any], key: str, aliases: Mapping[str, str] | None):
        self.resource = resource
        self.key = key
        self.aliases = aliases
        self.errors: list[str] = []

    def string(self, name: str) -> str | None:
        value = self.resource.get(name)
        if value is None or isinstance(value, str):
            return value
        self.errors.append(f"{name}: expected a string, got {type(value).__name__}")
        return None

    def obj(self, name: str, source: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        value = (self.resource if source is None else source).get(name)
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        self.errors.append(f"{name}: expected an object, got {type(value).__name__}")
        return {}

    def array(self, name: str, source: Mapping[str, Any] | None = None) -> list[Any]:
        value = (self.resource if source is None else source).get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.errors.append(f"{name}: expected an array, got {type(value).__name__}")
        return []

    def when(self, path: str, value: object) -> datetime | None:
        try:
            return parse_fhir_datetime(value)
        except ValueError as exc:
            self.errors.append(f"{path}: {exc}")
            return None

    def ref(self, path: str, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.errors.append(f"{path}: expected a Reference object")
            return None
        raw = value.get("reference")
        if raw is None:
            return None
        if not isinstance(raw, str):
            self.errors.append(f"{path}.reference: expected a string")
            return None
        return parse_reference(raw, container_key=self.key, aliases=self.aliases)

    def refs(self, name: str, source: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        out = []
        for i, item in enumerate(self.array(name, source)):
            key = self.ref(f"{name}[{i}]", item)
            if key:
                out.append(key)
        return tuple(out)

    def codings(self, path: str, concept: object) -> tuple[str, ...]:
        if concept is None:
            return ()
        if not isinstance(concept, dict):
            self.errors.append(f"{path}: expected a CodeableConcept object")
            return ()
        out = []
        codings = concept.get("coding") or []
        if not isinstance(codings, list):
            self.errors.append(f"{path}.coding: expected an array")
            return ()
        for coding in codings:
            if not isinstance(coding, dict):
                self.errors.append(f"{path}.coding: expected objects")
                continue
            code = coding.get("code")
            system = coding.get("system") or ""
            if not isinstance(code, str) or not isinstance(system, str):
                if code is not None:
                    self.errors.append(f"{path}.coding.code: expected a string")
                continue
            out.append(f"{system}|{code}")
        return tuple(out)

    def concept_list(self, name: str) -> tuple[str, ...]:
        out: list[str] = []
        for i, concept in enumerate(self.array(name)):
            out.extend(self.codings(f"{name}[{i}]", concept))
        return tuple(out)

    def meta(self) -> tuple[str | None, datetime | None]:
        meta = self.obj("meta")
        version = meta.get("versionId")
        if version is not None and not isinstance(version, str):
            self.errors.append("meta.versionId: expected a string")
            version = None
        return version, self.when("meta.lastUpdated", meta.get("lastUpdated"))
