"""Small FHIR R4 resource builders for tests: one function per resource the rules read."""

from __future__ import annotations

from typing import Any

CPT = "http://www.ama-assn.org/go/cpt"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PART = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


def encounter(
    eid: str = "e1",
    *,
    status: str = "finished",
    klass: str = "AMB",
    start: str = "2026-03-02T09:00:00-05:00",
    end: str | None = "2026-03-02T09:20:00-05:00",
    practitioner: str | None = "Practitioner/prac-001",
    participant_type: str = "PPRF",
    level: str | None = "99213",
    reason: bool = True,
    diagnosis: bool = True,
    types: list[tuple[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": eid,
        "status": status,
        "class": {"system": ACT, "code": klass},
        "subject": {"reference": "Patient/p1"},
        "period": {"start": start, **({"end": end} if end else {})},
    }
    codings = [{"system": s, "code": c} for s, c in (types or [])]
    if level:
        codings.append({"system": CPT, "code": level})
    if codings:
        res["type"] = [{"coding": [c]} for c in codings]
    if practitioner:
        res["participant"] = [
            {
                "type": [{"coding": [{"system": PART, "code": participant_type}]}],
                "individual": {"reference": practitioner},
            }
        ]
    if reason:
        res["reasonCode"] = [{"text": "cough"}]
    if diagnosis:
        res["diagnosis"] = [{"condition": {"reference": f"Condition/c-{eid}"}}]
    res.update(extra)
    return res


def note(
    nid: str,
    enc: str = "Encounter/e1",
    *,
    doc_status: str | None = "final",
    status: str = "current",
    loinc: str = "11506-3",
    date: str = "2026-03-02T12:00:00-05:00",
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": nid,
        "status": status,
        "type": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"reference": "Patient/p1"},
        "date": date,
        "context": {"encounter": [{"reference": enc}]},
        "content": [{"attachment": {"contentType": "text/plain", "data": "dGV4dA=="}}],
    }
    if doc_status is not None:
        res["docStatus"] = doc_status
    return res


def composition(cid: str, enc: str = "Encounter/e1", *, status: str = "final") -> dict[str, Any]:
    return {
        "resourceType": "Composition",
        "id": cid,
        "status": status,
        "type": {"coding": [{"system": LOINC, "code": "11506-3"}]},
        "encounter": {"reference": enc},
        "date": "2026-03-02T12:00:00-05:00",
        "author": [{"reference": "Practitioner/prac-001"}],
        "title": "Progress note",
    }


def order(
    sid: str,
    enc: str = "Encounter/e1",
    *,
    category: str = "108252007",
    status: str = "active",
) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": sid,
        "status": status,
        "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": category}]}],
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": enc},
        "authoredOn": "2026-03-02T09:10:00-05:00",
    }


def report(rid: str, based_on: str, *, status: str = "final") -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": "58410-2"}]},
        "basedOn": [{"reference": based_on}],
        "issued": "2026-03-03T10:00:00-05:00",
    }


def claim(
    cid: str,
    enc: str = "Encounter/e1",
    *,
    use: str = "preauthorization",
    status: str = "active",
    code: str = "72148",
    total: float | None = None,
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Claim",
        "id": cid,
        "status": status,
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": use,
        "patient": {"reference": "Patient/p1"},
        "created": "2026-03-02T10:00:00-05:00",
        "provider": {"reference": "Practitioner/prac-001"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurer": {"reference": "Organization/payer-acme"},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "plan"}}],
        "item": [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"system": CPT, "code": code}]},
                "encounter": [{"reference": enc}],
            }
        ],
    }
    if total is not None:
        res["total"] = {"value": total, "currency": "USD"}
    return res


def claim_response(
    rid: str,
    claim_ref: str,
    *,
    outcome: str = "complete",
    created: str = "2026-03-04T10:00:00-05:00",
) -> dict[str, Any]:
    return {
        "resourceType": "ClaimResponse",
        "id": rid,
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "preauthorization",
        "patient": {"reference": "Patient/p1"},
        "created": created,
        "insurer": {"reference": "Organization/payer-acme"},
        "request": {"reference": claim_ref},
        "outcome": outcome,
    }


def task(
    tid: str, focus: str = "Encounter/e1", *, status: str = "requested", code: str = "coding-query"
) -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "id": tid,
        "status": status,
        "intent": "order",
        "code": {
            "coding": [{"system": "https://chartroute.org/fhir/CodeSystem/task-code", "code": code}]
        },
        "focus": {"reference": focus},
        "authoredOn": "2026-03-03T10:00:00-05:00",
    }


def condition(
    cid: str,
    enc: str = "Encounter/e1",
    *,
    category: str = "encounter-diagnosis",
    verification: str = "confirmed",
) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": category,
                    }
                ]
            }
        ],
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": verification,
                }
            ]
        },
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": enc},
    }


def form(
    qid: str, questionnaire: str, enc: str = "Encounter/e1", *, status: str = "completed"
) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": qid,
        "status": status,
        "questionnaire": questionnaire,
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": enc},
    }


def write_ndjson(directory: Any, resources: list[dict[str, Any]]) -> None:
    """Write resources into ``<Type>.ndjson`` files in Bulk Data layout."""
    import json
    from collections import defaultdict
    from pathlib import Path

    by_type: dict[str, list[str]] = defaultdict(list)
    for r in resources:
        by_type[r["resourceType"]].append(json.dumps(r))
    Path(directory).mkdir(parents=True, exist_ok=True)
    for rtype, lines in by_type.items():
        (Path(directory) / f"{rtype}.ndjson").write_text("\n".join(lines) + "\n")
