"""Each encounter's story: what happens to the chart, and when.

Times are naive practice-local wall times (see ``clinic_time``); ``None`` means "does not
happen within the horizon". ``planner`` draws the stories; emitting resources "as they stood
at as_of" is the job of ``resources``; this module only says what a story holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from .codes import Code
from .people import PatientFacts

EncounterKind = Literal["chart", "planned", "cancelled", "entered-in-error", "inpatient"]
NON_CHART_KINDS: tuple[EncounterKind, ...] = (
    "planned",
    "cancelled",
    "entered-in-error",
    "inpatient",
)

GAP_FIELDS: tuple[str, ...] = (
    "chief-complaint",
    "diagnosis",
    "level-of-service",
    "rendering-clinician",
)
"""Documentation fields, named as in the practice config's ``documentation`` section."""


def encounter_number(index: int) -> str:
    """The 1-based, zero-padded number shared by an encounter's resource ids."""
    return f"{index + 1:06d}"


def encounter_id(index: int) -> str:
    """FHIR id of the encounter with 0-based ``index``."""
    return f"enc-{encounter_number(index)}"


@dataclass(frozen=True, slots=True)
class NoteStory:
    """The progress note: started (preliminary) at ``created``, final at ``signed``."""

    created: datetime | None
    signed: datetime | None


@dataclass(frozen=True, slots=True)
class VoidNoteStory:
    """A note signed on the wrong chart and marked entered-in-error at ``voided``."""

    created: datetime
    voided: datetime


@dataclass(frozen=True, slots=True)
class OrderStory:
    """A lab or imaging order and the arrival of its result."""

    seq: int
    imaging: bool
    test: Code
    authored: datetime
    preliminary: datetime | None
    final: datetime | None


@dataclass(frozen=True, slots=True)
class ReferralStory:
    """An outgoing referral and the writing of its letter."""

    seq: int
    specialty: str
    authored: datetime
    letter: datetime | None


@dataclass(frozen=True, slots=True)
class PriorAuthStory:
    """A prior authorization request and the payer's answers."""

    service: Code
    created: datetime
    queued: datetime | None
    answered: datetime | None
    outcome: Literal["complete", "partial"]


@dataclass(frozen=True, slots=True)
class CoderQueryStory:
    """A coder's targeted question to the clinician, and its answer."""

    authored: datetime
    answered: datetime | None
    question: str
    focus_note: bool


@dataclass(frozen=True, slots=True)
class EncounterStory:
    """Everything that happens to one encounter's chart."""

    index: int
    kind: EncounterKind
    provider: int
    patient: PatientFacts
    day: date
    start: datetime
    end: datetime
    visit_class: str
    visit_type: Code
    level: Code
    complaint: Code
    diagnoses: tuple[Code, ...]
    note: NoteStory
    void_note: VoidNoteStory | None
    orders: tuple[OrderStory, ...]
    referrals: tuple[ReferralStory, ...]
    prior_auth: PriorAuthStory | None
    coder_query: CoderQueryStory | None
    field_times: dict[str, datetime | None]
    """When each documentation field (GAP_FIELDS, plus "forms" for well-child visits) is
    first present in the EHR; ``None``: never within the horizon."""
    finished: datetime
    """When the encounter's status turns finished: at signing if the note is signed on the
    visit day, otherwise when the EHR closes the day's visits at midnight."""
    billing_claim: datetime | None

    @property
    def id(self) -> str:
        """The FHIR id of the Encounter."""
        return encounter_id(self.index)

    @property
    def num(self) -> str:
        """The number in the ids of this encounter's resources (``enc-000123``, ``sr-000123-1``)."""
        return encounter_number(self.index)

    @property
    def needs_form(self) -> bool:
        """Whether the visit type requires the well-child screening form."""
        return "forms" in self.field_times
