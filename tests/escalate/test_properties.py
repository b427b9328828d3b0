"""Properties of escalation over random calendars, policies, reassignments and sweep times."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.business_time import BusinessClock, Duration
from chartroute.calendar import ClinicCalendar
from chartroute.config.escalation import EscalationPolicy
from chartroute.escalate import Directory, LadderItem, LadderState, escalate_item
from chartroute.route import Router
from tests.escalate.helpers import practice

ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "America/Phoenix"]
DAY_HOURS = 9  # every open day below is 08:00-17:00, so a business day is 9 business hours


@dataclass(frozen=True)
class Case:
    clock: BusinessClock
    policy: EscalationPolicy
    opened: datetime
    visit: datetime
    sweeps: list[datetime]
    reassignments: list[tuple[datetime, str]]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(ZONES))
    weekdays = draw(
        st.lists(
            st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
            min_size=1,
            unique=True,
        )
    )
    holidays = draw(st.lists(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=25))
    calendar = ClinicCalendar(hours={d: "08:00-17:00" for d in weekdays}, holidays=holidays)
    unit = draw(st.sampled_from(["business hours", "business days"]))
    amounts = sorted(draw(st.lists(st.integers(1, 12), min_size=1, max_size=4, unique=True)))
    tiers: list[dict[str, Any]] = []
    for i, amount in enumerate(amounts):
        repeat = draw(st.none() | st.integers(1, 6))
        tiers.append(
            {
                "name": f"t{i}",
                "after": f"{amount} {unit}",
                "notify": [draw(st.sampled_from(["assignee", "manager", "medical-director"]))],
                "repeat_every": f"{repeat} {unit}" if repeat else None,
            }
        )
    delinquency = draw(st.none() | st.integers(1, 45))
    policy = EscalationPolicy.model_validate(
        {
            "tiers": tiers,
            "delinquency": {"after": f"{delinquency} days"} if delinquency else None,
            "on_reassign": draw(st.sampled_from(["keep", "restart"])),
        }
    )
    opened = draw(st.datetimes(datetime(2026, 1, 1), datetime(2026, 10, 1), timezones=st.just(UTC)))
    visit = opened - timedelta(hours=draw(st.integers(0, 24 * 40)))
    offsets = sorted(draw(st.lists(st.integers(0, 60 * 24 * 45), min_size=1, max_size=25)))
    sweeps = [opened + timedelta(minutes=m) for m in offsets]
    moves = draw(
        st.lists(
            st.tuples(st.integers(1, 60 * 24 * 45), st.sampled_from(["dr-a", "dr-b", "dr-c"])),
            max_size=4,
        )
    )
    reassignments = sorted((opened + timedelta(minutes=m), who) for m, who in moves)
    return Case(BusinessClock(zone, calendar), policy, opened, visit, sweeps, reassignments)


def item_at(case: Case, now: datetime) -> LadderItem:
    assignee, assigned = "dr-a", case.opened
    for at, who in case.reassignments:
        if at <= now and who != assignee:
            assignee, assigned = who, at
    return LadderItem(
        "wi-1",
        "unsigned-note",
        "note",
        "clinician",
        assignee,
        "dr-a",
        case.visit,
        case.opened,
        assigned,
    )


def business_hours(amount: Duration) -> timedelta:
    hours = amount.amount * (DAY_HOURS if amount.unit == "business days" else 1)
    return timedelta(hours=hours)


DIRECTORY = Directory(Router(practice(), datetime(2026, 1, 1, tzinfo=UTC)))  # nobody away


def run(case: Case) -> list[tuple[datetime, LadderItem, LadderState | None, Any]]:
    state: LadderState | None = None
    history = []
    for now in case.sweeps:
        current = item_at(case, now)
        decision = escalate_item(current, state, case.policy, DIRECTORY, case.clock, now)
        history.append((now, current, state, decision))
        state = decision.state
    return history


@settings(max_examples=250, deadline=None)
@given(cases())
def test_level_never_decreases_while_the_item_stays_open(case: Case) -> None:
    levels = [decision.state.level for *_, decision in run(case)]
    assert levels == sorted(levels)
    delinquent = [decision.state.delinquent for *_, decision in run(case)]
    assert delinquent == sorted(delinquent)


@settings(max_examples=250, deadline=None)
@given(cases())
def test_no_event_before_its_threshold_in_business_time(case: Case) -> None:
    restart = case.policy.on_reassign == "restart"
    for now, current, _, decision in run(case):
        state = decision.state
        for event in decision.escalations:
            assert event.due_at <= now
            if event.kind == "escalated":
                tier = case.policy.tiers[event.level - 1]
                start = current.assigned_since if restart else current.open_since
                assert case.clock.business_time_between(start, event.due_at) >= business_hours(
                    tier.after
                )
            elif event.kind == "repeated":
                tier = case.policy.tiers[event.level - 1]
                assert tier.repeat_every is not None and state.tier_at is not None
                n = int(event.step.rsplit(".r", 1)[1])
                earliest = business_hours(tier.repeat_every) * n
                assert case.clock.business_time_between(state.tier_at, event.due_at) >= earliest
                # the tier itself was reached no later than its repeat's interval started
                assert state.tier_at <= event.due_at
            else:
                assert case.policy.delinquency is not None
                days = int(case.policy.delinquency.after.amount)
                assert event.due_at >= case.visit + timedelta(days=days) - timedelta(hours=1)


@settings(max_examples=250, deadline=None)
@given(cases())
def test_a_second_sweep_at_the_same_instant_emits_nothing(case: Case) -> None:
    for now, current, _, decision in run(case):
        again = escalate_item(current, decision.state, case.policy, DIRECTORY, case.clock, now)
        assert again.escalations == ()
        assert again.state == decision.state


@settings(max_examples=250, deadline=None)
@given(cases())
def test_steps_are_unique_over_the_life_of_an_item(case: Case) -> None:
    seen = [event.step for *_, decision in run(case) for event in decision.escalations]
    assert len(seen) == len(set(seen))


@settings(max_examples=150, deadline=None)
@given(cases())
def test_the_next_step_is_never_in_the_past_and_nothing_fires_before_it(case: Case) -> None:
    history = run(case)
    for (now, _, _, decision), later in pairwise(history):
        next_at = decision.state.next_at
        assert next_at is None or next_at > now
        later_now, _, _, later_decision = later
        moved = later_decision.state.epoch != decision.state.epoch
        if later_decision.escalations and not moved:
            assert next_at is not None and later_now >= next_at


def test_properties_can_fail_on_a_broken_rule() -> None:
    """Guard: the threshold check above rejects an event due before its tier's threshold."""
    case = Case(
        BusinessClock("America/New_York", ClinicCalendar()),
        EscalationPolicy.model_validate(
            {"tiers": [{"name": "t0", "after": "4 business hours", "notify": ["assignee"]}]}
        ),
        datetime(2026, 3, 2, 14, tzinfo=UTC),
        datetime(2026, 3, 2, 14, tzinfo=UTC),
        [datetime(2026, 3, 2, 20, tzinfo=UTC)],
        [],
    )
    [(_, current, _, decision)] = run(case)
    [event] = decision.escalations
    early = replace(event, due_at=event.due_at - timedelta(minutes=1))
    assert case.clock.business_time_between(current.open_since, early.due_at) < business_hours(
        case.policy.tiers[0].after
    )
