"""Draw each encounter's story: the schedule of visit slots and what happens in each.

A story is drawn once per encounter from a ``random.Random`` seeded by (seed, encounter
index), so an encounter's story never depends on generation order, on the horizon length or
on the as-of time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from . import codes
from .clinic_time import ClinicClock, delay
from .codes import Code
from .people import CHILD_PANEL_STRIDE, panel_patient, patient_facts
from .profile import GeneratorProfile
from .seeding import stream_rng
from .timeline import (
    GAP_FIELDS,
    NON_CHART_KINDS,
    CoderQueryStory,
    EncounterKind,
    EncounterStory,
    NoteStory,
    OrderStory,
    PriorAuthStory,
    ReferralStory,
    VoidNoteStory,
)


@dataclass(frozen=True, slots=True)
class Slot:
    """One scheduled visit slot: which clinician, which day, which position."""

    index: int
    day: date
    provider: int
    position: int


class StoryPlanner:
    """Draws encounter stories for a profile."""

    def __init__(self, profile: GeneratorProfile, clock: ClinicClock) -> None:
        self.p = profile
        self.clock = clock
        clinic_minutes = (profile.clinic_close_hour - profile.clinic_open_hour) * 60
        self._slot_minutes = clinic_minutes / profile.encounters_per_provider_day
        self._child_slots = math.ceil(profile.patients_per_provider / CHILD_PANEL_STRIDE)

    def schedule(self, days: list[date], until: datetime) -> Iterator[Slot]:
        """Visit slots in day, clinician, position order, up to the day ``until`` falls on.

        Encounter indexes number slots over the whole horizon, so a shorter as-of run emits
        the same encounters under the same ids as a longer one.
        """
        per_day = self.p.encounters_per_provider_day
        providers = self.p.providers
        for day_number, day in enumerate(days):
            if self.clock.at(day, self.p.clinic_open_hour) > until:
                return
            for provider in range(providers):
                base = (day_number * providers + provider) * per_day
                for position in range(per_day):
                    yield Slot(base + position, day, provider, position)

    def story(self, slot: Slot) -> EncounterStory:
        """The story of the encounter in ``slot``; a pure function of the seed and slot."""
        p, clock = self.p, self.clock
        rng = stream_rng(p.seed, "encounter", slot.index)

        offset = int(slot.position * self._slot_minutes) + rng.randrange(
            max(1, min(10, int(self._slot_minutes / 3)))
        )
        start = clock.at(slot.day, p.clinic_open_hour) + timedelta(minutes=offset)
        close = clock.at(slot.day, p.clinic_close_hour)

        kind: EncounterKind = "chart"
        if rng.random() < p.non_chart_share:
            kind = rng.choice(NON_CHART_KINDS)

        roll = rng.random()
        if kind == "inpatient":
            visit_class = "IMP"
        elif roll < p.telehealth_share:
            visit_class = "VR"
        elif roll < p.telehealth_share + p.home_visit_share:
            visit_class = "HH"
        else:
            visit_class = "AMB"

        roll = rng.random()
        if kind == "inpatient":
            visit_type = codes.INPATIENT_STAY
        elif roll < p.well_child_share:
            visit_type = codes.WELL_CHILD
        elif roll < p.well_child_share + p.follow_up_share:
            visit_type = codes.FOLLOW_UP
        else:
            visit_type = codes.CHECK_UP
        well_child = visit_type is codes.WELL_CHILD

        if well_child:
            panel_slot = CHILD_PANEL_STRIDE * rng.randrange(self._child_slots)
        else:
            panel_slot = rng.randrange(p.patients_per_provider)
        patient = patient_facts(
            p.seed, panel_patient(slot.provider, panel_slot, p.providers), p.providers, p.start
        )

        minutes = rng.randint(10, 25) if visit_class == "VR" else rng.randint(15, 40)
        if kind == "inpatient":
            end = start + timedelta(hours=rng.randint(20, 72))
        else:
            end = min(start + timedelta(minutes=minutes), max(close, start + timedelta(minutes=5)))

        complaint, diagnoses = self._reason(rng, visit_type)
        if rng.random() < p.new_patient_share:
            level = rng.choices(codes.NEW_PATIENT_EM, codes.NEW_PATIENT_WEIGHTS)[0]
        else:
            level = rng.choices(codes.ESTABLISHED_EM, codes.ESTABLISHED_WEIGHTS)[0]

        if kind != "chart":
            # Non-charts carry no work: only an inpatient stay has a (never signed) note, so
            # a classifier that forgets the class filter is caught by the tests downstream.
            note = (
                NoteStory(start + timedelta(hours=1), None)
                if kind == "inpatient"
                else NoteStory(None, None)
            )
            return EncounterStory(
                index=slot.index, kind=kind, provider=slot.provider, patient=patient, day=slot.day,
                start=start, end=end, visit_class=visit_class, visit_type=visit_type, level=level,
                complaint=complaint, diagnoses=diagnoses,
                note=note, void_note=None, orders=(), referrals=(), prior_auth=None,
                coder_query=None, field_times={}, finished=end, billing_claim=None,
            )  # fmt: skip

        note = self._note(rng, slot.day, start, end)
        void_note = None
        if rng.random() < p.note_entered_in_error_share:
            created = end + timedelta(minutes=rng.randint(5, 60))
            void_note = VoidNoteStory(
                created, created + timedelta(minutes=rng.randint(60, 48 * 60))
            )
        orders = self._orders(rng, start, end)
        referrals = self._referrals(rng, start, end, first_seq=len(orders) + 1)
        prior_auth = self._prior_auth(rng, end)
        coder_query = self._coder_query(rng, note)
        field_times = self._field_times(rng, start, end, well_child)

        if note.signed is not None and note.signed.date() == slot.day:
            finished = note.signed
        else:
            finished = clock.at(slot.day + timedelta(days=1), 0)

        billing_claim = None
        ready = self._billing_ready(note, coder_query, field_times)
        if ready is not None and rng.random() < p.billing_claim_share:
            billing_claim = clock.business_delay(ready, 0.5, rng)

        return EncounterStory(
            index=slot.index, kind=kind, provider=slot.provider, patient=patient, day=slot.day,
            start=start, end=end, visit_class=visit_class, visit_type=visit_type, level=level,
            complaint=complaint, diagnoses=diagnoses,
            note=note, void_note=void_note, orders=orders, referrals=referrals,
            prior_auth=prior_auth, coder_query=coder_query, field_times=field_times,
            finished=finished, billing_claim=billing_claim,
        )  # fmt: skip

    # --- parts of a story -------------------------------------------------------------------
    def _reason(self, rng: random.Random, visit_type: Code) -> tuple[Code, tuple[Code, ...]]:
        """Chief complaint and diagnoses that fit the visit type."""
        if visit_type is codes.WELL_CHILD:
            return codes.WELL_CHILD_COMPLAINT, (codes.CHILD_EXAM,)
        if visit_type is codes.FOLLOW_UP:
            complaint = codes.FOLLOW_UP_COMPLAINT
        elif rng.random() < 0.3:
            return codes.CHECK_UP_COMPLAINT, (codes.ADULT_EXAM,)
        else:
            complaint = rng.choice(codes.COMPLAINTS)
        count = 1 if rng.random() < 0.7 else 2
        return complaint, tuple(rng.sample(codes.DIAGNOSES, count))

    def _note(self, rng: random.Random, day: date, start: datetime, end: datetime) -> NoteStory:
        """When the note is started and signed (same day, same evening, later, or never)."""
        p, clock = self.p, self.clock
        created = start + timedelta(minutes=rng.randint(2, 8))
        if rng.random() < p.note_unsigned_share:
            if rng.random() < p.note_not_started_share:
                return NoteStory(None, None)
            return NoteStory(created, None)
        roll = rng.random()
        if roll < p.note_same_day_share:
            signed = end + timedelta(seconds=rng.randrange(120, 90 * 60))
        elif roll < p.note_same_day_share + p.note_after_hours_share:
            signed = max(clock.evening(day, rng), end + timedelta(minutes=5))
        else:
            sign_day = day + timedelta(days=1 + int(rng.expovariate(1.0 / p.note_late_mean_days)))
            if rng.random() < p.note_late_after_hours_share:
                signed = clock.evening(sign_day, rng)
            else:
                span = (p.clinic_close_hour - p.clinic_open_hour) * 3600
                signed = clock.next_business_time(
                    clock.at(sign_day, p.clinic_open_hour) + timedelta(seconds=rng.randrange(span)),
                    rng,
                )
        return NoteStory(created, signed)

    def _orders(self, rng: random.Random, start: datetime, end: datetime) -> tuple[OrderStory, ...]:
        """Lab and imaging orders placed during the visit, and when their results arrive."""
        p = self.p
        if rng.random() >= p.order_share:
            return ()
        count = 1 if rng.random() < 0.7 else 2
        visit_seconds = max(60, int((end - start).total_seconds()))
        out: list[OrderStory] = []
        for seq in range(1, count + 1):
            imaging = rng.random() < p.imaging_share
            test = rng.choice(codes.IMAGING_TESTS if imaging else codes.LAB_TESTS)
            authored = start + timedelta(seconds=rng.randrange(visit_seconds))
            final: datetime | None = None
            preliminary: datetime | None = None
            if rng.random() >= p.result_never_share:
                mean = p.imaging_result_mean_days if imaging else p.lab_result_mean_days
                final = authored + timedelta(hours=2) + delay(mean, rng)
                if rng.random() < p.preliminary_result_share:
                    preliminary = authored + (final - authored) // 2
                    preliminary = preliminary.replace(microsecond=0)
            out.append(OrderStory(seq, imaging, test, authored, preliminary, final))
        return tuple(out)

    def _referrals(
        self, rng: random.Random, start: datetime, end: datetime, first_seq: int
    ) -> tuple[ReferralStory, ...]:
        """An outgoing referral and when its letter gets written."""
        p = self.p
        if rng.random() >= p.referral_share:
            return ()
        authored = start + timedelta(
            seconds=rng.randrange(max(60, int((end - start).total_seconds())))
        )
        specialty = rng.choice(codes.REFERRAL_SPECIALTIES)
        letter = None
        if rng.random() >= p.referral_letter_never_share:
            letter = self.clock.business_delay(end, p.referral_letter_mean_days, rng)
        return (ReferralStory(first_seq, specialty, authored, letter),)

    def _prior_auth(self, rng: random.Random, end: datetime) -> PriorAuthStory | None:
        """A prior authorization sent after the visit, and the payer's answers."""
        p, clock = self.p, self.clock
        if rng.random() >= p.prior_auth_share:
            return None
        service = rng.choice(codes.PRIOR_AUTH_SERVICES)
        created = clock.next_business_time(end + timedelta(minutes=rng.randint(10, 240)), rng)
        queued = None
        if rng.random() < p.prior_auth_queued_share:
            queued = created + timedelta(minutes=rng.randint(30, 24 * 60))
        answered = None
        if rng.random() >= p.prior_auth_never_share:
            answered = clock.business_delay(created, p.prior_auth_response_mean_days, rng)
            if queued is not None and queued >= answered:
                queued = None
        outcome: Literal["complete", "partial"] = (
            "partial" if rng.random() < p.prior_auth_partial_share else "complete"
        )
        return PriorAuthStory(service, created, queued, answered, outcome)

    def _coder_query(self, rng: random.Random, note: NoteStory) -> CoderQueryStory | None:
        """A coder's query, raised only once the note is signed (coders review signed notes)."""
        p, clock = self.p, self.clock
        if note.signed is None or rng.random() >= p.coder_query_share:
            return None
        authored = clock.business_delay(note.signed, p.coder_query_mean_days, rng)
        answered = None
        if rng.random() >= p.coder_never_answered_share:
            answered = clock.business_delay(authored, p.coder_answer_mean_days, rng)
        question = rng.choice(codes.CODER_QUESTIONS)
        focus_note = rng.random() < p.coder_query_note_focus_share
        return CoderQueryStory(authored, answered, question, focus_note)

    def _field_times(
        self, rng: random.Random, start: datetime, end: datetime, well_child: bool
    ) -> dict[str, datetime | None]:
        """When each documentation field appears: during the visit, later, or never."""
        p = self.p
        shares = (
            p.missing_chief_complaint_share,
            p.missing_diagnosis_share,
            p.missing_level_of_service_share,
            p.missing_rendering_clinician_share,
        )
        normal = (start, end, end, start)
        times: dict[str, datetime | None] = {}
        for field, share, at in zip(GAP_FIELDS, shares, normal, strict=True):
            times[field] = self._gap_fix(rng, end) if rng.random() < share else at
        if well_child:
            on_time = start + timedelta(
                seconds=rng.randrange(max(60, int((end - start).total_seconds())))
            )
            missing = rng.random() < p.well_child_form_missing_share
            times["forms"] = self._gap_fix(rng, end) if missing else on_time
        return times

    def _gap_fix(self, rng: random.Random, end: datetime) -> datetime | None:
        """When a missing field gets filled in, or ``None`` if it never does."""
        if rng.random() < self.p.gap_never_fixed_share:
            return None
        return self.clock.business_delay(end, self.p.gap_fix_mean_days, rng)

    @staticmethod
    def _billing_ready(
        note: NoteStory, query: CoderQueryStory | None, field_times: dict[str, datetime | None]
    ) -> datetime | None:
        """When the chart is complete enough to bill: signed, coded, queries answered."""
        if note.signed is None:
            return None
        moments: list[datetime | None] = [note.signed]
        if query is not None:
            moments.append(query.answered)
        moments.extend(field_times[field] for field in GAP_FIELDS)
        if any(moment is None for moment in moments):
            return None
        return max(moment for moment in moments if moment is not None)
