"""Extract rule facts from decoded FHIR resources, checking the fields the rules read.

This is the structural layer of validation: a resource without a ``resourceType`` or ``id``,
a field the rules read with the wrong JSON type, or a date that does not parse raises
``BadRecord`` naming the field, so the pipeline can quarantine that one record and go on.
Fields the rules do not read are not inspected (vendor extensions pass through untouched).
Contained resources of the types the rules read become facts of their own, keyed
``Container/id#local``, so a result that points at a contained order still matches it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from chartroute.fhir.facts import (
    ClaimFact,
    ClaimResponseFact,
    ClinicianFact,
    ConditionFact,
    EncounterFact,
    Fact,
    FhirTaskFact,
    FormFact,
    NoteFact,
    OrderFact,
    ReportFact,
)
from chartroute.fhir.field_reader import FieldReader
from chartroute.fhir.references import resource_key

#: FHIR's ``id`` type; matched with ``fullmatch`` (``$`` would accept a final newline, and
#: ``"enc-1\n"`` would become a second, phantom encounter).
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
#: What a resourceType can look like (the longest R4 name has 34 letters; 64 fits the store).
_TYPE = re.compile(r"[A-Z][A-Za-z]{0,63}")
_NONE: frozenset[str] = frozenset()
#: How much of a bad value a reason may show: enough to find it, too little to be patient data.
MASK_PREFIX = 3


def is_fhir_id(value: object) -> bool:
    """True for a whole FHIR id (1-64 of A-Z a-z 0-9 - .), nothing before or after."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def masked(value: str) -> str:
    """A bad value as a reason may quote it: a short prefix and the length, never the whole.

    An invalid id was seen to carry an MRN and a patient's name; reasons are listed and counted
    where anyone with the database may read them, so they quote no more than this.
    """
    return f"'{value[:MASK_PREFIX]}…' ({len(value)} characters)"


class BadRecord(ValueError):
    """A record the rules cannot read; ``reasons`` say which field and why."""

    def __init__(self, reasons: list[str], resource_type: str | None, resource_id: str | None):
        super().__init__("; ".join(reasons))
        self.reasons = reasons
        self.resource_type = resource_type
        self.resource_id = resource_id


def _encounter(r: FieldReader) -> EncounterFact:
    version, updated = r.meta()
    klass = r.obj("class")
    class_code = klass.get("code")
    if class_code is not None and not isinstance(class_code, str):
        r.errors.append("class.code: expected a string")
        class_code = None
    period = r.obj("period")
    participants: list[tuple[tuple[str, ...], str]] = []
    for i, part in enumerate(r.array("participant")):
        if not isinstance(part, dict):
            r.errors.append(f"participant[{i}]: expected an object")
            continue
        individual = r.ref(f"participant[{i}].individual", part.get("individual"), "Practitioner")
        if not individual:
            continue
        types: list[str] = []
        for j, concept in enumerate(r.array("type", part)):
            types.extend(
                c.split("|", 1)[1] for c in r.codings(f"participant[{i}].type[{j}]", concept)
            )
        participants.append((tuple(types), individual))
    identifier = None
    for ident in r.array("identifier"):
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            identifier = ident["value"]
            break
    return EncounterFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        status=r.string("status"),
        class_code=class_code,
        type_codings=r.concept_list("type"),
        start_at=r.when("period.start", period.get("start")),
        end_at=r.when("period.end", period.get("end")),
        has_reason=bool(r.array("reasonCode")) or bool(r.array("reasonReference")),
        has_diagnosis=bool(r.array("diagnosis")),
        participants=tuple(participants),
        # the clinicians, so a Practitioner or role that arrives later re-queues this chart
        links=tuple(dict.fromkeys(individual for _types, individual in participants)),
        patient=r.ref("subject", r.resource.get("subject"), "Patient"),
        identifier=identifier,
    )


def _document_reference(r: FieldReader) -> NoteFact:
    version, updated = r.meta()
    context = r.obj("context")
    encounters = r.refs("encounter", context, "Encounter")
    return NoteFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        status=r.string("status"),
        doc_status=r.string("docStatus"),
        type_codings=r.codings("type", r.resource.get("type")),
        encounters=encounters,
        signed_at=r.when("date", r.resource.get("date")),
        links=encounters,
    )


