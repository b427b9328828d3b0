"""The FHIR Task that mirrors one work item in the EHR, built and validated with fhir.resources.

The Task carries what a clinician's EHR worklist needs and nothing clinical: who owns it,
which Encounter it is about (focus) and for which Patient, chartroute's own code (never
``coding-query``, so the next sync does not mistake our Task for a coder's question),
the blocker category as businessStatus, the due date as ``restriction.period.end``, and the
work item id as its identifier — the key that makes conditional create and update idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.task import Task

from chartroute.config.ehr import WritebackSettings
from chartroute.config.models import PracticeConfig
from chartroute.fhir.dates import format_instant

WORK_ITEM_CODE = "chart-work-item"
#: Persons without an EHR Practitioner are named by their roster id under this system.
PERSON_SYSTEM = "https://chartroute.org/fhir/person"
ROLE_SYSTEM = "https://chartroute.org/fhir/CodeSystem/role"

#: The Task elements chartroute owns; a difference in any of them means an update is due.
MANAGED = (
    "identifier",
    "status",
    "businessStatus",
    "intent",
    "priority",
    "code",
    "description",
    "focus",
    "for",
    "encounter",
    "authoredOn",
    "owner",
    "performerType",
    "restriction",
)


def identifier_query(settings: WritebackSettings, item_id: str) -> str:
    """The search value that finds the Task of a work item: ``system|id``."""
    return f"{settings.identifier_system}|{item_id}"


def fhir_task_status(item_status: str) -> str:
    """An open work item is a requested Task; a closed one is completed."""
    return "requested" if item_status == "open" else "completed"


def build_fhir_task(
    item: Mapping[str, Any],
    *,
    patient: str | None,
    config: PracticeConfig,
    settings: WritebackSettings,
) -> dict[str, Any]:
    """The Task JSON for a work item row (validated as an R4B Task)."""
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "identifier": [{"system": settings.identifier_system, "value": item["id"]}],
        "status": fhir_task_status(item["status"]),
        "businessStatus": {
            "coding": [{"system": settings.code_system, "code": item["category"]}],
            "text": item["category"],
        },
        "intent": "order",
        "priority": "routine",
        "code": {
            "coding": [
                {
                    "system": settings.code_system,
                    "code": WORK_ITEM_CODE,
                    "display": "Chart work item",
                }
            ]
        },
        "description": item["detail"],
        "focus": {"reference": item["encounter"]},
        "encounter": {"reference": item["encounter"]},
        "authoredOn": format_instant(item["opened_at"].replace(microsecond=0)),
        "performerType": [{"coding": [{"system": ROLE_SYSTEM, "code": item["role"]}]}],
    }
    if patient:
        resource["for"] = {"reference": patient}
    owner = owner_reference(item.get("assignee"), config)
    if owner:
        resource["owner"] = owner
    due = due_date(item)
    if due:
        resource["restriction"] = {"period": {"end": due}}
    Task.model_validate(resource)  # raises on anything an R4 server would reject
    return resource


def owner_reference(person_id: str | None, config: PracticeConfig) -> dict[str, Any] | None:
    """The assignee as a Reference: their Practitioner, else their roster id (names are not PHI)."""
    if not person_id:
        return None
    try:
        person = config.person(person_id)
    except KeyError:
        return {"identifier": {"system": PERSON_SYSTEM, "value": person_id}}
    if person.practitioner:
        return {"reference": person.practitioner, "display": person.name}
    return {"identifier": {"system": PERSON_SYSTEM, "value": person.id}, "display": person.name}


def due_date(item: Mapping[str, Any]) -> str | None:
    """When the item is due: the payer's timely-filing deadline, as a FHIR date."""
    deadline = item.get("filing_deadline")
    if isinstance(deadline, datetime):
        return deadline.date().isoformat()
    if isinstance(deadline, date):
        return deadline.isoformat()
    if isinstance(deadline, str) and deadline:
        return deadline[:10]
    return None


def differs(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """True when the server's Task differs from ours in an element chartroute owns."""
    return any(existing.get(name) != desired.get(name) for name in MANAGED)
