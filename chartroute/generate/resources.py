"""FHIR R4 JSON for a story, as the EHR held it at the as-of instant.

Builders return plain dicts with keys in a fixed order (orjson keeps insertion order), so
output is byte-stable. A resource is emitted only if it exists at as_of, in the state it had
then; ``meta.versionId`` counts its changes up to as_of and ``meta.lastUpdated`` is the last
of them, which is what an incremental ``_lastUpdated`` sync would see.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from . import codes
from .clinic_time import ClinicClock
from .codes import Code, Payer
from .people import PatientFacts, person_name, practitioner_id
from .timeline import (
    EncounterStory,
    NoteStory,
    OrderStory,
    PriorAuthStory,
    ReferralStory,
    VoidNoteStory,
)

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
CLASS_DISPLAY = {
    "AMB": "ambulatory",
    "VR": "virtual",
    "HH": "home health",
    "IMP": "inpatient encounter",
}


class ResourceBuilder:
    """Builds the resources of stories as they stood at ``as_of``."""

    def __init__(
        self,
        clock: ClinicClock,
        as_of: datetime,
        fees: Mapping[str, float],
        currency: str = "USD",
    ) -> None:
        self.clock = clock
        self.as_of = as_of
        """Naive practice-local wall time."""
        self.fees = fees
        self.currency = currency

    # --- helpers ----------------------------------------------------------------------------
    def seen(self, moment: datetime | None) -> bool:
        """Whether an event happened by as_of."""
        return moment is not None and moment <= self.as_of

    def meta(self, *changes: datetime | None) -> dict[str, str]:
        """Version count and last change among the changes that happened by as_of."""
        happened = sorted({c for c in changes if c is not None and c <= self.as_of})
        if not happened:
            raise ValueError("meta() of a resource that does not exist yet")
        return {"versionId": str(len(happened)), "lastUpdated": self.clock.instant(happened[-1])}

    # --- reference data ---------------------------------------------------------------------
    def practitioner(self, provider: int, created: datetime) -> Emitted:
        """A rendering clinician."""
        name = person_name(provider)
        return "Practitioner", {
            "resourceType": "Practitioner",
            "id": practitioner_id(provider),
            "meta": self.meta(min(created, self.as_of)),
            "active": True,
            "name": [
                {"use": "official", "family": name.family, "given": [name.given], "prefix": ["Dr."]}
            ],
        }

    def patient(self, facts: PatientFacts, created: datetime) -> Emitted:
        """A patient with an invented name and a birth date."""
        return "Patient", {
            "resourceType": "Patient",
            "id": facts.id,
            "meta": self.meta(min(created, self.as_of)),
            "identifier": [{"system": codes.MRN_SYSTEM, "value": f"MRN{facts.index + 1:08d}"}],
            "active": True,
            "name": [{"use": "official", "family": facts.name.family, "given": [facts.name.given]}],
            "gender": facts.gender,
            "birthDate": facts.birth_date.isoformat(),
            "generalPractitioner": [ref("Practitioner", practitioner_id(facts.provider))],
        }

    def organization(self, org_id: str, name: str, kind: str, created: datetime) -> Emitted:
        """A payer (kind ``pay``) or the practice itself (kind ``prov``)."""
        return "Organization", {
            "resourceType": "Organization",
            "id": org_id,
            "meta": self.meta(min(created, self.as_of)),
            "active": True,
            "type": [{"coding": [{"system": codes.ORGANIZATION_TYPE, "code": kind}]}],
            "name": name,
        }

    # --- one encounter ----------------------------------------------------------------------
    def encounter_resources(self, story: EncounterStory) -> Iterator[Emitted]:
        """Every resource of the story that exists at as_of (nothing if it starts later)."""
        if not self.seen(story.start):
            return
        yield self.encounter(story)
        if story.kind == "inpatient":
            yield from self.note(story, story.note)
            return
        if story.kind != "chart":
            return
        if self.seen(story.field_times["diagnosis"]):
            yield from self.conditions(story)
        yield from self.note(story, story.note)
        if story.void_note is not None:
            yield from self.void_note(story, story.void_note)
        for order in story.orders:
            yield from self.order(story, order)
        for referral in story.referrals:
            yield from self.referral(story, referral)
        if story.prior_auth is not None:
            yield from self.prior_auth(story, story.prior_auth)
        yield from self.coder_query(story)
        yield from self.form(story)
        yield from self.billing_claim(story)

    def encounter(self, story: EncounterStory) -> Emitted:
        """The Encounter: status, class, type, participant, period, reason and diagnoses."""
        times = story.field_times
        period: dict[str, str] = {"start": self.clock.instant(story.start)}
        changes: list[datetime | None] = [story.start]
        if story.kind in ("chart", "inpatient"):
            if self.seen(story.end):
                period["end"] = self.clock.instant(story.end)
                changes.append(story.end)
            finished = story.finished if story.kind == "chart" else story.end
            status = "finished" if self.seen(finished) else "in-progress"
            changes.append(finished)
            changes.extend(times.values())
        else:
            status = story.kind

        types: list[dict[str, Any]] = [concept(codes.SNOMED, story.visit_type)]
        if story.kind == "chart" and self.seen(times["level-of-service"]):
            # Office E/M levels belong to office-type charts only, not to non-charts.
            types.append(concept(codes.CPT, story.level))
        resource: Resource = {
            "resourceType": "Encounter",
            "id": story.id,
            "meta": self.meta(*changes),
            "status": status,
            "class": {
                "system": codes.ACT_CODE,
                "code": story.visit_class,
                "display": CLASS_DISPLAY[story.visit_class],
            },
            "type": types,
            "subject": ref("Patient", story.patient.id),
        }
        if story.kind != "chart" or self.seen(times["rendering-clinician"]):
            resource["participant"] = [
                {"type": PPRF, "individual": ref("Practitioner", practitioner_id(story.provider))}
            ]
        resource["period"] = period
        if story.kind != "chart" or self.seen(times["chief-complaint"]):
            resource["reasonCode"] = [concept(codes.SNOMED, story.complaint)]
        if story.kind == "chart" and self.seen(times["diagnosis"]):
            resource["diagnosis"] = [
                {"condition": ref("Condition", condition_id(story, rank)), "rank": rank}
                for rank in range(1, len(story.diagnoses) + 1)
            ]
        resource["serviceProvider"] = ref("Organization", codes.PRACTICE_ORG_ID)
        return "Encounter", resource

    def conditions(self, story: EncounterStory) -> Iterator[Emitted]:
        """Encounter diagnoses, recorded when the diagnosis field was filled in."""
        recorded = story.field_times["diagnosis"]
        if recorded is None:
            return
        for rank, diagnosis in enumerate(story.diagnoses, start=1):
            yield (
                "Condition",
                {
                    "resourceType": "Condition",
                    "id": condition_id(story, rank),
                    "meta": self.meta(recorded),
                    "clinicalStatus": ACTIVE,
                    "verificationStatus": CONFIRMED,
                    "category": ENCOUNTER_DIAGNOSIS,
                    "code": concept(codes.ICD10CM, diagnosis),
                    "subject": ref("Patient", story.patient.id),
                    "encounter": ref("Encounter", story.id),
                    "recordedDate": self.clock.instant(recorded),
                },
            )

    def note(self, story: EncounterStory, note: NoteStory) -> Iterator[Emitted]:
        """The progress note: preliminary once started, final once signed."""
        if not self.seen(note.created) or note.created is None:
            return
        signed = self.seen(note.signed)
        author = ref("Practitioner", practitioner_id(story.provider))
        resource: Resource = {
            "resourceType": "DocumentReference",
            "id": note_id(story),
            "meta": self.meta(note.created, note.signed),
            "status": "current",
            "docStatus": "final" if signed else "preliminary",
            "type": PROGRESS_NOTE_TYPE,
            "category": CLINICAL_NOTE_CATEGORY,
            "subject": ref("Patient", story.patient.id),
            "date": self.clock.instant(note.signed if signed and note.signed else note.created),
            "author": [author],
        }
        if signed:
            resource["authenticator"] = author
        resource["context"] = {"encounter": [ref("Encounter", story.id)]}
        resource["content"] = [{"attachment": text_attachment(note_text(story))}]
        yield "DocumentReference", resource

    def void_note(self, story: EncounterStory, void: VoidNoteStory) -> Iterator[Emitted]:
        """A signed note later marked entered-in-error (written on the wrong chart)."""
        if not self.seen(void.created):
            return
        yield (
            "DocumentReference",
            {
                "resourceType": "DocumentReference",
                "id": f"doc-{story.num}-void",
                "meta": self.meta(void.created, void.voided),
                "status": "entered-in-error" if self.seen(void.voided) else "current",
                "docStatus": "final",
                "type": PROGRESS_NOTE_TYPE,
                "category": CLINICAL_NOTE_CATEGORY,
                "subject": ref("Patient", story.patient.id),
                "date": self.clock.instant(void.created),
                "author": [ref("Practitioner", practitioner_id(story.provider))],
                "context": {"encounter": [ref("Encounter", story.id)]},
                "content": [
                    {"attachment": text_attachment("Progress note entered on the wrong chart.")}
                ],
            },
        )

    def order(self, story: EncounterStory, order: OrderStory) -> Iterator[Emitted]:
        """A lab/imaging ServiceRequest and, once something arrived, its DiagnosticReport."""
        if not self.seen(order.authored):
            return
        sr_id = f"sr-{story.num}-{order.seq}"
        resulted = self.seen(order.final)
        test = concept(codes.LOINC, order.test)
        yield (
            "ServiceRequest",
            {
                "resourceType": "ServiceRequest",
                "id": sr_id,
                "meta": self.meta(order.authored, order.final),
                "status": "completed" if resulted else "active",
                "intent": "order",
                "category": IMAGING_CATEGORY if order.imaging else LAB_CATEGORY,
                "code": test,
                "subject": ref("Patient", story.patient.id),
                "encounter": ref("Encounter", story.id),
                "authoredOn": self.clock.instant(order.authored),
                "requester": ref("Practitioner", practitioner_id(story.provider)),
            },
        )
        issued = order.final if resulted else order.preliminary
        if not self.seen(issued) or issued is None:
            return
        yield (
            "DiagnosticReport",
            {
                "resourceType": "DiagnosticReport",
                "id": f"dr-{story.num}-{order.seq}",
                "meta": self.meta(order.preliminary, order.final),
                "basedOn": [ref("ServiceRequest", sr_id)],
                "status": "final" if resulted else "preliminary",
                "category": REPORT_CATEGORY[order.imaging],
                "code": test,
                "subject": ref("Patient", story.patient.id),
                "encounter": ref("Encounter", story.id),
                "effectiveDateTime": self.clock.instant(order.authored + timedelta(minutes=30)),
                "issued": self.clock.instant(issued),
            },
        )

    def referral(self, story: EncounterStory, referral: ReferralStory) -> Iterator[Emitted]:
        """A referral ServiceRequest and, once written, its referral letter."""
        if not self.seen(referral.authored):
            return
        sr_id = f"sr-{story.num}-{referral.seq}"
        author = ref("Practitioner", practitioner_id(story.provider))
        yield (
            "ServiceRequest",
            {
                "resourceType": "ServiceRequest",
                "id": sr_id,
                "meta": self.meta(referral.authored),
                "status": "active",
                "intent": "order",
                "category": REFERRAL_CATEGORY,
                "code": {"text": f"Referral to {referral.specialty}"},
                "subject": ref("Patient", story.patient.id),
                "encounter": ref("Encounter", story.id),
                "authoredOn": self.clock.instant(referral.authored),
                "requester": author,
            },
        )
        if not self.seen(referral.letter) or referral.letter is None:
            return
        yield (
            "DocumentReference",
            {
                "resourceType": "DocumentReference",
                "id": f"doc-{story.num}-ref-{referral.seq}",
                "meta": self.meta(referral.letter),
                "status": "current",
                "docStatus": "final",
                "type": REFERRAL_NOTE_TYPE,
                "category": CLINICAL_NOTE_CATEGORY,
                "subject": ref("Patient", story.patient.id),
                "date": self.clock.instant(referral.letter),
                "author": [author],
                "context": {
                    "encounter": [ref("Encounter", story.id)],
                    "related": [ref("ServiceRequest", sr_id)],
                },
                "content": [
                    {
                        "attachment": text_attachment(
                            f"Referral to {referral.specialty}: reason and history enclosed."
                        )
                    }
                ],
            },
        )

    def prior_auth(self, story: EncounterStory, auth: PriorAuthStory) -> Iterator[Emitted]:
        """A preauthorization Claim and, once the payer answered, its ClaimResponse."""
        if not self.seen(auth.created):
            return
        payer = story.patient.payer
        claim_id = f"pa-{story.num}"
        yield (
            "Claim",
            {
                "resourceType": "Claim",
                "id": claim_id,
                "meta": self.meta(auth.created),
                "status": "active",
                "type": PROFESSIONAL,
                "use": "preauthorization",
                "patient": ref("Patient", story.patient.id),
                "created": self.clock.instant(auth.created),
                "insurer": ref("Organization", payer.id),
                "provider": ref("Practitioner", practitioner_id(story.provider)),
                "priority": NORMAL_PRIORITY,
                "insurance": [{"sequence": 1, "focal": True, "coverage": coverage(payer)}],
                "item": [
                    {
                        "sequence": 1,
                        "productOrService": concept(codes.CPT, auth.service),
                        "encounter": [ref("Encounter", story.id)],
                    }
                ],
            },
        )
        answered = self.seen(auth.answered)
        latest = auth.answered if answered else auth.queued
        if not self.seen(latest) or latest is None:
            return
        response: Resource = {
            "resourceType": "ClaimResponse",
            "id": f"par-{story.num}",
            "meta": self.meta(auth.queued, auth.answered),
            "status": "active",
            "type": PROFESSIONAL,
            "use": "preauthorization",
            "patient": ref("Patient", story.patient.id),
            "created": self.clock.instant(latest),
            "insurer": ref("Organization", payer.id),
            "requestor": ref("Practitioner", practitioner_id(story.provider)),
            "request": ref("Claim", claim_id),
            "outcome": auth.outcome if answered else "queued",
        }
        if answered:
            response["disposition"] = (
                "Approved"
                if auth.outcome == "complete"
                else "Partially approved: more documentation requested"
            )
            response["preAuthRef"] = f"PA-{story.num}"
        else:
            response["disposition"] = "Received, under review"
        yield "ClaimResponse", response

    def coder_query(self, story: EncounterStory) -> Iterator[Emitted]:
        """The coder's Task: requested until the clinician answers, then completed."""
        query = story.coder_query
        if query is None or not self.seen(query.authored):
            return
        answered = self.seen(query.answered)
        last = query.answered if answered and query.answered else query.authored
        focus = (
            ref("DocumentReference", note_id(story))
            if query.focus_note
            else ref("Encounter", story.id)
        )
        yield (
            "Task",
            {
                "resourceType": "Task",
                "id": f"task-{story.num}",
                "meta": self.meta(query.authored, query.answered),
                "status": "completed" if answered else "requested",
                "intent": "order",
                "code": CODING_QUERY_CODE,
                "description": query.question,
                "focus": focus,
                "for": ref("Patient", story.patient.id),
                "encounter": ref("Encounter", story.id),
                "authoredOn": self.clock.instant(query.authored),
                "lastModified": self.clock.instant(last),
                "owner": ref("Practitioner", practitioner_id(story.provider)),
            },
        )

    def form(self, story: EncounterStory) -> Iterator[Emitted]:
        """The well-child screening form, once filled in."""
        if not story.needs_form:
            return
        authored = story.field_times["forms"]
        if not self.seen(authored) or authored is None:
            return
        yield (
            "QuestionnaireResponse",
            {
                "resourceType": "QuestionnaireResponse",
                "id": f"qr-{story.num}",
                "meta": self.meta(authored),
                "questionnaire": codes.WELL_CHILD_QUESTIONNAIRE,
                "status": "completed",
                "subject": ref("Patient", story.patient.id),
                "encounter": ref("Encounter", story.id),
                "authored": self.clock.instant(authored),
                "item": [
                    {
                        "linkId": "screening-complete",
                        "text": "Developmental screening completed",
                        "answer": [{"valueBoolean": True}],
                    }
                ],
            },
        )

    def billing_claim(self, story: EncounterStory) -> Iterator[Emitted]:
        """The professional claim sent once the chart is complete."""
        if not self.seen(story.billing_claim) or story.billing_claim is None:
            return
        payer = story.patient.payer
        fee = {"value": self.fees.get(story.level.code, 0.0), "currency": self.currency}
        yield (
            "Claim",
            {
                "resourceType": "Claim",
                "id": f"clm-{story.num}",
                "meta": self.meta(story.billing_claim),
                "status": "active",
                "type": PROFESSIONAL,
                "use": "claim",
                "patient": ref("Patient", story.patient.id),
                "created": self.clock.instant(story.billing_claim),
                "insurer": ref("Organization", payer.id),
                "provider": ref("Practitioner", practitioner_id(story.provider)),
                "priority": NORMAL_PRIORITY,
                "insurance": [{"sequence": 1, "focal": True, "coverage": coverage(payer)}],
                "item": [
                    {
                        "sequence": 1,
                        "productOrService": concept(codes.CPT, story.level),
                        "servicedDate": story.day.isoformat(),
                        "unitPrice": fee,
                        "net": fee,
                        "encounter": [ref("Encounter", story.id)],
                    }
                ],
                "total": fee,
            },
        )


def condition_id(story: EncounterStory, rank: int) -> str:
    """Id of the encounter's ``rank``-th diagnosis."""
    return f"cond-{story.num}-{rank}"


def note_id(story: EncounterStory) -> str:
    """Id of the encounter's progress note."""
    return f"doc-{story.num}-note"


def coverage(payer: Payer) -> dict[str, str]:
    """A display-only coverage reference: Coverage resources are not generated."""
    return {"display": f"{payer.name} coverage"}


def note_text(story: EncounterStory) -> str:
    """A short synthetic progress note body."""
    assessment = "; ".join(d.display for d in story.diagnoses)
    return (
        f"Progress note. Reason for visit: {story.complaint.display}. "
        f"Assessment: {assessment}. Plan: as discussed, follow up as needed."
    )
