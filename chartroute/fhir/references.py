"""Resolve FHIR references to the keys the store and the rules use.

A key is ``Type/id`` for a resource, or ``Type/id#cid`` for a resource contained in another.
FHIR lets a reference take several forms — relative, absolute, versioned, contained, or a
``urn:uuid:`` pointing at a Bundle entry's fullUrl — and an EHR may use any of them; the rules
must see one spelling, or a result would fail to match its order just because one side wrote
an absolute URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def resource_key(resource_type: str, resource_id: str) -> str:
    """The key of a top-level resource."""
    return f"{resource_type}/{resource_id}"


def key_type(key: str) -> str:
    """The resource type a key names (``Encounter`` for ``Encounter/e1``)."""
    return key.split("/", 1)[0]


def key_id(key: str) -> str:
    """The id part of a key (``e1`` for ``Encounter/e1``)."""
    return key.split("/", 1)[1] if "/" in key else key


def parse_reference(
    reference: str | None,
    *,
    container_key: str | None = None,
    aliases: Mapping[str, str] | None = None,
) -> str | None:
    """Return the key a reference points at, or None when it cannot be resolved locally.

    ``container_key`` is the key of the resource the reference appears in, needed for
    ``#local`` references to contained resources; ``aliases`` maps Bundle fullUrls
    (``urn:uuid:…`` or absolute URLs) to keys.
    """
    if not reference or not isinstance(reference, str):
        return None
    ref = reference.strip()
    if ref.startswith("#"):
        local = ref[1:]
        if not container_key:
            return None
        if not local:  # "#" alone points back at the container itself
            return container_key.split("#", 1)[0]
        return f"{container_key.split('#', 1)[0]}#{local}"
    if aliases is not None and ref in aliases:
        return aliases[ref]
    if ref.startswith(("urn:uuid:", "urn:oid:")):
        return None
    parts = [p for p in ref.split("?", 1)[0].split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2:
        return None
    rtype, rid = parts[-2], parts[-1]
    if not _TYPE.match(rtype) or not _ID.match(rid):
        return None
    return resource_key(rtype, rid)
