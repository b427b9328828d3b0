"""Why is this chart still open? Every classification rule, in one place.

Each function below is one row of the classification contract in docs/DESIGN.md and reads only
typed facts, the practice config and the as-of instant: no I/O, no clock, no globals, so the
same inputs always give the same blockers. Every blocker carries its evidence (the resources
that show it) and a detail an ops lead can read; details name resources and statuses, never
clinical text, so they are safe to log and to send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chartroute.charts import ChartFacts
from chartroute.config.models import ChartRules, Documentation
from chartroute.fhir.facts import ClaimFact, EncounterFact
from chartroute.vocabulary import NOTE_SUBJECT, Category, DocumentationField, form_subject

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"

LAB = f"{SNOMED}|108252007"
IMAGING = f"{SNOMED}|363679005"
REFERRAL = f"{SNOMED}|3457005"
REFERRAL_NOTE = f"{LOINC}|57133-1"
ENCOUNTER_DIAGNOSIS = f"{CONDITION_CATEGORY}|encounter-diagnosis"
#: The Task.code of a coder's query (any system), as the EHR or the coding tool writes it.
CODER_QUERY_CODE = "coding-query"

SIGNED_DOC_STATUSES = frozenset({"final", "amended"})
SIGNED_COMPOSITION_STATUSES = frozenset({"final", "amended"})
OPEN_ORDER_STATUSES = frozenset({"active", "on-hold"})
FINAL_REPORT_STATUSES = frozenset({"final", "amended", "corrected", "appended"})
OPEN_REFERRAL_STATUSES = frozenset({"draft", "active", "on-hold"})
PENDING_AUTH_OUTCOMES = frozenset({"queued", "partial"})
OPEN_TASK_STATUSES = frozenset({"requested", "received", "accepted", "in-progress", "on-hold"})
DONE_FORM_STATUSES = frozenset({"completed", "amended"})
ENTERED_IN_ERROR = "entered-in-error"
_EPOCH = datetime.min.replace(tzinfo=UTC)
#: Why an encounter whose period starts after the as-of time is not a chart yet.
FUTURE_VISIT = "period starts after the as-of time"
#: Why an encounter that started before the go-live cut-off (``charts.since``) is not a chart.
BEFORE_CUTOFF = "period starts before the cut-off (charts.since)"


@dataclass(frozen=True, slots=True)
class Blocker:
    """One reason a chart is open; becomes one work item keyed (encounter, category, subject)."""

    category: Category
    subject: str
    evidence: tuple[str, ...]
    detail: str
    waiting: bool = False
    """Still waiting on the outside world (no result yet, no payer answer): the worklist ranks
    it after the work that can be done now."""


@dataclass(frozen=True, slots=True)
class ChartVerdict:
    """What classification concluded about one encounter."""

    encounter: str
    is_chart: bool
    not_chart_reason: str | None
    blockers: tuple[Blocker, ...]
    rendering_clinician: str | None
    visit_at: datetime | None
    level_of_service: str | None
    claim_total: float | None
    insurer: str | None
    #: every key the rendering clinician is known by (role, practitioner, NPI identifier)
    clinician_keys: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.is_chart and bool(self.blockers)

    @property
    def is_before_cutoff(self) -> bool:
        """Not a chart only because the visit predates the practice's go-live cut-off."""
        return self.not_chart_reason == BEFORE_CUTOFF

    @property
    def is_future(self) -> bool:
        """Not a chart only because its visit has not started: it will be one once it has."""
        return self.not_chart_reason == FUTURE_VISIT


def classify_chart(
    chart: ChartFacts, charts: ChartRules, documentation: Documentation, as_of: datetime
) -> ChartVerdict:
    """Classify one chart: is it a chart at all, and which blockers keep it open."""
    enc = chart.encounter
    reason = not_a_chart_reason(enc, charts, as_of)
    clinician = rendering_clinician(enc)
    level = level_of_service(chart)
    billing_claims = [c for c in _live_claims(chart) if c.use != "preauthorization"]
    claim_total = next((c.total for c in billing_claims if c.total is not None), None)
    insurer = next((c.insurer for c in _live_claims(chart) if c.insurer), None)
    blockers: list[Blocker] = []
    if reason is None:
        blockers.extend(unsigned_note_blockers(chart))
        blockers.extend(pending_result_blockers(chart))
        blockers.extend(referral_auth_blockers(chart))
        blockers.extend(coding_query_blockers(chart))
        blockers.extend(documentation_gap_blockers(chart, documentation))
        blockers.sort(key=lambda b: (b.category, b.subject))
    return ChartVerdict(
        encounter=enc.key,
        is_chart=reason is None,
        not_chart_reason=reason,
        blockers=tuple(blockers),
        rendering_clinician=clinician,
        visit_at=enc.end_at or enc.start_at,
        level_of_service=level,
        claim_total=claim_total,
        insurer=insurer,
        clinician_keys=chart.clinician_keys.get(clinician, ()) if clinician else (),
    )


