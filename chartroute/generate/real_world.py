"""The real-world flavour: the same practice in the shapes a US Core export really has.

A Synthea Bulk export, or an EHR's, differs from the generator's tidy output in ways the
rules must see through, so the generator can write them (``--flavour real-world``) and the
tests require the same work items from both flavours:

- clinicians carry NPIs and are referenced conditionally
  (``Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|…``), by a bare
  ``Reference.identifier``, or through a PractitionerRole;
- organizations and encounters carry identifiers and are referenced conditionally;
- every note reference but the patient's latest-style ones is ``superseded``;
- an Encounter's type carries no CPT when its billing claim already carries the level of
  service;
- years of history before the cut-off (``charts.since``), none of it a chart.

Each shape is a deterministic rewrite of what the default flavour writes, story by story,
so nothing else about the practice changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from copy import deepcopy
from datetime import date, timedelta
from typing import Any

from chartroute.config.models import npi_is_valid

from . import codes
from .clinic_time import ClinicClock
from .fhir_json import PPRF, Emitted, Resource, ref, text_attachment
from .people import practitioner_id

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
#: The identifier system Synthea gives every resource it writes.
SYNTHEA = "https://github.com/synthetichealth/synthea"
FLAVOURS = ("synthetic", "real-world")
#: Years of visits written before the first clinic day.
HISTORY_YEARS = 3


def npi_for(provider: int) -> str:
    """A valid (check-digit correct) NPI for a generated clinician, stable per index."""
    body = f"{199_990_000 + provider:09d}"
    return next(body + d for d in "0123456789" if npi_is_valid(body + d))


def role_id(provider: int) -> str:
    return f"role-{practitioner_id(provider)}"


def _conditional(resource_type: str, system: str, value: str) -> dict[str, str]:
    return {"reference": f"{resource_type}?identifier={system}|{value}"}


def _by_identifier(resource_type: str, system: str, value: str) -> dict[str, Any]:
    return {"identifier": {"system": system, "value": value}, "type": resource_type}


class RealWorldShaper:
    """Rewrites the default flavour's resources into real-world shapes."""

    def __init__(self, providers: int) -> None:
        self.npis = {practitioner_id(p): npi_for(p) for p in range(providers)}
        self.providers = {practitioner_id(p): p for p in range(providers)}

    # --- reference data ---------------------------------------------------------------------
    def reference(self, emitted: Emitted) -> Iterator[Emitted]:
        rtype, resource = emitted
        resource = deepcopy(resource)
        if rtype == "Practitioner":
            npi = self.npis[resource["id"]]
            resource["identifier"] = [{"system": NPI_SYSTEM, "value": npi}]
            yield rtype, resource
            yield "PractitionerRole", self._role(resource)
            return
        if rtype == "Organization":
            resource["identifier"] = [{"system": SYNTHEA, "value": resource["id"]}]
        yield rtype, resource

    def _role(self, practitioner: Resource) -> Resource:
        provider = self.providers[practitioner["id"]]
        return {
            "resourceType": "PractitionerRole",
            "id": role_id(provider),
            "meta": practitioner["meta"],
            "identifier": [{"system": SYNTHEA, "value": role_id(provider)}],
            "active": True,
            "practitioner": _conditional("Practitioner", NPI_SYSTEM, self.npis[practitioner["id"]]),
            "organization": _conditional("Organization", SYNTHEA, codes.PRACTICE_ORG_ID),
        }

    # --- one encounter's resources ----------------------------------------------------------
    def story(self, num: int, emitted: Iterable[Emitted]) -> list[Emitted]:
        """One encounter's resources, rewritten; ``num`` picks each reference's spelling."""
        out = [(rtype, deepcopy(resource)) for rtype, resource in emitted]
        billed = {
            item["productOrService"]["coding"][0]["code"]
            for rtype, r in out
            if rtype == "Claim"
            and r.get("use") == "claim"
            and r.get("status") != "entered-in-error"
            for item in r.get("item", [])
            if "coding" in item.get("productOrService", {})
        }
        for rtype, resource in out:
            if rtype == "Encounter":
                self._encounter(num, resource, billed)
            elif rtype == "DocumentReference":
                self._note(num, resource)
            elif rtype == "Claim":
                resource["identifier"] = [{"system": SYNTHEA, "value": resource["id"]}]
                self._clinician_refs(num, resource, "provider")
            elif rtype == "ClaimResponse" and num % 2 == 0:
                claim_id = resource["request"]["reference"].split("/", 1)[1]
                resource["request"] = _conditional("Claim", SYNTHEA, claim_id)
            elif rtype in ("Condition", "QuestionnaireResponse", "ServiceRequest"):
                self._encounter_ref(num, resource)
        return out

    def _encounter(self, num: int, resource: Resource, billed: set[str]) -> None:
        resource["identifier"] = [{"system": SYNTHEA, "value": resource["id"]}]
        types = resource.get("type", [])
        kept = [
            t
            for t in types
            if not any(
                c.get("system") == codes.CPT and c.get("code") in billed
                for c in t.get("coding", [])
            )
        ]
        if kept != types:  # the claim carries the level of service, as Synthea's do
            resource["type"] = kept
        for part in resource.get("participant", []):
            part["individual"] = self._clinician(num, part["individual"])
        if "serviceProvider" in resource:
            org = resource["serviceProvider"]["reference"].split("/", 1)[1]
            resource["serviceProvider"] = _conditional("Organization", SYNTHEA, org)

    def _clinician(self, num: int, literal: dict[str, str]) -> dict[str, Any]:
        """A clinician reference in one of the real-world spellings, chosen by ``num``."""
        pid = literal["reference"].split("/", 1)[1]
        npi = self.npis[pid]
        spelling = num % 3
        if spelling == 0:
            return _conditional("Practitioner", NPI_SYSTEM, npi)
        if spelling == 1:
            return ref("PractitionerRole", role_id(self.providers[pid]))
        return _by_identifier("Practitioner", NPI_SYSTEM, npi)

    def _clinician_refs(self, num: int, resource: Resource, name: str) -> None:
        value = resource.get(name)
        if isinstance(value, dict) and value.get("reference", "").startswith("Practitioner/"):
            resource[name] = self._clinician(num, value)

    def _note(self, num: int, resource: Resource) -> None:
        if resource.get("status") == "current":
            resource["status"] = "superseded"  # Synthea: every note but the latest
        resource["author"] = [
            self._clinician(num, a) if a.get("reference", "").startswith("Practitioner/") else a
            for a in resource.get("author", [])
        ]
        self._clinician_refs(num, resource, "authenticator")
        context = resource.get("context", {})
        if num % 2 == 1 and context.get("encounter"):
            context["encounter"] = [
                _conditional("Encounter", SYNTHEA, e["reference"].split("/", 1)[1])
                for e in context["encounter"]
            ]

    def _encounter_ref(self, num: int, resource: Resource) -> None:
        encounter = resource.get("encounter")
        if num % 2 == 0 and isinstance(encounter, dict) and "reference" in encounter:
            eid = encounter["reference"].split("/", 1)[1]
            resource["encounter"] = _by_identifier("Encounter", SYNTHEA, eid)

    # --- history before the cut-off ---------------------------------------------------------
    def history(
        self, clock: ClinicClock, first_day: date, patients: list[tuple[str, int]]
    ) -> Iterator[Emitted]:
        """A finished ambulatory visit per patient per year before ``first_day``, each with a
        superseded unsigned note: open charts, were it not for the cut-off."""
        for years in range(HISTORY_YEARS, 0, -1):
            day = first_day - timedelta(days=365 * years)
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            for i, (patient_id, provider) in enumerate(patients):
                start = clock.at(day, 9 + i % 8)
                eid = f"hist-{years}-{patient_id}"
                stamp = {"versionId": "1", "lastUpdated": clock.instant(start + timedelta(hours=1))}
                pid = practitioner_id(provider)
                yield (
                    "Encounter",
                    {
                        "resourceType": "Encounter",
                        "id": eid,
                        "meta": stamp,
                        "identifier": [{"system": SYNTHEA, "value": eid}],
                        "status": "finished",
                        "class": {"system": codes.ACT_CODE, "code": "AMB"},
                        "subject": ref("Patient", patient_id),
                        "participant": [
                            {
                                "type": PPRF,
                                "individual": self._clinician(i, ref("Practitioner", pid)),
                            }
                        ],
                        "period": {
                            "start": clock.instant(start),
                            "end": clock.instant(start + timedelta(minutes=20)),
                        },
                        "serviceProvider": _conditional(
                            "Organization", SYNTHEA, codes.PRACTICE_ORG_ID
                        ),
                    },
                )
                yield (
                    "DocumentReference",
                    {
                        "resourceType": "DocumentReference",
                        "id": f"doc-{eid}",
                        "meta": stamp,
                        "status": "superseded",
                        "docStatus": "preliminary",
                        "subject": ref("Patient", patient_id),
                        "context": {"encounter": [_conditional("Encounter", SYNTHEA, eid)]},
                        "content": [{"attachment": text_attachment("Progress note.")}],
                    },
                )
