"""A corpus of broken records, one per kind of problem a real feed has, with the reason each
must be quarantined with; and records that look odd but are fine (vendor extensions, orphan
references), which must be stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests import builders as b


@dataclass(frozen=True)
class Broken:
    """One bad line of a feed, the file it sits in, its quarantine key and expected reason."""

    name: str
    file: str
    line: str
    key: str | None  # None: keyed by location
    reason: str  # a substring of one of the record's reasons


def _dump(resource: dict[str, Any]) -> str:
    return json.dumps(resource)


def _without(resource: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k not in names}


BROKEN: list[Broken] = [
    Broken(
        "not json", "Encounter.ndjson", '{"resourceType": "Encounter", "id": ', None, "not JSON"
    ),
    Broken("not an object", "Encounter.ndjson", "[1, 2, 3]", None, "not a JSON object"),
    Broken(
        "no resourceType",
        "Encounter.ndjson",
        _dump(_without(b.encounter("x-notype"), "resourceType")),
        None,
        "resourceType: missing",
    ),
    Broken(
        "no id", "Encounter.ndjson", _dump(_without(b.encounter("x"), "id")), None, "id: missing"
    ),
    Broken(
        "bad id",
        "Encounter.ndjson",
        _dump(b.encounter("bad id!")),
        None,  # an invalid id is no key: held by where it was read
        "not a valid FHIR id",
    ),
    Broken(
        "wrong type",
        "Encounter.ndjson",
        _dump({**b.encounter("x-type"), "status": 3}),
        "Encounter/x-type",
        "status: expected a string, got int",
    ),
    Broken(
        "unparseable date",
        "Encounter.ndjson",
        _dump(b.encounter("x-date", start="2026-02-30T09:00:00Z")),
        "Encounter/x-date",
        "period.start: not a FHIR dateTime",
    ),
    Broken(
        "status outside value set",
        "Encounter.ndjson",
        _dump(b.encounter("x-status", status="done")),
        "Encounter/x-status",
        "status: not in the FHIR R4 encounter-status value set",
    ),
    Broken(
        "class outside value set",
        "Encounter.ndjson",
        _dump(b.encounter("x-class", klass="OFFICE")),
        "Encounter/x-class",
        "class: not in the v3 ActEncounterCode value set",
    ),
    Broken(
        "no class",
        "Encounter.ndjson",
        _dump(_without(b.encounter("x-noclass"), "class")),
        "Encounter/x-noclass",
        "class: missing",
    ),
    Broken(
        "end before start",
        "Encounter.ndjson",
        _dump(b.encounter("x-period", end="2026-03-02T08:00:00-05:00")),
        "Encounter/x-period",
        "period.end: before period.start",
    ),
    Broken(
        "updated in the future",
        "Encounter.ndjson",
        _dump({**b.encounter("x-future"), "meta": {"lastUpdated": "2027-01-01T00:00:00Z"}}),
        "Encounter/x-future",
        "meta.lastUpdated: after the as-of time",
    ),
    Broken(
        "duplicate id, first copy",
        "Encounter.ndjson",
        _dump({**b.encounter("x-dup"), "meta": {"versionId": "3"}}),
        "Encounter/x-dup",
        "id: sent more than once at the same version with different content",
    ),
    Broken(
        "duplicate id, second copy",
        "Encounter.ndjson",
        _dump({**b.encounter("x-dup", status="in-progress"), "meta": {"versionId": "3"}}),
        "Encounter/x-dup",
        "id: sent more than once at the same version with different content",
    ),
    Broken(
        "note status outside value set",
        "DocumentReference.ndjson",
        _dump(b.note("x-note", doc_status="signed")),
        "DocumentReference/x-note",
        "docStatus: not in the FHIR R4 composition-status value set",
    ),
    Broken(
        "order without category",
        "ServiceRequest.ndjson",
        _dump(_without(b.order("x-order"), "category")),
        "ServiceRequest/x-order",
        "category: missing on an open order",
    ),
    Broken(
        "result status outside value set",
        "DiagnosticReport.ndjson",
        _dump(b.report("x-report", "ServiceRequest/sr-good", status="done")),
        "DiagnosticReport/x-report",
        "status: not in the FHIR R4 diagnostic-report-status value set",
    ),
    Broken(
        "result with a bad contained order",
        "DiagnosticReport.ndjson",
        _dump(
            {
                **b.report("x-contained", "#o1"),
                "contained": [{**b.order("o1"), "status": "sent"}],
            }
        ),
        "DiagnosticReport/x-contained",
        "contained #o1: status: not in the FHIR R4 request-status value set",
    ),
    Broken(
        "claim use outside value set",
        "Claim.ndjson",
        _dump(b.claim("x-claim", use="authorization")),
        "Claim/x-claim",
        "use: not in the FHIR R4 claim-use value set",
    ),
    Broken(
        "task status outside value set",
        "Task.ndjson",
        _dump(b.task("x-task", status="open")),
        "Task/x-task",
        "status: not in the FHIR R4 task-status value set",
    ),
]

#: Records that are odd but valid: they must be stored, never quarantined.
GOOD: list[dict[str, Any]] = [
    b.encounter("e-good"),
    b.note("n-good", "Encounter/e-good"),
    b.order("sr-good", "Encounter/e-good"),
    b.report("r-good", "ServiceRequest/sr-good"),
    b.claim("c-good", "Encounter/e-good"),
    b.task("t-good", "Encounter/e-good"),
    # vendor extensions and fields the rules do not read pass through untouched
    {
        **b.encounter("e-vendor"),
        "extension": [{"url": "https://vendor.example/x", "valueString": "anything"}],
        "_status": {"extension": [{"url": "https://vendor.example/y", "valueCode": "z"}]},
        "vendorField": {"nested": [1, 2, 3]},
    },
    # an orphan reference: counted and reported, the record itself is fine
    b.report("r-orphan", "ServiceRequest/never-arrives"),
    # the same record twice with identical content is one resource, not a conflict
    {**b.encounter("e-twice"), "meta": {"versionId": "1"}},
    {**b.encounter("e-twice"), "meta": {"versionId": "1"}},
]


def write_feed(
    folder: Path, broken: list[Broken] = BROKEN, good: list[dict[str, Any]] = GOOD
) -> dict[str, str]:
    """Write the good records, then the broken lines, into Bulk Data NDJSON files.

    Returns each broken record's location (``file:line``) by name.
    """
    lines: dict[str, list[str]] = {}
    for resource in good:
        lines.setdefault(f"{resource['resourceType']}.ndjson", []).append(json.dumps(resource))
    where: dict[str, str] = {}
    for bad in broken:
        file_lines = lines.setdefault(bad.file, [])
        file_lines.append(bad.line)
        where[bad.name] = f"{bad.file}:{len(file_lines)}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in lines.items():
        (folder / name).write_text("\n".join(content) + "\n")
    return where
