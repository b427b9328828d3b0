"""The day-by-day simulation of one policy on one practice.

Each clinic day: the day's encounters happen (the generator's stories); at clinic close the
routing policy runs the real pipeline on the simulated EHR (sync → classify → route → deliver
→ escalation sweep) and checks the invariant on its work items; then everyone works their list
within their capacity, and the day is measured. Manual chasing runs the same day without the
pipeline: every open chart is on its clinician's list.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

from chartroute.config import PracticeConfig, load_config
from chartroute.generate.profile import GeneratorProfile
from chartroute.generate.roster import fee_schedule, load_template, practice_config
from chartroute.simulate.assumptions import SimAssumptions
from chartroute.simulate.ehr import SimulatedEhr
from chartroute.simulate.items import SimItem, is_clinical
from chartroute.simulate.metrics import DayRow, RunSummary, mean, steady
from chartroute.simulate.pipeline import Evening, RoutingPipeline
from chartroute.simulate.work import Holding, ItemKey, Policy, Practice, Workday, WorkPhase
from chartroute.simulate.world import World

log = logging.getLogger(__name__)

STAFF_ROLES = ("medical-assistant", "referral-coordinator", "front-desk")
"""Roles whose people close routed administrative items; their capacity is the assumption's."""

ADMIN_SHARES = (
    "order_share",
    "referral_share",
    "prior_auth_share",
    "missing_chief_complaint_share",
    "missing_rendering_clinician_share",
    "well_child_form_missing_share",
)
"""Generator shares that make administrative blockers (scaled by ``admin_share_scale``)."""


class InvariantViolation(RuntimeError):
    """A clinical blocker was assigned to someone who is not a clinician."""


@dataclass(frozen=True, slots=True)
class SimSettings:
    """One simulation: the practice's size and seed, and the assumptions."""

    providers: int = 5
    days: int = 30
    seed: int = 1
    start: date = date(2026, 1, 5)
    assumptions: SimAssumptions = field(default_factory=SimAssumptions)

    def profile(self) -> GeneratorProfile:
        """The generator profile: its administrative shares scaled, capped at certainty."""
        base = GeneratorProfile(
            providers=self.providers, days=self.days, seed=self.seed, start=self.start
        )
        scale = self.assumptions.admin_share_scale
        scaled = {name: min(1.0, getattr(base, name) * scale) for name in ADMIN_SHARES}
        return base.model_copy(update=scaled)


@dataclass(slots=True)
class RunResult:
    """Everything one run measured."""

    settings: SimSettings
    policy: Policy
    rows: list[DayRow]
    summary: RunSummary


PipelineFactory = Callable[[Path, Path], RoutingPipeline]
"""Builds the routing pipeline from (simulated EHR folder, practice.yaml path)."""


def write_practice(settings: SimSettings, path: Path) -> PracticeConfig:
    """The simulated practice's config: the template with a generated roster, nobody away,
    and each staff member's daily capacity set to the staff-capacity assumption."""
    config = practice_config(load_template(), settings.profile())
    staff = settings.assumptions.staff_items_per_day
    for person in config["roster"]:
        person.pop("out_of_office", None)
        if any(role in STAFF_ROLES for role in person["roles"]):
            person["daily_capacity"] = staff
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Simulated practice written by `chartroute simulate`. Every person is invented.\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False, width=100), encoding="utf-8")
    return load_config(path)


def simulate(
    settings: SimSettings,
    policy: Policy,
    workdir: Path,
    pipeline: PipelineFactory | None = None,
    *,
    on_day: Callable[[DayRow], None] | None = None,
) -> RunResult:
    """Run ``policy`` over the practice's clinic days; ``pipeline`` is needed for routing."""
    if policy == "routed" and pipeline is None:
        raise ValueError("the routed policy needs a routing pipeline")
    config_path = workdir / "practice.yaml"
    config = write_practice(settings, config_path)
    profile = settings.profile()
    a = settings.assumptions
    world = World(
        profile, config, timedelta(days=a.delinquent_days) if a.clinician_habits else None
    )
    practice = Practice(config, settings.assumptions)
    phase = WorkPhase(world, practice, world.days)
    ehr = SimulatedEhr(workdir / "ehr", profile, fee_schedule(load_template()))
    runner = pipeline(workdir / "ehr", config_path) if pipeline and policy == "routed" else None
    rows: list[DayRow] = []
    for n, day in enumerate(world.days):
        world.open_day(day)
        close = world.clock.at(day, profile.clinic_close_hour)
        known = world.open_items(close)
        evening: Evening | None = None
        holdings: dict[ItemKey, Holding] = {}
        if runner is not None:
            ehr.write_evening(close, world.for_ehr(close))
            evening = runner.evening(close.replace(tzinfo=profile.tz))
            holdings = {i.key: Holding(i.assignee, i.priority) for i in evening.items}
        work = phase.run(policy, n, close, known, holdings)
        for note in work.signed:
            world.note_signed(note)
        row = _measure(day, policy, phase, known, holdings, work_totals(work))
        if evening is not None:
            row.clinical_to_staff = _check_invariant(day, evening, config)
            row.mismatched = len({i.key for i in known} ^ set(holdings))
            row.escalated, row.notifications = evening.escalated, evening.notifications
        row.invariant_checked = True
        rows.append(row)
        if on_day is not None:
            on_day(row)
    _charge_lag(world, rows)
    return RunResult(settings, policy, rows, summarize(settings, policy, world, rows))


