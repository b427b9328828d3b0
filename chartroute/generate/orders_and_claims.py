"""What a visit asks of others, as the EHR held it at as_of: lab and imaging orders and their
results, referrals and their letters, prior authorizations and the payer's answers, and the
professional claim sent once the chart is complete.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta

from . import codes
from .as_of import AsOfView
from .codes import Payer
from .fhir_json import (
    CLINICAL_NOTE_CATEGORY,
    IMAGING_CATEGORY,
    LAB_CATEGORY,
    NORMAL_PRIORITY,
    PROFESSIONAL,
    REFERRAL_CATEGORY,
    REFERRAL_NOTE_TYPE,
    REPORT_CATEGORY,
    Emitted,
    Resource,
    concept,
    ref,
    text_attachment,
)
from .people import practitioner_id
from .timeline import EncounterStory, OrderStory, PriorAuthStory, ReferralStory


def order(at: AsOfView, story: EncounterStory, order: OrderStory) -> Iterator[Emitted]:
    """A lab/imaging ServiceRequest and, once something arrived, its DiagnosticReport."""
    if not at.seen(order.authored):
        return
    sr_id = f"sr-{story.num}-{order.seq}"
    resulted = at.seen(order.final)
    test = concept(codes.LOINC, order.test)
    yield (
        "ServiceRequest",
        {
            "resourceType": "ServiceRequest",
            "id": sr_id,
            "meta": at.meta(order.authored, order.final),
            "status": "completed" if resulted else "active",
            "intent": "order",
            "category": IMAGING_CATEGORY if order.imaging else LAB_CATEGORY,
            "code": test,
            "subject": ref("Patient", story.patient.id),
            "encounter": ref("Encounter", story.id),
            "authoredOn": at.clock.instant(order.authored),
            "requester": ref("Practitioner", practitioner_id(story.provider)),
        },
    )
    issued = order.final if resulted else order.preliminary
    if not at.seen(issued) or issued is None:
        return
    yield (
        "DiagnosticReport",
        {
            "resourceType": "DiagnosticReport",
            "id": f"dr-{story.num}-{order.seq}",
            "meta": at.meta(order.preliminary, order.final),
            "basedOn": [ref("ServiceRequest", sr_id)],
            "status": "final" if resulted else "preliminary",
            "category": REPORT_CATEGORY[order.imaging],
            "code": test,
            "subject": ref("Patient", story.patient.id),
            "encounter": ref("Encounter", story.id),
            "effectiveDateTime": at.clock.instant(order.authored + timedelta(minutes=30)),
            "issued": at.clock.instant(issued),
        },
    )


def referral(at: AsOfView, story: EncounterStory, referral: ReferralStory) -> Iterator[Emitted]:
    """A referral ServiceRequest and, once written, its referral letter."""
    if not at.seen(referral.authored):
        return
    sr_id = f"sr-{story.num}-{referral.seq}"
    author = ref("Practitioner", practitioner_id(story.provider))
    yield (
        "ServiceRequest",
        {
            "resourceType": "ServiceRequest",
            "id": sr_id,
            "meta": at.meta(referral.authored),
            "status": "active",
            "intent": "order",
            "category": REFERRAL_CATEGORY,
            "code": {"text": f"Referral to {referral.specialty}"},
            "subject": ref("Patient", story.patient.id),
            "encounter": ref("Encounter", story.id),
            "authoredOn": at.clock.instant(referral.authored),
            "requester": author,
        },
    )
    if not at.seen(referral.letter) or referral.letter is None:
        return
    yield (
        "DocumentReference",
        {
            "resourceType": "DocumentReference",
            "id": f"doc-{story.num}-ref-{referral.seq}",
            "meta": at.meta(referral.letter),
            "status": "current",
            "docStatus": "final",
            "type": REFERRAL_NOTE_TYPE,
            "category": CLINICAL_NOTE_CATEGORY,
            "subject": ref("Patient", story.patient.id),
            "date": at.clock.instant(referral.letter),
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


def prior_auth(at: AsOfView, story: EncounterStory, auth: PriorAuthStory) -> Iterator[Emitted]:
    """A preauthorization Claim and, once the payer answered, its ClaimResponse."""
    if not at.seen(auth.created):
        return
    payer = story.patient.payer
    claim_id = f"pa-{story.num}"
    yield (
        "Claim",
        {
            "resourceType": "Claim",
            "id": claim_id,
            "meta": at.meta(auth.created),
            "status": "active",
            "type": PROFESSIONAL,
            "use": "preauthorization",
            "patient": ref("Patient", story.patient.id),
            "created": at.clock.instant(auth.created),
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
    answered = at.seen(auth.answered)
    latest = auth.answered if answered else auth.queued
    if not at.seen(latest) or latest is None:
        return
    response: Resource = {
        "resourceType": "ClaimResponse",
        "id": f"par-{story.num}",
        "meta": at.meta(auth.queued, auth.answered),
        "status": "active",
        "type": PROFESSIONAL,
        "use": "preauthorization",
        "patient": ref("Patient", story.patient.id),
        "created": at.clock.instant(latest),
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


def billing_claim(
    at: AsOfView, story: EncounterStory, fees: Mapping[str, float], currency: str
) -> Iterator[Emitted]:
    """The professional claim sent once the chart is complete."""
    if not at.seen(story.billing_claim) or story.billing_claim is None:
        return
    payer = story.patient.payer
    fee = {"value": fees.get(story.level.code, 0.0), "currency": currency}
    yield (
        "Claim",
        {
            "resourceType": "Claim",
            "id": f"clm-{story.num}",
            "meta": at.meta(story.billing_claim),
            "status": "active",
            "type": PROFESSIONAL,
            "use": "claim",
            "patient": ref("Patient", story.patient.id),
            "created": at.clock.instant(story.billing_claim),
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


def coverage(payer: Payer) -> dict[str, str]:
    """A display-only coverage reference: Coverage resources are not generated."""
    return {"display": f"{payer.name} coverage"}
