"""What a message may say: the minimum necessary about each work item, nothing about the patient.

A message carries the work item id, category, age, due date, the encounter's identifier and a
deep link into the EHR — never a name, birth date, diagnosis or note text. This module is the
only shape the renderers read, so nothing else can leak into Slack, email or a webhook. The
content is stored with the message, so a retry sends exactly what the first attempt sent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

#: How notification events are grouped in a digest.
EVENT_GROUPS: dict[str, str] = {
    "opened": "new",
    "reopened": "new",
    "reassigned": "new",
    "escalated": "escalated",
    "closed": "closed",
    "reassigned-away": "moved",
}
GROUP_ORDER: tuple[str, ...] = ("new", "escalated", "closed", "moved")
GROUP_LABELS: dict[str, str] = {
    "new": "new or reassigned to you",
    "escalated": "escalated",
    "closed": "closed",
    "moved": "moved to someone else",
}


@dataclass(frozen=True)
class ItemLine:
    """One work item as a message shows it."""

    id: str
    event: str
    category: str
    encounter: str  # "Encounter/<id>"
    link: str | None
    age_days: int | None
    due: str | None  # ISO date: the payer's timely-filing deadline, or an escalation's due date
    urgent: bool = False


@dataclass(frozen=True)
class MessageContent:
    """A digest (one person's changes of a run) or one immediate message."""

    kind: str  # digest | immediate (urgent) | item (one per notification, per-item channels)
    practice: str
    recipient: str  # roster id: staff are addressed by channel, not by name
    as_of: str  # ISO instant the content was composed
    counts: dict[str, int] = field(default_factory=dict)  # per group in GROUP_ORDER
    by_category: dict[str, int] = field(default_factory=dict)  # new and escalated items
    by_age: dict[str, int] = field(default_factory=dict)  # the same items by age bucket (days)
    open_total: int = 0  # the person's open work items when composed
    items: tuple[ItemLine, ...] = ()
    more: int = 0  # new/escalated items not listed one by one

    @property
    def headline(self) -> str:
        """One line that says what the message is about (subject, notification text)."""
        if self.kind != "digest" and self.items:
            item = self.items[0]
            if item.event == "escalated":
                verb = "escalated"
            else:
                verb = "urgent" if self.kind == "immediate" else item.event
            return f"chartroute: {verb} {item.category} work item {item.id}"
        parts = [f"{self.counts[g]} {GROUP_LABELS[g]}" for g in GROUP_ORDER if self.counts.get(g)]
        urgent = "urgent, " if self.items and self.items[0].urgent else ""
        return "chartroute: " + urgent + ("; ".join(parts) if parts else "no changes")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["items"] = [asdict(i) for i in self.items]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MessageContent:
        values = dict(data)
        values["items"] = tuple(ItemLine(**i) for i in data.get("items", []))
        return cls(**values)


def deep_link(template: str | None, encounter: str) -> str | None:
    """The EHR link of an encounter from ``practice.ehr_link_template`` (``{encounter_id}``)."""
    if not template:
        return None
    encounter_id = encounter.split("/", 1)[-1]
    return template.replace("{encounter_id}", quote(encounter_id, safe=""))
