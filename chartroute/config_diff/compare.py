"""Two replays side by side: what a change to the practice file would do to people's work.

Pure: it reads two ``Replay`` values and the two files' rosters. An item *moves* when it stays
open with another holder (or another role); it *appears* or *disappears* when only one file
makes it; blockers are counted per (category, documentation field) so a rule that starts or
stops finding something shows; a queue is *past capacity* when it would grow beyond the
person's ``daily_capacity``; and *new items* are where the router would put the next item of
each role on each clinician's chart — what a pod change alters, since open staff items stay
with their holders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from chartroute.config.models import PracticeConfig
from chartroute.config_diff.replay import Replay
from chartroute.lifecycle import StoredItem
from chartroute.vocabulary import Category, gap_key


@dataclass(frozen=True, slots=True)
class Move:
    """An open item that would change hands (or role)."""

    item: str
    encounter: str
    category: str
    subject: str
    from_person: str | None
    to_person: str | None
    from_role: str
    to_role: str


@dataclass(frozen=True, slots=True)
class BlockerCount:
    """Open blockers of one category (and documentation field) under each file."""

    category: str
    field: str  # the documentation field or "forms" for a gap, "" otherwise
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class QueuePastCapacity:
    """A person whose open items would grow past what they can close in a day."""

    person: str
    daily_capacity: float
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class NewItemRoute:
    """Where the next item of a role on a clinician's chart would go under each file."""

    clinician: str
    role: str
    before: str | None
    after: str | None


@dataclass
class ConfigDiff:
    """Everything a change to the practice file would change, over ``charts`` charts."""

    charts: int
    moves: list[Move] = field(default_factory=list)
    appear: list[StoredItem] = field(default_factory=list)
    disappear: list[StoredItem] = field(default_factory=list)
    blockers: list[BlockerCount] = field(default_factory=list)
    past_capacity: list[QueuePastCapacity] = field(default_factory=list)
    new_items: list[NewItemRoute] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.moves or self.appear or self.disappear or self.new_items)

    def move_counts(self) -> Counter[tuple[str | None, str | None]]:
        """Items per (from, to)."""
        return Counter((m.from_person, m.to_person) for m in self.moves)


def blocker_kind(item: StoredItem) -> tuple[str, str]:
    """(category, field) of an item: the gap's field (or ``forms``), else no field."""
    if item.category == Category.DOCUMENTATION_GAP:
        return str(item.category), gap_key(item.subject)
    return str(item.category), ""


def compare(before: Replay, after: Replay, proposed: PracticeConfig) -> ConfigDiff:
    """What changes from ``before`` (the current file) to ``after`` (the proposed one)."""
    old, new = before.open_items, after.open_items
    diff = ConfigDiff(charts=max(before.charts, after.charts))
    for item_id in sorted(old.keys() & new.keys()):
        was, will = old[item_id], new[item_id]
        if (was.assignee, was.role) != (will.assignee, will.role):
            diff.moves.append(
                Move(
                    item_id,
                    will.encounter,
                    str(will.category),
                    will.subject,
                    was.assignee,
                    will.assignee,
                    str(was.role),
                    str(will.role),
                )
            )
    diff.appear = [new[i] for i in sorted(new.keys() - old.keys())]
    diff.disappear = [old[i] for i in sorted(old.keys() - new.keys())]
    counted_old = Counter(blocker_kind(i) for i in old.values())
    counted_new = Counter(blocker_kind(i) for i in new.values())
    diff.blockers = [
        BlockerCount(category, gap, counted_old[(category, gap)], counted_new[(category, gap)])
        for category, gap in sorted(counted_old.keys() | counted_new.keys())
        if counted_old[(category, gap)] != counted_new[(category, gap)]
    ]
    diff.past_capacity = _past_capacity(old.values(), new.values(), proposed)
    for key in sorted(before.first_choice.keys() | after.first_choice.keys()):
        now_to, then_to = before.first_choice.get(key), after.first_choice.get(key)
        if now_to != then_to:
            diff.new_items.append(NewItemRoute(key[0], key[1], now_to, then_to))
    return diff


def _past_capacity(
    old: Iterable[StoredItem], new: Iterable[StoredItem], proposed: PracticeConfig
) -> list[QueuePastCapacity]:
    queued_old = Counter(i.assignee for i in old if i.assignee)
    queued_new = Counter(i.assignee for i in new if i.assignee)
    out = []
    for person in proposed.roster:
        was, will = queued_old[person.id], queued_new[person.id]
        if will > person.daily_capacity and will > was:
            out.append(QueuePastCapacity(person.id, person.daily_capacity, was, will))
    return out


def diff_json(diff: ConfigDiff) -> dict[str, Any]:
    """The diff as JSON-ready data: ids, codes and counts only."""

    def item(i: StoredItem) -> dict[str, Any]:
        return {
            "item": i.id,
            "encounter": i.encounter,
            "category": str(i.category),
            "subject": i.subject,
            "role": str(i.role),
            "assignee": i.assignee,
        }

    return {
        "charts": diff.charts,
        "moves": [asdict(m) for m in diff.moves],
        "appear": [item(i) for i in diff.appear],
        "disappear": [item(i) for i in diff.disappear],
        "blockers": [asdict(b) for b in diff.blockers],
        "past_capacity": [asdict(q) for q in diff.past_capacity],
        "new_items": [asdict(r) for r in diff.new_items],
    }
