"""The ``roi`` section of the practice YAML: the money and time inputs of ``chartroute roi``.

The ROI compares what the practice's own data measured before and after routing; these inputs
turn those measured differences into hours and money. None of them is measured by chartroute,
so each has a default with its source stated and should be replaced by the practice's own
figure. Where no public source exists, the description says the default is an assumption.
"""

from __future__ import annotations

from pydantic import Field

from chartroute.config.base import StrictModel


class RoiInputs(StrictModel):
    """Inputs of the ROI model and the windows it compares."""

    clinician_hourly_cost: float = Field(
        default=150.0,
        gt=0,
        description="Fully loaded cost of one clinician hour, in the billing currency. "
        "Default 150: an assumption for a US family physician (compensation and benefits over "
        "about 1,900 clinical hours a year); use the practice's own figure.",
    )
    minutes_per_admin_chart: float = Field(
        default=4.0,
        gt=0,
        le=240,
        description="Minutes a clinician spends chasing one administrative chart (a result, "
        "a referral letter, an authorization, a missing field) when nobody routes it. "
        "Default 4: 16 minutes of EHR time per encounter (Overhage & McCallie, Ann Intern Med "
        "2020) times the 23.7% of EHR time spent on the inbox (Arndt et al., Ann Fam Med 2017); "
        "no study measures it directly, so a short time study at the practice is better.",
    )
    minutes_per_after_hours_note: float = Field(
        default=3.9,
        gt=0,
        le=240,
        description="Minutes of documentation behind one note signed after clinic hours. "
        "Default 3.9: documentation is 24% of the 16 minutes of EHR time per encounter "
        "(Overhage & McCallie, Ann Intern Med 2020).",
    )
    average_charge_per_visit: float | None = Field(
        default=None,
        gt=0,
        description="Average charge billed per visit, in the billing currency. Default: the "
        "mean of `billing.fee_schedule`; without either, the cash figures say what is missing.",
    )
    cost_of_capital: float = Field(
        default=0.08,
        ge=0,
        le=1,
        description="Yearly cost of the practice's money (e.g. its line-of-credit rate), as a "
        "fraction. Default 0.08: an assumption; use the practice's own rate.",
    )
    baseline_days: int = Field(
        default=28,
        ge=7,
        le=366,
        description="Without a backfill, the baseline is the first this-many days of live "
        "snapshots (the first weeks, before routing changed habits).",
    )
    current_days: int = Field(
        default=28,
        ge=7,
        le=366,
        description="The 'after' window: the last this-many days with snapshots.",
    )
