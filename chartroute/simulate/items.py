"""The simulation's ground truth: every blocker of every simulated chart, and its state.

A generated encounter story says which blockers a chart has and when the outside world does
its part (a lab sends the result, a payer answers); the people of the simulation do the rest.
Each blocker is one ``SimItem`` keyed exactly as the classifier keys its work item, so the
routed policy can check the real pipeline's open items against this truth every day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from chartroute.config.models import Documentation, Routing
from chartroute.generate import codes
from chartroute.generate.timeline import EncounterStory
from chartroute.route import role_for
from chartroute.vocabulary import FORMS, NOTE_SUBJECT, Category, DocumentationField, form_subject

Kind = Literal["clinical", "admin"]

CLINICAL_FIELDS = frozenset({DocumentationField.DIAGNOSIS, DocumentationField.LEVEL_OF_SERVICE})
"""Documentation fields only the clinician can supply (the clinical half of the contract)."""


def is_clinical(category: str, subject: str) -> bool:
    """The invariant's definition, fixed here rather than read from the routing config: an
    unsigned note, a coding query and a clinician's documentation field need clinical judgment,
    so a config that routes them to staff is a violation, not a different practice."""
    if category in (Category.UNSIGNED_NOTE, Category.CODING_QUERY):
        return True
    return category == Category.DOCUMENTATION_GAP and subject in CLINICAL_FIELDS


@dataclass(slots=True)
class SimItem:
    """One blocker of one chart: who must act, when it can be acted on, when it was done."""

    encounter: str
    category: str  # a ``Category`` code, kept a plain string like the store's rows it is
    subject: str  # compared with (and so it serialises as a JSON key)
    role: str
    appears: datetime
    """When the blocker exists in the EHR (naive practice-local time)."""
    arrives: datetime | None
    """Administrative: when the outside world has done its part (``None``: lost until someone
    asks again). Clinical: the earliest the clinician acts on it (their habit, from the story)."""
    redo_mean_days: float = 0.0
    """Mean delay of the outside world's part when asked again (0: no outside part)."""
    done: datetime | None = None
    last_look: int | None = None
    """Clinic-day number a clinician last looked at it (manual chasing)."""
    passed_to_staff: bool = False
    """Manual chasing: a clinician has found out what it waits on and asked staff to do it."""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.encounter, self.category, self.subject)

    @property
    def kind(self) -> Kind:
        return "clinical" if is_clinical(self.category, self.subject) else "admin"

    def arrived_by(self, moment: datetime) -> bool:
        return self.arrives is not None and self.arrives <= moment


def note_signed_in_clinic(story: EncounterStory, close_hour: int) -> bool:
    """Whether the story's note was signed during clinic hours on the visit day (no blocker)."""
    signed = story.note.signed
    return signed is not None and signed.date() == story.day and signed.hour < close_hour


def required_fields(story: EncounterStory, documentation: Documentation) -> tuple[list[str], bool]:
    """The documentation fields the practice requires of this visit type, and whether a form."""
    key = f"{codes.SNOMED}|{story.visit_type.code}"
    rules = documentation.by_encounter_type.get(key)
    fields: list[str] = list(documentation.required_fields)
    if rules is not None and rules.required_fields is not None:
        fields = list(rules.required_fields)
    return fields, bool(rules is not None and rules.forms)


def story_items(
    story: EncounterStory,
    documentation: Documentation,
    routing: Routing,
    close_hour: int,
    result_mean_days: tuple[float, float],
    auth_mean_days: float,
    delinquent: timedelta | None,
) -> list[SimItem]:
    """Every blocker the chart of ``story`` will have, except a coding query (which appears
    only once the note is signed: see ``coding_query_item``).

    Roles come from the practice's routing; ``result_mean_days`` is (lab, imaging). A clinical
    blocker is ready when the story has the clinician act (a note signed late is signed late
    whatever the policy), or ``delinquent`` after it appears if the story never has them act;
    with ``delinquent`` None the clinician may act at once.
    """
    if story.kind != "chart":
        return []
    enc = f"Encounter/{story.id}"
    items: list[SimItem] = []

    def add(
        category: Category,
        subject: str,
        appears: datetime,
        arrives: datetime | None,
        redo: float = 0.0,
    ) -> None:
        role = role_for(routing, category, subject)
        items.append(SimItem(enc, category.value, subject, str(role), appears, arrives, redo))

    def habit(appears: datetime, story_time: datetime | None) -> datetime:
        if delinquent is None:
            return appears
        return story_time if story_time is not None else appears + delinquent

    if not note_signed_in_clinic(story, close_hour):
        add(
            Category.UNSIGNED_NOTE, NOTE_SUBJECT, story.start, habit(story.start, story.note.signed)
        )
    for order in story.orders:
        mean = result_mean_days[1] if order.imaging else result_mean_days[0]
        subject = f"ServiceRequest/sr-{story.num}-{order.seq}"
        add(Category.PENDING_RESULT, subject, order.authored, order.final, mean)
    for referral in story.referrals:
        subject = f"ServiceRequest/sr-{story.num}-{referral.seq}"
        add(Category.AWAITING_REFERRAL_AUTH, subject, referral.authored, referral.authored)
    if story.prior_auth is not None:
        auth = story.prior_auth
        add(
            Category.AWAITING_REFERRAL_AUTH,
            f"Claim/pa-{story.num}",
            auth.created,
            auth.answered,
            auth_mean_days,
        )
    fields, needs_form = required_fields(story, documentation)
    for name in fields:
        if name in story.field_times and story.field_times[name] != _normal_time(story, name):
            ready = story.start
            if name in CLINICAL_FIELDS:
                ready = habit(story.start, story.field_times[name])
            add(Category.DOCUMENTATION_GAP, name, story.start, ready)
    if needs_form and story.needs_form and story.field_times[FORMS] not in _on_time_forms(story):
        form = form_subject(codes.WELL_CHILD_QUESTIONNAIRE)
        add(Category.DOCUMENTATION_GAP, form, story.start, story.start)
    return items


def coding_query_item(
    story: EncounterStory, signed: datetime, role: str, delinquent: timedelta | None
) -> SimItem | None:
    """The coder's query on a chart whose note was signed at ``signed``, if the story has one.

    The coder raises it as long after signing as the story says, and the clinician is ready
    to answer it as long after that as the story says (see ``story_items`` for ``delinquent``).
    """
    query = story.coder_query
    if query is None or story.note.signed is None:
        return None
    raised = signed + (query.authored - story.note.signed)
    ready = raised
    if delinquent is not None:
        answer = None if query.answered is None else raised + (query.answered - query.authored)
        ready = answer if answer is not None else raised + delinquent
    return SimItem(
        f"Encounter/{story.id}",
        Category.CODING_QUERY.value,
        f"Task/task-{story.num}",
        role,
        raised,
        ready,
    )


def _normal_time(story: EncounterStory, name: str) -> datetime:
    """When a field is recorded if nothing is missing (the generator's own convention)."""
    at_end = (DocumentationField.DIAGNOSIS, DocumentationField.LEVEL_OF_SERVICE)
    return story.end if name in at_end else story.start


def _on_time_forms(story: EncounterStory) -> tuple[datetime, ...]:
    """A form filled in during the visit is on time; anything else is a gap."""
    at = story.field_times.get(FORMS)
    if at is not None and story.start <= at <= story.end:
        return (at,)
    return ()
