"""Out-of-office cover has one answer, the router's: routing places items by it and escalation
sends notices by it, so an item and the notices about it reach the same person."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.config import PracticeConfig, load_config_text
from chartroute.escalate import Directory, LadderItem
from chartroute.route import Router
from chartroute.vocabulary import Category, Role

AS_OF = datetime(2026, 3, 10, 12, tzinfo=UTC)
TODAY = AS_OF.date()
PEOPLE = ["dr-a", "dr-b", "dr-c", "dr-d"]


def practice(away: dict[str, list[str]], backups: dict[str, str]) -> PracticeConfig:
    roster: list[dict[str, Any]] = [
        {
            "id": pid,
            "name": pid.upper(),
            "roles": ["clinician"],
            "practitioner": f"Practitioner/{pid}",
            **({"out_of_office": away[pid]} if pid in away else {}),
            **({"backup": backups[pid]} if pid in backups else {}),
        }
        for pid in PEOPLE
    ]
    roster += [
        {"id": "ma", "name": "MA", "roles": ["medical-assistant"]},
        {"id": "rc", "name": "RC", "roles": ["referral-coordinator"]},
        {"id": "fd", "name": "FD", "roles": ["front-desk"]},
    ]
    doc = {"practice": {"name": "Test", "timezone": "UTC"}, "roster": roster}
    return load_config_text(yaml.safe_dump(doc))


CHAIN = {"dr-a": "dr-b", "dr-b": "dr-c"}


def test_cover_follows_the_chain_to_the_first_person_in() -> None:
    router = Router(practice({"dr-a": ["2026-03-10"], "dr-b": ["2026-03-10"]}, CHAIN), AS_OF)
    assert router.cover("dr-a") == "dr-c"
    assert router.cover("dr-b") == "dr-c"
    assert router.cover("dr-c") == "dr-c"


def test_cover_is_for_the_day_asked() -> None:
    router = Router(practice({"dr-a": ["2026-03-11"]}, CHAIN), AS_OF)
    assert router.cover("dr-a") == "dr-a"
    assert router.cover("dr-a", date(2026, 3, 11)) == "dr-b"


def test_everyone_on_the_chain_away_leaves_the_person_themself() -> None:
    away = {pid: ["2026-03-10"] for pid in ("dr-a", "dr-b", "dr-c")}
    router = Router(practice(away, CHAIN), AS_OF)
    assert router.cover("dr-a") == "dr-a"


def test_a_chain_that_loops_back_leaves_the_person_themself() -> None:
    away = {"dr-a": ["2026-03-10"], "dr-b": ["2026-03-10"]}
    router = Router(practice(away, {"dr-a": "dr-b", "dr-b": "dr-a"}), AS_OF)
    assert router.cover("dr-a") == "dr-a"
    assert router.cover("dr-b") == "dr-b"


def test_someone_no_longer_on_the_roster_covers_themself() -> None:
    # escalation meets stored assignees who have since left the roster
    router = Router(practice({}, CHAIN), AS_OF)
    assert router.cover("left-last-year") == "left-last-year"


@st.composite
def rosters(draw: st.DrawFn) -> PracticeConfig:
    away = {pid: ["2026-03-10"] for pid in PEOPLE if draw(st.booleans())}
    backups = {}
    for pid in PEOPLE:
        backup = draw(st.sampled_from([None, *PEOPLE]))
        if backup is not None and backup != pid:
            backups[pid] = backup
    return practice(away, backups)


@settings(max_examples=150, deadline=None)
@given(config=rosters(), holder=st.sampled_from(PEOPLE))
def test_routing_and_escalation_agree_on_who_covers(config: PracticeConfig, holder: str) -> None:
    router = Router(config, AS_OF)
    clinician = config.person(holder)
    routed_to = router.assign(Role.CLINICIAN, clinician, None)
    item = LadderItem(
        "wi-1", Category.UNSIGNED_NOTE, "note", Role.CLINICIAN, holder, holder, None, AS_OF, AS_OF
    )
    told = Directory(router).recipients(["assignee"], item, TODAY)
    assert [r.person for r in told] == [routed_to]
    assert routed_to == router.cover(holder)
