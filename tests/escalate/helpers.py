"""A small practice for escalation tests: New York time, Mon-Fri 08:00-17:00, a few people."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chartroute.config.models import PracticeConfig
from chartroute.escalate import LadderItem

NY = ZoneInfo("America/New_York")


def local(text: str) -> datetime:
    """A New York wall-clock time ("2026-03-06 10:00") as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=NY).astimezone(UTC)


def practice(
    *,
    escalation: dict[str, Any] | None = None,
    holidays: list[str] | None = None,
    away: dict[str, list[Any]] | None = None,
    hours: dict[str, str] | None = None,
) -> PracticeConfig:
    roster: list[dict[str, Any]] = [
        {
            "id": "dr-a",
            "name": "A",
            "roles": ["clinician"],
            "practitioner": "Practitioner/a",
            "backup": "dr-b",
        },
        {
            "id": "dr-b",
            "name": "B",
            "roles": ["clinician"],
            "practitioner": "Practitioner/b",
            "backup": "dr-c",
        },
        {"id": "dr-c", "name": "C", "roles": ["clinician"], "practitioner": "Practitioner/c"},
        {"id": "ma-a", "name": "MA", "roles": ["medical-assistant"]},
        {"id": "rc-a", "name": "RC", "roles": ["referral-coordinator"]},
        {"id": "fd-a", "name": "FD", "roles": ["front-desk"]},
        {"id": "mgr-a", "name": "M", "roles": ["manager"], "backup": "mgr-b"},
        {"id": "mgr-b", "name": "M2", "roles": ["manager"]},
        {"id": "md-a", "name": "D", "roles": ["medical-director"]},
    ]
    for person in roster:
        if away and person["id"] in away:
            person["out_of_office"] = away[person["id"]]
    calendar: dict[str, Any] = {"holidays": holidays or []}
    if hours is not None:
        calendar["hours"] = hours
    data: dict[str, Any] = {
        "practice": {"name": "Test", "timezone": "America/New_York", "calendar": calendar},
        "roster": roster,
        "escalation": escalation or {},
    }
    return PracticeConfig.model_validate(data)


LADDER: dict[str, Any] = {
    "default": {
        "tiers": [
            {
                "name": "reminder",
                "after": "1 business day",
                "notify": ["assignee"],
                "repeat_every": "1 business day",
            },
            {"name": "manager", "after": "3 business days", "notify": ["assignee", "manager"]},
            {
                "name": "director",
                "after": "5 business days",
                "notify": ["medical-director"],
                "repeat_every": "5 business days",
            },
        ],
        "delinquency": {"after": "30 days", "notify": ["manager"]},
    }
}


def item(
    opened: datetime,
    *,
    assignee: str | None = "dr-a",
    assigned: datetime | None = None,
    visit: datetime | None = None,
    category: str = "unsigned-note",
    subject: str = "note",
    role: str = "clinician",
    item_id: str = "wi-1",
) -> LadderItem:
    return LadderItem(
        id=item_id,
        category=category,
        subject=subject,
        role=role,
        assignee=assignee,
        clinician="dr-a",
        visit_at=visit or opened,
        open_since=opened,
        assigned_since=assigned or opened,
    )
