"""Routing: clinical items follow the clinician; staff items go to the pod, else the least
loaded; out-of-office hands over to the backup; priority orders by age, money, deadline."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import yaml

from chartroute.classify import Blocker, ChartVerdict
from chartroute.config import PracticeConfig, load_config_text
from chartroute.route import Router, WorkItem, priority_key, work_item_id

AS_OF = datetime(2026, 3, 10, 12, tzinfo=UTC)


def practice(roster: list[dict], **sections: object) -> PracticeConfig:
    doc = {"practice": {"name": "Test", "timezone": "UTC"}, "roster": roster, **sections}
    return load_config_text(yaml.safe_dump(doc))


BASE = [
    {
        "id": "dr-a",
        "name": "A",
        "roles": ["clinician"],
        "practitioner": "Practitioner/a",
        "backup": "dr-b",
    },
    {"id": "dr-b", "name": "B", "roles": ["clinician"], "practitioner": "Practitioner/b"},
    {
        "id": "ma-1",
        "name": "MA One",
        "roles": ["medical-assistant"],
        "pod": ["dr-a"],
        "daily_capacity": 10,
    },
    {
        "id": "ma-2",
        "name": "MA Two",
        "roles": ["medical-assistant"],
        "daily_capacity": 10,
        "backup": "ma-3",
    },
    {"id": "ma-3", "name": "MA Three", "roles": ["medical-assistant"], "daily_capacity": 20},
    {"id": "rc", "name": "RC", "roles": ["referral-coordinator"]},
    {"id": "fd", "name": "FD", "roles": ["front-desk"]},
]


def verdict(
    enc: str = "Encounter/e1",
    clinician: str | None = "Practitioner/a",
    *blockers: Blocker,
    visit: datetime | None = None,
    level: str | None = None,
    total: float | None = None,
) -> ChartVerdict:
    return ChartVerdict(
        encounter=enc,
        is_chart=True,
        not_chart_reason=None,
        blockers=blockers
        or (Blocker("pending-result", "ServiceRequest/s1", ("ServiceRequest/s1",), "x"),),
        rendering_clinician=clinician,
        visit_at=visit or datetime(2026, 3, 2, tzinfo=UTC),
        level_of_service=level,
        claim_total=total,
        insurer=None,
    )


NOTE = Blocker("unsigned-note", "note", ("Encounter/e1",), "x")
RESULT = Blocker("pending-result", "ServiceRequest/s1", ("ServiceRequest/s1",), "x")


def test_clinical_items_go_to_the_rendering_clinician() -> None:
    (item,) = Router(practice(BASE), AS_OF).route(verdict("Encounter/e1", "Practitioner/b", NOTE))
    assert (item.role, item.assignee) == ("clinician", "dr-b")


def test_unknown_clinician_leaves_clinical_item_unassigned() -> None:
    (item,) = Router(practice(BASE), AS_OF).route(verdict("Encounter/e1", "Practitioner/zz", NOTE))
    assert item.assignee is None and item.role == "clinician"


def test_staff_item_goes_to_the_pod_member() -> None:
    (item,) = Router(practice(BASE), AS_OF, {"ma-1": 9}).route(verdict())
    assert (item.assignee, item.reason) == ("ma-1", "pod")


def test_a_full_pod_member_overflows_to_the_least_loaded_with_room() -> None:
    (item,) = Router(practice(BASE), AS_OF, {"ma-1": 10, "ma-2": 5}).route(verdict())
    assert (item.assignee, item.reason) == ("ma-3", "overflow")  # 0/20 < 5/10; ma-1 at 10/10


def test_strict_pods_keep_todays_rule() -> None:
    strict = practice(BASE, routing={"overflow": "none"})
    (item,) = Router(strict, AS_OF, {"ma-1": 50}).route(verdict())
    assert (item.assignee, item.reason) == ("ma-1", "pod")


def test_when_everyone_is_full_the_shortest_queue_takes_it() -> None:
    full = {"ma-1": 15, "ma-2": 10, "ma-3": 20}  # 1.5, 1 and 1 days of capacity
    (item,) = Router(practice(BASE), AS_OF, full).route(verdict())
    assert (item.assignee, item.reason) == ("ma-3", "overflow")
    evenly = {"ma-1": 10, "ma-2": 10, "ma-3": 20}
    (item,) = Router(practice(BASE), AS_OF, evenly).route(verdict())
    assert (item.assignee, item.reason) == ("ma-1", "pod")  # a tie: the pod member


def test_overflow_after_days_scales_the_reach() -> None:
    two_days = practice(BASE, routing={"overflow_after_days": 2})
    (item,) = Router(two_days, AS_OF, {"ma-1": 15}).route(verdict())
    assert (item.assignee, item.reason) == ("ma-1", "pod")  # 15 < 2 x 10


def test_routing_reason_names_the_rule() -> None:
    router = Router(practice(BASE), AS_OF)
    (note,) = router.route(verdict("Encounter/e1", "Practitioner/a", NOTE))
    (staff,) = router.route(verdict("Encounter/e2", "Practitioner/b"))
    (nobody,) = router.route(verdict("Encounter/e3", "Practitioner/zz", NOTE))
    assert [note.reason, staff.reason, nobody.reason] == ["clinician", "least-loaded", "unassigned"]
    away = [dict(BASE[0], out_of_office=["2026-03-10"]), *BASE[1:]]
    away_router = Router(practice(away), AS_OF)
    (covered,) = away_router.route(verdict("Encounter/e1", "Practitioner/a", NOTE))
    assert (covered.assignee, covered.reason) == ("dr-b", "cover")
    item_id = work_item_id("Encounter/e1", "pending-result", "ServiceRequest/s1")
    (kept,) = router.route(verdict(clinician="Practitioner/b"), {item_id: "ma-3"})
    assert (kept.assignee, kept.reason) == ("ma-3", "holder")


def test_today_is_the_practices_day_not_utcs() -> None:
    """02:00 UTC on the 11th is still the 10th in New York: someone away on the 10th is away."""
    roster = [dict(BASE[0], out_of_office=["2026-03-10"]), *BASE[1:]]
    late = datetime(2026, 3, 11, 2, tzinfo=UTC)
    in_utc = practice(roster)
    new_york = load_config_text(
        yaml.safe_dump(
            {"practice": {"name": "T", "timezone": "America/New_York"}, "roster": roster}
        )
    )
    chart = verdict("Encounter/e1", "Practitioner/a", NOTE)
    assert Router(in_utc, late).route(chart)[0].assignee == "dr-a"
    assert Router(new_york, late).route(chart)[0].assignee == "dr-b"


def test_without_pod_the_least_loaded_by_capacity() -> None:
    router = Router(practice(BASE), AS_OF, {"ma-1": 0, "ma-2": 5, "ma-3": 6})
    (item,) = router.route(verdict(clinician="Practitioner/b"))
    # ma-1 has 0/10 but ma-1 is in the pod of dr-a only... still in the role pool: least loaded wins
    assert item.assignee == "ma-1"
    router = Router(practice(BASE), AS_OF, {"ma-1": 9, "ma-2": 5, "ma-3": 6})
    (item,) = router.route(verdict(clinician="Practitioner/b"))
    assert item.assignee == "ma-3"  # 6/20 < 5/10 < 9/10


def test_ties_broken_by_name() -> None:
    roster = [
        *BASE[:2],
        {"id": "x", "name": "Zed", "roles": ["medical-assistant"]},
        {"id": "y", "name": "Amy", "roles": ["medical-assistant"]},
        *BASE[5:],
    ]
    (item,) = Router(practice(roster), AS_OF).route(verdict(clinician="Practitioner/b"))
    assert item.assignee == "y"


def test_load_balances_within_one_run() -> None:
    router = Router(practice(BASE), AS_OF, {"ma-1": 100})
    assignees = [
        router.route(verdict(f"Encounter/e{i}", "Practitioner/b"))[0].assignee for i in range(6)
    ]
    assert assignees.count("ma-3") == 4 and assignees.count("ma-2") == 2


def test_out_of_office_goes_to_backup() -> None:
    roster = [dict(BASE[0], out_of_office=["2026-03-10"]), *BASE[1:]]
    (item,) = Router(practice(roster), AS_OF).route(verdict("Encounter/e1", "Practitioner/a", NOTE))
    assert item.assignee == "dr-b"


def test_out_of_office_range_and_pod_member_away() -> None:
    roster = [
        *BASE[:2],
        dict(BASE[2], out_of_office=[{"from": "2026-03-09", "to": "2026-03-13"}], backup="ma-2"),
        *BASE[3:],
    ]
    (item,) = Router(practice(roster), AS_OF).route(verdict())
    assert item.assignee in {"ma-2", "ma-3"}


def test_back_from_leave_gets_the_item_again() -> None:
    roster = [dict(BASE[0], out_of_office=["2026-03-09"]), *BASE[1:]]
    (item,) = Router(practice(roster), AS_OF).route(verdict("Encounter/e1", "Practitioner/a", NOTE))
    assert item.assignee == "dr-a"


def test_staff_items_stay_with_their_holder() -> None:
    router = Router(practice(BASE), AS_OF, {"ma-3": 100})
    item_id = work_item_id("Encounter/e1", "pending-result", "ServiceRequest/s1")
    (item,) = router.route(verdict(clinician="Practitioner/b"), {item_id: "ma-3"})
    assert item.assignee == "ma-3"


def test_holder_away_hands_over() -> None:
    roster = [*BASE[:4], dict(BASE[4], out_of_office=["2026-03-10"]), *BASE[5:]]
    item_id = work_item_id("Encounter/e1", "pending-result", "ServiceRequest/s1")
    (item,) = Router(practice(roster), AS_OF).route(
        verdict(clinician="Practitioner/b"), {item_id: "ma-3"}
    )
    assert item.assignee != "ma-3"


def test_zero_capacity_takes_no_staff_items() -> None:
    roster = [*BASE[:2], *(dict(p, daily_capacity=0) for p in BASE[2:5]), *BASE[5:]]
    item_id = work_item_id("Encounter/e1", "pending-result", "ServiceRequest/s1")
    (item,) = Router(practice(roster), AS_OF).route(verdict(), {item_id: "ma-1"})
    assert item.assignee is None and item.role == "medical-assistant"
    roster[3] = dict(BASE[3], daily_capacity=5)
    (item,) = Router(practice(roster), AS_OF).route(verdict(), {item_id: "ma-1"})
    assert item.assignee == "ma-2"


def test_zero_capacity_clinician_still_gets_their_clinical_items() -> None:
    roster = [dict(BASE[0], daily_capacity=0), *BASE[1:]]
    (item,) = Router(practice(roster), AS_OF).route(verdict("Encounter/e1", "Practitioner/a", NOTE))
    assert item.assignee == "dr-a"


def test_documentation_gap_routed_per_field() -> None:
    gaps = [
        Blocker("documentation-gap", f, ("Encounter/e1",), "x")
        for f in ("chief-complaint", "diagnosis", "rendering-clinician", "form:http://q")
    ]
    items = Router(practice(BASE), AS_OF).route(verdict("Encounter/e1", "Practitioner/a", *gaps))
    assert {i.subject: i.role for i in items} == {
        "chief-complaint": "medical-assistant",
        "diagnosis": "clinician",
        "rendering-clinician": "front-desk",
        "form:http://q": "medical-assistant",
    }


def test_work_item_ids_are_deterministic_and_distinct() -> None:
    a = work_item_id("Encounter/e1", "pending-result", "ServiceRequest/s1")
    assert a == work_item_id("Encounter/e1", "pending-result", "ServiceRequest/s1")
    assert a != work_item_id("Encounter/e1", "pending-result", "ServiceRequest/s2")
    assert a != work_item_id("Encounter/e2", "pending-result", "ServiceRequest/s1")


def _item(i: str, visit: datetime, billing: float | None, deadline: date | None) -> WorkItem:
    return WorkItem(
        i,
        "Encounter/e",
        "unsigned-note",
        "note",
        "clinician",
        "dr-a",
        (),
        "",
        visit,
        billing,
        deadline,
        "dr-a",
    )


def test_priority_age_then_billing_then_deadline() -> None:
    old = datetime(2026, 3, 1, tzinfo=UTC)
    new = datetime(2026, 3, 5, tzinfo=UTC)
    items = [
        _item("a", new, 500.0, date(2026, 4, 1)),
        _item("b", old, 50.0, date(2026, 6, 1)),
        _item("c", old, 150.0, date(2026, 6, 1)),
        _item("d", old, 150.0, date(2026, 5, 1)),
    ]
    assert [i.id for i in sorted(items, key=priority_key)] == ["d", "c", "b", "a"]


def test_billing_impact_from_fee_schedule_or_claim_total() -> None:
    config = practice(
        BASE, billing={"fee_schedule": {"99214": 135.0}, "default_timely_filing_days": 30}
    )
    router = Router(config, AS_OF)
    (item,) = router.route(
        verdict("Encounter/e1", "Practitioner/a", NOTE, level="99214", total=99.0)
    )
    assert item.billing_impact == 135.0
    assert item.filing_deadline == date(2026, 4, 1)
    (item,) = router.route(verdict("Encounter/e2", "Practitioner/a", NOTE, level=None, total=99.0))
    assert item.billing_impact == 99.0


def test_work_that_can_be_done_now_ranks_before_work_waiting_on_the_outside_world() -> None:
    old = datetime(2026, 3, 1, tzinfo=UTC)
    new = datetime(2026, 3, 5, tzinfo=UTC)
    waiting = replace(_item("a", old, 500.0, None), waiting=True)
    ready = _item("b", new, 50.0, None)
    assert [i.id for i in sorted([waiting, ready], key=priority_key)] == ["b", "a"]
    result_in = Blocker("pending-result", "ServiceRequest/s1", ("ServiceRequest/s1", "x"), "x")
    no_result = Blocker("pending-result", "ServiceRequest/s1", ("ServiceRequest/s1",), "x", True)
    router = Router(practice(BASE), AS_OF)
    assert router.route(verdict("Encounter/e1", "Practitioner/a", result_in))[0].waiting is False
    assert router.route(verdict("Encounter/e2", "Practitioner/a", no_result))[0].waiting is True