def _composition(r: FieldReader) -> NoteFact:
    version, updated = r.meta()
    encounter = r.ref("encounter", r.resource.get("encounter"), "Encounter")
    signed_at = None
    for i, attester in enumerate(r.array("attester")):
        if isinstance(attester, dict) and attester.get("mode") in ("legal", "professional"):
            signed_at = r.when(f"attester[{i}].time", attester.get("time")) or signed_at
    if signed_at is None:
        signed_at = r.when("date", r.resource.get("date"))
    encounters = (encounter,) if encounter else ()
    return NoteFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        status=r.string("status"),
        doc_status=None,
        type_codings=r.codings("type", r.resource.get("type")),
        encounters=encounters,
        signed_at=signed_at,
        links=encounters,
    )


def _service_request(r: FieldReader) -> OrderFact:
    version, updated = r.meta()
    encounter = r.ref("encounter", r.resource.get("encounter"), "Encounter")
    return OrderFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        status=r.string("status"),
        category_codings=r.concept_list("category"),
        encounter=encounter,
        authored_at=r.when("authoredOn", r.resource.get("authoredOn")),
        links=(encounter,) if encounter else (),
    )


def _diagnostic_report(r: FieldReader) -> ReportFact:
    version, updated = r.meta()
    based_on = r.refs("basedOn", None, "ServiceRequest")
    encounter = r.ref("encounter", r.resource.get("encounter"), "Encounter")
    return ReportFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        status=r.string("status"),
        based_on=based_on,
        encounter=encounter,
        issued_at=r.when("issued", r.resource.get("issued")),
        links=based_on + ((encounter,) if encounter else ()),
    )


def _claim(r: FieldReader) -> ClaimFact:
    version, updated = r.meta()
    encounters: list[str] = []
    codes: list[str] = []
    for i, item in enumerate(r.array("item")):
        if not isinstance(item, dict):
            r.errors.append(f"item[{i}]: expected an object")
            continue
        for key in r.refs("encounter", item, "Encounter"):
            if key not in encounters:
                encounters.append(key)
        codes.extend(
            c.split("|", 1)[1]
            for c in r.codings(f"item[{i}].productOrService", item.get("productOrService"))
        )
    total_obj = r.obj("total")
    total = total_obj.get("value")
    if total is not None and not isinstance(total, (int, float)):
        r.errors.append("total.value: expected a number")
        total = None
    return ClaimFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        status=r.string("status"),
        use=r.string("use"),
        encounters=tuple(encounters),
        item_codes=tuple(codes),
        total=float(total) if total is not None else None,
        insurer=r.ref("insurer", r.resource.get("insurer"), "Organization"),
        created_at=r.when("created", r.resource.get("created")),
        links=tuple(encounters),
    )


def _claim_response(r: FieldReader) -> ClaimResponseFact:
    version, updated = r.meta()
    request = r.ref("request", r.resource.get("request"), "Claim")
    return ClaimResponseFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        status=r.string("status"),
        outcome=r.string("outcome"),
        request=request,
        created_at=r.when("created", r.resource.get("created")),
        links=(request,) if request else (),
    )


def _task(r: FieldReader) -> FhirTaskFact:
    version, updated = r.meta()
    focus = r.ref("focus", r.resource.get("focus"))
    encounter = r.ref("encounter", r.resource.get("encounter"), "Encounter")
    codes = tuple(c.split("|", 1)[1] for c in r.codings("code", r.resource.get("code")))
    links = tuple(dict.fromkeys(k for k in (focus, encounter) if k))
    return FhirTaskFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        status=r.string("status"),
        codes=codes,
        focus=focus,
        encounter=encounter,
        authored_at=r.when("authoredOn", r.resource.get("authoredOn")),
        links=links,
    )


def _condition(r: FieldReader) -> ConditionFact:
    version, updated = r.meta()
    encounter = r.ref("encounter", r.resource.get("encounter"), "Encounter")
    verification = r.codings("verificationStatus", r.resource.get("verificationStatus"))
    return ConditionFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        verification_status=verification[0].split("|", 1)[1] if verification else None,
        category_codings=r.concept_list("category"),
        encounter=encounter,
        links=(encounter,) if encounter else (),
    )


def _questionnaire_response(r: FieldReader) -> FormFact:
    version, updated = r.meta()
    encounter = r.ref("encounter", r.resource.get("encounter"), "Encounter")
    return FormFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        status=r.string("status"),
        questionnaire=r.string("questionnaire"),
        encounter=encounter,
        links=(encounter,) if encounter else (),
    )


def _practitioner(r: FieldReader) -> ClinicianFact:
    version, updated = r.meta()
    return ClinicianFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        practitioner=None,
    )


def _practitioner_role(r: FieldReader) -> ClinicianFact:
    version, updated = r.meta()
    practitioner = r.ref("practitioner", r.resource.get("practitioner"), "Practitioner")
    return ClinicianFact(
        key=r.key,
        identifiers=r.identifiers(),
        version=version,
        updated_at=updated,
        practitioner=practitioner,
        links=(practitioner,) if practitioner else (),
    )


