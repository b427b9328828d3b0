"""Hypothesis strategies for feeds: good resources, known breakages, and arbitrary JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests import builders as b

STATUSES: dict[str, list[str]] = {
    "Encounter": ["planned", "arrived", "in-progress", "onleave", "finished", "cancelled"],
    "DocumentReference": ["current", "superseded"],
    "ServiceRequest": ["draft", "active", "on-hold", "revoked", "completed"],
    "DiagnosticReport": ["registered", "preliminary", "final", "amended", "corrected"],
    "Claim": ["active", "cancelled", "draft"],
    "Task": ["requested", "received", "accepted", "in-progress", "completed"],
}


def _good(kind: str, rid: str, status: str) -> dict[str, Any]:
    if kind == "Encounter":
        return b.encounter(rid, status=status)
    if kind == "DocumentReference":
        return b.note(rid, status=status)
    if kind == "ServiceRequest":
        return b.order(rid, status=status)
    if kind == "DiagnosticReport":
        return b.report(rid, "ServiceRequest/s1", status=status)
    if kind == "Claim":
        return b.claim(rid, status=status)
    return b.task(rid, status=status)


@st.composite
def good_resource(draw: st.DrawFn, rid: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(STATUSES)))
    resource = _good(kind, rid, draw(st.sampled_from(STATUSES[kind])))
    if draw(st.booleans()):
        resource["meta"] = {
            "versionId": str(draw(st.integers(1, 9))),
            "lastUpdated": "2026-03-05T10:00:00Z",
        }
    return resource


#: Breakages with the reason each must be quarantined with (a substring).
BREAKAGES: dict[str, str] = {
    "not-json": "not JSON",
    "no-id": "id: missing",
    "no-type": "resourceType: missing",
    "bad-date": "meta.lastUpdated: not a FHIR",
    "wrong-type": "status: expected a string",
    "bad-status": "status: not in the FHIR R4",
    "future": "meta.lastUpdated: after the as-of time",
}


def break_resource(resource: dict[str, Any], how: str, junk: str) -> str:
    """The line a breakage makes of a good resource."""
    r = dict(resource)
    if how == "not-json":
        return json.dumps(r)[: max(1, len(junk) % 40)] + "\x00"
    if how == "no-id":
        del r["id"]
    elif how == "no-type":
        del r["resourceType"]
    elif how == "bad-date":
        r["meta"] = {"lastUpdated": f"not-a-date-{junk}"}
    elif how == "wrong-type":
        r["status"] = len(junk)
    elif how == "bad-status":
        r["status"] = f"zz-{junk}"
    elif how == "future":
        r["meta"] = {"lastUpdated": "2031-01-01T00:00:00Z"}
    return json.dumps(r)


@dataclass(frozen=True)
class Line:
    """One line of a generated feed and what must become of it."""

    file: str
    text: str
    key: str | None  # the resource key when the record has a usable type and id
    expect: str | None  # None: must be stored; otherwise a reason substring


@st.composite
def labelled_feed(draw: st.DrawFn) -> list[Line]:
    """Good records and records broken in a known way, each with its expected fate."""
    lines = []
    for i in range(draw(st.integers(1, 25))):
        resource = draw(good_resource(f"r{i}"))
        file = f"{resource['resourceType']}.ndjson"
        key = f"{resource['resourceType']}/{resource['id']}"
        how = draw(st.sampled_from([None, *BREAKAGES]))
        if how is None:
            lines.append(Line(file, json.dumps(resource), key, None))
            continue
        junk = draw(st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=12))
        usable_key = key if how not in ("not-json", "no-id", "no-type") else None
        lines.append(Line(file, break_resource(resource, how, junk), usable_key, BREAKAGES[how]))
    return lines


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "resourceType",
    "id",
    "meta",
    "status",
    "class",
    "period",
    "subject",
    "participant",
    "type",
    "reasonCode",
    "diagnosis",
    "docStatus",
    "context",
    "date",
    "category",
    "encounter",
    "authoredOn",
    "basedOn",
    "issued",
    "use",
    "item",
    "total",
    "insurer",
    "created",
    "focus",
    "code",
    "contained",
    "extension",
]


@st.composite
def arbitrary_feed(draw: st.DrawFn) -> list[tuple[str, str]]:
    """(file, line) pairs: resources with random JSON in fields the rules read, or garbage."""
    out = []
    for i in range(draw(st.integers(1, 15))):
        resource = draw(good_resource(f"f{i}"))
        file = f"{resource['resourceType']}.ndjson"
        choice = draw(st.integers(0, 3))
        if choice == 0:
            out.append((file, json.dumps(draw(JSON))))
            continue
        for _ in range(choice):
            resource[draw(st.sampled_from(FIELDS))] = draw(JSON)
        out.append((file, json.dumps(resource)))
    return out