def work_totals(work: Workday) -> dict[str, float]:
    """The work phase's figures summed over people."""
    return {
        "clinician_minutes": sum(work.minutes.values()),
        "after_hours_minutes": sum(work.after_hours.values()),
        "chase_minutes": work.chase_minutes,
        "clinician_did_admin": work.clinician_did_admin,
        "staff_done": work.staff_done,
        "asked_again": work.asked_again,
    }


def _measure(
    day: date,
    policy: Policy,
    phase: WorkPhase,
    known: list[SimItem],
    holdings: dict[ItemKey, Holding],
    totals: dict[str, float],
) -> DayRow:
    """Backlogs after the evening's work: what is still open of what was known at close."""
    still = [i for i in known if i.done is None]
    lists = phase.clinician_lists(policy, still, holdings)
    on_lists = {i.encounter for items in lists.values() for i in items}
    return DayRow(
        day=day.isoformat(),
        policy=policy,
        clinician_backlog=len(on_lists),
        open_charts=len({i.encounter for i in still}),
        after_hours_minutes=round(totals["after_hours_minutes"], 2),
        clinician_minutes=round(totals["clinician_minutes"], 2),
        chase_minutes=round(totals["chase_minutes"], 2),
        clinician_did_admin=int(totals["clinician_did_admin"]),
        staff_done=int(totals["staff_done"]),
        asked_again=int(totals["asked_again"]),
    )


def _check_invariant(day: date, evening: Evening, config: PracticeConfig) -> int:
    """No clinical blocker may be held by someone without the clinician role."""
    roles = {p.id: set(p.roles) for p in config.roster}
    wrong = [
        i
        for i in evening.items
        if is_clinical(i.category, i.subject)
        and i.assignee is not None
        and "clinician" not in roles.get(i.assignee, set())
    ]
    if wrong:
        first = wrong[0]
        raise InvariantViolation(
            f"{day.isoformat()}: {len(wrong)} clinical blockers assigned to staff, e.g. "
            f"{first.category}/{first.subject.split('/')[0]} to {first.assignee} (role "
            f"{first.role}); check the routing section of the practice config"
        )
    return 0


def _charge_lag(world: World, rows: list[DayRow]) -> None:
    """Per day, how many charts closed and their mean days from visit to close."""
    lags: dict[str, list[float]] = defaultdict(list)
    for chart in world.charts.values():
        if chart.story.kind != "chart":
            continue
        closed = chart.closed_at()
        if closed is not None:
            lags[closed.date().isoformat()].append(float((closed.date() - chart.story.day).days))
    for row in rows:
        found = lags.get(row.day, [])
        row.charts_closed = len(found)
        row.charge_lag_days = round(mean(found), 3) if found else None


def summarize(
    settings: SimSettings, policy: Policy, world: World, rows: list[DayRow]
) -> RunSummary:
    """Steady-state averages, charge lag and time to close by category."""
    warm = settings.assumptions.warmup_days
    kept = steady(rows, warm)
    clinicians = max(1, settings.providers)
    first_day = world.days[min(warm, len(world.days) - 1)]
    lags: list[float] = []
    to_close: dict[str, list[float]] = defaultdict(list)
    still_open = 0
    for chart in world.charts.values():
        if chart.story.kind != "chart":
            continue
        closed = chart.closed_at()
        if closed is None:
            still_open += 1
        elif chart.story.day >= first_day:
            lags.append(float((closed.date() - chart.story.day).days))
        for item in chart.items.values():
            if item.done is not None and chart.story.day >= first_day:
                to_close[item.category].append((item.done - item.appears).total_seconds() / 86400)
    return RunSummary(
        policy=policy,
        seed=settings.seed,
        clinicians=clinicians,
        days=len(rows),
        clinician_backlog=round(mean([r.clinician_backlog for r in kept]), 3),
        open_charts=round(mean([r.open_charts for r in kept]), 3),
        after_hours_per_clinician=round(
            mean([r.after_hours_minutes for r in kept]) / clinicians, 3
        ),
        chase_minutes_per_clinician=round(mean([r.chase_minutes for r in kept]) / clinicians, 3),
        charge_lag_days=round(mean(lags), 3),
        still_open_at_end=still_open,
        time_to_close={k: round(mean(v), 3) for k, v in sorted(to_close.items())},
    )
