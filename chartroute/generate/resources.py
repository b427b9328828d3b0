"""FHIR R4 JSON for a story, as the EHR held it at the as-of instant.

A resource is emitted only if it exists at as_of, in the state it had then (``as_of``). This
module builds the practice's reference data and each encounter with its diagnoses, notes, form
and coder's query; ``orders_and_claims`` builds what the visit asks of others.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from . import codes, orders_and_claims
from .as_of import AsOfView
from .clinic_time import ClinicClock
from .fhir_json import (
    ACTIVE,
    CLINICAL_NOTE_CATEGORY,
    CODING_QUERY_CODE,
    CONFIRMED,
    ENCOUNTER_DIAGNOSIS,
    PPRF,
    PROGRESS_NOTE_TYPE,
    Emitted,
    Resource,
    concept,
    ref,
    text_attachment,
)
from .people import PatientFacts, person_name, practitioner_id
from .timeline import EncounterStory, NoteStory, VoidNoteStory

CLASS_DISPLAY = {
    "AMB": "ambulatory",
    "VR": "virtual",
    "HH": "home health",
    "IMP": "inpatient encounter",
}


class ResourceBuilder(AsOfView):
    """Builds the resources of stories as they stood at ``as_of``."""

    def __init__(
        self,
        clock: ClinicClock,
        as_of: datetime,
        fees: Mapping[str, float],
        currency: str = "USD",
    ) -> None:
        super().__init__(clock, as_of)
        self.fees = fees
        self.currency = currency

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
            yield from orders_and_claims.order(self, story, order)
        for referral in story.referrals:
            yield from orders_and_claims.referral(self, story, referral)
        if story.prior_auth is not None:
            yield from orders_and_claims.prior_auth(self, story, story.prior_auth)
        yield from self.coder_query(story)
        yield from self.form(story)
        yield from orders_and_claims.billing_claim(self, story, self.fees, self.currency)

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


def condition_id(story: EncounterStory, rank: int) -> str:
    """Id of the encounter's ``rank``-th diagnosis."""
    return f"cond-{story.num}-{rank}"


def note_id(story: EncounterStory) -> str:
    """Id of the encounter's progress note."""
    return f"doc-{story.num}-note"


def note_text(story: EncounterStory) -> str:
    """A short synthetic progress note body."""
    assessment = "; ".join(d.display for d in story.diagnoses)
    return (
        f"Progress note. Reason for visit: {story.complaint.display}. "
        f"Assessment: {assessment}. Plan: as discussed, follow up as needed."
    )
