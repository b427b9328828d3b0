"""Generate a whole synthetic practice: people, encounters and their resources, config.

The run is a single streaming pass: reference data first, then encounter by encounter in
schedule order, each resource written as soon as it is built. Nothing grows with the number
of encounters except the output files.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from . import codes
from .clinic_time import ClinicClock
from .fhir_json import Emitted
from .people import patient_facts
from .planner import StoryPlanner
from .profile import GeneratorProfile
from .real_world import RealWorldShaper
from .resources import ResourceBuilder
from .roster import fee_schedule, load_template, write_practice_yaml
from .summary import GenerationSummary, write_manifest
from .writer import NdjsonWriter

RESOURCE_TYPES: tuple[str, ...] = (
    "Claim",
    "ClaimResponse",
    "Condition",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "Organization",
    "Patient",
    "Practitioner",
    "QuestionnaireResponse",
    "ServiceRequest",
    "Task",
)
"""Every resource type the generator writes in its default flavour."""
#: The real-world flavour adds the roles its participants reference.
REAL_WORLD_TYPES: tuple[str, ...] = tuple(sorted((*RESOURCE_TYPES, "PractitionerRole")))

PRACTICE_FILE = "practice.yaml"


def reference_resources(
    builder: ResourceBuilder, profile: GeneratorProfile, practice_name: str
) -> Iterator[Emitted]:
    """The practice, its payers, clinicians and patients, in the EHR since the evening before
    the first clinic day (reference data predates the horizon)."""
    on_file = builder.clock.at(profile.clinic_days()[0] - timedelta(days=1), 18)
    yield builder.organization(codes.PRACTICE_ORG_ID, practice_name, "prov", on_file)
    for payer in codes.PAYERS:
        yield builder.organization(payer.id, payer.name, "pay", on_file)
    for provider in range(profile.providers):
        yield builder.practitioner(provider, on_file)
    for index in range(profile.providers * profile.patients_per_provider):
        yield builder.patient(
            patient_facts(profile.seed, index, profile.providers, profile.start), on_file
        )


def generate_practice(out_dir: Path, profile: GeneratorProfile) -> GenerationSummary:
    """Write a synthetic practice to ``out_dir`` and say what was written.

    Output: ``<Type>.ndjson`` per resource type (FHIR Bulk Data layout), ``practice.yaml``
    (the config template with the generated roster) and ``generator.json`` (a manifest).
    The same profile always gives byte-identical files.
    """
    began = time.perf_counter()
    out_dir = Path(out_dir)
    template = load_template()
    clock = ClinicClock(profile.tz, profile.clinic_open_hour, profile.clinic_close_hour)
    as_of = profile.resolved_as_of()
    as_of_local = clock.to_local(as_of)
    days = profile.clinic_days()
    currency = str((template.get("billing") or {}).get("currency") or "USD")
    builder = ResourceBuilder(clock, as_of_local, fee_schedule(template), currency)
    planner = StoryPlanner(profile, clock)
    practice_name = str((template.get("practice") or {}).get("name") or "Synthetic Practice")

    shaper = RealWorldShaper(profile.providers) if profile.flavour == "real-world" else None
    encounters = 0
    with NdjsonWriter(out_dir, REAL_WORLD_TYPES) as writer:
        for emitted in reference_resources(builder, profile, practice_name):
            for resource_type, resource in shaper.reference(emitted) if shaper else [emitted]:
                writer.write(resource_type, resource)
        if shaper is not None:
            facts = (
                patient_facts(profile.seed, i, profile.providers, profile.start)
                for i in range(profile.providers * profile.patients_per_provider)
            )
            patients = [(f.id, f.provider) for f in facts]
            for resource_type, resource in shaper.history(clock, days[0], patients):
                writer.write(resource_type, resource)
                encounters += resource_type == "Encounter"

        for slot in planner.schedule(days, as_of_local):
            story = planner.story(slot)
            if story.start > as_of_local:
                continue
            encounters += 1
            emitted_story = builder.encounter_resources(story)
            if shaper is not None:
                emitted_story = iter(shaper.story(int(story.num), emitted_story))
            for resource_type, resource in emitted_story:
                writer.write(resource_type, resource)
        counts = writer.counts

    write_practice_yaml(out_dir / PRACTICE_FILE, template, profile)
    summary = GenerationSummary(
        out_dir=out_dir,
        as_of=as_of,
        encounters=encounters,
        counts=counts,
        elapsed_seconds=time.perf_counter() - began,
    )
    write_manifest(profile, summary)
    return summary
