"""The open work items in priority order, as the worklist command and tools read them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from chartroute.route import WorkItem, age_days, priority_key
from chartroute.store.escalations import ladders
from chartroute.store.work_items import open_items
from chartroute.vocabulary import Category, Role


def _as_item(row: Any) -> WorkItem:
    return WorkItem(
        id=row.id,
        encounter=row.encounter,
        category=Category(row.category),
        subject=row.subject,
        role=Role(row.role),
        assignee=row.assignee,
        evidence=tuple(row.evidence),
        detail=row.detail,
        visit_at=row.visit_at,
        billing_impact=row.billing_impact,
        filing_deadline=row.filing_deadline,
        clinician=row.clinician,
        waiting=bool(row.waiting),
    )


def worklist(
    conn: Connection, as_of: datetime, person: str | None = None
) -> Iterator[dict[str, Any]]:
    """Open items sorted by priority (1 = first), then id; no PHI."""
    rows = list(open_items(conn, person))
    # The rule that placed each item (null for an item stored before reasons were recorded).
    reasons = {r.id: r.routing_reason for r in rows}
    items = sorted((_as_item(r) for r in rows), key=priority_key)
    escalation = ladders(conn, [i.id for i in items])  # level and next step, as of the last sweep
    for rank, item in enumerate(items, start=1):
        yield {
            "id": item.id,
            "category": item.category,
            "role": item.role,
            "assignee": item.assignee,
            "reason": reasons[item.id],
            "waiting": item.waiting,
            "encounter": item.encounter,
            "subject": item.subject,
            "priority": rank,
            "age_days": age_days(item.visit_at, as_of),
            "billing_impact": item.billing_impact,
            "filing_deadline": item.filing_deadline.isoformat()
            if isinstance(item.filing_deadline, date)
            else None,
            "detail": item.detail,
            **escalation[item.id],
        }
