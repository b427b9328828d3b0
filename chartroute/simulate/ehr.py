"""The simulated EHR: what the people of the simulation did, written as FHIR the sync reads.

Each evening the charts are rebuilt from their stories with the simulation's own times put in
(a note signed when its clinician signed it, a result in as a preliminary report when the lab
sent it and final once the medical assistant attached it, ...) by the generator's resource
builder, and only the resources that changed since the last evening are written, as one more
part of a Bulk Data export (``<Type>.<day>.ndjson``). The sync's file cursors skip the earlier
parts, so each day's sync reads one day's changes, as an incremental export would deliver them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import orjson

from chartroute.generate import codes
from chartroute.generate.clinic_time import ClinicClock
from chartroute.generate.practice import reference_resources
from chartroute.generate.profile import GeneratorProfile
from chartroute.generate.resources import ResourceBuilder
from chartroute.generate.timeline import (
    CoderQueryStory,
    EncounterStory,
    NoteStory,
    PriorAuthStory,
)
from chartroute.generate.writer import NdjsonWriter
from chartroute.simulate.items import SimItem
from chartroute.vocabulary import FORMS, NOTE_SUBJECT, Category, form_subject


def sim_story(story: EncounterStory, items: Mapping[tuple[str, str], SimItem]) -> EncounterStory:
    """The story as the simulation played it: ``items`` maps (category, subject) → item.

    Outside the simulated blockers the story stays as generated; things the simulation does
    not model are left out (a note voided on the wrong chart, the billing claim), so every
    open blocker in the EHR is one the simulation knows.
    """
    num = story.num
    note = story.note
    note_item = items.get((Category.UNSIGNED_NOTE, NOTE_SUBJECT))
    if note_item is not None:
        signed = note_item.done
        created = note.created if note.created is not None else signed
        note = NoteStory(created, signed)
    orders = tuple(
        replace(
            order,
            final=_done(
                items, Category.PENDING_RESULT, f"ServiceRequest/sr-{num}-{order.seq}", order.final
            ),
            preliminary=_arrived(items, f"ServiceRequest/sr-{num}-{order.seq}"),
        )
        for order in story.orders
    )
    referrals = tuple(
        replace(
            ref,
            letter=_done(
                items,
                Category.AWAITING_REFERRAL_AUTH,
                f"ServiceRequest/sr-{num}-{ref.seq}",
                ref.letter,
            ),
        )
        for ref in story.referrals
    )
    prior_auth = story.prior_auth
    if prior_auth is not None:
        answered = _done(
            items, Category.AWAITING_REFERRAL_AUTH, f"Claim/pa-{num}", prior_auth.answered
        )
        prior_auth = PriorAuthStory(
            prior_auth.service, prior_auth.created, None, answered, "complete"
        )
    query_item = items.get((Category.CODING_QUERY, f"Task/task-{num}"))
    coder_query = None
    if query_item is not None and story.coder_query is not None:
        coder_query = CoderQueryStory(
            query_item.appears,
            query_item.done,
            story.coder_query.question,
            story.coder_query.focus_note,
        )
    field_times = dict(story.field_times)
    for name in list(field_times):
        subject = form_subject(codes.WELL_CHILD_QUESTIONNAIRE) if name == FORMS else name
        gap = items.get((Category.DOCUMENTATION_GAP, subject))
        if gap is not None:
            field_times[name] = gap.done
        else:
            at = field_times[name]
            if at is None or at > story.end:
                # A gap the practice does not require of this visit type: filled at the visit.
                field_times[name] = story.start
    return replace(
        story,
        note=note,
        void_note=None,
        orders=orders,
        referrals=referrals,
        prior_auth=prior_auth,
        coder_query=coder_query,
        field_times=field_times,
        billing_claim=None,
    )


def _arrived(items: Mapping[tuple[str, str], SimItem], subject: str) -> datetime | None:
    """When the lab's result came in, as a preliminary report until the medical assistant
    attaches it (the final one): the EHR shows the result is in, so the worklist can rank the
    item as work that can be done now."""
    item = items.get((Category.PENDING_RESULT, subject))
    return item.arrives if item is not None else None


def _done(
    items: Mapping[tuple[str, str], SimItem], category: str, subject: str, default: datetime | None
) -> datetime | None:
    item = items.get((category, subject))
    return item.done if item is not None else default


class SimulatedEhr:
    """Writes the practice's charts, evening by evening, as parts of a Bulk Data export."""

    def __init__(self, out_dir: Path, profile: GeneratorProfile, fees: Mapping[str, float]) -> None:
        self.out_dir = out_dir
        self.profile = profile
        self.clock = ClinicClock(profile.tz, profile.clinic_open_hour, profile.clinic_close_hour)
        self.fees = dict(fees)
        self._digests: dict[tuple[str, str], bytes] = {}
        self.parts = 0
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.glob("*.ndjson"):
            stale.unlink()  # a folder never mixes two simulations

    def write_evening(
        self,
        as_of: datetime,
        charts: Iterable[tuple[EncounterStory, Mapping[tuple[str, str], SimItem]]],
    ) -> int:
        """Write what changed by ``as_of`` (naive local time) as the next part; resources written.

        The first part also carries the practice's reference data (organizations, clinicians,
        patients), on file since the evening before the first clinic day.
        """
        builder = ResourceBuilder(self.clock, as_of, self.fees)
        written = 0
        with NdjsonWriter(self.out_dir, part=self.parts) as writer:
            if self.parts == 0:
                reference = reference_resources(builder, self.profile, "Simulated Family Medicine")
                for resource_type, resource in reference:
                    writer.write(resource_type, resource)
                    written += 1
            for story, items in charts:
                for resource_type, resource in builder.encounter_resources(sim_story(story, items)):
                    if self._changed(resource_type, resource):
                        writer.write(resource_type, resource)
                        written += 1
        self.parts += 1
        return written

    def _changed(self, resource_type: str, resource: Mapping[str, object]) -> bool:
        key = (resource_type, str(resource["id"]))
        digest = hashlib.blake2b(orjson.dumps(resource), digest_size=12).digest()
        if self._digests.get(key) == digest:
            return False
        self._digests[key] = digest
        return True
