"""Rewind a chart's final facts to a past instant, and say which blockers were open then.

A backfill sees each resource only as it stands now. Blocker B was open at instant T if its
evidence existed by T and the event that resolved it happened after T (or never). The times
that say so are in the data: a note's signing time (DocumentReference.date), a result's
``issued``, an order's ``authoredOn``, a claim's and a payer response's ``created``, a Task's
``authoredOn``, and ``meta.lastUpdated`` for the last change of anything. ``rewind_chart``
turns the final facts into the facts as they most likely stood at T, and the ordinary
classification rules run on them, so there is one definition of "open" (``classify.py``).

What this cannot see is written in docs/backfill.md: a resource's earlier states between its
creation and its last update (a preliminary result, a queued payer response), and when a field
of the Encounter itself (chief complaint, level of service, clinician, diagnosis) was filled in.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from chartroute.charts import ChartFacts
from chartroute.classify import REFERRAL_NOTE, Blocker, classify_chart
from chartroute.config.models import PracticeConfig
from chartroute.fhir.facts import (
    ClaimFact,
    ClaimResponseFact,
    ConditionFact,
    FhirTaskFact,
    FormFact,
    NoteFact,
    OrderFact,
    ReportFact,
)

#: Statuses a resource only reaches by a later update: before that update it was still open.
_CLOSED_ORDER_STATUSES = frozenset({"completed", "revoked"})
_CLOSED_TASK_STATUSES = frozenset({"completed", "cancelled", "rejected", "failed"})
_ENTERED_IN_ERROR = "entered-in-error"


def _after(moment: datetime | None, at: datetime) -> bool:
    return moment is not None and moment > at


def _created_after(fact: ConditionFact | FormFact, at: datetime) -> bool:
    """A resource never updated (versionId 1) was created at its lastUpdated."""
    return fact.version == "1" and _after(fact.updated_at, at)


def rewind_note(note: NoteFact, at: datetime) -> NoteFact | None:
    """The note at ``at``: absent if written later, preliminary if signed later.

    DocumentReference.date is the signing time of a signed note and the start of an unsigned
    one. A note entered-in-error after ``at`` was current (and as signed as it is now) before.
    """
    if note.status == _ENTERED_IN_ERROR:
        if _after(note.updated_at, at) and not _after(note.signed_at, at):
            return dataclasses.replace(note, status="current")
        return note if not _after(note.signed_at, at) else None
    if not _after(note.signed_at, at):
        return note
    if note.is_composition or REFERRAL_NOTE in note.type_codings:
        # A Composition has no draft state here, and a referral letter counts as soon as it
        # exists: dated after ``at``, it is taken as written after ``at``.
        return None
    if note.doc_status in (None, "final", "amended"):
        # Signed after ``at``: it may have existed as a draft, which counts the same as none.
        return dataclasses.replace(note, doc_status="preliminary", signed_at=None)
    return None


def rewind_order(order: OrderFact, at: datetime) -> OrderFact | None:
    """The order at ``at``: absent if placed later, still active if closed by a later update."""
    if _after(order.authored_at, at):
        return None
    if order.status in _CLOSED_ORDER_STATUSES and _after(order.updated_at, at):
        return dataclasses.replace(order, status="active")
    return order


def rewind_report(report: ReportFact, at: datetime) -> ReportFact | None:
    """A result issued after ``at`` had not arrived (an earlier preliminary is not visible)."""
    return None if _after(report.issued_at, at) else report


def rewind_claim(claim: ClaimFact, at: datetime) -> ClaimFact | None:
    return None if _after(claim.created_at, at) else claim


def rewind_claim_response(response: ClaimResponseFact, at: datetime) -> ClaimResponseFact | None:
    return None if _after(response.created_at, at) else response


def rewind_task(task: FhirTaskFact, at: datetime) -> FhirTaskFact | None:
    """A Task authored later did not exist; one closed by a later update was still requested."""
    if _after(task.authored_at, at):
        return None
    if task.status in _CLOSED_TASK_STATUSES and _after(task.updated_at, at):
        return dataclasses.replace(task, status="requested")
    return task


def rewind_chart(chart: ChartFacts, at: datetime) -> ChartFacts:
    """The chart's facts as they most likely stood at ``at`` (see the module docstring)."""
    return ChartFacts(
        encounter=chart.encounter,
        notes=[n for n in (rewind_note(x, at) for x in chart.notes) if n is not None],
        orders=[o for o in (rewind_order(x, at) for x in chart.orders) if o is not None],
        reports=[r for r in (rewind_report(x, at) for x in chart.reports) if r is not None],
        claims=[c for c in (rewind_claim(x, at) for x in chart.claims) if c is not None],
        claim_responses=[
            r
            for r in (rewind_claim_response(x, at) for x in chart.claim_responses)
            if r is not None
        ],
        fhir_tasks=[t for t in (rewind_task(x, at) for x in chart.fhir_tasks) if t is not None],
        conditions=[c for c in chart.conditions if not _created_after(c, at)],
        forms=[f for f in chart.forms if not _created_after(f, at)],
    )


def change_points(chart: ChartFacts) -> list[datetime]:
    """Every instant at which the reconstructed blockers of the chart can change, sorted.

    Between two consecutive points the rewound chart, and so its blockers, stay the same: a
    backfill classifies a chart once per point, not once per day.
    """
    moments: set[datetime] = set()
    enc = chart.encounter
    if enc.start_at is not None:
        moments.add(enc.start_at)
    for note in chart.notes:
        moments.update(m for m in (note.signed_at, note.updated_at) if m is not None)
    for order in chart.orders:
        moments.update(m for m in (order.authored_at, order.updated_at) if m is not None)
    moments.update(r.issued_at for r in chart.reports if r.issued_at is not None)
    moments.update(c.created_at for c in chart.claims if c.created_at is not None)
    moments.update(r.created_at for r in chart.claim_responses if r.created_at is not None)
    for task in chart.fhir_tasks:
        moments.update(m for m in (task.authored_at, task.updated_at) if m is not None)
    moments.update(c.updated_at for c in chart.conditions if c.updated_at is not None)
    moments.update(f.updated_at for f in chart.forms if f.updated_at is not None)
    return sorted(moments)


def open_blockers_at(chart: ChartFacts, config: PracticeConfig, at: datetime) -> list[Blocker]:
    """The blockers the chart had open at ``at``, by the ordinary rules on the rewound facts."""
    verdict = classify_chart(rewind_chart(chart, at), config.charts, config.documentation, at)
    return list(verdict.blockers) if verdict.is_chart else []
