"""A small hand-built store whose snapshot figures were worked out by hand (see EXPECTED).

The practice is in America/New_York (EDT, UTC-4, from 2026-03-08) with the default calendar,
Monday to Friday 08:00-17:00. The day is Tuesday 2026-03-10: local midnight to midnight is
04:00Z to 04:00Z the next day; the snapshot is taken at 18:00 local (22:00Z).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from chartroute.fhir.facts import NoteFact, fact_to_json
from chartroute.store.schema import (
    chart,
    escalation_event,
    escalation_state,
    fact,
    sync_run,
    work_item,
    work_item_event,
)

DAY = date(2026, 3, 10)
AS_OF = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)
FIRST_SYNC = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
LOINC = "http://loinc.org"


def t(text: str) -> datetime:
    """An instant written as 'MM-DD HH:MM' in UTC, 2026."""
    return datetime.fromisoformat(f"2026-{text}:00+00:00")


CHARTS: list[tuple[Any, ...]] = [
    # encounter, state, clinician, visit_at, first_open_at, closed_at
    ("E1", "open", "dr-a", t("03-10 13:00"), t("03-10 22:00"), None),
    ("E2", "open", "dr-a", t("03-01 15:00"), t("03-02 22:00"), None),
    ("E3", "open", "dr-b", t("02-01 15:00"), t("03-02 22:00"), None),
    ("E4", "closed", "dr-a", t("03-09 14:00"), t("03-09 22:00"), t("03-10 22:00")),
    ("E5", "closed", "dr-b", t("03-10 14:00"), None, t("03-10 22:00")),
    ("E6", "closed", "dr-b", t("02-20 15:00"), None, t("03-10 22:00")),
    ("E7", "open", "dr-b", t("03-10 15:00"), t("03-10 22:00"), None),
]

ITEMS: list[tuple[Any, ...]] = [
    # id, encounter, category, subject, role, assignee, status, opened_at, closed_at
    ("W1", "E1", "unsigned-note", "note", "clinician", "dr-a", "open", t("03-10 22:00"), None),
    ("W2", "E1", "pending-result", "ServiceRequest/s1", "medical-assistant", "ma-c", "open", t("03-10 22:00"), None),  # noqa: E501
    ("W3", "E2", "documentation-gap", "chief-complaint", "medical-assistant", "ma-c", "open", t("03-02 22:00"), None),  # noqa: E501
    ("W4", "E2", "awaiting-referral-auth", "Claim/c1", "referral-coordinator", None, "open", t("03-02 22:00"), None),  # noqa: E501
    ("W5", "E3", "coding-query", "Task/t1", "clinician", "dr-b", "open", t("03-02 22:00"), None),
    ("W6", "E4", "pending-result", "ServiceRequest/s4", "medical-assistant", "ma-c", "closed", t("03-09 22:00"), t("03-10 22:00")),  # noqa: E501
    ("W7", "E4", "unsigned-note", "note", "clinician", "dr-a", "closed", t("03-09 22:00"), t("03-10 16:00")),  # noqa: E501
    ("W8", "E7", "documentation-gap", "form:http://example.org/q", "medical-assistant", None, "open", t("03-10 22:00"), None),  # noqa: E501
]  # fmt: skip

EVENTS: list[tuple[str, str, datetime, str | None]] = [
    ("W6", "opened", t("03-09 22:00"), "ma-c"),  # the day before: not counted
    ("W1", "opened", t("03-10 22:00"), "dr-a"),
    ("W2", "opened", t("03-10 22:00"), "ma-c"),
    ("W8", "opened", t("03-10 22:00"), None),
    ("W6", "closed", t("03-10 22:00"), "ma-c"),
    ("W7", "closed", t("03-10 16:00"), "dr-a"),
    ("W3", "reassigned", t("03-10 15:00"), "ma-c"),
    ("W5", "reopened", t("03-11 03:30"), "dr-b"),  # 23:30 local on the 10th: counted
    ("W5", "closed", t("03-11 04:00"), "dr-b"),  # 00:00 local on the 11th: not counted
]

ESCALATIONS: list[tuple[str, str, datetime]] = [
    ("W5", "escalated", t("03-10 14:00")),
    ("W4", "repeated", t("03-10 20:00")),
    ("W3", "escalated", t("03-09 20:00")),  # the day before
]


def note(
    key: str,
    encounter: str,
    signed_at: datetime,
    *,
    doc_status: str | None = "final",
    status: str = "current",
    loinc: str = "11506-3",
) -> NoteFact:
    return NoteFact(
        key=key,
        version="1",
        updated_at=signed_at,
        status=status,
        doc_status=None if key.startswith("Composition/") else doc_status,
        type_codings=(f"{LOINC}|{loinc}",),
        encounters=(f"Encounter/{encounter}",),
        signed_at=signed_at,
        links=(f"Encounter/{encounter}",),
    )


NOTES: list[NoteFact] = [
    note("DocumentReference/N1", "E1", t("03-10 14:30")),  # 10:30 local: in clinic hours
    note("DocumentReference/N2", "E5", t("03-10 23:30")),  # 19:30 local: after hours
    note("DocumentReference/N3", "E4", t("03-11 03:30")),  # 23:30 local on the 10th
    note("DocumentReference/N4", "E7", t("03-10 15:00"), doc_status="preliminary"),  # unsigned
    note("DocumentReference/N5", "E2", t("03-10 22:00"), loinc="57133-1"),  # referral letter
    note("DocumentReference/N6", "E1", t("03-09 23:00")),  # the day before
    note("Composition/N7", "E2", t("03-10 12:30"), status="final"),  # 08:30 local
]

#: Every figure of the day, worked out by hand from the rows above.
EXPECTED: dict[tuple[str, str, str], float] = {
    # the backlog at 18:00: open items W1 W2 W3 W4 W5 W8 on charts E1 E2 E3 E7
    ("open_items", "total", ""): 6,
    ("open_items", "category", "unsigned-note"): 1,
    ("open_items", "category", "pending-result"): 1,
    ("open_items", "category", "documentation-gap"): 2,
    ("open_items", "category", "awaiting-referral-auth"): 1,
    ("open_items", "category", "coding-query"): 1,
    ("open_items", "reason", "unsigned-note"): 1,
    ("open_items", "reason", "pending-result"): 1,
    ("open_items", "reason", "documentation-gap/chief-complaint"): 1,
    ("open_items", "reason", "documentation-gap/form"): 1,
    ("open_items", "reason", "awaiting-referral-auth/prior-auth"): 1,
    ("open_items", "reason", "coding-query"): 1,
    ("open_items", "role", "clinician"): 2,
    ("open_items", "role", "medical-assistant"): 3,
    ("open_items", "role", "referral-coordinator"): 1,
    ("open_items", "person", "dr-a"): 1,
    ("open_items", "person", "dr-b"): 1,
    ("open_items", "person", "ma-c"): 2,
    ("open_items", "person", "(unassigned)"): 2,
    # ages at 03-10 22:00Z: E1 and E7 0 days, E2 9 days, E3 37 days
    ("open_items", "age", "0-2"): 3,
    ("open_items", "age", "8-14"): 2,
    ("open_items", "age", "31+"): 1,
    ("open_items_aged", "person", "ma-c"): 1,
    ("open_items_aged", "person", "(unassigned)"): 1,
    ("open_items_aged", "person", "dr-b"): 1,
    ("open_charts", "total", ""): 4,
    ("open_charts", "category", "unsigned-note"): 1,
    ("open_charts", "category", "pending-result"): 1,
    ("open_charts", "category", "documentation-gap"): 2,
    ("open_charts", "category", "awaiting-referral-auth"): 1,
    ("open_charts", "category", "coding-query"): 1,
    ("open_charts", "age", "0-2"): 2,
    ("open_charts", "age", "8-14"): 1,
    ("open_charts", "age", "31+"): 1,
    ("clinician_backlog_charts", "total", ""): 2,  # E1 (dr-a), E3 (dr-b)
    ("clinician_backlog_charts", "person", "dr-a"): 1,
    ("clinician_backlog_charts", "person", "dr-b"): 1,
    ("staff_only_charts", "total", ""): 2,  # E2, E7
    ("delinquent_charts", "total", ""): 1,  # E3 through W5
    ("delinquent_charts", "category", "coding-query"): 1,
    # the day's movements
    ("items_opened", "total", ""): 4,  # W1, W2, W8 opened; W5 reopened
    ("items_opened", "category", "unsigned-note"): 1,
    ("items_opened", "category", "pending-result"): 1,
    ("items_opened", "category", "documentation-gap"): 1,
    ("items_opened", "category", "coding-query"): 1,
    ("items_closed", "total", ""): 2,  # W6, W7
    ("items_closed", "category", "pending-result"): 1,
    ("items_closed", "category", "unsigned-note"): 1,
    ("escalations", "total", ""): 2,
    ("escalations", "kind", "escalated"): 1,
    ("escalations", "kind", "repeated"): 1,
    ("escalations", "category", "coding-query"): 1,
    ("escalations", "category", "awaiting-referral-auth"): 1,
    ("visits", "total", ""): 3,  # E1, E5, E7
    ("visits", "clinician", "dr-a"): 1,
    ("visits", "clinician", "dr-b"): 2,
    ("charts_opened", "total", ""): 2,  # E1, E7
    ("charts_closed", "total", ""): 1,  # E4 (E5 and E6 were never seen open)
    ("admin_charts", "total", ""): 2,  # E1 (W2), E7 (W8)
    ("admin_charts_unrouted", "total", ""): 1,  # E7: W8 reached nobody
    # charge lag: E4 32 h = 4/3 days, E5 8 h = 1/3 day; E6 predates the first sync
    ("charge_lag_days.count", "total", ""): 2,
    ("charge_lag_days.sum", "total", ""): 5 / 3,
    ("charge_lag_days.median", "total", ""): 5 / 6,
    ("charge_lag_days.p90", "total", ""): 1 / 3 + 0.9,
    # time to close from the visit: W6 32 h, W7 26 h
    ("time_to_close_days.count", "category", "pending-result"): 1,
    ("time_to_close_days.sum", "category", "pending-result"): 4 / 3,
    ("time_to_close_days.median", "category", "pending-result"): 4 / 3,
    ("time_to_close_days.p90", "category", "pending-result"): 4 / 3,
    ("time_to_close_days.count", "category", "unsigned-note"): 1,
    ("time_to_close_days.sum", "category", "unsigned-note"): 26 / 24,
    ("time_to_close_days.median", "category", "unsigned-note"): 26 / 24,
    ("time_to_close_days.p90", "category", "unsigned-note"): 26 / 24,
    # notes signed: N1, N7 in hours; N2, N3 after hours (N4 unsigned, N5 a letter, N6 earlier)
    ("notes_signed", "total", ""): 4,
    ("notes_signed", "clinician", "dr-a"): 3,  # N1 (E1), N3 (E4), N7 (E2)
    ("notes_signed", "clinician", "dr-b"): 1,  # N2 (E5)
    ("notes_signed_after_hours", "total", ""): 2,
    ("notes_signed_after_hours", "clinician", "dr-a"): 1,
    ("notes_signed_after_hours", "clinician", "dr-b"): 1,
}


def load(conn: Connection) -> None:
    """Insert the dataset."""
    for runs, as_of in enumerate((FIRST_SYNC, AS_OF)):
        conn.execute(
            sync_run.insert().values(
                id=f"run-{runs}", source="test", as_of=as_of, started_at=as_of, status="completed"
            )
        )
    conn.execute(
        chart.insert(),
        [
            {
                "encounter": f"Encounter/{enc}",
                "state": state,
                "clinician": clinician,
                "visit_at": visit,
                "start_at": visit,
                "first_open_at": first,
                "closed_at": closed,
                "updated_at": AS_OF,
                "blocker_count": 0,
            }
            for enc, state, clinician, visit, first, closed in CHARTS
        ],
    )
    visits = {enc: visit for enc, _s, _c, visit, _f, _cl in CHARTS}
    conn.execute(
        work_item.insert(),
        [
            {
                "id": wid,
                "encounter": f"Encounter/{enc}",
                "category": category,
                "subject": subject,
                "role": role,
                "assignee": assignee,
                "clinician": None,
                "status": status,
                "evidence": [],
                "detail": "",
                "visit_at": visits[enc],
                "billing_impact": None,
                "filing_deadline": None,
                "opened_at": opened,
                "closed_at": closed,
                "updated_at": AS_OF,
            }
            for wid, enc, category, subject, role, assignee, status, opened, closed in ITEMS
        ],
    )
    conn.execute(
        work_item_event.insert(),
        [
            {"work_item_id": wid, "event": kind, "at": at, "assignee": who}
            for wid, kind, at, who in EVENTS
        ],
    )
    conn.execute(
        escalation_state.insert(),
        [
            {
                "work_item_id": wid,
                "epoch": 0,
                "open_since": FIRST_SYNC,
                "clock_start": FIRST_SYNC,
                "level": 1,
                "repeats": 0,
                "delinquent": wid == "W5",
                "updated_at": AS_OF,
            }
            for wid in ("W3", "W4", "W5", "W6")
        ],
    )
    conn.execute(
        escalation_event.insert(),
        [
            {
                "work_item_id": wid,
                "step": f"0.{i}",
                "kind": kind,
                "level": 1,
                "due_at": at,
                "at": at,
                "recipients": [],
            }
            for i, (wid, kind, at) in enumerate(ESCALATIONS)
        ],
    )
    conn.execute(
        fact.insert(),
        [
            {
                "key": n.key,
                "resource_type": n.key.split("/", 1)[0],
                "version": "1",
                "updated_at": n.updated_at,
                "content_hash": n.key[-2:],
                "body": fact_to_json(n),
                "synced_at": AS_OF,
            }
            for n in NOTES
        ],
    )
