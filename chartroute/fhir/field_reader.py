"""Typed access to the fields of one decoded resource, collecting every problem before failing.

The extractors (``extract``) read each field the rules use through a ``FieldReader``: a value
of the wrong JSON type, a reference that is not a Reference object or a date that does not
parse adds a problem naming the field's path and reads as empty, so one pass over a resource
reports everything wrong with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chartroute.fhir.dates import parse_fhir_datetime
from chartroute.fhir.references import (
    MalformedReference,
    identifier_key,
    identifier_of,
    is_plain,
    read_reference,
)

_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{1,63}")


class FieldReader:
    """Typed access to one resource's fields, collecting every problem before failing."""

    __slots__ = ("aliases", "base", "contained_ids", "errors", "key", "resource")

    def __init__(
        self,
        resource: Mapping[str, Any],
        key: str,
        aliases: Mapping[str, str] | None,
        *,
        base: str | None = None,
        contained_ids: frozenset[str] = frozenset(),
    ):
        self.resource = resource
        self.key = key
        self.aliases = aliases
        self.base = base
        self.contained_ids = contained_ids
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

    def ref(self, path: str, value: object, default_type: str | None = None) -> str | None:
        """The key a Reference points at: by ``reference``, else by ``identifier`` (US Core
        allows either), typed by ``Reference.type`` or, failing that, ``default_type``."""
        if value is None:
            return None
        if not isinstance(value, dict):
            self.errors.append(f"{path}: expected a Reference object")
            return None
        raw = value.get("reference")
        if is_plain(raw, self.aliases):
            return raw
        if raw is None:
            return self._by_identifier(path, value, default_type)
        if not isinstance(raw, str):
            self.errors.append(f"{path}.reference: expected a string")
            return None
        try:
            return read_reference(
                raw,
                container_key=self.key,
                aliases=self.aliases,
                base=self.base,
                contained_ids=self.contained_ids,
            )
        except MalformedReference as exc:
            self.errors.append(f"{path}.reference: malformed reference ({exc})")
            return None

    def _by_identifier(
        self, path: str, value: Mapping[str, Any], default_type: str | None
    ) -> str | None:
        ident = value.get("identifier")
        if ident is None:
            return None  # a display-only Reference names nothing the rules can follow
        found = identifier_of(ident)
        if found is None:
            self.errors.append(f"{path}.identifier: expected an Identifier with a value")
            return None
        declared = value.get("type")
        rtype = default_type
        if isinstance(declared, str) and declared:
            rtype = declared.rstrip("/").rsplit("/", 1)[-1]
        if rtype is None or not _TYPE_NAME.fullmatch(rtype):
            return None  # no type to look the identifier up under
        return identifier_key(rtype, *found)

    def identifiers(self) -> tuple[str, ...]:
        """Identifier keys of this resource, so references by identifier can find it."""
        if self.resource.get("identifier") is None:
            return ()  # most resources carry none: no need to check the type
        rtype = self.resource.get("resourceType")  # a contained resource's own type
        if not isinstance(rtype, str) or not _TYPE_NAME.fullmatch(rtype):
            return ()
        out: list[str] = []
        for ident in self.array("identifier"):
            found = identifier_of(ident)
            if found is not None:
                key = identifier_key(rtype, *found)
                if key not in out:
                    out.append(key)
        return tuple(out)

    def refs(
        self, name: str, source: Mapping[str, Any] | None = None, default_type: str | None = None
    ) -> tuple[str, ...]:
        out = []
        for i, item in enumerate(self.array(name, source)):
            key = self.ref(f"{name}[{i}]", item, default_type)
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
        meta = self.resource.get("meta")
        if type(meta) is not dict:  # absent or wrong: obj() says which
            meta = self.obj("meta")
        version = meta.get("versionId")
        if version is not None and not isinstance(version, str):
            self.errors.append("meta.versionId: expected a string")
            version = None
        updated = meta.get("lastUpdated")
        return version, None if updated is None else self.when("meta.lastUpdated", updated)
