"""Resolve FHIR references to the keys the store and the rules use.

A key is ``Type/id`` for a resource, or ``Type/id#cid`` for a resource contained in another.
FHIR lets a reference take several forms — relative, absolute, versioned, contained, a
``urn:uuid:`` pointing at a Bundle entry's fullUrl, a conditional ``Type?identifier=system|value``
or a Reference with only an ``identifier`` — and an EHR may use any of them; the rules must see
one spelling, or a result would fail to match its order just because one side wrote an absolute
URL.

The last two forms name a resource by a business identifier (an NPI, an accession number), so
they cannot become a ``Type/id`` until the resource holding that identifier has been read —
which may be later in the same feed. Extraction therefore keeps them as an *identifier key*
(``Type?identifier=system|value``) and ``chartroute.fhir.resolve`` turns them into resource
keys when a chart is assembled; one that matches nothing stays an identifier key, so a roster
can still recognise a clinician by NPI.

A reference that is none of these forms (``Encounter/``, ``Patient/../../etc``, ``#`` pointing
at nothing contained, SQL-shaped text) is *malformed*: the record is held with a reason rather
than read as if the reference were absent, which would make a note vanish from its chart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeGuard
from urllib.parse import unquote

_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
#: ``Type/id`` exactly, the form nearly every reference takes: it is its own key, so
#: ``read_reference`` returns it without taking it apart (no ``#``, ``:``, ``?`` or space can
#: be in it, so none of the other forms can be either).
_PLAIN = re.compile(r"[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}")
#: Keys of the other forms already read, by (spelling, base): a conditional reference to an
#: NPI or an encounter's identifier recurs across a feed, and unquoting and splitting it again
#: cost 7% of decode_record on a US Core export. Emptied when full.
_READ: dict[tuple[str, str | None], str | None] = {}
_READ_MAX = 4096
_UNREAD = object()
IDENTIFIER_QUERY = "?identifier="
#: Longest identifier system|value kept in a key, so a key fits the store's 200-character columns.
_MAX_IDENTIFIER = 120


class MalformedReference(ValueError):
    """A reference string that is no form FHIR allows; the message names the form, not data."""


def resource_key(resource_type: str, resource_id: str) -> str:
    """The key of a top-level resource."""
    return f"{resource_type}/{resource_id}"


def identifier_key(resource_type: str, system: str, value: str) -> str:
    """The key of a resource known only by an identifier (``Type?identifier=system|value``)."""
    return f"{resource_type}{IDENTIFIER_QUERY}{system}|{value}"


def is_identifier_key(key: str) -> bool:
    """True for a key that names a resource by identifier, not yet by id."""
    return IDENTIFIER_QUERY in key


def key_type(key: str) -> str:
    """The resource type a key names (``Encounter`` for ``Encounter/e1`` or an identifier key)."""
    if IDENTIFIER_QUERY in key:
        return key.split("?", 1)[0]
    return key.split("/", 1)[0]


def key_id(key: str) -> str:
    """The id part of a key (``e1`` for ``Encounter/e1``)."""
    return key.split("/", 1)[1] if "/" in key else key


def identifier_of(value: object) -> tuple[str, str] | None:
    """(system, value) of a FHIR Identifier object, or None when it has no usable value."""
    if not isinstance(value, dict):
        return None
    system = value.get("system") or ""
    ident = value.get("value")
    if not isinstance(system, str) or not isinstance(ident, str) or not ident.strip():
        return None
    if len(system) + len(ident) > _MAX_IDENTIFIER or "\n" in system + ident:
        return None
    return system, ident


def is_plain(reference: object, aliases: Mapping[str, str] | None) -> TypeGuard[str]:
    """True for a reference that is its own key: ``Type/id`` that no Bundle alias renames."""
    return (
        type(reference) is str
        and _PLAIN.fullmatch(reference) is not None
        and (aliases is None or reference not in aliases)
    )


def parse_reference(
    reference: str | None,
    *,
    container_key: str | None = None,
    aliases: Mapping[str, str] | None = None,
    base: str | None = None,
    contained_ids: frozenset[str] | None = None,
) -> str | None:
    """Return the key a reference points at, or None when it cannot be resolved locally.

    ``container_key`` is the key of the resource the reference appears in, needed for
    ``#local`` references to contained resources; ``aliases`` maps Bundle fullUrls
    (``urn:uuid:…`` or absolute URLs) to keys; ``base`` is the server's base URL when the
    source knows it, so an absolute URL on another server is not taken for ours. A malformed
    reference reads as None here; ``read_reference`` says why.
    """
    try:
        return read_reference(
            reference,
            container_key=container_key,
            aliases=aliases,
            base=base,
            contained_ids=contained_ids,
        )
    except MalformedReference:
        return None


def read_reference(
    reference: str | None,
    *,
    container_key: str | None = None,
    aliases: Mapping[str, str] | None = None,
    base: str | None = None,
    contained_ids: frozenset[str] | None = None,
) -> str | None:
    """Like ``parse_reference`` but raise ``MalformedReference`` for a reference no FHIR form
    allows; None still means a well-formed reference to something outside this source."""
    if reference is None:
        return None
    if is_plain(reference, aliases):
        return reference
    if not isinstance(reference, str) or not reference.strip():
        raise MalformedReference("empty reference")
    ref = reference.strip()
    if ref.startswith("#"):
        return _contained(ref[1:], container_key, contained_ids)
    if aliases is not None and ref in aliases:
        return aliases[ref]
    # from here the key depends on the spelling and the base alone
    found = _READ.get((ref, base), _UNREAD)
    if found is _UNREAD:
        found = _elsewhere(ref, base)  # a malformed one raises, and is read afresh each time
        if len(_READ) >= _READ_MAX:
            _READ.clear()
        _READ[(ref, base)] = found
    return found  # type: ignore[return-value]


def _elsewhere(ref: str, base: str | None) -> str | None:
    """The key of a reference that is neither ``#local`` nor a Bundle alias."""
    if ref.startswith(("urn:uuid:", "urn:oid:")):
        return None  # a Bundle entry this source did not carry
    if _SCHEME.match(ref):
        if base and not ref.startswith(base.rstrip("/") + "/"):
            return None  # another server's resource, whatever its path looks like
        path = ref.split("://", 1)[1].split("/", 1)[1] if "/" in ref.split("://", 1)[1] else ""
        return _relative(path, absolute=True)
    return _relative(ref, absolute=False)


