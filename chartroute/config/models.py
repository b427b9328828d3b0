"""Typed models of the practice YAML; each field's description is its documentation.

The ops lead edits this file by hand, so every rule here rejects a mistake early with a message
naming the field, rather than letting a typo route a chart to nobody. The JSON Schema that
editors use (``chartroute config schema``) is generated from these models.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from chartroute.calendar import ClinicCalendar
from chartroute.config.backfill import BackfillSettings
from chartroute.config.base import LocatedValueError, StrictModel
from chartroute.config.choices import FieldCode, GapKeyCode, RoleCode, RoutedCategoryCode
from chartroute.config.ehr import Ehr
from chartroute.config.escalation import EscalationConfig, EscalationField
from chartroute.config.notify import NotifyConfig, NotifyField
from chartroute.config.review import ReviewSettings
from chartroute.config.roi import RoiInputs
from chartroute.config.validation import Validation
from chartroute.vocabulary import FORMS, Category, DocumentationField, Mode, Role

_ID_PATTERN = r"^[a-z0-9][a-z0-9\-_.]{0,63}$"


class PracticeInfo(StrictModel):
    """Who the practice is and how to link into its EHR."""

    name: str = Field(description="Display name of the practice, shown in reports.")
    timezone: str = Field(
        default="UTC", description="IANA timezone of the clinic, e.g. America/New_York."
    )
    ehr_link_template: str | None = Field(
        default=None,
        description="Deep link to a chart in the EHR; `{encounter_id}` is replaced by the id.",
    )
    calendar: ClinicCalendar = Field(
        default_factory=ClinicCalendar,
        description="Clinic hours and holidays (local time): quiet hours and business time.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value


class ChartRules(StrictModel):
    """Which Encounters are charts (DESIGN: 'What makes a chart open')."""

    encounter_statuses: list[str] = Field(
        default_factory=lambda: ["finished", "in-progress", "onleave"],
        description="Encounter.status values that make a chart.",
    )
    encounter_classes: list[str] = Field(
        default_factory=lambda: ["AMB", "VR", "HH"],
        description="Encounter.class codes (v3 ActCode) that make a chart: "
        "ambulatory, virtual, home health.",
    )


class DateRange(StrictModel):
    """An inclusive range of days, e.g. a week of leave."""

    start: date = Field(alias="from", description="First day away.")
    end: date = Field(alias="to", description="Last day away (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError("'to' is before 'from'")
        return self


class Person(StrictModel):
    """One member of the care team."""

    id: str = Field(pattern=_ID_PATTERN, description="Stable id used in work items and output.")
    name: str = Field(description="Display name (staff names are not PHI).")
    roles: list[RoleCode] = Field(min_length=1, description="Roles this person takes work for.")
    practitioner: str | None = Field(
        default=None,
        pattern=r"^(Practitioner|PractitionerRole)/[A-Za-z0-9\-.]{1,64}$",
        description="The FHIR Practitioner (or PractitionerRole) that is this person in the EHR.",
    )
    pod: list[str] = Field(
        default_factory=list,
        description="Clinician ids this staff member supports first for their role.",
    )
    daily_capacity: float = Field(
        default=20,
        ge=0,
        description="Work items this person can close in a day (load balance); 0: in the role "
        "for escalations and cover, but routed no staff items.",
    )
    out_of_office: list[date | DateRange] = Field(
        default_factory=list, description="Days or ranges away; work goes to `backup`."
    )
    backup: str | None = Field(default=None, description="Person id who covers when away.")
    slack: str | None = Field(default=None, description="Slack user id for notifications.")
    email: str | None = Field(default=None, description="Email address for notifications.")

    def is_away(self, day: date) -> bool:
        """True if this person is out of office on ``day``."""
        for entry in self.out_of_office:
            if isinstance(entry, DateRange):
                if entry.start <= day <= entry.end:
                    return True
            elif entry == day:
                return True
        return False


class Routing(StrictModel):
    """Which role takes each kind of blocker."""

    # The docstring is the schema's description; chartroute.route.role_for reads this section.

    categories: dict[RoutedCategoryCode, RoleCode] = Field(
        default_factory=lambda: {
            Category.UNSIGNED_NOTE: Role.CLINICIAN,
            Category.PENDING_RESULT: Role.MEDICAL_ASSISTANT,
            Category.AWAITING_REFERRAL_AUTH: Role.REFERRAL_COORDINATOR,
            Category.CODING_QUERY: Role.CLINICIAN,
        },
        description="Role per blocker category (documentation gaps are routed per field).",
    )
    documentation_fields: dict[GapKeyCode, RoleCode] = Field(
        default_factory=lambda: {
            DocumentationField.CHIEF_COMPLAINT: Role.MEDICAL_ASSISTANT,
            DocumentationField.DIAGNOSIS: Role.CLINICIAN,
            DocumentationField.LEVEL_OF_SERVICE: Role.CLINICIAN,
            DocumentationField.RENDERING_CLINICIAN: Role.FRONT_DESK,
            FORMS: Role.MEDICAL_ASSISTANT,
        },
        description="Role per documentation-gap field; `forms` covers every required form.",
    )
    overflow: Literal["pool", "none"] = Field(
        default="pool",
        description="`pool`: a staff item whose pod member is full goes to the least-loaded "
        "person in the role with room, and items queued beyond a holder's reach move the same "
        "way at the next sync; `none`: strict pods, an item stays with its pod or holder.",
    )
    overflow_after_days: float = Field(
        default=1,
        gt=0,
        description="A person is full when their open items reach this many days of their "
        "`daily_capacity` (`overflow: pool` only).",
    )


class EncounterTypeRules(StrictModel):
    """Documentation requirements of one encounter type."""

    required_fields: list[FieldCode] | None = Field(
        default=None, description="Fields this type needs; default: the practice-wide list."
    )
    forms: list[str] = Field(
        default_factory=list,
        description="Questionnaire canonical URLs that need a QuestionnaireResponse.",
    )


class Documentation(StrictModel):
    """What a chart must contain before it can close."""

    required_fields: list[FieldCode] = Field(
        default_factory=lambda: list(DocumentationField),
        description="Fields every chart needs unless its encounter type says otherwise.",
    )
    by_encounter_type: dict[str, EncounterTypeRules] = Field(
        default_factory=dict,
        description='Per encounter type, keyed "<system>|<code>" of an Encounter.type coding.',
    )

    @field_validator("by_encounter_type")
    @classmethod
    def _keys_are_codings(
        cls, value: dict[str, EncounterTypeRules]
    ) -> dict[str, EncounterTypeRules]:
        for key in value:
            system, _, code = key.partition("|")
            if not system or not code:
                raise ValueError(f"key {key!r} must be '<system>|<code>'")
        return value


class Billing(StrictModel):
    """Money inputs for priority (billing impact, filing deadline) and ROI."""

    currency: str = Field(default="USD", description="ISO 4217 currency of the fee schedule.")
    fee_schedule: dict[str, float] = Field(
        default_factory=dict, description="Expected charge per level-of-service (CPT) code."
    )
    default_timely_filing_days: int = Field(
        default=90, gt=0, description="Payer filing limit in days when the payer is not listed."
    )
    timely_filing_days: dict[str, int] = Field(
        default_factory=dict, description="Filing limit per payer, keyed by Claim.insurer."
    )


class PracticeConfig(StrictModel):
    """The whole practice file."""

    practice: PracticeInfo
    mode: Mode | None = Field(
        default=None,
        description="`shadow`: compute and record everything, reach nobody (outbox rows "
        "marked shadow, no EHR write-back); `live`: deliver. Without it a practice runs in "
        "shadow until it has once run live, and live from then on (docs/go-live.md).",
    )
    charts: ChartRules = Field(default_factory=ChartRules)
    roster: list[Person] = Field(min_length=1)
    routing: Routing = Field(default_factory=Routing)
    documentation: Documentation = Field(default_factory=Documentation)
    billing: Billing = Field(default_factory=Billing)
    validation: Validation = Field(default_factory=Validation)
    notify: NotifyField = Field(
        default_factory=NotifyConfig,
        description="Notification channels, recipients and urgency (chartroute/config/notify.py).",
    )
    escalation: EscalationField = Field(
        default_factory=EscalationConfig,
        description="Escalation tiers, delinquency and managers (docs/escalation.md).",
    )
    ehr: Ehr | None = Field(
        default=None, description="The EHR to sync from over FHIR (docs/connectors.md)."
    )
    roi: RoiInputs = Field(
        default_factory=RoiInputs,
        description="Inputs of `chartroute roi`: costs, minutes and windows (docs/report.md).",
    )
    backfill: BackfillSettings = Field(
        default_factory=BackfillSettings,
        description="Task runner, workers and partition size of backfills (docs/backfill.md).",
    )
    review: ReviewSettings = Field(
        default_factory=ReviewSettings,
        description="When a category's reviewed accuracy is enough to go live (docs/go-live.md).",
    )

    @model_validator(mode="after")
    def _roster_is_consistent(self) -> PracticeConfig:
        ids = [p.id for p in self.roster]
        seen: set[str] = set()
        for i, pid in enumerate(ids):
            if pid in seen:
                raise _at(("roster", i, "id"), f"duplicate person id {pid!r}")
            seen.add(pid)
        by_id = {p.id: p for p in self.roster}
        practitioners: dict[str, str] = {}
        for i, person in enumerate(self.roster):
            if person.backup is not None:
                if person.backup not in by_id:
                    raise _at(("roster", i, "backup"), f"unknown person {person.backup!r}")
                if person.backup == person.id:
                    raise _at(("roster", i, "backup"), "a person cannot be their own backup")
            for j, member in enumerate(person.pod):
                if member not in by_id or Role.CLINICIAN not in by_id[member].roles:
                    raise _at(
                        ("roster", i, "pod", j), f"{member!r} is not a clinician on the roster"
                    )
            if person.practitioner:
                if person.practitioner in practitioners:
                    raise _at(
                        ("roster", i, "practitioner"),
                        f"{person.practitioner} is also {practitioners[person.practitioner]!r}",
                    )
                practitioners[person.practitioner] = person.id
        roles_present = {r for p in self.roster for r in p.roles}
        routed: list[tuple[str, str, str, str]] = [
            ("routing", "categories", c, r) for c, r in self.routing.categories.items()
        ]
        routed += [
            ("routing", "documentation_fields", f, r)
            for f, r in self.routing.documentation_fields.items()
        ]
        for *path, role in routed:
            if role not in roles_present:
                raise _at(tuple(path), f"no one on the roster has role {str(role)!r}")
        return self

    def person(self, person_id: str) -> Person:
        """The roster entry with this id."""
        for p in self.roster:
            if p.id == person_id:
                return p
        raise KeyError(person_id)


def _at(loc: tuple[str | int, ...], message: str) -> LocatedValueError:
    return LocatedValueError(loc, message)
