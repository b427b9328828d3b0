"""The backlog at a glance: open charts by category and role, items per person, and how many
open charts sit on clinicians versus staff alone; and the day's snapshot in a few counts.
Identifiers and counts only, so the same summary is printed, logged and published as a Prefect
artifact."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, distinct, func, literal, select, union_all

from chartroute.analytics.live_snapshot import record_snapshot
from chartroute.config.models import PracticeConfig
from chartroute.store.schema import chart, work_item


@dataclass
class BacklogSummary:
    open_charts: int = 0
    closed_charts: int = 0
    charts_by_category: dict[str, int] = field(default_factory=dict)
    items_by_role: dict[str, int] = field(default_factory=dict)
    items_by_person: dict[str, int] = field(default_factory=dict)
    unassigned_items: int = 0
    charts_on_clinicians: int = 0
    charts_on_staff_only: int = 0

    @property
    def clinician_share(self) -> float:
        return self.charts_on_clinicians / self.open_charts if self.open_charts else 0.0

    @property
    def staff_share(self) -> float:
        return self.charts_on_staff_only / self.open_charts if self.open_charts else 0.0


def backlog_summary(conn: Connection) -> BacklogSummary:
    """Summarise the stored backlog (counted in SQL: a few rows per query, however large)."""
    summary = BacklogSummary()
    by_state = select(chart.c.state, func.count()).group_by(chart.c.state)
    states = {state: int(count) for state, count in conn.execute(by_state)}
    summary.open_charts = states.get("open", 0)
    summary.closed_charts = states.get("closed", 0)
    # One statement, so the item counts describe one state of the store, as one scan did.
    is_open = work_item.c.status == "open"
    charts = func.count(distinct(work_item.c.encounter))
    assigned = and_(work_item.c.assignee.is_not(None), work_item.c.assignee != "")
    w = work_item.c
    counted = union_all(
        select(literal("category"), w.category, charts).where(is_open).group_by(w.category),
        select(literal("role"), w.role, func.count()).where(is_open).group_by(w.role),
        select(literal("person"), w.assignee, func.count())
        .where(is_open, assigned)
        .group_by(w.assignee),
        select(literal("unassigned"), literal(""), func.count()).where(is_open, ~assigned),
        select(literal("on_clinicians"), literal(""), charts).where(is_open, w.role == "clinician"),
        select(literal("charts"), literal(""), charts).where(is_open),
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for what, key, n in conn.execute(counted):
        found[what][str(key)] = int(n)
    summary.charts_by_category = dict(sorted(found["category"].items()))
    summary.items_by_role = dict(sorted(found["role"].items()))
    people = found["person"]
    summary.items_by_person = dict(sorted(people.items(), key=lambda kv: (-kv[1], kv[0])))
    summary.unassigned_items = found["unassigned"].get("", 0)
    summary.charts_on_clinicians = found["on_clinicians"].get("", 0)
    summary.charts_on_staff_only = found["charts"].get("", 0) - summary.charts_on_clinicians
    return summary


#: The first line of a summary written in shadow mode (chartroute/mode.py).
SHADOW_BANNER = (
    "**Shadow mode:** work items, escalations and messages are recorded; nobody was notified "
    "and nothing was written to the EHR."
)


def summary_markdown(summary: BacklogSummary, mode: str = "") -> str:
    """The summary as Markdown tables (used for the Prefect artifact); ``mode`` shadow says so."""
    lines = [SHADOW_BANNER, ""] if mode == "shadow" else []
    lines += [
        f"**Open charts:** {summary.open_charts} (closed: {summary.closed_charts})  ",
        f"**On clinicians:** {summary.charts_on_clinicians} ({summary.clinician_share:.0%}) · "
        f"**on staff only:** {summary.charts_on_staff_only} ({summary.staff_share:.0%})",
        "",
        "| category | open charts |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in summary.charts_by_category.items()),
        "",
        "| role | open items |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in summary.items_by_role.items()),
        "",
        "| person | open items |",
        "|---|---:|",
        *(f"| {k} | {v} |" for k, v in summary.items_by_person.items()),
    ]
    if summary.unassigned_items:
        lines += ["", f"**Unassigned items:** {summary.unassigned_items}"]
    return "\n".join(lines)


@dataclass(frozen=True)
class SnapshotCounts:
    """The day's live backlog snapshot in a few counts (what the sync and report return)."""

    day: str
    figures: int
    open_charts: int
    open_items: int
    clinician_backlog_charts: int


def take_snapshot(
    engine: Engine, config: PracticeConfig, as_of: datetime, run_id: str | None = None
) -> SnapshotCounts:
    """Record the day's live backlog snapshot as the store stands now; return its counts.

    Safe to repeat: the day's live figures are replaced whole in one transaction.
    """
    snapshot = record_snapshot(engine, config, as_of, run_id=run_id)
    return SnapshotCounts(
        day=snapshot.day.isoformat(),
        figures=len(snapshot.values),
        open_charts=int(snapshot.get("open_charts") or 0),
        open_items=int(snapshot.get("open_items") or 0),
        clinician_backlog_charts=int(snapshot.get("clinician_backlog_charts") or 0),
    )
