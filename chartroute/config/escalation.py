"""The ``escalation`` section of the practice file: who hears when a work item stays open.

A policy is a ladder of tiers. Each tier has a threshold in business time (counted on the
practice calendar from the moment the item opened), the people it tells, and an optional repeat
interval; a separate delinquency threshold (calendar days since the visit, as HIM departments
count it) marks the chart delinquent once. The ops lead sets one default policy and may replace
it for a category or, for documentation gaps, for one missing field. docs/escalation.md explains
the semantics, including reassignment, holidays and daylight-saving changes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from chartroute.business_time import Duration
from chartroute.config.base import LocatedValueError, StrictModel
from chartroute.config.choices import CategoryCode, GapKeyCode, WorkRoleCode
from chartroute.vocabulary import Category, gap_key

#: Who a tier tells: the item's assignee, the manager of the item's role, the medical
#: director, or the chart's rendering clinician.
Target = Literal["assignee", "manager", "medical-director", "clinician"]
_NAME = r"^[a-z0-9][a-z0-9\-_]{0,31}$"


def _parse_duration(value: Any) -> Any:
    if isinstance(value, str):
        return Duration.parse(value)
    return value


DurationField = Annotated[
    Duration,
    BeforeValidator(_parse_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*\d+(\.\d+)?\s*"
            r"(business hours?|business days?|bh|bd|days?|d|hours?|h)\s*$",
            "examples": ["16 business hours", "2 business days", "30 days"],
        }
    ),
]


class Tier(StrictModel):
    """One step of the ladder: after ``after`` of business time, tell ``notify``."""

    name: str = Field(pattern=_NAME, description="Short name shown in the worklist and audit.")
    after: DurationField = Field(
        description="Threshold from the moment the item opened, e.g. '2 business days' or "
        "'16 business hours' (business time follows practice.calendar)."
    )
    notify: list[Target] = Field(
        min_length=1,
        description="Who hears: assignee, manager (of the item's role), medical-director, "
        "clinician (the chart's rendering clinician).",
    )
    repeat_every: DurationField | None = Field(
        default=None,
        description="Tell them again at this interval while the item stays on this tier; "
        "none: once.",
    )
    urgent: bool | None = Field(
        default=None,
        description="true: send at once instead of waiting for the next digest (still one "
        "message per person per run, urgent items first); false: digest; "
        "unset: notify.urgent rules decide.",
    )


class Delinquency(StrictModel):
    """The point at which a chart counts as delinquent (told once per open spell)."""

    after: DurationField = Field(
        default=Duration(30, "days"),
        description="From the visit (or, without one, from when the item opened), e.g. '30 days'.",
        json_schema_extra={"default": "30 days"},
    )
    notify: list[Target] = Field(
        default_factory=lambda: ["manager", "medical-director"],  # type: ignore[arg-type]
        min_length=1,
        description="Who hears that the chart is delinquent.",
    )
    urgent: bool | None = Field(default=True, description="Send at once (default) or in digests.")


def _default_tiers() -> list[Tier]:
    return [
        Tier(
            name="reminder",
            after=Duration(1, "business days"),
            notify=["assignee"],
            repeat_every=Duration(1, "business days"),
        ),
        Tier(
            name="manager",
            after=Duration(3, "business days"),
            notify=["assignee", "manager"],
            repeat_every=Duration(2, "business days"),
        ),
        Tier(
            name="medical-director",
            after=Duration(5, "business days"),
            notify=["manager", "medical-director"],
            repeat_every=Duration(5, "business days"),
        ),
    ]


class EscalationPolicy(StrictModel):
    """A ladder of tiers, a delinquency threshold and what a reassignment does."""

    tiers: list[Tier] = Field(
        default_factory=_default_tiers,
        description="Tiers in the order they are reached; thresholds must grow.",
    )
    delinquency: Delinquency | None = Field(
        default_factory=Delinquency, description="Delinquency threshold; null: none."
    )
    on_reassign: Literal["keep", "restart"] = Field(
        default="keep",
        description="keep: the item's clock and level carry on with the new assignee; restart: "
        "the thresholds of tiers not yet reached count again from the reassignment (the level "
        "reached so far is kept).",
    )

    @model_validator(mode="after")
    def _ordered_tiers(self) -> EscalationPolicy:
        names: set[str] = set()
        for i, tier in enumerate(self.tiers):
            if tier.name in names:
                raise LocatedValueError(("tiers", i, "name"), f"duplicate tier name {tier.name!r}")
            names.add(tier.name)
            previous = self.tiers[i - 1].after if i else None
            # thresholds in different units are ordered on the calendar when they are used
            same_unit = previous is not None and previous.unit == tier.after.unit
            if same_unit and previous is not None and tier.after.amount <= previous.amount:
                raise LocatedValueError(
                    ("tiers", i, "after"),
                    f"{tier.after} is not later than the previous tier's {previous}",
                )
        return self


class EscalationConfig(StrictModel):
    """Escalation policies by category and documentation-gap field, and who manages whom."""

    enabled: bool = Field(default=True, description="false: sweeps record and send nothing.")
    default: EscalationPolicy = Field(
        default_factory=EscalationPolicy,
        description="The policy of every category not listed under `categories`.",
    )
    categories: dict[CategoryCode, EscalationPolicy] = Field(
        default_factory=dict, description="A whole policy per category, replacing the default."
    )
    documentation_fields: dict[GapKeyCode, EscalationPolicy] = Field(
        default_factory=dict,
        description="A whole policy per documentation-gap field (`forms`: any required form), "
        "replacing the documentation-gap (or default) policy.",
    )
    managers: dict[WorkRoleCode, list[str]] = Field(
        default_factory=dict,
        description="Person ids who manage each role; a role left out is managed by everyone "
        "with role `manager`.",
    )
    medical_directors: list[str] = Field(
        default_factory=list,
        description="Person ids told at medical-director tiers; default: everyone with role "
        "`medical-director`.",
    )

    def policy_for(self, category: Category, subject: str | None = None) -> EscalationPolicy:
        """The policy of a work item: by documentation field, then category, then the default."""
        if category == Category.DOCUMENTATION_GAP and subject:
            field_policy = self.documentation_fields.get(gap_key(subject))
            if field_policy is not None:
                return field_policy
        return self.categories.get(category, self.default)


def _people_on_roster(value: EscalationConfig, info: ValidationInfo) -> EscalationConfig:
    """Every manager and medical director named here is on the roster."""
    if "roster" not in info.data:
        return value  # the roster itself is invalid and reported on its own
    people = {p.id for p in info.data["roster"]}
    for role, ids in value.managers.items():
        for i, person_id in enumerate(ids):
            if person_id not in people:
                raise LocatedValueError(
                    ("managers", role, i), f"{person_id!r} is not on the roster"
                )
    for i, person_id in enumerate(value.medical_directors):
        if person_id not in people:
            raise LocatedValueError(("medical_directors", i), f"{person_id!r} is not on the roster")
    return value


#: The ``escalation`` field of ``PracticeConfig``: checked against the roster defined before it.
EscalationField = Annotated[EscalationConfig, AfterValidator(_people_on_roster)]
