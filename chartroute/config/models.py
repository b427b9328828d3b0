"""Typed models of the practice YAML; each field's description is its documentation.

The ops lead edits this file by hand, so every rule here rejects a mistake early with a message
naming the field, rather than letting a typo route a chart to nobody. The JSON Schema that
editors use (``chartroute config schema``) is generated from these models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, field_validator, model_validator

from chartroute.calendar import ClinicCalendar
from chartroute.config.backfill import BackfillSettings
from chartroute.config.base import LocatedValueError, StrictModel
from chartroute.config.choices import FieldCode, GapKeyCode, RoleCode, RoutedCategoryCode
from chartroute.config.ehr import Ehr
from chartroute.config.escalation import EscalationConfig, EscalationField
from chartroute.config.notify import NotifyConfig, NotifyField
from chartroute.config.review import ReviewSettings
from chartroute.config.roi import RoiInputs
from chartroute.config.suggest import did_you_mean
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
    since: date | None = Field(
        default=None,
        description="Go-live cut-off (ISO date): visits that started before it, at midnight "
        "in the practice's timezone, are not charts (a first export carries years of "
        "history nobody wants on a worklist). `--since` on classify, sync and backfill "
        "overrides it for one run.",
    )
    _timezone: str = PrivateAttr(default="UTC")

    def since_at(self) -> datetime | None:
        """The cut-off as an instant: midnight of ``since`` where the practice is."""
        if self.since is None:
            return None
        return datetime.combine(self.since, time(), ZoneInfo(self._timezone)).astimezone(UTC)

    def with_timezone(self, timezone: str) -> ChartRules:
        """These rules, reading ``since`` in ``timezone`` (the practice's)."""
        self._timezone = timezone
        return self


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
    npi: str | None = Field(
        default=None,
        pattern=r"^[0-9]{10}$",
        description="This person's National Provider Identifier (10 digits). A chart's "
        "clinician matches by NPI or by `practitioner`, whichever the EHR's references carry.",
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

    @field_validator("npi")
    @classmethod
    def _npi_check_digit(cls, value: str | None) -> str | None:
        if value is not None and not npi_is_valid(value):
            raise ValueError(f"{value} is not a valid NPI: its check digit does not match")
        return value

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

    def with_since(self, since: date | None) -> PracticeConfig:
        """This config with the go-live cut-off ``since`` (``--since``); unchanged for None."""
        if since is None:
            return self
        charts = self.charts.model_copy(update={"since": since})
        return self.model_copy(update={"charts": charts.with_timezone(self.practice.timezone)})

    @model_validator(mode="after")
    def _cut_off_in_practice_time(self) -> PracticeConfig:
        self.charts.with_timezone(self.practice.timezone)
        return self

    @model_validator(mode="after")
    def _roster_is_consistent(self) -> PracticeConfig:
        problems = roster_problems(
            [p.model_dump(mode="json", by_alias=True) for p in self.roster],
            self.routing.model_dump(mode="json"),
        )
        if problems:
            raise problems[0]  # the loader reports the others (``cross_reference_problems``)
        return self

    def person(self, person_id: str) -> Person:
        """The roster entry with this id."""
        for p in self.roster:
            if p.id == person_id:
                return p
        raise KeyError(person_id)


def cross_reference_problems(data: Mapping[str, Any]) -> list[LocatedValueError]:
    """Every roster and routing cross-reference problem of the file's raw data, located from
    its top. A model validator stops at its first error and does not run at all while any
    field is invalid, so an unknown ``backup`` used to surface only after the rest was fixed;
    the loader adds these to pydantic's errors to report everything in one pass."""
    roster = data.get("roster")
    routing = data.get("routing")
    return roster_problems(
        roster if isinstance(roster, list) else [], routing if isinstance(routing, dict) else None
    )


def roster_problems(
    roster: Sequence[Any], routing: Mapping[str, Any] | None
) -> list[LocatedValueError]:
    """Duplicate ids, unknown backups and pod members, a Practitioner or an NPI on two people,
    routed roles nobody holds; tolerant of malformed entries (pydantic reports those)."""
    people = [p if isinstance(p, dict) else {} for p in roster]
    ids = [p.get("id") for p in people]
    known = {pid: p for pid, p in zip(ids, people, strict=True) if isinstance(pid, str)}
    problems: list[LocatedValueError] = []
    seen: set[object] = set()
    practitioners: dict[str, object] = {}
    npis: dict[str, object] = {}
    for i, person in enumerate(people):
        pid = person.get("id")
        if isinstance(pid, str) and pid in seen:
            problems.append(_at(("roster", i, "id"), f"duplicate person id {pid!r}"))
        seen.add(pid)
        backup = person.get("backup")
        if isinstance(backup, str) and backup not in known:
            problems.append(
                _at(
                    ("roster", i, "backup"),
                    f"unknown person {backup!r}{did_you_mean(backup, known)}",
                )
            )
        elif backup is not None and backup == pid:
            problems.append(_at(("roster", i, "backup"), "a person cannot be their own backup"))
        pod = person.get("pod")
        clinicians = [k for k, p in known.items() if Role.CLINICIAN in _roles(p)]
        for j, member in enumerate(pod if isinstance(pod, list) else []):
            if member not in clinicians:
                hint = did_you_mean(member, clinicians)
                message = f"{member!r} is not a clinician on the roster{hint}"
                problems.append(_at(("roster", i, "pod", j), message))
        npi = person.get("npi")
        if isinstance(npi, str) and npi:
            if npi in npis:
                problems.append(_at(("roster", i, "npi"), f"{npi} is also {npis[npi]!r}"))
            npis[npi] = pid
        practitioner = person.get("practitioner")
        if isinstance(practitioner, str) and practitioner:
            if practitioner in practitioners:
                problems.append(
                    _at(
                        ("roster", i, "practitioner"),
                        f"{practitioner} is also {practitioners[practitioner]!r}",
                    )
                )
            practitioners[practitioner] = pid
    problems += _routed_roles_held(people, routing)
    return problems


def _roles(person: Mapping[str, Any]) -> set[str]:
    roles = person.get("roles")
    return {str(r) for r in roles} if isinstance(roles, list) else set()


def _routed_roles_held(
    people: list[dict[str, Any]], routing: Mapping[str, Any] | None
) -> list[LocatedValueError]:
    if not people or not any(_roles(p) for p in people):
        return []  # no usable roster: pydantic says so, and every role would be "missing"
    defaults = Routing()
    present = {r for p in people for r in _roles(p)}
    problems: list[LocatedValueError] = []
    for section in ("categories", "documentation_fields"):
        given = (routing or {}).get(section)
        table = given if isinstance(given, dict) else getattr(defaults, section)
        for key, role in table.items():
            if isinstance(role, str) and role in set(Role) and role not in present:
                problems.append(
                    _at(("routing", section, str(key)), f"no one on the roster has role {role!r}")
                )
    return problems


def npi_is_valid(npi: str) -> bool:
    """The NPI check digit: Luhn over the number prefixed with 80840 (the US health card
    issuer), as CMS defines it; catches a mistyped or transposed digit in the roster."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed("80840" + npi)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _at(loc: tuple[str | int, ...], message: str) -> LocatedValueError:
    return LocatedValueError(loc, message)
