"""Table-driven escalation policy tests: weekends, holidays, DST, out-of-office, reassignment."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from chartroute.config import ConfigError, load_config_text
from chartroute.escalate import (
    Decision,
    Directory,
    LadderItem,
    LadderState,
    clock_for,
    escalate_item,
)
from chartroute.route import Router
from tests.escalate.helpers import LADDER, item, local, practice


def decide(
    config: Any, it: LadderItem, now_local: str, state: LadderState | None = None
) -> Decision:
    policy = config.escalation.policy_for(it.category, it.subject)
    now = local(now_local)
    return escalate_item(it, state, policy, Directory(Router(config, now)), clock_for(config), now)


def steps(decision: Decision) -> list[tuple[str, str, list[str]]]:
    return [(e.step, e.kind, [r.person for r in e.recipients]) for e in decision.escalations]


# (name, holidays, opened (local), sweep (local), expected steps)
FIRST_SWEEP_CASES = [
    ("nothing before a business day", (), "2026-03-05 16:00", "2026-03-06 15:59", []),
    (
        "reminder at one business day",
        (),
        "2026-03-05 16:00",
        "2026-03-06 16:00",
        [("0.t1", "escalated", ["dr-a"])],
    ),
    ("weekend does not count", (), "2026-03-06 16:00", "2026-03-08 23:00", []),
    (
        "Monday after a Friday",
        (),
        "2026-03-06 16:00",
        "2026-03-09 16:00",
        [("0.t1", "escalated", ["dr-a"])],
    ),
    ("holiday does not count", ("2026-03-09",), "2026-03-06 16:00", "2026-03-09 16:00", []),
    (
        "the day after the holiday",
        ("2026-03-09",),
        "2026-03-06 16:00",
        "2026-03-10 16:00",
        [("0.t1", "escalated", ["dr-a"])],
    ),
    # spring forward on 2026-03-08: the threshold is 10:00 on the clinic's clocks
    ("DST: an hour early by UTC is still early", (), "2026-03-06 10:00", "2026-03-09 09:59", []),
    (
        "DST: due at the same wall-clock time",
        (),
        "2026-03-06 10:00",
        "2026-03-09 10:00",
        [("0.t1", "escalated", ["dr-a"])],
    ),
    # fall back on 2026-11-01
    ("DST fall back: early", (), "2026-10-30 10:00", "2026-11-02 09:59", []),
    (
        "DST fall back: due",
        (),
        "2026-10-30 10:00",
        "2026-11-02 10:00",
        [("0.t1", "escalated", ["dr-a"])],
    ),
    # opened after hours: the clock starts at the next opening, and a whole business day
    # later is the opening of the day after (not the close of the first day)
    (
        "opened in the evening",
        (),
        "2026-03-05 20:00",
        "2026-03-09 08:00",
        [("0.t1", "escalated", ["dr-a"])],
    ),
    ("opened in the evening: early", (), "2026-03-05 20:00", "2026-03-06 17:00", []),
    # a first sweep long after: only the highest tier reached is sent
    (
        "skips to the manager tier",
        (),
        "2026-03-02 09:00",
        "2026-03-05 09:00",
        [("0.t2", "escalated", ["dr-a", "mgr-a", "mgr-b"])],
    ),
    (
        "skips to the director tier",
        (),
        "2026-03-02 09:00",
        "2026-03-09 09:00",
        [("0.t3", "escalated", ["md-a"])],
    ),
]


@pytest.mark.parametrize(
    ("holidays", "opened", "now", "expected"),
    [c[1:] for c in FIRST_SWEEP_CASES],
    ids=[c[0] for c in FIRST_SWEEP_CASES],
)
def test_first_sweep(holidays: tuple[str, ...], opened: str, now: str, expected: list[Any]) -> None:
    config = practice(escalation=LADDER, holidays=list(holidays))
    assert steps(decide(config, item(local(opened)), now)) == expected


# (name, away: person → days, sweep (local), expected recipients with who they cover)
OUT_OF_OFFICE_CASES = [
    ("assignee in", {}, [("dr-a", None)]),
    ("assignee away: backup", {"dr-a": ["2026-03-06"]}, [("dr-b", "dr-a")]),
    (
        "backup away too: the chain",
        {"dr-a": ["2026-03-06"], "dr-b": ["2026-03-06"]},
        [("dr-c", "dr-a")],
    ),
    (
        "everyone on the chain away: the assignee, to read on return",
        {"dr-a": ["2026-03-06"], "dr-b": ["2026-03-06"], "dr-c": ["2026-03-06"]},
        [("dr-a", None)],
    ),
    ("away on another day only", {"dr-a": ["2026-03-05"]}, [("dr-a", None)]),
    (
        "away for a range",
        {"dr-a": [{"from": "2026-03-02", "to": "2026-03-13"}]},
        [("dr-b", "dr-a")],
    ),
]


@pytest.mark.parametrize(
    ("away", "expected"),
    [c[1:] for c in OUT_OF_OFFICE_CASES],
    ids=[c[0] for c in OUT_OF_OFFICE_CASES],
)
def test_out_of_office_people_are_skipped_for_their_backup(
    away: dict[str, list[Any]], expected: list[tuple[str, str | None]]
) -> None:
    config = practice(escalation=LADDER, away=away)
    decision = decide(config, item(local("2026-03-05 10:00")), "2026-03-06 10:00")
    [event] = decision.escalations
    assert [(r.person, r.covering) for r in event.recipients] == expected


def test_manager_away_hands_to_their_backup_and_duplicates_are_dropped() -> None:
    config = practice(escalation=LADDER, away={"mgr-a": [date(2026, 3, 5)]})
    decision = decide(config, item(local("2026-03-02 09:00")), "2026-03-05 09:00")
    [event] = decision.escalations
    # managers default to everyone with role manager: mgr-a (away → mgr-b) and mgr-b, once
    assert [(r.person, r.target, r.covering) for r in event.recipients] == [
        ("dr-a", "assignee", None),
        ("mgr-b", "manager", "mgr-a"),
    ]


def test_managers_per_role_from_config() -> None:
    ladder = {**LADDER, "managers": {"medical-assistant": ["mgr-b"]}}
    config = practice(escalation=ladder)
    opened = local("2026-03-02 09:00")
    ma_item = item(opened, assignee="ma-a", role="medical-assistant", category="pending-result")
    [event] = decide(config, ma_item, "2026-03-05 09:00").escalations
    assert [r.person for r in event.recipients] == ["ma-a", "mgr-b"]
    [event] = decide(config, item(opened), "2026-03-05 09:00").escalations
    assert [r.person for r in event.recipients] == ["dr-a", "mgr-a", "mgr-b"]


def sweep_days(
    config: Any, it: LadderItem, days: list[str], state: LadderState | None = None
) -> tuple[list[str], LadderState | None]:
    sent: list[str] = []
    for day in days:
        decision = decide(config, it, day, state)
        sent += [
            f"{e.step}:{','.join(r.person for r in e.recipients)}" for e in decision.escalations
        ]
        state = decision.state
    return sent, state


DAILY = [f"2026-03-{d:02d} 12:00" for d in range(3, 21)]


def test_daily_sweeps_walk_the_ladder_with_repeats() -> None:
    config = practice(escalation=LADDER, holidays=["2026-03-11"])
    sent, state = sweep_days(config, item(local("2026-03-02 12:00")), DAILY)
    assert sent == [
        "0.t1:dr-a",  # Tue 3rd: 1 business day
        "0.t1.r1:dr-a",  # Wed 4th: reminded again
        "0.t2:dr-a,mgr-a,mgr-b",  # Thu 5th: 3 business days
        "0.t3:md-a",  # Mon 9th: 5 business days
        "0.t3.r1:md-a",  # Tue 17th: 5 more business days (the 11th was a holiday)
    ]
    assert state is not None and state.level == 3 and state.repeats == 1
    assert state.next_at == local("2026-03-24 12:00") and state.next_step == "director again"


def test_repeats_missed_between_sweeps_are_not_sent_one_by_one() -> None:
    ladder = {
        "default": {
            "tiers": [
                {
                    "name": "reminder",
                    "after": "1 business day",
                    "notify": ["assignee"],
                    "repeat_every": "1 business day",
                },
            ],
            "delinquency": None,
        }
    }
    config = practice(escalation=ladder)
    sent, state = sweep_days(
        config, item(local("2026-03-02 12:00")), ["2026-03-03 12:00", "2026-03-06 12:00"]
    )
    assert sent == ["0.t1:dr-a", "0.t1.r3:dr-a"]
    assert state is not None and state.repeats == 3


def test_delinquent_once_counted_from_the_visit() -> None:
    config = practice(escalation=LADDER)
    opened = local("2026-03-02 12:00")
    it = item(opened, visit=local("2026-02-01 09:00"))
    early = decide(config, it, "2026-03-03 08:59")
    assert [e.kind for e in early.escalations] == []
    assert (
        early.state.next_at == local("2026-03-03 09:00") and early.state.next_step == "delinquent"
    )
    due = decide(config, it, "2026-03-03 09:00", early.state)
    assert steps(due) == [("0.delinquent", "delinquent", ["mgr-a", "mgr-b"])]
    later = decide(config, it, "2026-03-20 12:00", due.state)
    assert "delinquent" not in [e.kind for e in later.escalations]


def test_reassignment_keep_follows_the_original_clock_and_tells_the_new_assignee() -> None:
    config = practice(escalation=LADDER)
    opened = local("2026-03-02 12:00")
    _, state = sweep_days(config, item(opened), ["2026-03-03 12:00"])
    moved = item(opened, assignee="dr-b", assigned=local("2026-03-03 15:00"))
    sent, state = sweep_days(config, moved, ["2026-03-04 12:00", "2026-03-05 12:00"], state)
    assert sent == ["0.t1.r1:dr-b", "0.t2:dr-b,mgr-a,mgr-b"]
    assert state is not None and state.assignee == "dr-b" and state.epoch == 0


def test_reassignment_restart_counts_again_from_the_reassignment_and_keeps_the_level() -> None:
    ladder = {"default": {**LADDER["default"], "on_reassign": "restart"}}
    config = practice(escalation=ladder)
    opened = local("2026-03-02 12:00")
    _, state = sweep_days(config, item(opened), ["2026-03-03 12:00"])
    assert state is not None and state.level == 1
    moved = item(opened, assignee="dr-b", assigned=local("2026-03-03 15:00"))
    sent, state = sweep_days(
        config,
        moved,
        ["2026-03-04 12:00", "2026-03-04 15:00", "2026-03-05 12:00", "2026-03-06 15:00"],
        state,
    )
    # level stays 1; the new assignee is reminded one business day after taking over, and the
    # manager tier waits three business days from the reassignment (Fri 6th 15:00)
    assert sent == ["1.t1.r1:dr-b", "1.t2:dr-b,mgr-a,mgr-b"]
    assert state is not None and state.level == 2 and state.clock_start == local("2026-03-03 15:00")


def test_reopened_item_starts_a_new_spell() -> None:
    config = practice(escalation=LADDER)
    _, state = sweep_days(config, item(local("2026-03-02 12:00")), ["2026-03-05 12:00"])
    assert state is not None and state.level == 2
    reopened = item(local("2026-03-09 12:00"))
    decision = decide(config, reopened, "2026-03-09 12:00", state)
    assert decision.escalations == () and decision.state.level == 0 and decision.state.epoch == 1
    assert steps(decide(config, reopened, "2026-03-10 12:00", decision.state)) == [
        ("1.t1", "escalated", ["dr-a"])
    ]


def test_policy_by_category_and_documentation_field() -> None:
    quick = {
        "tiers": [{"name": "quick", "after": "2 business hours", "notify": ["clinician"]}],
        "delinquency": None,
    }
    slow = {
        "tiers": [{"name": "slow", "after": "10 business days", "notify": ["manager"]}],
        "delinquency": None,
    }
    forms = {
        "tiers": [{"name": "forms", "after": "1 business hour", "notify": ["assignee"]}],
        "delinquency": None,
    }
    config = practice(
        escalation={
            "categories": {"pending-result": slow, "documentation-gap": quick},
            "documentation_fields": {"diagnosis": slow, "forms": forms},
        }
    )
    policy = config.escalation.policy_for
    assert policy("pending-result", "ServiceRequest/1").tiers[0].name == "slow"
    assert policy("documentation-gap", "chief-complaint").tiers[0].name == "quick"
    assert policy("documentation-gap", "diagnosis").tiers[0].name == "slow"
    assert policy("documentation-gap", "form:http://example.org/q|1").tiers[0].name == "forms"
    assert policy("unsigned-note", "note").tiers[0].name == "reminder"  # the built-in default


def test_disabled_escalation_decides_nothing() -> None:
    from chartroute.escalate import escalate_items

    config = practice(escalation={**LADDER, "enabled": False})
    assert (
        escalate_items(
            [item(local("2026-03-02 12:00"))],
            {},
            config,
            clock_for(config),
            local("2026-04-01 12:00"),
        )
        == []
    )


def test_unassigned_item_still_climbs_and_reaches_the_manager() -> None:
    config = practice(escalation=LADDER)
    it = replace(item(local("2026-03-02 12:00")), assignee=None)
    first = decide(config, it, "2026-03-03 12:00")
    assert steps(first) == [("0.t1", "escalated", [])]  # recorded, nobody to tell yet
    assert steps(decide(config, it, "2026-03-05 12:00", first.state)) == [
        ("0.t2", "escalated", ["mgr-a", "mgr-b"])
    ]


TIERS = "escalation:\n  default:\n    tiers:\n"
CONFIG_ERRORS = [
    (
        TIERS + "      - {name: a, after: 2 weeks, notify: [assignee]}\n",
        "escalation.default.tiers.0.after",
        "not a duration",
    ),
    (
        TIERS + "      - {name: a, after: 3 business days, notify: [assignee]}\n"
        "      - {name: b, after: 2 business days, notify: [manager]}\n",
        "escalation.default.tiers.1.after",
        "not later than",
    ),
    (
        "escalation:\n  managers:\n    clinician: [nobody]\n",
        "escalation.managers.clinician.0",
        "not on the roster",
    ),
    (
        TIERS + "      - {name: a, after: 1 business day, notify: [boss]}\n",
        "escalation.default.tiers.0.notify.0",
        "",
    ),
]


@pytest.mark.parametrize(("yaml_tail", "field", "message"), CONFIG_ERRORS)
def test_bad_policy_names_the_file_line_and_field(yaml_tail: str, field: str, message: str) -> None:
    head = (
        "practice: {name: T, timezone: America/New_York}\n"
        "roster:\n  - {id: dr-a, name: A, roles: [clinician]}\n"
        "  - {id: ma-a, name: B, roles: [medical-assistant]}\n"
        "  - {id: rc-a, name: C, roles: [referral-coordinator]}\n"
        "  - {id: fd-a, name: D, roles: [front-desk]}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config_text(head + yaml_tail, "practice.yaml")
    [problem] = caught.value.problems
    assert problem.field == field
    assert message in problem.message
    assert problem.line is not None and problem.line > 6


def test_the_documented_example_policy_is_valid() -> None:
    """docs/escalation.md's example loads against the example practice's roster."""
    import re

    import yaml

    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "escalation.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert example is not None
    practice_yaml = yaml.safe_load((ROOT / "config" / "practice.yaml").read_text())
    practice_yaml.update(yaml.safe_load(example[1]))
    config = load_config_text(yaml.safe_dump(practice_yaml), "example")
    referral = config.escalation.policy_for("awaiting-referral-auth", "ServiceRequest/1")
    assert [t.name for t in referral.tiers] == ["chase", "manager"]
    assert config.escalation.managers == {"medical-assistant": ["mgr-harper"]}
