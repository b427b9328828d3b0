"""Which files of a folder are read, and why each other one is not.

A Bulk Data folder names each file after the resource type it holds (``Encounter.ndjson``,
``Encounter.2.ndjson``). A misspelt name (``Encounters.ndjson``, ``encounter.ndjson``) would
otherwise hold back a whole feed without a word, so every file that is not read gets a reason
the sync and ``classify`` print: an unknown type, a near miss of a type the rules read, a
type the rules do not read (left unread on purpose: minimum necessary), or not NDJSON/JSON.
"""

from __future__ import annotations

import re

from chartroute.fhir.extract import RULE_RESOURCE_TYPES

NDJSON_NAME = re.compile(r"(?P<type>[A-Z][A-Za-z]+)(\.(?P<n>\d+))?\.ndjson")
#: JSON files a Bulk export or the generator writes beside the data, never Bundles.
NOT_BUNDLES = frozenset({"generator.json", "manifest.json"})

#: Every resource type of FHIR R4 (4.0.1), from the specification's StructureDefinitions.
R4_RESOURCE_TYPES: frozenset[str] = frozenset(
    [
        "Account",
        "ActivityDefinition",
        "AdverseEvent",
        "AllergyIntolerance",
        "Appointment",
        "AppointmentResponse",
        "AuditEvent",
        "Basic",
        "Binary",
        "BiologicallyDerivedProduct",
        "BodyStructure",
        "Bundle",
        "CapabilityStatement",
        "CarePlan",
        "CareTeam",
        "CatalogEntry",
        "ChargeItem",
        "ChargeItemDefinition",
        "Claim",
        "ClaimResponse",
        "ClinicalImpression",
        "CodeSystem",
        "Communication",
        "CommunicationRequest",
        "CompartmentDefinition",
        "Composition",
        "ConceptMap",
        "Condition",
        "Consent",
        "Contract",
        "Coverage",
        "CoverageEligibilityRequest",
        "CoverageEligibilityResponse",
        "DetectedIssue",
        "Device",
        "DeviceDefinition",
        "DeviceMetric",
        "DeviceRequest",
        "DeviceUseStatement",
        "DiagnosticReport",
        "DocumentManifest",
        "DocumentReference",
        "EffectEvidenceSynthesis",
        "Encounter",
        "Endpoint",
        "EnrollmentRequest",
        "EnrollmentResponse",
        "EpisodeOfCare",
        "EventDefinition",
        "Evidence",
        "EvidenceVariable",
        "ExampleScenario",
        "ExplanationOfBenefit",
        "FamilyMemberHistory",
        "Flag",
        "Goal",
        "GraphDefinition",
        "Group",
        "GuidanceResponse",
        "HealthcareService",
        "ImagingStudy",
        "Immunization",
        "ImmunizationEvaluation",
        "ImmunizationRecommendation",
        "ImplementationGuide",
        "InsurancePlan",
        "Invoice",
        "Library",
        "Linkage",
        "List",
        "Location",
        "Measure",
        "MeasureReport",
        "Media",
        "Medication",
        "MedicationAdministration",
        "MedicationDispense",
        "MedicationKnowledge",
        "MedicationRequest",
        "MedicationStatement",
        "MedicinalProduct",
        "MedicinalProductAuthorization",
        "MedicinalProductContraindication",
        "MedicinalProductIndication",
        "MedicinalProductIngredient",
        "MedicinalProductInteraction",
        "MedicinalProductManufactured",
        "MedicinalProductPackaged",
        "MedicinalProductPharmaceutical",
        "MedicinalProductUndesirableEffect",
        "MessageDefinition",
        "MessageHeader",
        "MolecularSequence",
        "NamingSystem",
        "NutritionOrder",
        "Observation",
        "ObservationDefinition",
        "OperationDefinition",
        "OperationOutcome",
        "Organization",
        "OrganizationAffiliation",
        "Parameters",
        "Patient",
        "PaymentNotice",
        "PaymentReconciliation",
        "Person",
        "PlanDefinition",
        "Practitioner",
        "PractitionerRole",
        "Procedure",
        "Provenance",
        "Questionnaire",
        "QuestionnaireResponse",
        "RelatedPerson",
        "RequestGroup",
        "ResearchDefinition",
        "ResearchElementDefinition",
        "ResearchStudy",
        "ResearchSubject",
        "RiskAssessment",
        "RiskEvidenceSynthesis",
        "Schedule",
        "SearchParameter",
        "ServiceRequest",
        "Slot",
        "Specimen",
        "SpecimenDefinition",
        "StructureDefinition",
        "StructureMap",
        "Subscription",
        "Substance",
        "SubstanceNucleicAcid",
        "SubstancePolymer",
        "SubstanceProtein",
        "SubstanceReferenceInformation",
        "SubstanceSourceMaterial",
        "SubstanceSpecification",
        "SupplyDelivery",
        "SupplyRequest",
        "Task",
        "TerminologyCapabilities",
        "TestReport",
        "TestScript",
        "ValueSet",
        "VerificationResult",
        "VisionPrescription",
    ]
)


def file_type(name: str) -> str | None:
    """The resource type an NDJSON file's name says it holds, or None."""
    match = NDJSON_NAME.fullmatch(name)
    return match.group("type") if match is not None else None


def is_read(name: str) -> bool:
    """True for the files a folder source reads: rule types' NDJSON, and Bundles."""
    if name.endswith(".json"):
        return name not in NOT_BUNDLES
    return file_type(name) in RULE_RESOURCE_TYPES


def why_skipped(name: str) -> str:
    """Why a file the folder holds is not read (for a file ``is_read`` refuses)."""
    if name in NOT_BUNDLES:
        return "export metadata, not data"
    if not name.endswith(".ndjson"):
        return "not .ndjson or .json"
    stem = name.split(".", 1)[0]
    near = _near_miss(stem)
    if near is not None:
        return f"not a FHIR resource type's file name; {near}.ndjson is read"
    rtype = file_type(name)
    if rtype in R4_RESOURCE_TYPES:
        return f"the rules do not read {rtype} (left unread on purpose)"
    return "not named <ResourceType>.ndjson or <ResourceType>.<n>.ndjson"


def _near_miss(stem: str) -> str | None:
    """The rule type a misspelt name most likely meant (case, a plural, a stray letter)."""
    if stem in RULE_RESOURCE_TYPES:
        return None
    folded = stem.lower()
    for rtype in sorted(RULE_RESOURCE_TYPES):
        lower = rtype.lower()
        if folded in (lower, lower + "s", lower + "es") or folded.rstrip("s") == lower:
            return rtype
    return None
