"""A first sweep over an old backlog sends each person one digest, not a message per item.

The defect: the first sweep over a backlog that predated go-live sent 270 one-item
"immediate" messages each to the manager and the medical director. Escalations to one person
in one sweep are one message whatever their urgency, with counts by category and age, the
oldest items and their links; every notification is in exactly one message; in shadow mode
the message stays ``shadow``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from chartroute.notify.content import MessageContent
from chartroute.notify.digest import compose
from chartroute.notify.render import text
from chartroute.store.schema import notification, outbox_message
from chartroute.sweep import run_sweep
from chartroute.vocabulary import Mode
from tests.escalate.helpers import LADDER, local, practice
from tests.escalate.test_sweep_store import add_item

URGENT_LADDER: dict[str, Any] = {
    "default": {
        **LADDER["default"],
        "tiers": [
            *LADDER["default"]["tiers"][:2],
            {**LADDER["default"]["tiers"][2], "urgent": True},
        ],
        "delinquency": {"after": "30 days", "notify": ["manager"], "urgent": True},
    }
}
NOW = local("2026-03-05 12:00")
BACKLOG = 45
CATEGORIES = ("unsigned-note", "pending-result", "coding-query")


def _backlog(engine: Engine) -> None:
    """Items opened 40 to 84 days before the first sweep: every one past every tier."""
    for n in range(BACKLOG):
        add_item(
            engine, f"wi-{n:03d}", NOW - timedelta(days=40 + n),
            category=CATEGORIES[n % len(CATEGORIES)],
        )  # fmt: skip


def _messages(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(outbox_message).order_by(outbox_message.c.id)))


@pytest.mark.parametrize("mode", [Mode.LIVE, Mode.SHADOW])
def test_a_first_sweep_over_a_backlog_is_one_digest_per_person(engine: Engine, mode: Mode) -> None:
    config = practice(escalation=URGENT_LADDER).model_copy(update={"mode": mode})
    _backlog(engine)
    swept = run_sweep(engine, config, NOW, "sweep-1")
    assert swept.escalated == BACKLOG and swept.notifications > BACKLOG
    composed = compose(engine, config, NOW)
    messages = _messages(engine)
    recipients = [m.recipient for m in messages]
    assert sorted(recipients) == sorted(set(recipients)) == ["md-a", "mgr-a", "mgr-b"]
    assert composed.immediate == 0 and composed.digests == composed.urgent == len(messages)
    assert {m.status for m in messages} == {"shadow" if mode is Mode.SHADOW else "pending"}
    with engine.connect() as conn:
        rows = list(conn.execute(select(notification)))
    assert len(rows) == swept.notifications == composed.notifications
    assert all(r.message_id is not None for r in rows)  # none lost, none left to send again
    for message in messages:
        assert message.urgent and message.kind == "digest"
        content = MessageContent.from_json(message.content)
        assert content.counts == {"escalated": BACKLOG}
        assert content.by_category == {c: BACKLOG // len(CATEGORIES) for c in CATEGORIES}
        assert content.by_age == {"31+": BACKLOG}
        top = config.notify.digest_top_items
        assert len(content.items) == top and content.more == BACKLOG - top
        ages = [i.age_days for i in content.items]
        assert ages == sorted(ages, reverse=True) and ages[0] == 40 + BACKLOG - 1  # oldest first
        body = text(content, message.message_key)
        assert "By age (days since the visit):" in body and f"{BACKLOG - top} more" in body
        assert content.headline.startswith("chartroute: urgent, ")
    assert compose(engine, config, NOW).notifications == 0  # nothing composed twice
    again = run_sweep(engine, config, NOW, "sweep-2")
    assert again.notifications == 0 and len(_messages(engine)) == len(messages)


def test_one_urgent_escalation_is_still_an_immediate_message(engine: Engine) -> None:
    config = practice(escalation=URGENT_LADDER).model_copy(update={"mode": Mode.LIVE})
    add_item(engine, "wi-1", NOW - timedelta(days=8))  # past the director's tier, not delinquent
    run_sweep(engine, config, NOW, "sweep-1")
    composed = compose(engine, config, NOW)
    (message,) = _messages(engine)
    assert (composed.immediate, message.kind, message.urgent) == (1, "immediate", True)
    assert message.recipient == "md-a"