def not_a_chart_reason(enc: EncounterFact, charts: ChartRules, as_of: datetime) -> str | None:
    """None if the encounter is a chart, else why not (status, class or a future start)."""
    if enc.status not in charts.encounter_statuses:
        return f"status {enc.status or 'missing'} is not a chart status"
    if enc.class_code not in charts.encounter_classes:
        return f"class {enc.class_code or 'missing'} is not a chart class"
    if enc.start_at is None:
        return "period.start is missing"
    if enc.start_at > as_of:
        return FUTURE_VISIT
    cut_off = charts.since_at()
    if cut_off is not None and enc.start_at < cut_off:
        return BEFORE_CUTOFF
    return None


def rendering_clinician(enc: EncounterFact) -> str | None:
    """The participant of type PPRF, else ATND, else the first individual."""
    for wanted in ("PPRF", "ATND"):
        for types, individual in enc.participants:
            if wanted in types:
                return individual
    return enc.participants[0][1] if enc.participants else None


def unsigned_note_blockers(chart: ChartFacts) -> list[Blocker]:
    """No signed clinical note: no DocumentReference with docStatus final/amended (or no
    docStatus) and no final/amended Composition for the encounter.

    ``DocumentReference.status`` is the status of the reference, not of the note: a
    ``superseded`` reference was replaced by a newer one, but the note it points at was still
    written. Only ``entered-in-error`` removes a note.

    A referral letter (LOINC 57133-1) is correspondence about the visit, not its clinical
    note: a signed letter does not sign the chart (it has its own rule below).
    """
    enc = chart.encounter.key
    unsigned: list[str] = []
    for note in chart.notes:
        if enc not in note.encounters or REFERRAL_NOTE in note.type_codings:
            continue
        if note.is_composition:
            if note.status in SIGNED_COMPOSITION_STATUSES:
                return []
            if note.status != ENTERED_IN_ERROR:
                unsigned.append(note.key)
            continue
        if note.status == ENTERED_IN_ERROR:
            continue
        if note.doc_status is None or note.doc_status in SIGNED_DOC_STATUSES:
            return []
        if note.doc_status != ENTERED_IN_ERROR:
            unsigned.append(note.key)
    if unsigned:
        detail = f"no signed note; started but not signed: {', '.join(unsigned)}"
    else:
        detail = "no clinical note for the encounter"
    return [Blocker(Category.UNSIGNED_NOTE, NOTE_SUBJECT, (enc, *unsigned), detail)]


def pending_result_blockers(chart: ChartFacts) -> list[Blocker]:
    """An active or on-hold lab/imaging order with no final result basedOn it."""
    enc = chart.encounter.key
    blockers = []
    for order in chart.orders:
        if order.encounter != enc or order.status not in OPEN_ORDER_STATUSES:
            continue
        is_lab = LAB in order.category_codings
        if not is_lab and IMAGING not in order.category_codings:
            continue
        reports = [r for r in chart.reports if order.key in r.based_on]
        if any(r.status in FINAL_REPORT_STATUSES for r in reports):
            continue
        partial = sorted(r.key for r in reports if r.status != ENTERED_IN_ERROR)
        kind = "lab" if is_lab else "imaging"
        detail = f"{kind} order {order.key} ({order.status}) has no final result"
        if partial:
            detail += f"; not final yet: {', '.join(partial)}"
        evidence = (order.key, *partial)
        # A preliminary report means the result has come in: the assistant can act on it.
        waiting = not partial
        blockers.append(Blocker(Category.PENDING_RESULT, order.key, evidence, detail, waiting))
    return blockers


