"""Enqueue in the work item transaction, dedupe, and composing digests and urgent messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select

from chartroute.config import PracticeConfig, load_config
from chartroute.notify.content import MessageContent
from chartroute.notify.digest import compose
from chartroute.notify.outbox import Notice, enqueue
from chartroute.store import facts as fact_store
from chartroute.store.schema import notification, outbox_message, work_item
from tests import builders as b
from tests.notify.conftest import (
    AS_OF,
    all_channels,
    chart_resources,
    notify_section,
    run_sync,
    write_config,
)


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def notifications(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(notification).order_by(notification.c.id)))


def messages(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox_message).order_by(outbox_message.c.id)))


def config_with(tmp_path: Path, **notify: Any) -> PracticeConfig:
    return load_config(write_config(tmp_path, notify_section(all_channels(tmp_path), **notify)))


def test_sync_enqueues_each_transition_once(
    engine: Engine, tmp_path: Path, file_config: PracticeConfig
) -> None:
    b.write_ndjson(tmp_path / "src", chart_resources("e", 4))
    counts = run_sync(engine, file_config, tmp_path / "src")
    rows = notifications(engine)
    with engine.connect() as conn:
        items = {r.id: r.assignee for r in conn.execute(select(work_item))}
    assert counts.opened == len(items) == 8  # an unsigned note and a pending lab per chart
    assert counts.notifications == len(rows) == 8
    assert {(r.work_item_id, r.recipient, r.event, r.channel) for r in rows} == {
        (i, a, "opened", "file") for i, a in items.items()
    }
    again = run_sync(engine, file_config, tmp_path / "src")
    assert again.notifications == 0 and count(engine, notification) == 8


def test_notifications_roll_back_with_the_work_item_change(
    engine: Engine, tmp_path: Path, file_config: PracticeConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    b.write_ndjson(tmp_path / "src", chart_resources("e", 2))

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("crash after the batch was written, before its commit")

    monkeypatch.setattr(fact_store, "clear_dirty", crash)
    with pytest.raises(RuntimeError):
        run_sync(engine, file_config, tmp_path / "src")
    assert count(engine, work_item) == 0 and count(engine, notification) == 0
    monkeypatch.undo()
    from chartroute import sync

    done = sync.classify_pending(engine, file_config, AS_OF)
    assert done.opened == 4 and count(engine, notification) == 4


def test_enqueue_twice_stores_once_and_skips_people_without_an_address(
    engine: Engine, tmp_path: Path, smtp_config_factory: Any
) -> None:
    config = smtp_config_factory(tmp_path)
    notices = [
        Notice("wi-x", "escalated", "level-1", "dr-avery", urgent=True),
        Notice("wi-x", "escalated", "level-1", "nobody-on-roster"),
        Notice("wi-x", "escalated", "level-2", "dr-avery", urgent=True),
    ]
    with engine.begin() as conn:
        assert enqueue(conn, config, notices, AS_OF) == 4  # two levels, on file and email
    with engine.begin() as conn:
        assert enqueue(conn, config, notices, AS_OF) == 0
    with engine.begin() as conn:  # dr-blake has no slack id: only the file channel reaches him
        assert enqueue(conn, config, [Notice("wi-y", "opened", "e:1", "dr-blake")], AS_OF) == 2
    assert {r.channel for r in notifications(engine) if r.recipient == "dr-blake"} == {
        "file",
        "email",
    }


@pytest.fixture
def smtp_config_factory() -> Any:
    def make(folder: Path) -> PracticeConfig:
        channels = all_channels(folder)
        channels["email"] = {"type": "smtp", "host": "127.0.0.1", "from": "cr@example.org"}
        channels["slack"] = {"type": "slack", "token": {"env": "CR_TEST_SLACK_TOKEN"}}
        section = notify_section(channels)
        section["recipients"] = {"dr-avery": ["file", "email"]}
        section["default_channels"] = ["file", "email", "slack"]
        return load_config(write_config(folder, section))

    return make


def test_reassignment_tells_both_people_and_closure_tells_the_assignee(
    engine: Engine, tmp_path: Path, file_config: PracticeConfig
) -> None:
    b.write_ndjson(tmp_path / "src", [b.encounter("e1")])  # dr-avery's chart, note unsigned
    run_sync(engine, file_config, tmp_path / "src")
    data = yaml.safe_load((tmp_path / "practice.yaml").read_text())
    avery = next(p for p in data["roster"] if p["id"] == "dr-avery")
    avery["out_of_office"] = [{"from": "2026-03-09", "to": "2026-03-13"}]
    (tmp_path / "away").mkdir()
    (tmp_path / "away" / "practice.yaml").write_text(yaml.safe_dump(data))
    away = load_config(tmp_path / "away" / "practice.yaml")
    run_sync(engine, away, tmp_path / "src")
    b.write_ndjson(tmp_path / "src", [b.encounter("e1"), b.note("n1")])
    run_sync(engine, away, tmp_path / "src")
    events = [(r.event, r.recipient) for r in notifications(engine)]
    assert events == [
        ("opened", "dr-avery"),
        ("reassigned", "dr-blake"),
        ("reassigned-away", "dr-avery"),
        ("closed", "dr-blake"),
    ]


def test_one_digest_per_person_and_channel_per_run(engine: Engine, tmp_path: Path) -> None:
    config = config_with(tmp_path, digest_top_items=2)
    b.write_ndjson(tmp_path / "src", chart_resources("e", 6))
    run_sync(engine, config, tmp_path / "src")
    composed = compose(engine, config, AS_OF)
    people = {r.recipient for r in notifications(engine)}
    assert composed.digests == len(people) and composed.immediate == 0
    assert composed.notifications == count(engine, notification) == 12
    rows = messages(engine)
    assert sorted(r.recipient for r in rows) == sorted(people)
    for row in rows:
        content = MessageContent.from_json(row.content)
        mine = [n for n in notifications(engine) if n.message_id == row.id]
        assert content.counts == {"new": len(mine)}
        assert sum(content.by_category.values()) == len(mine)
        assert len(content.items) == min(2, len(mine)) and content.more == len(mine) - len(
            content.items
        )
        ages = [i.age_days or 0 for i in content.items]
        assert ages == sorted(ages, reverse=True)  # oldest visit first
        assert all(i.link and i.link.endswith(i.encounter.split("/")[1]) for i in content.items)
    assert compose(engine, config, AS_OF).digests == 0  # nothing left waiting
    b.write_ndjson(tmp_path / "src", chart_resources("e", 6) + chart_resources("f", 1))
    run_sync(engine, config, tmp_path / "src")
    again = compose(engine, config, AS_OF)
    assert again.digests == 2 and again.notifications == 2  # dr-avery and her MA


def test_urgent_rules_send_the_run_at_once_in_one_message_per_person(
    engine: Engine, tmp_path: Path
) -> None:
    """Urgency decides when a person's message goes, not how many they get."""
    config = config_with(tmp_path, urgent=[{"categories": ["pending-result"], "min_age_days": 5}])
    b.write_ndjson(tmp_path / "src", chart_resources("e", 6))
    run_sync(engine, config, tmp_path / "src")
    urgent = [r for r in notifications(engine) if r.urgent]
    with engine.connect() as conn:
        items = {r.id: r for r in conn.execute(select(work_item))}
    assert urgent and all(items[r.work_item_id].category == "pending-result" for r in urgent)
    assert all((AS_OF - items[r.work_item_id].visit_at).days >= 5 for r in urgent)
    assert any(
        i.category == "pending-result" and (AS_OF - i.visit_at).days < 5 for i in items.values()
    )
    composed = compose(engine, config, AS_OF)
    sent = messages(engine)
    assert len(sent) == len({(r.recipient, r.channel) for r in sent}) == composed.digests
    assert composed.notifications == len(notifications(engine))
    with_urgent = {(r.recipient, r.channel) for r in notifications(engine) if r.urgent}
    for message in sent:
        assert message.urgent is ((message.recipient, message.channel) in with_urgent)
        if message.urgent:  # the urgent items lead the message
            content = MessageContent.from_json(message.content)
            assert content.items[0].urgent and content.headline.startswith("chartroute: urgent")


def test_quiet_hours_hold_messages_until_the_clinic_opens(engine: Engine, tmp_path: Path) -> None:
    channels = all_channels(tmp_path)
    channels["file"]["quiet_hours"] = True
    path = write_config(tmp_path, notify_section(channels), timezone="America/New_York")
    data = yaml.safe_load(path.read_text())
    data["practice"]["calendar"] = {"hours": {"mon": "08:00-17:00", "tue": "08:00-17:00"}}
    path.write_text(yaml.safe_dump(data))
    config = load_config(path)
    b.write_ndjson(tmp_path / "src", chart_resources("e", 2))
    run_sync(engine, config, tmp_path / "src")
    night = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)  # Monday 19:30 in New York
    held = compose(engine, config, night)
    assert (held.digests, held.held) == (0, 4)
    b.write_ndjson(tmp_path / "src", chart_resources("e", 2) + chart_resources("f", 1))
    run_sync(engine, config, tmp_path / "src", as_of=night)
    assert compose(engine, config, night + timedelta(hours=8)).held == 6  # Tuesday 03:30
    opening = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # Tuesday 08:00 in New York
    done = compose(engine, config, opening)
    assert done.held == 0 and done.notifications == 6
    assert done.digests == len({r.recipient for r in notifications(engine)})
