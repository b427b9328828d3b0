"""The HL7 R4 examples, loaded with conditional references, give what the literal ones give.

Every example of a type the rules read gets an identifier, and every literal reference to
one of them becomes ``Type?identifier=system|value``: classification, routing and what is
held must not change, since both spell the same resources.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chartroute.config import PracticeConfig
from chartroute.config.models import ChartRules
from chartroute.preview import jsonl_records, preview
from chartroute.sources import NdjsonDirSource
from tests.validation.test_hl7_examples import bulk_layout, examples_folder

pytestmark = pytest.mark.slow

SYSTEM = "urn:example:chartroute-test"
_LITERAL = re.compile(r"([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/[^/]+)?")
AS_OF = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def conditional_copy(literal: Path, target: Path) -> int:
    """The NDJSON files of ``literal`` with identifiers and conditional references."""
    target.mkdir()
    known: set[tuple[str, str]] = set()
    files = sorted(literal.glob("*.ndjson"))
    resources = {
        f.name: [json.loads(line) for line in f.read_text().splitlines() if line] for f in files
    }
    for items in resources.values():
        for r in items:
            if isinstance(r, dict) and isinstance(r.get("id"), str):
                known.add((r["resourceType"], r["id"]))
    rewritten = 0

    def walk(value: Any) -> Any:
        nonlocal rewritten
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: walk(v) for k, v in value.items()}
        ref = out.get("reference")
        match = _LITERAL.fullmatch(ref) if isinstance(ref, str) else None
        if match and (match.group(1), match.group(2)) in known:
            out["reference"] = f"{match.group(1)}?identifier={SYSTEM}|{match.group(2)}"
            rewritten += 1
        return out

    for name, items in resources.items():
        lines = []
        for r in items:
            r = walk(r)
            if isinstance(r.get("identifier"), list):
                r["identifier"] = [*r["identifier"], {"system": SYSTEM, "value": r["id"]}]
            elif "identifier" not in r and r["resourceType"] != "Composition":
                r["identifier"] = [{"system": SYSTEM, "value": r["id"]}]
            lines.append(json.dumps(r))
        (target / name).write_text("\n".join(lines) + "\n")
    return rewritten


def test_conditional_references_classify_as_literal_ones(
    tmp_path: Path, config: PracticeConfig
) -> None:
    bulk_layout(examples_folder(), tmp_path / "literal")
    for bundle in (tmp_path / "literal").glob("*.json"):
        bundle.unlink()  # Bundles reference by urn:uuid: no literal reference to rewrite
    rewritten = conditional_copy(tmp_path / "literal", tmp_path / "conditional")
    assert rewritten > 20
    broad = every_encounter_a_chart(tmp_path / "literal", config)
    literal = preview(NdjsonDirSource(tmp_path / "literal"), broad, AS_OF)
    conditional = preview(NdjsonDirSource(tmp_path / "conditional"), broad, AS_OF)
    assert list(jsonl_records(conditional)) == list(jsonl_records(literal))
    assert conditional.charts_seen == literal.charts_seen
    assert sorted(r.location for r in conditional.rejected) == sorted(
        r.location for r in literal.rejected
    )
    assert literal.charts_seen >= 3 and literal.charts
    assert conditional.resolved_by_identifier > literal.resolved_by_identifier + 5


def every_encounter_a_chart(folder: Path, config: PracticeConfig) -> PracticeConfig:
    """The practice with every example encounter's status and class a chart's, and no bad-share
    limit (the examples are not primary-care shaped): so there is something to compare."""
    encounters = [
        json.loads(line) for line in (folder / "Encounter.ndjson").read_text().splitlines()
    ]
    charts = ChartRules(
        encounter_statuses=sorted({e["status"] for e in encounters if "status" in e}),
        encounter_classes=sorted({e["class"]["code"] for e in encounters if "class" in e}),
    )
    validation = config.validation.model_copy(update={"max_bad_share": 1.0})
    return config.model_copy(update={"charts": charts, "validation": validation})