def referral_auth_blockers(chart: ChartFacts) -> list[Blocker]:
    """An open referral with no referral letter, or a prior authorization with no decision."""
    enc = chart.encounter.key
    blockers = []
    has_letter = any(
        REFERRAL_NOTE in n.type_codings and n.status != ENTERED_IN_ERROR and enc in n.encounters
        for n in chart.notes
    )
    if not has_letter:
        for order in chart.orders:
            if (
                order.encounter == enc
                and order.status in OPEN_REFERRAL_STATUSES
                and REFERRAL in order.category_codings
            ):
                detail = (
                    f"referral {order.key} ({order.status}) has no referral letter (LOINC 57133-1)"
                )
                blockers.append(
                    Blocker(Category.AWAITING_REFERRAL_AUTH, order.key, (order.key,), detail)
                )
    for claim in _live_claims(chart):
        if claim.use != "preauthorization" or claim.status == "cancelled":
            continue
        responses = sorted(
            (
                r
                for r in chart.claim_responses
                if r.request == claim.key and r.status != ENTERED_IN_ERROR
            ),
            key=lambda r: (r.created_at is not None, r.created_at or _EPOCH, r.key),
        )
        if not responses:
            detail = f"prior authorization {claim.key} has no payer response"
            blockers.append(
                Blocker(Category.AWAITING_REFERRAL_AUTH, claim.key, (claim.key,), detail, True)
            )
            continue
        latest = responses[-1]
        if latest.outcome in PENDING_AUTH_OUTCOMES:
            detail = (
                f"prior authorization {claim.key}: payer response {latest.key} is {latest.outcome}"
            )
            evidence = (claim.key, latest.key)
            queued = latest.outcome == "queued"  # the payer has not decided; partial: act on it
            blockers.append(
                Blocker(Category.AWAITING_REFERRAL_AUTH, claim.key, evidence, detail, queued)
            )
    return blockers


def coding_query_blockers(chart: ChartFacts) -> list[Blocker]:
    """An open Task coded ``coding-query`` focused on the encounter or one of its notes."""
    enc = chart.encounter.key
    own_notes = {n.key for n in chart.notes if enc in n.encounters}
    blockers = []
    for fhir_task in chart.fhir_tasks:
        if CODER_QUERY_CODE not in fhir_task.codes or fhir_task.status not in OPEN_TASK_STATUSES:
            continue
        if fhir_task.focus != enc and fhir_task.focus not in own_notes:
            continue
        evidence = (
            (fhir_task.key,) if fhir_task.focus == enc else (fhir_task.key, str(fhir_task.focus))
        )
        detail = (
            f"coder query {fhir_task.key} is {fhir_task.status}, awaiting the clinician's answer"
        )
        blockers.append(Blocker(Category.CODING_QUERY, fhir_task.key, evidence, detail))
    return blockers


def documentation_gap_blockers(chart: ChartFacts, documentation: Documentation) -> list[Blocker]:
    """Required fields and forms missing for the encounter's type (from config)."""
    enc = chart.encounter
    fields, forms = required_documentation(enc, documentation)
    present = {
        DocumentationField.CHIEF_COMPLAINT: enc.has_reason,
        DocumentationField.DIAGNOSIS: enc.has_diagnosis
        or any(
            c.encounter == enc.key
            and ENCOUNTER_DIAGNOSIS in c.category_codings
            and c.verification_status != ENTERED_IN_ERROR
            for c in chart.conditions
        ),
        DocumentationField.LEVEL_OF_SERVICE: level_of_service(chart) is not None,
        DocumentationField.RENDERING_CLINICIAN: bool(enc.participants),
    }
    blockers = []
    for field_name in fields:
        if not present[field_name]:
            detail = f"missing {field_name.description}"
            gap = Blocker(Category.DOCUMENTATION_GAP, field_name.value, (enc.key,), detail)
            blockers.append(gap)
    for form in forms:
        done = any(
            f.encounter == enc.key
            and f.status in DONE_FORM_STATUSES
            and (f.questionnaire or "").split("|", 1)[0] == form
            for f in chart.forms
        )
        if not done:
            detail = f"missing required form {form}"
            gap = Blocker(Category.DOCUMENTATION_GAP, form_subject(form), (enc.key,), detail)
            blockers.append(gap)
    return blockers


def required_documentation(
    enc: EncounterFact, documentation: Documentation
) -> tuple[list[DocumentationField], list[str]]:
    """The fields and forms this encounter's type requires."""
    fields: list[DocumentationField] = list(documentation.required_fields)
    forms: list[str] = []
    overridden = False
    for coding in enc.type_codings:
        rules = documentation.by_encounter_type.get(coding)
        if rules is None:
            continue
        if rules.required_fields is not None and not overridden:
            fields = list(rules.required_fields)
            overridden = True
        forms.extend(f for f in rules.forms if f not in forms)
    return fields, forms


def level_of_service(chart: ChartFacts) -> str | None:
    """The E/M code (CPT 99202-99215) on the encounter's type or a billing claim item."""
    for coding in chart.encounter.type_codings:
        system, _, code = coding.partition("|")
        if system == CPT and _is_em_code(code):
            return code
    for claim in _live_claims(chart):
        if claim.use == "preauthorization" or chart.encounter.key not in claim.encounters:
            continue
        for code in claim.item_codes:
            if _is_em_code(code):
                return code
    return None


def _is_em_code(code: str) -> bool:
    return code.isdigit() and 99202 <= int(code) <= 99215


def _live_claims(chart: ChartFacts) -> list[ClaimFact]:
    return [c for c in chart.claims if c.status != ENTERED_IN_ERROR]