def _contained(local: str, container_key: str | None, contained_ids: frozenset[str] | None) -> str:
    if not container_key:
        raise MalformedReference("'#' reference outside a resource that contains anything")
    top = container_key.split("#", 1)[0]
    if not local:  # "#" alone points back at the container itself
        return top
    if not _ID.fullmatch(local):
        raise MalformedReference("'#' reference with an invalid id")
    if contained_ids is not None and local not in contained_ids:
        raise MalformedReference("'#' reference to no contained resource")
    return f"{top}#{local}"


def _relative(path: str, *, absolute: bool) -> str:
    """Key of ``Type/id[/_history/v]`` or ``Type?identifier=…``, the tail of an absolute URL."""
    head, _, query = path.partition("?")
    parts = head.split("/")
    if absolute:  # the base's own path segments come first: keep the resource's tail only
        if query and _TYPE.fullmatch(parts[-1]):
            parts = parts[-1:]  # a conditional reference: Type?identifier=…
        elif len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[-4:]
        elif len(parts) >= 2:
            parts = parts[-2:]
    if query and len(parts) == 1:
        return _conditional(parts[0], query)
    if len(parts) == 4 and parts[2] == "_history" and _ID.fullmatch(parts[3]):
        parts = parts[:2]
    if len(parts) != 2 or not _TYPE.fullmatch(parts[0]) or not _ID.fullmatch(parts[1]):
        raise MalformedReference("not Type/id, Type/id/_history/v or Type?identifier=system|value")
    return resource_key(parts[0], parts[1])


def _conditional(rtype: str, query: str) -> str:
    if not _TYPE.fullmatch(rtype):
        raise MalformedReference("conditional reference without a resource type")
    if not query.startswith("identifier=") or "&" in query:
        raise MalformedReference("conditional reference other than ?identifier=system|value")
    token = unquote(query[len("identifier=") :])
    system, sep, value = token.rpartition("|")
    found = identifier_of({"system": system if sep else "", "value": value})
    if found is None:
        raise MalformedReference("conditional reference with an empty or oversized identifier")
    return identifier_key(rtype, *found)