EXTRACTORS: dict[str, Callable[[FieldReader], Fact]] = {
    "Encounter": _encounter,
    "DocumentReference": _document_reference,
    "Composition": _composition,
    "ServiceRequest": _service_request,
    "DiagnosticReport": _diagnostic_report,
    "Claim": _claim,
    "ClaimResponse": _claim_response,
    "Task": _task,
    "Condition": _condition,
    "QuestionnaireResponse": _questionnaire_response,
    "Practitioner": _practitioner,
    "PractitionerRole": _practitioner_role,
}

#: The resource types the rules read; every other type is skipped unread (minimum necessary).
RULE_RESOURCE_TYPES: frozenset[str] = frozenset(EXTRACTORS)


def identify(resource: object) -> tuple[str, str]:
    """Return (resourceType, id) of a decoded resource or raise ``BadRecord``."""
    if not isinstance(resource, dict):
        raise BadRecord(["not a JSON object"], None, None)
    rtype = resource.get("resourceType")
    rid = resource.get("id")
    reasons = []
    if not isinstance(rtype, str) or not rtype:
        reasons.append("resourceType: missing")
        rtype = None
    elif rtype not in EXTRACTORS and not _TYPE.fullmatch(rtype):  # the rules' types are names
        reasons.append(f"resourceType: not a FHIR resource type name: {masked(rtype)}")
        rtype = None
    if not isinstance(rid, str) or not rid:
        reasons.append("id: missing")
        rid = None
    elif not _ID.fullmatch(rid):
        reasons.append(f"id: not a valid FHIR id (1-64 of A-Z a-z 0-9 - .): {masked(rid)}")
        rid = None  # held by location: a bad id is no key (and may be patient data)
    if reasons:
        raise BadRecord(reasons, rtype, rid)
    assert rtype is not None and rid is not None
    return rtype, rid


def extract_facts(
    resource: Mapping[str, Any],
    aliases: Mapping[str, str] | None = None,
    base: str | None = None,
) -> list[Fact]:
    """Facts for a resource and the rule-relevant resources it contains.

    Returns an empty list for a resource type the rules do not read. Raises ``BadRecord``
    listing every structural problem found. ``base`` is the server's base URL when the source
    knows it (an absolute reference elsewhere is then not ours).
    """
    rtype, rid = identify(resource)
    extractor = EXTRACTORS.get(rtype)
    if extractor is None:
        return []
    key = resource_key(rtype, rid)
    errors: list[str] = []
    contained: list[Mapping[str, Any]] = []
    local_ids: frozenset[str] = _NONE
    if resource.get("contained") is not None:  # most resources contain nothing
        contained = list(_contained(resource, errors))
        local_ids = frozenset(i for c in contained if isinstance(i := c.get("id"), str))
    reader = FieldReader(resource, key, aliases, base=base, contained_ids=local_ids)
    facts = [extractor(reader)]
    errors.extend(reader.errors)
    for i, inner in enumerate(contained):
        inner_type = inner.get("resourceType")
        inner_id = inner.get("id")
        if not isinstance(inner_type, str) or not isinstance(inner_id, str):
            errors.append(f"contained[{i}]: missing resourceType or id")
            continue
        if not _ID.fullmatch(inner_id):
            errors.append(f"contained[{i}].id: not a valid FHIR id: {masked(inner_id)}")
            continue
        inner_extractor = EXTRACTORS.get(inner_type)
        if inner_extractor is None:
            continue
        inner_reader = FieldReader(
            inner, f"{key}#{inner_id}", aliases, base=base, contained_ids=local_ids
        )
        facts.append(inner_extractor(inner_reader))
        errors.extend(f"contained[{i}].{e}" for e in inner_reader.errors)
    for fact in facts:
        # versionId is a FHIR id too; the store keeps it in 64 characters on every database
        if fact.version is not None and _ID.fullmatch(fact.version) is None:
            where = "" if fact.key == key else f"contained #{fact.key.split('#', 1)[1]}: "
            errors.append(f"{where}meta.versionId: not a valid FHIR id: {masked(fact.version)}")
    if errors:
        raise BadRecord(errors, rtype, rid)
    return facts


def _contained(resource: Mapping[str, Any], errors: list[str]) -> Iterator[Mapping[str, Any]]:
    contained = resource.get("contained")
    if contained is None:
        return
    if not isinstance(contained, list):
        errors.append("contained: expected an array")
        return
    for item in contained:
        if isinstance(item, dict):
            yield item
        else:
            errors.append("contained: expected objects")
