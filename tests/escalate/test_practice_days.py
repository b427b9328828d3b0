"""A generated practice advanced day by day (the clock injected): the outbox holds the notices
an independent reading of the policy expects, no more and no fewer.

Each simulated day at 10:00 clinic time the EHR is regenerated as it stood then, synced, and
swept. The expectation below is computed from the work item audit trail (when each item was
open, who held it) with its own small business-day counter, not with chartroute's clock.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from chartroute import sync as sync_stage
from chartroute.config import load_config
from chartroute.config.models import PracticeConfig
from chartroute.generate import GeneratorProfile, generate_practice
from chartroute.sources import open_source
from chartroute.store.schema import notification, work_item, work_item_event
from chartroute.sweep import run_sweep

pytestmark = pytest.mark.slow

TZ = ZoneInfo("America/New_York")
FIRST = date(2026, 3, 2)  # Monday; DST starts Sunday 2026-03-08
DAYS = 24  # through Wednesday 2026-03-25
HOLIDAY = date(2026, 3, 16)
AWAY = (date(2026, 3, 11), date(2026, 3, 13))  # clin-001 away: routing hands items to clin-002
DIRECTOR_AWAY = (date(2026, 3, 17), date(2026, 3, 19))  # the director's notices go to mgr-001
POLICY: dict[str, Any] = {
    "default": {
        "tiers": [
            {"name": "reminder", "after": "1 business day", "notify": ["assignee"]},
            {"name": "manager", "after": "3 business days", "notify": ["manager"]},
            {
                "name": "director",
                "after": "5 business days",
                "notify": ["medical-director", "assignee"],
                "repeat_every": "2 business days",
            },
        ],
        "delinquency": {"after": "10 days", "notify": ["manager"]},
    }
}


def sweep_instant(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=TZ).astimezone(UTC)


def practice_config(base: PracticeConfig) -> PracticeConfig:
    data = base.model_dump(mode="json", by_alias=True)
    data["practice"]["calendar"] = {"holidays": [HOLIDAY.isoformat()]}
    for person in data["roster"]:
        if person["id"] == "clin-001":
            person["out_of_office"] = [{"from": AWAY[0].isoformat(), "to": AWAY[1].isoformat()}]
        if "medical-director" in person["roles"]:
            person["out_of_office"] = [
                {"from": DIRECTOR_AWAY[0].isoformat(), "to": DIRECTOR_AWAY[1].isoformat()}
            ]
            person["backup"] = "mgr-001"
    data["escalation"] = POLICY
    return PracticeConfig.model_validate(data)


def is_open_day(day: date) -> bool:
    return day.weekday() < 5 and day != HOLIDAY


def open_days_after(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= is_open_day(day)
    return day


def cover(config: PracticeConfig, person: str, day: date) -> str:
    people = {p.id: p for p in config.roster}
    seen, current = {person}, person
    while people[current].is_away(day) and people[current].backup not in (None, *seen):
        current = people[current].backup  # type: ignore[assignment]
        seen.add(current)
    return current if not people[current].is_away(day) else person


def expected_notices(
    engine: Engine, config: PracticeConfig, days: list[date]
) -> set[tuple[str, str, str]]:
    """(item, step, recipient) the policy calls for, from the audit trail of the work items."""
    with engine.connect() as conn:
        events = conn.execute(select(work_item_event).order_by(work_item_event.c.id)).all()
        visits = dict(conn.execute(select(work_item.c.id, work_item.c.visit_at)).all())
    history: dict[str, list[Any]] = defaultdict(list)
    for e in events:
        history[e.work_item_id].append(e)
    managers = sorted(p.id for p in config.roster if "manager" in p.roles)
    directors = sorted(p.id for p in config.roster if "medical-director" in p.roles)
    expected: set[tuple[str, str, str]] = set()
    for item_id, item_events in history.items():
        epoch, level, repeats, delinquent = -1, 0, 0, False
        spell_start: datetime | None = None
        for day in days:
            now = sweep_instant(day)
            state = [e for e in item_events if e.at <= now]  # the item as this sweep sees it
            if not state:
                continue
            last_spell = max(
                (e for e in state if e.event in ("opened", "reopened")), key=lambda e: e.at
            )
            open_ = state[-1].event != "closed"
            assignee = state[-1].assignee
            if not open_:
                continue
            if last_spell.at != spell_start:  # a new open spell: the ladder starts again
                epoch, level, repeats, delinquent = epoch + 1, 0, 0, False
            spell_start = start = last_spell.at
            opened_day = start.astimezone(TZ).date()
            base = (
                opened_day
                if is_open_day(opened_day) and start.astimezone(TZ).time() < time(17)
                else open_days_after(opened_day, 1)
            )
            tier_days = [open_days_after(base, n) for n in (1, 3, 5)]
            reached = sum(1 for d in tier_days if d <= day)
            people: list[str] = []
            if reached > level:
                level = reached
                step = f"{epoch}.t{level}"
                targets = [
                    [assignee] if assignee else [],
                    managers,
                    directors + ([assignee] if assignee else []),
                ][level - 1]
                people = targets
                if level == 3:  # the director tier repeats every 2 business days from its day
                    repeats = 0
            elif level == 3:
                n, d = 0, tier_days[2]
                while open_days_after(d, 2) <= day:
                    d, n = open_days_after(d, 2), n + 1
                if n > repeats:
                    repeats = n
                    step = f"{epoch}.t3.r{n}"
                    people = directors + ([assignee] if assignee else [])
            for person in people:
                expected.add((item_id, step, cover(config, person, day)))
            visit = visits.get(item_id) or start
            if (
                not delinquent
                and (visit.astimezone(TZ) + timedelta(days=10)).astimezone(UTC) <= now
            ):
                delinquent = True
                for person in managers:
                    expected.add((item_id, f"{epoch}.delinquent", cover(config, person, day)))
    return expected


def test_a_practice_swept_daily_gets_the_expected_notices(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sqlite_engine
    days = [FIRST + timedelta(days=i) for i in range(DAYS)]
    config: PracticeConfig | None = None
    for day in days:
        now = sweep_instant(day)
        folder = tmp_path / "ehr"
        profile = GeneratorProfile(providers=2, days=12, seed=7, start=FIRST, as_of=now)
        generate_practice(folder, profile)
        if config is None:
            config = practice_config(load_config(folder / "practice.yaml"))
        monkeypatch.setattr(sync_stage, "utcnow", lambda now=now: now)
        source = open_source(str(folder))
        plan = sync_stage.plan_sync(engine, source, now)
        for partition in plan.partitions:
            sync_stage.ingest_partition(engine, source, partition)
        sync_stage.commit_cursors(engine, plan)
        sync_stage.classify_pending(engine, config, now, plan.run_id)
        run_sweep(engine, config, now, f"sweep-{day}")
        run_sweep(engine, config, now, f"again-{day}")  # a rerun at the same instant: nothing new
    assert config is not None
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                notification.c.work_item_id,
                notification.c.occurrence,
                notification.c.recipient,
                notification.c.run_id,
            ).where(notification.c.event == "escalated")
        ).all()
    got = {(r[0], r[1], r[2]) for r in rows}
    assert not [r for r in rows if r[3].startswith("again-")]
    assert len(rows) == len(got)  # one channel (file): one row per notice
    expected = expected_notices(engine, config, days)
    assert got == expected
    kinds = {step.split(".", 1)[1].split(".")[0] for _, step, _ in got}
    # the run exercised every rung, repeats and delinquency, and cover for the absent clinician
    assert {"t1", "t2", "t3", "delinquent"} <= kinds
    assert any(".r" in step for _, step, _ in got)
    directors = {p.id for p in config.roster if "medical-director" in p.roles}
    assert any(person == "mgr-001" and ".t3" in step for (_, step, person) in got)
    assert any(person in directors and ".t3" in step for (_, step, person) in got)
