"""Both flavours of a generated practice give the same work items, in memory and in the store.

The real-world flavour writes the shapes of a US Core export such as Synthea's: conditional
NPI references, PractitionerRole participants, superseded notes, decades-old history before
the cut-off, the level of service on the claim only, and a roster by NPI. Its acceptance test
is the issue's "done when": no visit before the cut-off printed, no false "missing rendering
clinician" or "no clinical note", every clinician item of a rostered NPI with that person,
exit 0, nothing quarantined.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.config import PracticeConfig, load_config
from chartroute.generate import GenerationSummary, GeneratorProfile, generate_practice
from chartroute.generate.real_world import npi_for
from chartroute.preview import jsonl_records, preview
from chartroute.sources import NdjsonDirSource
from chartroute.store.schema import work_item
from tests.conftest import _truncate
from tests.core.test_sync_store import run_sync

#: A morning in the middle of the horizon, so some charts are still open.
AS_OF = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)
SMALL = {"providers": 2, "days": 3, "seed": 3, "patients_per_provider": 15}


@pytest.fixture(scope="module")
def flavours(tmp_path_factory: pytest.TempPathFactory) -> dict[str, GenerationSummary]:
    return {
        flavour: generate_practice(
            tmp_path_factory.mktemp(flavour), GeneratorProfile(**SMALL, flavour=flavour)
        )
        for flavour in ("synthetic", "real-world")
    }


def config_of(summary: GenerationSummary) -> PracticeConfig:
    return load_config(summary.out_dir / "practice.yaml")


def previewed(summary: GenerationSummary) -> list[dict[str, Any]]:
    result = preview(NdjsonDirSource(summary.out_dir), config_of(summary), AS_OF)
    assert not result.rejected
    return list(jsonl_records(result))


def test_the_real_world_flavour_has_the_real_world_shapes(
    flavours: dict[str, GenerationSummary],
) -> None:
    folder = flavours["real-world"].out_dir
    encounters = _lines(folder / "Encounter.ndjson")
    notes = _lines(folder / "DocumentReference.ndjson")
    individuals = [p["individual"] for e in encounters for p in e.get("participant", [])]
    assert any(
        "?identifier=http://hl7.org/fhir/sid/us-npi|" in i.get("reference", "") for i in individuals
    )
    assert any(i.get("reference", "").startswith("PractitionerRole/") for i in individuals)
    assert any("identifier" in i and "reference" not in i for i in individuals)
    assert Counter(n["status"] for n in notes)["superseded"] > len(notes) / 2
    assert any(e["id"].startswith("hist-") for e in encounters)
    assert (folder / "PractitionerRole.ndjson").is_file()
    roster = config_of(flavours["real-world"]).roster
    assert all(p.practitioner is None for p in roster)
    assert [p.npi for p in roster if p.npi] == [npi_for(0), npi_for(1)]


def test_both_flavours_give_the_same_work_items(flavours: dict[str, GenerationSummary]) -> None:
    synthetic = previewed(flavours["synthetic"])
    assert len(synthetic) > 5
    assert previewed(flavours["real-world"]) == synthetic


def test_both_flavours_give_the_same_work_items_in_the_store(
    engine: Engine, tmp_path: Path, flavours: dict[str, GenerationSummary]
) -> None:
    items = {}
    for flavour, summary in flavours.items():
        _truncate(engine)  # one store per flavour: start empty
        counts = run_sync(engine, summary.out_dir, config_of(summary), AS_OF)
        with engine.connect() as conn:
            items[flavour] = sorted(
                tuple(r)
                for r in conn.execute(
                    select(
                        work_item.c.id, work_item.c.status, work_item.c.assignee, work_item.c.role
                    )
                )
            )
        if flavour == "real-world":
            assert counts.before_cutoff > 0 and counts.resolved_by_identifier > 0
            assert not counts.unresolved_references
    assert items["real-world"] == items["synthetic"]
    assert items["synthetic"]


def test_done_when_a_synthea_shaped_export_classifies_cleanly(
    flavours: dict[str, GenerationSummary],
) -> None:
    """The issue's acceptance test, through the command a new user runs first."""
    real, synthetic = flavours["real-world"], flavours["synthetic"]
    result = CliRunner().invoke(
        app,
        [
            "classify", str(real.out_dir), "--config", str(real.out_dir / "practice.yaml"),
            "--as-of", AS_OF.isoformat(), "--format", "jsonl",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "bad record" not in result.stderr  # nothing quarantined
    assert "visits before the cut-off" in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records
    assert not [r for r in records if "hist-" in r["encounter"]]  # no visit before the cut-off

    def gaps(rs: list[dict[str, Any]], detail: str) -> set[str]:
        return {r["encounter"] for r in rs for b in r["blockers"] if detail in b["detail"]}

    expected = previewed(synthetic)
    for detail in ("missing rendering clinician", "no clinical note"):
        assert gaps(records, detail) == gaps(expected, detail)  # none false
    config = config_of(real)
    clinicians = {p.id for p in config.roster if p.npi}
    by_encounter = {r["encounter"]: r for r in expected}
    no_clinician = gaps(expected, "missing rendering clinician")  # the generator's own gaps
    for record in records:
        for blocker in record["blockers"]:
            if blocker["role"] != "clinician":
                continue
            if record["encounter"] not in no_clinician:  # every clinician item assigned
                assert blocker["assignee"] in clinicians, blocker
            wanted = next(
                b["assignee"]
                for b in by_encounter[record["encounter"]]["blockers"]
                if b["category"] == blocker["category"] and b["evidence"] == blocker["evidence"]
            )
            assert blocker["assignee"] == wanted  # to the person with that NPI (or their cover)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def test_the_real_world_shapes_are_valid_fhir(flavours: dict[str, GenerationSummary]) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    from chartroute.generate.practice import REAL_WORLD_TYPES

    folder = flavours["real-world"].out_dir
    for resource_type in REAL_WORLD_TYPES:
        model = get_fhir_model_class(resource_type)
        for resource in _lines(folder / f"{resource_type}.ndjson")[:40]:
            model.model_validate(resource)
