"""What the practice simulation assumes, each as a parameter with its default and its source.

The claim under test — routing administrative charts to staff cuts the physicians' own backlog
by about 30% — has no published source, so every figure the answer depends on is a parameter
here. Where a published figure exists its source is named; where none does the description
says so, and the sensitivity table varies the ones the answer hinges on.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

NO_SOURCE = "no published source; a stated assumption"


def _minutes(default: float, description: str, source: str = NO_SOURCE) -> float:
    """A per-action or per-day time in minutes; 0 allowed (an action that costs nothing)."""
    return Field(
        default=default,
        ge=0.0,
        le=24 * 60,
        description=description,
        json_schema_extra={"source": source},
    )


class SimAssumptions(BaseModel):
    """The parameters of a simulated practice's people and their work."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- the clinicians' day ---------------------------------------------------------------
    clinic_chart_minutes: float = _minutes(
        30,
        "Minutes of clinic hours a clinician has for open charts each clinic day; chart work "
        "beyond them is after-hours work.",
    )
    after_hours_cap_minutes: float = _minutes(
        120,
        "Most after-hours minutes a clinician spends on charts in one evening; what is left "
        "stays on the list for the next day.",
        "1-2 h of after-hours EHR work each night (Sinsky et al., Ann Intern Med 2016); "
        "1.4 h a day for family physicians (Arndt et al., Ann Fam Med 2017)",
    )
    note_minutes: float = _minutes(
        6,
        "Minutes to finish and sign a note not signed during clinic hours on the visit day.",
        "16 min of EHR time per encounter, 24% of it documentation (Overhage & McCallie, Ann "
        "Intern Med 2020): about 4 min a note on average; unfinished notes take longer",
    )
    coding_query_minutes: float = _minutes(4, "Minutes to answer one coder's query.")
    field_minutes: float = _minutes(
        2, "Minutes to fill in one missing clinician field (diagnosis, level of service)."
    )

    clinician_habits: bool = Field(
        default=True,
        description="Clinicians act on a clinical blocker no earlier than the generated story "
        "has them (notes signed on a later day, slow answers to coders), whatever the policy; "
        "off: as soon as it appears, capacity allowing.",
        json_schema_extra={
            "source": "the generator's signing mix; 45% of notes are not "
            "signed in clinic hours on the visit day"
        },
    )
    delinquent_days: int = Field(
        default=10,
        ge=1,
        le=90,
        description="Days after which a clinical blocker the story never closes is done "
        "anyway (the practice's delinquency process), so it neither vanishes nor piles up.",
        json_schema_extra={"source": "closure policies of 24 h to 30 days (shared references)"},
    )

    # --- manual chasing --------------------------------------------------------------------
    chase_minutes: float = _minutes(
        3,
        "Minutes a clinician spends on one administrative blocker each time they look at its "
        "chart under manual chasing: finding out what it waits on and asking for it.",
    )
    recheck_days: int = Field(
        default=1,
        ge=1,
        le=30,
        description="Clinic days between a clinician's looks at a chart still waiting on "
        "something administrative (manual chasing).",
        json_schema_extra={"source": NO_SOURCE},
    )
    clinician_handle_minutes: float = _minutes(
        5,
        "Minutes a clinician spends doing an administrative task themselves when nobody in "
        "the role has capacity for it (attach a result, write a letter, fill a field).",
    )

    # --- staff -----------------------------------------------------------------------------
    staff_items_per_day: float = Field(
        default=20,
        ge=0,
        le=1000,
        description="Administrative items each medical assistant, referral coordinator and "
        "front-desk person closes per clinic day beside their other duties (0: no staff "
        "capacity).",
        json_schema_extra={"source": NO_SOURCE},
    )
    chase_after_days: int = Field(
        default=3,
        ge=1,
        le=60,
        description="Clinic days after which a result or a payer answer that has not arrived "
        "is asked for again; it then arrives after the usual delay from that day.",
        json_schema_extra={"source": NO_SOURCE},
    )

    # --- the mix of blockers ---------------------------------------------------------------
    admin_share_scale: float = Field(
        default=1.0,
        ge=0,
        le=3,
        description="Multiplies the generator's shares of administrative blockers (orders, "
        "referrals, prior authorizations, missing chief complaint, rendering clinician and "
        "forms); 0 makes a practice with no administrative blockers.",
        json_schema_extra={
            "source": "no public source gives open charts by reason "
            "(shared references); the generator's defaults, scaled"
        },
    )
    warmup_days: int = Field(
        default=5,
        ge=0,
        le=200,
        description="Clinic days left out of the averages while the backlog fills up from "
        "an empty start.",
    )

    @model_validator(mode="after")
    def _something_to_work_with(self) -> SimAssumptions:
        """A clinician with no minutes at all cannot sign anything: say so before running."""
        if self.clinic_chart_minutes + self.after_hours_cap_minutes <= 0:
            raise ValueError("clinic_chart_minutes + after_hours_cap_minutes must be above 0")
        return self

    @property
    def clinician_day_minutes(self) -> float:
        """All the chart minutes a clinician has in a day, in clinic and after."""
        return self.clinic_chart_minutes + self.after_hours_cap_minutes


def assumption_rows(assumptions: SimAssumptions) -> list[tuple[str, str, str, str]]:
    """(name, value, meaning, source) for every assumption: the table the docs and report show."""
    rows = []
    for name, field in SimAssumptions.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        source = str(extra.get("source", NO_SOURCE)) if name != "warmup_days" else "-"
        value = getattr(assumptions, name)
        shown = ("on" if value else "off") if isinstance(value, bool) else f"{value:g}"
        rows.append((name, shown, field.description or "", source))
    return rows
