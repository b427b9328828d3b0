"""Parameters of a synthetic practice.

Every knob of the generator lives here, with a description of the real-world behaviour it
models, so a benchmark or a test can say exactly which practice it ran against. Defaults are
plausible for a US primary-care group; shares are probabilities in [0, 1] and delays are
means of exponential distributions, in days.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def _share(default: float, description: str) -> float:
    """A share field: bounded to [0, 1] so a typo cannot produce impossible practices."""
    return Field(default=default, ge=0.0, le=1.0, description=description)


def _mean_days(default: float, description: str) -> float:
    """A positive mean delay in days."""
    return Field(default=default, gt=0.0, le=365.0, description=description)


class GeneratorProfile(BaseModel):
    """What practice to synthesise: its size, its calendar and how its charts behave."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- size and calendar -------------------------------------------------------------------
    providers: int = Field(
        default=5, ge=1, le=5000, description="Rendering clinicians, each seeing a full clinic day."
    )
    days: int = Field(
        default=20,
        ge=1,
        le=2000,
        description="Clinic days, Monday to Friday (weekends skipped; holidays not modelled).",
    )
    seed: int = Field(
        default=1, description="Seed: the same profile always produces byte-identical output."
    )
    start: date = Field(
        default=date(2026, 1, 5),
        description="First clinic day; a weekend date moves to the following Monday.",
    )
    as_of: datetime | None = Field(
        default=None,
        description=(
            "Emit the EHR as it stood at this instant (naive values are practice-local time). "
            "Default: 18:00 practice time on the last clinic day."
        ),
    )
    flavour: Literal["synthetic", "real-world"] = Field(
        default="synthetic",
        description="synthetic: tidy literal references; real-world: the shapes of a US Core "
        "export such as Synthea's (conditional NPI references, PractitionerRole participants, "
        "superseded notes, years of history before the cut-off, the level of service on the "
        "claim only), with a roster by NPI. Both give the same work items.",
    )
    encounters_per_provider_day: int = Field(
        default=18, ge=1, le=200, description="Scheduled visits per clinician per clinic day."
    )
    timezone: str = Field(
        default="America/New_York",
        description="IANA timezone of the practice: clinic hours and after-hours are local.",
    )
    clinic_open_hour: int = Field(
        default=8, ge=0, le=22, description="Local hour the first visit slot starts."
    )
    clinic_close_hour: int = Field(
        default=17,
        ge=1,
        le=23,
        description="Local hour clinic ends; work after it (until midnight) is after-hours work.",
    )
    patients_per_provider: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Active panel per clinician: all are written, each visit picks one.",
    )

    # --- which encounters are charts ---------------------------------------------------------
    non_chart_share: float = _share(
        0.03,
        "Encounters that are not charts: planned (no-show never updated), cancelled, "
        "entered-in-error, or inpatient (class IMP), in equal parts.",
    )
    telehealth_share: float = _share(0.10, "Charts that are virtual visits (class VR).")
    home_visit_share: float = _share(0.02, "Charts that are home visits (class HH).")
    well_child_share: float = _share(
        0.08, "Visits typed well-child (SNOMED 410620009); their patients are children."
    )
    follow_up_share: float = _share(
        0.40, "Visits typed follow-up (SNOMED 390906007); the rest are check-ups (185349003)."
    )
    new_patient_share: float = _share(
        0.10, "Visits billed as new-patient E/M (CPT 99202-99205) rather than established."
    )

    # --- progress note -----------------------------------------------------------------------
    note_unsigned_share: float = _share(
        0.03,
        "Notes never signed within the horizon (stuck); with the signing delays below this "
        "sets how many notes are unsigned at as_of.",
    )
    note_not_started_share: float = _share(
        0.20,
        "Of the never-signed notes, those never even started: no DocumentReference exists.",
    )
    note_same_day_share: float = _share(
        0.55, "Signed notes signed during clinic hours on the visit day."
    )
    note_after_hours_share: float = _share(
        0.25, "Signed notes signed the same evening after clinic (after-hours documentation)."
    )
    note_late_mean_days: float = _mean_days(
        2.0, "Mean extra delay, in days, of the remaining notes signed on a later day."
    )
    note_late_after_hours_share: float = _share(
        0.40, "Late-signed notes that are signed in the evening rather than in clinic hours."
    )
    note_entered_in_error_share: float = _share(
        0.005,
        "Charts that also carry a signed note later marked entered-in-error (wrong chart).",
    )

    # --- orders and results ------------------------------------------------------------------
    order_share: float = _share(0.30, "Charts with one or two lab/imaging orders.")
    imaging_share: float = _share(0.15, "Orders that are imaging rather than laboratory.")
    lab_result_mean_days: float = _mean_days(1.0, "Mean days until a lab result arrives.")
    imaging_result_mean_days: float = _mean_days(2.0, "Mean days until an imaging report arrives.")
    result_never_share: float = _share(
        0.02, "Orders whose result never arrives within the horizon (lost or not performed)."
    )
    preliminary_result_share: float = _share(
        0.20, "Results that first arrive as a preliminary report, halfway to the final one."
    )

    # --- referrals and prior authorizations --------------------------------------------------
    referral_share: float = _share(0.08, "Charts with an outgoing referral (SNOMED 3457005).")
    referral_letter_mean_days: float = _mean_days(
        2.0, "Mean business delay until the referral letter (LOINC 57133-1) is written."
    )
    referral_letter_never_share: float = _share(
        0.05, "Referrals whose letter is never written within the horizon."
    )
    prior_auth_share: float = _share(
        0.04, "Charts needing a prior authorization (Claim use preauthorization)."
    )
    prior_auth_response_mean_days: float = _mean_days(
        3.0, "Mean business delay until the payer answers a prior authorization."
    )
    prior_auth_never_share: float = _share(
        0.05, "Prior authorizations the payer never answers within the horizon."
    )
    prior_auth_queued_share: float = _share(
        0.50, "Prior authorizations first acknowledged as queued (ClaimResponse outcome queued)."
    )
    prior_auth_partial_share: float = _share(
        0.10, "Answered prior authorizations whose outcome is partial (still needs work)."
    )

    # --- coding ------------------------------------------------------------------------------
    coder_query_share: float = _share(
        0.05, "Signed charts on which a coder raises a query (Task code coding-query)."
    )
    coder_query_mean_days: float = _mean_days(
        1.0, "Mean business delay from signing until the coder raises the query."
    )
    coder_answer_mean_days: float = _mean_days(
        2.0, "Mean business delay until the clinician answers the coder query."
    )
    coder_never_answered_share: float = _share(
        0.10, "Coder queries never answered within the horizon."
    )
    coder_query_note_focus_share: float = _share(
        0.30, "Coder queries whose focus is the progress note instead of the encounter."
    )
    billing_claim_share: float = _share(
        0.90,
        "Complete charts (signed, coded, queries answered) that get a billing Claim (use claim).",
    )

    # --- documentation gaps ------------------------------------------------------------------
    missing_chief_complaint_share: float = _share(
        0.02, "Charts recorded without a chief complaint (Encounter.reasonCode)."
    )
    missing_diagnosis_share: float = _share(
        0.03, "Charts recorded without a diagnosis (no Encounter.diagnosis, no Condition)."
    )
    missing_level_of_service_share: float = _share(
        0.04, "Charts recorded without a level of service (no CPT E/M type coding)."
    )
    missing_rendering_clinician_share: float = _share(
        0.01, "Charts recorded without a rendering clinician (no Encounter.participant)."
    )
    well_child_form_missing_share: float = _share(
        0.20, "Well-child visits whose screening form (QuestionnaireResponse) is not filled in."
    )
    gap_fix_mean_days: float = _mean_days(
        1.5, "Mean business delay until a documentation gap is filled in."
    )
    gap_never_fixed_share: float = _share(
        0.25, "Documentation gaps never filled in within the horizon."
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        """Fail at the edge: a misspelt zone would otherwise surface deep in generation."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> GeneratorProfile:
        """Mixtures must fit into one: their shares cannot add up to more than everything."""
        if self.clinic_close_hour <= self.clinic_open_hour:
            raise ValueError("clinic_close_hour must be after clinic_open_hour")
        mixtures = {
            "telehealth_share + home_visit_share": self.telehealth_share + self.home_visit_share,
            "well_child_share + follow_up_share": self.well_child_share + self.follow_up_share,
            "note_same_day_share + note_after_hours_share": self.note_same_day_share
            + self.note_after_hours_share,
        }
        for name, total in mixtures.items():
            if total > 1.0 + 1e-9:
                raise ValueError(f"{name} must not exceed 1 (got {total:g})")
        return self

    # --- derived values ------------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        """The practice timezone."""
        return ZoneInfo(self.timezone)

    def clinic_days(self) -> list[date]:
        """The clinic days of the horizon, Monday to Friday, starting at ``start``."""
        out: list[date] = []
        day = self.start
        while len(out) < self.days:
            if day.weekday() < 5:
                out.append(day)
            day += timedelta(days=1)
        return out

    def resolved_as_of(self) -> datetime:
        """The as-of instant, timezone-aware, in practice time.

        Naive values are read as practice-local wall time, because that is how a practice
        states "the EHR as it stood on Tuesday evening".
        """
        if self.as_of is None:
            last_day = self.clinic_days()[-1]
            return datetime.combine(last_day, time(18, 0), tzinfo=self.tz)
        if self.as_of.tzinfo is None:
            return self.as_of.replace(tzinfo=self.tz)
        return self.as_of.astimezone(self.tz)
