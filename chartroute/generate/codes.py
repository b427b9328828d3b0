"""Terminology the synthetic practice uses: code systems and the small code lists drawn from.

Kept in one place so the classifier, the config template and the tests agree on exactly which
systems and codes appear in generated data.
"""

from __future__ import annotations

from dataclasses import dataclass

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
US_CORE_DOC_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
TASK_CODE = "https://chartroute.org/fhir/CodeSystem/task-code"
MRN_SYSTEM = "https://ehr.example.org/fhir/sid/mrn"
WELL_CHILD_QUESTIONNAIRE = "http://example.org/fhir/Questionnaire/well-child-screening"

LAB_CATEGORY = "108252007"
IMAGING_CATEGORY = "363679005"
REFERRAL_CATEGORY = "3457005"
PROGRESS_NOTE_LOINC = "11506-3"
REFERRAL_NOTE_LOINC = "57133-1"
CODING_QUERY = "coding-query"


@dataclass(frozen=True, slots=True)
class Code:
    """A code with its display text."""

    code: str
    display: str


@dataclass(frozen=True, slots=True)
class Payer:
    """A payer Organization; its id is what billing config keys timely filing on."""

    id: str
    name: str


PAYERS: tuple[Payer, ...] = (
    Payer("payer-medicare", "Medicare"),
    Payer("payer-medicaid", "State Medicaid"),
    Payer("payer-acme", "Acme Health Plan"),
)
PRACTICE_ORG_ID = "org-practice"

CHECK_UP = Code("185349003", "Encounter for check up")
FOLLOW_UP = Code("390906007", "Follow-up encounter")
WELL_CHILD = Code("410620009", "Well child visit")
INPATIENT_STAY = Code("32485007", "Hospital admission")

NEW_PATIENT_EM: tuple[Code, ...] = (
    Code("99202", "Office visit, new patient, straightforward"),
    Code("99203", "Office visit, new patient, low complexity"),
    Code("99204", "Office visit, new patient, moderate complexity"),
    Code("99205", "Office visit, new patient, high complexity"),
)
NEW_PATIENT_WEIGHTS: tuple[int, ...] = (15, 45, 30, 10)
ESTABLISHED_EM: tuple[Code, ...] = (
    Code("99211", "Office visit, established patient, minimal"),
    Code("99212", "Office visit, established patient, straightforward"),
    Code("99213", "Office visit, established patient, low complexity"),
    Code("99214", "Office visit, established patient, moderate complexity"),
    Code("99215", "Office visit, established patient, high complexity"),
)
ESTABLISHED_WEIGHTS: tuple[int, ...] = (4, 12, 45, 32, 7)

COMPLAINTS: tuple[Code, ...] = (
    Code("49727002", "Cough"),
    Code("25064002", "Headache"),
    Code("386661006", "Fever"),
    Code("267036007", "Shortness of breath"),
    Code("162397003", "Sore throat"),
    Code("271807003", "Rash"),
    Code("279039007", "Low back pain"),
    Code("84229001", "Fatigue"),
    Code("404640003", "Dizziness"),
)
CHECK_UP_COMPLAINT = Code("", "Annual wellness visit")
WELL_CHILD_COMPLAINT = Code("", "Well child check")
FOLLOW_UP_COMPLAINT = Code("", "Follow-up of chronic condition")

DIAGNOSES: tuple[Code, ...] = (
    Code("I10", "Essential (primary) hypertension"),
    Code("E11.9", "Type 2 diabetes mellitus without complications"),
    Code("E78.5", "Hyperlipidemia, unspecified"),
    Code("J45.909", "Unspecified asthma, uncomplicated"),
    Code("N39.0", "Urinary tract infection, site not specified"),
    Code("F32.A", "Depression, unspecified"),
    Code("M54.50", "Low back pain, unspecified"),
    Code("J01.90", "Acute sinusitis, unspecified"),
    Code("J02.9", "Acute pharyngitis, unspecified"),
    Code("D64.9", "Anemia, unspecified"),
)
ADULT_EXAM = Code("Z00.00", "Encounter for general adult medical examination")
CHILD_EXAM = Code("Z00.129", "Encounter for routine child health examination")

LAB_TESTS: tuple[Code, ...] = (
    Code("24323-8", "Comprehensive metabolic panel"),
    Code("58410-2", "Complete blood count panel"),
    Code("4548-4", "Hemoglobin A1c"),
    Code("57698-3", "Lipid panel"),
    Code("3016-3", "Thyrotropin (TSH)"),
    Code("24356-8", "Urinalysis complete panel"),
)
IMAGING_TESTS: tuple[Code, ...] = (
    Code("36643-5", "XR Chest 2 Views"),
    Code("24627-2", "CT Chest"),
)

REFERRAL_SPECIALTIES: tuple[str, ...] = (
    "cardiology",
    "dermatology",
    "endocrinology",
    "gastroenterology",
    "orthopedics",
    "physical therapy",
    "behavioral health",
)

PRIOR_AUTH_SERVICES: tuple[Code, ...] = (
    Code("70553", "MRI brain without and with contrast"),
    Code("72148", "MRI lumbar spine without contrast"),
    Code("73721", "MRI knee without contrast"),
    Code("78452", "Myocardial perfusion imaging, multiple studies"),
    Code("95810", "Polysomnography"),
)

CODER_QUESTIONS: tuple[str, ...] = (
    "The level of service selected is higher than the documented medical decision making "
    "supports. Please confirm the level of service or add detail.",
    "Please specify laterality for the documented diagnosis.",
    "Please state whether the documented diabetes is with or without complications.",
    "Please link each ordered test to a diagnosis.",
    "Time-based billing was selected: please document the total time spent.",
    "Please clarify whether the documented hypertension is controlled.",
)
