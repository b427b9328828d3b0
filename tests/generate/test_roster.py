"""practice.yaml: the template's rules with a generated, consistent roster."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from chartroute.generate import GenerationSummary, GeneratorProfile, generate_practice
from chartroute.generate.roster import TEMPLATE_PATH, build_roster, load_template
from chartroute.generate.template_fallback import PRACTICE_TEMPLATE_YAML

from .ndjson_helpers import read


def _config(out_dir: Path) -> dict[str, Any]:
    loaded = yaml.safe_load((out_dir / "practice.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_round_trips_with_generated_roster(
    default_practice: GenerationSummary, default_profile: GeneratorProfile
) -> None:
    config = _config(default_practice.out_dir)
    template = load_template()
    assert list(config) == list(template)
    for section in template:
        if section not in ("roster", "practice", "mode", "charts"):
            assert config[section] == template[section], section
    first_day = default_profile.clinic_days()[0].isoformat()
    assert config["charts"] == {**template["charts"], "since": first_day}
    assert config["practice"]["timezone"] == default_profile.timezone
    assert (template["mode"], config["mode"]) == ("shadow", "live")  # synthetic people: live
    assert config["roster"] == yaml.safe_load(yaml.safe_dump(build_roster(default_profile)))


def test_file_is_plain_yaml_for_hand_editing(default_practice: GenerationSummary) -> None:
    text = (default_practice.out_dir / "practice.yaml").read_text(encoding="utf-8")
    assert text.startswith("#")
    assert "&id" not in text and "*id" not in text


def test_roster_shape_for_five_providers(default_practice: GenerationSummary) -> None:
    roster = _config(default_practice.out_dir)["roster"]
    by_role: dict[str, list[dict[str, Any]]] = {}
    for person in roster:
        for role in person["roles"]:
            by_role.setdefault(role, []).append(person)
    assert {role: len(people) for role, people in by_role.items()} == {
        "clinician": 5,
        "medical-assistant": 3,
        "referral-coordinator": 1,
        "front-desk": 1,
        "coder": 1,
        "manager": 1,
        "medical-director": 1,
    }
    clinicians = by_role["clinician"]
    assert [c["id"] for c in clinicians] == [f"clin-00{i}" for i in range(1, 6)]
    assert [c["practitioner"] for c in clinicians] == [
        f"Practitioner/prac-00{i}" for i in range(1, 6)
    ]
    assert [c["backup"] for c in clinicians] == [
        "clin-002",
        "clin-003",
        "clin-004",
        "clin-005",
        "clin-001",
    ]
    assert all(c["daily_capacity"] == 30 for c in clinicians)
    pods = [member for ma in by_role["medical-assistant"] for member in ma["pod"]]
    assert pods == [c["id"] for c in clinicians]


def test_roster_is_internally_consistent(tmp_path: Path) -> None:
    profile = GeneratorProfile(providers=12, days=6, seed=5)
    summary = generate_practice(tmp_path, profile)
    roster = _config(summary.out_dir)["roster"]
    ids = [p["id"] for p in roster]
    assert len(ids) == len(set(ids))
    assert len({p["email"] for p in roster}) == len(roster)
    assert len({p["name"] for p in roster}) == len(roster)
    for person in roster:
        assert person.get("backup", ids[0]) in ids
    practitioners = {f"Practitioner/{p['id']}" for p in read(summary.out_dir, "Practitioner")}
    assert {p["practitioner"] for p in roster if "practitioner" in p} == practitioners
    clinic_days = set(profile.clinic_days())
    away = [p for p in roster if "out_of_office" in p]
    assert away
    for person in away:
        assert all(isinstance(d, date) and d in clinic_days for d in person["out_of_office"])


def test_config_loader_accepts_generated_file(default_practice: GenerationSummary) -> None:
    loader = pytest.importorskip("chartroute.config.loader")
    config = loader.load_config(default_practice.out_dir / "practice.yaml")
    assert len(config.roster) == 13


def test_embedded_template_matches_repository_file() -> None:
    if not TEMPLATE_PATH.is_file():
        pytest.skip("no repository checkout")
    assert yaml.safe_load(PRACTICE_TEMPLATE_YAML) == load_template(TEMPLATE_PATH)


def test_missing_template_falls_back_to_embedded_copy(tmp_path: Path) -> None:
    assert load_template(tmp_path / "absent.yaml") == yaml.safe_load(PRACTICE_TEMPLATE_YAML)


def test_practitioners_are_the_roster_clinicians_and_patients_are_not_staff(
    default_practice: GenerationSummary,
) -> None:
    out = default_practice.out_dir
    roster = _config(out)["roster"]
    by_practitioner = {p["practitioner"]: p["name"] for p in roster if "practitioner" in p}
    for prac in read(out, "Practitioner"):
        name = prac["name"][0]
        display = f"{name['prefix'][0]} {name['given'][0]} {name['family']}"
        assert by_practitioner[f"Practitioner/{prac['id']}"] == display
    staff_words = {word for p in roster for word in p["name"].split()}
    for patient in read(out, "Patient"):
        name = patient["name"][0]
        assert not ({name["family"], *name["given"]} & staff_words)
        assert patient["birthDate"] < "2026-01-05"
