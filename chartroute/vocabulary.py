"""The words chartroute's work is written in: blocker categories, roles, documentation fields.

These codes are a contract: they appear in the practice YAML, in ``chartroute classify``'s JSON
lines, in the worklist, in the store and in every message, so each is spelled here once, with
the human label the reports and details show. Every other module (the rules, the router, the
config models, the reports, the simulation) takes them from here.

Each enum is a ``StrEnum``: a member *is* its code (``Category.CODING_QUERY == "coding-query"``),
so it serialises, compares and stores as the plain string the contract names.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Category(StrEnum):
    """Why a chart is open: one row of the classification contract each (docs/DESIGN.md)."""

    UNSIGNED_NOTE = "unsigned-note"
    PENDING_RESULT = "pending-result"
    AWAITING_REFERRAL_AUTH = "awaiting-referral-auth"
    CODING_QUERY = "coding-query"
    DOCUMENTATION_GAP = "documentation-gap"

    @property
    def label(self) -> str:
        """How reports name the category."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS: dict[Category, str] = {
    Category.UNSIGNED_NOTE: "Unsigned note",
    Category.PENDING_RESULT: "Pending result",
    Category.AWAITING_REFERRAL_AUTH: "Referral / authorization",
    Category.CODING_QUERY: "Coding query",
    Category.DOCUMENTATION_GAP: "Documentation gap",
}

#: Categories in code order, the order blockers are listed in: reports and the simulation's
#: tables keep each category in this place from one table to the next.
CATEGORIES: tuple[Category, ...] = tuple(sorted(Category))

#: Categories routed by category; a documentation gap is routed by its missing field.
ROUTED_CATEGORIES: tuple[Category, ...] = tuple(
    c for c in Category if c is not Category.DOCUMENTATION_GAP
)


def ordered_categories(found: Iterable[str]) -> list[str]:
    """``found`` in ``CATEGORIES`` order, any code not in the vocabulary after them by name."""
    present = set(found)
    known = [c.value for c in CATEGORIES if c in present]
    return known + sorted(c for c in present if c not in CATEGORIES)


def category_label(code: str) -> str:
    """The label of a category code; a code not in the vocabulary labels itself."""
    return _CATEGORY_LABELS[Category(code)] if code in _CODES else code


_CODES = frozenset(Category)


class Role(StrEnum):
    """What a person on the roster does; work items go to roles, then to people."""

    CLINICIAN = "clinician"
    MEDICAL_ASSISTANT = "medical-assistant"
    REFERRAL_COORDINATOR = "referral-coordinator"
    FRONT_DESK = "front-desk"
    CODER = "coder"
    MANAGER = "manager"
    MEDICAL_DIRECTOR = "medical-director"


#: Roles a work item can be routed to (managers and directors are only escalated to).
WORK_ROLES: tuple[Role, ...] = (
    Role.CLINICIAN,
    Role.MEDICAL_ASSISTANT,
    Role.REFERRAL_COORDINATOR,
    Role.FRONT_DESK,
    Role.CODER,
)


class DocumentationField(StrEnum):
    """A required element of a chart whose absence is a documentation gap.

    A missing field's gap has the field's code as its subject; a missing form's gap has
    ``form:<questionnaire canonical>`` (see ``form_subject``).
    """

    CHIEF_COMPLAINT = "chief-complaint"
    DIAGNOSIS = "diagnosis"
    LEVEL_OF_SERVICE = "level-of-service"
    RENDERING_CLINICIAN = "rendering-clinician"

    @property
    def label(self) -> str:
        """The field in words, e.g. ``level of service``."""
        return _FIELD_TEXT[self][0]

    @property
    def description(self) -> str:
        """The label with where the rule looks for it, as a blocker's detail says it."""
        label, where = _FIELD_TEXT[self]
        return f"{label} ({where})"


_FIELD_TEXT: dict[DocumentationField, tuple[str, str]] = {
    DocumentationField.CHIEF_COMPLAINT: (
        "chief complaint",
        "Encounter.reasonCode or reasonReference",
    ),
    DocumentationField.DIAGNOSIS: (
        "diagnosis",
        "Encounter.diagnosis or an encounter-diagnosis Condition",
    ),
    DocumentationField.LEVEL_OF_SERVICE: (
        "level of service",
        "a CPT 99202-99215 Encounter.type or claim item",
    ),
    DocumentationField.RENDERING_CLINICIAN: (
        "rendering clinician",
        "an Encounter.participant individual",
    ),
}

#: The subject of a chart's unsigned-note blocker (a chart has one, whichever notes it has).
NOTE_SUBJECT = "note"

#: The key that stands for every required form where routing and escalation are set per
#: documentation field (``routing.documentation_fields``, ``escalation.documentation_fields``).
FORMS = "forms"
#: Every key of those per-field settings: the fields, then ``forms``.
GAP_KEYS: tuple[str, ...] = (*DocumentationField, FORMS)
_FORM_PREFIX = "form:"


def form_subject(canonical: str) -> str:
    """The subject of the documentation gap for a missing form (a Questionnaire canonical)."""
    return f"{_FORM_PREFIX}{canonical}"


def gap_key(subject: str) -> str:
    """The per-field settings key of a documentation gap's subject: the field, or ``forms``."""
    return FORMS if subject.startswith(_FORM_PREFIX) else subject


class Mode(StrEnum):
    """Whether chartroute may reach people and the EHR (``mode:`` in the practice file).

    In ``shadow`` every run computes and records what it would do (work items, escalations,
    messages marked ``shadow`` in the outbox) but sends nothing and writes nothing back to the
    EHR; ``live`` delivers. docs/go-live.md says how a practice moves from one to the other.
    """

    SHADOW = "shadow"
    LIVE = "live"


class RoutingRule(StrEnum):
    """Which rule put a work item with its holder: the reason ``classify``, ``worklist`` and the
    audit trail show, so a practice can see why each item sits where it does (docs/DESIGN.md,
    "Routing details")."""

    CLINICIAN = "clinician"  # a clinical item follows the chart's rendering clinician
    POD = "pod"  # the clinician's pod member for the role
    LEAST_LOADED = "least-loaded"  # no pod: the least-loaded person in the role
    OVERFLOW = "overflow"  # the pod was full: the least-loaded person in the role with room
    COVER = "cover"  # the first choice is away: their backup
    OVER_CAPACITY = "over capacity"  # moved off a holder whose queue passed their reach
    SPARE_TODAY = "spare today"  # work doable now, to someone with capacity left for it today
    HOLDER = "holder"  # kept by the person who already holds it (a re-sync does not shuffle)
    UNASSIGNED = "unassigned"  # nobody takes the role, or the clinician is not on the roster
