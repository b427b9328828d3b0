"""FHIR R4 JSON shapes the generator writes: references, codings, concepts and fixed values.

Plain dicts with keys in a fixed order (orjson keeps insertion order), so output is byte-stable.
"""

from __future__ import annotations

import base64
from typing import Any

from . import codes
from .codes import Code

Resource = dict[str, Any]
Emitted = tuple[str, Resource]


def ref(resource_type: str, resource_id: str) -> dict[str, str]:
    """A literal reference."""
    return {"reference": f"{resource_type}/{resource_id}"}


def coding(system: str, code: Code) -> dict[str, str]:
    """A Coding with display."""
    return {"system": system, "code": code.code, "display": code.display}


def concept(system: str, code: Code) -> dict[str, Any]:
    """A CodeableConcept with one coding (text-only when the code is empty)."""
    if not code.code:
        return {"text": code.display}
    return {"coding": [coding(system, code)], "text": code.display}


def text_attachment(text: str) -> dict[str, str]:
    """An inline plain-text attachment."""
    return {"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode("ascii")}


LAB_CATEGORY = [
    {"coding": [coding(codes.SNOMED, Code(codes.LAB_CATEGORY, "Laboratory procedure"))]}
]
IMAGING_CATEGORY = [{"coding": [coding(codes.SNOMED, Code(codes.IMAGING_CATEGORY, "Imaging"))]}]
REFERRAL_CATEGORY = [
    {"coding": [coding(codes.SNOMED, Code(codes.REFERRAL_CATEGORY, "Patient referral"))]}
]
CLINICAL_NOTE_CATEGORY = [
    {"coding": [coding(codes.US_CORE_DOC_CATEGORY, Code("clinical-note", "Clinical Note"))]}
]
PROGRESS_NOTE_TYPE = concept(codes.LOINC, Code(codes.PROGRESS_NOTE_LOINC, "Progress note"))
REFERRAL_NOTE_TYPE = concept(codes.LOINC, Code(codes.REFERRAL_NOTE_LOINC, "Referral note"))
PPRF = [{"coding": [coding(codes.PARTICIPATION_TYPE, Code("PPRF", "primary performer"))]}]
ENCOUNTER_DIAGNOSIS = [
    {
        "coding": [
            coding(codes.CONDITION_CATEGORY, Code("encounter-diagnosis", "Encounter Diagnosis"))
        ]
    }
]
ACTIVE = concept(codes.CONDITION_CLINICAL, Code("active", "Active"))
CONFIRMED = concept(codes.CONDITION_VERIFICATION, Code("confirmed", "Confirmed"))
PROFESSIONAL = concept(codes.CLAIM_TYPE, Code("professional", "Professional"))
NORMAL_PRIORITY = concept(codes.PROCESS_PRIORITY, Code("normal", "Normal"))
CODING_QUERY_CODE = concept(codes.TASK_CODE, Code(codes.CODING_QUERY, "Coding query"))
REPORT_CATEGORY = {
    False: [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}
    ],
    True: [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}
    ],
}
