"""The practice.yaml of a synthetic practice: the template with a generated roster.

The routing, documentation and billing sections are kept from the practice template, so the
generated config exercises the same rules a real practice would use; only the people change
(and the practice timezone follows the profile). A synthetic practice runs ``live``: every
person in it is invented, so there is nobody to protect by shadow mode, and ``chartroute demo``
shows delivery working (its messages go to the file channel).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .people import person_name, practitioner_id
from .profile import GeneratorProfile
from .real_world import npi_for
from .seeding import stream_rng
from .template_fallback import PRACTICE_TEMPLATE_YAML

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "config" / "practice.yaml"

Person = dict[str, Any]


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The practice config template: the repository file, else the embedded copy."""
    text = path.read_text(encoding="utf-8") if path.is_file() else PRACTICE_TEMPLATE_YAML
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"practice template {path} is not a mapping")
    return loaded


def fee_schedule(template: dict[str, Any]) -> dict[str, float]:
    """Expected charge per CPT code from the template's billing section."""
    fees = (template.get("billing") or {}).get("fee_schedule") or {}
    return {str(code): float(value) for code, value in fees.items()}


def _email(name_index: int, person_id: str) -> str:
    """An example.org address; ids keep it unique once invented names start repeating."""
    name = person_name(name_index)
    local = f"{name.given}.{name.family}".lower()
    if name_index >= 400:
        local = f"{local}.{person_id}"
    return f"{local}@example.org"


def build_roster(profile: GeneratorProfile) -> list[Person]:
    """The people of the practice, in roster order.

    One clinician per provider (backup: the next clinician), a medical assistant per two
    clinicians (pod: those two), a referral coordinator and a front-desk person per five
    clinicians (at least one each), one coder, one manager, one medical director. A few
    people are out of office on some clinic days of the horizon, so hand-over to backups
    is exercised.
    """
    people: list[Person] = []

    def add(
        person_id: str,
        roles: list[str],
        capacity: int,
        *,
        title: str = "",
        practitioner: str | None = None,
        pod: list[str] | None = None,
        backup: str | None = None,
    ) -> None:
        """Append a person in the template's key order, leaving out empty optional keys."""
        name_index = len(people)
        person: Person = {"id": person_id, "name": title + person_name(name_index).text}
        person["roles"] = list(roles)  # a shared list would be dumped as a YAML alias
        if practitioner and profile.flavour == "real-world":
            # practices know clinicians by NPI, not by the EHR's resource ids
            person["npi"] = npi_for(int(practitioner.rsplit("-", 1)[1]) - 1)
        elif practitioner:
            person["practitioner"] = practitioner
        if pod:
            person["pod"] = pod
        person["daily_capacity"] = capacity
        if backup:
            person["backup"] = backup
        person["email"] = _email(name_index, person_id)
        people.append(person)

    n = profile.providers
    clinicians = [f"clin-{i + 1:03d}" for i in range(n)]
    for i, clin_id in enumerate(clinicians):
        add(
            clin_id,
            ["clinician"],
            30,
            title="Dr. ",
            practitioner=f"Practitioner/{practitioner_id(i)}",
            backup=clinicians[(i + 1) % n] if n > 1 else None,
        )

    def staff(prefix: str, count: int, roles: list[str], capacity: int, pods: bool = False) -> None:
        """``count`` people in a role, each backing up the next."""
        ids = [f"{prefix}-{i + 1:03d}" for i in range(count)]
        for i, person_id in enumerate(ids):
            add(
                person_id,
                roles,
                capacity,
                pod=clinicians[2 * i : 2 * i + 2] if pods else None,
                backup=ids[(i + 1) % count] if count > 1 else None,
            )

    staff("ma", math.ceil(n / 2), ["medical-assistant"], 60, pods=True)
    staff("rc", max(1, math.ceil(n / 5)), ["referral-coordinator"], 80)
    staff("fd", max(1, math.ceil(n / 5)), ["front-desk"], 80)
    staff("coder", 1, ["coder"], 120)
    staff("mgr", 1, ["manager"], 20)
    staff("md", 1, ["medical-director"], 10)
    _plan_absences(people, profile)
    return people


def _plan_absences(people: list[Person], profile: GeneratorProfile) -> None:
    """Mark about one person in eight out of office for one to three clinic days."""
    rng = stream_rng(profile.seed, "roster")
    days = profile.clinic_days()
    count = max(1, len(people) // 8)
    for person in rng.sample(people, min(count, len(people))):
        length = min(len(days), rng.randint(1, 3))
        first = rng.randrange(len(days) - length + 1)
        absent: list[date] = days[first : first + length]
        person["out_of_office"] = absent


def practice_config(template: dict[str, Any], profile: GeneratorProfile) -> dict[str, Any]:
    """The template with the generated roster, the profile's timezone, ``mode: live`` and the
    go-live cut-off ``charts.since`` at the first clinic day."""
    config = dict(template)
    practice = dict(config.get("practice") or {})
    practice["timezone"] = profile.timezone
    config["practice"] = practice
    config["mode"] = "live"
    # go-live at the first clinic day: history the export carries stays off the worklist
    config["charts"] = {
        **(config.get("charts") or {}),
        "since": profile.clinic_days()[0].isoformat(),
    }
    config["roster"] = build_roster(profile)
    return config


def write_practice_yaml(path: Path, template: dict[str, Any], profile: GeneratorProfile) -> None:
    """Write the generated practice.yaml (PyYAML safe_dump, template section order)."""
    header = (
        "# Synthetic practice configuration written by chartroute's generator\n"
        f"# (seed {profile.seed}, {profile.providers} providers). Every person is invented.\n"
    )
    body = yaml.safe_dump(
        practice_config(template, profile), sort_keys=False, allow_unicode=True, width=100
    )
    path.write_text(header + body, encoding="utf-8")
